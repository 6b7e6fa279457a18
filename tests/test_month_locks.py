"""Month locks under org_first phasing: the lock is taken out of its quarter, the rest re-phased."""

from __future__ import annotations

from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Lock,
    Metric,
    MetricCascade,
    OrgTree,
    Origin,
    Split,
    cascade,
    check,
)
from targetcascade.allocation import Proportional

RECORDS = [
    {"id": "acme", "level": "company"},
    {"id": "east", "parent": "acme", "level": "region", "w": 1},
    {"id": "west", "parent": "acme", "level": "region", "w": 3},
]


def test_org_first_month_lock_is_kept_and_its_quarter_siblings_share_the_rest():
    """east's year is 300 (1/4 of 1,200), 75 a quarter; M02 locked at 58 leaves 17 for M01 + M03.

    17 split evenly over two months is 8.5 each: the odd deal goes to the earlier month (9, 8);
    the other quarters keep 25 a month.
    """
    spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=Metric(name="deals", unit="deal"),
                target=1200,
                mode="org_first",
                locks=[Lock(node="east", period="FY2027-M02", value=58)],
                splits={"company": Split(strategy=Proportional(attribute="w"))},
            )
        ]
    )
    plan = cascade(spec, OrgTree.from_records(RECORDS), FiscalCalendar(fiscal_year=2027))
    months = [plan.quanta("east", f"FY2027-M{m:02d}", "deals") for m in range(1, 13)]
    assert months == [9, 58, 8] + [25] * 9
    assert plan.quanta("east", "FY2027", "deals") == 300
    assert plan.origin_of("east", "FY2027-M02", "deals") is Origin.LOCKED
    assert plan.quanta("west", "FY2027-M02", "deals") == 75
    assert check(plan).ok
