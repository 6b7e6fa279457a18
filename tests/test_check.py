"""Tests for targetcascade.check: the invariant checker recomputes every promise from the grid."""

from __future__ import annotations

import importlib
import pickle
from decimal import Decimal
from fractions import Fraction
from unittest.mock import patch

import attrs
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetcascade import (
    CascadeSpec,
    CheckReport,
    FiscalCalendar,
    Metric,
    MetricCascade,
    OrgTree,
    Origin,
    PeriodLevel,
    Plan,
    Rollup,
    Rule,
    Split,
    Violation,
    cascade,
    check,
)
from targetcascade._rules import segment_sums
from targetcascade.allocation import Equal
from targetcascade.errors import CheckFailedError, TargetCascadeError
from targetcascade.testing import plans

# The module, not the function ``targetcascade.check`` that the package re-exports under its name.
CHECK_MODULE = importlib.import_module("targetcascade.check")

#: (nodes per block, shortest reshaped run) for the checker's fast paths: the defaults, then settings
#: that send even the small plans hypothesis draws through many blocks and reshaped runs, and one
#: that leaves every sibling group to np.add.reduceat.
TUNINGS = [
    (CHECK_MODULE._BLOCK_ROWS, CHECK_MODULE._MIN_RUN_ROWS),
    (1, 1),
    (3, 2),
    (2, 10**9),
]

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
            "limit": 0,
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


@pytest.mark.parametrize(("block_rows", "min_run_rows"), TUNINGS)
@given(plans(), st.data())
def test_perturbing_one_cell_reports_exactly_its_violations(
    block_rows: int, min_run_rows: int, plan: Plan, data: st.DataObject
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

    with (
        patch.object(CHECK_MODULE, "_BLOCK_ROWS", block_rows),
        patch.object(CHECK_MODULE, "_MIN_RUN_ROWS", min_run_rows),
    ):
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


# ---------------------------------------------------------------------- fast paths


def test_missing_is_the_smallest_origin() -> None:
    """The checker finds complete grids by their minimum origin, which needs MISSING to be 0."""
    assert Origin.MISSING == min(Origin) == 0


@given(plans(), st.data())
def test_tunings_give_the_same_report(plan: Plan, data: st.DataObject) -> None:
    """Block and run sizes change how sums are taken, never the report (edits, gaps, hedges)."""
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    for k, metric in enumerate(plan.metrics):
        values = np.array(plan.values[k])
        origins = np.array(plan.origins[k])
        cells = rng.integers(0, values.size, size=data.draw(st.integers(0, 6)))
        values.flat[cells] += rng.integers(-3, 4, size=cells.size)
        gaps = rng.random(values.shape) < data.draw(st.sampled_from([0.0, 0.02, 0.2]))
        origins[gaps] = Origin.MISSING
        values[gaps] = 0
        plan = plan.with_arrays(metric.name, values, origins)
    if data.draw(st.booleans()):
        sums = [m.name for m in plan.metrics if m.rollup is Rollup.SUM]
        levels = plan.tree.levels.names
        plan = attrs.evolve(
            plan,
            hedges={sums[0]: {data.draw(st.sampled_from(levels)): Fraction(1, 20)}},
        )
    limit = data.draw(st.sampled_from([None, 3]))
    reports = []
    for block_rows, min_run_rows in TUNINGS:
        with (
            patch.object(CHECK_MODULE, "_BLOCK_ROWS", block_rows),
            patch.object(CHECK_MODULE, "_MIN_RUN_ROWS", min_run_rows),
        ):
            reports.append(check(plan, max_violations=limit))
    assert all(report == reports[0] for report in reports)


def _offsets(groups: list[tuple[int, int]]) -> npt.NDArray[np.int64]:
    """CSR offsets over their own axis (children after position 0, as in a tree or a calendar).

    Built from (segment size, how many in a row) pairs, padded with empty segments so that every
    position of the axis has one; the axis has ``offsets.size - 1`` positions.
    """
    counts = [size for size, repeat in groups for _ in range(repeat)]
    counts += [0] * max(1 + sum(counts) - len(counts), 0)
    return (1 + np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])).astype(np.int64)


SEGMENT_GROUPS = st.lists(st.tuples(st.integers(0, 4), st.integers(1, 6)), max_size=8)


