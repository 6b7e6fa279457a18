"""Tests for targetcascade.cascade: exact cascades through time and the organisation."""

from __future__ import annotations

import json
import math
import pathlib
import re
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import _reference as ref
from targetcascade import (
    AbsoluteBounds,
    CascadeSpec,
    Fallback,
    FiscalCalendar,
    Levels,
    Lock,
    Metric,
    MetricCascade,
    Mode,
    OrgTree,
    Origin,
    Plan,
    RelativeBounds,
    Split,
    cascade,
    check,
    explain,
)
from targetcascade._rules import exact_fraction
from targetcascade.allocation import (
    AverageOfProportions,
    Blend,
    CapacityWeighted,
    Equal,
    Even,
    HistoricalSeasonality,
    Proportional,
    ProportionOfAverages,
    Seasonal,
    Webster,
)
from targetcascade.allocation._batch import OrgBatch
from targetcascade.allocation._history import History
from targetcascade.cascade import SPEC_SCHEMA_VERSION
from targetcascade.errors import (
    InfeasibleAllocationError,
    PeriodError,
    PlanError,
    QuantumError,
    SerializationError,
    SpecError,
    StrategyError,
    TargetCascadeError,
    UnitMismatchError,
)
from targetcascade.synthetic import demo_company
from targetcascade.testing import calendars, org_trees

DEALS = Metric(name="deals", unit="deal")
REVENUE = Metric(name="revenue", unit="CNY")
INNER = ("company", "region", "product_line", "team")


def regions() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "north", "parent": "acme", "level": "region", "potential": 3},
            {"id": "east", "parent": "acme", "level": "region", "potential": 3},
            {"id": "west", "parent": "acme", "level": "region", "potential": 1},
        ]
    )


