"""Tests for targetcascade.explain: every allocated cell says where its number came from."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Lock,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    Split,
    cascade,
    explain,
)
from targetcascade.allocation import CapacityWeighted, Equal, ProportionOfAverages
from targetcascade.errors import PlanError, UnknownNodeError
from targetcascade.synthetic import demo_company

DEALS = Metric(name="deals", unit="deal")


def three() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "a", "parent": "acme", "level": "region"},
            {"id": "b", "parent": "acme", "level": "region"},
            {"id": "c", "parent": "acme", "level": "region"},
        ]
    )


class TestExplain:
    def test_chain_by_hand(self) -> None:
        """120 deals, even months, three equal regions: 10 a month, 3.33 each, a takes the leftover."""
        spec = CascadeSpec(
            metrics=[
                MetricCascade(metric=DEALS, target=120, splits={"company": Split(strategy=Equal())})
            ]
        )
        plan = cascade(spec, three(), FiscalCalendar(fiscal_year=2027))
        explanation = explain(plan, "a", "FY2027-M01", "deals")
        first, *rest = explanation.steps
        assert first.source == "org_split"
        assert (first.from_node, first.from_period) == ("acme", "FY2027-M01")
        assert first.value == Decimal(4)
        assert first.split_total == Decimal(10)
        assert (first.weight, first.weight_total) == (1.0, 3.0)
        assert first.rounding == Decimal(1)  # 4 = floor(3.33) + 1
        assert first.sentence == (
            "a FY2027-M01 4 deal = acme FY2027-M01 10 deal x 33.33 % "
            "(equal: weight 1 of 3) + 1 deal rounding"
        )
        assert [s.source for s in rest] == ["time_split", "time_split", "target"]
        assert rest[-1].sentence == "acme FY2027 120 deal = the target"

    def test_rolled_up_quarter(self) -> None:
        """A region's quarter below the root is the sum of its months, and says so."""
        spec = CascadeSpec(
            metrics=[
                MetricCascade(metric=DEALS, target=120, splits={"company": Split(strategy=Equal())})
            ]
        )
        plan = cascade(spec, three(), FiscalCalendar(fiscal_year=2027))
        step = explain(plan, "b", "FY2027-Q1", "deals").steps[0]
        assert step.source == "rolled_up"
        assert step.parts == ("FY2027-M01", "FY2027-M02", "FY2027-M03")
        total = sum(plan.quanta("b", p, "deals") or 0 for p in step.parts)
        assert step.value == Decimal(total)

    def test_lock_is_named(self) -> None:
        """A locked cell says it is locked; its siblings' sentences subtract the lock."""
        spec = CascadeSpec(
            metrics=[
                MetricCascade(
                    metric=DEALS,
                    target=120,
                    mode="org_first",
                    splits={"company": Split(strategy=Equal())},
                    locks=[Lock(node="a", period="FY2027", value=60)],
                )
            ]
        )
        plan = cascade(spec, three(), FiscalCalendar(fiscal_year=2027))
        assert explain(plan, "a", "FY2027", "deals").sentence == "a FY2027 60 deal is locked"
        assert explain(plan, "b", "FY2027", "deals").sentence == (
            "b FY2027 30 deal = (acme FY2027 120 deal - 60 deal locked) x 50.00 % "
            "(equal: weight 1 of 2) + 0 deal rounding"
        )

    def test_cells_edited_after_the_cascade_say_so(self) -> None:
        """A cell set by hand or committed after the cascade ends its chain there.

        A cell edited to ``locked`` origin is not an edit (only manual and committed are), so it
        is explained from its provenance as before.
        """
        spec = CascadeSpec(
            metrics=[
                MetricCascade(metric=DEALS, target=120, splits={"company": Split(strategy=Equal())})
            ]
        )
        plan = cascade(spec, three(), FiscalCalendar(fiscal_year=2027))
        edited = plan.with_values(
            [
                {"node": "a", "period": "FY2027-M01", "metric": "deals", "value": 7},
                {"node": "b", "period": "FY2027-M01", "metric": "deals", "value": 2,
                 "origin": "committed"},
                {"node": "c", "period": "FY2027-M01", "metric": "deals", "value": 3,
                 "origin": "locked"},
            ]
        )  # fmt: skip
        manual = explain(edited, "a", "FY2027-M01", "deals")
        assert [s.source for s in manual.steps] == ["edited"]
        assert manual.sentence == "a FY2027-M01 7 deal was set by hand"
        assert explain(edited, "b", "FY2027-M01", "deals").sentence == (
            "b FY2027-M01 2 deal was set by hand"
        )
        kept = explain(edited, "c", "FY2027-M01", "deals")
        assert kept.steps[0].source == "org_split"
        assert kept.steps[0].value == Decimal(3)
        # the cells around an edit keep their own chains
        assert explain(edited, "a", "FY2027-M02", "deals").steps[0].source == "org_split"

    def test_plan_without_provenance(self) -> None:
        """Plans not built by cascade() cannot be explained, and the error says why."""
        tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
        plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [DEALS])
        with pytest.raises(PlanError, match="no provenance"):
            explain(plan, "acme", "FY2027", "deals")

    def test_unknown_node(self) -> None:
        """An unknown node is named."""
        spec = CascadeSpec(
            metrics=[
                MetricCascade(metric=DEALS, target=12, splits={"company": Split(strategy=Equal())})
            ]
        )
        plan = cascade(spec, three(), FiscalCalendar(fiscal_year=2027))
        with pytest.raises(UnknownNodeError, match="zz"):
            explain(plan, "zz", "FY2027", "deals")


