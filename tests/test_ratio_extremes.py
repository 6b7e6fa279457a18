"""Ratio metrics stay exact when numerator and denominator are near the size limit."""

from __future__ import annotations

from decimal import Decimal

from targetcascade import FiscalCalendar, Metric, OrgTree, Plan, check


def margin_plan(profit: str, revenue: str) -> Plan:
    """One company, the same profit and revenue every month, margin in 0.001 percent steps."""
    metrics = [
        Metric(name="profit", unit="CNY"),
        Metric(name="revenue", unit="CNY"),
        Metric(name="margin", unit="percent", rollup="ratio", numerator="profit",
               denominator="revenue", quantum="0.001"),
    ]  # fmt: skip
    rows = [
        {"node": "acme", "period": f"FY2027-M{m:02d}", "metric": name, "value": value}
        for m in range(1, 13)
        for name, value in (("profit", profit), ("revenue", revenue))
    ]
    tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
    return Plan.from_leaf_values(tree, FiscalCalendar(fiscal_year=2027), metrics, rows)


def test_margin_of_huge_amounts_is_exact():
    """750 bn / 6,000 bn CNY a month is 12.5 %, in every month and in the year (9 tn / 72 tn).

    The year's profit is 9e14 quanta; in 0.001 % steps the ratio's scaled numerator is 9e19,
    past 2**62, so the roll-up takes its exact big-integer route.
    """
    plan = margin_plan("750000000000 CNY", "6000000000000 CNY")
    assert plan.quanta("acme", "FY2027", "profit") == 900_000_000_000_000
    for period in ("FY2027", "FY2027-Q3", "FY2027-M01"):
        assert plan.value("acme", period, "margin").magnitude == Decimal("12.500")
    assert plan.quanta("acme", "FY2027", "margin") == 12_500
    assert check(plan).ok


def test_margin_of_a_third_is_rounded_to_its_quantum_on_the_exact_route():
    """Profit a third of revenue is 33.333... %: 33,333 steps of 0.001 % (nearest), past 2**62."""
    plan = margin_plan("2000000000000 CNY", "6000000000000 CNY")
    assert plan.quanta("acme", "FY2027", "margin") == 33_333
    assert plan.quanta("acme", "FY2027-M12", "margin") == 33_333
