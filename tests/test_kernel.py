"""Tests of the apportionment kernel: largest remainder, policies, divisor methods, matrix rounding.

Hand-checked numbers carry their arithmetic in comments; properties compare the vectorised kernel
with the plain-Python reference twin in ``tests/_reference.py`` (exact rationals).
"""

from __future__ import annotations

import itertools
import math
import pickle
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import _reference as ref
from targetcascade.allocation._divisor import Adams, Jefferson, Webster
from targetcascade.allocation._kernel import (
    MAX_QUANTA,
    Apportionment,
    ApportionMethod,
    LargestRemainder,
    apportion,
    apportion_detailed,
    rescaled,
)
from targetcascade.allocation._matrix import fit_ipf, round_matrix
from targetcascade.errors import InfeasibleAllocationError, StrategyError

ALABAMA = np.array([1500.0, 1500.0, 900.0, 500.0, 500.0, 200.0])  # sums to 5100


def one(total: int, weights: list[float], **kw):
    """Split one total among one segment's children (1-D form)."""
    offsets = np.array([0, len(weights)])
    return apportion(np.array([total]), np.array(weights, dtype=float), offsets, **kw).tolist()


# ---------------------------------------------------------------------------------------------
# Hypothesis building blocks

weight_values = st.one_of(
    st.just(0.0),
    st.integers(1, 6).map(float),  # small integers: many exact ties
    st.sampled_from([0.1, 0.2, 0.25, 0.3, 0.7, 1500.0, 900.0, 500.0, 200.0]),
    st.floats(1e-300, 1e-250),  # tiny
    st.floats(0.001, 1e6, allow_nan=False, allow_infinity=False),
)
totals_values = st.one_of(
    st.integers(0, 30),
    st.integers(0, 10**6),
    st.integers(0, 10**13),
    st.sampled_from([0, 1, 10**13, 2**52 - 1, 2**52, MAX_QUANTA]),
)


@st.composite
def problems(draw: st.DrawFn, max_segments: int = 3, max_children: int = 6, max_cols: int = 2):
    """Random CSR problems: (totals (S, P), weights (N, P), offsets); zero-weight groups get T = 0."""
    sizes = draw(st.lists(st.integers(1, max_children), min_size=1, max_size=max_segments))
    n_cols = draw(st.integers(1, max_cols))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(offsets[-1])
    if draw(st.booleans()):  # all cells drawn independently
        cells = draw(st.lists(weight_values, min_size=n * n_cols, max_size=n * n_cols))
    else:  # few distinct values: ties everywhere
        palette = draw(st.lists(weight_values, min_size=1, max_size=3))
        picks = draw(
            st.lists(st.integers(0, len(palette) - 1), min_size=n * n_cols, max_size=n * n_cols)
        )
        cells = [palette[k] for k in picks]
    weights = np.array(cells, dtype=float).reshape(n, n_cols)
    totals = np.array(
        draw(st.lists(totals_values, min_size=len(sizes) * n_cols, max_size=len(sizes) * n_cols)),
        dtype=np.int64,
    ).reshape(len(sizes), n_cols)
    sums = np.add.reduceat(weights, offsets[:-1], axis=0)
    totals[sums == 0] = 0
    return totals, weights, offsets


def groups(offsets: np.ndarray, n_cols: int):
    for s in range(offsets.size - 1):
        for p in range(n_cols):
            yield s, p, slice(int(offsets[s]), int(offsets[s + 1]))


# ---------------------------------------------------------------------------------------------
# apportion: largest remainder


