"""Tests for targetcascade.check: the invariant checker recomputes every promise from the grid."""

from __future__ import annotations

import pickle
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetcascade import (
    CheckReport,
    FiscalCalendar,
    Metric,
    OrgTree,
    Origin,
    PeriodLevel,
    Plan,
    Rollup,
    Rule,
    Violation,
    check,
)
from targetcascade.errors import CheckFailedError, TargetCascadeError
from targetcascade.testing import plans

MONTHS = [f"FY2027-M{m:02d}" for m in range(1, 13)]


def small_tree() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
            {"id": "e1", "parent": "east", "level": "team"},
            {"id": "e2", "parent": "east", "level": "team"},
        ]
    )


def leaf_rows(values: dict[str, int], metric: str = "deals") -> list[dict[str, object]]:
    return [
        {"node": node, "period": month, "metric": metric, "value": v}
        for node, v in values.items()
        for month in MONTHS
    ]


def coherent_plan() -> Plan:
    deals = Metric(name="deals", unit="deal")
    return Plan.from_leaf_values(
        small_tree(),
        FiscalCalendar(fiscal_year=2027),
        [deals],
        leaf_rows({"e1": 2, "e2": 3, "west": 4}),
    )


def edit(plan: Plan, node: str, period: str, value: object, metric: str = "deals") -> Plan:
    return plan.with_values([{"node": node, "period": period, "metric": metric, "value": value}])


def located(report: CheckReport) -> set[tuple[Rule, str | None, str | None]]:
    return {(v.rule, v.node, v.period) for v in report.violations}


