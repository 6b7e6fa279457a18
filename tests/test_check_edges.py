"""Edge cases of targetcascade.check: partly missing grids, long reports, structure recomputed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np

from targetcascade import FiscalCalendar, Metric, OrgTree, Plan, check
from targetcascade.check import Rule, _calendar_problems, _tree_problems

DEALS = Metric(name="deals", unit="deal")


def zero_plan() -> Plan:
    """acme over east and west, every cell 0 deals."""
    tree = OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )
    grid = np.zeros((2, 12), dtype=np.int64)
    return Plan.from_leaf_arrays(tree, FiscalCalendar(fiscal_year=2027), [DEALS], {"deals": grid})


def broken() -> Plan:
    """The zero plan with west's M01 cleared and east's year edited to 1 deal."""
    return zero_plan().with_values(
        [
            {"node": "west", "period": "FY2027-M01", "metric": "deals", "value": None},
            {"node": "east", "period": "FY2027", "metric": "deals", "value": 1},
        ]
    )


class TestCheck:
    def test_edit_in_a_complete_row_of_a_partly_missing_grid(self) -> None:
        """A time violation in a complete row is found though another row has a missing month."""
        # east's year 1 over quarters of 0: time; acme's 0 under 1 + 0: org; west's M01: missing
        report = check(broken())
        assert report.counts[Rule.TIME_ADDITIVITY] == 1
        assert report.counts[Rule.ORG_ADDITIVITY] == 1
        assert report.counts[Rule.MISSING_CHILD] == 1
        time = next(v for v in report.violations if v.rule is Rule.TIME_ADDITIVITY)
        # expected is the stored year, actual the quarters' sum
        assert (time.node, time.period, time.expected, time.actual) == (
            "east",
            "FY2027",
            Decimal(1),
            Decimal(0),
        )
        assert report.cells_checked == 3 * 17


class TestCheckReport:
    def test_format_names_how_many_are_not_listed(self) -> None:
        """Three violations listed one at a time: the last line says two more."""
        text = check(broken()).format(limit=1)
        lines = text.splitlines()
        assert lines[0].startswith("3 violations in 51 cells")
        assert len(lines) == 3
        assert lines[-1] == "  ... and 2 more"


def tree_problems(parent: list[int], offsets: list[int]) -> list[str]:
    return _tree_problems(np.array(parent, dtype=np.int64), np.array(offsets, dtype=np.int64))


class TestTreeRule:
    def test_a_sound_tree_has_no_problem(self) -> None:
        """A root over two children, offsets [1, 3, 3, 3]: no problem."""
        assert tree_problems([-1, 0, 0], [1, 3, 3, 3]) == []

    def test_two_roots(self) -> None:
        """Roots at positions 0 and 1 are reported."""
        problems = tree_problems([-1, -1, 0], [1, 3, 3, 3])
        assert problems[0] == "compiled tree has roots at positions [0, 1], expected [0]"

    def test_offsets_of_the_wrong_length(self) -> None:
        """Two offsets for three nodes are reported, and nothing further is read."""
        assert tree_problems([-1, 0, 0], [1, 3]) == ["child offsets have 2 entries for 3 nodes"]

    def test_offsets_that_do_not_tile(self) -> None:
        """Offsets starting at 0 (the root among its own children) are reported."""
        assert tree_problems([-1, 0, 0], [0, 3, 3, 3]) == [
            "child offsets do not tile positions 1..n-1 in order"
        ]

    def test_a_node_under_the_wrong_parent(self) -> None:
        """Node 2 says parent 1 but sits among the root's children."""
        assert tree_problems([-1, 0, 1], [1, 3, 3, 3]) == [
            "node at position 2 has parent 1 but sits in the children of 0"
        ]

    def test_a_node_that_is_its_own_parent(self) -> None:
        """Node 1 its own parent (with offsets to match) is reported as a possible cycle."""
        assert tree_problems([-1, 1, 1], [1, 1, 3, 3]) == [
            "a parent comes after its child in breadth-first order (a cycle?)"
        ]

    def test_check_reports_a_sound_tree_as_ok(self) -> None:
        """check's tree rule alone on an engine-built plan finds nothing."""
        assert check(zero_plan(), rules=[Rule.TREE]).ok


def period(label: str, start: str, end: str) -> Any:
    return SimpleNamespace(
        label=label, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end)
    )


def calendar_problems(periods: list[Any], offsets: list[int]) -> list[str]:
    calendar = SimpleNamespace(periods=periods, child_offsets=np.array(offsets))
    return _calendar_problems(SimpleNamespace(calendar=calendar))  # type: ignore[arg-type]


class TestCalendarRule:
    def test_a_gap_between_halves(self) -> None:
        """H1 ends 30 June and H2 starts 2 July: the gap is reported."""
        periods = [
            period("Y", "2027-01-01", "2027-12-31"),
            period("H1", "2027-01-01", "2027-06-30"),
            period("H2", "2027-07-02", "2027-12-31"),
        ]
        assert calendar_problems(periods, [1, 3, 3, 3]) == [
            "H1 ends 2027-06-30 but H2 starts 2027-07-02"
        ]

    def test_children_that_start_late(self) -> None:
        """A year whose only child starts on 2 January is reported with both spans."""
        periods = [period("Y", "2027-01-01", "2027-12-31"), period("A", "2027-01-02", "2027-12-31")]
        assert calendar_problems(periods, [1, 2, 2]) == [
            "Y runs 2027-01-01..2027-12-31 but its children cover 2027-01-02..2027-12-31"
        ]

    def test_check_reports_a_real_calendar_as_ok(self) -> None:
        """check's calendar rule alone on a plan of a fiscal year finds nothing."""
        assert check(zero_plan(), rules=[Rule.CALENDAR]).ok