class TestApportion:
    def test_one_third_each(self):
        """100 split 1:1:1 gives 34, 33, 33: the leftover quantum goes to the earliest child."""
        assert one(100, [1, 1, 1]) == [34, 33, 33]

    def test_divisible_total_splits_evenly(self):
        """300 split 1:1:1 is exactly 100 each."""
        assert one(300, [1, 1, 1]) == [100, 100, 100]

    def test_leftover_goes_to_largest_remainder(self):
        """11 split 1:1:2: quotas 2.75, 2.75, 5.5, floors 2 2 5, the 2 leftovers go to the .75s."""
        assert one(10, [2, 3, 5]) == [2, 3, 5]
        assert one(11, [1, 1, 2]) == [3, 3, 5]

    def test_tie_goes_to_larger_weight(self):
        """2 split 1:3: quotas 0.5 and 1.5 tie on the remainder; the larger weight gets the quantum."""
        assert one(2, [1, 3]) == [0, 2]
        assert one(2, [3, 1]) == [2, 0]

    def test_tie_between_weights_that_are_not_multiples(self):
        """2 split 1:8:5: quotas 1/7, 8/7, 5/7; remainders 1/7, 1/7, 5/7, so the 5 wins the leftover."""
        assert one(2, [1, 8, 5]) == [0, 1, 1]
        # 4 split 1:8:5: quotas 2/7, 16/7, 10/7 -> floors 0, 2, 1, leftover 1; remainders 2/7, 2/7,
        # 3/7: the 5 wins again.
        assert one(4, [1, 8, 5]) == [0, 2, 2]
        # 3 split 1:8:5: quotas 3/14, 24/14, 15/14 -> floors 0, 1, 1, leftover 1; remainders 3/14,
        # 10/14, 1/14: the 8 wins.
        assert one(3, [1, 8, 5]) == [0, 2, 1]

    def test_exact_tie_in_float_that_float_arithmetic_gets_wrong(self):
        """Remainders equal as rationals but not in naive floats still tie to the larger weight.

        6 split 1:8:5 (W = 14): quotas 6/14 = 3/7, 48/14 = 3 + 3/7, 30/14 = 2 + 1/7; floors
        0 3 2 leave one quantum and the remainders 3/7 (w=1) and 3/7 (w=8) tie exactly: the 8
        wins. Naive floats get 0.42857142857142855 for w=1 but 0.4285714285714284 for w=8.
        8 split 1:8:5: quotas 4/7, 4 + 4/7, 2 + 6/7; floors 0 4 2, two leftovers: 6/7 (w=5),
        then the exact tie 4/7 goes to w=8.
        """
        assert one(6, [1, 8, 5]) == [0, 4, 2]
        assert one(8, [1, 8, 5]) == [0, 5, 3]

    def test_alabama_paradox(self):
        """Weights 1500:1500:900:500:500:200 give the 500s 3 each of 25 but 2 each of 26.

        25 * w / 5100: 7.353, 7.353, 4.412, 2.451, 2.451, 0.980 -> floors 7 7 4 2 2 0 (22), three
        leftovers to .980, .451, .451. 26 * w / 5100: 7.647, 7.647, 4.588, 2.549, 2.549, 1.020 ->
        floors 7 7 4 2 2 1 (23), three leftovers to .647, .647, .588.
        """
        assert one(25, ALABAMA.tolist()) == [7, 7, 4, 3, 3, 1]
        assert one(26, ALABAMA.tolist()) == [8, 8, 5, 2, 2, 1]

    def test_many_segments_and_periods_at_once(self):
        """Every segment and column is split on its own, in one call."""
        totals = np.array([[100, 10], [7, 0]])
        weights = np.array([[1.0, 1.0], [1.0, 3.0], [2.0, 5.0], [1.0, 1.0], [0.0, 0.0]])
        got = apportion(totals, weights, np.array([0, 3, 5]))
        # segment 0, column 0: 100 * 1/4, 1/4, 2/4 = 25, 25, 50
        # segment 0, column 1: 10 * 1/9, 3/9, 5/9 = 1.11, 3.33, 5.56 -> 1 3 5 (9) + 1 to .56
        # segment 1: 7 all to the only positive weight; column 1 total 0
        assert got.tolist() == [[25, 1], [25, 3], [50, 6], [7, 0], [0, 0]]

    def test_zero_total_gives_zeros(self):
        """A zero total gives zeros, even under zero weights."""
        assert one(0, [1, 2]) == [0, 0]
        assert one(0, [0, 0]) == [0, 0]

    def test_zero_weight_child_gets_nothing(self):
        """A child with weight 0 gets 0 of a positive total."""
        assert one(5, [0, 1, 1]) == [0, 3, 2]

    def test_negative_total_by_symmetry(self):
        """A negative total (a planned loss) is split as minus the split of its magnitude."""
        assert one(-7, [1, 1]) == [-4, -3]
        assert one(-100, [1, 1, 1]) == [-34, -33, -33]

    def test_huge_total_is_exact(self):
        """Totals near 2**53 quanta still add up exactly and follow the reference."""
        total = MAX_QUANTA - 1
        weights = [0.1, 0.2, 0.7]
        got = one(total, weights)
        assert sum(got) == total
        assert got == ref.hamilton(total, weights)

    def test_tiny_and_huge_weights_together(self):
        """Weights 1e-300 next to 1 are exact fractions, not lost to underflow."""
        weights = [1e-300, 1.0, 5e-324, 1e-300]
        for total in (1, 7, 10**13):
            assert one(total, weights) == ref.hamilton(total, weights)

    def test_fortran_and_c_order_agree(self):
        """The memory order of the weights does not change the result."""
        rng = np.random.default_rng(7)
        weights = rng.random((40, 3)) / 3
        totals = rng.integers(0, 10**6, (4, 3))
        offsets = np.array([0, 10, 25, 26, 40])
        a = apportion(totals, weights, offsets)
        b = apportion(totals, np.asfortranarray(weights), offsets)
        assert np.array_equal(a, b)

    def test_result_is_read_only(self):
        """The result cannot be modified in place by accident."""
        got = apportion(np.array([3]), np.array([1.0, 1.0]), np.array([0, 2]))
        with pytest.raises(ValueError, match="read-only"):
            got[0] = 5

    def test_locked_children_keep_their_value(self):
        """Locked children keep their value; the rest of the total is split among the others."""
        got = apportion(
            np.array([[100, 10]]),
            np.array([[1.0, 1.0], [1.0, 3.0]]),
            np.array([0, 2]),
            locked=np.array([[60, 0], [0, 0]]),
            lock_mask=np.array([[True, False], [False, False]]),
        )
        # column 0: 60 locked, 40 left for the other child; column 1: 10 split 1:3 -> 2.5, 7.5,
        # tie on .5 goes to the larger weight
        assert got.tolist() == [[60, 2], [40, 8]]

    def test_locked_weight_is_ignored(self):
        """A locked child's weight does not dilute the others' shares."""
        got = one(
            100,
            [1000.0, 1.0, 1.0],
            locked=np.array([10, 0, 0]),
            lock_mask=np.array([True, False, False]),
        )
        assert got == [10, 45, 45]

    def test_negative_lock_under_zero_total(self):
        """A lock of -5 under a total of 0 leaves +5 for the others (locks are kept exactly)."""
        got = one(
            0,
            [1.0, 1.0, 1.0],
            locked=np.array([-5, 0, 0]),
            lock_mask=np.array([True, False, False]),
        )
        assert got == [-5, 3, 2]

    def test_all_locked_and_consistent(self):
        """Every child locked is fine when the locks add up to the total."""
        got = one(5, [1.0, 1.0], locked=np.array([2, 3]), lock_mask=np.array([True, True]))
        assert got == [2, 3]

    def test_caps_push_the_rest_to_others(self):
        """10 split 1:1:1 with the first capped at 2 gives 2, 4, 4."""
        assert one(10, [1, 1, 1], caps=np.array([2, 9, 9])) == [2, 4, 4]

    def test_floors_take_from_others(self):
        """100 split 1:1:2 with a floor of 40 on the first: 40, then 60 split 1:2 -> 40, 20, 40."""
        assert one(100, [1, 1, 2], floors=np.array([40, 0, 0])) == [40, 20, 40]

    def test_floors_and_caps_together(self):
        """Water-filling with both bounds: 100 split 1:1:1:1, floor 30 on c, cap 10 on a.

        a capped at 10, c held at 30; the other 60 split 1:1 between b and d -> 30 each, and c's
        proportional share (30) equals its floor, so any classification gives the same result.
        """
        got = one(
            100, [1, 1, 1, 1], floors=np.array([0, 0, 30, 0]), caps=np.array([10, 99, 99, 99])
        )
        assert got == [10, 30, 30, 30]

    def test_capped_child_gets_no_leftover_quantum(self):
        """11 split 1:1 with the first capped at 5: the cap holds although 5.5 would round up."""
        assert one(11, [1, 1], caps=np.array([5, 100])) == [5, 6]

    def test_zero_weight_child_takes_its_floor(self):
        """A child with weight 0 ends at its floor; the others share the rest."""
        assert one(10, [0, 1, 1], floors=np.array([4, 0, 0])) == [4, 3, 3]

    def test_accepts_method_objects(self):
        """A divisor method plugs in through the ``method`` argument."""
        got = apportion(np.array([25]), ALABAMA, np.array([0, 6]), method=Webster())
        assert got.tolist() == [8, 8, 4, 2, 2, 1]

    @given(problems())
    def test_matches_reference(self, problem):
        """The vectorised kernel equals exact-rational largest remainder on every group."""
        totals, weights, offsets = problem
        got = apportion(totals, weights, offsets)
        for s, p, rows in groups(offsets, totals.shape[1]):
            assert got[rows, p].tolist() == ref.hamilton(
                int(totals[s, p]), weights[rows, p].tolist()
            )

    @given(st.data())
    def test_grid_weights_with_exact_ties_match_reference(self, data):
        """Weights on a 1/1024 grid that sum to the total (the engine's carried split): every
        remainder is exact, so different weights tie exactly; ranking follows the reference."""
        n_groups = data.draw(st.integers(1, 12))
        sizes = data.draw(st.lists(st.integers(1, 40), min_size=n_groups, max_size=n_groups))
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        steps = data.draw(
            st.lists(st.integers(1, 8 * 1024), min_size=int(offsets[-1]), max_size=int(offsets[-1]))
        )
        scale = data.draw(st.sampled_from([1, 1000, 10**5]))
        grid = np.array(steps, dtype=np.int64) * scale
        # the last child of each group tops its group up to a whole number of quanta, so that
        # the total equals the weight sum and every quota is its weight (on the grid)
        short = -np.add.reduceat(grid, offsets[:-1]) % 1024
        grid[offsets[1:] - 1] += short
        weights = grid / 1024
        totals = np.add.reduceat(grid, offsets[:-1]) // 1024
        got = apportion(totals[:, None], weights[:, None], offsets)
        for g in range(n_groups):
            rows = slice(int(offsets[g]), int(offsets[g + 1]))
            assert got[rows, 0].tolist() == ref.hamilton(int(totals[g]), weights[rows].tolist())

    @given(problems(max_segments=8, max_children=12))
    def test_row_sorted_and_packed_keys_give_the_same_split(self, problem):
        """Sorting each group's remainders in a row of a padded table, or all groups' packed keys
        at once, finds the same thresholds: same values, whatever the group sizes."""
        from targetcascade.allocation import _kernel

        totals, weights, offsets = problem
        rows = apportion(totals, weights, offsets)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_kernel, "_ROW_SORT_WIDTH", 0)  # every group through one packed sort
            packed = apportion(totals, weights, offsets)
        assert np.array_equal(rows, packed)
        for s, p, cells in groups(offsets, totals.shape[1]):
            assert rows[cells, p].tolist() == ref.hamilton(
                int(totals[s, p]), weights[cells, p].tolist()
            )

    @given(st.data())
    def test_near_ties_between_different_weights_match_reference(self, data):
        """Weights a few units in the last place apart under large totals: remainders differ by
        less than the float error, so the kernel ranks them by exact integers (larger remainder,
        then larger weight, then the earlier row), as the reference does."""
        n_groups = data.draw(st.integers(1, 6))
        sizes = data.draw(st.lists(st.integers(2, 12), min_size=n_groups, max_size=n_groups))
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        base = data.draw(st.sampled_from([1.0, 3.0, 0.7, 1500.0]))
        steps = data.draw(st.lists(st.integers(0, 6), min_size=int(offsets[-1]),
                                   max_size=int(offsets[-1])))  # fmt: skip
        if data.draw(st.booleans()):  # a few units in the last place apart (53-bit integers)
            weights = np.array([base + k * math.ulp(base) for k in steps])
            least = 10**9
        else:  # small integers a few apart: exact remainders are short, 1 / sum(weights) apart
            weights = np.array([1000.0 + k for k in steps])
            least = 10**12
        totals = np.array(
            data.draw(st.lists(st.integers(least, 1000 * least), min_size=n_groups,
                               max_size=n_groups)),
            dtype=np.int64,
        )  # fmt: skip
        got = apportion(totals[:, None], weights[:, None], offsets)
        for g in range(n_groups):
            rows = slice(int(offsets[g]), int(offsets[g + 1]))
            assert got[rows, 0].tolist() == ref.hamilton(int(totals[g]), weights[rows].tolist())

    @given(st.integers(10**12, 10**14), st.integers(10**9, 10**12), st.permutations(range(4)))
    def test_near_ties_next_to_a_group_beyond_int64(self, first_total, k, order):
        """A group whose weights span more than 61 bits (exact path in Python integers) next to a
        group ranked in int64, both with ties between different weights: each follows the
        reference. Weights 1, 5, 1, 1 of 8k + 2: every quota is a whole number plus 1/4, and the
        one leftover quantum goes to the larger weight."""
        wide = [2.0**-80, 1.0, 1.0 + 2.0**-52, 1.0 + 2.0**-51]
        narrow = [[1.0, 5.0, 1.0, 1.0][i] for i in order]
        second_total = 8 * k + 2
        weights = np.array(wide + narrow)
        offsets = np.array([0, 4, 8])
        totals = np.array([first_total, second_total])
        got = apportion(totals[:, None], weights[:, None], offsets)
        assert got[:4, 0].tolist() == ref.hamilton(first_total, wide)
        assert got[4:, 0].tolist() == ref.hamilton(second_total, narrow)

    @given(problems())
    def test_sums_exact_and_nonnegative(self, problem):
        """Group sums equal the totals exactly and no child goes negative under a total >= 0."""
        totals, weights, offsets = problem
        got = apportion(totals, weights, offsets)
        assert (np.add.reduceat(got, offsets[:-1], axis=0) == totals).all()
        assert (got >= 0).all()

    @given(problems())
    def test_quota_rule(self, problem):
        """Each child gets the floor or the ceiling of its exact quota."""
        totals, weights, offsets = problem
        got = apportion(totals, weights, offsets)
        for s, p, rows in groups(offsets, totals.shape[1]):
            quotas = ref.quotas(int(totals[s, p]), weights[rows, p].tolist())
            for value, q in zip(got[rows, p].tolist(), quotas, strict=True):
                assert math.floor(q) <= value <= math.ceil(q)

    @given(problems())
    def test_deterministic(self, problem):
        """The same input gives the same output, byte for byte."""
        totals, weights, offsets = problem
        assert (
            apportion(totals, weights, offsets).tobytes()
            == apportion(totals, weights, offsets).tobytes()
        )

    @given(problems(max_segments=1, max_cols=1), st.randoms(use_true_random=False))
    def test_permutation_equivariant_up_to_equal_weight_order(self, problem, rnd):
        """Permuting children permutes the result, when children of equal weight keep their order.

        Ties between different weights go to the larger weight, whatever the order; only ties
        between equal weights follow the input order (the earlier row wins). So any permutation
        that keeps equal-weight children in their relative order commutes with the kernel, and
        any permutation at all keeps the sorted values of each weight class.
        """
        totals, weights, offsets = problem
        w = weights[:, 0]
        n = w.size
        perm = list(range(n))
        rnd.shuffle(perm)
        base = apportion(totals, weights, offsets)[:, 0]
        shuffled = apportion(totals, weights[perm], offsets)[:, 0]
        for value in set(w.tolist()):
            assert sorted(base[w == value].tolist()) == sorted(shuffled[w[perm] == value].tolist())
        # Reorder equal-weight children inside the permutation back to input order.
        stable = list(perm)
        for value in set(w.tolist()):
            slots = [k for k, i in enumerate(perm) if w[i] == value]
            for k, i in zip(slots, sorted(perm[k] for k in slots), strict=True):
                stable[k] = i
        again = apportion(totals, weights[stable], offsets)[:, 0]
        assert again.tolist() == base[stable].tolist()

    @given(problems(), st.data())
    def test_locks_kept_and_rest_matches_reference(self, problem, data):
        """Locked cells keep their value; the unlocked share the rest exactly as the reference."""
        totals, weights, offsets = problem
        mask = np.array(
            data.draw(st.lists(st.booleans(), min_size=weights.size, max_size=weights.size))
        ).reshape(weights.shape)
        locked = np.array(
            data.draw(st.lists(st.integers(0, 50), min_size=weights.size, max_size=weights.size))
        ).reshape(weights.shape)
        lock_sum = np.add.reduceat(np.where(mask, locked, 0), offsets[:-1], axis=0)
        free_w = np.add.reduceat(np.where(mask, 0.0, weights), offsets[:-1], axis=0)
        totals = np.maximum(totals, lock_sum)
        totals = np.where(free_w == 0, lock_sum, totals)
        got = apportion(totals, weights, offsets, locked=locked, lock_mask=mask)
        assert (got[mask] == locked[mask]).all()
        for s, p, rows in groups(offsets, totals.shape[1]):
            pins = [
                int(v) if m else None for v, m in zip(locked[rows, p], mask[rows, p], strict=True)
            ]
            expected = ref.apportion_group(
                int(totals[s, p]), weights[rows, p].tolist(), locked=pins
            )
            assert got[rows, p].tolist() == expected

    @given(problems(max_cols=1), st.data())
    def test_bounds_honoured_and_match_reference(self, problem, data):
        """Floors and caps hold and the result equals exact water-filling plus largest remainder."""
        totals, weights, offsets = problem
        n = weights.shape[0]
        totals = np.minimum(totals, 10**6)
        floors = np.array(data.draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)))[:, None]
        caps = (
            floors
            + np.array(data.draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n)))[:, None]
        )
        expected = {}
        for s, p, rows in groups(offsets, 1):
            try:
                expected[s] = ref.apportion_group(
                    int(totals[s, p]),
                    weights[rows, p].tolist(),
                    floors=floors[rows, p].tolist(),
                    caps=caps[rows, p].tolist(),
                )
            except ValueError:
                expected[s] = None
        if any(v is None for v in expected.values()):
            with pytest.raises(InfeasibleAllocationError):
                apportion(totals, weights, offsets, floors=floors, caps=caps)
            return
        got = apportion(totals, weights, offsets, floors=floors, caps=caps)
        assert (got >= floors).all()
        assert (got <= caps).all()
        for s, p, rows in groups(offsets, 1):
            assert got[rows, p].tolist() == expected[s]

    def test_water_filling_settles_ordinary_groups_on_its_own(self, monkeypatch):
        """Float water-filling is checked exactly and any group it gets wrong is redone in exact
        rationals, so its mistakes cannot change a number, only cost time. On ordinary groups
        (random weights, some children held at a floor, some at a cap, some capped at 0) it must
        get every group right by itself: the exact path is never taken."""
        from targetcascade.allocation import _kernel

        calls = []
        exact = _kernel.exact_bounded_split

        def counted(*args):
            calls.append(args)
            return exact(*args)

        monkeypatch.setattr(_kernel, "exact_bounded_split", counted)
        rng = np.random.default_rng(7)
        sizes = rng.integers(5, 40, size=300)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        weights = rng.uniform(0.5, 2.0, size=int(offsets[-1]))
        totals = rng.integers(10**5, 10**7, size=sizes.size)
        share = totals[np.repeat(np.arange(sizes.size), sizes)] / np.repeat(sizes, sizes)
        floors = np.floor(share * rng.uniform(0.0, 1.1, size=weights.size)).astype(np.int64)
        caps = np.ceil(share * rng.uniform(0.9, 3.0, size=weights.size)).astype(np.int64)
        caps = np.maximum(caps, floors)
        pinned = rng.random(weights.size) < 0.1
        floors[pinned] = 0
        caps[pinned] = 0
        # feasible: floors that fit the total, caps that can hold it
        starts = offsets[:-1]
        assert (np.add.reduceat(floors, starts) <= totals).all()
        roomy = np.add.reduceat(caps, starts) >= totals
        caps[~np.repeat(roomy, sizes) & ~pinned] *= 4
        assert (np.add.reduceat(caps, starts) >= totals).all()
        got = apportion_detailed(totals, weights, offsets, floors=floors, caps=caps)
        assert calls == []
        assert got.at_floor.sum() > 100
        assert got.at_cap.sum() > 100
        assert (np.add.reduceat(got.values, offsets[:-1]) == totals).all()
        assert ((got.values >= floors) & (got.values <= caps)).all()

    @given(problems())
    def test_negative_totals_mirror_positive(self, problem):
        """Splitting -T gives minus the split of T."""
        totals, weights, offsets = problem
        assert np.array_equal(
            apportion(-totals, weights, offsets), -apportion(totals, weights, offsets)
        )


