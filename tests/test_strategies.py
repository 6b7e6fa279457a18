"""Built-in org and time strategies: hand-checked weights, the Gross-Sohl formulas, fallbacks, properties."""

from __future__ import annotations

import datetime as dt
import pickle
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetcascade.allocation._batch import OrgBatch, TimeBatch
from targetcascade.allocation._history import History
from targetcascade.allocation.org_strategies import (
    AverageOfProportions,
    Blend,
    CapacityWeighted,
    Equal,
    HistoricalShare,
    Proportional,
    ProportionOfAverages,
    checked_weights,
    mix_fallback,
    segment_sum,
)
from targetcascade.allocation.time_strategies import (
    Even,
    HistoricalSeasonality,
    Seasonal,
    WorkingDays,
    checked_profile,
)
from targetcascade.calendar import FiscalCalendar
from targetcascade.errors import StrategyError, UnitMismatchError
from targetcascade.metric import Metric
from targetcascade.org import OrgTree
from targetcascade.plan import Plan
from targetcascade.testing._conformance import _reversed, children_batch
from targetcascade.testing._trees import org_trees

CAL = FiscalCalendar(fiscal_year=2027)
REVENUE = Metric(name="revenue", unit="CNY")
MONTHS = [f"FY2027-M{m:02d}" for m in range(1, 13)]

# The small company most tests use. People (leaves) carry fte and dates.
RECORDS = [
    {"id": "acme", "level": "company"},
    {"id": "east", "parent": "acme", "level": "region", "potential": 3.0},
    {"id": "east-1", "parent": "east", "level": "team"},
    {"id": "ann", "parent": "east-1", "level": "individual", "fte": 1.0,
     "start_date": "2020-01-01"},
    {"id": "bob", "parent": "east-1", "level": "individual", "fte": 0.5,
     "start_date": "2021-01-01"},
    {"id": "cat", "parent": "east-1", "level": "individual", "fte": 1.0,
     "start_date": "2027-07-01"},
    {"id": "west", "parent": "acme", "level": "region", "potential": 1.0},
    {"id": "west-1", "parent": "west", "level": "team"},
    {"id": "dan", "parent": "west-1", "level": "individual", "fte": 1.0,
     "start_date": "2019-01-01", "end_date": "2027-06-30"},
    {"id": "eve", "parent": "west-1", "level": "individual"},
]  # fmt: skip
TREE = OrgTree.from_records(RECORDS)


def history_of(values: dict[str, list[list[float]]], *, metric: Metric = REVENUE) -> History:
    """History plans from per-leaf monthly rows, one list of 12 values per year (2025 onwards).

    The history tree holds only the people named in ``values`` (absent people have no history).
    """
    keep = set(values)
    records = [r for r in RECORDS if r["level"] != "individual" or r["id"] in keep]
    tree = OrgTree.from_records(records)
    leaves = [tree.compiled.ids[i] for i in np.flatnonzero(tree.compiled.is_leaf).tolist()]
    years = len(next(iter(values.values())))
    plans = []
    for k in range(years):
        grid = np.array([values[leaf][k] for leaf in leaves], dtype=np.int64)
        plans.append(
            Plan.from_leaf_arrays(
                tree,
                FiscalCalendar(fiscal_year=2025 + k),
                [metric],
                {metric.name: grid},
                origin="actual",
                kind="history",
            )
        )
    return History(plans=plans)


def team_batch(periods: list[str] | None = None, history: History | None = None) -> OrgBatch:
    """The people of east-1 (ann, bob, cat) and of west-1 (dan, eve)."""
    return children_batch(TREE, CAL, REVENUE, ["east-1", "west-1"], periods=periods,
                          history=history)  # fmt: skip


def region_batch(periods: list[str] | None = None) -> OrgBatch:
    """The two regions under acme."""
    return children_batch(TREE, CAL, REVENUE, ["acme"], periods=periods or ["FY2027"])


def by_id(batch: OrgBatch | TimeBatch, weights: np.ndarray) -> dict[str, list[float]]:
    return dict(zip(batch.ids, weights.tolist(), strict=True))


def shares(batch: OrgBatch, weights: np.ndarray) -> np.ndarray:
    """Weights as shares of their segment column (only ratios within a parent count)."""
    sums = segment_sum(weights, batch.offsets)
    return weights / np.repeat(sums, np.diff(batch.offsets), axis=0)


class TestSegmentSum:
    def test_sums_rows_per_segment(self):
        """Each segment's rows are summed column by column."""
        values = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]])
        assert segment_sum(values, np.array([0, 2, 3])).tolist() == [[3.0, 30.0], [4.0, 40.0]]

    def test_empty_segments_sum_to_zero(self):
        """An empty segment, also at the start or the end, sums to zero."""
        out = segment_sum(np.array([1.0, 2.0]), np.array([0, 0, 1, 1, 2, 2]))
        assert out.tolist() == [0.0, 1.0, 0.0, 2.0, 0.0]


class TestEqual:
    def test_every_child_weighs_one(self):
        """Every child in every column has weight 1."""
        batch = team_batch(["FY2027", "FY2027-Q1"])
        assert Equal().weights(batch).tolist() == [[1.0, 1.0]] * 5

    def test_is_a_frozen_value(self):
        """Equal instances are equal, hashable and picklable."""
        assert Equal() == pickle.loads(pickle.dumps(Equal()))
        assert hash(Equal()) == hash(Equal())