class TestCheck:
    def test_rolled_up_plan_is_ok(self) -> None:
        """A plan rolled up from leaf values satisfies every rule."""
        report = check(coherent_plan())
        assert report.ok
        assert report.total == 0
        assert report.cells_checked == 5 * 17

    def test_edited_leaf_breaks_parent_and_quarter(self) -> None:
        """Raising one team's month by 1 breaks its region's sum and its own quarter."""
        report = check(edit(coherent_plan(), "e1", "FY2027-M05", 3))
        assert located(report) == {
            (Rule.ORG_ADDITIVITY, "east", "FY2027-M05"),
            (Rule.TIME_ADDITIVITY, "e1", "FY2027-Q2"),
        }
        org = report.by_rule(Rule.ORG_ADDITIVITY)[0]
        # east's teams: e1 = 3 (edited), e2 = 3 -> 6, while east still holds 2 + 3 = 5
        assert (org.expected, org.actual, org.difference) == (Decimal(5), Decimal(6), Decimal(1))
        assert org.message == (
            "'acme/east' children sum to 6 deal but the parent is 5 deal in FY2027-M05 "
            "(off by 1 deal)"
        )

    def test_edited_quarter_breaks_months_year_and_parent(self) -> None:
        """Changing a quarter breaks its months' sum, the year's quarters and the parent's children."""
        report = check(edit(coherent_plan(), "west", "FY2027-Q3", 13))
        assert located(report) == {
            (Rule.TIME_ADDITIVITY, "west", "FY2027-Q3"),
            (Rule.TIME_ADDITIVITY, "west", "FY2027"),
            (Rule.ORG_ADDITIVITY, "acme", "FY2027-Q3"),
        }
        year = next(v for v in report.violations if v.period == "FY2027")
        # west's quarters: 12 + 12 + 13 + 12 = 49 against a year of 48
        assert (year.expected, year.actual) == (Decimal(48), Decimal(49))

    def test_missing_child_under_present_parent(self) -> None:
        """A cleared leaf cell under a present parent is reported as missing, not as zero."""
        report = check(edit(coherent_plan(), "e2", "FY2027-M01", None))
        assert located(report) == {(Rule.MISSING_CHILD, "e2", "FY2027-M01")}
        assert "has no deals value in FY2027-M01" in report.violations[0].message

    def test_only_root_year_set_reports_each_missing_child(self) -> None:
        """A plan with only the company's year reports its 4 missing quarters and 2 missing regions."""
        tree = small_tree()
        plan = Plan.empty(
            tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")]
        )
        report = check(edit(plan, "acme", "FY2027", 100))
        assert report.counts[Rule.MISSING_CHILD] == 4 + 2

    def test_negative_value_reported_for_non_negative_metric(self) -> None:
        """A negative revenue violates non-negativity; a negative profit does not."""
        tree = OrgTree.from_records([{"id": "solo", "level": "company"}])
        metrics = [
            Metric(name="revenue", unit="CNY"),
            Metric(name="profit", unit="CNY", non_negative=False),
        ]
        plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), metrics).with_values(
            [
                {"node": "solo", "period": "FY2027", "metric": "revenue", "value": "-5 CNY"},
                {"node": "solo", "period": "FY2027", "metric": "profit", "value": "-5 CNY"},
            ]
        )
        report = check(plan, rules=[Rule.NON_NEGATIVE])
        assert located(report) == {(Rule.NON_NEGATIVE, "solo", "FY2027")}
        assert report.violations[0].actual == Decimal("-5.00")

    def test_over_assignment_rule_is_checked_as_declared(self) -> None:
        """With 5 % hedge on teams' parents, children must sum to round(parent x 1.05)."""
        tree = small_tree()
        plan = Plan.empty(
            tree,
            FiscalCalendar(fiscal_year=2027),
            [Metric(name="deals", unit="deal")],
            hedges={"region": "0.05"},
        )
        # east 30 -> its teams must carry round(31.5) = 32 (half to even); 17 + 15 = 32 is right
        good = plan.with_values(
            [
                {"node": "east", "period": "FY2027", "metric": "deals", "value": 30},
                {"node": "e1", "period": "FY2027", "metric": "deals", "value": 17},
                {"node": "e2", "period": "FY2027", "metric": "deals", "value": 15},
            ]
        )
        assert check(good, rules=[Rule.ORG_ADDITIVITY]).ok
        bad = edit(good, "e2", "FY2027", 14)
        report = check(bad, rules=[Rule.ORG_ADDITIVITY])
        (violation,) = report.violations
        assert (violation.node, violation.expected, violation.actual) == ("east", 32, 31)
        assert "parent x (1 + 1/20) rounded is 32 deal" in violation.message

    def test_ratio_metric_must_match_parts(self) -> None:
        """A margin cell that differs from profit / revenue is reported with the right value."""
        tree = OrgTree.from_records([{"id": "solo", "level": "company"}])
        metrics = [
            Metric(name="profit", unit="CNY"),
            Metric(name="revenue", unit="CNY"),
            Metric(
                name="margin",
                unit="percent",
                rollup=Rollup.RATIO,
                numerator="profit",
                denominator="revenue",
                quantum="0.1",
            ),
        ]
        rows = [
            {"node": "solo", "period": m, "metric": name, "value": v}
            for m in MONTHS
            for name, v in (("profit", "1 CNY"), ("revenue", "8 CNY"))
        ]
        plan = Plan.from_leaf_values(tree, FiscalCalendar(fiscal_year=2027), metrics, rows)
        # 12 / 96 = 12.5 %, exactly representable at quantum 0.1 %
        assert plan.value("solo", "FY2027", "margin").magnitude == Decimal("12.5")
        assert check(plan).ok
        report = check(edit(plan, "solo", "FY2027", "12.6", metric="margin"))
        (violation,) = report.violations
        assert violation.rule is Rule.RATIO_CONSISTENCY
        assert (violation.expected, violation.actual) == (Decimal("12.5"), Decimal("12.6"))

    def test_ratio_without_denominator_must_be_missing(self) -> None:
        """Where revenue is zero the margin has no value; a value there is a violation."""
        tree = OrgTree.from_records([{"id": "solo", "level": "company"}])
        metrics = [
            Metric(name="profit", unit="CNY", non_negative=False),
            Metric(name="revenue", unit="CNY"),
            Metric(
                name="margin",
                unit="percent",
                rollup="ratio",
                numerator="profit",
                denominator="revenue",
            ),
        ]
        rows = [
            {"node": "solo", "period": m, "metric": name, "value": 0}
            for m in MONTHS
            for name in ("profit", "revenue")
        ]
        plan = Plan.from_leaf_values(tree, FiscalCalendar(fiscal_year=2027), metrics, rows)
        assert plan.value("solo", "FY2027", "margin") is None
        report = check(edit(plan, "solo", "FY2027-M03", "0", metric="margin"))
        assert located(report) == {(Rule.RATIO_CONSISTENCY, "solo", "FY2027-M03")}

    def test_max_violations_keeps_counts_exact(self) -> None:
        """Materialised violations are capped but the counts stay exact."""
        plan = coherent_plan()
        edits = [{"node": "e1", "period": m, "metric": "deals", "value": 9} for m in MONTHS]
        report = check(plan.with_values(edits), max_violations=3)
        assert len(report.violations) == 3
        assert report.truncated
        # 12 months of e1 break east's month sums; e1's 4 quarters break too
        assert report.counts[Rule.ORG_ADDITIVITY] == 12
        assert report.counts[Rule.TIME_ADDITIVITY] == 4

    def test_rules_subset(self) -> None:
        """Asking for one rule reports only that rule."""
        report = check(edit(coherent_plan(), "e1", "FY2027-M05", 3), rules=["time_additivity"])
        assert set(report.counts) == {Rule.TIME_ADDITIVITY}