class TestGridHamilton:
    """``grid_hamilton``: largest remainder on integer weights (the carried split's grid) in int64,
    without the float pass. It must give the reference's numbers whenever it answers, and answer
    whenever the integers fit."""

    @staticmethod
    def split(totals, k, offsets):
        from targetcascade.allocation._kernel import grid_hamilton

        return grid_hamilton(
            np.asarray(totals, dtype=np.int64),
            np.asarray(k, dtype=np.int64),
            np.asarray(offsets, dtype=np.int64),
        )

    def test_hand_checked_tie_goes_to_the_larger_weight(self):
        """T = 4 over weights 1, 3, 4 (sum 8): quotas 0.5, 1.5, 2. Floors 0, 1, 2 leave one
        quantum; rows 0 and 1 tie at remainder 1/2 and the larger weight (row 1) takes it."""
        assert self.split([4], [1, 3, 4], [0, 3]).tolist() == [0, 2, 2]

    def test_hand_checked_equal_weights_go_by_row(self):
        """T = 3 over 3, 1, 1, 3 (sum 8): quotas 9/8, 3/8, 3/8, 9/8. Floors 1, 0, 0, 1 leave one
        quantum; rows 1 and 2 tie (same weight, remainder 3/8) and the earlier row takes it.
        The second group, T = 5 over 1, 1 (quotas 2.5 each), gives its quantum to its first row."""
        got = self.split([3, 5], [3, 1, 1, 3, 1, 1], [0, 4, 6])
        assert got.tolist() == [1, 1, 0, 1, 3, 2]

    def test_whole_quotas_the_float_guess_misses(self):
        """T = 286 over 27, 12, 13, 14 (sum 66): quotas 117, 52, 56 1/3 and 60 2/3, so the one
        leftover quantum goes to the last row. In float, 286 / 66 * 27 = 116.99999999999999: the
        exact remainder check catches the guess and corrects the floor."""
        assert (286 / 66) * 27 < 117
        assert self.split([286], [27, 12, 13, 14], [0, 4]).tolist() == [117, 52, 56, 61]

    def test_zero_weights_get_nothing(self):
        """A zero weight has remainder 0 and never wins a quantum; an all-zero group needs T = 0."""
        assert self.split([7, 0], [0, 2, 0, 5, 0, 0], [0, 4, 6]).tolist() == [0, 2, 0, 5, 0, 0]

    def test_declines_what_int64_cannot_hold(self):
        """Weight sums above 2**61, or a total whose products would overflow: None (the caller
        takes the general kernel), never a wrapped number."""
        assert self.split([10], [2**61, 2**61], [0, 2]) is None
        assert self.split([2**52], [2**59, 2**59, 2**59], [0, 3]) is None
        # T * k wraps past 2**64 here, but the remainders it needs stay small: exact
        assert self.split([2**52 + 1], [2**20, 2**20], [0, 2]).tolist() == [2**51 + 1, 2**51]
        assert self.split([5], [0, 0], [0, 2]) is None  # a total with no weight to carry it

    @given(st.data())
    def test_matches_reference(self, data):
        """Random groups of integer weights, with repeated values (exact ties between equal and
        between different weights) and zeros, under totals up to 2**40: the reference's split."""
        n_groups = data.draw(st.integers(1, 8))
        sizes = data.draw(st.lists(st.integers(1, 12), min_size=n_groups, max_size=n_groups))
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        n = int(offsets[-1])
        palette = data.draw(st.lists(st.integers(0, 2**20), min_size=1, max_size=4))
        k = data.draw(
            st.lists(st.one_of(st.sampled_from(palette), st.integers(0, 2**20)), min_size=n,
                     max_size=n)
        )  # fmt: skip
        totals = data.draw(
            st.lists(st.one_of(st.integers(0, 40), st.integers(0, 2**40)), min_size=n_groups,
                     max_size=n_groups)
        )  # fmt: skip
        for g in range(n_groups):
            if sum(k[offsets[g] : offsets[g + 1]]) == 0:
                totals[g] = 0
        got = self.split(totals, k, offsets)
        assert got is not None  # sums below 2**24 and totals below 2**40 always fit
        for g in range(n_groups):
            rows = slice(int(offsets[g]), int(offsets[g + 1]))
            assert got[rows].tolist() == ref.hamilton(totals[g], k[rows])

    @given(problems(max_segments=8, max_children=12, max_cols=1))
    def test_equals_the_float_kernel_on_grid_weights(self, problem):
        """On weights with whole 1/1024 steps it is the kernel's split, sorted by table rows or in
        one lexicographic sort; where it declines, the general kernel still answers."""
        from targetcascade.allocation import _kernel

        totals, weights, offsets = problem
        k = np.round(weights[:, 0] * 1024).astype(np.int64)
        t = totals[:, 0]
        t[np.add.reduceat(k, offsets[:-1]) == 0] = 0
        expected = apportion(t[:, None], (k / 1024)[:, None], offsets)[:, 0]
        got = self.split(t, k, offsets)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_kernel, "_ROW_SORT_WIDTH", 0)
            sorted_once = self.split(t, k, offsets)
        assert (got is None) == (sorted_once is None)
        if got is not None:
            assert got.tolist() == expected.tolist()
            assert sorted_once.tolist() == expected.tolist()
        else:
            assert t.max() > 2**40 or k.max() > 2**40