class TestProportional:
    def test_weighs_by_attribute(self):
        """Regions are weighed by their 'potential' attribute: 3 and 1."""
        assert Proportional(attribute="potential").weights(region_batch()).tolist() == [
            [3.0],
            [1.0],
        ]

    def test_weighs_by_fte(self):
        """attribute='fte' weighs by fte; a person without fte is refused (no value)."""
        batch = children_batch(TREE, CAL, REVENUE, ["east-1"], periods=["FY2027"])
        assert Proportional(attribute="fte").weights(batch).ravel().tolist() == [1.0, 0.5, 1.0]
        with pytest.raises(StrategyError, match="'eve'"):
            Proportional(attribute="fte").weights(team_batch(["FY2027"]))

    def test_weighs_by_explicit_values(self):
        """values= gives each child its weight by id, the same in every column."""
        strategy = Proportional(values={"ann": 2, "bob": 1, "cat": 1, "dan": 5, "eve": 0})
        weights = strategy.weights(team_batch(["FY2027-Q1", "FY2027-Q2"]))
        assert weights.tolist() == [[2.0, 2.0], [1.0, 1.0], [1.0, 1.0], [5.0, 5.0], [0.0, 0.0]]

    def test_missing_value_names_the_node(self):
        """A child without a value is an error naming it and its parent, when there is no fallback."""
        with pytest.raises(StrategyError, match="'cat' of parent 'east-1' has no value") as info:
            Proportional(values={"ann": 2, "bob": 1, "dan": 1, "eve": 1}).weights(team_batch())
        assert info.value.node == "cat"
        assert "fallback" in str(info.value)

    def test_missing_value_takes_fallback_share(self):
        """With fallback=Equal, cat keeps 1/3 and ann:bob = 3:1 share the other 2/3."""
        strategy = Proportional(values={"ann": 3, "bob": 1, "dan": 1, "eve": 1}, fallback=Equal())
        batch = team_batch(["FY2027"])
        weights = by_id(batch, shares(batch, strategy.weights(batch)))
        assert weights["cat"] == pytest.approx([1 / 3])
        assert weights["ann"] == pytest.approx([2 / 3 * 3 / 4])  # 0.5
        assert weights["bob"] == pytest.approx([2 / 3 * 1 / 4])  # 1/6
        assert weights["dan"] == weights["eve"] == [0.5]  # west-1 has all values: 1:1

    def test_zero_segment_without_fallback_returns_zeros(self):
        """Values that sum to zero under a parent give zeros (may_return_zero is declared)."""
        strategy = Proportional(values={"ann": 0, "bob": 0, "cat": 0, "dan": 1, "eve": 1})
        assert Proportional.may_return_zero
        assert strategy.weights(team_batch(["FY2027"])).ravel().tolist() == [0, 0, 0, 1, 1]

    def test_zero_segment_with_fallback_takes_fallback(self):
        """Values that sum to zero under a parent take the fallback's shares outright."""
        strategy = Proportional(
            values={"ann": 0, "bob": 0, "cat": 0, "dan": 1, "eve": 1}, fallback=Equal()
        )
        batch = team_batch(["FY2027"])
        weights = shares(batch, strategy.weights(batch)).ravel()
        assert weights == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.5, 0.5])

    def test_unknown_attribute_is_an_error(self):
        """An attribute no node carries is a StrategyError with a suggestion."""
        with pytest.raises(StrategyError, match=r"'potentail' \(did you mean 'potential'\?\)"):
            Proportional(attribute="potentail").weights(region_batch())

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({}, "exactly one of attribute= and values=, got neither"),
            ({"attribute": "potential", "values": {"a": 1}}, "got both"),
            ({"attribute": ""}, "attribute='' is not an attribute name"),
            ({"values": {"ann": -1}}, r"values\['ann'\]=-1 is not a finite number >= 0"),
            ({"values": {"ann": float("nan")}}, r"values\['ann'\]=nan"),
            ({"values": {"ann": "2"}}, r"values\['ann'\]='2' is not a number"),
            ({"values": 5}, "values=5 is not a mapping"),
            ({"attribute": "potential", "fallback": Even()}, "fallback=Even\\(\\) is not an org"),
        ],
    )
    def test_invalid_parameters_are_refused(self, kwargs, match):
        """Bad parameters fail at construction, naming the parameter and the value."""
        with pytest.raises(StrategyError, match=match):
            Proportional(**kwargs)

    def test_values_are_stored_sorted(self):
        """values= is stored as sorted (id, weight) pairs, so equal mappings give equal strategies."""
        a = Proportional(values={"b": 1, "a": 2})
        assert a.values == (("a", 2.0), ("b", 1.0))
        assert a == Proportional(values={"a": 2.0, "b": 1.0})


