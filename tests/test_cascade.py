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
from hypothesis import assume, given
from hypothesis import strategies as st

from targetcascade import (
    AbsoluteBounds,
    CascadeSpec,
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
)
from targetcascade.allocation import (
    CapacityWeighted,
    Equal,
    Even,
    HistoricalSeasonality,
    Proportional,
    ProportionOfAverages,
    Seasonal,
    Webster,
)
from targetcascade.cascade import SPEC_SCHEMA_VERSION
from targetcascade.errors import (
    InfeasibleAllocationError,
    PeriodError,
    QuantumError,
    SerializationError,
    SpecError,
    StrategyError,
    TargetCascadeError,
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
            assert set(obj.to_dict()) == {f.name for f in attrs.fields(type(obj))} | extra

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
            patch.setattr(engine, "_INT_LIMIT", -1.0)
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


def test_a_year_lock_that_cannot_be_phased_names_its_node():
    """A year lock is phased like its parent's months by the kernel; when that fails, the error
    names the lock's node (its label is made only then)."""
    spec = one(DEALS, 1000, splits={"company": Split(strategy=Equal())},
               locks=[Lock(node="west", period="FY2027", value=2**60)])  # fmt: skip
    with pytest.raises(
        InfeasibleAllocationError, match=r"'lock of west' in FY2027: total \d+ exceeds"
    ):
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
    # last year's values: some missing (NaN: no bound), some zero (a cap of 0)
    last = data.draw(
        st.lists(
            st.one_of(st.just(float("nan")), st.just(0.0), st.floats(0, 1e8)),
            min_size=n * months,
            max_size=n * months,
        )
    )
    reference = np.array(last).reshape(n, months)
    floor = data.draw(st.one_of(st.none(), st.sampled_from([0.0, 0.5, 0.9])))
    cap = data.draw(st.one_of(st.none(), st.sampled_from([1.0, 1.5, 2.0])))
    relative = engine._Relative(reference, floor, cap)
    lazy = engine._Limits(locked, mask, relative=relative)
    whole = lazy.resolved()
    assert whole.relative is None
    # worked out by hand: floors rounded up, caps down, no bound where last year is missing
    if floor is not None:
        want = np.where(np.isnan(reference), 0, np.ceil(reference * floor - 1e-9))
        if mask is not None:
            want = np.where(mask, np.minimum(want, locked), want)
        assert np.array_equal(whole.floors, want.astype(np.int64))
    if cap is not None:
        top = float(np.iinfo(np.int64).max // 4)
        want = np.where(np.isnan(reference), top, np.floor(reference * cap + 1e-9))
        if mask is not None:
            want = np.where(mask, np.maximum(want, locked), want)
        assert np.array_equal(whole.caps, want.astype(np.int64))
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
