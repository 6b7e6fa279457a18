"""Edge cases of targetcascade.synthetic and the public tree strategy of targetcascade.testing."""

from __future__ import annotations

import pytest
from hypothesis.errors import InvalidArgument

from targetcascade.calendar import FiscalCalendar
from targetcascade.org import OrgTree
from targetcascade.synthetic import demo_company, synthetic_history
from targetcascade.testing import org_trees


class TestSyntheticHistory:
    def test_history_keeps_the_tree_when_nobody_starts_late(self) -> None:
        """With no leaf starting after the year, the history is built on the very tree given."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "ann", "parent": "acme", "level": "individual", "fte": 1.0},
            ]
        )
        history = synthetic_history(
            tree, FiscalCalendar(fiscal_year=2025), demo_company().metrics, seed=1
        )
        assert history.tree is tree
        assert history.quanta("ann", "FY2025", "revenue") > 0


class TestOrgTrees:
    def test_sizes_that_are_no_integers_are_refused(self) -> None:
        """A node count given as a string is refused, naming both sizes."""
        with pytest.raises(InvalidArgument, match="min_nodes='3', max_nodes=40"):
            org_trees(min_nodes="3")  # type: ignore[arg-type]

    def test_levels_that_are_no_levels_object_are_refused(self) -> None:
        """Levels given as a plain tuple are refused, naming the tuple."""
        with pytest.raises(InvalidArgument, match=r"needs a Levels, got \('company', 'team'\)"):
            org_trees(levels=("company", "team"))  # type: ignore[arg-type]