class TestCheckReport:
    def test_raise_if_failed(self) -> None:
        """raise_if_failed raises CheckFailedError naming the first culprit."""
        report = check(edit(coherent_plan(), "e1", "FY2027-M05", 3))
        with pytest.raises(CheckFailedError) as info:
            report.raise_if_failed()
        assert info.value.node == "east"
        assert isinstance(info.value, AssertionError)
        assert isinstance(info.value, TargetCascadeError)
        assert "'acme/east' children sum to 6 deal" in str(info.value)
        check(coherent_plan()).raise_if_failed()

    def test_str_lists_summary_and_violations(self) -> None:
        """The text form starts with a summary line and lists each violation."""
        text = str(check(edit(coherent_plan(), "e1", "FY2027-M05", 3)))
        lines = text.splitlines()
        assert lines[0] == "2 violations in 85 cells (org_additivity: 1, time_additivity: 1)"
        assert len(lines) == 3

    def test_html_escapes_labels(self) -> None:
        """Node ids with markup are escaped in the notebook view."""
        tree = OrgTree.from_records(
            [
                {"id": "<b>acme</b>", "level": "company"},
                {"id": "<i>x</i>", "parent": "<b>acme</b>", "level": "region"},
            ]
        )
        rows = [{"node": "<i>x</i>", "period": m, "metric": "deals", "value": 1} for m in MONTHS]
        plan = Plan.from_leaf_values(
            tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")], rows
        )
        broken = edit(plan, "<i>x</i>", "FY2027-M01", 2)
        html = check(broken)._repr_html_()
        assert "<i>x</i>" not in html
        assert "&lt;i&gt;x&lt;/i&gt;" in html
        assert "<pre" in html

    def test_to_dict_is_json_safe(self) -> None:
        """The report serialises with exact numbers as strings."""
        import json

        data = check(edit(coherent_plan(), "e1", "FY2027-M05", 3)).to_dict()
        assert json.loads(json.dumps(data)) == data
        assert data["counts"] == {
            "org_additivity": 1,
            "time_additivity": 1,
            "ratio_consistency": 0,
            "non_negative": 0,
            "missing_child": 0,
            "tree": 0,
            "calendar": 0,
        }

    def test_violation_pickles(self) -> None:
        """Violations and reports survive pickling (they cross process boundaries)."""
        report = check(edit(coherent_plan(), "e1", "FY2027-M05", 3))
        assert pickle.loads(pickle.dumps(report)) == report