class TestApportionErrors:
    def test_locks_above_total(self):
        """Locks summing above the total name the parent, the period and the locked children."""
        with pytest.raises(
            InfeasibleAllocationError,
            match=(
                r"parent 'east' in FY2027-Q3: locked children sum to 120, above the total 100 "
                r"\(off by 20\); locked: 'ann' \(70\), 'bob' \(50\)"
            ),
        ) as info:
            apportion(
                np.array([[100]]),
                np.array([[1.0], [1.0], [1.0]]),
                np.array([0, 3]),
                locked=np.array([[70], [50], [0]]),
                lock_mask=np.array([[True], [True], [False]]),
                segment_labels=["east"],
                column_labels=["FY2027-Q3"],
                child_labels=["ann", "bob", "cy"],
            )
        assert info.value.node == "east"
        assert info.value.period == "FY2027-Q3"
        assert info.value.expected == 100
        assert info.value.actual == 120
        assert "unlock" in str(info.value)

    def test_all_locked_but_short(self):
        """Every child locked with locks below the total is infeasible."""
        with pytest.raises(
            InfeasibleAllocationError,
            match="every child is locked and the locks miss the total by 1",
        ):
            one(6, [1.0, 1.0], locked=np.array([2, 3]), lock_mask=np.array([True, True]))

    def test_all_weights_zero(self):
        """All-zero weights under a non-zero total are an error naming the children."""
        with pytest.raises(
            InfeasibleAllocationError,
            match=(
                r"segment 0 \(column 0\): 5 quanta are to be split but every child has weight 0 "
                r"\(row 0, row 1\)"
            ),
        ):
            one(5, [0.0, 0.0])

    def test_unlocked_weights_zero(self):
        """Zero weights on every unlocked child under a remaining total are an error."""
        with pytest.raises(InfeasibleAllocationError, match="every unlocked child has weight 0"):
            one(5, [3.0, 0.0], locked=np.array([1, 0]), lock_mask=np.array([True, False]))

    @pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
    def test_bad_weight(self, bad):
        """A negative, NaN or infinite weight is a StrategyError naming the child and the parent."""
        with pytest.raises(
            StrategyError, match=r"weight .* of child 'bob' under parent 'east' in M01 is invalid"
        ) as info:
            apportion(
                np.array([[5]]),
                np.array([[1.0], [bad]]),
                np.array([0, 2]),
                segment_labels=["east"],
                column_labels=["M01"],
                child_labels=["ann", "bob"],
            )
        assert info.value.row == 1

    def test_floors_above_total(self):
        """Floors summing above the total name the largest floors."""
        with pytest.raises(
            InfeasibleAllocationError,
            match=(
                r"floors sum to 12, above the 10 to split \(short by 2\); largest floors: "
                r"row 1 \(7\), row 0 \(5\)"
            ),
        ):
            one(10, [1.0, 1.0], floors=np.array([5, 7]))

    def test_caps_below_total(self):
        """Caps summing below the total are infeasible, naming the capped children."""
        with pytest.raises(
            InfeasibleAllocationError,
            match=(
                r"caps .* allow at most 8, below the 10 to split \(short by 2\); capped: "
                r"row 0 \(3\), row 1 \(5\)"
            ),
        ):
            one(10, [1.0, 1.0], caps=np.array([3, 5]))

    def test_zero_weight_child_cannot_absorb(self):
        """A zero-weight child stays at its floor, so caps of the others must cover the total."""
        with pytest.raises(
            InfeasibleAllocationError, match="zero weight stay at their floors: row 1"
        ):
            one(10, [1.0, 0.0], caps=np.array([4, 100]))

    def test_negative_total_with_bounds(self):
        """A negative total cannot be split under floors/caps."""
        with pytest.raises(InfeasibleAllocationError, match="negative"):
            one(-5, [1.0, 1.0], caps=np.array([10, 10]))

    def test_lock_outside_bounds(self):
        """A lock outside its child's floor/cap is a conflict, not silently kept or clipped."""
        with pytest.raises(
            InfeasibleAllocationError,
            match=r"child row 0 is locked at 9, outside its bounds \[0, 5\]",
        ):
            one(
                10,
                [1.0, 1.0],
                caps=np.array([5, 10]),
                locked=np.array([9, 0]),
                lock_mask=np.array([True, False]),
            )

    def test_floors_whose_int64_sum_wraps_are_refused(self):
        """2,048 floors of 2**53 sum to 2**64, which wraps to 0 in int64: still refused, with the
        true sum in the message."""
        n = 2048
        with pytest.raises(InfeasibleAllocationError, match=f"floors sum to {n * MAX_QUANTA}, "):
            one(MAX_QUANTA, [1.0] * n, floors=np.full(n, MAX_QUANTA))

    def test_locks_whose_int64_sum_wraps_are_refused(self):
        """Locks whose int64 sum wraps (to 0 here) still exceed the total."""
        n = 2048
        with pytest.raises(InfeasibleAllocationError, match="lock"):
            one(
                MAX_QUANTA,
                [1.0] * (n + 1),
                locked=np.append(np.full(n, MAX_QUANTA), 0),
                lock_mask=np.append(np.ones(n, dtype=bool), False),
            )

    def test_negative_floor(self):
        """A negative floor is refused, naming the child."""
        with pytest.raises(InfeasibleAllocationError, match="floor -1 of child row 1 is negative"):
            one(10, [1.0, 1.0], floors=np.array([0, -1]))

    def test_floor_beyond_limit(self):
        """A floor beyond MAX_QUANTA is refused before anything is split."""
        with pytest.raises(InfeasibleAllocationError, match="exceeds the kernel's limit"):
            one(10, [1.0, 1.0], floors=np.array([MAX_QUANTA + 1, 0]), caps=np.array([2**62] * 2))

    def test_locked_child_floor_does_not_count_against_the_rest(self):
        """A lock inside its child's bounds takes its value; that child's floor is not asked of
        what is left: 10 with row 0 locked at 6 (floor 5) leaves 4 to row 1, at its floor of 4."""
        got = one(
            10,
            [1.0, 1.0],
            floors=np.array([5, 4]),
            caps=np.array([8, 10]),
            locked=np.array([6, 0]),
            lock_mask=np.array([True, False]),
        )
        assert got == [6, 4]

    def test_cap_below_floor(self):
        """A cap below the floor of the same child is rejected."""
        with pytest.raises(
            InfeasibleAllocationError, match="cap 1 of child row 1 is below its floor 2"
        ):
            one(10, [1.0, 1.0], floors=np.array([0, 2]), caps=np.array([10, 1]))

    def test_bounds_need_largest_remainder(self):
        """Floors/caps with a divisor method are refused (StrategyError)."""
        with pytest.raises(StrategyError, match="LargestRemainder"):
            one(10, [1.0, 1.0], caps=np.array([5, 10]), method=Webster())

    def test_total_beyond_limit(self):
        """Totals beyond MAX_QUANTA are refused with the limit in the message."""
        with pytest.raises(InfeasibleAllocationError, match="exceeds the kernel's limit"):
            one(MAX_QUANTA + 1, [1.0])

    @pytest.mark.parametrize("value", [-MAX_QUANTA - 1, -(2**63)])
    def test_negative_total_or_lock_beyond_limit(self, value):
        """Below -MAX_QUANTA too, down to -2**63 (whose absolute value does not fit int64)."""
        with pytest.raises(InfeasibleAllocationError, match=f"total {value} exceeds"):
            one(value, [1.0])
        with pytest.raises(InfeasibleAllocationError, match=f"lock {value} of child row 0 exceeds"):
            one(0, [1.0, 1.0], locked=np.array([value, 0]), lock_mask=np.array([True, False]))

    @pytest.mark.parametrize(
        ("offsets", "message"),
        [
            ([0, 2], "end at the number of children 3"),
            ([0, 0, 3], "segment 0 has no children"),
            ([3], "at least 2"),
        ],
    )
    def test_bad_offsets(self, offsets, message):
        """Malformed CSR offsets are reported, naming the bad segment."""
        with pytest.raises(InfeasibleAllocationError, match=message):
            apportion(
                np.ones(len(offsets) - 1 if len(offsets) > 1 else 1, dtype=np.int64),
                np.ones(3),
                np.array(offsets),
            )

    def test_float_totals_refused(self):
        """Totals must already be whole quanta."""
        with pytest.raises(InfeasibleAllocationError, match="integer array"):
            apportion(np.array([1.5]), np.ones(2), np.array([0, 2]))

    def test_lock_without_mask(self):
        """locked needs lock_mask."""
        with pytest.raises(InfeasibleAllocationError, match="together"):
            one(3, [1.0, 1.0], locked=np.array([1, 0]))

    def test_error_pickles(self):
        """The error survives pickling with its fields."""
        with pytest.raises(InfeasibleAllocationError) as info:
            one(10, [1.0, 1.0], floors=np.array([5, 7]))
        again = pickle.loads(pickle.dumps(info.value))
        assert str(again) == str(info.value)
        assert again.expected == 10