@given(st.data())
def test_every_split_step_adds_up(data: st.DataObject) -> None:
    """For any cell of the demo cascade, each split step's value is its quota plus its rounding."""
    company = demo_company()
    plan = _demo_plan()
    node = data.draw(st.sampled_from(list(company.tree)))
    period = data.draw(st.sampled_from([p.label for p in company.calendar.periods]))
    explanation = explain(plan, node, period, "revenue")
    assert explanation.steps[-1].source in {"target", "locked", "rolled_up"}
    for step in explanation.steps:
        if step.source in {"org_split", "time_split"}:
            assert step.rounding is not None
            assert step.share is not None
            assert step.split_total is not None
            assert abs(step.value - step.rounding - step.split_total * Decimal(step.share)) < 2


_CACHE: dict[str, Plan] = {}


def _demo_plan() -> Plan:
    if "plan" not in _CACHE:
        company = demo_company()
        spec = CascadeSpec(
            metrics=[
                MetricCascade(
                    metric=company.metrics[0],
                    target="6500 wan CNY",
                    splits={
                        "company": Split(strategy=ProportionOfAverages()),
                        "region": Split(strategy=ProportionOfAverages(fallback=Equal())),
                        "team": Split(strategy=CapacityWeighted(), hedge="0.05"),
                    },
                )
            ]
        )
        _CACHE["plan"] = cascade(spec, company.tree, company.calendar, history=company.history)
    return _CACHE["plan"]


@given(st.data())
def test_split_total_is_what_the_children_add_up_to(data: st.DataObject) -> None:
    """An org split's total (over-assigned at the demo's 5 % team level) is its children's sum.

    The total is not stored in the provenance; explain recomputes it from the parent cell and the
    plan's hedges. The children's values are summed here from the grid alone.
    """
    company = demo_company()
    plan = _demo_plan()
    compiled = company.tree.compiled
    node = data.draw(st.sampled_from([n for n in company.tree if n != company.tree.root]))
    period = data.draw(st.sampled_from([p.label for p in company.calendar.periods]))
    for step in explain(plan, node, period, "revenue").steps:
        if step.source != "org_split":
            continue
        parent = compiled.index(step.from_node)
        children = compiled.ids[compiled.child_offsets[parent] : compiled.child_offsets[parent + 1]]
        added = sum(plan.value(c, step.from_period, "revenue").magnitude for c in children)
        assert step.split_total == added