class TestViolation:
    def test_difference(self) -> None:
        """difference is actual minus expected, None when either is absent."""
        v = Violation(
            rule=Rule.MISSING_CHILD,
            node="a",
            period="FY2027",
            metric="m",
            expected=None,
            actual=None,
            unit="deal",
            message="",
        )
        assert v.difference is None


# ---------------------------------------------------------------------- properties


@given(plans())
def test_coherent_plans_report_ok(plan: Plan) -> None:
    """Any plan rolled up from leaf values passes every rule."""
    report = check(plan, max_violations=5)
    assert report.ok, str(report)


def _ratio_expectation(plan: Plan, ratio: Metric, node: str, period: str) -> int | None:
    """Independent recomputation of a ratio cell with Fractions (not the library's routine)."""
    num = plan.quanta(node, period, ratio.numerator or "")
    den = plan.quanta(node, period, ratio.denominator or "")
    if num is None or den is None or den == 0:
        return None
    num_q = plan.metric(ratio.numerator or "").quantum
    den_q = plan.metric(ratio.denominator or "").quantum
    per_unit = Fraction(1, 100) if ratio.unit_label == "percent" else Fraction(1)
    exact = Fraction(num) * Fraction(num_q) / (Fraction(den) * Fraction(den_q))
    return round(exact / (Fraction(ratio.quantum) * per_unit))


@given(plans(), st.data())
def test_perturbing_one_cell_reports_exactly_its_violations(
    plan: Plan, data: st.DataObject
) -> None:
    """Changing one cell by a few quanta is reported at exactly the places that cell touches."""
    tree, calendar = plan.tree, plan.calendar
    sums = [m for m in plan.metrics if m.rollup is Rollup.SUM]
    metric = data.draw(st.sampled_from(sums))
    node = data.draw(st.sampled_from(list(tree)))
    period = data.draw(st.sampled_from(calendar.periods))
    delta = data.draw(st.integers(-3, 3).filter(bool))
    old = plan.quanta(node, period.label, metric.name)
    assert old is not None
    new = old + delta
    perturbed = edit(plan, node, period.label, metric.from_quanta(new), metric=metric.name)

    expected: set[tuple[Rule, str | None, str | None]] = set()
    parent = tree.parent(node)
    if parent is not None:
        expected.add((Rule.ORG_ADDITIVITY, parent, period.label))
    if tree.children(node):
        expected.add((Rule.ORG_ADDITIVITY, node, period.label))
    if period.parent is not None:
        expected.add((Rule.TIME_ADDITIVITY, node, period.parent))
    if period.level < PeriodLevel.MONTH:  # weeks are below months but not in the grid
        expected.add((Rule.TIME_ADDITIVITY, node, period.label))
    if metric.non_negative and new < 0:
        expected.add((Rule.NON_NEGATIVE, node, period.label))
    for ratio in plan.metrics:
        if ratio.rollup is Rollup.RATIO and metric.name in (ratio.numerator, ratio.denominator):
            stored = plan.quanta(node, period.label, ratio.name)
            if _ratio_expectation(perturbed, ratio, node, period.label) != stored:
                expected.add((Rule.RATIO_CONSISTENCY, node, period.label))

    report = check(perturbed, max_violations=None)
    assert located(report) == expected


@given(plans())
def test_check_is_deterministic(plan: Plan) -> None:
    """Checking the same plan twice gives equal reports."""
    broken = plan.with_arrays(
        plan.metrics[0].name,
        np.asarray(plan.grid(plan.metrics[0].name)) + 1,
        np.full(plan.grid(plan.metrics[0].name).shape, Origin.MANUAL),
    )
    assert check(broken) == check(broken)
