"""Catalogue rows for the size limit, exact hedges and history units (#21.1, #21.2, #12.2).

Each row is refused with the library's error naming the metric, the cell and the limit in the
metric's unit (or, for history, both units and the metric).
"""

from __future__ import annotations

import numpy as np

from _catalogue import Case
from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    RelativeBounds,
    Split,
    cascade,
)
from targetcascade.allocation import Equal, ProportionOfAverages
from targetcascade.errors import PlanError, UnitMismatchError

LIMIT = "90,071,992,547,409.92 CNY"  # 2**53 cents
CALENDAR = FiscalCalendar(fiscal_year=2027)
REVENUE = Metric(name="revenue", unit="CNY", non_negative=False)
WHOLE_CNY = Metric(name="revenue", unit="CNY", quantum="1", non_negative=False)
USD = Metric(name="revenue", unit="USD")


def _tree() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )


def _leaf_rows(value: object) -> list[dict[str, object]]:
    return [
        {"node": node, "period": f"FY2027-M{m:02d}", "metric": "revenue", "value": value}
        for node in ("east", "west")
        for m in range(1, 13)
    ]


def _leaf_grid(dtype: type, value: object, row: int = 1, month: int = 4) -> np.ndarray:
    grid = np.zeros((2, 12), dtype=dtype)
    grid[row, month] = value
    return grid


def _hedged(hedge: object) -> Plan:
    split = Split(strategy=Equal(), hedge=hedge)
    spec = CascadeSpec(
        metrics=[MetricCascade(metric=REVENUE, target="1000 CNY", splits={"company": split})]
    )
    return cascade(spec, _tree(), CALENDAR)


def _cny_history_for_usd(split: Split) -> Plan:
    cny = Metric(name="revenue", unit="CNY")
    history = Plan.from_leaf_values(
        _tree(),
        FiscalCalendar(fiscal_year=2026),
        [cny],
        [dict(r, period=str(r["period"]).replace("2027", "2026")) for r in _leaf_rows(100)],
        kind="history",
    )
    spec = CascadeSpec(
        metrics=[MetricCascade(metric=USD, target="1000 USD", splits={"company": split})]
    )
    return cascade(spec, _tree(), CALENDAR, history=[history])


def _plan() -> Plan:
    return Plan.from_leaf_values(_tree(), CALENDAR, [REVENUE], _leaf_rows(1))


def _huge_margin() -> Plan:
    tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
    profit, revenue = Metric(name="profit", unit="CNY"), Metric(name="revenue", unit="CNY")
    margin = Metric(
        name="margin",
        unit="percent",
        rollup="ratio",
        numerator="profit",
        denominator="revenue",
        quantum="0.1",
    )
    rows = [
        {"node": "acme", "period": f"FY2027-M{m:02d}", "metric": name, "value": value}
        for m in range(1, 13)
        for name, value in (("profit", "5e12 CNY"), ("revenue", "0.01 CNY"))
    ]
    return Plan.from_leaf_values(tree, CALENDAR, [profit, revenue, margin], rows)