def history_for(tree: OrgTree, per_node_year: dict[str, int], year: int = 2026) -> Plan:
    """A history plan whose leaves earn the given yearly amount (quanta) in 12 equal months."""
    leaves = [tree.compiled.ids[i] for i in np.flatnonzero(tree.compiled.is_leaf)]
    grid = np.array([[per_node_year[n] // 12] * 12 for n in leaves], dtype=np.int64)
    return Plan.from_leaf_arrays(
        tree, FiscalCalendar(fiscal_year=year), [REVENUE], {"revenue": grid}, kind="history"
    )


TEAM_LEVELS = Levels(ranks=(("team",), ("individual",)))


def team(*people: dict[str, object]) -> OrgTree:
    """A one-team organisation (levels team > individual)."""
    rows = [{"id": "t", "level": "team"}]
    rows += [{"parent": "t", "level": "individual", **p} for p in people]
    return OrgTree.from_records(rows, levels=TEAM_LEVELS)


def one(metric: Metric, target: object, **kwargs: object) -> CascadeSpec:
    return CascadeSpec(metrics=[MetricCascade(metric=metric, target=target, **kwargs)])


class TestHandChecked:
    def test_historical_share_with_rounding(self) -> None:
        """Shares 3/7, 3/7, 1/7 of 1,000.00 CNY: west takes the leftover cent (largest remainder)."""
        tree = regions()
        history = history_for(tree, {"north": 3_000_000, "east": 3_000_000, "west": 1_000_000})
        spec = one(
            REVENUE,
            "1000 CNY",
            mode="org_first",
            splits={"company": Split(strategy=ProportionOfAverages())},
        )
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027), history=[history])
        # quotas 42857.14, 42857.14, 14285.71 cents: floors sum to 99999, west's .71 is largest
        assert [plan.quanta(n, "FY2027", "revenue") for n in ("north", "east", "west")] == [
            42857,
            42857,
            14286,
        ]
        assert check(plan).ok

    def test_override_splits_one_parent_its_own_way(self) -> None:
        """Two regions of two teams each: teams are split equally, except east's, whose override
        weighs them 3:1. 800 deals, regions by potential 1:1 -> 400 each; west's teams 200 and
        200, east's 300 and 100. An override with the level's own Split object changes nothing."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region", "potential": 1},
                {"id": "west", "parent": "acme", "level": "region", "potential": 1},
                {"id": "e1", "parent": "east", "level": "team"},
                {"id": "e2", "parent": "east", "level": "team"},
                {"id": "w1", "parent": "west", "level": "team"},
                {"id": "w2", "parent": "west", "level": "team"},
            ]
        )
        equal = Split(strategy=Equal())
        spec = one(
            DEALS,
            800,
            mode="org_first",
            splits={"company": Split(strategy=Proportional(attribute="potential")),
                    "region": equal},
            overrides={"east": Split(strategy=Proportional(values={"e1": 3, "e2": 1})),
                       "west": equal},
        )  # fmt: skip
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        got = [plan.quanta(n, "FY2027", "deals") for n in ("e1", "e2", "w1", "w2")]
        assert got == [300, 100, 200, 200]
        assert check(plan).ok

    def test_lock_takes_its_value_and_rest_is_split(self) -> None:
        """East locked at 500.00: north and west share 500.00 as 3:1 = 375.00 and 125.00."""
        tree = regions()
        history = history_for(tree, {"north": 3_000_000, "east": 3_000_000, "west": 1_000_000})
        spec = one(
            REVENUE,
            "1000 CNY",
            mode="org_first",
            splits={"company": Split(strategy=ProportionOfAverages())},
            locks=[Lock(node="east", period="FY2027", value="500 CNY")],
        )
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027), history=[history])
        assert plan.value("east", "FY2027", "revenue").magnitude == Decimal("500.00")
        assert plan.value("north", "FY2027", "revenue").magnitude == Decimal("375.00")
        assert plan.value("west", "FY2027", "revenue").magnitude == Decimal("125.00")
        assert plan.origin_of("east", "FY2027", "revenue") is Origin.LOCKED
        assert check(plan).ok

    def test_year_and_quarter_locks_are_phased_like_the_parent(self) -> None:
        """time_first: a year lock follows the parent's months, a quarter lock its quarter's.

        120 deals over the year, seasonal 1:1:1:2 by quarter: acme's quarters are 24, 24, 24, 48
        and its months 8 each in Q1-Q3, 16 in Q4. East locked at 30 for the year gets 30 x 8/120
        = 2 a month in Q1-Q3 and 4 in Q4; north locked at 12 in Q4 gets 12 x 16/48 = 4 a month
        there. What is left is split equally among the unlocked, month by month.
        """
        spec = one(
            DEALS,
            120,
            time=Seasonal(profile=(1, 1, 1, 2)),
            splits={"company": Split(strategy=Equal())},
            locks=[
                Lock(node="east", period="FY2027", value=30),
                Lock(node="north", period="FY2027-Q4", value=12),
            ],
        )
        plan = cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))
        months = [f"FY2027-M{m:02d}" for m in range(1, 13)]
        assert [plan.quanta("acme", m, "deals") for m in months] == [8] * 9 + [16] * 3
        assert [plan.quanta("east", m, "deals") for m in months] == [2] * 9 + [4] * 3
        assert [plan.quanta("north", m, "deals") for m in months[9:]] == [4, 4, 4]
        # Q1-Q3: 8 - 2 = 6 left for north and west, 3 each; Q4: 16 - 4 - 4 = 8 left for west
        assert [plan.quanta("north", m, "deals") for m in months[:9]] == [3] * 9
        assert [plan.quanta("west", m, "deals") for m in months] == [3] * 9 + [8] * 3
        assert plan.quanta("east", "FY2027", "deals") == 30
        assert plan.quanta("north", "FY2027-Q4", "deals") == 12
        assert check(plan).ok

    def test_plan_is_read_only(self) -> None:
        """The engine fills the plan's arrays in place, then hands them over closed."""
        spec = one(DEALS, 120, splits={"company": Split(strategy=Equal())})
        plan = cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))
        with pytest.raises(ValueError, match="read-only"):
            plan.values[0, 1, 0] = 7
        with pytest.raises(ValueError, match="read-only"):
            plan.origins[0, 1, 0] = 0
        assert plan.quanta("east", "FY2027", "deals") == 40

    def test_time_first_even_split(self) -> None:
        """120 deals, even months, equal regions: 10 a month at the company, 5 each per region."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region"},
                {"id": "west", "parent": "acme", "level": "region"},
            ]
        )
        plan = cascade(
            one(DEALS, 120, splits={"company": Split(strategy=Equal())}),
            tree,
            FiscalCalendar(fiscal_year=2027),
        )
        assert plan.quanta("acme", "FY2027-M05", "deals") == 10
        assert plan.quanta("west", "FY2027-M05", "deals") == 5
        assert plan.quanta("west", "FY2027-Q2", "deals") == 15
        assert plan.origin_of("west", "FY2027-Q2", "deals") is Origin.ROLLED_UP
        assert plan.origin_of("west", "FY2027-M02", "deals") is Origin.ALLOCATED

    def test_seasonal_quarters(self) -> None:
        """A quarterly profile 1:1:1:2 of 100 deals gives 20, 20, 20, 40."""
        tree = OrgTree.from_records([{"id": "solo", "level": "company"}])
        plan = cascade(
            one(DEALS, 100, time=Seasonal(profile=(1, 1, 1, 2))),
            tree,
            FiscalCalendar(fiscal_year=2027),
        )
        assert [plan.quanta("solo", f"FY2027-Q{q}", "deals") for q in range(1, 5)] == [
            20,
            20,
            20,
            40,
        ]

    def test_capacity_new_hire_gets_nothing_before_start(self) -> None:
        """A rep hired on 1 July carries no deals before July."""
        tree = team(
            {"id": "old", "fte": 1.0, "start_date": "2020-01-01"},
            {"id": "new", "fte": 1.0, "start_date": "2027-07-01"},
        )
        plan = cascade(
            one(DEALS, 240, splits={"team": Split(strategy=CapacityWeighted())}),
            tree,
            FiscalCalendar(fiscal_year=2027),
        )
        assert plan.quanta("new", "FY2027-Q1", "deals") == 0
        assert plan.quanta("new", "FY2027-Q2", "deals") == 0
        # July: 20 deals, capacities 1 (old) and 0.25 (new, first month of the ramp) -> 16 and 4
        assert plan.quanta("new", "FY2027-M07", "deals") == 4
        assert plan.quanta("old", "FY2027-M07", "deals") == 16
        assert check(plan).ok

    def test_over_assignment(self) -> None:
        """Teams over-assigned by 10 %: 100 deals a year give the people 110."""
        tree = team({"id": "a"}, {"id": "b"})
        plan = cascade(
            one(DEALS, 100, splits={"team": Split(strategy=Equal(), hedge="0.1")}),
            tree,
            FiscalCalendar(fiscal_year=2027),
        )
        assert plan.quanta("a", "FY2027", "deals") + plan.quanta("b", "FY2027", "deals") == 110
        assert plan.hedge("team") == Decimal("0.1")
        assert check(plan).ok

    def test_absolute_cap(self) -> None:
        """A cap of 30 per person-month pushes the rest to the others."""
        tree = team(
            {"id": "a", "potential": 8}, {"id": "b", "potential": 1}, {"id": "c", "potential": 1}
        )
        spec = one(
            DEALS,
            600,
            splits={
                "team": Split(
                    strategy=Proportional(attribute="potential"),
                    bounds=AbsoluteBounds(cap=30, per="month"),
                )
            },
        )
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        # 50 a month: a would get 40 but is capped at 30; b and c share the other 20 equally
        assert plan.quanta("a", "FY2027-M01", "deals") == 30
        assert plan.quanta("b", "FY2027-M01", "deals") == 10
        assert check(plan).ok

    def test_demo_company_all_modes(self) -> None:
        """The demo company cascades in each mode and every plan checks ok."""
        company = demo_company()
        for mode in Mode:
            spec = one(
                company.metrics[0],
                "6500 wan CNY",
                mode=mode.value,
                splits={
                    "company": Split(strategy=ProportionOfAverages()),
                    "region": Split(strategy=ProportionOfAverages(fallback=Equal())),
                    "team": Split(strategy=CapacityWeighted()),
                },
                time=HistoricalSeasonality(),
            )
            plan = cascade(spec, company.tree, company.calendar, history=company.history)
            report = check(plan)
            assert report.ok, (mode, str(report))
            assert plan.quanta("acme", "FY2027", "revenue") == 65_000_000_00


class TestDefaultLevels:
    def test_company_of_people_cascades_with_the_defaults(self) -> None:
        """#12: company > individual needs no custom levels; 1,000.00 CNY over three equal people
        is 333.34 + 333.33 + 333.33 (the leftover cent to the first in input order)."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                *({"id": n, "parent": "acme", "level": "individual"} for n in ("ann", "bob", "cy")),
            ]
        )
        spec = one(
            REVENUE, "1000 CNY", mode="org_first", splits={"company": Split(strategy=Equal())}
        )
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        assert [plan.quanta(n, "FY2027", "revenue") for n in ("ann", "bob", "cy")] == [
            33334,
            33333,
            33333,
        ]
        assert check(plan).ok

    @pytest.mark.parametrize("mode", ["org_first", "time_first"])
    def test_uneven_depth_with_the_defaults(self, mode: str) -> None:
        """A company holding one team and one person directly cascades and checks ok."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "t", "parent": "acme", "level": "team"},
                {"id": "ann", "parent": "t", "level": "individual"},
                {"id": "bob", "parent": "t", "level": "individual"},
                {"id": "cy", "parent": "acme", "level": "individual"},
            ]
        )
        splits = {"company": Split(strategy=Equal()), "team": Split(strategy=Equal())}
        plan = cascade(
            one(DEALS, 120, mode=mode, splits=splits), tree, FiscalCalendar(fiscal_year=2027)
        )
        # 120 deals: t and cy 60 each; ann and bob 30 each
        assert [plan.quanta(n, "FY2027", "deals") for n in ("t", "cy", "ann", "bob")] == [
            60,
            60,
            30,
            30,
        ]
        assert check(plan).ok


class TestInfeasible:
    def test_missing_split(self) -> None:
        """A level with children and no split is named."""
        with pytest.raises(
            SpecError, match=r"no split for the children of level\(s\) \['company'\]"
        ):
            cascade(one(DEALS, 10), regions(), FiscalCalendar(fiscal_year=2027))

    def test_history_needed(self) -> None:
        """A history strategy without history is refused before any work."""
        spec = one(DEALS, 10, splits={"company": Split(strategy=ProportionOfAverages())})
        with pytest.raises(SpecError, match="need history"):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_lock_above_parent(self) -> None:
        """Locks summing above the parent raise, naming parent, period and child."""
        spec = one(
            DEALS,
            12,
            mode="org_first",
            splits={"company": Split(strategy=Equal())},
            locks=[Lock(node="east", period="FY2027", value=13)],
        )
        with pytest.raises(InfeasibleAllocationError) as info:
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))
        message = str(info.value)
        assert "acme" in message
        assert "FY2027" in message
        assert "east" in message

    def test_floors_above_parent(self) -> None:
        """Floors that cannot fit raise, naming the parent."""
        spec = one(
            DEALS,
            12,
            splits={
                "company": Split(strategy=Equal(), bounds=AbsoluteBounds(floor=1, per="month"))
            },
        )
        with pytest.raises(InfeasibleAllocationError, match="acme"):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_caps_below_parent(self) -> None:
        """Caps that cannot hold the parent raise, naming the parent."""
        spec = one(
            DEALS,
            1200,
            splits={"company": Split(strategy=Equal(), bounds=AbsoluteBounds(cap=5, per="month"))},
        )
        with pytest.raises(InfeasibleAllocationError, match="acme"):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_all_zero_weights(self) -> None:
        """All-zero weights under a non-zero parent raise instead of dividing by zero."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "a", "parent": "acme", "level": "region", "potential": 0},
                {"id": "b", "parent": "acme", "level": "region", "potential": 0},
            ]
        )
        spec = one(
            DEALS, 10, splits={"company": Split(strategy=Proportional(attribute="potential"))}
        )
        with pytest.raises(InfeasibleAllocationError, match="acme"):
            cascade(spec, tree, FiscalCalendar(fiscal_year=2027))

    def test_lock_on_root(self) -> None:
        """The root carries the target and cannot be locked."""
        spec = one(
            DEALS,
            10,
            splits={"company": Split(strategy=Equal())},
            locks=[Lock(node="acme", period="FY2027-Q1", value=1)],
        )
        with pytest.raises(SpecError, match="lock on the root 'acme'"):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_locked_in_a_year_and_one_of_its_months(self) -> None:
        """time_first phases a year lock over the months: a month lock too is a contradiction."""
        spec = one(
            DEALS,
            120,
            splits={"company": Split(strategy=Equal())},
            locks=[
                Lock(node="east", period="FY2027", value=30),
                Lock(node="east", period="FY2027-M03", value=1),
            ],
        )
        with pytest.raises(SpecError, match="'east' is locked both in FY2027 and in FY2027-M03"):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_lock_unknown_period(self) -> None:
        """A lock in another year names the label."""
        spec = one(
            DEALS,
            10,
            splits={"company": Split(strategy=Equal())},
            locks=[Lock(node="east", period="FY2029-Q1", value=1)],
        )
        with pytest.raises(PeriodError, match="FY2029-Q1"):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_lock_unknown_node(self) -> None:
        """A lock on an unknown node is named by cascade; a node that is not text, by Lock."""
        spec = one(
            DEALS,
            10,
            splits={"company": Split(strategy=Equal())},
            locks=[Lock(node="east", period="FY2027", value=1),
                   Lock(node="south", period="FY2027-Q1", value=1)],
        )  # fmt: skip
        with pytest.raises(SpecError, match=re.escape("lock on unknown node 'south'")) as info:
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))
        assert info.value.node == "south"
        for node in (7, ["east"]):
            with pytest.raises(SpecError, match=re.escape(f"lock node {node!r}")):
                Lock(node=node, period="FY2027-Q1", value=1)  # type: ignore[arg-type]

    def test_lock_problems_are_reported_in_lock_order(self) -> None:
        """Of an unknown node and an unknown period, the error names whichever lock comes first."""
        bad_node = Lock(node="south", period="FY2027", value=1)
        bad_period = Lock(node="east", period="FY2029-Q1", value=1)
        for locks, error in (
            ([bad_node, bad_period], SpecError),
            ([bad_period, bad_node], PeriodError),
        ):
            spec = one(DEALS, 10, splits={"company": Split(strategy=Equal())}, locks=locks)
            with pytest.raises(error):
                cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_lock_on_a_derived_cell_in_org_first(self) -> None:
        """org_first derives an inner node's months from its children: a lock there that the sums
        do not meet is refused by name, while the other lock (a team's year) holds."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region"},
                {"id": "e1", "parent": "east", "level": "team"},
                {"id": "e2", "parent": "east", "level": "team"},
                {"id": "west", "parent": "acme", "level": "region"},
            ]
        )
        spec = one(
            DEALS,
            120,
            mode="org_first",
            splits={"company": Split(strategy=Equal()), "region": Split(strategy=Equal())},
            locks=[Lock(node="e1", period="FY2027", value=30),
                   Lock(node="east", period="FY2027-M03", value=7)],
        )  # fmt: skip
        with pytest.raises(
            SpecError, match="lock 'east' FY2027-M03 = 7 deal cannot be kept"
        ) as info:
            cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        assert (info.value.node, info.value.period) == ("east", "FY2027-M03")

    def test_hedge_in_org_first(self) -> None:
        """Over-assignment needs a fixed parent phasing; org_first refuses it."""
        spec = one(
            DEALS,
            10,
            mode="org_first",
            splits={"company": Split(strategy=Equal(), hedge="0.1")},
        )
        with pytest.raises(SpecError, match="org_first"):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_ratio_metric_refused(self) -> None:
        """Ratio metrics are not cascaded."""
        margin = Metric(name="m", unit="percent", rollup="ratio", numerator="p", denominator="r")
        with pytest.raises(SpecError, match="only sum metrics"):
            MetricCascade(metric=margin, target=1)


class TestSpecSerialisation:
    def test_json_round_trip_reruns_byte_for_byte(self) -> None:
        """A spec stored as JSON and read back gives the identical plan."""
        company = demo_company()
        spec = CascadeSpec(
            metrics=[
                MetricCascade(
                    metric=company.metrics[0],
                    target="6500 wan CNY",
                    time=HistoricalSeasonality(),
                    splits={
                        "company": Split(strategy=ProportionOfAverages()),
                        "region": Split(
                            strategy=Equal(), bounds=RelativeBounds(floor="0.5", cap="3")
                        ),
                        "team": Split(strategy=CapacityWeighted(), hedge="0.05"),
                    },
                    locks=[Lock(node="east-1-1", period="FY2027", value="150 wan CNY")],
                ),
                MetricCascade(
                    metric=company.metrics[1],
                    target=1500,
                    mode="org_first",
                    splits={lvl: Split(strategy=Equal()) for lvl in ("company", "region", "team")},
                ),
            ]
        )
        text = spec.to_json()
        again = CascadeSpec.from_json(text)
        assert again == spec
        assert json.loads(again.to_json()) == json.loads(text)
        first = cascade(spec, company.tree, company.calendar, history=company.history)
        second = cascade(again, company.tree, company.calendar, history=company.history)
        assert first.values.tobytes() == second.values.tobytes()
        assert first.origins.tobytes() == second.origins.tobytes()

    def test_unknown_schema(self) -> None:
        """An unknown spec schema version is refused."""
        with pytest.raises(SerializationError, match="schema version 7"):
            CascadeSpec.from_dict({"schema_version": 7, "metrics": []})


def _spec_json(**changes: object) -> dict[str, object]:
    """The JSON dict of a one-metric spec (a lock on east, a hedged split), for tampering with."""
    spec = one(
        REVENUE,
        "1000 CNY",
        splits={"company": Split(strategy=Equal(), hedge="0.05")},
        locks=[Lock(node="east", period="FY2027", value="700 CNY")],
        **changes,
    )
    data: dict[str, object] = json.loads(spec.to_json())
    return data


def _metric_json(data: dict[str, object]) -> dict[str, Any]:
    metrics = data["metrics"]
    assert isinstance(metrics, list)
    first: dict[str, Any] = metrics[0]
    return first


def _outcome(spec: CascadeSpec, tree: OrgTree) -> tuple[str, ...]:
    """The plan's bytes, or the error's type and message: what a re-run must reproduce."""
    try:
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
    except TargetCascadeError as exc:
        return (type(exc).__name__, str(exc))
    return (plan.values.tobytes().hex(), plan.origins.tobytes().hex())


FIXTURES = pathlib.Path(__file__).parent / "fixtures"


class TestSpecDoors:
    def test_typo_lcoks_is_refused_by_key_path(self) -> None:
        """A misspelt "locks" key is refused naming its path and "locks", not silently dropped."""
        data = _spec_json()
        plan = cascade(CascadeSpec.from_dict(data), regions(), FiscalCalendar(fiscal_year=2027))
        assert plan.quanta("east", "FY2027", "revenue") == 70_000  # the lock holds: 700.00 CNY
        _metric_json(data)["lcoks"] = _metric_json(data).pop("locks")
        with pytest.raises(
            SpecError, match=re.escape("'metrics[0].lcoks' (did you mean 'locks'?)")
        ):
            CascadeSpec.from_json(json.dumps(data))

    def test_typo_hegde_is_refused_by_key_path(self) -> None:
        """A misspelt hedge is refused naming metrics[0].splits.company.hegde and "hedge"."""
        data = _spec_json()
        split = _metric_json(data)["splits"]["company"]
        split["hegde"] = split.pop("hedge")
        with pytest.raises(SpecError) as info:
            CascadeSpec.from_json(json.dumps(data))
        assert "'metrics[0].splits.company.hegde' (did you mean 'hedge'?)" in str(info.value)

    @pytest.mark.parametrize(
        ("path", "value", "named"),
        [
            (("splits",), [{"strategy": {"strategy": "equal"}}], "'metrics[0].splits' must be"),
            (("splits", "company", "bounds"), "cap", "metrics[0].splits.company.bounds must be"),
            (("locks",), {"node": "east"}, "'metrics[0].locks' must be a list"),
            (("locks", 0), ["east", "FY2027", 1], "metrics[0].locks[0] must be an object"),
            (("metric",), "revenue", "metrics[0].metric must be an object"),
            (("overrides",), ["east"], "'metrics[0].overrides' must be an object"),
            (("splits", "company", "rounding"), 3, "'metrics[0].splits.company.rounding' is"),
            (("mode",), "sideways", "metrics[0].mode: mode 'sideways'"),
        ],
    )
    def test_wrong_types_name_the_key_path(
        self, path: tuple[str | int, ...], value: object, named: str
    ) -> None:
        """A value of the wrong kind is a SpecError naming its key path, never an AttributeError."""
        data = _spec_json()
        parent: Any = _metric_json(data)
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
        with pytest.raises(SpecError, match=re.escape(named)):
            CascadeSpec.from_json(json.dumps(data))

    @pytest.mark.parametrize("text", ["[1]", '"spec"', "3", "null"])
    def test_spec_that_is_no_object(self, text: str) -> None:
        """A JSON document that is not an object is a SpecError saying what it is."""
        with pytest.raises(SpecError, match="the cascade spec must be an object"):
            CascadeSpec.from_json(text)

    def test_keys_come_from_the_fields(self) -> None:
        """Each spec object writes exactly its attrs fields, the keys its reader accepts."""
        split = Split(strategy=Equal(), bounds=AbsoluteBounds(cap=5, per="month"))
        item = MetricCascade(metric=DEALS, target=5, splits={"company": split})
        for obj, extra in [
            (split, set()),
            (split.bounds, {"type"}),
            (RelativeBounds(cap=2), {"type"}),
            (Lock(node="a", period="FY2027", value=1), set()),
            (item, set()),
            (CascadeSpec(metrics=[item]), {"schema_version"}),
        ]:
            # "derived" is written only when a spec has derived metrics, so old files stay the same
            written = set(obj.to_dict()) | ({"derived"} if isinstance(obj, CascadeSpec) else set())
            assert written == {f.name for f in attrs.fields(type(obj))} | extra

    def test_not_json(self) -> None:
        """Text that is not JSON is a SpecError naming the line and column."""
        with pytest.raises(SpecError, match=r"not JSON: .* line 1 column 2"):
            CascadeSpec.from_json("{nope")

    def test_deep_nesting_is_refused_by_its_limit(self) -> None:
        """JSON nested past 64 levels is a SpecError naming the limit, not a RecursionError."""
        with pytest.raises(SpecError, match="more than 64"):
            CascadeSpec.from_json("[" * 100_000 + "]" * 100_000)
        deep: list[object] = []
        for _ in range(70):
            deep = [deep]
        data = _spec_json()
        _metric_json(data)["time"] = {"strategy": "even", "x": deep}
        with pytest.raises(SpecError, match="more than 64"):
            CascadeSpec.from_dict(data)

    def test_strategy_errors_name_their_path(self) -> None:
        """A strategy that cannot be read keeps its error type and names where it is in the spec."""
        data = _spec_json()
        _metric_json(data)["splits"]["company"]["strategy"] = {"strategy": "equl"}
        with pytest.raises(StrategyError, match=re.escape("metrics[0].splits.company.strategy:")):
            CascadeSpec.from_json(json.dumps(data))


class TestSpecFloats:
    def test_float_target_round_trips(self) -> None:
        """target=0.1+0.2 CNY is 30 quanta, stored and written as 0.30, and reads back the same."""
        spec = one(REVENUE, 0.1 + 0.2, splits={"company": Split(strategy=Equal())})
        assert spec.metrics[0].target == Decimal("0.30")
        text = spec.to_json()
        assert '"target": "0.30"' in text
        again = CascadeSpec.from_json(text)
        assert again == spec
        tree = regions()
        plan = cascade(again, tree, FiscalCalendar(fiscal_year=2027))
        assert plan.quanta("acme", "FY2027", "revenue") == 30
        assert _outcome(again, tree) == _outcome(spec, tree)

    def test_float_locks_and_bounds_are_stored_exactly(self) -> None:
        """Float locks and absolute bounds are stored as the Decimal of their quanta."""
        item = MetricCascade(
            metric=REVENUE,
            target=1000,
            splits={
                "company": Split(
                    strategy=Equal(), bounds=AbsoluteBounds(cap=0.7 + 0.1, per="month")
                )
            },
            locks=[Lock(node="east", period="FY2027", value=1.1 + 2.2)],
        )
        assert item.locks[0].value == Decimal("3.30")
        bounds = item.splits["company"].bounds
        assert isinstance(bounds, AbsoluteBounds)
        assert bounds.cap == Decimal("0.80")
        assert MetricCascade.from_dict(json.loads(json.dumps(item.to_dict()))) == item

    def test_float_off_the_quantum_is_refused(self) -> None:
        """A float that is not within 4 ulps of a whole cent is refused when the spec is made."""
        with pytest.raises(QuantumError, match=re.escape("'revenue' target: 0.125")):
            MetricCascade(metric=REVENUE, target=0.125)
        with pytest.raises(QuantumError, match="lock on 'east' FY2027"):
            MetricCascade(
                metric=REVENUE, target=1, locks=[Lock(node="east", period="FY2027", value=0.001)]
            )

    def test_dimensionless_floats_are_their_shortest_repr(self) -> None:
        """A float hedge or bound factor is the decimal it prints as, and writes back as that."""
        split = Split(strategy=Equal(), hedge=1 / 30, bounds=RelativeBounds(floor=1 / 3))
        assert split.hedge == Fraction("0.03333333333333333")
        assert isinstance(split.bounds, RelativeBounds)
        assert split.bounds.floor == Fraction("0.3333333333333333")
        assert Split.from_dict(json.loads(json.dumps(split.to_dict()))) == split

    @pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, "inf", Decimal("NaN")])
    def test_non_finite_factors_are_spec_errors(self, bad: object) -> None:
        """An infinite or NaN hedge or relative bound is a SpecError, not an OverflowError."""
        with pytest.raises(SpecError, match="hedge"):
            Split(strategy=Equal(), hedge=bad)
        with pytest.raises(SpecError, match="relative bound"):
            RelativeBounds(cap=bad)

    def test_many_digits_are_refused_quickly(self) -> None:
        """A factor of a billion digits is refused by the 100-digit limit, without building it."""
        with pytest.raises(SpecError, match="100 digits"):
            RelativeBounds(cap="1e999999999")
        with pytest.raises(SpecError, match="100 digits"):
            Split(strategy=Equal(), hedge=Fraction(1, 10**150))

    @given(
        quantum=st.sampled_from(["0.01", "1", "1000"]),
        target=st.integers(0, 10**9),
        form=st.sampled_from(["int", "float", "decimal", "text"]),
        # floats of a few decimals: a hedge of 17 significant digits overflows the engine's int64
        # hedged totals (issue 21 item 1, fixed in the engine, not here)
        hedge=st.one_of(
            st.integers(0, 5000).map(lambda k: k / 10_000),
            st.fractions(0, 1, max_denominator=1000),
            st.just("0.05"),
        ),
        cap=st.one_of(st.none(), st.integers(0, 10**8)),
        lock=st.one_of(st.none(), st.integers(0, 10**8)),
        mode=st.sampled_from(list(Mode)),
    )
    def test_accepted_specs_round_trip(
        self,
        quantum: str,
        target: int,
        form: str,
        hedge: object,
        cap: int | None,
        lock: int | None,
        mode: Mode,
    ) -> None:
        """Every accepted spec reads back from its JSON equal, and cascades to the same plan."""
        metric = Metric(name="revenue", unit="CNY", quantum=quantum)
        step = Decimal(quantum)

        def amount(quanta: int) -> object:
            exact = quanta * step
            if form == "float":
                return float(exact)
            if form == "decimal":
                return exact
            if form == "text":
                return f"{exact} CNY"
            return int(exact) if exact == int(exact) else exact

        per = "month" if mode is Mode.TIME_FIRST else "year"
        try:
            spec = one(
                metric,
                amount(target),
                mode=mode.value,
                splits={
                    "company": Split(
                        strategy=Proportional(attribute="potential"),
                        hedge=hedge,
                        bounds=None if cap is None else AbsoluteBounds(cap=amount(cap), per=per),
                    )
                },
                locks=[]
                if lock is None
                else [Lock(node="west", period="FY2027", value=amount(lock))],
            )
        except TargetCascadeError:
            assume(False)
            raise
        text = spec.to_json()
        again = CascadeSpec.from_json(text)
        assert again == spec
        assert again.to_json() == text
        tree = regions()
        assert _outcome(again, tree) == _outcome(spec, tree)


class TestBoundsPeriod:
    def test_per_is_required(self) -> None:
        """Absolute bounds say which period they are for: per= has no default."""
        with pytest.raises(TypeError, match="per"):
            AbsoluteBounds(cap=5)  # type: ignore[call-arg]

    def test_per_quarter_is_refused(self) -> None:
        """No mode splits quarters, so bounds per quarter are refused naming the periods that work."""
        with pytest.raises(
            SpecError, match=re.escape("per='month' (time_first mode) or per='year'")
        ):
            AbsoluteBounds(cap=5, per="quarter")

    @pytest.mark.parametrize(
        ("mode", "per", "supported"),
        [
            ("org_first", "month", "mode='time_first'"),
            ("balanced", "month", "mode='time_first'"),
            ("time_first", "year", "mode='org_first' or 'balanced'"),
        ],
    )
    def test_per_the_mode_does_not_split(self, mode: str, per: str, supported: str) -> None:
        """Bounds per a period the mode does not split are refused, naming the mode that does."""
        with pytest.raises(SpecError, match=re.escape(supported)) as info:
            MetricCascade(
                metric=DEALS,
                target=70,
                mode=mode,
                splits={"company": Split(strategy=Equal(), bounds=AbsoluteBounds(cap=5, per=per))},
            )
        assert f"per {per}" in str(info.value)

    def test_infeasible_bounds_say_per_month(self) -> None:
        """A cap that cannot hold a month's share says the cap is per month, in the metric's unit."""
        spec = one(
            REVENUE,
            "1200 CNY",  # 100.00 CNY a month for three regions
            splits={
                "company": Split(strategy=Equal(), bounds=AbsoluteBounds(cap="30 CNY", per="month"))
            },
        )
        with pytest.raises(
            InfeasibleAllocationError, match=re.escape("cap 30.00 CNY) are per month")
        ):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))

    def test_version_1_file_reads_per_from_the_mode(self) -> None:
        """A spec file of schema version 1 reads its bounds as per month (time_first) / per year."""
        text = (FIXTURES / "cascade_spec_v1.json").read_text()
        assert json.loads(text)["schema_version"] == 1
        spec = CascadeSpec.from_json(text)
        revenue, deals = spec.metrics
        assert revenue.splits["company"].bounds == AbsoluteBounds(cap="420 CNY", per="month")
        assert deals.splits["company"].bounds == AbsoluteBounds(floor="15", per="year")
        plan = cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))
        # 12,000.00 CNY x 1.05 = 1,050.00 a month; north and east (3:3:1) are capped at 420.00
        # a month and west takes the other 210.00
        assert [plan.quanta(r, "FY2027-M05", "revenue") for r in ("north", "east", "west")] == [
            42_000,
            42_000,
            21_000,
        ]
        # 70 deals, north locked at 40: east and west split 30 as 22.5 : 7.5; west's floor is 15
        assert [plan.quanta(r, "FY2027", "deals") for r in ("north", "east", "west")] == [
            40,
            15,
            15,
        ]
        assert CascadeSpec.from_json(spec.to_json()) == spec
        assert json.loads(spec.to_json())["schema_version"] == SPEC_SCHEMA_VERSION == 2

    def test_version_2_needs_per(self) -> None:
        """A spec of schema version 2 without per in its absolute bounds names the missing key."""
        data = json.loads((FIXTURES / "cascade_spec_v1.json").read_text())
        data["schema_version"] = 2
        with pytest.raises(SpecError, match=re.escape("'metrics[0].splits.company.bounds.per'")):
            CascadeSpec.from_dict(data)


# ---------------------------------------------------------------------- properties


Setup = tuple[OrgTree, FiscalCalendar, CascadeSpec, list[Plan]]


@st.composite
def setups(draw: st.DrawFn) -> Setup:
    """A random tree, calendar, history, strategies per level, mode and maybe over-assignment."""
    tree = draw(org_trees(max_nodes=25))
    calendar = draw(calendars(fiscal_years=st.integers(2001, 2060)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    leaves = int(tree.compiled.is_leaf.sum())
    past = calendar.previous()
    history = Plan.from_leaf_arrays(
        tree,
        past,
        [REVENUE],
        {"revenue": rng.integers(1, 10**7, size=(leaves, 12))},
        kind="history",
    )
    mode = draw(st.sampled_from(Mode))
    org_choices = [Equal(), ProportionOfAverages(fallback=Equal()), CapacityWeighted()]
    splits = {}
    for level in INNER:
        strategy = draw(st.sampled_from(org_choices))
        hedge = (
            draw(st.sampled_from(["0", "0", "0.05", "0.1"])) if mode is not Mode.ORG_FIRST else "0"
        )
        splits[level] = Split(strategy=strategy, hedge=hedge)
    time = draw(st.sampled_from([Even(), HistoricalSeasonality(), Seasonal(profile=(1, 2, 3, 4))]))
    target = draw(st.integers(0, 10**11))
    spec = one(REVENUE, Decimal(target) / 100, splits=splits, time=time, mode=mode)
    return tree, calendar, spec, [history]


def _run(setup: Setup) -> Plan | None:
    tree, calendar, spec, history = setup
    try:
        return cascade(spec, tree, calendar, history=history)
    except InfeasibleAllocationError:
        # capacity can be zero for a whole team (everyone left, or not yet started): a loud error
        return None


@given(setups())
def test_cascade_is_exact_and_checks_ok(
    setup: Setup,
) -> None:
    """Every cascade adds up along the org and time, non-negative, with its target at the root."""
    plan = _run(setup)
    assume(plan is not None)
    assert plan is not None
    report = check(plan, max_violations=5)
    assert report.ok, str(report)
    assert (plan.values >= 0).all()
    target = setup[2].metrics[0].metric.to_quanta(setup[2].metrics[0].target)
    assert plan.quanta(plan.tree.root, plan.calendar.periods[0].label, "revenue") == target


@given(setups())
def test_cascade_is_deterministic(
    setup: Setup,
) -> None:
    """The same inputs give the same plan, byte for byte."""
    first = _run(setup)
    assume(first is not None)
    second = _run(setup)
    assert first is not None
    assert second is not None
    assert first.values.tobytes() == second.values.tobytes()
    assert first.origins.tobytes() == second.origins.tobytes()


@given(setups(), st.data())
def test_locks_are_kept(setup: Setup, data: st.DataObject) -> None:
    """Locking a child at half its unlocked value keeps the lock and still checks ok."""
    tree, calendar, spec, history = setup
    free = _run(setup)
    assume(free is not None and len(tree) > 1)
    assert free is not None
    node = data.draw(st.sampled_from([n for n in tree if n != tree.root]))
    item = spec.metrics[0]
    period = (
        f"FY{calendar.fiscal_year}"
        if item.mode is not Mode.TIME_FIRST
        else data.draw(
            st.sampled_from([p.label for p in calendar.periods if p.level.name == "MONTH"])
        )
    )
    if item.mode is Mode.BALANCED:
        period = calendar.periods[0].label
    value = (free.quanta(node, period, "revenue") or 0) // 2
    locked_spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=item.metric,
                target=item.target,
                splits=item.splits,
                time=item.time,
                mode=item.mode,
                locks=[Lock(node=node, period=period, value=REVENUE.from_quanta(value))],
            )
        ]
    )
    try:
        plan = cascade(locked_spec, tree, calendar, history=history)
    except InfeasibleAllocationError:
        return  # e.g. the siblings all have zero weight; the error is the loud answer
    assert plan.quanta(node, period, "revenue") == value
    assert check(plan, max_violations=5).ok


@given(st.integers(2, 6), st.integers(0, 2**32 - 1), st.integers(1, 10**9))
def test_permuting_siblings_permutes_the_result(n: int, seed: int, target: int) -> None:
    """Reordering children gives every child the same value (distinct weights, no ties)."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i}" for i in range(n)]
    order = rng.permutation(n)
    shares = {c: int(v) for c, v in zip(ids, rng.integers(1, 10**6, size=n), strict=True)}
    records = [{"id": "p", "level": "company"}]
    tree_a = OrgTree.from_records(
        records + [{"id": c, "parent": "p", "level": "region"} for c in ids]
    )
    tree_b = OrgTree.from_records(
        records + [{"id": ids[i], "parent": "p", "level": "region"} for i in order]
    )
    spec = one(
        REVENUE,
        Decimal(target) / 100,
        mode="org_first",
        splits={"company": Split(strategy=ProportionOfAverages())},
    )
    year = FiscalCalendar(fiscal_year=2027)
    plan_a = cascade(
        spec, tree_a, year, history=[history_for(tree_a, {c: 12 * shares[c] for c in ids})]
    )
    plan_b = cascade(
        spec, tree_b, year, history=[history_for(tree_b, {c: 12 * shares[c] for c in ids})]
    )
    for c in ids:
        assert plan_a.quanta(c, "FY2027", "revenue") == plan_b.quanta(c, "FY2027", "revenue")