@given(SEGMENT_GROUPS, st.integers(1, 4), st.sampled_from([1, 2, 5, 64]), st.integers(0, 2**32 - 1))
def test_node_segment_sums_match_reduceat(
    groups: list[tuple[int, int]], periods: int, min_run_rows: int, seed: int
) -> None:
    """Node-axis sums by reshaped runs equal segment_sums, wrapping included."""
    offsets = _offsets(groups)
    rng = np.random.default_rng(seed)
    values = rng.integers(-(2**62), 2**62, size=(offsets.size - 1, periods), dtype=np.int64)
    want_parents, want_sums = segment_sums(values, offsets, axis=0)
    with patch.object(CHECK_MODULE, "_MIN_RUN_ROWS", min_run_rows):
        parents, sums = CHECK_MODULE._node_segment_sums(values, offsets)
    np.testing.assert_array_equal(parents, want_parents)
    np.testing.assert_array_equal(sums, want_sums)


@given(SEGMENT_GROUPS, st.integers(1, 9), st.sampled_from([1, 2, 4096]), st.integers(0, 2**32 - 1))
def test_period_mismatches_match_nonzero(
    groups: list[tuple[int, int]], nodes: int, block_rows: int, seed: int
) -> None:
    """Blocked period-axis mismatches equal a nonzero over segment_sums, in the same order."""
    offsets = _offsets(groups)
    rng = np.random.default_rng(seed)
    values = rng.integers(-2, 3, size=(nodes, offsets.size - 1), dtype=np.int64)
    periods, sums = segment_sums(values, offsets, axis=1)
    want_nodes, want_columns = np.nonzero(sums != values[:, periods])
    with patch.object(CHECK_MODULE, "_BLOCK_ROWS", block_rows):
        got = CHECK_MODULE._period_mismatches(values, offsets)
    np.testing.assert_array_equal(got[0], periods)
    np.testing.assert_array_equal(got[1], want_nodes)
    np.testing.assert_array_equal(got[2], want_columns)
    np.testing.assert_array_equal(got[3], sums[want_nodes, want_columns])
    np.testing.assert_array_equal(got[4], values[:, periods][want_nodes, want_columns])


def test_malformed_offsets_take_the_general_path() -> None:
    """Offsets that do not tile in order are summed exactly as segment_sums sums them."""
    offsets = np.array([1, 3, 2, 4], dtype=np.int64)
    values = np.arange(10, dtype=np.int64).reshape(5, 2)
    parents, sums = CHECK_MODULE._node_segment_sums(values, offsets)
    want_parents, want_sums = segment_sums(values, offsets, axis=0)
    np.testing.assert_array_equal(parents, want_parents)
    np.testing.assert_array_equal(sums, want_sums)
    got = CHECK_MODULE._period_mismatches(values.T.copy(), offsets)
    periods, period_sums = segment_sums(values.T.copy(), offsets, axis=1)
    np.testing.assert_array_equal(got[0], periods)
    assert got[1].size == np.count_nonzero(period_sums != values.T[:, periods])


def _reference_additivity(plan: Plan) -> set[tuple[Rule, str | None, str | None]]:
    """Plain-Python additivity over complete cells (no hedges): the slow twin of the checker."""
    found: set[tuple[Rule, str | None, str | None]] = set()
    compiled, periods = plan.tree.compiled, plan.calendar.periods
    node_children = [
        range(int(compiled.child_offsets[i]), int(compiled.child_offsets[i + 1]))
        for i in range(len(compiled.ids))
    ]
    period_children = [
        range(int(plan.calendar.child_offsets[p]), int(plan.calendar.child_offsets[p + 1]))
        for p in range(len(periods))
    ]
    for k, metric in enumerate(plan.metrics):
        if metric.rollup is not Rollup.SUM:
            continue
        values = plan.values[k].tolist()
        present = (plan.origins[k] != Origin.MISSING).tolist()
        for n, kids in enumerate(node_children):
            for p in range(len(periods)):
                complete = present[n][p] and all(present[c][p] for c in kids)
                if kids and complete and sum(values[c][p] for c in kids) != values[n][p]:
                    found.add((Rule.ORG_ADDITIVITY, compiled.ids[n], periods[p].label))
                subs = period_children[p]
                complete = present[n][p] and all(present[n][s] for s in subs)
                if subs and complete and sum(values[n][s] for s in subs) != values[n][p]:
                    found.add((Rule.TIME_ADDITIVITY, compiled.ids[n], periods[p].label))
    return found