class TestCapacityWeighted:
    def test_new_hire_ramps_up(self):
        """fte 1.0 hired 2027-07-01, ramp 25/50/75/100: 0 for Jan-Jun, then 0.25, 0.5, 0.75, 1."""
        batch = children_batch(TREE, CAL, REVENUE, ["east-1"])
        weights = by_id(batch, CapacityWeighted().weights(batch))
        assert weights["cat"] == [0, 0, 0, 0, 0, 0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
        assert weights["ann"] == [1.0] * 12
        assert weights["bob"] == [0.5] * 12

    def test_leaver_carries_nothing_after_end(self):
        """dan leaves on 2027-06-30: 1.0 until June, 0 after; eve (no fte, no dates) counts 1.0."""
        batch = children_batch(TREE, CAL, REVENUE, ["west-1"])
        weights = by_id(batch, CapacityWeighted().weights(batch))
        assert weights["dan"] == [1.0] * 6 + [0.0] * 6
        assert weights["eve"] == [1.0] * 12

    def test_team_capacity_is_the_sum_of_its_people(self):
        """A team weighs the summed capacity of its people: east-1 1.5 then 1.75, 2, 2.25, 2.5."""
        batch = children_batch(TREE, CAL, REVENUE, ["east", "west"])
        weights = by_id(batch, CapacityWeighted().weights(batch))
        assert weights["east-1"] == [1.5] * 6 + [1.75, 2.0, 2.25, 2.5, 2.5, 2.5]
        assert weights["west-1"] == [2.0] * 6 + [1.0] * 6

    def test_long_columns_average_their_months(self):
        """A quarter is the mean of its months, the year the mean of twelve."""
        batch = children_batch(TREE, CAL, REVENUE, ["east", "west"],
                               periods=["FY2027-Q3", "FY2027"])  # fmt: skip
        weights = by_id(batch, CapacityWeighted().weights(batch))
        assert weights["east-1"] == pytest.approx([(1.75 + 2.0 + 2.25) / 3, 22.5 / 12])
        assert weights["west-1"] == pytest.approx([1.0, 18 / 12])

    def test_regions_sum_over_every_level_below(self):
        """A region weighs the people two levels down: east 1.875 and west 1.5 over the year."""
        weights = CapacityWeighted().weights(region_batch())
        assert weights.ravel().tolist() == pytest.approx([22.5 / 12, 18 / 12])

    def test_partial_months_count_active_days(self):
        """A start on the 16th of July counts 16/31 of July (no ramp); an end on 15 June, 15/30."""
        tree = OrgTree.from_records([
            {"id": "acme", "level": "company"},
            {"id": "r", "parent": "acme", "level": "region"},
            {"id": "t", "parent": "r", "level": "team"},
            {"id": "fin", "parent": "t", "level": "individual", "start_date": "2027-07-16"},
            {"id": "gus", "parent": "t", "level": "individual", "end_date": "2027-06-15"},
        ])  # fmt: skip
        batch = children_batch(tree, CAL, REVENUE, ["t"], periods=["FY2027-M06", "FY2027-M07"])
        np.testing.assert_allclose(
            CapacityWeighted(ramp=()).weights(batch), [[0.0, 16 / 31], [0.5, 0.0]]
        )
        ramped = CapacityWeighted().weights(batch)  # July is fin's first tenure month: 25 %
        assert ramped[0].tolist() == pytest.approx([0.0, 0.25 * 16 / 31])

    def test_ramp_months_count_from_the_start_month(self):
        """Hired 15 November 2026: January 2027 is tenure month 2 (75 %), February month 3 (100 %)."""
        tree = OrgTree.from_records([
            {"id": "acme", "level": "company"},
            {"id": "r", "parent": "acme", "level": "region"},
            {"id": "t", "parent": "r", "level": "team"},
            {"id": "hal", "parent": "t", "level": "individual", "start_date": "2026-11-15"},
        ])  # fmt: skip
        batch = children_batch(tree, CAL, REVENUE, ["t"], periods=MONTHS[:3])
        # Nov 2026 is month 0, Dec 1, Jan 2 (0.75), Feb 3 (1.0), Mar 4 (after the ramp: 1.0)
        assert CapacityWeighted().weights(batch).ravel().tolist() == [0.75, 1.0, 1.0]

    def test_four_four_five_months(self):
        """On a 4-4-5 calendar a month's share counts its own days (weekly months)."""
        weekly = FiscalCalendar(fiscal_year=2027, pattern="4-4-5")
        batch = children_batch(TREE, weekly, REVENUE, ["west-1"])
        weights = by_id(batch, CapacityWeighted().weights(batch))
        assert weights["eve"] == [1.0] * 12
        months = [p for p in weekly.periods if p.label.startswith("FY2027-M")]
        last = next(i for i, p in enumerate(months) if p.contains(dt.date(2027, 6, 30)))
        active = (dt.date(2027, 6, 30) - months[last].start).days + 1  # dan leaves on 30 June
        assert weights["dan"][last] == pytest.approx(active / months[last].days)
        assert weights["dan"][last + 1 :] == [0.0] * (11 - last)

    @pytest.mark.parametrize(
        ("ramp", "match"),
        [((0.5, 1.5), r"ramp\[1\]=1.5"), ((-0.1,), r"ramp\[0\]=-0.1"), (5, "ramp=5"),
         ((float("nan"),), r"ramp\[0\]=nan"), ((True,), r"ramp\[0\]=True")],
    )  # fmt: skip
    def test_invalid_ramp_is_refused(self, ramp, match):
        """A ramp value outside [0, 1] (or not a number) fails at construction, naming it."""
        with pytest.raises(StrategyError, match=match):
            CapacityWeighted(ramp=ramp)

    def test_all_absent_team_gets_zero(self):
        """A segment where nobody works yet gets zero weights (may_return_zero is declared)."""
        tree = OrgTree.from_records([r for r in RECORDS if r["id"] not in {"ann", "bob"}])
        batch = children_batch(tree, CAL, REVENUE, ["east-1"], periods=["FY2027-M01"])
        assert CapacityWeighted.may_return_zero
        assert CapacityWeighted().weights(batch).tolist() == [[0.0]]


# History tables for the Gross-Sohl formulas: ann and bob sell in months 1-3 only.
#   month 1: ann 1, bob 3 (parent 4) -> shares 1/4, 3/4
#   month 2: ann 2, bob 2 (parent 4) -> shares 1/2, 1/2
#   month 3: ann 6, bob 2 (parent 8) -> shares 3/4, 1/4
#   months 4-12: nothing (parent 0: skipped by average of proportions)
# proportion of averages: ann 9/16, bob 7/16; average of proportions: ann 1/2, bob 1/2.
ANN = [1, 2, 6] + [0] * 9
BOB = [3, 2, 2] + [0] * 9
WEST = [10] * 12


def gross_sohl_history() -> History:
    return history_of({"ann": [ANN], "bob": [BOB], "dan": [WEST], "eve": [WEST]})


def east_two_batch(history: History) -> OrgBatch:
    """ann and bob only (cat removed from the tree)."""
    tree = OrgTree.from_records([r for r in RECORDS if r["id"] != "cat"])
    return children_batch(tree, CAL, REVENUE, ["east-1"], periods=["FY2027"], history=history)


class TestProportionOfAverages:
    def test_hand_checked_shares(self):
        """ann sold 9 and bob 7 of 16: weights 9 and 7, the totals themselves (shares 9/16, 7/16)."""
        weights = ProportionOfAverages().weights(east_two_batch(gross_sohl_history()))
        assert weights.ravel().tolist() == [9.0, 7.0]

    def test_new_hire_takes_fallback_share(self):
        """cat has no history: with Equal she keeps 1/3; ann and bob share 2/3 as 9:7."""
        batch = team_batch(["FY2027"], gross_sohl_history())
        raw = ProportionOfAverages().weights(batch)
        weights = by_id(batch, shares(batch, raw))
        assert weights["cat"] == pytest.approx([1 / 3])
        assert weights["ann"] == pytest.approx([2 / 3 * 9 / 16])
        assert weights["bob"] == pytest.approx([2 / 3 * 7 / 16])
        assert sum(weights[n][0] for n in ("ann", "bob", "cat")) == pytest.approx(1.0)
        # exactly, as whole numbers (x B = 16, x F = 3): 9 x 2, 7 x 2, 1 x 16
        assert [by_id(batch, raw)[n][0] for n in ("ann", "bob", "cat")] == [18.0, 14.0, 16.0]

    def test_capacity_fallback_follows_the_ramp(self):
        """With a capacity fallback cat gets 0 in January and 0.25/1.75 in July (1 + 0.5 + 0.25)."""
        batch = team_batch(["FY2027-M01", "FY2027-M07"], gross_sohl_history())
        raw = ProportionOfAverages(fallback=CapacityWeighted()).weights(batch)
        weights = by_id(batch, shares(batch, raw))
        f_cat = 0.25 / 1.75
        assert weights["cat"] == pytest.approx([0.0, f_cat])
        assert weights["ann"] == pytest.approx([9 / 16, (1 - f_cat) * 9 / 16])
        # July exactly, capacity x 4 (4, 2, 1 for ann, bob, cat; F = 7 of which cat 1) and B = 16:
        # ann 9 x 6, bob 7 x 6, cat 1 x 16
        assert by_id(batch, raw)["ann"][1] == 54.0
        assert by_id(batch, raw)["cat"][1] == 16.0

    def test_matches_the_formula_on_a_table(self):
        """On a two-year table the weights equal sum_t y_c,t / sum_t y_p,t computed by hand."""
        rng = np.random.default_rng(5)
        table = {n: [list(rng.integers(0, 50, 12)) for _ in range(2)] for n in ("ann", "bob")}
        table |= {"dan": [WEST, WEST], "eve": [WEST, WEST]}
        weights = ProportionOfAverages().weights(east_two_batch(history_of(table)))
        ann = sum(sum(year) for year in table["ann"])
        bob = sum(sum(year) for year in table["bob"])
        assert weights.ravel().tolist() == [ann, bob]

    def test_window_uses_the_last_years(self):
        """window=1 reads only the last year: 2025 said 1:1, 2026 says 3:1 (totals 36 and 12)."""
        table = {"ann": [[1] * 12, [3] * 12], "bob": [[1] * 12, [1] * 12],
                 "dan": [WEST, WEST], "eve": [WEST, WEST]}  # fmt: skip
        batch = east_two_batch(history_of(table))
        assert ProportionOfAverages().weights(batch).ravel().tolist() == [48.0, 24.0]
        assert ProportionOfAverages(window=1).weights(batch).ravel().tolist() == [36.0, 12.0]

    def test_zero_history_segment_takes_fallback(self):
        """A team whose people all sold nothing takes the fallback outright (never NaN)."""
        table = {"ann": [[0] * 12], "bob": [[0] * 12], "dan": [WEST], "eve": [WEST]}
        weights = ProportionOfAverages().weights(east_two_batch(history_of(table)))
        assert weights.ravel().tolist() == [1.0, 1.0]  # Equal's own weights

    def test_no_history_at_all_is_the_fallback(self):
        """Without history (None) every segment takes its fallback."""
        batch = team_batch(["FY2027"])
        weights = ProportionOfAverages(fallback=Proportional(values={"ann": 1, "bob": 3,
                                       "cat": 0, "dan": 1, "eve": 1})).weights(batch)  # fmt: skip
        assert weights.ravel().tolist() == [1.0, 3.0, 0.0, 1.0, 1.0]  # the fallback's own

    def test_negative_history_is_refused(self):
        """Negative history (a loss) is a StrategyError naming the person."""
        profit = Metric(name="profit", unit="CNY", non_negative=False)
        table = {"ann": [[-5] * 12], "bob": [[1] * 12], "dan": [WEST], "eve": [WEST]}
        tree = OrgTree.from_records([r for r in RECORDS if r["id"] != "cat"])
        batch = children_batch(tree, CAL, profit, ["east-1"], periods=["FY2027"],
                               history=history_of(table, metric=profit))  # fmt: skip
        with pytest.raises(StrategyError, match="negative values for 'ann'"):
            ProportionOfAverages().weights(batch)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [({"window": 0}, "window=0"), ({"window": 1.5}, "window=1.5"),
         ({"window": True}, "window=True"), ({"fallback": "equal"}, "fallback='equal'")],
    )  # fmt: skip
    def test_invalid_parameters_are_refused(self, kwargs, match):
        """A window that is not a positive integer, or a fallback that is not a strategy, fails."""
        with pytest.raises(StrategyError, match=match):
            ProportionOfAverages(**kwargs)