class TestApportionDetailed:
    def test_quota_and_adjustment(self):
        """100 split 1:1:1: quotas 33.33 each, the first child got the +1 rounding quantum."""
        d = apportion_detailed(np.array([100]), np.array([1.0, 1.0, 1.0]), np.array([0, 3]))
        assert isinstance(d, Apportionment)
        assert d.values.tolist() == [34, 33, 33]
        assert d.adjustment.tolist() == [1, 0, 0]
        assert d.quota.tolist() == pytest.approx([100 / 3] * 3)

    def test_bounds_flags(self):
        """Children held at a floor or cap are flagged and their quota is the bound."""
        d = apportion_detailed(
            np.array([100]),
            np.array([1.0, 1.0, 2.0]),
            np.array([0, 3]),
            floors=np.array([40, 0, 0]),
        )
        assert d.at_floor.tolist() == [True, False, False]
        assert d.at_cap.tolist() == [False, False, False]
        assert d.quota.tolist() == pytest.approx([40, 20, 40])

    def test_locked_cells_quota_is_the_lock(self):
        """A locked child's quota is its lock and its adjustment 0."""
        d = apportion_detailed(
            np.array([10]),
            np.array([1.0, 1.0]),
            np.array([0, 2]),
            locked=np.array([3, 0]),
            lock_mask=np.array([True, False]),
        )
        assert d.values.tolist() == [3, 7]
        assert d.quota.tolist() == [3.0, 7.0]
        assert d.adjustment.tolist() == [0, 0]

    def test_negative_total_adjustment_is_minus_one(self):
        """Under a negative total the leftover quantum shows as -1."""
        d = apportion_detailed(np.array([-7]), np.array([1.0, 1.0]), np.array([0, 2]))
        assert d.values.tolist() == [-4, -3]
        assert d.adjustment.tolist() == [-1, 0]

    @given(problems())
    def test_adjustment_is_values_minus_exact_floor(self, problem):
        """values - adjustment is the exact floor of the quota, and the adjustment is 0 or 1."""
        totals, weights, offsets = problem
        d = apportion_detailed(totals, weights, offsets)
        assert set(np.unique(d.adjustment).tolist()) <= {0, 1}
        for s, p, rows in groups(offsets, totals.shape[1]):
            floors = [
                math.floor(q) for q in ref.quotas(int(totals[s, p]), weights[rows, p].tolist())
            ]
            assert (d.values[rows, p] - d.adjustment[rows, p]).tolist() == floors


