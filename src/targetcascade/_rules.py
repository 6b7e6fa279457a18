"""Exact integer rules shared by the engine and the checker (private).

Both sides of the promise "children sum to round(parent x (1 + h))" must compute the right-hand side
the same way, so it lives here, below both of them on the import path.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_QUANTA",
    "as_slice",
    "block_index",
    "div_round_half_even",
    "exact_fraction",
    "hedged_bounds",
    "hedged_period_totals",
    "hedged_total",
    "over_limit",
    "scaled_bounds",
    "segment_sums",
]

Int64Array = npt.NDArray[np.int64]

#: Largest magnitude, in quanta, of any cell of any plan (DESIGN.md "One size limit"): every
#: integer up to 2**53 is exact as a float64, which the kernel's quotas rely on.
MAX_QUANTA: Final = 2**53

# A product below this fits int64 with room for the remainder arithmetic that follows it.
_INT64_SAFE: Final = 2**62


def as_slice(index: Int64Array) -> slice | Int64Array:
    """``index`` as a slice when it is one ascending run of consecutive positions, else unchanged.

    Slices read and write in place without numpy's fancy-index gather: the nodes of one tree depth
    and the months of the grid are contiguous ranges, so the hot paths can use views.

    Args:
        index: Positions.

    Returns:
        An equivalent slice, or ``index`` itself.

    Example:
        >>> as_slice(np.array([3, 4, 5])), as_slice(np.array([3, 5])).tolist()
        (slice(3, 6, None), [3, 5])
    """
    if index.size and bool(np.all(np.diff(index) == 1)):
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


def block_index(rows: Int64Array, columns: Int64Array) -> Any:
    """Index of the ``rows x columns`` block: two slices when both are contiguous, else ``np.ix_``.

    Args:
        rows: Row positions.
        columns: Column positions.

    Returns:
        Something to index a 2-D array with.

    Example:
        >>> block_index(np.array([1, 2]), np.array([5, 6, 7]))
        (slice(1, 3, None), slice(5, 8, None))
    """
    row_index, column_index = as_slice(rows), as_slice(columns)
    if isinstance(row_index, slice) and isinstance(column_index, slice):
        return (row_index, column_index)
    return np.ix_(rows, columns)


def exact_fraction(value: object) -> Fraction:
    """Read a number exactly, floats as the decimal they print as.

    Ints, Decimals, fractions and decimal strings are taken as they are; ``0.05`` is 1/20, not the
    binary double nearest to it.

    Args:
        value: The number.

    Returns:
        The exact fraction.

    Raises:
        ValueError: If the value is a bool or does not read as a number.

    Example:
        >>> exact_fraction(0.05), exact_fraction("1/3"), exact_fraction(2)
        (Fraction(1, 20), Fraction(1, 3), Fraction(2, 1))
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, float):
        value = Decimal(repr(value))
    if not isinstance(value, int | Fraction | Decimal | str):
        raise ValueError(f"{value!r} is not a number")
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"{value!r} is not a number") from exc