class TestAverageOfProportions:
    def test_hand_checked_shares(self):
        """Shares 1/4, 1/2, 3/4 for ann average to 1/2: weights 12 and 12 over the lcm 8 of 4, 4, 8."""
        weights = AverageOfProportions().weights(east_two_batch(gross_sohl_history()))
        # ann 1 x 8/4 + 2 x 8/4 + 6 x 8/8 = 12, bob 3 x 2 + 2 x 2 + 2 x 1 = 12
        assert weights.ravel().tolist() == [12.0, 12.0]

    def test_matches_the_formula_on_a_table(self):
        """On a table with some empty months the weights equal mean_t y_c,t / y_p,t over y_p,t > 0."""
        rng = np.random.default_rng(11)
        ann = [list(rng.integers(0, 9, 12)) for _ in range(2)]
        bob = [list(rng.integers(0, 9, 12)) for _ in range(2)]
        ann[0][4] = bob[0][4] = 0  # a month in which the team sold nothing
        table = {"ann": ann, "bob": bob, "dan": [WEST, WEST], "eve": [WEST, WEST]}
        weights = AverageOfProportions().weights(east_two_batch(history_of(table)))
        shares = [
            (a / (a + b), b / (a + b))
            for year in range(2)
            for a, b in zip(ann[year], bob[year], strict=True)
            if a + b > 0
        ]
        expected = [
            sum(s[0] for s in shares) / len(shares),
            sum(s[1] for s in shares) / len(shares),
        ]
        assert (weights.ravel() / weights.sum()).tolist() == pytest.approx(expected)

    def test_new_hire_takes_fallback_share(self):
        """cat keeps her Equal share 1/3; ann and bob split 2/3 evenly (1/2 each of it)."""
        batch = team_batch(["FY2027"], gross_sohl_history())
        weights = by_id(batch, shares(batch, AverageOfProportions().weights(batch)))
        assert [weights[n][0] for n in ("ann", "bob", "cat")] == pytest.approx([1 / 3] * 3)

    def test_absent_month_counts_as_zero_share(self):
        """bob was absent in 2025 (NaN): his 2025 months count as share 0, not as missing."""
        table25 = {"ann": [[1] * 12], "dan": [WEST], "eve": [WEST]}
        table26 = {"ann": [[1] * 12], "bob": [[1] * 12], "dan": [WEST], "eve": [WEST]}
        h25, h26 = history_of(table25), history_of(table26)
        history = History(plans=(h25.plans[0], attrs_year(h26.plans[0], 2026)))
        weights = AverageOfProportions().weights(east_two_batch(history))
        # 12 months of ann 1/1, 12 months of 1/2 each: ann 0.75, bob 0.25; over the lcm 2 of the
        # parent's months: ann 12 x 2 + 12 x 1 = 36, bob 12 x 1 = 12
        assert weights.ravel().tolist() == [36.0, 12.0]

    def test_is_a_historical_share(self):
        """Both formulas share the HistoricalShare base and its fallback rule."""
        assert issubclass(AverageOfProportions, HistoricalShare)
        assert issubclass(ProportionOfAverages, HistoricalShare)
        with pytest.raises(TypeError):
            HistoricalShare()  # abstract


def attrs_year(plan: Plan, year: int) -> Plan:
    """The same grid as a plan of another fiscal year."""
    return Plan(
        tree=plan.tree,
        calendar=FiscalCalendar(fiscal_year=year),
        metrics=plan.metrics,
        values=plan.values,
        origins=plan.origins,
        kind=plan.kind,
    )


