"""The notebook display of a plan: escaped labels, a text fallback, a capped table."""

from __future__ import annotations

from targetcascade import FiscalCalendar, Metric, OrgTree, Plan
from targetcascade._display import plan_html


def small_plan(ids: list[str]) -> Plan:
    """A root and one child per id under it, 10 deals in every month of each child."""
    records = [{"id": "acme", "level": "company"}] + [
        {"id": i, "parent": "acme", "level": "region"} for i in ids
    ]
    rows = [
        {"node": i, "period": f"FY2027-M{m:02d}", "metric": "deals", "value": 10}
        for i in ids
        for m in range(1, 13)
    ]
    return Plan.from_leaf_values(
        OrgTree.from_records(records),
        FiscalCalendar(fiscal_year=2027),
        [Metric(name="deals", unit="deal")],
        rows,
    )


class TestPlanHtml:
    def test_repr_html_escapes_labels_and_shows_values(self):
        """A node id with markup is shown escaped, never as live HTML; the year total is shown."""
        html = small_plan(["<b>east</b>", "west"])._repr_html_()
        assert "&lt;b&gt;east&lt;/b&gt;" in html
        assert "<b>east</b>" not in html
        assert "<table>" in html
        assert "240" in html  # acme's year: 2 regions x 12 months x 10 deals

    def test_has_a_plain_text_fallback(self):
        """The HTML carries the plan's repr in a <pre> for front ends that show no HTML."""
        plan = small_plan(["east"])
        html = plan._repr_html_()
        assert "<pre class='tc-fallback'>" in html
        assert "<style>" in html

    def test_long_tables_are_cut_and_say_how_many_rows_are_left(self):
        """Beyond max_rows the table stops and tells how many rows were not shown."""
        plan = small_plan([f"r{i}" for i in range(5)])  # 6 rows: acme and 5 regions
        html = plan_html(plan, max_rows=2)
        assert html.count("<tr><td>") == 2
        assert "<p>4 more rows</p>" in html
        assert "more rows" not in plan_html(plan, max_rows=6)

    def test_plan_without_metrics_shows_only_its_summary(self):
        """A plan with no metrics has no table, only its summary."""
        plan = Plan.empty(
            OrgTree.from_records([{"id": "acme", "level": "company"}]),
            FiscalCalendar(fiscal_year=2027),
            [],
        )
        html = plan_html(plan)
        assert "<table>" not in html
        assert "<pre class='tc-fallback'>" in html