@given(st.integers(0, 2**32 - 1))
def test_relative_bounds_are_honoured(seed: int) -> None:
    """With last year's shape and target, every child stays within 80 %..125 % of last year."""
    rng = np.random.default_rng(seed)
    tree = OrgTree.from_records(
        [{"id": "acme", "level": "company"}]
        + [{"id": f"r{i}", "parent": "acme", "level": "region"} for i in range(5)]
    )
    last = history_for(tree, {f"r{i}": int(rng.integers(12, 10**6)) * 12 for i in range(5)})
    target = REVENUE.from_quanta(int(last.quanta("acme", "FY2026", "revenue")))
    spec = one(
        REVENUE,
        target,
        mode="org_first",
        splits={"company": Split(strategy=Equal(), bounds=RelativeBounds(floor="0.8", cap="1.25"))},
    )
    plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027), history=[last])
    for i in range(5):
        got = plan.quanta(f"r{i}", "FY2027", "revenue")
        ref = last.quanta(f"r{i}", "FY2026", "revenue")
        assert got is not None
        assert ref is not None
        assert np.ceil(ref * 0.8) <= got <= np.floor(ref * 1.25)
    assert check(plan).ok


class TestDivisorRounding:
    def test_webster_split_in_a_cascade(self) -> None:
        """Webster rounding on the Alabama weights gives the hand-computed seats and checks ok."""
        ids = ["a", "b", "c", "d", "e", "f"]
        weights = [1500, 1500, 900, 500, 500, 200]
        tree = OrgTree.from_records(
            [{"id": "acme", "level": "company"}]
            + [
                {"id": i, "parent": "acme", "level": "region", "potential": w}
                for i, w in zip(ids, weights, strict=True)
            ]
        )
        spec = one(
            DEALS,
            26,
            mode="org_first",
            splits={
                "company": Split(strategy=Proportional(attribute="potential"), rounding=Webster())
            },
        )
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        # one quantum at a time to the largest w / (s + 1/2): see docs/cascade.md
        assert [plan.quanta(i, "FY2027", "deals") for i in ids] == [8, 8, 5, 2, 2, 1]
        assert check(plan).ok
        assert CascadeSpec.from_json(spec.to_json()) == spec

    def test_bounds_refused_with_divisor(self) -> None:
        """Floors and caps need largest remainder; asking for both is a spec error."""
        with pytest.raises(SpecError, match="largest-remainder"):
            Split(strategy=Equal(), rounding=Webster(), bounds=AbsoluteBounds(cap=1, per="month"))


class TestLocksAndBounds:
    @staticmethod
    def locked_team(*locks: Lock) -> tuple[OrgTree, CascadeSpec]:
        """People a, b, c sharing 36 deals equally, with the given locks."""
        tree = team({"id": "a"}, {"id": "b"}, {"id": "c"})
        return tree, one(DEALS, 36, splits={"team": Split(strategy=Equal())}, locks=list(locks))

    def test_two_locks_on_one_cell_are_refused(self) -> None:
        """Locking the same person and period twice is a spec error naming both."""
        tree, spec = self.locked_team(
            Lock(node="b", period="FY2027-Q1", value=2),
            Lock(node="a", period="FY2027", value=2),
            Lock(node="b", period="FY2027-Q1", value=3),
        )
        with pytest.raises(SpecError, match="two locks on 'b' FY2027-Q1") as info:
            cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        assert info.value.node == "b"

    def test_a_duplicate_lock_is_named_before_a_later_bad_value(self) -> None:
        """Lock values are converted in one batch; when one is refused, the locks are taken again
        one by one, so the first problem in lock order is the one raised."""
        half = Lock(node="c", period="FY2027-Q1", value=Decimal("0.5"))
        tree, spec = self.locked_team(
            Lock(node="b", period="FY2027-Q1", value=2),
            Lock(node="b", period="FY2027-Q1", value=3),
            half,
        )
        with pytest.raises(SpecError, match="two locks on 'b' FY2027-Q1"):
            cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        tree, spec = self.locked_team(half)
        with pytest.raises(QuantumError, match=r"0\.5"):
            cascade(spec, tree, FiscalCalendar(fiscal_year=2027))

    def test_lock_overrides_bounds(self) -> None:
        """A lock below the level's floor is kept; the siblings still respect their bounds."""
        tree = team({"id": "a"}, {"id": "b"}, {"id": "c"})
        spec = one(
            DEALS,
            36,
            mode="org_first",
            splits={
                "team": Split(strategy=Equal(), bounds=AbsoluteBounds(floor=10, cap=20, per="year"))
            },
            locks=[Lock(node="a", period="FY2027", value=2)],
        )
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        # a keeps 2 although the floor is 10; b and c share 34 equally, inside [10, 20]
        assert [plan.quanta(n, "FY2027", "deals") for n in "abc"] == [2, 17, 17]
        assert check(plan).ok


# ------------------------------------------------------------------- the lean carried split