class TestMixFallback:
    def test_worked_example(self):
        """Fallback 1:1:2:4 -> shares 1/8, 1/8, 2/8, 4/8; the two without base keep 2/8 and 4/8."""
        batch = children_batch(TREE, CAL, REVENUE, ["east-1", "west-1"], periods=["FY2027"])
        fallback = Proportional(values={"ann": 1, "bob": 1, "cat": 2, "dan": 1, "eve": 1})
        base = np.array([[3.0], [1.0], [0.0], [1.0], [1.0]])
        known = np.array([True, True, False, True, True])
        weights = mix_fallback(batch, base, known, fallback, "test")
        # east-1: f = 1/4, 1/4, 1/2; cat keeps 1/2, ann and bob share 1/2 as 3:1
        assert shares(batch, weights).ravel().tolist() == pytest.approx(
            [3 / 8, 1 / 8, 1 / 2, 0.5, 0.5]
        )
        # the same as whole numbers (x B = 4, x F = 4): 3 x 2, 1 x 2, 2 x 4; 1 x 2, 1 x 2
        assert weights.ravel().tolist() == [6.0, 2.0, 8.0, 2.0, 2.0]

    def test_tiny_bases_do_not_overflow(self):
        """Subnormal bases (5e-324) still give shares in [0, 1], not infinities."""
        strategy = Proportional(values={"ann": 5e-324, "bob": 5e-324, "dan": 1, "eve": 1},
                                fallback=Equal())  # fmt: skip
        batch = team_batch(["FY2027"])
        weights = by_id(batch, shares(batch, strategy.weights(batch)))
        assert weights["cat"] == pytest.approx([1 / 3])
        assert weights["ann"] == weights["bob"] == pytest.approx([1 / 3])

    def test_broken_fallback_is_named(self):
        """A fallback returning negative weights is a StrategyError naming it."""

        class Negative(Equal):
            def weights(self, batch):
                return -np.ones(batch.shape)

        batch = team_batch(["FY2027"])
        known = np.array([True, True, False, True, True])
        with pytest.raises(StrategyError, match="fallback of test"):
            mix_fallback(batch, np.ones((5, 1)), known, Negative(), "test")


class TestCheckedWeights:
    def test_wrong_shape_is_named(self):
        """A part returning the wrong shape is refused with the expected shape."""

        class Flat(Equal):
            def weights(self, batch):
                return np.ones(batch.shape[0])

        with pytest.raises(StrategyError, match=r"shape \(5,\), expected \(5, 1\)"):
            checked_weights(Flat(), team_batch(["FY2027"]), "part")


class TestBlend:
    def test_hand_checked_mix(self):
        """Equal (1/2, 1/2) and 3:1 (3/4, 1/4) blended 1:1 give 1.25 : 0.75, as whole numbers 5 : 3."""
        blend = Blend(parts=((Equal(), 1.0), (Proportional(attribute="potential"), 1.0)))
        # times the lcm 4 of the denominators 2 and 4: 2 + 3 and 2 + 1
        assert blend.weights(region_batch()).ravel().tolist() == [5.0, 3.0]

    def test_coefficients_are_relative(self):
        """Coefficients 3:1 weigh the parts 3:1: 3*(1/2) + 3/4 and 3*(1/2) + 1/4, i.e. 9 : 7."""
        blend = Blend(parts=((Equal(), 3), (Proportional(attribute="potential"), 1)))
        assert blend.weights(region_batch()).ravel().tolist() == [9.0, 7.0]

    def test_parts_are_normalised_per_column(self):
        """Capacity's scale does not matter: each part says 100 % per parent and column."""
        blend = Blend(parts=((CapacityWeighted(), 1.0), (Equal(), 1.0)))
        batch = children_batch(TREE, CAL, REVENUE, ["east-1"], periods=["FY2027-M01"])
        # capacity shares 1/1.5, 0.5/1.5, 0; equal 1/3 each
        weights = blend.weights(batch)
        assert (2 * shares(batch, weights)).ravel().tolist() == pytest.approx([1, 2 / 3, 1 / 3])
        assert weights.ravel().tolist() == [3.0, 2.0, 1.0]  # times 3: capacity x 2 is 2, 1, 0

    def test_zero_part_names_parent_and_period(self):
        """A part giving a whole segment zero is a StrategyError naming parent, period and part."""
        tree = OrgTree.from_records([r for r in RECORDS if r["id"] not in {"ann", "bob"}])
        batch = children_batch(tree, CAL, REVENUE, ["east-1"], periods=["FY2027-M01"])
        blend = Blend(parts=((Equal(), 1.0), (CapacityWeighted(), 1.0)))
        message = (
            r"part 1 \(capacity_weighted\) gives every child of 'east-1' weight 0 in FY2027-M01"
        )
        with pytest.raises(StrategyError, match=message) as info:
            blend.weights(batch)
        assert info.value.node == "east-1"
        assert info.value.period == "FY2027-M01"

    @pytest.mark.parametrize(
        ("parts", "match"),
        [((), "parts is empty"), (((Equal(), 0),), "coefficient 0"),
         (((Equal(), -1),), "coefficient -1"), (((Equal(), float("inf")),), "coefficient inf"),
         (((Even(), 1),), "holds Even\\(\\), not an org strategy"),
         (((Equal(), 1, 2),), "not a \\(strategy, coefficient\\) pair"), (5, "parts=5")],
    )  # fmt: skip
    def test_invalid_parts_are_refused(self, parts, match):
        """Bad parts fail at construction, naming the part and the value."""
        with pytest.raises(StrategyError, match=match):
            Blend(parts=parts)

    def test_lists_become_tuples(self):
        """parts given as lists (as JSON gives them) are stored as tuples: equal and hashable."""
        blend = Blend(parts=[[Equal(), 1]])
        assert blend == Blend(parts=((Equal(), 1.0),))
        assert hash(blend) == hash(Blend(parts=((Equal(), 1.0),)))


# ----------------------------------------------------------------------------- time strategies


def time_batch(history: History | None = None, calendar: FiscalCalendar = CAL) -> TimeBatch:
    rows = [TREE.compiled.index(n) for n in ("ann", "bob", "cat", "dan")]
    return TimeBatch(tree=TREE, calendar=calendar, metric=REVENUE, rows=rows, history=history)


class TestEven:
    def test_every_month_the_same(self):
        """Every month of every node weighs 1, even on a 4-4-5 calendar."""
        weekly = FiscalCalendar(fiscal_year=2027, pattern="4-4-5")
        assert Even().profile(time_batch(calendar=weekly)).tolist() == [[1.0] * 12] * 4