@pytest.mark.parametrize(("block_rows", "min_run_rows"), TUNINGS)
@given(plans(), st.data())
def test_additivity_with_gaps_matches_reference(
    block_rows: int, min_run_rows: int, plan: Plan, data: st.DataObject
) -> None:
    """With edits and missing cells, additivity is reported exactly where the slow twin finds it."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    for k, metric in enumerate(plan.metrics):
        values, origins = np.array(plan.values[k]), np.array(plan.origins[k])
        cells = rng.integers(0, values.size, size=data.draw(st.integers(0, 8)))
        values.flat[cells] += rng.integers(-3, 4, size=cells.size)
        gaps = rng.random(values.shape) < data.draw(st.sampled_from([0.0, 0.05, 0.3]))
        origins[gaps], values[gaps] = Origin.MISSING, 0
        plan = plan.with_arrays(metric.name, values, origins)
    with (
        patch.object(CHECK_MODULE, "_BLOCK_ROWS", block_rows),
        patch.object(CHECK_MODULE, "_MIN_RUN_ROWS", min_run_rows),
    ):
        report = check(plan, rules=[Rule.ORG_ADDITIVITY, Rule.TIME_ADDITIVITY], max_violations=None)
    assert located(report) == _reference_additivity(plan)
    assert report.total == len(report.violations)


def _hedged_import() -> Plan:
    """A cascade over-assigned by 1/30 (a float) at the company, imported back from its records."""
    tree = OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )
    revenue = Metric(name="revenue", unit="CNY")
    spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=revenue,
                target="1000 CNY",
                splits={"company": Split(strategy=Equal(), hedge=1 / 30)},
            )
        ]
    )
    built = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
    return Plan.from_records(
        tree, built.calendar, [revenue], built.to_records(), hedges={"company": 1 / 30}
    )


class TestExactArithmetic:
    """check adds up and over-assigns exactly, whatever the size of the numbers (#21.1, #21.2)."""

    def test_float_hedge_import_is_ok(self) -> None:
        """An imported plan over-assigned by 1/30 (1,000.00 -> 1,033.33 CNY) checks ok."""
        plan = _hedged_import()
        assert (
            plan.quanta("east", "FY2027", "revenue") + plan.quanta("west", "FY2027", "revenue")
            == 103_333
        )
        assert check(plan).ok

    def test_float_hedge_expected_figure(self) -> None:
        """A child one cent high is reported against 1,033.33 CNY, the exact hedged year."""
        plan = _hedged_import()
        east = plan.quanta("east", "FY2027", "revenue")
        assert east is not None
        broken = edit(
            plan, "east", "FY2027", plan.metric("revenue").from_quanta(east + 1), "revenue"
        )
        (violation,) = check(broken).by_rule(Rule.ORG_ADDITIVITY)
        assert violation.expected == Decimal("1033.33")
        assert violation.actual == Decimal("1033.34")
        assert "1,033.33 CNY" in violation.message

    def test_sums_beyond_int64_do_not_wrap(self) -> None:
        """Children of 2**62 quanta each do not 'add up' to a parent of -2**63 (int64 wrapping)."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region"},
                {"id": "west", "parent": "acme", "level": "region"},
            ]
        )
        calendar = FiscalCalendar(fiscal_year=2027)
        deals = Metric(name="deals", unit="deal", non_negative=False)
        values = np.zeros((1, 3, len(calendar.periods)), dtype=np.int64)
        values[0, 0, 0] = np.iinfo(np.int64).min
        values[0, 1:, 0] = 2**62
        origins = np.full(values.shape, Origin.MISSING, dtype=np.uint8)
        origins[0, :, 0] = Origin.MANUAL
        plan = Plan(tree=tree, calendar=calendar, metrics=(deals,), values=values, origins=origins)
        report = check(plan, rules=[Rule.ORG_ADDITIVITY, Rule.LIMIT])
        assert located(report) == {
            (Rule.ORG_ADDITIVITY, "acme", "FY2027"),
            (Rule.LIMIT, "acme", "FY2027"),
            (Rule.LIMIT, "east", "FY2027"),
            (Rule.LIMIT, "west", "FY2027"),
        }
        (sums,) = report.by_rule(Rule.ORG_ADDITIVITY)
        assert sums.actual == Decimal(2**63)

    def test_months_beyond_int64_do_not_wrap(self) -> None:
        """Months of 2**62 quanta make a quarter of 3 x 2**62, not the -2**62 int64 wraps it to."""
        tree = OrgTree.from_records([{"id": "solo", "level": "company"}])
        calendar = FiscalCalendar(fiscal_year=2027)
        deals = Metric(name="deals", unit="deal", non_negative=False)
        values = np.full((1, 1, len(calendar.periods)), 2**62, dtype=np.int64)
        values[0, 0, 1:5] = -(2**62)  # 3 x 2**62 wrapped
        values[0, 0, 0] = 0  # 4 x -2**62 wrapped
        origins = np.full(values.shape, Origin.MANUAL, dtype=np.uint8)
        plan = Plan(tree=tree, calendar=calendar, metrics=(deals,), values=values, origins=origins)
        report = check(plan, rules=[Rule.TIME_ADDITIVITY])
        assert report.counts[Rule.TIME_ADDITIVITY] == 5  # four quarters and the year
        by_period = {v.period: v.actual for v in report.violations}
        assert by_period["FY2027-Q1"] == Decimal(3 * 2**62)
        assert by_period["FY2027"] == Decimal(-(2**64))

    def test_ratio_of_int64_minimums(self) -> None:
        """A ratio whose parts are both int64's minimum is 100 %, not a wrapped sign (#21.2)."""
        tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
        profit = Metric(name="profit", unit="CNY", non_negative=False)
        revenue = Metric(name="revenue", unit="CNY", non_negative=False)
        margin = Metric(
            name="margin",
            unit="percent",
            rollup="ratio",
            numerator="profit",
            denominator="revenue",
            quantum="0.1",
        )
        rows = [
            *leaf_rows({"acme": 1}, "profit"),
            *leaf_rows({"acme": 3}, "revenue"),
        ]
        plan = Plan.from_leaf_values(
            tree, FiscalCalendar(fiscal_year=2027), [profit, revenue, margin], rows
        )
        values = np.array(plan.values)
        values[0, 0, 0] = values[1, 0, 0] = np.iinfo(np.int64).min
        (violation,) = check(attrs.evolve(plan, values=values)).by_rule(Rule.RATIO_CONSISTENCY)
        assert violation.expected == Decimal("100.0")

    def test_limit_reports_cells_beyond_2_to_the_53(self) -> None:
        """A cell of 2**53 + 1 quanta is reported, with the limit in the metric's unit."""
        plan = coherent_plan()
        values = plan.values.copy()
        values[0, 0, 0] = 2**53 + 1
        edited = attrs.evolve(plan, values=values)
        (violation,) = check(edited, rules=[Rule.LIMIT]).violations
        assert (violation.node, violation.period) == ("acme", "FY2027")
        assert "9,007,199,254,740,992 deal" in violation.message


@given(plans(), st.data())
def test_additivity_of_huge_imported_grids_matches_reference(
    plan: Plan, data: st.DataObject
) -> None:
    """Grids beyond the doors' limit (as a hostile file could hold) are added up exactly: the report
    matches the Python-integer twin. A coherent plan times a large factor, wrapped into int64 as a
    careless writer would store it, adds up modulo 2**64 but not in integers (#21.2)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    values = np.array(plan.values)
    for k in range(len(plan.metrics)):
        with np.errstate(over="ignore"):
            values[k] *= data.draw(st.integers(1, 2**62))  # wraps where a product leaves int64
        cells = rng.integers(0, values[k].size, size=data.draw(st.integers(0, 4)))
        values[k].flat[cells] = rng.integers(-(2**62), 2**62, size=cells.size)
    huge = attrs.evolve(plan, values=values)
    report = check(huge, rules=[Rule.ORG_ADDITIVITY, Rule.TIME_ADDITIVITY], max_violations=None)
    assert located(report) == _reference_additivity(huge)