@st.composite
def _carried_inputs(draw):
    sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=5))
    months = draw(st.integers(1, 12))
    n = sum(sizes)
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    # small sets of repeated weights make ties (equal shares, equal remainders) common
    weight = st.one_of(
        st.just(0.0),
        st.floats(0.001, 1000.0, allow_nan=False),
        st.sampled_from([0.5, 1.0, 1.0, 2.0, 3.0]),
    )
    weights = np.array(draw(st.lists(weight, min_size=n * months, max_size=n * months)))
    weights = weights.reshape(n, months)
    totals = np.array(
        draw(st.lists(st.integers(0, 10**9), min_size=len(sizes) * months,
                      max_size=len(sizes) * months)),
        dtype=np.int64,
    ).reshape(len(sizes), months)  # fmt: skip
    # a segment month with all-zero weights needs a zero total (else the kernel refuses it)
    for s in range(len(sizes)):
        dead = weights[offsets[s] : offsets[s + 1]].sum(axis=0) == 0
        totals[s, dead] = 0
    return totals, weights, offsets


@given(_carried_inputs(), st.integers(1, 12), st.booleans())
def test_lean_carried_split_equals_the_general_path(inputs, block_rows, int64):
    """The engine's fast path without locks or bounds gives the general path's numbers exactly,
    whatever the size of the blocks of parents it works through, and whether it ranks the
    carried quotas in int64 or (as for quotas too large for it) with the kernel's float core."""
    from functools import partial

    from targetcascade.allocation._kernel import apportion_detailed

    engine = sys.modules["targetcascade.cascade"]
    totals, weights, offsets = inputs
    split_one = partial(apportion_detailed, segment_labels=None, child_labels=None)
    labels = [f"M{j + 1:02d}" for j in range(weights.shape[1])]
    args = (split_one, totals, weights, offsets)
    kw = {"limits": engine._Limits(), "column_labels": labels}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_PLAIN_BLOCK_ROWS", block_rows)
        if not int64:
            patch.setattr(engine, "INT_LIMIT", -1.0)
        lean = engine._carried_split(*args, **kw)
    general = engine._carried_split(*args, **kw, lean=False)
    assert np.array_equal(lean.values, general.values)
    assert np.array_equal(lean.quota, general.quota)
    assert np.array_equal(lean.adjustment, general.adjustment)
    sums = np.add.reduceat(lean.values, offsets[:-1], axis=0)
    assert np.array_equal(sums, totals)


@st.composite
def _bounded_inputs(draw):
    totals, weights, offsets = draw(_carried_inputs())
    n, months = weights.shape
    # locks: a few cells, each at most its segment's total split evenly (so they usually fit)
    lock_mask = np.array(draw(st.lists(st.booleans(), min_size=n * months, max_size=n * months)))
    lock_mask = lock_mask.reshape(n, months) & draw(st.booleans())
    segment = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    share = totals[segment] // np.diff(offsets)[segment][:, None]
    locked = np.where(lock_mask, share // 2, 0).astype(np.int64)
    # floors and caps around an even share, sometimes binding, sometimes not
    lo = np.array(draw(st.lists(st.floats(0, 1.2), min_size=n * months, max_size=n * months)))
    hi = np.array(draw(st.lists(st.floats(0.8, 3), min_size=n * months, max_size=n * months)))
    floors = np.floor(share * lo.reshape(n, months)).astype(np.int64)
    caps = np.maximum(np.ceil(share * hi.reshape(n, months)).astype(np.int64), floors)
    floors = np.where(lock_mask, np.minimum(floors, locked), floors)
    caps = np.where(lock_mask, np.maximum(caps, locked), caps)
    use_floors, use_caps = draw(st.booleans()), draw(st.booleans())
    return (
        totals, weights, offsets,
        locked if lock_mask.any() else None, lock_mask if lock_mask.any() else None,
        floors if use_floors else None, caps if use_caps else None,
    )  # fmt: skip


def _labelled_split(n_parents, n_children):
    """The kernel with parents p0.. and children c0.., and the matching labels of any subset."""
    from functools import partial

    from targetcascade.allocation._kernel import apportion_detailed

    parents = [f"p{s}" for s in range(n_parents)]
    children = [f"c{i}" for i in range(n_children)]

    def relabel(groups, cells):
        return {
            "segment_labels": [parents[g] for g in groups.tolist()],
            "child_labels": [children[c] for c in cells.tolist()],
        }

    return partial(apportion_detailed, segment_labels=parents, child_labels=children), relabel


@given(_bounded_inputs())
def test_bounded_month_split_equals_the_kernel(inputs):
    """With locks, floors and caps, parents no bound can hold skip the kernel: same numbers or errors."""
    from targetcascade.cascade import _carried_split, _Limits
    from targetcascade.errors import InfeasibleAllocationError

    totals, weights, offsets, locked, mask, floors, caps = inputs
    split_one, relabel = _labelled_split(offsets.size - 1, weights.shape[0])

    labels = [f"M{j + 1:02d}" for j in range(weights.shape[1])]
    args = (split_one, totals, weights, offsets)
    kw = {"limits": _Limits(locked, mask, floors, caps), "column_labels": labels}
    try:
        general = _carried_split(*args, **kw, lean=False)
    except InfeasibleAllocationError as exc:
        expected = str(exc)
    else:
        expected = None
    if expected is not None:
        # the same error, naming the same parent and month (the kernel's wording of the detail
        # may differ: it sees only the parents it is given)
        with pytest.raises(InfeasibleAllocationError) as caught:
            _carried_split(*args, **kw, relabel=relabel)
        assert str(caught.value).split(":")[0] == expected.split(":")[0]
        return
    lean = _carried_split(*args, **kw, relabel=relabel)
    for field in ("values", "quota", "adjustment", "at_floor", "at_cap"):
        assert np.array_equal(getattr(lean, field), getattr(general, field)), field


def test_a_lock_beyond_the_size_limit_names_its_node():
    """A lock of 2**60 deals (or 1e20 CNY) is refused at the door, naming its node, period and the
    limit, before the kernel could overflow (#21.5)."""
    spec = one(DEALS, 1000, splits={"company": Split(strategy=Equal())},
               locks=[Lock(node="west", period="FY2027", value=2**60)])  # fmt: skip
    with pytest.raises(
        QuantumError, match=r"lock on 'west' in FY2027: .*9,007,199,254,740,992 deal"
    ):
        cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))
    spec = one(REVENUE, "100 CNY", splits={"company": Split(strategy=Equal())},
               locks=[Lock(node="east", period="FY2027", value="1e20 CNY")])  # fmt: skip
    with pytest.raises(QuantumError, match=r"lock on 'east'.*90,071,992,547,409\.92 CNY"):
        cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))


def test_a_target_beyond_the_size_limit_is_refused():
    """A target of 1e20 CNY is a QuantumError naming the metric and the limit, not OverflowError."""
    spec = one(REVENUE, "1e20 CNY", splits={"company": Split(strategy=Equal())})
    with pytest.raises(QuantumError, match=r"revenue: 1e20 CNY .*90,071,992,547,409\.92 CNY"):
        cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))


def test_free_shares_by_hand():
    """Exact shares of what the locks leave: 100 split 1:3 is 25 and 75; a segment without weight
    gives 0 (not NaN); a locked child gets 0 and its sibling the 30 - 10 left."""
    from targetcascade.cascade import _free_shares

    offsets = np.array([0, 2, 4, 5, 7])
    weights = np.array([[1.0], [3.0], [0.0], [0.0], [2.0], [1.0], [1.0]])
    totals = np.array([[100], [50], [7], [30]])
    mask = np.array([[False]] * 5 + [[True], [False]])
    locked = np.where(mask, 10, 0)
    got = _free_shares(totals, weights, offsets, locked=locked, mask=mask)
    assert got[:, 0].tolist() == [25.0, 75.0, 0.0, 0.0, 7.0, 0.0, 20.0]
    # two columns: the same rule per column
    both = _free_shares(
        np.hstack([totals, 2 * totals]), np.hstack([weights, weights]), offsets,
        locked=np.hstack([locked, locked]), mask=np.hstack([mask, mask]),
    )  # fmt: skip
    assert both[:, 1].tolist() == [50.0, 150.0, 0.0, 0.0, 14.0, 0.0, 50.0]


@pytest.mark.parametrize("parents", [1, 2])
def test_a_parent_held_by_a_bound_starts_the_next_month_afresh(parents):
    """Two children of equal weight split 3 a month for 3 months. Month 1 is a tie: the first
    child gets 2 and is owed -0.5, the second 0.5. In month 2 a cap of 1 holds the second child of
    parent 0 (the first gets 2): the bound, not the shares, decided it, so month 3 starts afresh:
    1.5 each, the tie to the first child. Parent 1 (when there) has no binding cap and carries:
    [2, 1], then [1, 2] (the quotas 1.5 -/+ 0.5), then a tie again."""
    engine = sys.modules["targetcascade.cascade"]
    offsets = np.arange(0, 2 * parents + 1, 2, dtype=np.int64)
    totals = np.full((parents, 3), 3, dtype=np.int64)
    weights = np.ones((2 * parents, 3))
    caps = np.full((2 * parents, 3), 1000, dtype=np.int64)
    caps[1, 1] = 1
    split_one, relabel = _labelled_split(parents, 2 * parents)
    for lean in (True, False):
        got = engine._carried_split(
            split_one, totals, weights, offsets, limits=engine._Limits(caps=caps),
            column_labels=["M01", "M02", "M03"], lean=lean, relabel=relabel,
        )  # fmt: skip
        assert got.values[:2].T.tolist() == [[2, 1], [2, 1], [2, 1]]
        assert got.at_cap[:2].T.tolist() == [[False, False], [False, True], [False, False]]
        if parents == 2:
            assert got.values[2:].T.tolist() == [[2, 1], [1, 2], [2, 1]]


def test_month_after_mostly_held_one_skips_the_lean_screen(monkeypatch):
    """Where bounds held someone in most parents one month, the next month goes straight to the
    kernel (no screening of every parent for the lean path), and the month after a free one is
    screened again; the numbers and flags are the general path's either way."""
    engine = sys.modules["targetcascade.cascade"]
    # 4 parents x 3 children, 3 months of 300 each; even weights give 100 a child
    offsets = np.array([0, 3, 6, 9, 12], dtype=np.int64)
    totals = np.full((4, 3), 300, dtype=np.int64)
    weights = np.ones((12, 3))
    # month 1: the first child of every parent capped at 40 (the other two share the rest);
    # months 2 and 3: caps of 1,000 that hold no one
    caps = np.full((12, 3), 1000, dtype=np.int64)
    caps[offsets[:-1], 0] = 40
    limits = engine._Limits(caps=caps)
    split_one, relabel = _labelled_split(4, 12)
    labels = ["M01", "M02", "M03"]
    screened = []
    screen = engine._split_month

    def counted(split_one, month, *args):
        screened.append(month.label)
        return screen(split_one, month, *args)

    monkeypatch.setattr(engine, "_split_month", counted)
    args = (split_one, totals, weights, offsets)
    lean = engine._carried_split(*args, limits=limits, column_labels=labels, relabel=relabel)
    assert screened == ["M01", "M03"]
    general = engine._carried_split(*args, limits=limits, column_labels=labels, lean=False)
    for field in ("values", "quota", "adjustment", "at_floor", "at_cap"):
        assert np.array_equal(getattr(lean, field), getattr(general, field)), field
    # by hand: month 1 gives the capped child 40 and its siblings 130 each
    assert lean.values[:3, 0].tolist() == [40, 130, 130]
    assert lean.at_cap[:, 0].tolist() == [True, False, False] * 4


# ------------------------------------------------------------------- threads


@given(_carried_inputs(), st.integers(2, 5))
def test_threaded_carried_split_equals_one_thread(inputs, threads):
    """Chunks of whole parents in threads give the one-thread numbers, byte for byte."""
    from functools import partial

    import targetcascade.cascade  # noqa: F401 - the module, not the function it exports
    from targetcascade.allocation._kernel import apportion_detailed

    engine = sys.modules["targetcascade.cascade"]
    totals, weights, offsets = inputs
    split_one = partial(apportion_detailed, segment_labels=None, child_labels=None)
    kw = {"limits": engine._Limits(),
          "column_labels": [f"M{j + 1:02d}" for j in range(weights.shape[1])]}  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TARGETCASCADE_THREADS", "1")
        alone = engine._carried_split(split_one, totals, weights, offsets, **kw)
        patch.setenv("TARGETCASCADE_THREADS", str(threads))
        patch.setattr(engine, "_THREAD_ROWS", 0)
        together = engine._carried_split(split_one, totals, weights, offsets, **kw)
    # the chunks themselves, without the one-thread re-run that would hide a failing chunk
    chunked = engine._carried_chunks(
        split_one, totals, weights, offsets, limits=kw["limits"],
        column_labels=kw["column_labels"], threads=threads, out=None, relabel=None,
    )  # fmt: skip
    for field in ("values", "quota", "adjustment"):
        assert np.array_equal(getattr(alone, field), getattr(together, field)), field
        assert np.array_equal(getattr(alone, field), getattr(chunked, field)), field


def test_threads_do_not_change_a_cascade(monkeypatch):
    """A whole cascade (historical share, 3,000 people) is the same with 1 thread and with 4."""
    from targetcascade.synthetic import large_org, synthetic_history

    engine = sys.modules["targetcascade.cascade"]
    tree = large_org(3000, regions=4, people_per_team=50, seed=4)
    history = [synthetic_history(tree, FiscalCalendar(fiscal_year=2026), (REVENUE,), seed=5)]
    spec = one(
        REVENUE,
        "12345678.90 CNY",
        time=HistoricalSeasonality(),
        splits={
            level: Split(strategy=ProportionOfAverages()) for level in ("company", "region", "team")
        },
    )
    calendar = FiscalCalendar(fiscal_year=2027)
    monkeypatch.setenv("TARGETCASCADE_THREADS", "1")
    alone = cascade(spec, tree, calendar, history=history)
    monkeypatch.setenv("TARGETCASCADE_THREADS", "4")
    monkeypatch.setattr(engine, "_THREAD_ROWS", 0)
    together = cascade(spec, tree, calendar, history=history)
    assert np.array_equal(alone.values, together.values)
    assert np.array_equal(alone.origins, together.origins)  # rolled-up quarters and years too
    for field in ("quota", "adjustment", "weight", "source"):
        mine, theirs = (getattr(p.provenance, field)["revenue"] for p in (alone, together))
        assert np.array_equal(mine, theirs, equal_nan=True), field
    assert check(together).ok


def test_threads_setting_must_be_a_number(monkeypatch):
    monkeypatch.setenv("TARGETCASCADE_THREADS", "many")
    spec = one(DEALS, 12, splits={"company": Split(strategy=Equal())})
    engine = sys.modules["targetcascade.cascade"]
    monkeypatch.setattr(engine, "_THREAD_ROWS", 0)
    with pytest.raises(SpecError, match="TARGETCASCADE_THREADS='many'"):
        cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))