class TestSeasonal:
    def test_monthly_profile(self):
        """Twelve weights are used as given, for every node."""
        profile = tuple(range(1, 13))
        assert Seasonal(profile=profile).profile(time_batch()).tolist() == [list(profile)] * 4

    def test_quarterly_profile_is_spread_evenly(self):
        """Four quarterly weights 3, 6, 9, 12 become months of 1, 2, 3, 4."""
        out = Seasonal(profile=(3, 6, 9, 12)).profile(time_batch())
        assert out[0].tolist() == [1.0] * 3 + [2.0] * 3 + [3.0] * 3 + [4.0] * 3

    @pytest.mark.parametrize(
        ("profile", "match"),
        [((1, 2, 3), "has 3 weights"), ((0, 0, 0, 0), "all zero"),
         ((1, -1, 1, 1), r"profile\[1\]=-1"), ((1, float("nan"), 1, 1), r"profile\[1\]=nan"),
         (None, "profile=None")],
    )  # fmt: skip
    def test_invalid_profile_is_refused(self, profile, match):
        """A profile of another length, with a negative or NaN weight, or all zero, fails."""
        with pytest.raises(StrategyError, match=match):
            Seasonal(profile=profile)

    def test_repr_and_dict_use_the_parameter_name(self):
        """The parameter is called profile in repr and to_dict."""
        seasonal = Seasonal(profile=(1, 1, 1, 2))
        assert repr(seasonal) == "Seasonal(profile=(1.0, 1.0, 1.0, 2.0))"
        assert seasonal.to_dict() == {"strategy": "seasonal", "profile": [1.0, 1.0, 1.0, 2.0]}


class TestHistoricalSeasonality:
    def test_hand_checked_shares(self):
        """Month m sold m in 2025 and 2m in 2026: weight 3m, the total itself (share m / 78)."""
        year1 = list(range(1, 13))
        year2 = [2 * m for m in year1]
        history = history_of({"ann": [year1, year2], "bob": [year1, year2],
                              "dan": [WEST, WEST]})  # fmt: skip
        out = HistoricalSeasonality().profile(time_batch(history))
        assert out[0].tolist() == [3.0 * m for m in year1]

    def test_nodes_without_history_take_the_fallback(self):
        """cat (no history) gets the fallback profile; ann her month totals."""
        history = history_of({"ann": [WEST], "bob": [WEST], "dan": [WEST]})
        out = HistoricalSeasonality(fallback=Seasonal(profile=(1, 1, 1, 2))).profile(
            time_batch(history)
        )
        assert out[2].tolist() == pytest.approx([1 / 3] * 9 + [2 / 3] * 3)
        assert out[0].tolist() == [10.0] * 12

    def test_zero_history_takes_the_fallback(self):
        """A node whose history is all zero takes the fallback (never NaN)."""
        history = history_of({"ann": [[0] * 12], "bob": [WEST], "dan": [WEST]})
        out = HistoricalSeasonality().profile(time_batch(history))
        assert out[0].tolist() == [1.0] * 12

    def test_window_uses_the_last_years(self):
        """window=1 reads only 2026, where ann sold only in December."""
        history = history_of({"ann": [WEST, [0] * 11 + [5]], "bob": [WEST, WEST],
                              "dan": [WEST, WEST]})  # fmt: skip
        out = HistoricalSeasonality(window=1).profile(time_batch(history))
        assert out[0].tolist() == [0.0] * 11 + [5.0]

    def test_negative_month_is_refused(self):
        """A month whose summed history is negative is a StrategyError naming the node."""
        profit = Metric(name="profit", unit="CNY", non_negative=False)
        history = history_of({"ann": [[-1] + [1] * 11], "bob": [WEST], "dan": [WEST]},
                             metric=profit)  # fmt: skip
        batch = TimeBatch(tree=TREE, calendar=CAL, metric=profit,
                          rows=[TREE.compiled.index("ann")], history=history)  # fmt: skip
        with pytest.raises(StrategyError, match="negative month for 'ann'"):
            HistoricalSeasonality().profile(batch)

    def test_fallback_must_be_a_time_strategy(self):
        """An org strategy as fallback is refused at construction."""
        with pytest.raises(StrategyError, match="not a time strategy"):
            HistoricalSeasonality(fallback=Equal())


class TestWorkingDays:
    def test_weekdays_less_holidays(self):
        """2027: January has 21 weekdays less New Year's Day, February 20, March 23."""
        calendar = FiscalCalendar(fiscal_year=2027, holidays=[dt.date(2027, 1, 1)])
        out = WorkingDays().profile(time_batch(calendar=calendar))
        assert out[:, :3].tolist() == [[20.0, 20.0, 23.0]] * 4

    def test_other_weekend(self):
        """With a Friday-Saturday weekend, January 2027 has 31 - 10 = 21 working days."""
        calendar = FiscalCalendar(fiscal_year=2027, weekend={4, 5})
        assert WorkingDays().profile(time_batch(calendar=calendar))[0, 0] == 21.0


class TestCheckedProfile:
    def test_negative_month_is_named(self):
        """A profile with a negative month is refused, naming the node."""

        class Down(Even):
            def profile(self, batch):
                return -np.ones(batch.shape)

        with pytest.raises(StrategyError, match="'ann'"):
            checked_profile(Down(), time_batch(), "fallback")


# ----------------------------------------------------------------------------------- properties

ORG_EXAMPLES = [
    Equal.example(),
    Proportional.example(),
    CapacityWeighted.example(),
    ProportionOfAverages.example(),
    AverageOfProportions.example(),
    Blend.example(),
]
TIME_EXAMPLES = [Even.example(), Seasonal.example(), HistoricalSeasonality.example(),
                 WorkingDays.example()]  # fmt: skip
METRICS = (REVENUE,)
# Calendars for the time properties: drawn from a few (drawing random calendars costs more than the
# checks; the calendar module's own properties cover random calendars).
CALENDARS = (
    CAL,
    FiscalCalendar(fiscal_year=2027, start_month=4, pattern="4-4-5"),
    FiscalCalendar(fiscal_year=2028, start_month=7, pattern="5-4-4", weekend={4, 5}),
    FiscalCalendar(fiscal_year=2026, holidays=[dt.date(2026, 1, 1), dt.date(2026, 12, 25)]),
)