CASES: list[Case] = [
    Case(
        id="21.1-hedged-total-beyond-limit",
        call=lambda: _hedged(10**12),
        error=PlanError,
        names=("'revenue'", "'acme'", "FY2027", LIMIT),
    ),
    Case(
        id="21.2-leaf-month-1.6e16-cny",
        call=lambda: Plan.from_leaf_values(_tree(), CALENDAR, [REVENUE], _leaf_rows("1.6e16 CNY")),
        error=PlanError,
        names=("revenue", "'east'", "FY2027-M01", "1.6e16 CNY", LIMIT),
    ),
    Case(
        id="21.2-roll-up-beyond-limit",
        call=lambda: Plan.from_leaf_arrays(
            _tree(), CALENDAR, [WHOLE_CNY], {"revenue": np.full((2, 12), 2**49, dtype=np.int64)}
        ),
        error=PlanError,
        names=("'revenue' rolled up", "'acme'", "FY2027", "9,007,199,254,740,992 CNY"),
    ),
    Case(
        id="21.2-leaf-arrays-uint64-beyond-int64",
        call=lambda: Plan.from_leaf_arrays(
            _tree(), CALENDAR, [REVENUE], {"revenue": _leaf_grid(np.uint64, 2**63 + 5)}
        ),
        error=PlanError,
        names=("'revenue'", "'west'", "FY2027-M05", "9223372036854775813", LIMIT),
    ),
    Case(
        id="21.2-leaf-arrays-float-1e19",
        call=lambda: Plan.from_leaf_arrays(
            _tree(), CALENDAR, [REVENUE], {"revenue": _leaf_grid(np.float64, 1e19)}
        ),
        error=PlanError,
        names=("'revenue'", "'west'", "FY2027-M05", "1e+19", LIMIT),
    ),
    Case(
        id="12.2-cny-history-for-usd-bounds",
        call=lambda: _cny_history_for_usd(
            Split(strategy=Equal(), bounds=RelativeBounds(floor="0.9", cap="1.1"))
        ),
        error=UnitMismatchError,
        names=("'revenue'", "CNY", "USD", "FY2026"),
    ),
    Case(
        id="12.2-cny-history-for-usd-shares",
        call=lambda: _cny_history_for_usd(Split(strategy=ProportionOfAverages())),
        error=UnitMismatchError,
        names=("'revenue'", "CNY", "USD", "FY2026"),
    ),
    Case(
        id="door-from-leaf-values-1e20-cny",
        call=lambda: Plan.from_leaf_values(_tree(), CALENDAR, [REVENUE], _leaf_rows("1e20 CNY")),
        error=PlanError,
        names=("row 0", "revenue", "'east'", "FY2027-M01", LIMIT),
    ),
    Case(
        id="door-from-leaf-arrays-nan",
        call=lambda: Plan.from_leaf_arrays(
            _tree(), CALENDAR, [REVENUE], {"revenue": _leaf_grid(np.float64, np.nan, row=0)}
        ),
        error=PlanError,
        names=("'revenue'", "'east'", "FY2027-M05", "nan"),
    ),
    Case(
        id="door-from-leaf-arrays-fraction-of-a-quantum",
        call=lambda: Plan.from_leaf_arrays(
            _tree(), CALENDAR, [REVENUE], {"revenue": _leaf_grid(np.float64, 2.5)}
        ),
        error=PlanError,
        names=("'revenue'", "'west'", "FY2027-M05", "2.5", "whole number of quanta"),
    ),
    Case(
        id="door-with-values-beyond-limit",
        call=lambda: _plan().with_values(
            [{"node": "acme", "period": "FY2027-Q3", "metric": "revenue", "value": "-1e14 CNY"}]
        ),
        error=PlanError,
        names=("row 0", "revenue", "'acme'", "FY2027-Q3", "-1e14 CNY", LIMIT),
    ),
    Case(
        id="door-from-records-beyond-limit",
        call=lambda: Plan.from_records(
            _tree(),
            CALENDAR,
            [REVENUE],
            [{"node": "west", "period": "FY2027", "metric": "revenue", "value": 2**53 + 1}],
        ),
        error=PlanError,
        names=("revenue", "'west'", "FY2027", LIMIT),
    ),
    Case(
        id="door-with-arrays-beyond-limit",
        call=lambda: _plan().with_arrays(
            "revenue", np.full((3, 17), 2**60, dtype=np.int64), np.full((3, 17), 6)
        ),
        error=PlanError,
        names=("'revenue'", "'acme'", "FY2027", LIMIT),
    ),
    Case(
        id="21.5-ratio-beyond-limit",
        call=_huge_margin,
        error=PlanError,
        names=(
            "'margin'",
            "'acme'",
            "FY2027",
            "900,719,925,474,099.2 percent",
            "revenue near zero",
        ),
    ),
]