@given(_bounded_inputs(), st.integers(2, 5))
def test_threaded_split_with_locks_and_bounds_equals_one_thread(inputs, threads):
    """With locks, floors and caps too: the same numbers and flags, or the very same error."""
    from targetcascade.errors import InfeasibleAllocationError

    engine = sys.modules["targetcascade.cascade"]
    totals, weights, offsets, locked, mask, floors, caps = inputs
    split_one, relabel = _labelled_split(offsets.size - 1, weights.shape[0])

    limits = engine._Limits(locked, mask, floors, caps)
    kw = {"limits": limits, "relabel": relabel,
          "column_labels": [f"M{j + 1:02d}" for j in range(weights.shape[1])]}  # fmt: skip

    def run():
        try:
            return engine._carried_split(split_one, totals, weights, offsets, **kw)
        except InfeasibleAllocationError as exc:
            return str(exc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TARGETCASCADE_THREADS", "1")
        alone = run()
        patch.setenv("TARGETCASCADE_THREADS", str(threads))
        patch.setattr(engine, "_THREAD_ROWS", 0)
        together = run()
    if isinstance(alone, str):
        assert together == alone
        return
    # the chunks themselves, without the one-thread re-run that would hide a failing chunk
    chunked = engine._carried_chunks(
        split_one, totals, weights, offsets, limits=limits,
        column_labels=kw["column_labels"], threads=threads, out=None, relabel=relabel,
    )  # fmt: skip
    for field in ("values", "quota", "adjustment", "at_floor", "at_cap"):
        assert np.array_equal(getattr(alone, field), getattr(together, field)), field
        assert np.array_equal(getattr(alone, field), getattr(chunked, field)), field


@given(_bounded_inputs(), st.integers(1, 4), st.data())
def test_relative_bounds_worked_out_by_month_equal_the_whole_arrays(inputs, threads, data):
    """Relative floors and caps worked out a month at a time inside the carried split (in chunks,
    in threads) give the numbers, flags or error of the same bounds worked out for the whole
    level first, with each lock overriding its child's bounds."""
    from targetcascade.errors import InfeasibleAllocationError

    engine = sys.modules["targetcascade.cascade"]
    totals, weights, offsets, locked, mask, _, _ = inputs
    n, months = weights.shape
    split_one, relabel = _labelled_split(offsets.size - 1, n)
    # last year's values in whole quanta: some missing (NaN: no bound), some zero (a cap of 0)
    last = data.draw(
        st.lists(
            st.one_of(st.just(float("nan")), st.just(0.0), st.integers(0, 10**8).map(float)),
            min_size=n * months,
            max_size=n * months,
        )
    )
    reference = np.array(last).reshape(n, months)
    floor = data.draw(st.one_of(st.none(), st.sampled_from([0, Fraction(1, 2), Fraction(9, 10)])))
    cap = data.draw(st.one_of(st.none(), st.sampled_from([1, Fraction(3, 2), Fraction(201, 100)])))
    relative = engine._Relative(reference, floor, cap)
    lazy = engine._Limits(locked, mask, relative=relative)
    whole = lazy.resolved()
    assert whole.relative is None

    def exact(bound: Fraction, rounding: object, absent: int) -> np.ndarray:
        return np.array(
            [absent if math.isnan(r) else rounding(int(r) * bound) for r in reference.ravel()],
            dtype=np.int64,
        ).reshape(reference.shape)

    # worked out by hand, in Fractions: floors rounded up, caps down, no bound where last year is
    # missing
    if floor is not None:
        want = exact(Fraction(floor), math.ceil, 0)
        if mask is not None:
            want = np.where(mask, np.minimum(want, locked), want)
        assert np.array_equal(whole.floors, want)
    if cap is not None:
        want = exact(Fraction(cap), math.floor, np.iinfo(np.int64).max // 4)
        if mask is not None:
            want = np.where(mask, np.maximum(want, locked), want)
        assert np.array_equal(whole.caps, want)
    labels = [f"M{j + 1:02d}" for j in range(months)]

    def run(limits):
        try:
            return engine._carried_split(
                split_one, totals, weights, offsets, limits=limits, column_labels=labels,
                relabel=relabel,
            )  # fmt: skip
        except InfeasibleAllocationError as exc:
            return str(exc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TARGETCASCADE_THREADS", str(threads))
        patch.setattr(engine, "_THREAD_ROWS", 0)
        got, expected = run(lazy), run(whole)
    if isinstance(expected, str):
        assert got == expected
        return
    for field in ("values", "quota", "adjustment", "at_floor", "at_cap"):
        assert np.array_equal(getattr(got, field), getattr(expected, field)), field


@given(st.integers(1, 40), st.integers(1, 12), st.integers(1, 9), st.sampled_from(["C", "F", "b"]))
def test_month_major_is_the_transpose(rows, months, block, layout):
    """The carried split's month-major copy equals a.T for C-, F-ordered and broadcast inputs."""
    engine = sys.modules["targetcascade.cascade"]
    a = np.arange(rows * months, dtype=np.int64).reshape(rows, months)
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "b":
        a = np.broadcast_to(a[:, :1], (rows, months))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_TRANSPOSE_ROWS", block)
        got = engine._month_major(a)
    assert got.shape == (months, rows)
    assert np.array_equal(got, a.T)
    assert rows == 1 or got.strides[1] in (a.itemsize, 0)  # a month is one sweep


@given(org_trees(max_nodes=40), st.data())
def test_parents_group_by_their_split_in_order_of_first_parent(tree, data):
    """The engine groups a depth's parents by Split object (override, else the level's), as a
    parent-by-parent lookup would: same members, same order of groups (labels follow it)."""
    from types import SimpleNamespace

    engine = sys.modules["targetcascade.cascade"]
    c = tree.compiled
    inner = [p for p in range(len(tree)) if c.child_offsets[p + 1] > c.child_offsets[p]]
    shared = Split(strategy=Equal())
    splits = {
        name: data.draw(st.sampled_from([shared, Split(strategy=Equal())]))
        for name in tree.levels.names
    }
    chosen = data.draw(st.lists(st.sampled_from(inner), unique=True)) if inner else []
    own = Split(strategy=Proportional(attribute="potential"))
    overrides = {c.ids[p]: data.draw(st.sampled_from([shared, own])) for p in chosen}
    fake = SimpleNamespace(
        compiled=c, tree=tree, item=SimpleNamespace(splits=splits, overrides=overrides)
    )
    for depth in range(int(c.depth.max()) + 1):
        parents = np.array([p for p in inner if c.depth[p] == depth], dtype=np.int64)
        if not parents.size:
            continue
        expected: dict[int, tuple[list[int], Split]] = {}
        for p in parents.tolist():
            split = engine._Engine._split_of(fake, p)
            expected.setdefault(id(split), ([], split))[0].append(p)
        got = engine._Engine._by_split(fake, parents)
        assert [(m.tolist(), id(s)) for m, s in got] == [(m, id(s)) for m, s in expected.values()]


# ---------------------------------------------------------------------- employed months (#12.7)


def _staff() -> OrgTree:
    """ann all year; bob hired 1 April 2027; cy leaving 30 June 2027."""
    return team(
        {"id": "ann"},
        {"id": "bob", "start_date": "2027-04-01"},
        {"id": "cy", "end_date": "2027-06-30"},
    )


def _quarters(plan: Plan, node: str) -> list[int]:
    return [plan.quanta(node, f"FY2027-Q{q}", "revenue") for q in range(1, 5)]


class TestEmployedMonths:
    """Nobody carries a target in a month they are not employed, whatever the strategy (#12.7)."""

    @pytest.mark.parametrize(
        "bounds",
        [RelativeBounds(floor="0.5", cap="2"), AbsoluteBounds(floor="10 CNY", per="month")],
        ids=["relative", "absolute"],
    )
    def test_a_floor_does_not_follow_a_leaver_out(self, bounds: object) -> None:
        """cy leaves 30 June: last year's floor (or a floor per month) gives her nothing after."""
        tree = OrgTree.from_records(
            [
                {"id": "t", "level": "company"},
                {"id": "ann", "parent": "t", "level": "individual"},
                {"id": "cy", "parent": "t", "level": "individual", "end_date": "2027-06-30"},
            ]
        )
        rows = [
            {"node": n, "period": f"FY2026-M{m:02d}", "metric": "revenue", "value": "100 CNY"}
            for n in ("ann", "cy")
            for m in range(1, 13)
        ]
        history = Plan.from_leaf_values(
            tree, FiscalCalendar(fiscal_year=2026), [REVENUE], rows, kind="history"
        )
        spec = one(REVENUE, "2400 CNY", splits={"company": Split(strategy=Equal(), bounds=bounds)})
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027), history=[history])
        # 200.00 CNY a month: halves while both work (Q1, Q2: 300.00 each), all to ann after
        quarters = [plan.quanta("cy", f"FY2027-Q{q}", "revenue") for q in range(1, 5)]
        assert quarters == [30_000, 30_000, 0, 0]
        assert plan.quanta("ann", "FY2027-Q4", "revenue") == 60_000
        assert plan.origin_of("cy", "FY2027-M09", "revenue") is Origin.ALLOCATED
        assert check(plan).ok

    @pytest.mark.parametrize("strategy", [Equal(), CapacityWeighted(ramp=())])
    def test_time_first_months_go_to_those_employed(self, strategy: object) -> None:
        """12,000,000.00 CNY evenly: 1 M a month, split between those employed that month."""
        spec = one(REVENUE, "12000000 CNY", splits={"team": Split(strategy=strategy)})
        plan = cascade(spec, _staff(), FiscalCalendar(fiscal_year=2027))
        # Q1: ann and cy take 500,000.00 a month; Q2: all three 333,333.33(+1); Q3, Q4: ann and bob
        assert _quarters(plan, "bob") == [0, 100_000_000, 150_000_000, 150_000_000]
        assert _quarters(plan, "cy") == [150_000_000, 100_000_000, 0, 0]
        assert _quarters(plan, "ann") == [150_000_000, 100_000_000, 150_000_000, 150_000_000]
        assert check(plan).ok

    def test_org_first_phases_a_year_over_the_employed_months(self) -> None:
        """Equal thirds of 12 M: bob's 4 M over 9 months (Apr-Dec), cy's over 6 (Jan-Jun)."""
        spec = one(
            REVENUE, "12000000 CNY", mode="org_first", splits={"team": Split(strategy=Equal())}
        )
        plan = cascade(spec, _staff(), FiscalCalendar(fiscal_year=2027))
        bob = _quarters(plan, "bob")
        assert bob[0] == 0
        assert sum(bob) == 400_000_000
        assert all(abs(q - 133_333_333) <= 1 for q in bob[1:])  # 4 M x 3/9 each
        assert _quarters(plan, "cy") == [200_000_000, 200_000_000, 0, 0]
        assert _quarters(plan, "ann") == [100_000_000] * 4
        assert check(plan).ok

    def test_capacity_weighted_hire_gets_nothing_before_the_start_in_org_first(self) -> None:
        """CapacityWeighted's year share of a hire is phased from the start month on, not over Q1."""
        spec = one(
            REVENUE,
            "12000000 CNY",
            mode="org_first",
            splits={"team": Split(strategy=CapacityWeighted(ramp=()))},
        )
        plan = cascade(spec, _staff(), FiscalCalendar(fiscal_year=2027))
        # capacity (person-months): ann 12, bob 9, cy 6 of 27; bob's 9/27 of 12 M = 4 M over 9 months
        assert _quarters(plan, "bob")[0] == 0
        assert plan.quanta("bob", "FY2027", "revenue") == 400_000_000
        assert _quarters(plan, "cy")[2:] == [0, 0]

    def test_balanced_keeps_inactive_months_at_zero(self) -> None:
        """In balanced mode the child x month table has zeros where a person is not employed."""
        spec = one(
            REVENUE, "12000000 CNY", mode="balanced", splits={"team": Split(strategy=Equal())}
        )
        plan = cascade(spec, _staff(), FiscalCalendar(fiscal_year=2027))
        assert _quarters(plan, "bob")[0] == 0
        assert _quarters(plan, "cy")[2:] == [0, 0]
        assert check(plan).ok

    def test_a_company_phased_over_the_months_someone_works(self) -> None:
        """With one rep starting 1 April, the company's year is phased over April-December."""
        company = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region"},
                {"id": "t", "parent": "east", "level": "team"},
                {"id": "a", "parent": "t", "level": "individual", "start_date": "2027-04-01"},
            ]
        )
        splits = {
            "company": Split(strategy=Equal()),
            "region": Split(strategy=Equal()),
            "team": Split(strategy=Equal()),
        }
        plan = cascade(
            one(REVENUE, "900 CNY", splits=splits), company, FiscalCalendar(fiscal_year=2027)
        )
        assert [plan.quanta("acme", f"FY2027-Q{q}", "revenue") for q in range(1, 5)] == [
            0,
            30_000,
            30_000,
            30_000,
        ]

    @pytest.mark.parametrize("mode", ["time_first", "org_first", "balanced"])
    def test_nobody_employed_in_the_year_names_the_node_and_period(self, mode: str) -> None:
        """A target over a team that starts next year is refused, naming the node and the year."""
        company = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region"},
                {"id": "t", "parent": "east", "level": "team"},
                {"id": "a", "parent": "t", "level": "individual", "start_date": "2028-01-01"},
            ]
        )
        splits = {
            "company": Split(strategy=Equal()),
            "region": Split(strategy=Equal()),
            "team": Split(strategy=Equal()),
        }
        spec = one(REVENUE, "900 CNY", splits=splits, mode=mode)
        with pytest.raises(InfeasibleAllocationError, match=r"'acme' carries 900\.00 CNY .*FY2027"):
            cascade(spec, company, FiscalCalendar(fiscal_year=2027))

    def test_a_lock_after_the_end_date_is_kept(self) -> None:
        """A lock is an explicit decision (an actual booked late): kept, even in an inactive month."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region"},
                {"id": "t", "parent": "east", "level": "team"},
                {"id": "a", "parent": "t", "level": "individual", "end_date": "2027-02-28"},
                {"id": "u", "parent": "east", "level": "team"},
                {"id": "b", "parent": "u", "level": "individual"},
            ]
        )
        splits = {level: Split(strategy=Equal()) for level in ("company", "region", "team")}
        locks = [
            Lock(node="t", period="FY2027-M03", value=7),
            Lock(node="a", period="FY2027-M03", value=7),
        ]
        plan = cascade(
            one(DEALS, 1200, splits=splits, locks=locks), tree, FiscalCalendar(fiscal_year=2027)
        )
        assert plan.quanta("a", "FY2027-M03", "deals") == 7
        assert plan.quanta("b", "FY2027-M03", "deals") == 100 - 7
        assert plan.quanta("a", "FY2027-M04", "deals") == 0
        assert check(plan).ok

    def test_explain_multiplies_out_with_the_masked_weights(self) -> None:
        """explain shows the masked weight: bob's July share is 1 of 2 (cy has left)."""
        spec = one(REVENUE, "12000000 CNY", splits={"team": Split(strategy=Equal())})
        plan = cascade(spec, _staff(), FiscalCalendar(fiscal_year=2027))
        text = explain(plan, "bob", "FY2027-M07", "revenue").sentence
        assert "500,000.00 CNY" in text, text
        assert "50.00 %" in text, text


def _employed(tree: OrgTree, calendar: FiscalCalendar) -> np.ndarray:
    """(nodes, months): a month with at least one day between start and end date, by hand."""
    c = tree.compiled
    months = [p for p in calendar.periods if p.level.name == "MONTH"]
    out = np.ones((len(tree), len(months)), dtype=bool)
    for i in range(len(tree)):
        start, end = c.start[i], c.end[i]
        for j, m in enumerate(months):
            if not np.isnat(start) and start > np.datetime64(m.end, "D"):
                out[i, j] = False
            if not np.isnat(end) and end < np.datetime64(m.start, "D"):
                out[i, j] = False
    return out


@given(setups())
def test_no_leaf_carries_a_month_it_is_not_employed_in(setup: Setup) -> None:
    """In every mode and under every strategy, a leaf's months outside its dates are zero."""
    plan = _run(setup)
    assume(plan is not None)
    assert plan is not None
    tree, calendar = setup[0], setup[1]
    months = [i for i, p in enumerate(calendar.periods) if p.level.name == "MONTH"]
    leaves = np.flatnonzero(tree.compiled.is_leaf)
    cells = plan.values[0][np.ix_(leaves, months)]
    idle = ~_employed(tree, calendar)[leaves]
    assert (cells[idle] == 0).all()


# ---------------------------------------------------------------------- negative targets (#12.4, #12.5)

PNL = Metric(name="pnl", unit="USD", non_negative=False)