class TestLargestRemainder:
    def test_is_an_apportion_method(self):
        """LargestRemainder implements the ApportionMethod protocol on 1-D CSR groups."""
        method = LargestRemainder()
        assert isinstance(method, ApportionMethod)
        assert method.split(
            np.array([10, 2]), np.array([1.0, 3.0, 1.0, 3.0]), np.array([0, 2, 4])
        ).tolist() == [2, 8, 0, 2]


# ---------------------------------------------------------------------------------------------
# Divisor methods


class TestWebster:
    def test_alabama_weights(self):
        """Webster on 1500:1500:900:500:500:200 is house monotone: 25 -> 8 8 4 2 2 1, 26 -> 8 8 5 2 2 1.

        From 23 seats (7 7 4 2 2 1, consistent: every last-seat priority w / (s - 1/2) >= 230.8 >
        every next-seat priority w / (s + 1/2) <= 200), the next priorities are 1500/7.5 = 200,
        900/4.5 = 200, 500/2.5 = 200, 200/1.5 = 133.3: an exact three-way tie at 200 broken by
        weight, so seats 24 and 25 go to the two 1500s and seat 26 to the 900; seat 27 then goes to
        the first 500 (500/2.5 = 200 beats 1500/8.5 = 176.5).
        """

        def split(total: int) -> list[int]:
            return Webster().split(np.array([total]), ALABAMA, np.array([0, 6])).tolist()

        assert split(23) == [7, 7, 4, 2, 2, 1]
        assert split(24) == [8, 7, 4, 2, 2, 1]
        assert split(25) == [8, 8, 4, 2, 2, 1]
        assert split(26) == [8, 8, 5, 2, 2, 1]
        assert split(27) == [8, 8, 5, 3, 2, 1]

    def test_differs_from_largest_remainder(self):
        """10 split 1:1:4.2 (quotas 1.613, 1.613, 6.774): Webster 2 2 6, largest remainder 2 1 7.

        Webster, seat by seat on w / (s + 1/2): 4.2 (8.4), 4.2 (2.8), the 1s (2, 2; tie: row 0
        first), 4.2 (1.68), 4.2 (1.2), 4.2 (0.933), 4.2 (0.764), then 1 / 1.5 = 0.667 beats
        4.2 / 6.5 = 0.646 twice: 2, 2, 6. Largest remainder: floors 1 1 6, two leftovers to .774
        and the first .613: 2, 1, 7.
        """
        w = np.array([1.0, 1.0, 4.2])
        assert Webster().split(np.array([10]), w, np.array([0, 3])).tolist() == [2, 2, 6]
        assert LargestRemainder().split(np.array([10]), w, np.array([0, 3])).tolist() == [2, 1, 7]

    @given(problems(max_segments=2, max_cols=1), st.integers(0, 40))
    def test_matches_reference(self, problem, total):
        """Webster equals seat-by-seat highest averages in exact rationals."""
        _, weights, offsets = problem
        w = weights[:, 0]
        totals = np.array(
            [
                total if w[offsets[g] : offsets[g + 1]].sum() > 0 else 0
                for g in range(offsets.size - 1)
            ]
        )
        got = Webster().split(totals, w, offsets)
        for g in range(offsets.size - 1):
            rows = slice(int(offsets[g]), int(offsets[g + 1]))
            assert got[rows].tolist() == ref.divisor(
                int(totals[g]), w[rows].tolist(), Fraction(1, 2)
            )

    @given(problems(max_segments=1, max_cols=1), st.integers(0, 40))
    def test_house_monotone(self, problem, total):
        """One more quantum never takes a quantum from any child (no Alabama paradox)."""
        _, weights, offsets = problem
        w = weights[:, 0]
        assume(w.sum() > 0)
        a = Webster().split(np.array([total]), w, offsets)
        b = Webster().split(np.array([total + 1]), w, offsets)
        assert (b >= a).all()
        assert b.sum() == total + 1