def div_round_half_even(
    numerator: npt.NDArray[np.int64], denominator: int | npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Integer division rounded half to even (Python's ``round``), elementwise, without floats.

    Args:
        numerator: Integers to divide.
        denominator: A positive integer, or an array of positive integers broadcastable to it.

    Returns:
        ``round(numerator / denominator)`` with ties to the even integer.

    Example:
        >>> div_round_half_even(np.array([5, 15, 25, -5, 7]), 10).tolist()
        [0, 2, 2, 0, 1]
    """
    num = np.asarray(numerator, dtype=np.int64)
    den = np.asarray(denominator, dtype=np.int64)
    quotient, remainder = np.divmod(num, den)  # floor division, 0 <= remainder < den
    twice = 2 * remainder
    up = (twice > den) | ((twice == den) & (quotient % 2 == 1))
    result: Int64Array = quotient + up.astype(np.int64)
    return result


def over_limit(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Where ``|values| > MAX_QUANTA`` (int64 or Python-int object arrays).

    Written as two comparisons: ``np.abs`` of int64's minimum is itself negative.

    Args:
        values: Integers.

    Returns:
        A bool array of the same shape.

    Example:
        >>> over_limit(np.array([2**53, -(2**53) - 1, np.iinfo(np.int64).min])).tolist()
        [False, True, True]
    """
    result: npt.NDArray[np.bool_] = np.asarray((values > MAX_QUANTA) | (values < -MAX_QUANTA))
    return result


def _narrowed(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """An object array of Python ints as int64 when every value fits, else unchanged."""
    if values.dtype != object:
        return values
    if values.size == 0 or (
        int(values.max()) <= np.iinfo(np.int64).max and int(values.min()) >= np.iinfo(np.int64).min
    ):
        return values.astype(np.int64)
    return values


def _scaled_parts(
    parent: npt.ArrayLike, factor: Fraction
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """``floor(parent x factor)`` and the numerators over ``factor.denominator`` of what is left.

    int64 arithmetic where ``|parent| x numerator`` provably fits, else Python integers (object
    arrays): a hedge read from a float such as 1/30 is 3333333333333333/10**17, whose numerator
    times a parent of a few million quanta is already beyond int64.
    """
    values = np.asarray(parent, dtype=np.int64)
    num, den = factor.numerator, factor.denominator
    peak = max(abs(int(values.max(initial=0))), abs(int(values.min(initial=0))))
    if peak * num < _INT64_SAFE and den < _INT64_SAFE:
        scaled = values * num
    else:
        scaled = values.astype(object) * num
    floors = scaled // den
    return floors, scaled - floors * den


def hedged_total(parent: npt.ArrayLike, hedge: Fraction) -> npt.NDArray[Any]:
    """What the children of ``parent`` must sum to under over-assignment ``hedge``.

    ``round(parent x (1 + hedge))`` computed exactly in quanta, ties to even as Python's ``round``,
    for any parent and hedge: the products are taken in Python integers where int64 could wrap.

    Args:
        parent: Parent values in quanta.
        hedge: Over-assignment as an exact fraction (``Fraction(1, 20)`` for 5 %); 0 means children
            equal the parent.

    Returns:
        The required child sums in quanta: int64, or an object array of Python ints where a result
        does not fit int64 (callers refuse those against :data:`MAX_QUANTA`).

    Example:
        >>> hedged_total(np.array([100, 10, 30]), Fraction(1, 20)).tolist()
        [105, 10, 32]
        >>> hedged_total(np.array([100000]), exact_fraction(1 / 30)).tolist()  # 103,333.33...
        [103333]
    """
    values = np.asarray(parent, dtype=np.int64)
    if hedge == 0:
        return values.copy()
    factor = 1 + hedge
    floors, remainders = _scaled_parts(values, factor)
    twice = 2 * remainders
    up = (twice > factor.denominator) | ((twice == factor.denominator) & (floors % 2 == 1))
    return _narrowed(floors + up.astype(np.int64))


def hedged_bounds(
    parent: npt.ArrayLike, hedge: Fraction
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Floor and ceiling of ``parent x (1 + hedge)``, exactly, elementwise.

    Below the year, over-assigned children must sum to one of these two (see
    :func:`hedged_period_totals` for why the year alone is rounded to nearest).

    Args:
        parent: Parent values in quanta.
        hedge: Over-assignment as an exact fraction.

    Returns:
        ``(floor, ceiling)`` arrays: int64, or object arrays of Python ints where a result does
        not fit int64.

    Example:
        >>> lo, hi = hedged_bounds(np.array([10, 20]), Fraction(1, 20))
        >>> lo.tolist(), hi.tolist()
        ([10, 21], [11, 21])
    """
    return scaled_bounds(parent, 1 + hedge)


def scaled_bounds(
    values: npt.ArrayLike, factor: Fraction
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Floor and ceiling of ``values x factor``, exactly, elementwise.

    Args:
        values: Integers (int64).
        factor: An exact fraction, of any number of digits.

    Returns:
        ``(floor, ceiling)`` arrays: int64, or object arrays of Python ints where a result does
        not fit int64.

    Example:
        >>> lo, hi = scaled_bounds(np.array([7, -7, 10]), Fraction(9, 10))
        >>> lo.tolist(), hi.tolist()
        ([6, -7, 9], [7, -6, 9])
    """
    floors, remainders = _scaled_parts(values, factor)
    return _narrowed(floors), _narrowed(floors + (remainders != 0).astype(np.int64))


def hedged_period_totals(
    values: Int64Array, hedge: Fraction, child_offsets: Int64Array
) -> npt.NDArray[Any]:
    """What over-assigned children must sum to in every period, additive over time.

    Rounding each period on its own (``round(parent x (1 + h))`` per month) would break time
    additivity: the months would no longer add up to the year. So the year is rounded to nearest
    (half to even) and each period's total is then split among its sub-periods by their exact hedged
    values ``x = parent x (1 + h)``: every sub-period gets ``floor(x)``, and the leftover quanta go to
    the largest fractional parts (ties to the earlier period). Each result is the floor or the
    ceiling of its exact hedged value, and the results add up exactly: the leftover is never more
    than the number of sub-periods with a fractional part, because
    ``sum(floor(x_c)) <= floor(x_p) <= H_p <= ceil(x_p) <= sum(ceil(x_c))``.

    Args:
        values: Parent values in quanta, shape (parents, periods) in the calendar's grid order.
        hedge: Over-assignment as an exact fraction.
        child_offsets: The calendar's CSR offsets (``FiscalCalendar.child_offsets``).

    Returns:
        The children's required sums, same shape: int64, or an object array of Python ints where a
        sum does not fit int64.

    Example:
        >>> offsets = np.array([1, 3, 3, 3])  # a year with two halves, for the example
        >>> hedged_period_totals(np.array([[10, 5, 5]]), Fraction(1, 10), offsets).tolist()
        [[11, 6, 5]]
    """
    values = np.asarray(values, dtype=np.int64)
    floors, fractions = _scaled_parts(values, 1 + hedge)
    out = np.empty(values.shape, dtype=floors.dtype)
    out[:, 0] = hedged_total(values[:, 0], hedge)
    for p in range(child_offsets.size - 1):
        lo, hi = int(child_offsets[p]), int(child_offsets[p + 1])
        if hi <= lo:
            continue
        leftover = out[:, p] - floors[:, lo:hi].sum(axis=1)
        order = np.argsort(-fractions[:, lo:hi], axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(hi - lo)[None, :].repeat(len(values), 0), axis=1)
        out[:, lo:hi] = floors[:, lo:hi] + (rank < leftover[:, None])
    return _narrowed(out)


def segment_sums(
    block: Int64Array, offsets: Int64Array, axis: int
) -> tuple[Int64Array, Int64Array]:
    """Sums over CSR segments of ``block`` along ``axis``; returns (segment index, sums).

    ``offsets`` are positions into the full axis (children of i at offsets[i]:offsets[i+1]); only
    segments with children are summed, so ``np.add.reduceat`` never sees an empty segment (where it
    would return the element itself instead of 0).

    Args:
        block: The array to sum.
        offsets: CSR offsets, shape (segments + 1,).
        axis: The axis the offsets index.

    Returns:
        ``(segments, sums)``: the indices of the non-empty segments and their sums.

    Example:
        >>> segment_sums(np.array([5, 1, 2, 3]), np.array([1, 3, 3, 4]), axis=0)
        (array([0, 2]), array([3, 3]))
    """
    counts = np.diff(offsets)
    parents = np.flatnonzero(counts > 0)
    if parents.size == 0:
        empty_shape = list(block.shape)
        empty_shape[axis] = 0
        return parents, np.zeros(empty_shape, dtype=np.int64)
    first = int(offsets[parents[0]])
    last = int(offsets[parents[-1] + 1])
    window = block[(slice(None),) * axis + (slice(first, last),)]
    sums = np.add.reduceat(window, offsets[parents] - first, axis=axis)
    return parents, sums
