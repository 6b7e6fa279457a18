"""Edge cases of the apportionment kernel: malformed arrays, the size limit, custom rounding."""

from __future__ import annotations

import numpy as np
import pytest

import _reference as ref
from targetcascade.allocation._kernel import (
    MAX_QUANTA,
    apportion,
    apportion_detailed,
    rescaled,
)
from targetcascade.errors import InfeasibleAllocationError, StrategyError


def _cny(quanta: int) -> str:
    return f"{quanta / 100:,.2f} CNY"


class _WrongShape:
    """A rounding method that forgets a child."""

    def split(self, totals: np.ndarray, weights: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        return np.zeros(weights.size - 1, dtype=np.int64)


class TestApportion:
    def test_total_above_the_limit_names_the_limit_in_the_unit(self) -> None:
        """A total above MAX_QUANTA is refused, the limit shown in the caller's unit and in quanta."""
        with pytest.raises(InfeasibleAllocationError) as info:
            apportion([[MAX_QUANTA + 2]], [[1.0], [1.0]], [0, 2], amount=_cny)
        message = str(info.value)
        # MAX_QUANTA = 2**53 = 9,007,199,254,740,992 quanta of 0.01 CNY
        assert "90,071,992,547,409.94 CNY exceeds" in message
        assert "limit of 90,071,992,547,409.92 CNY (9007199254740992 quanta)" in message

    def test_unsigned_totals_beyond_int64_are_refused(self) -> None:
        """uint64 totals above 2**63 - 1 are refused rather than wrapped to negative numbers."""
        totals = np.array([[2**63 + 5]], dtype=np.uint64)
        with pytest.raises(InfeasibleAllocationError, match="totals exceeds the int64 range"):
            apportion(totals, [[1.0], [1.0]], [0, 2])

    def test_unsigned_totals_within_int64_are_split(self) -> None:
        """uint64 totals within the int64 range are split like int64 ones."""
        got = apportion(np.array([[7]], dtype=np.uint64), [[1.0], [2.0]], [0, 2])
        assert got.tolist() == [[2], [5]]  # 7/3 = 2.33, 14/3 = 4.67: the leftover to the second

    def test_text_weights_are_refused(self) -> None:
        """Weights that are strings are refused as a StrategyError naming their dtype."""
        with pytest.raises(StrategyError, match="weights must be numbers, got dtype <U1"):
            apportion([[10]], [["a"], ["b"]], [0, 2])

    def test_three_dimensional_weights_are_refused(self) -> None:
        """Weights with three axes are refused, naming the shape."""
        with pytest.raises(InfeasibleAllocationError, match=r"got \(2, 1, 1\)"):
            apportion([[10]], np.ones((2, 1, 1)), [0, 2])

    def test_totals_of_the_wrong_shape_are_refused(self) -> None:
        """Totals with more periods than the weights are refused, naming both shapes."""
        with pytest.raises(InfeasibleAllocationError, match=r"shape \(1, 1\).*got \(1, 2\)"):
            apportion([[10, 5]], np.ones((2, 1)), [0, 2])

    def test_too_few_child_labels_are_refused(self) -> None:
        """A label list shorter than the children is refused, naming the list and both counts."""
        with pytest.raises(
            InfeasibleAllocationError, match="child_labels has 1 entries, expected 2"
        ):
            apportion([[10]], np.ones((2, 1)), [0, 2], child_labels=["ann"])

    def test_integer_lock_mask_is_refused(self) -> None:
        """A lock mask of 0/1 integers is refused: it must be booleans."""
        with pytest.raises(InfeasibleAllocationError, match="lock_mask must be a bool array"):
            apportion([[10]], np.ones((2, 1)), [0, 2], locked=[[3], [0]], lock_mask=[[1], [0]])

    def test_zero_periods_give_an_empty_split(self) -> None:
        """A split over no periods gives one empty row per child."""
        got = apportion(np.zeros((1, 0), dtype=np.int64), np.ones((2, 0)), [0, 2])
        assert got.shape == (2, 0)

    def test_zero_periods_with_locks_give_an_empty_split(self) -> None:
        """A split over no periods with (empty) locks gives one empty row per child."""
        none = np.zeros((2, 0), dtype=np.int64)
        got = apportion(
            np.zeros((1, 0), dtype=np.int64),
            np.ones((2, 0)),
            [0, 2],
            locked=none,
            lock_mask=none.astype(bool),
        )
        assert got.shape == (2, 0)

    def test_zero_periods_with_floors_and_caps_give_an_empty_split(self) -> None:
        """A bounded split over no periods gives an empty split, not a raw numpy error."""
        none = np.zeros((2, 0), dtype=np.int64)
        got = apportion(
            np.zeros((1, 0), dtype=np.int64), np.ones((2, 0)), [0, 2], floors=none, caps=none + 5
        )
        assert got.shape == (2, 0)

    def test_method_returning_the_wrong_shape_is_refused(self) -> None:
        """A rounding method that returns too few values is refused, naming the method."""
        with pytest.raises(StrategyError, match=r"_WrongShape.split returned shape"):
            apportion([[10]], np.ones((2, 1)), [0, 2], method=_WrongShape())


class TestApportionDetailed:
    def test_floor_binds_for_a_tiny_weight_beside_a_huge_one(self) -> None:
        """With weights 1e30 : 1e-300 : 0.1 the third child is held at its floor, the first takes 6."""
        # lambda * 0.1 is ~1e-31 below the floor 1: held there; 6 left, all of it to 1e30
        # (the 1e-300 child's quota is ~6e-330, it gets nothing of the last quantum)
        weights, floors, caps = [1e30, 1e-300, 0.1], [0, 0, 1], [7, 1, 2]
        got = apportion_detailed(
            np.array([7]),
            np.array(weights),
            np.array([0, 3]),
            floors=np.array(floors),
            caps=np.array(caps),
        )
        assert got.values.tolist() == [6, 0, 1]
        assert got.values.tolist() == ref.apportion_group(7, weights, floors=floors, caps=caps)
        assert got.at_floor.tolist() == [False, False, True]

    def test_cap_binds_at_the_size_limit_beside_a_tiny_weight(self) -> None:
        """At 2**53 quanta with weights 1e-300 : 1 : 1, a cap of a third holds; the rest goes on."""
        total = 2**53  # 9,007,199,254,740,992
        third = total // 3  # 3,002,399,751,580,330 (2**53 / 3 = ...330.67)
        weights, floors, caps = [1e-300, 1.0, 1.0], [0, 0, 0], [total, third, total]
        got = apportion_detailed(
            np.array([total]),
            np.array(weights),
            np.array([0, 3]),
            floors=np.array(floors),
            caps=np.array(caps),
        )
        # lambda * 1 = total / 2 > cap: the second child is held at the cap; the first child's
        # share of the rest (~6e-285) rounds to nothing, the third child takes all of it
        assert got.values.tolist() == [0, third, total - third]
        assert got.values.tolist() == ref.apportion_group(total, weights, floors=floors, caps=caps)
        assert got.at_cap.tolist() == [False, True, False]


class TestRescaled:
    def test_no_weights_stay_no_weights(self) -> None:
        """Rescaling an empty weight array returns it empty."""
        got = rescaled(np.zeros(0), np.array([0]))
        assert got.shape == (0,)