class TestJefferson:
    def test_dhondt_example(self):
        """D'Hondt with 6:3:1 and 4 seats: priorities 6, 3, 3 (6/2), 2 (6/3) -> 3, 1, 0.

        Seats go to 6 (6/1), then 6/2 = 3 ties 3/1 = 3: larger weight first (6), then 3/1 = 3, then
        6/3 = 2 beats 1/1 = 1 -> 3 1 0.
        """
        got = Jefferson().split(np.array([4]), np.array([6.0, 3.0, 1.0]), np.array([0, 3]))
        assert got.tolist() == [3, 1, 0]

    @given(problems(max_segments=2, max_cols=1), st.integers(0, 40))
    def test_matches_reference(self, problem, total):
        """Jefferson equals seat-by-seat highest averages in exact rationals."""
        _, weights, offsets = problem
        w = weights[:, 0]
        totals = np.array(
            [
                total if w[offsets[g] : offsets[g + 1]].sum() > 0 else 0
                for g in range(offsets.size - 1)
            ]
        )
        got = Jefferson().split(totals, w, offsets)
        for g in range(offsets.size - 1):
            rows = slice(int(offsets[g]), int(offsets[g + 1]))
            assert got[rows].tolist() == ref.divisor(int(totals[g]), w[rows].tolist(), Fraction(1))


class TestAdams:
    def test_everyone_gets_one_first(self):
        """Adams with 6:3:1 and 4 seats: each positive weight gets one, the 4th to 6/1 -> 2 1 1."""
        got = Adams().split(np.array([4]), np.array([6.0, 3.0, 1.0]), np.array([0, 3]))
        assert got.tolist() == [2, 1, 1]

    def test_fewer_quanta_than_children(self):
        """With 2 quanta for 3 children, the larger weights get them (infinite priorities tie)."""
        got = Adams().split(np.array([2]), np.array([1.0, 6.0, 3.0]), np.array([0, 3]))
        assert got.tolist() == [0, 1, 1]

    @given(problems(max_segments=2, max_cols=1), st.integers(0, 40))
    def test_matches_reference(self, problem, total):
        """Adams equals seat-by-seat highest averages in exact rationals."""
        _, weights, offsets = problem
        w = weights[:, 0]
        totals = np.array(
            [
                total if w[offsets[g] : offsets[g + 1]].sum() > 0 else 0
                for g in range(offsets.size - 1)
            ]
        )
        got = Adams().split(totals, w, offsets)
        for g in range(offsets.size - 1):
            rows = slice(int(offsets[g]), int(offsets[g + 1]))
            assert got[rows].tolist() == ref.divisor(int(totals[g]), w[rows].tolist(), Fraction(0))


# ---------------------------------------------------------------------------------------------
# Matrices with two fixed margins


class TestFitIpf:
    def test_two_by_two_by_hand(self):
        """Seed [[1, 1], [1, 3]] to rows 4, 6 and columns 5, 5: x11 = 7 - sqrt(19).

        IPF keeps the cross-product ratio x11 x22 / (x12 x21) = 3. With x11 = a the margins force
        x12 = 4 - a, x21 = 5 - a, x22 = 1 + a, so a (1 + a) = 3 (4 - a)(5 - a), i.e.
        a**2 - 14 a + 30 = 0, a = 7 - sqrt(19) = 2.6411.
        """
        got = fit_ipf([[1.0, 1.0], [1.0, 3.0]], [4.0, 6.0], [5.0, 5.0])
        a = 7 - math.sqrt(19)
        assert got == pytest.approx(np.array([[a, 4 - a], [5 - a, 1 + a]]), abs=1e-8)

    def test_keeps_zero_cells(self):
        """Cells that are zero in the seed stay zero."""
        got = fit_ipf([[1.0, 0.0], [1.0, 1.0]], [1.0, 3.0], [2.0, 2.0])
        assert got[0, 1] == 0.0
        assert got.sum(axis=1) == pytest.approx([1.0, 3.0])

    @given(st.integers(1, 5), st.integers(1, 5), st.data())
    def test_margins_met(self, n_rows, n_cols, data):
        """A positive seed is fitted to any margins with the same grand total."""
        seed = np.array(
            data.draw(
                st.lists(st.floats(0.01, 100), min_size=n_rows * n_cols, max_size=n_rows * n_cols)
            )
        ).reshape(n_rows, n_cols)
        rows = np.array(
            data.draw(st.lists(st.integers(0, 1000), min_size=n_rows, max_size=n_rows)), dtype=float
        )
        weights = np.array(
            data.draw(st.lists(st.integers(1, 10), min_size=n_cols, max_size=n_cols)), dtype=float
        )
        cols = rows.sum() * weights / weights.sum()
        got = fit_ipf(seed, rows, cols)
        scale = max(rows.sum(), 1.0)
        assert np.abs(got.sum(axis=1) - rows).max() <= 1e-9 * scale
        assert np.abs(got.sum(axis=0) - cols).max() <= 1e-6 * scale
        assert (got >= 0).all()

    def test_grand_totals_differ(self):
        """Margins with different grand totals are refused."""
        with pytest.raises(
            InfeasibleAllocationError, match=r"row totals sum to 10\.0 but column totals to 9\.0"
        ):
            fit_ipf([[1.0, 1.0]], [10.0], [4.0, 5.0])

    def test_zero_seed_row_with_positive_total(self):
        """A seed row of zeros cannot carry a positive total; the row is named."""
        with pytest.raises(
            InfeasibleAllocationError,
            match=r"row 'north' of the seed is all zero but its total is 3\.0",
        ):
            fit_ipf([[1.0, 1.0], [0.0, 0.0]], [2.0, 3.0], [2.5, 2.5], row_labels=["south", "north"])

    def test_unreachable_margins(self):
        """A zero pattern that makes the margins unreachable ends in a clear error."""
        # row 1 may only use column 1, whose total is 0.
        with pytest.raises(InfeasibleAllocationError, match="did not reach the margins"):
            fit_ipf([[1.0, 1.0], [0.0, 1.0]], [1.0, 1.0], [2.0, 0.0], max_iter=50)