def _seven() -> OrgTree:
    return OrgTree.from_records(
        [{"id": "acme", "level": "company"}]
        + [{"id": f"c{i}", "parent": "acme", "level": "region"} for i in range(7)]
    )


class TestNegativeTargets:
    """A planned loss is the exact mirror of the same profit, in every mode (#12.4)."""

    @pytest.mark.parametrize("mode", ["time_first", "org_first", "balanced"])
    def test_minus_one_dollar_over_seven_is_the_mirror(self, mode: str) -> None:
        """-1.00 USD over 7 equal children: -0.15, -0.15 and five -0.14 (100 = 2 x 15 + 5 x 14)."""
        splits = {"company": Split(strategy=Equal())}
        spec = one(PNL, "-1 USD", splits=splits, mode=mode)
        plan = cascade(spec, _seven(), FiscalCalendar(fiscal_year=2027))
        years = [plan.quanta(f"c{i}", "FY2027", "pnl") for i in range(7)]
        assert years == [-15, -15, -14, -14, -14, -14, -14]
        positive = cascade(one(PNL, "1 USD", splits=splits, mode=mode), _seven(), plan.calendar)
        assert (plan.values == -positive.values).all()
        assert check(plan).ok

    def test_over_assigned_loss_mirrors_and_explains(self) -> None:
        """An over-assigned loss mirrors the profit, and explain's split totals are what was split."""
        splits = {"company": Split(strategy=Equal(), hedge="0.05")}
        calendar = FiscalCalendar(fiscal_year=2027)
        plan = cascade(one(PNL, "-13.37 USD", splits=splits), _seven(), calendar)
        positive = cascade(one(PNL, "13.37 USD", splits=splits), _seven(), calendar)
        assert (plan.values == -positive.values).all()
        assert check(plan).ok
        # M05's hedged total: the children's sum, as explain states it
        m05 = sum(plan.quanta(f"c{i}", "FY2027-M05", "pnl") for i in range(7))
        step = explain(plan, "c0", "FY2027-M05", "pnl").steps[0]
        assert step.split_total == PNL.from_quanta(m05)

    def test_negative_target_with_floors_is_refused(self) -> None:
        """Floors and caps bound non-negative shares: a negative target with them is refused."""
        splits = {
            "company": Split(strategy=Equal(), bounds=AbsoluteBounds(cap="1 USD", per="month"))
        }
        with pytest.raises(SpecError, match=r"-1\.00 USD of 'pnl' is negative.*\['company'\]"):
            cascade(one(PNL, "-1 USD", splits=splits), _seven(), FiscalCalendar(fiscal_year=2027))


class TestNegativeOnNonNegativeMetric:
    """A metric declared non-negative refuses a negative target or lock at the door (#12.5)."""

    def test_negative_target_is_refused_naming_metric_and_target(self) -> None:
        """-1.00 USD on a non-negative metric: SpecError naming the metric and the amount."""
        revenue = Metric(name="revenue", unit="USD")
        spec = one(revenue, "-1 USD", splits={"company": Split(strategy=Equal())})
        with pytest.raises(SpecError, match=r"target -1\.00 USD of 'revenue' is negative"):
            cascade(spec, _seven(), FiscalCalendar(fiscal_year=2027))

    def test_negative_lock_is_refused(self) -> None:
        """A negative lock on a non-negative metric names the node, period and value."""
        revenue = Metric(name="revenue", unit="USD")
        spec = one(
            revenue,
            "1 USD",
            splits={"company": Split(strategy=Equal())},
            locks=[Lock(node="c1", period="FY2027", value="-0.5 USD")],
        )
        with pytest.raises(SpecError, match=r"lock 'c1' FY2027 = -0\.50 USD is negative"):
            cascade(spec, _seven(), FiscalCalendar(fiscal_year=2027))


def _signed(setup: Setup, negate: bool) -> Setup:
    tree, calendar, spec, history = setup
    item = spec.metrics[0]
    target = item.metric.to_quanta(item.target)
    signed = attrs.evolve(
        item,
        metric=PNL_CNY,
        target=Decimal(-target if negate else target) / 100,
    )
    return tree, calendar, CascadeSpec(metrics=[signed]), history


PNL_CNY = Metric(name="revenue", unit="CNY", non_negative=False)


def _plan_or_error(setup: Setup) -> Plan | type[Exception]:
    try:
        return cascade(setup[2], setup[0], setup[1], history=setup[3])
    except InfeasibleAllocationError as exc:
        return type(exc)


@given(setups())
def test_a_negative_target_is_the_mirror_of_the_positive_one(setup: Setup) -> None:
    """For a signed metric, cascade(-T) == -cascade(T) cell by cell, in every mode."""
    positive = _plan_or_error(_signed(setup, negate=False))
    negative = _plan_or_error(_signed(setup, negate=True))
    if not isinstance(positive, Plan) or not isinstance(negative, Plan):
        assert positive == negative  # the same refusal
        return
    assert (negative.values == -positive.values).all()
    assert check(negative, max_violations=5).ok


# ---------------------------------------------------------------------- balanced + over-assignment (#12.6)


class TestBalancedOverAssigned:
    """Balanced mode honours over-assignment below the top level (#12.6)."""

    def test_team_over_assigned_by_one_and_a_half_percent(self) -> None:
        """1,200 deals evenly, team over-assigned 1.5 %: 1,218 a year, 101 or 102 (of 101.5) a month."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region"},
                {"id": "t", "parent": "east", "level": "team"},
                *({"id": p, "parent": "t", "level": "individual"} for p in ("a", "b", "c")),
            ]
        )
        splits = {
            "company": Split(strategy=Equal()),
            "region": Split(strategy=Equal()),
            "team": Split(strategy=Equal(), hedge="0.015"),
        }
        spec = one(DEALS, 1200, splits=splits, mode="balanced")
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        people = ("a", "b", "c")
        months = [f"FY2027-M{m:02d}" for m in range(1, 13)]
        for person in people:
            assert plan.quanta(person, "FY2027", "deals") == 406  # round(1200 x 1.015) / 3
        monthly = [sum(plan.quanta(p, m, "deals") for p in people) for m in months]
        assert set(monthly) == {101, 102}  # 100 x 1.015 = 101.5 a month
        assert sum(monthly) == 1218
        # quarters of 304.5: the two leftover deals go to Q1 and Q2 (ties to the earlier period)
        quarters = [
            sum(plan.quanta(p, f"FY2027-Q{q}", "deals") for p in people) for q in (1, 2, 3, 4)
        ]
        assert quarters == [305, 305, 304, 304]
        assert check(plan).ok

    def test_demo_spec_in_balanced_mode(self) -> None:
        """The demo's spec (teams over-assigned 5 %) runs in balanced mode and checks ok."""
        from targetcascade.cli import demo_spec

        company = demo_company()
        spec = demo_spec(company)
        spec = CascadeSpec(metrics=[attrs.evolve(m, mode="balanced") for m in spec.metrics])
        plan = cascade(spec, company.tree, company.calendar, history=company.history)
        assert check(plan).ok


class TestAmountsInMessages:
    """Engine and kernel messages show amounts in the metric's unit, formatted (#12 rough edge)."""

    def test_floors_above_the_month_are_shown_in_cny(self) -> None:
        """Three floors of 400,000.00 CNY a month cannot fit a month of 1,000,000.00 CNY / 12."""
        tree = team({"id": "a"}, {"id": "b"}, {"id": "c"})
        spec = one(
            REVENUE,
            "1000000 CNY",
            splits={
                "team": Split(
                    strategy=Equal(), bounds=AbsoluteBounds(floor="400000 CNY", per="month")
                )
            },
        )
        with pytest.raises(
            InfeasibleAllocationError,
            match=r"floors sum to 1,200,000\.00 CNY, above the 83,333\.3\d CNY to split",
        ):
            cascade(spec, tree, FiscalCalendar(fiscal_year=2027))

    def test_locks_above_the_parent_are_shown_in_cny(self) -> None:
        """A lock of 150.00 CNY under a year of 100.00 CNY names both amounts with the unit."""
        spec = one(
            REVENUE,
            "100 CNY",
            mode="org_first",
            splits={"company": Split(strategy=Equal())},
            locks=[Lock(node="east", period="FY2027", value="150 CNY")],
        )
        with pytest.raises(
            InfeasibleAllocationError,
            match=r"locked children sum to 150\.00 CNY, above the total 100\.00 CNY "
            r"\(off by 50\.00 CNY\); locked: 'east' \(150\.00 CNY\)",
        ):
            cascade(spec, regions(), FiscalCalendar(fiscal_year=2027))


PROFIT = Metric(name="profit", unit="CNY")
MARGIN = Metric(
    name="margin",
    unit="percent",
    rollup="ratio",
    numerator="profit",
    denominator="revenue",
    quantum="0.1",
)


def margin_spec(mode: str = "time_first") -> CascadeSpec:
    """Revenue 1,200 split 1 : 2 : 0, profit 300 split 1 : 1 : 0; margin derived."""
    return CascadeSpec(
        metrics=[
            MetricCascade(
                metric=REVENUE,
                target="1200 CNY",
                mode=mode,
                splits={"company": Split(strategy=Proportional(values={"a": 1, "b": 2, "c": 0}))},
            ),
            MetricCascade(
                metric=PROFIT,
                target="300 CNY",
                mode=mode,
                splits={"company": Split(strategy=Proportional(values={"a": 1, "b": 1, "c": 0}))},
            ),
        ],
        derived=[MARGIN],
    )


def abc() -> OrgTree:
    return OrgTree.from_records(
        [{"id": "acme", "level": "company"}]
        + [{"id": i, "parent": "acme", "level": "region"} for i in "abc"]
    )


class TestDerivedMetrics:
    @pytest.mark.parametrize("mode", ["time_first", "org_first", "balanced"])
    def test_margin_is_filled_from_profit_and_revenue(self, mode: str) -> None:
        """Issue 12.8: a ratio metric is derived in every cell and the plan checks ok."""
        plan = cascade(margin_spec(mode), abc(), FiscalCalendar(fiscal_year=2027))
        assert check(plan).ok
        # acme 300 / 1,200 = 25 %; a 150 / 400 = 37.5 %; b 150 / 800 = 18.75 %, half to even 18.8
        margins = [plan.value(n, "FY2027", "margin") for n in ("acme", "a", "b")]
        assert [str(q.magnitude) for q in margins if q is not None] == ["25.0", "37.5", "18.8"]
        # c has no revenue and no profit: 0 / 0 has no value, which is not 0 %
        assert plan.value("c", "FY2027", "margin") is None
        assert not plan.present("margin")[plan.tree.compiled.index("c")].any()

    def test_every_cell_follows_the_check_rule(self) -> None:
        """Each margin cell is profit / revenue of its own node and period, half to even."""
        plan = cascade(margin_spec(), abc(), FiscalCalendar(fiscal_year=2027))
        for node in ("acme", "a", "b"):
            for period in plan.calendar.periods:
                profit = plan.quanta(node, period.label, "profit")
                revenue = plan.quanta(node, period.label, "revenue")
                assert profit is not None
                assert revenue
                # percent in tenths: profit / revenue x 1000, rounded half to even
                want = round(Fraction(profit * 1000, revenue))
                assert plan.quanta(node, period.label, "margin") == want

    def test_explain_says_derived(self) -> None:
        """explain on a derived cell gives numerator / denominator with both values."""
        plan = cascade(margin_spec(), abc(), FiscalCalendar(fiscal_year=2027))
        assert explain(plan, "a", "FY2027", "margin").sentence == (
            "a FY2027 37.5 percent = profit 150.00 CNY / revenue 400.00 CNY "
            "(derived, rounded half to even to 0.1 percent)"
        )
        step = explain(plan, "c", "FY2027", "margin").steps[0]
        assert (step.source, step.value, step.parts) == ("derived", None, ("profit", "revenue"))
        assert step.sentence == (
            "c FY2027 margin has no value: profit 0.00 CNY / revenue 0.00 CNY "
            "(derived; the denominator is 0)"
        )

    def test_explain_after_a_part_was_edited(self) -> None:
        """A part edited after the cascade makes explain say so, with what the parts give now."""
        plan = cascade(margin_spec(), abc(), FiscalCalendar(fiscal_year=2027))
        edited = plan.with_values(
            [{"node": "a", "period": "FY2027", "metric": "profit", "value": "200 CNY"}]
        )
        # a's revenue is 400.00 CNY: 200 / 400 is 50.0 %, the stored margin still 37.5 %
        assert explain(edited, "a", "FY2027", "margin").sentence == (
            "a FY2027 37.5 percent, derived from profit 200.00 CNY / revenue 400.00 CNY, which "
            "gives 50.0 percent now (a part was changed after the cascade)"
        )

    def test_json_round_trip(self) -> None:
        """Derived metrics are stored under "derived" and read back; a spec without them reads as before."""
        spec = margin_spec()
        data = spec.to_dict()
        assert [m["name"] for m in data["derived"]] == ["margin"]
        assert CascadeSpec.from_json(spec.to_json()) == spec
        plain = CascadeSpec(metrics=spec.metrics)
        assert "derived" not in plain.to_dict()
        assert CascadeSpec.from_dict(plain.to_dict()).derived == ()

    def test_a_part_not_cascaded_is_refused(self) -> None:
        """The numerator and denominator must be cascaded in the spec; the error names them."""
        with pytest.raises(SpecError, match=r"numerator 'profit'.*cascaded") as caught:
            CascadeSpec(metrics=margin_spec().metrics[:1], derived=[MARGIN])
        assert caught.value.metric == "margin"

    def test_a_sum_metric_cannot_be_derived(self) -> None:
        """Only ratio metrics are derived."""
        with pytest.raises(SpecError, match="'deals' has rollup 'sum'"):
            CascadeSpec(metrics=margin_spec().metrics, derived=[DEALS])


@given(
    mode=st.sampled_from(["time_first", "org_first", "balanced"]),
    shape=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    revenue=st.integers(0, 10**9),
    profit=st.integers(-(10**8), 10**9),
    hedge=st.sampled_from(["0", "0.05"]),
)
def test_derived_ratio_checks_ok_in_every_mode(
    mode: str, shape: list[int], revenue: int, profit: int, hedge: str
) -> None:
    """Issue 12.8: for random trees and targets, the derived margin passes check in every cell.

    Revenue 0 leaves every margin cell without a value; a loss gives negative margins.
    """
    records: list[dict[str, object]] = [{"id": "acme", "level": "company"}]
    for r, teams in enumerate(shape):
        records.append({"id": f"r{r}", "parent": "acme", "level": "region"})
        records.extend(
            {"id": f"r{r}t{t}", "parent": f"r{r}", "level": "team"} for t in range(teams)
        )
    tree = OrgTree.from_records(records)
    loss = Metric(name="profit", unit="CNY", non_negative=False)
    margin = Metric(
        name="margin",
        unit="percent",
        rollup="ratio",
        numerator="profit",
        denominator="revenue",
        quantum="0.01",
        non_negative=False,
    )

    def split(level_hedge: str) -> dict[str, Split]:
        return {
            level: Split(strategy=Equal(), hedge=level_hedge) for level in ("company", "region")
        }

    spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=REVENUE,
                target=Decimal(revenue) / 100,
                mode=mode,
                # org_first takes no hedge; balanced with one is issue 12.6, not tested here
                splits=split(hedge if mode == "time_first" else "0"),
            ),
            # a loss (negative profit) is split by symmetry, without bounds or hedges
            MetricCascade(metric=loss, target=Decimal(profit) / 100, mode=mode, splits=split("0")),
        ],
        derived=[margin],
    )
    try:
        plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
    except (SpecError, InfeasibleAllocationError):
        # a mode may refuse a negative total at the door (issue 12.4); derived metrics are not
        # what is tested there
        assume(profit >= 0)
        raise
    report = check(plan)
    assert report.ok, report
    present = plan.present("margin")
    assert present.any() == (revenue != 0)


