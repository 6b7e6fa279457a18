"""A check report's text lists the first violations and says how many more there are."""

from __future__ import annotations

from targetcascade import FiscalCalendar, Metric, OrgTree, Plan, check


def broken_plan() -> Plan:
    """east and west 10 deals a month, rolled up; then east's M01 hand-set to 11 (nothing else)."""
    tree = OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )
    rows = [
        {"node": node, "period": f"FY2027-M{m:02d}", "metric": "deals", "value": 10}
        for node in ("east", "west")
        for m in range(1, 13)
    ]
    plan = Plan.from_leaf_values(
        tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")], rows
    )
    edit = [{"node": "east", "period": "FY2027-M01", "metric": "deals", "value": 11}]
    return plan.with_values(edit)


def test_format_cuts_at_the_limit_and_counts_the_rest():
    """With limit=1 the text has the summary, one violation and '... and N more'."""
    report = check(broken_plan())
    # M01 of east no longer adds up to east's Q1 (30), and acme's M01 (20) is not east + west (21)
    assert report.total >= 2
    lines = report.format(limit=1).splitlines()
    assert len(lines) == 3
    assert lines[-1] == f"  ... and {report.total - 1:,} more"
    assert "FY2027" in lines[1]


def test_format_lists_everything_within_the_limit():
    """With a limit above the count every violation is listed and nothing is said to be hidden."""
    report = check(broken_plan())
    text = report.format(limit=report.total + 5)
    assert "more" not in text
    assert len(text.splitlines()) == 1 + report.total
