"""Catalogue rows for explain and for derived metrics in the cascade spec (issue 12.8)."""

from __future__ import annotations

import functools

from _catalogue import Case
from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    Split,
    cascade,
    explain,
)
from targetcascade.allocation import Equal
from targetcascade.cascade import SPEC_SCHEMA_VERSION
from targetcascade.errors import MetricError, PeriodError, SpecError, UnknownNodeError

_DEALS = Metric(name="deals", unit="deal")
_REVENUE = Metric(name="revenue", unit="CNY")
_PROFIT = Metric(name="profit", unit="CNY")
_MARGIN = Metric(
    name="margin", unit="percent", rollup="ratio", numerator="profit", denominator="revenue"
)


@functools.cache
def _plan() -> Plan:
    """acme -> east, west: 120 deals split equally."""
    tree = OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )
    spec = CascadeSpec(
        metrics=[
            MetricCascade(metric=_DEALS, target=120, splits={"company": Split(strategy=Equal())})
        ]
    )
    return cascade(spec, tree, FiscalCalendar(fiscal_year=2027))


def _beyond_the_limit() -> Plan:
    """Profit 1,000,000.00 CNY over revenue 0.01 CNY is 10**8 %, 10**20 quanta of 1E-12 %."""
    tree = OrgTree.from_records(
        [{"id": "acme", "level": "company"}, {"id": "a", "parent": "acme", "level": "region"}]
    )
    fine = Metric(
        name="margin",
        unit="percent",
        rollup="ratio",
        numerator="profit",
        denominator="revenue",
        quantum="0.000000000001",
    )
    revenue, profit = _cascaded(_REVENUE, _PROFIT)
    spec = CascadeSpec(
        metrics=[
            MetricCascade(metric=_REVENUE, target="0.01 CNY", splits=revenue.splits),
            MetricCascade(metric=_PROFIT, target="1000000 CNY", splits=profit.splits),
        ],
        derived=[fine],
    )
    return cascade(spec, tree, FiscalCalendar(fiscal_year=2027))


def _cascaded(*metrics: Metric) -> list[MetricCascade]:
    return [
        MetricCascade(metric=m, target=100, splits={"company": Split(strategy=Equal())})
        for m in metrics
    ]


CASES: list[Case] = [
    Case(
        id="door-explain-unknown-node",
        call=lambda: explain(_plan(), "north", "FY2027", "deals"),
        error=UnknownNodeError,
        names=("'north'",),
    ),
    Case(
        id="door-explain-unknown-period",
        call=lambda: explain(_plan(), "east", "FY2027-M13", "deals"),
        error=PeriodError,
        names=("FY2027-M13",),
    ),
    Case(
        id="door-explain-unknown-metric",
        call=lambda: explain(_plan(), "east", "FY2027", "deal"),
        error=MetricError,
        names=("'deal'", "deals"),
    ),
    Case(
        id="12.8-derived-numerator-not-cascaded",
        call=lambda: CascadeSpec(metrics=_cascaded(_REVENUE), derived=[_MARGIN]),
        error=SpecError,
        names=("'margin'", "numerator 'profit'", "revenue"),
    ),
    Case(
        id="12.8-derived-parts-not-cascaded",
        call=lambda: CascadeSpec(metrics=_cascaded(_DEALS), derived=[_MARGIN]),
        error=SpecError,
        names=("'margin'", "numerator 'profit'", "denominator 'revenue'", "deals"),
    ),
    Case(
        id="12.8-derived-sum-metric",
        call=lambda: CascadeSpec(metrics=_cascaded(_REVENUE, _PROFIT), derived=[_DEALS]),
        error=SpecError,
        names=("'deals'", "'sum'", "ratio"),
    ),
    Case(
        id="12.8-derived-name-given-twice",
        call=lambda: CascadeSpec(metrics=_cascaded(_REVENUE, _PROFIT), derived=[_MARGIN, _MARGIN]),
        error=SpecError,
        names=("'margin'", "twice"),
    ),
    Case(
        id="12.8-derived-not-a-metric",
        call=lambda: CascadeSpec(
            metrics=_cascaded(_REVENUE, _PROFIT),
            derived=["margin"],  # type: ignore[list-item]
        ),
        error=SpecError,
        names=("'margin'", "Metric"),
    ),
    Case(
        id="12.8-derived-from-json-part-missing",
        call=lambda: CascadeSpec.from_dict(
            {
                "schema_version": SPEC_SCHEMA_VERSION,
                "metrics": [m.to_dict() for m in _cascaded(_REVENUE)],
                "derived": [_MARGIN.to_dict()],
            }
        ),
        error=SpecError,
        names=("'margin'", "numerator 'profit'"),
    ),
    Case(
        id="door-cascade-derived-beyond-the-limit",
        call=_beyond_the_limit,
        error=SpecError,
        names=("'margin'", "'acme'", "FY2027", "2**53", "1E-12 percent", "coarser quantum"),
    ),
]