def _pair() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )


class TestExactOverAssignment:
    """Hedges with many digits (floats such as 1/30) are applied exactly, never wrapping int64 (#21.1)."""

    def test_float_hedge_one_thirtieth(self) -> None:
        """1,000.00 CNY + 1/30 (0.03333333333333333): the children carry 1,033.33 CNY."""
        plan = cascade(
            one(REVENUE, "1000 CNY", splits={"company": Split(strategy=Equal(), hedge=1 / 30)}),
            _pair(),
            FiscalCalendar(fiscal_year=2027),
        )
        east, west = (plan.quanta(n, "FY2027", "revenue") for n in ("east", "west"))
        assert east + west == 103_333
        assert {east, west} == {51_666, 51_667}
        assert check(plan).ok

    def test_float_hedge_one_seventh(self) -> None:
        """1,000.00 CNY + 1/7 (0.14285714285714285) is 1,142.857...: 571.43 CNY each."""
        plan = cascade(
            one(REVENUE, "1000 CNY", splits={"company": Split(strategy=Equal(), hedge=1 / 7)}),
            _pair(),
            FiscalCalendar(fiscal_year=2027),
        )
        assert [plan.quanta(n, "FY2027", "revenue") for n in ("east", "west")] == [57_143] * 2
        assert check(plan).ok

    def test_single_child_small_target(self) -> None:
        """0.90 CNY + 1/30 is 0.93 CNY for the only child."""
        tree = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "east", "parent": "acme", "level": "region"},
            ]
        )
        plan = cascade(
            one(REVENUE, "0.90 CNY", splits={"company": Split(strategy=Equal(), hedge=1 / 30)}),
            tree,
            FiscalCalendar(fiscal_year=2027),
        )
        assert plan.quanta("east", "FY2027", "revenue") == 93
        assert check(plan).ok

    def test_hedged_total_beyond_the_limit_is_refused(self) -> None:
        """A hedge that takes the children past 2**53 quanta is refused, naming the parent cell."""
        spec = one(REVENUE, "1000 CNY", splits={"company": Split(strategy=Equal(), hedge=10**12)})
        with pytest.raises(
            PlanError,
            match=r"'acme' in FY2027 .* beyond the limit of "
            r"90,071,992,547,409\.92 CNY",
        ):
            cascade(spec, _pair(), FiscalCalendar(fiscal_year=2027))

    @given(
        target=st.integers(0, 10**13),
        # a spec refuses hedges of more than 100 digits (subnormal floats), a documented limit
        hedge=st.one_of(
            st.floats(min_value=-0.5, max_value=2.0).filter(lambda h: h == 0 or abs(h) >= 1e-30),
            st.floats(min_value=-0.5, max_value=2.0)
            .filter(lambda h: h == 0 or abs(h) >= 1e-30)
            .map(Fraction),
            st.fractions(min_value=Fraction(-1, 2), max_value=2, max_denominator=10**30),
        ),
    )
    def test_children_carry_the_exact_rounded_hedge(
        self, target: int, hedge: float | Fraction
    ) -> None:
        """For any hedge the children's year is round(target x (1 + h)) by Fractions, checked ok."""
        exact = exact_fraction(hedge)
        assume(exact > -1)
        plan = cascade(
            one(DEALS, target, splits={"company": Split(strategy=Equal(), hedge=hedge)}),
            _pair(),
            FiscalCalendar(fiscal_year=2027),
        )
        children = plan.quanta("east", "FY2027", "deals") + plan.quanta("west", "FY2027", "deals")
        assert children == round(target * (1 + exact))
        assert check(plan).ok


def _abc() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "a", "parent": "acme", "level": "region"},
            {"id": "b", "parent": "acme", "level": "region"},
            {"id": "c", "parent": "acme", "level": "region"},
        ]
    )


def _history_of(metric: Metric, per_month: dict[str, object], year: int = 2026) -> Plan:
    rows = [
        {"node": node, "period": f"FY{year}-M{m:02d}", "metric": metric.name, "value": value}
        for node, value in per_month.items()
        for m in range(1, 13)
    ]
    calendar = FiscalCalendar(fiscal_year=year)
    return Plan.from_leaf_values(_abc(), calendar, [metric], rows, kind="history")


USD = Metric(name="revenue", unit="USD")


class TestHistoryUnits:
    """Last year is read through its own unit and quantum, never as raw quanta (#12.2)."""

    @pytest.mark.parametrize("mode", ["org_first", "time_first"])
    def test_relative_bounds_on_a_history_in_whole_dollars(self, mode: str) -> None:
        """Last year 100 / 200 / 700 USD a month (quantum 1 USD), bounds 0.9-1.1, 4,000 USD each
        by equal shares: a and b are capped at 110 and 220 USD a month, c takes the rest."""
        dollars = Metric(name="revenue", unit="USD", quantum="1")
        history = _history_of(dollars, {"a": 100, "b": 200, "c": 700})
        split = Split(strategy=Equal(), bounds=RelativeBounds(floor="0.9", cap="1.1"))
        spec = one(USD, "12000 USD", mode=mode, splits={"company": split})
        plan = cascade(spec, _abc(), FiscalCalendar(fiscal_year=2027), history=[history])
        years = [plan.quanta(n, "FY2027", "revenue") for n in "abc"]
        assert years == [132_000, 264_000, 804_000]  # 1,320 / 2,640 / 8,040 USD
        months = [plan.quanta(n, "FY2027-M01", "revenue") for n in "abc"]
        assert months == [11_000, 22_000, 67_000]
        assert check(plan).ok

    def test_relative_bounds_on_a_history_in_wan(self) -> None:
        """A history in wan CNY (quantum 1 wan) caps at 1.0 x 1 wan = 10,000.00 CNY a month."""
        wan = Metric(name="revenue", unit="wan CNY", quantum="1")
        history = _history_of(wan, {"a": 1, "b": 1, "c": 10})
        split = Split(strategy=Equal(), bounds=RelativeBounds(cap="1"))
        spec = one(REVENUE, "36 wan CNY", splits={"company": split})
        plan = cascade(spec, _abc(), FiscalCalendar(fiscal_year=2027), history=[history])
        assert plan.quanta("a", "FY2027-M01", "revenue") == 1_000_000
        assert plan.quanta("c", "FY2027", "revenue") == 36_000_000 - 2 * 12_000_000

    def test_cny_history_for_a_usd_metric_is_refused_by_bounds(self) -> None:
        """Relative bounds never read a CNY history as USD."""
        history = _history_of(Metric(name="revenue", unit="CNY"), {"a": 1, "b": 2, "c": 7})
        split = Split(strategy=Equal(), bounds=RelativeBounds(floor="0.9"))
        spec = one(USD, "12000 USD", splits={"company": split})
        with pytest.raises(UnitMismatchError, match=r"FY2026 has 'revenue' in CNY, .* in USD"):
            cascade(spec, _abc(), FiscalCalendar(fiscal_year=2027), history=[history])

    def test_cny_history_for_a_usd_metric_is_refused_by_shares(self) -> None:
        """Historical shares never read a CNY history as USD either."""
        history = _history_of(Metric(name="revenue", unit="CNY"), {"a": 1, "b": 2, "c": 7})
        spec = one(USD, "12000 USD", splits={"company": Split(strategy=ProportionOfAverages())})
        with pytest.raises(UnitMismatchError, match=r"'revenue' in CNY, .* in USD") as caught:
            cascade(spec, _abc(), FiscalCalendar(fiscal_year=2027), history=[history])
        assert caught.value.metric == "revenue"

    def test_years_in_different_quanta_are_shared_alike(self) -> None:
        """2025 in cents (a, b: 100 USD a month) and 2026 in whole dollars (100, 300): a sold 2,400
        and b 4,800 USD in all, so 3,000 USD splits 1,000 / 2,000 (c sold nothing)."""
        cents = _history_of(USD, {"a": "100 USD", "b": "100 USD", "c": 0}, year=2025)
        dollars = Metric(name="revenue", unit="USD", quantum="1")
        whole = _history_of(dollars, {"a": 100, "b": 300, "c": 0})
        spec = one(
            USD,
            "3000 USD",
            mode="org_first",
            splits={"company": Split(strategy=ProportionOfAverages())},
        )
        plan = cascade(spec, _abc(), FiscalCalendar(fiscal_year=2027), history=[cents, whole])
        assert [plan.quanta(n, "FY2027", "revenue") for n in "abc"] == [100_000, 200_000, 0]

    @given(
        last=st.lists(st.integers(0, 10**6), min_size=3, max_size=3),
        target=st.integers(0, 10**9),
        floor=st.sampled_from([None, "0", "0.5", "0.9", "1"]),
        cap=st.sampled_from([None, "1", "1.1", "1.5", "3"]),
        mode=st.sampled_from(["org_first", "time_first"]),
    )
    def test_bounds_do_not_depend_on_the_history_quantum(
        self, last: list[int], target: int, floor: str | None, cap: str | None, mode: str
    ) -> None:
        """The same last year in whole dollars or in cents gives the same plan, or the same refusal."""
        assume(floor is None or cap is None or Decimal(floor) <= Decimal(cap))
        dollars = Metric(name="revenue", unit="USD", quantum="1")
        in_dollars = _history_of(dollars, dict(zip("abc", last, strict=True)))
        in_cents = _history_of(USD, dict(zip("abc", last, strict=True)))  # the same USD, in cents
        split = Split(strategy=Equal(), bounds=RelativeBounds(floor=floor, cap=cap))
        spec = one(USD, target, mode=mode, splits={"company": split})
        outcomes = []
        for history in (in_dollars, in_cents):
            try:
                plan = cascade(spec, _abc(), FiscalCalendar(fiscal_year=2027), history=[history])
                outcomes.append(plan.values.tolist())
            except InfeasibleAllocationError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1]


# ----------------------------------------------------------------- exact history weights (#12.1)


CAL = FiscalCalendar(fiscal_year=2027)


def _leaf_history(tree: OrgTree, monthly: dict[str, list[int]], metric: Metric = DEALS) -> Plan:
    leaves = [tree.compiled.ids[i] for i in np.flatnonzero(tree.compiled.is_leaf)]
    grid = np.array([monthly[n] for n in leaves], dtype=np.int64)
    return Plan.from_leaf_arrays(
        tree, FiscalCalendar(fiscal_year=2026), [metric], {metric.name: grid}, kind="history"
    )


def _flat(n: int) -> OrgTree:
    return OrgTree.from_records(
        [{"id": "acme", "level": "company"}]
        + [{"id": f"c{i}", "parent": "acme", "level": "region"} for i in range(n)]
    )


class TestExactHistoryWeights:
    def test_issue_repro_ties_go_to_the_larger_weight(self):
        """History 1, 3, 6 and 4 deals: quotas 0.4, 1.2, 2.4, the tie goes to c (the larger): 0, 1, 3."""
        tree = OrgTree.from_records(
            [{"id": "acme", "level": "company"}]
            + [{"id": n, "parent": "acme", "level": "region"} for n in "abc"]
        )
        last = _leaf_history(tree, {"a": [0] * 11 + [1], "b": [0] * 11 + [3], "c": [0] * 11 + [6]})
        for strategy in (ProportionOfAverages(), AverageOfProportions()):
            spec = one(DEALS, 4, mode="org_first", splits={"company": Split(strategy=strategy)})
            plan = cascade(spec, tree, CAL, history=[last])
            assert [plan.quanta(n, "FY2027", "deals") for n in "abc"] == [0, 1, 3]

    def test_historical_seasonality_ties_like_seasonal(self):
        """A year of 4 over months sold 1, 3, 6 (in M01-M03): M01-M03 get 0, 1, 3, as under Seasonal."""
        tree = _flat(1)
        last = _leaf_history(tree, {"c0": [1, 3, 6] + [0] * 9})
        split = {"company": Split(strategy=Equal())}
        for time in (HistoricalSeasonality(), Seasonal(profile=(1, 3, 6) + (0,) * 9)):
            spec = one(DEALS, 4, mode="time_first", splits=split, time=time)
            plan = cascade(spec, tree, CAL, history=[last])
            months = [plan.quanta("acme", f"FY2027-M{m:02d}", "deals") for m in (1, 2, 3)]
            assert months == [0, 1, 3]

    def test_sums_above_2_53_are_reduced_exactly(self):
        """Two years of 2**51 and 3 x 2**51 quanta (their sum 2**54, above 2**53) split 1 : 3, exactly."""
        revenue = Metric(name="revenue", unit="CNY", quantum="1")
        tree = _flat(2)
        years = [
            attrs.evolve(
                _leaf_history(
                    tree, {"c0": [0] * 11 + [2**51], "c1": [0] * 11 + [3 * 2**51]}, revenue
                ),
                calendar=FiscalCalendar(fiscal_year=y),
            )
            for y in (2025, 2026)
        ]
        weights = ProportionOfAverages().weights(
            OrgBatch(
                tree=tree,
                calendar=CAL,
                metric=revenue,
                rows=[1, 2],
                offsets=[0, 2],
                parents=[0],
                periods=[0],
                history=History(plans=years),
            )
        )
        assert weights.ravel().tolist() == [1.0, 3.0]


def _tied_weights(draw: st.DrawFn, n: int) -> tuple[list[int], int]:
    """Integer weights and a multiplier m of W / g making two different weights' quotas tie."""
    weights = draw(st.lists(st.integers(1, 12), min_size=n, max_size=n))
    if len(set(weights)) == 1:
        weights[0] += 1
    total = sum(weights)
    pairs = [(a, b) for a in range(n) for b in range(n) if weights[a] > weights[b]]
    a, b = max(pairs, key=lambda p: math.gcd(total, weights[p[0]] - weights[p[1]]))
    step = total // math.gcd(total, weights[a] - weights[b])
    return weights, step