@st.composite
def org_batches(draw: st.DrawFn) -> OrgBatch:
    """All parents of a random tree with random leaf history and random period columns."""
    tree = draw(org_trees(min_nodes=2, max_nodes=10))
    compiled = tree.compiled
    parents = [compiled.ids[i] for i in np.flatnonzero(~compiled.is_leaf).tolist()]
    labels = [p.label for p in CAL.periods]
    periods = draw(st.lists(st.sampled_from(labels), min_size=1, max_size=4, unique=True))
    leaves = int(compiled.is_leaf.sum())
    seed = draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).integers(0, 3, size=(leaves, 12))
    plan = Plan.from_leaf_arrays(tree, FiscalCalendar(fiscal_year=2026), METRICS,
                                 {"revenue": values}, origin="actual", kind="history")  # fmt: skip
    return children_batch(tree, CAL, REVENUE, parents, periods=periods,
                          history=History(plans=[plan]))  # fmt: skip


def assert_valid(weights: np.ndarray, shape: tuple[int, int]) -> None:
    assert isinstance(weights, np.ndarray)
    assert weights.dtype == np.float64
    assert weights.shape == shape
    assert np.isfinite(weights).all()
    assert (weights >= 0).all()


@pytest.mark.parametrize(
    "examples", [ORG_EXAMPLES[:3], ORG_EXAMPLES[3:]], ids=["plain", "with-history"]
)
class TestOrgProperties:
    @given(batch=org_batches())
    def test_valid_deterministic_and_equivariant(self, examples, batch):
        """Every org example gives finite weights >= 0 of batch.shape, repeatably, per child."""
        flipped = _reversed(batch)
        for strategy in examples:
            if strategy.name == "proportional" and "potential" not in batch.tree.attribute_names:
                continue  # the example reads 'potential'; a tree without it is refused by design
            try:
                weights = strategy.weights(batch)
            except StrategyError:
                if strategy.name != "blend":  # only a blend may refuse: a capacity part can be 0
                    raise
                continue
            assert_valid(weights, batch.shape)
            assert strategy.weights(batch).tobytes() == weights.tobytes()
            again = strategy.weights(flipped)
            scale = weights.max(initial=0)
            np.testing.assert_allclose(again, weights[::-1], rtol=1e-9, atol=1e-9 * scale)


@st.composite
def time_batches(draw: st.DrawFn) -> TimeBatch:
    """Every node of a random tree on a random calendar, with random leaf history."""
    tree = draw(org_trees(min_nodes=1, max_nodes=10))
    calendar = draw(st.sampled_from(CALENDARS))
    leaves = int(tree.compiled.is_leaf.sum())
    seed = draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).integers(0, 3, size=(leaves, 12))
    plan = Plan.from_leaf_arrays(tree, calendar.previous(), METRICS, {"revenue": values},
                                 origin="actual", kind="history")  # fmt: skip
    return TimeBatch(tree=tree, calendar=calendar, metric=REVENUE, rows=np.arange(len(tree)),
                     history=History(plans=[plan]))  # fmt: skip


class TestTimeProperties:
    @given(batch=time_batches())
    def test_valid_deterministic_and_equivariant(self, batch):
        """Every time example gives finite profiles >= 0, never all zero, repeatably, per node."""
        flipped = _reversed(batch)
        for strategy in TIME_EXAMPLES:
            profile = strategy.profile(batch)
            assert_valid(profile, batch.shape)
            assert (profile.sum(axis=1) > 0).all()
            assert strategy.profile(batch).tobytes() == profile.tobytes()
            np.testing.assert_allclose(strategy.profile(flipped), profile[::-1], rtol=1e-12)


@pytest.mark.parametrize("ramp", [(0.25, 0.5, 0.75, 1.0), (0.5, 0.8), ()])
def test_capacity_of_people_there_all_year_is_their_fte_exactly(ramp):
    """The shortcut for people present all year past their ramp gives the full formula's floats."""

    from targetcascade.synthetic import demo_company, large_org

    company = demo_company()
    tree = large_org(3000, regions=4, people_per_team=50, seed=2)  # hires, leavers, part-timers
    leaves = np.flatnonzero(tree.compiled.is_leaf)
    batch = OrgBatch(tree=tree, calendar=company.calendar, metric=company.metrics[0],
                     rows=leaves, offsets=[0, leaves.size], parents=[0], periods=[0])  # fmt: skip
    strategy = CapacityWeighted(ramp=ramp)
    compiled = tree.compiled
    dated = ~np.isnat(compiled.start[leaves]) | ~np.isnat(compiled.end[leaves])
    assert dated.any()  # hires and leavers of the year among them
    fast = strategy._leaf_capacity(batch, leaves)
    full = strategy._dated_capacity(batch, leaves)
    assert np.array_equal(fast, full)
    assert np.array_equal(strategy.monthly(batch), full)
    # both kinds of people are there: full fte all year, and less in some month
    fte = np.nan_to_num(compiled.fte[leaves], nan=1.0)
    steady = (full == fte[:, None]).all(axis=1)
    assert steady.any()
    assert not steady.all()


# ------------------------------------------------------------------- history totals


