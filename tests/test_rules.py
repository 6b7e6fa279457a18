"""Tests for the exact integer rules shared by the engine and the checker."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import _reference
from targetcascade import FiscalCalendar
from targetcascade._rules import (
    MAX_QUANTA,
    div_round_half_even,
    exact_fraction,
    hedged_bounds,
    hedged_period_totals,
    hedged_total,
    segment_sums,
)

OFFSETS = FiscalCalendar(fiscal_year=2027).child_offsets
HEDGES = st.fractions(min_value=Fraction(-1, 2), max_value=Fraction(1, 2), max_denominator=1000)
# Hedges whose numerator and denominator are far beyond int64 once 1 is added and a parent multiplies
# them: floats read as their shortest decimal (1/30 -> 3333333333333333/10**17), floats read as the
# exact binary fraction they stand for, and many-digit fractions.
BIG_HEDGES = st.one_of(
    st.floats(min_value=-0.5, max_value=3.0).map(exact_fraction),
    st.floats(min_value=-0.5, max_value=3.0).map(Fraction),
    st.fractions(min_value=Fraction(-1, 2), max_value=3, max_denominator=10**40),
).filter(lambda h: h > -1)
PARENTS = st.integers(-MAX_QUANTA // 4, MAX_QUANTA // 4)


class TestDivRoundHalfEven:
    @given(st.integers(-(10**15), 10**15), st.integers(1, 10**6))
    def test_matches_python_round(self, n: int, d: int) -> None:
        """Integer division rounds exactly like Python's round of the exact fraction."""
        assert div_round_half_even(np.array([n]), d).tolist() == [round(Fraction(n, d))]


class TestHedgedTotal:
    def test_hand_checked(self) -> None:
        """5 % on 30 quanta is 31.5, rounded half to even: 32; on 10 quanta 10.5 -> 10."""
        assert hedged_total(np.array([30, 10]), Fraction(1, 20)).tolist() == [32, 10]

    @given(st.integers(0, 10**12), HEDGES)
    def test_bounds_bracket_the_exact_value(self, parent: int, hedge: Fraction) -> None:
        """floor and ceiling bracket parent x (1 + h) and are one apart unless it is whole."""
        lo, hi = hedged_bounds(np.array([parent]), hedge)
        exact = parent * (1 + hedge)
        assert (int(lo[0]), int(hi[0])) == (math.floor(exact), math.ceil(exact))

    def test_float_hedge_does_not_wrap(self) -> None:
        """1000.00 CNY + 1/30 (a float) is 103,333 cents, not a wrapped int64 product."""
        assert hedged_total(np.array([100000]), exact_fraction(1 / 30)).tolist() == [103333]
        assert hedged_total(np.array([90]), exact_fraction(1 / 30)).tolist() == [93]

    @given(st.lists(PARENTS, min_size=1, max_size=5), BIG_HEDGES)
    def test_matches_fractions_for_big_hedges(self, parents: list[int], hedge: Fraction) -> None:
        """Totals and bounds equal the Fraction computation for any hedge, however many digits."""
        exact = [p * (1 + hedge) for p in parents]
        assert hedged_total(np.array(parents), hedge).tolist() == [round(x) for x in exact]
        lo, hi = hedged_bounds(np.array(parents), hedge)
        assert lo.tolist() == [math.floor(x) for x in exact]
        assert hi.tolist() == [math.ceil(x) for x in exact]

    def test_results_beyond_int64_stay_exact(self) -> None:
        """A total beyond int64 comes back as an exact Python integer, never wrapped."""
        out = hedged_total(np.array([MAX_QUANTA]), Fraction(10**6))
        assert out.tolist() == [MAX_QUANTA * (10**6 + 1)]


class TestHedgedPeriodTotals:
    def test_hand_checked(self) -> None:
        """A year of 12 months of 5 quanta, +10 %: year 66, each month 5.5 -> six get 6, six get 5."""
        months = [5] * 12
        values = np.array([[60, 15, 15, 15, 15, *months]])
        out = hedged_period_totals(values, Fraction(1, 10), OFFSETS)[0]
        assert out[0] == 66
        # quarters are 16.5 each: two get 17, two get 16, ties to the earlier quarter
        assert out[1:5].tolist() == [17, 17, 16, 16]
        # Q1 = 17 over three months of 5.5: two 6s and a 5, ties to the earlier month
        assert out[5:8].tolist() == [6, 6, 5]

    @given(st.lists(st.integers(0, 10**9), min_size=12, max_size=12), HEDGES)
    def test_additive_and_within_floor_and_ceiling(
        self, months: list[int], hedge: Fraction
    ) -> None:
        """Hedged totals add up over time; each is the floor or ceiling of its exact hedged value."""
        quarters = [sum(months[i : i + 3]) for i in range(0, 12, 3)]
        values = np.array([[sum(months), *quarters, *months]], dtype=np.int64)
        out = hedged_period_totals(values, hedge, OFFSETS)[0]
        assert out[0] == round(sum(months) * (1 + hedge))
        assert out[1:5].sum() == out[0]
        for q in range(4):
            assert out[5 + 3 * q : 8 + 3 * q].sum() == out[1 + q]
        for value, parent in zip(out.tolist(), values[0].tolist(), strict=True):
            exact = parent * (1 + hedge)
            assert math.floor(exact) <= value <= math.ceil(exact)

    @given(st.lists(st.integers(-(10**13), 10**13), min_size=12, max_size=12), BIG_HEDGES)
    def test_matches_the_fraction_twin_for_big_hedges(
        self, months: list[int], hedge: Fraction
    ) -> None:
        """Every period's hedged total equals the exact Fraction twin, for hedges of any size."""
        quarters = [sum(months[i : i + 3]) for i in range(0, 12, 3)]
        grid = [sum(months), *quarters, *months]
        out = hedged_period_totals(np.array([grid], dtype=np.int64), hedge, OFFSETS)[0]
        assert out.tolist() == _reference.hedged_periods(grid, hedge, OFFSETS.tolist())


class TestSegmentSums:
    def test_skips_empty_segments(self) -> None:
        """Empty segments are skipped rather than summed wrongly by reduceat."""
        parents, sums = segment_sums(np.array([9, 1, 2, 3]), np.array([1, 3, 3, 4]), axis=0)
        assert parents.tolist() == [0, 2]
        assert sums.tolist() == [3, 3]