@st.composite
def _history_ties(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    """(per-child multipliers c, a month profile p, a target T): child i sold c_i x p_m in month m.

    Every strategy's weights are proportional to c, and T x (c_a - c_b) / sum(c) is a whole number
    for two children with different c: their quotas tie (fractional parts equal) in the year.
    """
    n = draw(st.integers(2, 6))
    c, step = _tied_weights(draw, n)
    profile = draw(st.lists(st.integers(0, 9), min_size=12, max_size=12).filter(any))
    target = step * draw(st.integers(1, 40))
    return c, profile, target


def _plan_values(plan: Plan) -> list[list[int]]:
    return plan.values[0].tolist()


@given(_history_ties(), st.sampled_from(["org_first", "time_first", "balanced"]))
def test_history_strategies_split_as_proportional_with_the_same_integers(case, mode):
    """ProportionOfAverages / AverageOfProportions give the plan Proportional gives on the same integers."""
    c, profile, target = case
    tree = _flat(len(c))
    ids = [f"c{i}" for i in range(len(c))]
    last = _leaf_history(tree, {n: [ci * p for p in profile] for n, ci in zip(ids, c, strict=True)})
    totals = {n: ci * sum(profile) for n, ci in zip(ids, c, strict=True)}
    # average of proportions: sum over the M selling months of c_i p_t / (C p_t), times the lcm L
    # of the parent's months C p_t (the common factor that makes the weights whole): c_i M L / C
    big_c, selling = sum(c), [p for p in profile if p]
    lcm = math.lcm(*(big_c * p for p in selling))
    averages = {n: ci * len(selling) * lcm // big_c for n, ci in zip(ids, c, strict=True)}
    plans = []
    for strategy in (
        ProportionOfAverages(),
        Proportional(values=totals),
        AverageOfProportions(),
        Proportional(values=averages),
    ):
        # Even phasing of 12 T puts T in every month, so the months tie in time_first too
        spec = one(DEALS, 12 * target, mode=mode, splits={"company": Split(strategy=strategy)})
        plans.append(cascade(spec, tree, CAL, history=[last]))
    assert _plan_values(plans[0]) == _plan_values(plans[1])
    assert _plan_values(plans[2]) == _plan_values(plans[3])
    if mode != "balanced":  # balanced fits its seed by float IPF, which reads the seed's scale
        assert _plan_values(plans[2]) == _plan_values(plans[1])
    if mode == "org_first":
        year = [plans[0].quanta(n, "FY2027", "deals") for n in ids]
        assert year == ref.hamilton(12 * target, [float(x) for x in c])


@given(_history_ties(), st.sampled_from(["org_first", "time_first", "balanced"]))
def test_historical_seasonality_phases_as_seasonal_with_the_same_integers(case, mode):
    """HistoricalSeasonality gives the plan Seasonal(profile=<the month totals>) gives, ties included."""
    c, profile, target = case
    tree = _flat(len(c))
    ids = [f"c{i}" for i in range(len(c))]
    last = _leaf_history(tree, {n: [ci * p for p in profile] for n, ci in zip(ids, c, strict=True)})
    # a year of m x sum(p) / g makes two months with different p tie
    p_total = sum(profile)
    diffs = [abs(a - b) for a in profile for b in profile if a != b] or [0]
    g = max(math.gcd(p_total, d) for d in diffs)
    year = (p_total // g) * (target % 7 + 1) * len(c)
    split = {"company": Split(strategy=Proportional(values=dict.fromkeys(ids, 1)))}
    plans = [
        cascade(one(DEALS, year, mode=mode, splits=split, time=time), tree, CAL, history=[last])
        for time in (HistoricalSeasonality(), Seasonal(profile=tuple(profile)))
    ]
    assert _plan_values(plans[0]) == _plan_values(plans[1])
    if mode == "time_first":
        months = [plans[0].quanta("acme", f"FY2027-M{m:02d}", "deals") for m in range(1, 13)]
        quarters = ref.hamilton(year, [float(sum(profile[3 * q : 3 * q + 3])) for q in range(4)])
        expected = [
            x
            for q in range(4)
            for x in ref.hamilton(quarters[q], [float(p) for p in profile[3 * q : 3 * q + 3]])
        ]
        assert months == expected


# ----------------------------------------------------------- plug-in weights of any size (#21.9)


@pytest.mark.parametrize("mode", ["org_first", "time_first", "balanced"])
@pytest.mark.parametrize("size", [1.0, 1e308, 2.0**-1000])
def test_equal_weights_of_any_size_split_as_equal_weights(mode, size):
    """Equal weights of 1e308 (or tiny ones) split 100,000 deals 50,000 / 50,000, as weights of 1 do."""
    from _catalogue_weights import Returns

    tree = _flat(2)
    spec = one(DEALS, 100_000, mode=mode, splits={"company": Split(strategy=Returns(value=size))})
    plan = cascade(spec, tree, CAL)
    assert [plan.quanta(n, "FY2027", "deals") for n in ("c0", "c1")] == [50_000, 50_000]


# ------------------------------------------------------------ members without history (#12.9)


def _newcomers() -> tuple[OrgTree, Plan]:
    """acme -> a, b, c, d this year; last year only a (1 a month) and b (3 a month) existed."""
    tree = OrgTree.from_records(
        [{"id": "acme", "level": "company"}]
        + [{"id": n, "parent": "acme", "level": "region"} for n in "abcd"]
    )
    past = OrgTree.from_records(
        [{"id": "acme", "level": "company"}]
        + [{"id": n, "parent": "acme", "level": "region"} for n in "ab"]
    )
    last = Plan.from_leaf_arrays(
        past,
        FiscalCalendar(fiscal_year=2026),
        [DEALS],
        {"deals": np.array([[1] * 12, [3] * 12])},
        kind="history",
    )
    return tree, last


def _history_split(strategy: object, mode: str = "org_first") -> CascadeSpec:
    return one(DEALS, 120, mode=mode, splits={"company": Split(strategy=strategy)})


class TestFallbacks:
    def test_members_without_history_are_listed(self):
        """c and d have no history: they take Equal's 1/4 each (30), and plan.fallbacks says so."""
        tree, last = _newcomers()
        plan = cascade(_history_split(ProportionOfAverages()), tree, CAL, history=[last])
        assert [plan.quanta(n, "FY2027", "deals") for n in "abcd"] == [15, 45, 30, 30]
        assert plan.fallbacks == (
            Fallback(
                metric="deals",
                node="c",
                level="region",
                reason="no history",
                strategy="proportion_of_averages",
            ),
            Fallback(
                metric="deals",
                node="d",
                level="region",
                reason="no history",
                strategy="proportion_of_averages",
            ),
        )

    @pytest.mark.parametrize("mode", ["org_first", "time_first", "balanced"])
    def test_every_mode_lists_each_member_once(self, mode):
        """Whatever the mode (one column or twelve), each member is listed once per reason."""
        tree, last = _newcomers()
        plan = cascade(_history_split(ProportionOfAverages(), mode), tree, CAL, history=[last])
        assert [(f.node, f.reason) for f in plan.fallbacks] == [
            ("c", "no history"),
            ("d", "no history"),
        ]

    def test_explicit_zero_history_is_a_zero_base_not_a_fallback(self):
        """A member that sold 0 has a zero base (no target, no fallback); an absent one falls back."""
        tree, _ = _newcomers()
        last = _leaf_history(tree, {"a": [1] * 12, "b": [3] * 12, "c": [0] * 12, "d": [0] * 12})
        plan = cascade(_history_split(ProportionOfAverages()), tree, CAL, history=[last])
        assert [plan.quanta(n, "FY2027", "deals") for n in "abcd"] == [30, 90, 0, 0]
        assert plan.fallbacks == ()

    def test_a_segment_whose_history_sums_to_zero_falls_back_outright(self):
        """Every member sold 0: the whole segment takes the fallback, reason 'zero base'."""
        tree, _ = _newcomers()
        last = _leaf_history(tree, dict.fromkeys("abcd", [0] * 12))
        plan = cascade(_history_split(ProportionOfAverages()), tree, CAL, history=[last])
        assert [plan.quanta(n, "FY2027", "deals") for n in "abcd"] == [30, 30, 30, 30]
        assert [(f.node, f.reason) for f in plan.fallbacks] == [(n, "zero base") for n in "abcd"]

    def test_explain_names_the_fallback(self):
        """explain adds a line for a cell whose member took the fallback, and none for the others."""
        tree, last = _newcomers()
        plan = cascade(_history_split(ProportionOfAverages()), tree, CAL, history=[last])
        note = "c has its weight from the fallback of proportion_of_averages (no history)"
        assert str(explain(plan, "c", "FY2027", "deals")).splitlines()[-1] == f"  note: {note}"
        assert explain(plan, "c", "FY2027", "deals").to_dict()["notes"] == [note]
        assert explain(plan, "a", "FY2027", "deals").notes == ()

    def test_no_fallback_is_an_error_naming_every_member(self):
        """fallback=None: the members without history are an error naming every one, not the first."""
        tree, last = _newcomers()
        spec = _history_split(AverageOfProportions(fallback=None))
        with pytest.raises(StrategyError, match=r"2 members have no history of 'deals': 'c', 'd'"):
            cascade(spec, tree, CAL, history=[last])

    def test_no_fallback_with_full_history_is_fine(self):
        """fallback=None is no error when every member has history: the plan is the usual one."""
        tree, _ = _newcomers()
        last = _leaf_history(tree, {"a": [1] * 12, "b": [3] * 12, "c": [0] * 12, "d": [4] * 12})
        plan = cascade(
            _history_split(ProportionOfAverages(fallback=None)), tree, CAL, history=[last]
        )
        assert [plan.quanta(n, "FY2027", "deals") for n in "abcd"] == [15, 45, 0, 60]

    def test_time_fallbacks_are_listed_and_none_refuses(self):
        """HistoricalSeasonality: a leaf without history phases Even and is listed; None refuses."""
        tree, last = _newcomers()
        split = {"company": Split(strategy=Equal())}
        spec = one(DEALS, 120, mode="org_first", splits=split, time=HistoricalSeasonality())
        plan = cascade(spec, tree, CAL, history=[last])
        assert [(f.node, f.reason, f.strategy) for f in plan.fallbacks] == [
            ("c", "no history", "historical_seasonality"),
            ("d", "no history", "historical_seasonality"),
        ]
        spec = one(
            DEALS, 120, mode="org_first", splits=split, time=HistoricalSeasonality(fallback=None)
        )
        with pytest.raises(StrategyError, match=r"no usable history .* for 'c', 'd'"):
            cascade(spec, tree, CAL, history=[last])

    def test_fallbacks_are_provenance_not_identity(self):
        """Fallback records are frozen, and like provenance not part of plan equality or to_dict."""
        tree, last = _newcomers()
        plan = cascade(_history_split(ProportionOfAverages()), tree, CAL, history=[last])
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            plan.fallbacks[0].node = "x"  # type: ignore[misc]
        rebuilt = Plan.from_dict(plan.to_dict())
        assert rebuilt == plan
        assert rebuilt.fallbacks == ()


# ------------------------------------------------- average of proportions of the top (FPP3) (#12)


class TestAverageOfProportionsRelativeToTop:
    """Total -> s1 (r1, r2), s2 (r3); two history months: r = 1, 1, 2 (total 4), then 3, 0, 1 (4)."""

    def _plan(self, relative_to: str) -> Plan:
        tree = OrgTree.from_records(
            [
                {"id": "total", "level": "company"},
                {"id": "s1", "parent": "total", "level": "region"},
                {"id": "s2", "parent": "total", "level": "region"},
                {"id": "r1", "parent": "s1", "level": "team"},
                {"id": "r2", "parent": "s1", "level": "team"},
                {"id": "r3", "parent": "s2", "level": "team"},
            ]
        )
        grid = np.zeros((3, 12), dtype=np.int64)
        grid[:, 0], grid[:, 1] = [1, 1, 2], [3, 0, 1]
        last = Plan.from_leaf_arrays(
            tree, FiscalCalendar(fiscal_year=2026), [DEALS], {"deals": grid}, kind="history"
        )
        split = Split(strategy=AverageOfProportions(relative_to=relative_to))
        spec = one(DEALS, 80, mode="org_first", splits={"company": split, "region": split})
        return cascade(spec, tree, CAL, history=[last])

    def test_top_gives_each_leaf_its_average_proportion_of_the_total(self):
        """FPP3: r1 mean(1/4, 3/4) = 1/2, r2 mean(1/4, 0) = 1/8, r3 mean(2/4, 1/4) = 3/8 of 80."""
        plan = self._plan("top")
        assert [plan.quanta(n, "FY2027", "deals") for n in ("r1", "r2", "r3")] == [40, 10, 30]
        assert [plan.quanta(n, "FY2027", "deals") for n in ("s1", "s2")] == [50, 30]

    def test_parent_multiplies_each_levels_proportion(self):
        """Ours: s1 mean(2/4, 3/4) = 5/8 of 80 = 50; r1 mean(1/2, 3/3) = 3/4 of 50 = 37.5 -> 38."""
        plan = self._plan("parent")
        # r1 37.5 and r2 12.5 tie on .5: the leftover deal goes to the larger weight, r1
        assert [plan.quanta(n, "FY2027", "deals") for n in ("r1", "r2", "r3")] == [38, 12, 30]

    def test_relative_to_is_a_validated_serialised_field(self):
        """relative_to round-trips through to_dict; anything but 'parent' or 'top' is refused."""
        from targetcascade.allocation import default_registry

        strategy = AverageOfProportions(relative_to="top")
        assert strategy.to_dict()["relative_to"] == "top"
        assert default_registry().from_dict(strategy.to_dict()) == strategy
        assert AverageOfProportions() == AverageOfProportions(relative_to="parent")
        with pytest.raises(StrategyError, match="relative_to='leaves'"):
            AverageOfProportions(relative_to="leaves")


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=4),
    st.integers(1, 3),
    st.integers(1, 60),
)
def test_fallback_mixing_is_exact(known, missing, target):
    """New members (Equal fallback) and members with history split as the exact Fraction shares say."""
    n = len(known) + missing
    tree = _flat(n)
    ids = [f"c{i}" for i in range(n)]
    past = OrgTree.from_records(
        [{"id": "acme", "level": "company"}]
        + [{"id": i, "parent": "acme", "level": "region"} for i in ids[missing:]]
    )
    last = Plan.from_leaf_arrays(
        past,
        FiscalCalendar(fiscal_year=2026),
        [DEALS],
        {"deals": np.array([[0] * 11 + [k] for k in known])},
        kind="history",
    )
    spec = one(
        DEALS, target, mode="org_first", splits={"company": Split(strategy=ProportionOfAverages())}
    )
    plan = cascade(spec, tree, CAL, history=[last])
    # by the rule: a new member (first in input order) keeps 1/n, the others share
    # (n - missing) / n as their history; ties between them go by the exact shares
    base = sum(known)
    shares = [Fraction(1, n)] * missing
    shares += [Fraction(n - missing, n) * Fraction(k, base) for k in known]
    assert [plan.quanta(i, "FY2027", "deals") for i in ids] == ref.hamilton(target, shares)


@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.sampled_from([0, 0.25, 0.5, 1.5, 2, 3])),
        min_size=2,
        max_size=5,
    ),
    st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 3.0]),
    st.sampled_from([0.1, 0.3, 0.5, 0.9, 1.0, 2.0]),
    st.integers(1, 5),
    st.sampled_from(["org_first", "time_first"]),
)
@example(values=[(0, 1), (0, 6), (1, 1)], a=0.1, b=0.1, target=1, mode="org_first")
def test_blend_splits_as_its_exact_fractions(values, a, b, target, mode):
    """A blend of whole and binary-fraction parts splits as its exact weights say (0.7 read as 7/10)."""
    first = [x for x, _ in values]
    second = [y for _, y in values]
    assume(sum(first) > 0 and sum(second) > 0)
    ids = [f"c{i}" for i in range(len(values))]
    tree = _flat(len(values))
    parts = (
        (Proportional(values=dict(zip(ids, first, strict=True))), a),
        (Proportional(values=dict(zip(ids, second, strict=True))), b),
    )
    exact = [
        Fraction(repr(a)) * Fraction(x) / sum(map(Fraction, first))
        + Fraction(repr(b)) * Fraction(y) / sum(map(Fraction, second))
        for x, y in values
    ]
    # a target making two different exact weights' quotas tie: T (w_i - w_j) / W a whole number
    total = sum(exact)
    gaps = [abs(u - v) / total for u in exact for v in exact if u != v]
    assume(gaps)
    target *= min(g.denominator for g in gaps)
    common = math.lcm(*(w.denominator for w in exact))
    integers = {i: int(w * common) for i, w in zip(ids, exact, strict=True)}
    plans = [
        cascade(
            one(DEALS, 12 * target, mode=mode, splits={"company": Split(strategy=s)}), tree, CAL
        )
        for s in (Blend(parts=parts), Proportional(values=integers))
    ]
    assert _plan_values(plans[0]) == _plan_values(plans[1])
    if mode == "org_first":
        year = [plans[0].quanta(i, "FY2027", "deals") for i in ids]
        assert year == ref.hamilton(12 * target, exact)