class TestRoundMatrix:
    def test_by_hand(self):
        """Rows 4, 5 and columns 2, 4, 3 over [[1.2, 2.3, 0.5], [0.8, 1.7, 2.5]].

        Floors [[1, 2, 0], [0, 1, 2]] leave row needs 1, 2 and column needs 1, 1, 1. Rounding up
        (0, 2), (1, 0), (1, 1) moves fractions .5 + .8 + .7 = 2.0, the most of any choice
        (row 0 taking .2 or .3 instead gives 1.4 or 1.6).
        """
        got = round_matrix([[1.2, 2.3, 0.5], [0.8, 1.7, 2.5]], [4, 5], [2, 4, 3])
        assert got.tolist() == [[1, 2, 1], [1, 2, 2]]

    def test_integers_unchanged(self):
        """An integer table is its own rounding."""
        assert round_matrix([[1.0, 2.0], [3.0, 4.0]], [3, 7], [4, 6]).tolist() == [[1, 2], [3, 4]]

    @given(st.integers(1, 4), st.integers(1, 4), st.data())
    def test_margins_exact_and_cells_floor_or_ceil(self, n_rows, n_cols, data):
        """Integer margins of a table are kept exactly, each cell rounded down or up, optimally.

        The brute force over all roundings checks that no other valid rounding keeps more of the
        fractional parts (sum of fractions of the cells rounded up).
        """
        cells = data.draw(
            st.lists(st.integers(0, 40), min_size=n_rows * n_cols, max_size=n_rows * n_cols)
        )
        table = np.array(cells, dtype=float).reshape(n_rows, n_cols) / 4  # quarters: many ties
        # integer margins consistent with the table: round its row/column sums via a rounding of
        # the table itself (round half down per cell gives one valid integer table)
        base = np.floor(table + 0.25)
        rows = base.sum(axis=1).astype(np.int64)
        cols = base.sum(axis=0).astype(np.int64)
        got = round_matrix(table, rows, cols)
        assert (got.sum(axis=1) == rows).all()
        assert (got.sum(axis=0) == cols).all()
        assert ((got == np.floor(table)) | (got == np.ceil(table))).all()
        frac = table - np.floor(table)
        where = list(zip(*np.nonzero(frac > 0), strict=True))
        assume(len(where) <= 10)
        best = -1.0
        for pick in itertools.product((0, 1), repeat=len(where)):
            trial = np.floor(table).astype(np.int64)
            for (r, c), up in zip(where, pick, strict=True):
                trial[r, c] += up
            if (trial.sum(axis=1) == rows).all() and (trial.sum(axis=0) == cols).all():
                best = max(
                    best, sum(frac[r, c] for (r, c), up in zip(where, pick, strict=True) if up)
                )
        assert sum(
            frac[r, c] for r, c in where if got[r, c] > np.floor(table[r, c])
        ) == pytest.approx(best)

    def test_deterministic(self):
        """Ties between equally close roundings are broken the same way every time."""
        table = np.full((3, 3), 0.5)
        first = round_matrix(table, [1, 2, 1], [2, 1, 1])
        for _ in range(3):
            assert np.array_equal(round_matrix(table, [1, 2, 1], [2, 1, 1]), first)

    def test_grand_totals_differ(self):
        """Margins with different grand totals are refused."""
        with pytest.raises(
            InfeasibleAllocationError, match="row totals sum to 3 but column totals to 2"
        ):
            round_matrix([[1.5, 1.5]], [3], [1, 1])

    def test_row_beyond_its_ceilings(self):
        """A row total above the sum of its cells' ceilings names the row."""
        with pytest.raises(
            InfeasibleAllocationError,
            match="row 'b': its total needs 2 cells rounded up but only 1",
        ):
            round_matrix([[1.0, 1.0], [0.5, 1.0]], [2, 3], [3, 2], row_labels=["a", "b"])

    def test_column_below_its_floors(self):
        """A column total below the sum of its cells' floors names the column."""
        # floors [[0, 2], [1, 0]]: rows need 1 and 0 (fine); column 1's floors sum to 2 > 1
        with pytest.raises(InfeasibleAllocationError, match="column 1: its total is 1 below"):
            round_matrix([[0.5, 2.0], [1.5, 0.0]], [3, 1], [3, 1])

    def test_rows_and_columns_cannot_agree(self):
        """Per-line checks pass but no flow exists: rows 0 and 1 both need column 0's one quantum."""
        table = [[0.5, 0.0], [0.5, 0.0], [0.0, 0.5]]
        with pytest.raises(InfeasibleAllocationError, match="no rounding keeps both margins"):
            round_matrix(table, [1, 1, 0], [1, 1])


def test_amount_formatter_shows_amounts_with_their_unit() -> None:
    """With ``amount=Metric.format`` the kernel's messages show 1,200,000.00 CNY, not quanta."""
    from targetcascade import Metric

    cny = Metric(name="revenue", unit="CNY")
    with pytest.raises(
        InfeasibleAllocationError,
        match=r"floors sum to 1,200,000\.00 CNY, above the 69,444\.45 CNY to split "
        r"\(short by 1,130,555\.55 CNY\); largest floors: row 0 \(1,200,000\.00 CNY\)",
    ):
        apportion(
            np.array([6_944_445]),
            np.array([1.0, 1.0]),
            np.array([0, 2]),
            floors=np.array([120_000_000, 0]),
            amount=cny.format,
        )


class TestScaleInvariance:
    @pytest.mark.parametrize("k", [-1070, -1000, -600, 0, 600, 1000, 1020])
    def test_weights_times_a_power_of_two_split_the_same(self, k):
        """Weights times 2**k, from near the smallest to near the largest float, split as the weights."""
        weights = np.array([3.0, 1.0, 1.0, 5.0, 7.0])
        expected = ref.hamilton(10**6 + 7, weights.tolist())
        got = apportion(np.array([10**6 + 7]), np.ldexp(weights, k), np.array([0, 5]))
        assert got.tolist() == expected

    def test_equal_weights_of_1e308_split_as_ones(self):
        """The issue's repro: two weights of 1e308 split 100,000 quanta 50,000 / 50,000."""
        got = apportion(np.array([100_000]), np.array([1e308, 1e308]), np.array([0, 2]))
        assert got.tolist() == [50_000, 50_000]

    def test_ordinary_groups_are_left_alone(self):
        """Only far-out groups are rescaled: the others' weights are returned as they are."""
        weights = np.array([[1e308, 3.0], [1e308, 1.0]])
        out = rescaled(weights, np.array([0, 2]))
        assert out[:, 1].tolist() == [3.0, 1.0]
        assert out[0, 0] == out[1, 0] == np.ldexp(1e308, -1024)
