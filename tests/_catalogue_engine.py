"""Catalogue rows for the cascade engine's doors: targets, locks and employment dates."""

from __future__ import annotations

from _catalogue import Case
from targetcascade import (
    AbsoluteBounds,
    CascadeSpec,
    FiscalCalendar,
    Lock,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    Split,
    cascade,
)
from targetcascade.allocation import Equal
from targetcascade.errors import InfeasibleAllocationError, SpecError

_YEAR = FiscalCalendar(fiscal_year=2027)
_REVENUE = Metric(name="revenue", unit="USD")
_PNL = Metric(name="pnl", unit="USD", non_negative=False)
_EQUAL = {level: Split(strategy=Equal()) for level in ("company", "region", "team")}


def _tree(start: str | None = None, *, leaver: bool = False) -> OrgTree:
    person: dict[str, object] = {"id": "ann", "parent": "t", "level": "individual"}
    if start is not None:
        person["start_date"] = start
    rows = [
        {"id": "acme", "level": "company"},
        {"id": "east", "parent": "acme", "level": "region"},
        {"id": "t", "parent": "east", "level": "team"},
        person,
    ]
    if leaver:  # bob works in January only
        rows.append({"id": "bob", "parent": "t", "level": "individual", "end_date": "2027-01-31"})
    return OrgTree.from_records(rows)


def _run(
    metric: Metric,
    target: str,
    *,
    start: str | None = None,
    splits: dict[str, Split] | None = None,
    locks: tuple[Lock, ...] = (),
    mode: str = "time_first",
    leaver: bool = False,
) -> Plan:
    item = MetricCascade(
        metric=metric, target=target, splits=splits or _EQUAL, locks=locks, mode=mode
    )
    return cascade(CascadeSpec(metrics=[item]), _tree(start, leaver=leaver), _YEAR)


CASES: list[Case] = [
    Case(
        id="12.5-negative-target-non-negative-metric",
        call=lambda: _run(_REVENUE, "-1 USD"),
        error=SpecError,
        names=("revenue", "-1.00 USD", "non_negative=False"),
    ),
    Case(
        id="door-engine-negative-lock-non-negative-metric",
        call=lambda: _run(_REVENUE, "1 USD", locks=(Lock(node="t", period="FY2027", value=-1),)),
        error=SpecError,
        names=("'t'", "FY2027", "-1.00 USD", "revenue"),
    ),
    Case(
        id="12.4-negative-target-with-caps",
        call=lambda: _run(
            _PNL,
            "-1 USD",
            splits={
                **_EQUAL,
                "team": Split(strategy=Equal(), bounds=AbsoluteBounds(cap=1, per="month")),
            },
        ),
        error=SpecError,
        names=("pnl", "-1.00 USD", "team"),
    ),
    Case(
        id="12.7-nobody-employed-time-first",
        call=lambda: _run(_REVENUE, "900 USD", start="2028-01-01"),
        error=InfeasibleAllocationError,
        names=("'acme'", "FY2027", "900.00 USD"),
    ),
    Case(
        id="12.7-nobody-employed-org-first",
        call=lambda: _run(_REVENUE, "900 USD", start="2028-01-01", mode="org_first"),
        error=InfeasibleAllocationError,
        names=("'acme'", "FY2027", "900.00 USD"),
    ),
    Case(
        id="door-engine-locked-year-of-someone-never-employed",
        call=lambda: _run(
            _REVENUE,
            "900 USD",
            start="2028-01-01",
            mode="org_first",
            locks=(Lock(node="ann", period="FY2027", value=5),),
            leaver=True,
        ),
        error=InfeasibleAllocationError,
        names=("'ann'", "FY2027", "5.00 USD", "start and end dates"),
    ),
    Case(
        id="door-engine-balanced-month-lock",
        call=lambda: _run(
            _REVENUE,
            "1200 USD",
            mode="balanced",
            locks=(Lock(node="ann", period="FY2027-M01", value=5),),
        ),
        error=SpecError,
        names=("'ann'", "FY2027-M01", "balanced", "revenue"),
    ),
    Case(
        id="door-engine-balanced-margins-unreachable",
        call=lambda: _run(_REVENUE, "1200 USD", mode="balanced", leaver=True),
        error=InfeasibleAllocationError,
        names=("'t'", "FY2027", "1,200.00 USD", "time_first"),
    ),
]
