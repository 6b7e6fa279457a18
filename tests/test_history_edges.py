"""Edge cases of targetcascade.allocation._history: what History refuses, no years, the cache."""

from __future__ import annotations

import gc
import re
import weakref
from fractions import Fraction

import numpy as np
import pytest

from targetcascade import FiscalCalendar, History, Metric, OrgTree, Plan
from targetcascade.allocation import _history
from targetcascade.errors import PlanError

REVENUE = Metric(name="revenue", unit="CNY")
DEALS = Metric(name="deals", unit="deal")


def tree() -> OrgTree:
    """acme over east and west."""
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )


def year(fiscal_year: int, kind: str = "history") -> Plan:
    """east earns 100 quanta of revenue and 1 deal a month, west 300 and 2."""
    revenue = np.array([[100] * 12, [300] * 12], dtype=np.int64)
    deals = np.array([[1] * 12, [2] * 12], dtype=np.int64)
    return Plan.from_leaf_arrays(
        tree(),
        FiscalCalendar(fiscal_year=fiscal_year),
        [REVENUE, DEALS],
        {"revenue": revenue, "deals": deals},
        kind=kind,
    )


class TestHistory:
    def test_refuses_what_is_not_a_plan(self) -> None:
        """A dict among the plans is refused, naming its type."""
        with pytest.raises(PlanError, match="history must hold Plan objects, got dict"):
            History(plans=[year(2026), {"revenue": 1}])  # type: ignore[list-item]

    def test_refuses_a_year_given_twice(self) -> None:
        """Two plans of FY2026 are refused, naming the years."""
        with pytest.raises(PlanError, match=re.escape("fiscal years [2026, 2026] with repeats")):
            History(plans=[year(2026), year(2026)])

    def test_refuses_a_target_plan(self) -> None:
        """A plan of kind 'target' is no history: refused, naming its year."""
        with pytest.raises(PlanError, match="history plan FY2026 has kind 'target'"):
            History(plans=[year(2026, kind="target")])

    def test_without_years_has_no_months_and_no_grain(self) -> None:
        """An empty history gives three rows of no months and a grain of 0."""
        history = History(plans=[])
        assert history.monthly("revenue", tree()).shape == (3, 0)
        assert history.grain("revenue") == Fraction(0)

    def test_totals_of_two_metrics_of_one_plan(self) -> None:
        """Two metrics of one plan get their own month sums from the same cache entry."""
        # revenue 400 x 12 = 4,800 at acme, 100 x 12 east, 300 x 12 west; deals 36, 12, 24
        plan = year(2026)
        revenue = _history._month_totals(plan, "revenue")
        deals = _history._month_totals(plan, "deals")
        assert revenue[0].tolist() == [4800, 1200, 3600]
        assert deals[0].tolist() == [36, 12, 24]
        assert _history._month_totals(plan, "revenue")[0] is revenue[0]

    def test_a_stale_callback_keeps_a_newer_entry(self) -> None:
        """A collected plan's callback does not evict a newer plan cached under the same id."""
        plan = year(2026)
        _history._month_totals(plan, "revenue")
        key = id(plan)
        current = _history._TOTALS[key]
        older = year(2025)
        stale = weakref.ref(older)
        _history._forget(key, stale)
        assert _history._TOTALS[key] is current
        del older
        gc.collect()
        _history._forget(key, current[0])
        assert key not in _history._TOTALS