def _random_history(tree: OrgTree, seed: int, *, low: int = -20) -> History:
    """Two history years of a signed metric, each on the tree without some of its leaves, with
    missing cells (value 0, origin MISSING) and some negative months."""
    from targetcascade.plan import Origin

    rng = np.random.default_rng(seed)
    plans = []
    for year in (2025, 2026):
        present = tree
        leaves = list(tree.leaves())
        for leaf in rng.permutation(leaves)[: len(leaves) // 3].tolist():
            if leaf != present.root:
                present = present.remove_subtree(leaf)
        shape = (1, len(present), 17)
        missing = rng.random(shape) < 0.3
        values = np.where(missing, 0, rng.integers(low, 1000, size=shape))
        origins = np.where(missing, Origin.MISSING, Origin.ACTUAL).astype(np.uint8)
        plans.append(Plan(tree=present, calendar=FiscalCalendar(fiscal_year=year),
                          metrics=(PROFIT,), values=values, origins=origins,
                          kind="history"))  # fmt: skip
    return History(plans=plans)


PROFIT = Metric(name="profit", unit="CNY", non_negative=False)


@given(org_trees(max_nodes=30), st.integers(0, 2**32 - 1), st.data())
def test_history_totals_are_the_row_sums_of_monthly(tree, seed, data):
    """totals() is monthly() summed per row with NaN as 0, with which rows have any / negative value."""
    history = _random_history(tree, seed)
    rows = data.draw(st.none() | st.lists(st.integers(0, len(tree) - 1), max_size=40))
    monthly = history.monthly("profit", tree, rows)
    totals = history.totals("profit", tree, rows)
    assert np.array_equal(totals.total, np.nansum(monthly, axis=1))
    assert np.array_equal(totals.known, ~np.isnan(monthly).all(axis=1))
    assert np.array_equal(totals.negative, (np.nan_to_num(monthly) < 0).any(axis=1))
    # the window keeps the last year only
    last = history.window(1).totals("profit", tree, rows)
    assert np.array_equal(last.total, np.nansum(monthly[:, 12:], axis=1))


def test_history_totals_by_hand():
    """ann sold 1..12 in 2025 (78) and 2 a month in 2026 (24); bob joined in 2026 (12 x 5)."""
    history = history_of({"ann": [list(range(1, 13)), [2] * 12], "dan": [WEST, WEST],
                          "eve": [WEST, WEST]})  # fmt: skip
    joined = history_of({"ann": [[2] * 12], "bob": [[5] * 12], "dan": [WEST], "eve": [WEST]})
    history = History(plans=(history.plans[0], attrs_year(joined.plans[0], 2026)))
    c = TREE.compiled
    rows = [c.index(n) for n in ("ann", "bob", "cat")]
    totals = history.totals("revenue", TREE, rows)
    assert totals.total.tolist() == [78 + 24, 60, 0]
    assert totals.known.tolist() == [True, True, False]
    assert totals.negative.tolist() == [False, False, False]


def test_history_month_sums_are_forgotten_with_their_plan():
    """The per-plan month sums are cached by identity and dropped when the plan is collected."""
    import gc

    from targetcascade.allocation import _history

    history = gross_sohl_history()
    plan = history.plans[0]
    history.totals("revenue", TREE)
    assert id(plan) in _history._TOTALS
    first = _history._month_totals(plan, "revenue")
    assert _history._month_totals(plan, "revenue") is first  # cached
    key = id(plan)
    del history, plan, first
    gc.collect()
    assert key not in _history._TOTALS


@given(org_trees(max_nodes=30), st.integers(0, 2**32 - 1))
def test_proportion_of_averages_reads_totals_as_the_monthly_formula_would(tree, seed):
    """The month-sum shortcut of proportion_of_averages gives the monthly formula's weights exactly."""

    class MonthByMonth(ProportionOfAverages):
        # the same formula, through the generic (rows x months) path of HistoricalShare
        def shares(self, history, batch):
            return super().shares(history, batch)

    history = _random_history(tree, seed, low=0)  # shares need non-negative history
    c = tree.compiled
    parents = [i for i in range(len(tree)) if c.child_offsets[i + 1] > c.child_offsets[i]]
    batch = children_batch(tree, CAL, PROFIT, [c.ids[p] for p in parents], periods=["FY2027"],
                           history=history)  # fmt: skip
    fast = ProportionOfAverages().weights(batch)  # the totals (whole numbers)
    slow = MonthByMonth().weights(batch)  # the shares (floats)
    assert np.allclose(shares(batch, fast), shares(batch, slow), rtol=1e-12, atol=0)


@given(org_trees(max_nodes=30), st.integers(0, 2**32 - 1), st.booleans())
def test_history_alignment_is_by_id_whichever_tree_has_an_id_dict(tree, seed, history_dict):
    """Each planning-tree position maps to the same id's position in a history year (-1 when
    absent), whether the history tree's own id dict or the planning tree's does the lookups."""
    import pickle

    from targetcascade.allocation._history import _row_map

    history = _random_history(tree, seed)
    # unpickled trees build their id dicts only on demand, so each side starts without one
    target = pickle.loads(pickle.dumps(tree))
    source = pickle.loads(pickle.dumps(history.plans[0].tree))
    assert not target.compiled.position.has_rows
    assert not source.compiled.position.has_rows
    if history_dict:
        source.compiled.position.input_rows()
    rows = _row_map(target, source)
    if target.compiled.ids != source.compiled.ids:  # (same ids: the identity, no lookups)
        assert target.compiled.position.has_rows != history_dict  # the other side was not built
    where = {node: i for i, node in enumerate(source.compiled.ids)}
    assert rows.tolist() == [where.get(node, -1) for node in target.compiled.ids]


def _one_year(metric: Metric, value: object, year: int) -> Plan:
    tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
    rows = [
        {"node": "acme", "period": f"FY{year}-M{m:02d}", "metric": metric.name, "value": value}
        for m in range(1, 13)
    ]
    return Plan.from_leaf_values(
        tree, FiscalCalendar(fiscal_year=year), [metric], rows, kind="history"
    )


class TestHistoryGrain:
    """History reads each year through its own unit and quantum (#12.2)."""

    def test_years_in_cents_and_whole_dollars(self) -> None:
        """1 USD a month kept in cents and 2 USD kept in whole dollars read as 100 and 200 cents."""
        cents = _one_year(Metric(name="revenue", unit="USD"), 1, 2025)
        dollars = _one_year(Metric(name="revenue", unit="USD", quantum="1"), 2, 2026)
        history = History(plans=[cents, dollars])
        planned = Metric(name="revenue", unit="USD")
        assert history.grain(planned) == Fraction(1, 100)
        monthly = history.monthly(planned, cents.tree)
        assert monthly[0].tolist() == [100.0] * 12 + [200.0] * 12
        assert history.totals(planned, cents.tree).total.tolist() == [3600.0]

    def test_wan_against_cny(self) -> None:
        """A year in wan CNY (quantum 1 wan) is 10,000 CNY a step against a CNY metric."""
        wan = _one_year(Metric(name="revenue", unit="wan CNY", quantum="1"), 3, 2026)
        history = History(plans=[wan])
        assert history.grain(Metric(name="revenue", unit="CNY")) == 10_000
        assert history.grain("revenue") == 1  # in the year's own unit, wan CNY

    def test_same_quantum_reads_unchanged(self) -> None:
        """Years of one unit and quantum are read as their stored quanta."""
        plans = [_one_year(Metric(name="deals", unit="deal"), 5, y) for y in (2025, 2026)]
        history = History(plans=plans)
        assert history.grain("deals") == 1
        assert history.monthly("deals", plans[0].tree)[0].tolist() == [5.0] * 24

    def test_other_dimension_refused(self) -> None:
        """A CNY year for a USD metric, or beside a USD year, is refused naming both units."""
        cny = _one_year(Metric(name="revenue", unit="CNY"), 1, 2025)
        usd = _one_year(Metric(name="revenue", unit="USD"), 1, 2026)
        with pytest.raises(UnitMismatchError, match=r"FY2025 has 'revenue' in CNY, .* in USD"):
            History(plans=[cny, usd]).totals("revenue", usd.tree)
        with pytest.raises(UnitMismatchError, match=r"FY2026 has 'revenue' in USD, .* in CNY"):
            History(plans=[usd]).monthly(Metric(name="revenue", unit="CNY"), usd.tree)
