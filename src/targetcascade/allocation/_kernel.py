"""The exact apportionment kernel: split segment totals into whole quanta, vectorised (private).

Children are stored in CSR order: segment ``s`` (a parent) owns rows ``offsets[s]:offsets[s + 1]`` of
a ``(children, periods)`` weight array, and each column is split on its own. Every segment-column is
a *group*; all groups are solved at once with numpy.

Largest remainder (Hamilton) in quanta: ``q_i = T * w_i / W``, ``a_i = floor(q_i)``, and the
``T - sum(a_i)`` leftover quanta go to the largest fractional parts; ties go to the larger weight, then
to the earlier row. The quotas are *exact* rationals (the float weights are exact binary fractions and
``W`` is their exact sum), so the result is the one exact arithmetic gives, byte for byte:

1. groups whose weights are all equal take ``T // n`` each and the first ``T % n`` rows one more,
   in integers;
2. a float pass computes the quotas with a rigorous error bound ``E`` per group (recursive
   summation, Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., 2002, sec. 4.2);
   a group with a quota within ``E`` of an integer is *uncertified*. For large totals, or for the
   groups the cheap pass left uncertified, the weight sum is computed almost exactly (error-free
   extraction, Rump, Ogita & Oishi 2008), which shrinks ``E`` to about 4u of the largest quota;
3. groups still uncertified are redone in exact integers: their weights are scaled by a common
   power of two to int64 integers ``M_i`` and ``T * M_i - a_i * W_M`` is computed modulo 2**64,
   exact because the float estimate of ``a_i`` is within a few units of the truth; groups whose
   integers do not fit (full 53-bit mantissas spread over many binary orders) are solved in Python
   integers, one group at a time: a cold path for near-integer quotas and exact near-ties;
4. the leftover quanta go by one ``np.sort`` of packed float keys (group id above, remainder
   below) which finds each group's threshold remainder; children within the error band of the
   threshold are ranked exactly: equal weights have equal exact remainders, so rows decide;
   different weights are compared by a sharper pass, then by exact integer remainders.

Floors and caps are met by water-filling (find the ``lambda`` with
``sum(clip(lambda * w_i, floor_i, cap_i)) == T``; fix children outside their bounds, repeat), then
the free children are rounded by largest remainder; a child sitting at its cap has a zero remainder,
so it never receives a leftover quantum. The float classification is verified exactly afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Final, NamedTuple, NoReturn, Protocol, runtime_checkable

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade._rules import MAX_QUANTA
from targetcascade.errors import InfeasibleAllocationError, StrategyError

__all__ = [
    "MAX_QUANTA",
    "ApportionMethod",
    "Apportionment",
    "LargestRemainder",
    "apportion",
    "apportion_detailed",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# MAX_QUANTA (from _rules, below plan and check, which refuse cells beyond it too) is the largest
# magnitude of a total, lock or floor, in quanta (about 9.007e15: 90 trillion CNY in cents). Caps
# above it are treated as "no cap".

_EPS: Final = 2.0**-52  # twice the unit roundoff of float64
_FLOAT_TOTAL_LIMIT: Final = 2.0**52  # float floors of larger totals are never trusted
INT_LIMIT: Final = 2.0**61  # integer path: scaled weights and their sums stay below this
_TINY: Final = 2.0**-1000  # absolute slack for underflow in the float quotas
_W_MIN: Final = 2.0**-900  # weight sums outside [_W_MIN, _W_MAX] skip the float path
_W_MAX: Final = 2.0**900
_ROW_SORT_WIDTH: Final = 4096  # largest group _distribute sorts as a row of a table
_RETRY_SHARE: Final = 0.25  # expected share of groups to redo above which all go accurate
_INT_REM_ERR: Final = 2.0**-50  # error of R / W_M computed in float (three roundings, with margin)
_NO_LSB: Final = 1 << 20  # "lowest set bit" of a zero weight: larger than any float exponent
_MODE_FLOAT: Final = 0
_MODE_INT: Final = 1
_MODE_PYTHON: Final = 2
_SHOWN: Final = 5  # children named in an error message
# Weights are read relative to their group. A group whose largest weight lies outside
# [2**-_FAR_EXP, 2**_FAR_EXP] is moved next to 1 by an exact power of two first: its sums would
# overflow or underflow otherwise, and equal weights of 1e308 must split as equal weights of 1.
_FAR_EXP: Final = 400


# ---------------------------------------------------------------------------------------------
# Public types


@runtime_checkable
class ApportionMethod(Protocol):
    """How a group's total is rounded to whole quanta among its children.

    :func:`apportion` validates the input, takes locked children out, handles negative totals by
    symmetry and lays the data out as 1-D CSR groups (one group per segment and period), then
    calls :meth:`split`. Implementations: :class:`LargestRemainder` (Hamilton, the default; keeps
    the quota rule) and the divisor methods ``Webster``, ``Jefferson`` and ``Adams``
    (house-monotone, so free of the Alabama paradox).

    Example:
        >>> isinstance(LargestRemainder(), ApportionMethod)
        True
    """

    def split(self, totals: IntArray, weights: FloatArray, offsets: IntArray) -> IntArray:
        """Round ``totals[g] * w_i / sum(w of group g)`` to integers summing to ``totals[g]``.

        Args:
            totals: ``(groups,)`` integers in ``[0, MAX_QUANTA]``.
            weights: ``(cells,)`` finite floats ``>= 0``; group ``g`` owns
                ``weights[offsets[g]:offsets[g + 1]]``, rows in order; a group with a positive
                total has a positive weight.
            offsets: ``(groups + 1,)`` CSR offsets, every group non-empty.

        Returns:
            ``(cells,)`` int64 whose group sums equal ``totals`` exactly.
        """
        ...


@attrs.frozen(kw_only=True)
class LargestRemainder:
    """Largest-remainder (Hamilton) rounding with ties to the larger weight, then the earlier row.

    Every child gets the floor or the ceiling of its exact quota (the quota rule), but adding a
    quantum to the total can take one away from a child (the Alabama paradox); use a divisor method
    (``Webster``) where that matters more than the quota rule.

    Example:
        >>> LargestRemainder().split(np.array([100]), np.array([1.0, 1.0, 1.0]),
        ...                          np.array([0, 3])).tolist()
        [34, 33, 33]
    """

    def split(self, totals: IntArray, weights: FloatArray, offsets: IntArray) -> IntArray:
        """Round exact quotas by largest remainder; see :class:`ApportionMethod`.

        Args:
            totals: ``(groups,)`` integers in ``[0, MAX_QUANTA]``.
            weights: ``(cells,)`` finite floats ``>= 0``.
            offsets: ``(groups + 1,)`` CSR offsets.

        Returns:
            The rounded split, group sums equal to ``totals``.

        Example:
            >>> LargestRemainder().split(np.array([10]), np.array([1.0, 3.0]),
            ...                          np.array([0, 2])).tolist()
            [2, 8]
        """
        t = np.asarray(totals, dtype=np.int64)
        w = np.asarray(weights, dtype=np.float64)
        off = np.asarray(offsets, dtype=np.int64)
        return hamilton_groups(t, w, off, np.add.reduceat(w, off[:-1]), quota=False).values


@attrs.frozen(kw_only=True, eq=False)
class Apportionment:
    """A split with the numbers that explain it, each of shape ``(children, periods)``.

    Attributes:
        values: The split in quanta (what :func:`apportion` returns).
        quota: The exact share ``T * w / W`` as float64 (within a few units in the last place); a
            locked child's lock, a child held at a floor or cap that bound.
        adjustment: ``values`` minus the quota rounded toward zero: ``+1`` where the child received
            a leftover quantum (``-1`` under a negative total split by symmetry), else ``0``.
        at_floor: The child was held at its floor.
        at_cap: The child was held at its cap.

    The arrays are read-only views, shaped ``(children, periods)`` (Fortran-ordered) or
    ``(children,)`` for 1-D input.

    Example:
        >>> d = apportion_detailed(np.array([100]), np.array([1.0, 1.0, 1.0]), np.array([0, 3]))
        >>> d.values.tolist(), d.adjustment.tolist()
        ([34, 33, 33], [1, 0, 0])
        >>> [round(q, 4) for q in d.quota.tolist()]
        [33.3333, 33.3333, 33.3333]
    """

    values: IntArray
    quota: FloatArray
    adjustment: IntArray
    at_floor: BoolArray
    at_cap: BoolArray


def apportion(
    totals: npt.ArrayLike,
    weights: npt.ArrayLike,
    offsets: npt.ArrayLike,
    *,
    locked: npt.ArrayLike | None = None,
    lock_mask: npt.ArrayLike | None = None,
    floors: npt.ArrayLike | None = None,
    caps: npt.ArrayLike | None = None,
    method: ApportionMethod | None = None,
    segment_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    child_labels: Sequence[str] | None = None,
    amount: Callable[[int], str] | None = None,
) -> IntArray:
    """Split each segment's total among its children by weight, exactly, in whole quanta.

    Segment ``s`` owns rows ``offsets[s]:offsets[s + 1]``; each column (period) is split on its
    own. The result's segment column sums equal ``totals`` exactly.

    Policies:

    * ``locked`` with ``lock_mask``: where the mask is true the child keeps ``locked`` exactly and
      the rest of the total is split among the others by weight. Locks must not overshoot the
      total: for a total ``T >= 0`` they sum to at most ``T``, for ``T < 0`` to at least ``T``.
    * ``floors`` / ``caps`` (largest remainder only): each unlocked child ends in
      ``[floor, cap]`` (a missing array means floor 0 / no cap), as close to proportional as the
      bounds allow (water-filling); children with zero weight take their floor.
    * Negative totals (a planned loss) are split by symmetry, ``-split(-T)``, when the call has no
      floors or caps; with floors or caps a negative total is infeasible.

    Args:
        totals: Integers ``(segments, periods)`` in quanta, already hedged; ``|T| <= MAX_QUANTA``.
            1-D totals with 1-D weights mean a single period.
        weights: Floats ``(children, periods)``, finite and ``>= 0``.
        offsets: CSR offsets ``(segments + 1,)``: 0 first, the number of children last, strictly
            increasing (every segment has a child).
        locked: Integers shaped like ``weights``; read only where ``lock_mask`` is true.
        lock_mask: Booleans shaped like ``weights``; required with ``locked``.
        floors: Integers ``>= 0`` shaped like ``weights``.
        caps: Integers ``>= floors`` shaped like ``weights``.
        method: The rounding rule; :class:`LargestRemainder` by default.
        segment_labels: Names of the segments (parent nodes), for error messages.
        column_labels: Names of the columns (periods), for error messages.
        child_labels: Names of the children (rows), for error messages.
        amount: Formats an amount of quanta for error messages, e.g. ``Metric.format`` to show
            ``1,200,000.00 CNY``; the kernel itself is unit-free, so by default amounts are shown
            as bare quanta.

    Returns:
        Read-only int64 array shaped like ``weights`` (Fortran-ordered: the kernel works period
        by period). Passing Fortran-ordered weights (built as ``(periods, children)`` and
        transposed) saves a transposing copy.

    Raises:
        StrategyError: A weight is negative, NaN or infinite, or floors / caps are used with a
            rounding method other than largest remainder.
        InfeasibleAllocationError: Locks overshoot the total, floors sum above it, caps sum below
            it, every (unlocked) weight is zero under a non-zero total, a lock lies outside its
            bounds, or the input is malformed; the message names the segment, period and children.

    Example:
        >>> apportion(np.array([100]), np.array([1.0, 1.0, 1.0]), np.array([0, 3])).tolist()
        [34, 33, 33]
        >>> apportion(np.array([[100, 10]]), np.array([[1.0, 1.0], [1.0, 3.0]]), np.array([0, 2]),
        ...           locked=np.array([[60, 0], [0, 0]]), lock_mask=np.array([[True, False],
        ...           [False, False]])).tolist()
        [[60, 2], [40, 8]]
        >>> apportion(np.array([-7]), np.array([1.0, 1.0]), np.array([0, 2])).tolist()
        [-4, -3]

        Error messages show amounts through ``amount``:

        >>> from targetcascade import Metric
        >>> usd = Metric(name="pnl", unit="USD")
        >>> apportion(np.array([100]), np.array([1.0]), np.array([0, 1]), floors=np.array([150]),
        ...           amount=usd.format)
        Traceback (most recent call last):
        ...
        targetcascade.errors.InfeasibleAllocationError: segment 0 (column 0): floors sum to 1.50 USD, ...
    """
    return _run(
        totals,
        weights,
        offsets,
        locked=locked,
        lock_mask=lock_mask,
        floors=floors,
        caps=caps,
        method=method,
        labels=_Labels(segment_labels, column_labels, child_labels, amount),
        detailed=False,
    ).values


def apportion_detailed(
    totals: npt.ArrayLike,
    weights: npt.ArrayLike,
    offsets: npt.ArrayLike,
    *,
    locked: npt.ArrayLike | None = None,
    lock_mask: npt.ArrayLike | None = None,
    floors: npt.ArrayLike | None = None,
    caps: npt.ArrayLike | None = None,
    segment_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    child_labels: Sequence[str] | None = None,
    amount: Callable[[int], str] | None = None,
) -> Apportionment:
    """Like :func:`apportion` (largest remainder), also returning quotas and rounding adjustments.

    Args:
        totals: As for :func:`apportion`.
        weights: As for :func:`apportion`.
        offsets: As for :func:`apportion`.
        locked: As for :func:`apportion`.
        lock_mask: As for :func:`apportion`.
        floors: As for :func:`apportion`.
        caps: As for :func:`apportion`.
        segment_labels: As for :func:`apportion`.
        column_labels: As for :func:`apportion`.
        child_labels: As for :func:`apportion`.
        amount: As for :func:`apportion`.

    Returns:
        The split with its exact quotas and the leftover quantum each child received.

    Raises:
        StrategyError: A weight is negative, NaN or infinite.
        InfeasibleAllocationError: The policies cannot all hold (see :func:`apportion`).

    Example:
        >>> d = apportion_detailed(np.array([10]), np.array([1.0, 1.0, 1.0]), np.array([0, 3]),
        ...                        caps=np.array([2, 9, 9]))
        >>> d.values.tolist(), d.at_cap.tolist(), d.adjustment.tolist()
        ([2, 4, 4], [True, False, False], [0, 0, 0])
    """
    split = _run(
        totals,
        weights,
        offsets,
        locked=locked,
        lock_mask=lock_mask,
        floors=floors,
        caps=caps,
        method=None,
        labels=_Labels(segment_labels, column_labels, child_labels, amount),
        detailed=True,
    )
    return Apportionment(
        values=split.values,
        quota=split.quota,
        adjustment=split.adjustment,
        at_floor=split.at_floor,
        at_cap=split.at_cap,
    )


# ---------------------------------------------------------------------------------------------
# Validation and messages


@attrs.frozen
class _Labels:
    segments: Sequence[str] | None
    columns: Sequence[str] | None
    children: Sequence[str] | None
    amounts: Callable[[int], str] | None = None

    def amount(self, quanta: int) -> str:
        """An amount for a message: formatted with its unit when the caller says how, else quanta."""
        return str(quanta) if self.amounts is None else self.amounts(int(quanta))

    def limit(self) -> str:
        """The kernel's size limit for a message."""
        if self.amounts is None:
            return f"{MAX_QUANTA} quanta"
        return f"{self.amounts(MAX_QUANTA)} ({MAX_QUANTA} quanta)"

    def where(self, s: int, p: int) -> str:
        seg = f"parent {self.segments[s]!r}" if self.segments is not None else f"segment {s}"
        col = f"in {self.columns[p]}" if self.columns is not None else f"(column {p})"
        return f"{seg} {col}"

    def node(self, s: int) -> str | None:
        return None if self.segments is None else str(self.segments[s])

    def period(self, p: int) -> str | None:
        return None if self.columns is None else str(self.columns[p])

    def child(self, i: int) -> str:
        return repr(self.children[i]) if self.children is not None else f"row {i}"

    def children_list(self, rows: Sequence[int], values: Sequence[Any] | None = None) -> str:
        shown = list(rows)[:_SHOWN]
        if values is None:
            text = ", ".join(self.child(i) for i in shown)
        else:
            text = ", ".join(
                f"{self.child(i)} ({self.amount(v)})" for i, v in zip(shown, values, strict=False)
            )
        more = len(rows) - len(shown)
        return text + (f" and {more} more" if more > 0 else "")


class _Flat(NamedTuple):
    """The problem in group-major 1-D CSR form: group ``g = p * S + s``, cell ``p * N + i``."""

    n_rows: int
    n_seg: int
    n_cols: int
    totals: IntArray  # (G,)
    weights: FloatArray  # (L,)
    offsets: IntArray  # (G + 1,)
    lock_mask: BoolArray | None
    locked: IntArray | None
    floors: IntArray | None
    caps: IntArray | None
    one_d: bool

    def group(self, g: int) -> tuple[int, int]:
        """(segment, column) of group ``g``."""
        return g % self.n_seg, g // self.n_seg

    def row(self, cell: int) -> int:
        return cell % self.n_rows

    def cells(self, g: int) -> range:
        return range(int(self.offsets[g]), int(self.offsets[g + 1]))


def _infeasible(
    labels: _Labels, flat: _Flat, g: int, problem: str, *, expected: Any, actual: Any, hint: str
) -> InfeasibleAllocationError:
    s, p = flat.group(g)
    return InfeasibleAllocationError(
        f"{labels.where(s, p)}: {problem}",
        node=labels.node(s),
        period=labels.period(p),
        expected=expected,
        actual=actual,
        hint=hint,
    )


def _malformed(problem: str, hint: str) -> InfeasibleAllocationError:
    return InfeasibleAllocationError(problem, hint=hint)


def _int_array(value: npt.ArrayLike, name: str) -> IntArray:
    array = np.asarray(value)
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise _malformed(
            f"{name} must be an integer array (quanta), got dtype {array.dtype}",
            hint=f"convert {name} to whole quanta first (Metric.to_quanta)",
        )
    if array.dtype == np.uint64 and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise _malformed(f"{name} exceeds the int64 range", hint="use values below 2**63")
    return array.astype(np.int64, copy=False)


def _group_major(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(N, P) -> (P * N,), column after column; free when the array is Fortran-ordered."""
    return np.ascontiguousarray(array.T).reshape(-1)


def _prepare(
    totals: npt.ArrayLike,
    weights: npt.ArrayLike,
    offsets: npt.ArrayLike,
    *,
    locked: npt.ArrayLike | None,
    lock_mask: npt.ArrayLike | None,
    floors: npt.ArrayLike | None,
    caps: npt.ArrayLike | None,
    labels: _Labels,
) -> _Flat:
    w = np.asarray(weights)
    if not (np.issubdtype(w.dtype, np.floating) or np.issubdtype(w.dtype, np.integer)):
        raise StrategyError(
            f"weights must be numbers, got dtype {w.dtype}", hint="return float64 weights"
        )
    w = w.astype(np.float64, copy=False)
    one_d = w.ndim == 1
    if one_d:
        w = w[:, None]
    if w.ndim != 2:
        raise _malformed(
            f"weights must have shape (children, periods), got {w.shape}",
            hint="pass one row per child and one column per period",
        )
    n_rows, n_cols = w.shape
    t = _int_array(totals, "totals")
    if one_d and t.ndim == 1:
        t = t[:, None]
    off = _int_array(offsets, "offsets")
    if off.ndim != 1 or off.size < 2:
        raise _malformed(
            f"offsets must be 1-D with at least 2 entries, got shape {off.shape}",
            hint="give offsets[s]:offsets[s + 1] as the rows of segment s",
        )
    if off[0] != 0 or off[-1] != n_rows:
        raise _malformed(
            f"offsets must start at 0 and end at the number of children {n_rows}, "
            f"got {int(off[0])} ... {int(off[-1])}",
            hint="build offsets from the CSR order of the children",
        )
    sizes = np.diff(off)
    if (sizes <= 0).any():
        s = int(np.flatnonzero(sizes <= 0)[0])
        raise _malformed(
            f"segment {s} has no children (offsets {int(off[s])} -> {int(off[s + 1])})",
            hint="every parent passed to apportion needs at least one child",
        )
    n_seg = off.size - 1
    if t.shape != (n_seg, n_cols):
        raise _malformed(
            f"totals must have shape {(n_seg, n_cols)} (segments, periods), got {t.shape}",
            hint="pass one row of totals per segment, one column per period",
        )
    for name, sequence, size in (
        ("segment_labels", labels.segments, n_seg),
        ("column_labels", labels.columns, n_cols),
        ("child_labels", labels.children, n_rows),
    ):
        if sequence is not None and len(sequence) != size:
            raise _malformed(
                f"{name} has {len(sequence)} entries, expected {size}",
                hint=f"give one label per {name.split('_')[0]}",
            )
    _check_weights(w, off, labels)
    w = rescaled(w, off)

    def cellwise(value: npt.ArrayLike | None, name: str, dtype: Any) -> npt.NDArray[Any] | None:
        if value is None:
            return None
        array = np.asarray(value) if dtype is np.bool_ else _int_array(value, name)
        if one_d and array.ndim == 1:
            array = array[:, None]
        if array.shape != w.shape or (dtype is np.bool_ and array.dtype != np.bool_):
            raise _malformed(
                f"{name} must be a {np.dtype(dtype).name} array of the shape of weights {w.shape}, "
                f"got {array.dtype} {array.shape}",
                hint=f"give {name} one value per child and period",
            )
        return _group_major(array)

    lock_values = cellwise(locked, "locked", np.int64)
    mask = cellwise(lock_mask, "lock_mask", np.bool_)
    if (mask is None) != (lock_values is None):
        raise _malformed(
            "locked and lock_mask must be given together",
            hint="pass lock_mask=True where the value in locked is pinned",
        )
    if mask is not None and not mask.any():
        mask, lock_values = None, None
    # values outside the mask are ignored: zeroed, unless there are none (read-only from here on)
    if lock_values is not None and mask is not None and bool(((lock_values != 0) & ~mask).any()):
        lock_values = np.where(mask, lock_values, 0)
    col_base = np.arange(n_cols, dtype=np.int64)[:, None] * n_rows
    flat = _Flat(
        n_rows=n_rows,
        n_seg=n_seg,
        n_cols=n_cols,
        totals=np.ascontiguousarray(t.T).reshape(-1),
        weights=_group_major(w),
        offsets=np.append((col_base + off[None, :-1]).reshape(-1), n_rows * n_cols),
        lock_mask=mask,
        locked=lock_values,
        floors=cellwise(floors, "floors", np.int64),
        caps=cellwise(caps, "caps", np.int64),
        one_d=one_d,
    )
    for name, values in (("total", flat.totals), ("lock", flat.locked)):
        # two reductions, no temporaries (and no np.abs, which leaves -2**63 negative)
        if (
            values is not None
            and values.size
            and (values.max() > MAX_QUANTA or values.min() < -MAX_QUANTA)
        ):
            where = int(np.flatnonzero((values > MAX_QUANTA) | (values < -MAX_QUANTA))[0])
            g = where if name == "total" else _group_of_cell(flat, where)
            what = "" if name == "total" else f" of child {labels.child(flat.row(where))}"
            raise _infeasible(
                labels,
                flat,
                g,
                f"{name} {labels.amount(int(values[where]))}{what} exceeds the kernel's limit of "
                f"{labels.limit()}",
                expected=MAX_QUANTA,
                actual=int(values[where]),
                hint="use a coarser quantum for this metric",
            )
    return flat


def rescaled(weights: FloatArray, offsets: IntArray) -> FloatArray:
    """Weights with each far-out group moved next to 1 by an exact power of two.

    A group (a segment's rows in one column) whose largest weight is above ``2**400`` or below
    ``2**-400`` is multiplied by the power of two that brings that weight into ``[0.5, 1)``.
    Multiplying by a power of two is exact, so the group's ratios, and therefore its split, are
    unchanged (a weight more than ``2**1074`` times smaller than the group's largest underflows
    to zero); every other group, and so every ordinary weight, is returned as it is.

    Args:
        weights: Finite weights ``>= 0`` of shape ``(rows, columns)`` (or ``(rows,)``).
        offsets: CSR offsets of the segments over the rows (empty segments allowed).

    Returns:
        ``weights`` itself when no group is far out, else a rescaled copy.

    Example:
        >>> rescaled(np.array([1e308, 1e308, 2.0]), np.array([0, 2, 3])).tolist()
        [0.5562684646268004, 0.5562684646268004, 2.0]
    """
    w = np.asarray(weights, dtype=np.float64)
    off = np.asarray(offsets, dtype=np.int64)
    if w.size == 0:
        return w
    sizes = np.diff(off)
    nonempty = sizes > 0
    largest = np.zeros((sizes.size, *w.shape[1:]))
    largest[nonempty] = np.maximum.reduceat(w, off[:-1][nonempty], axis=0)
    far = (largest > 2.0**_FAR_EXP) | ((largest > 0) & (largest < 2.0**-_FAR_EXP))
    if not far.any():
        return w
    shift = np.where(far, -np.frexp(largest)[1], 0).astype(np.int32)
    out: FloatArray = np.ldexp(w, np.repeat(shift, sizes, axis=0))
    return out


def as_float_weights(raw: object, owner: str, what: str) -> FloatArray:
    """``raw`` as float64 if it holds numbers (integers or floats), else a StrategyError.

    Strings, booleans and objects are refused: numpy would read ``"1.5"`` as 1.5 silently and
    raise a bare ValueError for ``"x"``.

    Args:
        raw: What a strategy returned.
        owner: The strategy as errors name it (``"org strategy Huge(v=1)"``).
        what: ``"weights"`` or ``"profile"``.

    Returns:
        float64 array of ``raw``'s shape.

    Raises:
        StrategyError: ``raw`` does not hold numbers.

    Example:
        >>> as_float_weights(["1", "2"], "org strategy Mine()", "weights")
        Traceback (most recent call last):
        ...
        targetcascade.errors.StrategyError: org strategy Mine() returned weights that are not
        numbers (list of dtype <U1); ...
    """
    try:
        array = np.asarray(raw)
    except (TypeError, ValueError, OverflowError):  # ragged sequences and the like
        described = type(raw).__name__
    else:
        if array.dtype != np.bool_ and (
            np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
        ):
            return array.astype(np.float64)
        described = f"{type(raw).__name__} of dtype {array.dtype}"
    raise StrategyError(
        f"{owner} returned {what} that are not numbers ({described})",
        hint=f"return a float64 numpy array of {what}; the conformance suite (check_strategy) "
        "shows what it breaks",
    )


def integer_weights(values: npt.ArrayLike, offsets: npt.ArrayLike) -> FloatArray:
    """Integer weights (quanta summed over history) as float64 weights the kernel reads exactly.

    Only ratios within a group matter, so a group's integers are its exact weights: integers up
    to ``2**53`` are exact in float64. A group holding a larger integer (a sum over several years
    of large amounts) is first divided by the greatest common divisor of its integers, which
    keeps its ratios; what still exceeds ``2**53`` is rounded to 53 significant bits.

    Args:
        values: Non-negative int64 integers ``(cells,)``, CSR groups given by ``offsets``.
        offsets: CSR offsets ``(groups + 1,)`` (empty groups allowed).

    Returns:
        float64 ``(cells,)``.

    Example:
        >>> integer_weights(np.array([1, 3, 6]), np.array([0, 3])).tolist()
        [1.0, 3.0, 6.0]
        >>> big = 3 * (2**53 + 1)
        >>> integer_weights(np.array([big, 2 * big]), np.array([0, 2])).tolist()
        [1.0, 2.0]
    """
    v = np.asarray(values, dtype=np.int64)
    off = np.asarray(offsets, dtype=np.int64)
    sizes = np.diff(off)
    nonempty = sizes > 0
    if v.size == 0 or int(v.max()) <= MAX_QUANTA:
        return v.astype(np.float64)
    largest = np.zeros(sizes.size, dtype=np.int64)
    largest[nonempty] = np.maximum.reduceat(v, off[:-1][nonempty])
    divisor = np.ones(sizes.size, dtype=np.int64)
    big = nonempty & (largest > MAX_QUANTA)
    divisor[big] = np.gcd.reduceat(v, off[:-1][nonempty])[big[nonempty]]
    reduced: IntArray = v // np.repeat(np.maximum(divisor, 1), sizes)
    return reduced.astype(np.float64)


def _check_weights(w: FloatArray, off: IntArray, labels: _Labels) -> None:
    # Two reductions: NaN fails `>= 0`, inf fails `< inf`; the cell is looked up only on failure.
    if w.size == 0 or (w.min() >= 0.0 and w.max() < np.inf):
        return
    i, p = (int(x) for x in np.argwhere(~((w >= 0.0) & (w < np.inf)))[0])
    s = int(np.searchsorted(off, i, side="right")) - 1
    raise StrategyError(
        f"weight {w[i, p]!r} of child {labels.child(i)} under {labels.where(s, p)} is invalid; "
        "weights must be finite and >= 0",
        node=labels.node(s),
        period=labels.period(p),
        row=i,
        actual=float(w[i, p]),
        hint="fix the strategy or the attribute it reads (negative, NaN and infinite weights are "
        "never clipped or zeroed silently)",
    )


def _group_of_cell(flat: _Flat, cell: int) -> int:
    return int(np.searchsorted(flat.offsets, cell, side="right")) - 1


def _group_sum(values: IntArray, offsets: IntArray) -> tuple[IntArray, FloatArray]:
    """Exact int64 group sums, with float sums to detect the (absurd) overflow case.

    Every caller compares the float sums with 2**60 only. Where no group can reach 2**59 (the
    largest magnitude times the largest group), the int64 sums are exact and stand in for them,
    with the same outcome of every comparison and no float pass.
    """
    starts = offsets[:-1]
    sums = np.add.reduceat(values, starts)
    if values.size:
        largest = max(abs(int(values.max())), abs(int(values.min())))
        if largest * int(np.diff(offsets).max()) < 2**59:
            return sums, sums.astype(np.float64)
    return sums, np.add.reduceat(values.astype(np.float64), starts)


# ---------------------------------------------------------------------------------------------
# The pipeline


class _Split(NamedTuple):
    values: IntArray
    quota: FloatArray
    adjustment: IntArray
    at_floor: BoolArray
    at_cap: BoolArray


def _run(
    totals: npt.ArrayLike,
    weights: npt.ArrayLike,
    offsets: npt.ArrayLike,
    *,
    locked: npt.ArrayLike | None,
    lock_mask: npt.ArrayLike | None,
    floors: npt.ArrayLike | None,
    caps: npt.ArrayLike | None,
    method: ApportionMethod | None,
    labels: _Labels,
    detailed: bool,
) -> _Split:
    """Validate, take locks out, split, put locks back; arrays come back shaped like the input.

    Without ``detailed`` only ``values`` is filled (the other fields are empty).
    """
    flat = _prepare(
        totals,
        weights,
        offsets,
        locked=locked,
        lock_mask=lock_mask,
        floors=floors,
        caps=caps,
        labels=labels,
    )
    bounded = flat.floors is not None or flat.caps is not None
    if bounded and method is not None and not isinstance(method, LargestRemainder):
        raise StrategyError(
            f"floors and caps need LargestRemainder rounding, got {type(method).__name__}",
            hint="drop the floors/caps or use LargestRemainder()",
        )
    t, w, off = flat.totals, flat.weights, flat.offsets
    sizes = np.diff(off)
    starts = off[:-1]
    # the locked cells, by index: few, and np.where over every cell costs several times a copy
    locked_cells = None if flat.lock_mask is None else np.flatnonzero(flat.lock_mask)
    if locked_cells is not None:
        assert flat.locked is not None
        w_eff = w.copy()
        w_eff[locked_cells] = 0.0
        lock_sum, lock_sum_f = _group_sum(flat.locked, off)
        _check_locks(flat, labels, lock_sum, lock_sum_f)
        remaining = t - lock_sum
    else:
        w_eff = w
        remaining = t
    empty_f = np.zeros(0)
    empty_b = np.zeros(0, dtype=np.bool_)
    if bounded:
        split = _run_bounded(flat, labels, w_eff, remaining, locked_cells)
    else:
        weight_sum = np.add.reduceat(w_eff, starts)
        dead = (weight_sum == 0) & (remaining != 0)
        if dead.any():
            raise _zero_weights(flat, labels, int(np.flatnonzero(dead)[0]), remaining)
        negative = remaining < 0
        magnitude = np.abs(remaining)
        quota, adjustment = empty_f, empty_b.astype(np.int64)
        if method is None or isinstance(method, LargestRemainder):
            rounded = hamilton_groups(magnitude, w_eff, off, weight_sum, quota=detailed)
            values = rounded.values
            if detailed:
                quota, adjustment = rounded.quota, values - rounded.floors
        else:
            values = np.asarray(method.split(magnitude, w_eff, off), dtype=np.int64)
            if values.shape != w.shape:
                raise StrategyError(
                    f"{type(method).__name__}.split returned shape {values.shape}, expected "
                    f"{w.shape}",
                    hint="return one integer per weight",
                )
            if detailed:
                scale = np.zeros(magnitude.shape)
                with np.errstate(all="ignore"):
                    np.divide(
                        magnitude.astype(np.float64), weight_sum, out=scale, where=weight_sum > 0
                    )
                    quota = np.nan_to_num(w_eff * np.repeat(scale, sizes))
                adjustment = values - np.floor(quota).astype(np.int64)
        if negative.any():
            sign = np.repeat(np.where(negative, -1, 1), sizes)
            values = values * sign
            if detailed:
                quota, adjustment = quota * sign, adjustment * sign
        none = np.zeros(w.shape if detailed else 0, dtype=np.bool_)
        split = _Split(values, quota, adjustment, none, none)
    if locked_cells is not None:
        assert flat.locked is not None
        # locked children take their lock, on copies (a custom method's arrays are its own)
        pinned = flat.locked[locked_cells]

        def put(array: npt.NDArray[Any], value: Any) -> npt.NDArray[Any]:
            out = array.copy()
            out[locked_cells] = value
            return out

        values = put(split.values, pinned)
        if detailed:
            split = _Split(
                values,
                put(split.quota, pinned),
                put(split.adjustment, 0),
                put(split.at_floor, False),  # noqa: FBT003 - the value written
                put(split.at_cap, False),  # noqa: FBT003
            )
        else:
            split = split._replace(values=values)
    # The promise, checked where it is cheap: every group sums to its total, exactly.
    assert (np.add.reduceat(split.values, starts) == t).all(), "kernel lost a quantum"
    return _Split(
        values=_shape_back(flat, split.values),
        quota=_shape_back(flat, split.quota) if detailed else split.quota,
        adjustment=_shape_back(flat, split.adjustment) if detailed else split.adjustment,
        at_floor=_shape_back(flat, split.at_floor) if detailed else split.at_floor,
        at_cap=_shape_back(flat, split.at_cap) if detailed else split.at_cap,
    )


def _shape_back(flat: _Flat, array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(P * N,) group-major -> (N, P) (a Fortran-ordered view, no copy), or (N,) for 1-D input."""
    out = array.reshape(flat.n_cols, flat.n_rows).T
    if flat.one_d:
        out = out[:, 0]
    out.flags.writeable = False
    return out


def _check_locks(flat: _Flat, labels: _Labels, lock_sum: IntArray, lock_sum_f: FloatArray) -> None:
    t = flat.totals
    over = ((t >= 0) & (lock_sum > t)) | ((t < 0) & (lock_sum < t)) | (np.abs(lock_sum_f) > 2**60)
    if not over.any():
        return
    g = int(np.flatnonzero(over)[0])
    assert flat.lock_mask is not None
    assert flat.locked is not None
    cells = [c for c in flat.cells(g) if flat.lock_mask[c]]
    total = int(t[g])
    locks = sum(int(flat.locked[c]) for c in cells)
    side = "above" if total >= 0 else "below"
    rows = [flat.row(c) for c in cells]
    raise _infeasible(
        labels,
        flat,
        g,
        f"locked children sum to {labels.amount(locks)}, {side} the total "
        f"{labels.amount(total)} (off by {labels.amount(locks - total)}); "
        f"locked: {labels.children_list(rows, [int(flat.locked[c]) for c in cells])}",
        expected=total,
        actual=locks,
        hint="unlock or lower a locked child, or raise the parent total",
    )


def _to_split(labels: _Labels, left: int) -> str:
    """``"5 quanta are to be split"``, or with a formatter ``"0.05 USD is to be split"``."""
    if labels.amounts is None:
        return f"{left} quanta are to be split"
    return f"{labels.amount(left)} is to be split"


def _zero_weights(
    flat: _Flat, labels: _Labels, g: int, remaining: IntArray
) -> InfeasibleAllocationError:
    left = int(remaining[g])
    cells = list(flat.cells(g))
    if flat.lock_mask is not None:
        if all(flat.lock_mask[c] for c in cells):
            return _infeasible(
                labels,
                flat,
                g,
                f"every child is locked and the locks miss the total by {labels.amount(left)}",
                expected=int(flat.totals[g]),
                actual=int(flat.totals[g]) - left,
                hint="unlock a child or make the locks add up to the total",
            )
        cells = [c for c in cells if not flat.lock_mask[c]]
    which = "unlocked child" if flat.lock_mask is not None else "child"
    return _infeasible(
        labels,
        flat,
        g,
        f"{_to_split(labels, left)} but every {which} has weight 0 "
        f"({labels.children_list([flat.row(c) for c in cells])})",
        expected="a positive weight",
        actual=0.0,
        hint="give the strategy a fallback (equal share, capacity) for children without a base",
    )


# ---------------------------------------------------------------------------------------------
# Largest remainder core (1-D CSR: groups contiguous, rows in order within a group)


class _Hamilton(NamedTuple):
    values: IntArray  # (L,) the rounded split
    floors: IntArray  # (L,) exact floor of each quota
    quota: FloatArray  # (L,) the quota in float
    rem: FloatArray  # (L,) remainder estimate, within `err` of the exact remainder
    mode: npt.NDArray[np.int8]  # (G,) _MODE_FLOAT / _MODE_INT / _MODE_PYTHON
    err: FloatArray  # (G,)
    scale: FloatArray  # (G,) T / W in float (0 where W is out of the float path's range)


class _Subset(NamedTuple):
    """Cells of some groups, gathered group by group into 1-D CSR form."""

    groups: IntArray  # (G',)
    idx: IntArray  # (L',) cell index into the full arrays
    offsets: IntArray  # (G' + 1,)


def gather_segments(offsets: IntArray, groups: IntArray) -> _Subset:
    sizes = np.diff(offsets)[groups]
    sub = np.zeros(groups.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=sub[1:])
    idx = np.repeat(offsets[groups] - sub[:-1], sizes) + np.arange(int(sub[-1]), dtype=np.int64)
    return _Subset(groups, idx, sub)


def hamilton_groups(
    totals: IntArray,
    w: FloatArray,
    offsets: IntArray,
    weight_sum: FloatArray,
    *,
    quota: bool,
    accurate: bool = False,
) -> _Hamilton:
    """Largest remainder for every group; totals >= 0, weights validated (see module docs).

    ``weight_sum`` is the plain float sum of each group's weights; ``quota`` asks for the quotas;
    ``accurate`` uses the accurate weight sum for every group from the start (for groups the cheap
    pass could not settle).
    """
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    t_float = totals.astype(np.float64)
    w_max = np.maximum.reduceat(w, starts)
    # Equal weights (the "equal" strategy): T // n each, the first T % n rows one more. Integers
    # only, and no float pass at all when every group is such.
    is_equal = (np.minimum.reduceat(w, starts) == w_max) & (w_max > 0)
    equal = np.flatnonzero(is_equal)
    if equal.size == totals.size:
        return _equal_split(totals, w_max, offsets, quota=quota)
    # Recursive summation is within (n - 1) u of the exact sum (Higham, sec. 4.2), T / W and
    # w * (T / W) add u each: every quota is within (n + 1.01) u of exact; the bound takes
    # (n + 3) 2u of T, and an absolute term for underflow of tiny quotas (error <= 2**-1075 * T).
    loose = t_float * ((sizes + 3) * _EPS) + _TINY
    # A group fails the float pass with chance about 4 n E (some remainder within E of 0 or 1,
    # or of the threshold). When that is likely for many groups (large totals), the accurate sum
    # is worth computing for every group straight away.
    sharp = accurate or float(np.minimum(4.0 * sizes * loose, 1.0).mean()) > _RETRY_SHARE
    if sharp:
        weight_sum, usable = _accurate_sum(w, w_max, sizes, starts)
        err = _tight_err(t_float, weight_sum, usable, w_max, sizes)
    else:
        usable = (weight_sum >= _W_MIN) & (weight_sum <= _W_MAX)
        err = loose
    first = _float_pass(totals, w, offsets, weight_sum=weight_sum, usable=usable, err=err)
    first.certified[equal] = True
    floors_f, rem, scale, leftover = first.floors, first.rem, first.scale, first.leftover
    err = first.err
    mode = np.where(first.certified, _MODE_FLOAT, _MODE_INT).astype(np.int8)
    rest = np.flatnonzero(~first.certified)
    tough = rest
    if rest.size and not sharp:
        # Second try with an accurate weight sum: the bound shrinks from (n + 3) 2u of T to about
        # 4u of the largest quota.
        sub = gather_segments(offsets, rest)
        ws = w[sub.idx]
        sub_sizes = np.diff(sub.offsets)
        better_sum, ok_sum = _accurate_sum(ws, w_max[rest], sub_sizes, sub.offsets[:-1])
        tight = _tight_err(t_float[rest], better_sum, ok_sum, w_max[rest], sub_sizes)
        second = _float_pass(
            totals[rest], ws, sub.offsets, weight_sum=better_sum, usable=ok_sum, err=tight
        )
        good = second.certified
        good_cells = np.repeat(good, sub_sizes)
        cells = sub.idx[good_cells]
        floors_f[cells] = second.floors[good_cells]
        rem[cells] = second.rem[good_cells]
        fixed = rest[good]
        leftover[fixed] = second.leftover[good]
        scale[fixed] = second.scale[good]
        err[fixed] = second.err[good]
        mode[fixed] = _MODE_FLOAT
        tough = rest[~good]
    floors = floors_f.astype(np.int64)
    err[mode != _MODE_FLOAT] = _INT_REM_ERR
    if tough.size:
        sub = gather_segments(offsets, tough)
        sub_sizes = np.diff(sub.offsets)
        exact = _int_quotas(totals[tough], w[sub.idx], sub.offsets)
        ok_cells = np.repeat(exact.ok, sub_sizes)
        cells = sub.idx[ok_cells]
        floors[cells] = exact.floors[ok_cells]
        w_m = np.repeat(exact.weight_sum, sub_sizes)[ok_cells]
        rem[cells] = exact.rem[ok_cells] / np.where(w_m > 0, w_m, 1)
        sums = np.add.reduceat(exact.floors, sub.offsets[:-1])
        leftover[tough[exact.ok]] = (totals[tough] - sums)[exact.ok]
        mode[tough[~exact.ok]] = _MODE_PYTHON
    leftover[equal] = 0
    leftover[mode == _MODE_PYTHON] = 0
    values, unsettled = _distribute(
        floors,
        rem,
        w,
        leftover=leftover,
        err=err,
        offsets=offsets,
        totals=totals,
    )
    if not sharp and unsettled.size:
        # Near-ties between different weights whose integers do not fit the exact int64 path:
        # redo those groups with the accurate sum before falling back to Python integers.
        sub = gather_segments(offsets, unsettled)
        again = hamilton_groups(
            totals[unsettled],
            w[sub.idx],
            sub.offsets,
            weight_sum[unsettled],
            quota=False,
            accurate=True,
        )
        values[sub.idx] = again.values
        floors[sub.idx] = again.floors
        rem[sub.idx] = again.rem
        mode[unsettled] = np.where(again.mode == _MODE_PYTHON, _MODE_FLOAT, again.mode)
        err[unsettled] = again.err
        scale[unsettled] = again.scale
        unsettled = unsettled[again.mode == _MODE_PYTHON]
    mode[unsettled] = _MODE_PYTHON
    mode[equal] = _MODE_INT
    if equal.size:
        sub = gather_segments(offsets, equal)
        part = _equal_split(totals[equal], w_max[equal], sub.offsets, quota=False)
        values[sub.idx] = part.values
        floors[sub.idx] = part.floors
        rem[sub.idx] = part.rem
    # Quotas: q_hat for float groups, floor + R / W_M for exact ones.
    quotas = floors + rem if quota else rem[:0]
    for g in np.flatnonzero(mode == _MODE_PYTHON).tolist():
        lo, hi = int(offsets[g]), int(offsets[g + 1])
        got, got_floors, got_quota = _exact_hamilton(int(totals[g]), w[lo:hi].tolist())
        values[lo:hi] = got
        floors[lo:hi] = got_floors
        if quota:
            quotas[lo:hi] = got_quota
    return _Hamilton(values, floors, quotas, rem, mode, err, scale)


def _tight_err(
    t_float: FloatArray,
    weight_sum: FloatArray,
    usable: BoolArray,
    w_max: FloatArray,
    sizes: IntArray,
) -> FloatArray:
    """Error bound of float quotas computed from an accurate weight sum (see _accurate_sum)."""
    max_q = np.zeros(t_float.shape)
    np.divide(t_float, weight_sum, out=max_q, where=usable)
    max_q *= w_max
    return max_q * (2.0**-51 + 8.0 * (sizes + 2.0) ** 3 * 2.0**-106) + _TINY


def _equal_split(
    totals: IntArray, weight: FloatArray, offsets: IntArray, *, quota: bool
) -> _Hamilton:
    """Every group has equal positive weights: ``T // n`` each, the first ``T % n`` get one more."""
    sizes = np.diff(offsets)
    each, extra = np.divmod(totals, sizes)
    rank = np.arange(int(offsets[-1])) - np.repeat(offsets[:-1], sizes)
    floors = np.repeat(each, sizes)
    rem = np.repeat(extra / sizes, sizes)
    values = floors + (rank < np.repeat(extra, sizes))
    mode = np.full(totals.shape, _MODE_INT, dtype=np.int8)
    err = np.full(totals.shape, _INT_REM_ERR)
    scale = np.zeros(totals.shape)  # T / W, for the bounded path's checks
    usable = (weight >= _W_MIN) & (weight <= _W_MAX)
    np.divide(totals / sizes, weight, out=scale, where=usable)
    return _Hamilton(values, floors, floors + rem if quota else rem[:0], rem, mode, err, scale)


class _FloatPass(NamedTuple):
    floors: FloatArray  # (L,) floor of q_hat (certain where `certified`)
    rem: FloatArray  # (L,) q_hat - floor
    certified: BoolArray  # (G,)
    leftover: IntArray  # (G,) T - sum(floors), valid where certified
    scale: FloatArray  # (G,) T / W
    err: FloatArray  # (G,) bound on |q_hat - q|


def _float_pass(
    totals: IntArray,
    w: FloatArray,
    offsets: IntArray,
    *,
    weight_sum: FloatArray,
    usable: BoolArray,
    err: FloatArray,
) -> _FloatPass:
    """Quotas in float; a group is certified when no quota lies within ``err`` of an integer."""
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    t_float = totals.astype(np.float64)
    scale = np.zeros(totals.shape)
    np.divide(t_float, weight_sum, out=scale, where=usable)
    rem = np.repeat(scale, sizes)
    np.multiply(rem, w, out=rem)
    floors = np.floor(rem)
    np.subtract(rem, floors, out=rem)  # exact: the low bits of the quota
    # A floor is certain when the error interval around q stays inside (a, a + 1); a quota below
    # 1 always floors to 0 (exact quotas are >= 0), so small remainders matter only where a >= 1.
    high = np.maximum.reduceat(rem, starts)
    low = np.minimum.reduceat(rem, starts)
    certified = (high < 1.0 - err) & (t_float < _FLOAT_TOTAL_LIMIT) & ((totals == 0) | usable)
    suspicious = np.flatnonzero(certified & (low < err))
    if 2 * suspicious.size > totals.size:
        # most groups (say, every group with a child held at a bound, whose quota is 0): one pass
        # over all cells costs less than gathering them
        masked = np.where(floors > 0, rem, 1.0)
        certified[suspicious] = np.minimum.reduceat(masked, starts)[suspicious] >= err[suspicious]
    elif suspicious.size:
        sub = gather_segments(offsets, suspicious)
        masked = np.where(floors[sub.idx] > 0, rem[sub.idx], 1.0)
        certified[suspicious] = np.minimum.reduceat(masked, sub.offsets[:-1]) >= err[suspicious]
    leftover = (t_float - np.add.reduceat(floors, starts)).astype(np.int64)
    return _FloatPass(floors, rem, certified, leftover, scale, err)


def _accurate_sum(
    w: FloatArray, w_max: FloatArray, sizes: IntArray, starts: IntArray
) -> tuple[FloatArray, BoolArray]:
    """Group sums of ``w >= 0`` within u + 4 (n + 2)**3 u**2 of exact, and where to trust them.

    Error-free extraction (Rump, Ogita & Oishi, "Accurate floating-point summation part I",
    SIAM J. Sci. Comput. 31(1), 2008, doi:10.1137/050645671): with ``sigma = 2**k >= (n + 2) *
    max(w)``, ``hi = (w + sigma) - sigma`` are multiples of ``2**-53 sigma`` that sum exactly in any
    order, and the small rests ``w - hi`` add an error below ``n**2 u**2 sigma``.
    """
    usable = (w_max >= _W_MIN) & (w_max <= _W_MAX)
    exponent = np.frexp(w_max)[1].astype(np.int64) + np.ceil(np.log2(sizes + 2)).astype(np.int64)
    sigma = np.ldexp(1.0, np.where(usable, exponent, 0).astype(np.int32))
    spread = np.repeat(sigma, sizes)
    part = w + spread
    part -= spread
    high = np.add.reduceat(part, starts)
    np.subtract(w, part, out=part)
    low = np.add.reduceat(part, starts)
    return high + low, usable


class _Exact(NamedTuple):
    ok: BoolArray  # (G',) group solved exactly in int64
    floors: IntArray  # (L',) exact floors (valid where ok)
    rem: IntArray  # (L',) exact remainder numerators R = T * M - a * W_M, 0 <= R < W_M
    weight_sum: IntArray  # (G',) W_M


def _int_quotas(totals: IntArray, w: FloatArray, offsets: IntArray) -> _Exact:
    """Exact floors and remainders in int64 for groups whose scaled weights fit (1-D CSR input)."""
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    positive = w > 0
    mantissa, exponent = np.frexp(w)  # w = mantissa * 2**exponent, mantissa in [0.5, 1)
    digits = np.ldexp(mantissa, 53).astype(np.int64)  # the 53-bit integer significand
    lowest = np.frexp((digits & -digits).astype(np.float64))[1] - 1  # its trailing zero bits
    lsb = np.where(positive, exponent.astype(np.int64) - 53 + lowest, _NO_LSB)
    scale_exp = np.minimum.reduceat(lsb, starts)
    top = np.maximum.reduceat(np.where(positive, exponent, -_NO_LSB), starts)
    empty = scale_exp == _NO_LSB
    scale_exp = np.where(empty, 0, scale_exp)
    fits = empty | (top - scale_exp <= 61)
    shift = np.repeat(np.where(fits, -scale_exp, 0), sizes)
    scaled = np.where(np.repeat(fits, sizes), np.ldexp(w, shift.astype(np.int32)), 0.0)
    scaled_sum = np.add.reduceat(scaled, starts)
    ok = fits & _fits_exact(totals, scaled_sum) & ~((scaled_sum == 0) & (totals != 0))
    m = np.where(np.repeat(ok, sizes), scaled, 0.0).astype(np.int64)
    w_m = np.add.reduceat(m, starts)
    floors, rem = _divide_exact(totals, m, w_m, sizes)
    return _Exact(ok, floors, rem, w_m)


def _divide_exact(
    totals: IntArray, m: IntArray, w_m: IntArray, sizes: IntArray
) -> tuple[IntArray, IntArray]:
    """Exact ``a = floor(T * m / W_M)`` and ``R = T * m - a * W_M`` per cell, in int64.

    ``m >= 0`` are integer weights with group sums ``w_m``, ``T >= 0``; every group needs
    ``(T * 2**-51 + 2) * W_M <= 2**62`` (see :func:`_fits_exact`). A group with ``W_M = 0`` gets
    zeros.
    """
    t_float = totals.astype(np.float64)
    scale = np.zeros(totals.shape)
    np.divide(t_float, w_m.astype(np.float64), out=scale, where=w_m > 0)
    # The float guess m * (T / W_M) is within T * 2**-51 + 1 of the exact floor (T / W_M and the
    # product add a rounding each, both relative, of a quota below T).
    guess = np.repeat(scale, sizes)
    guess *= m
    np.floor(guess, out=guess)
    floors = guess.astype(np.int64)
    w_rep = np.repeat(w_m, sizes)
    # T * m - guess * W_M modulo 2**64 (int64 products wrap); the true value is below
    # (T * 2**-51 + 2) * W_M <= 2**62 in magnitude, so the wrapped int64 is exact.
    rem = np.repeat(totals, sizes)
    rem *= m
    rem -= floors * w_rep
    # A wrong guess leaves R outside [0, W_M): as unsigned, a negative R is huge. Rare (a quota
    # within a rounding of an integer), so those cells alone are fixed by a division.
    off = np.flatnonzero(rem.view(np.uint64) >= w_rep.view(np.uint64))
    if off.size:
        safe = np.maximum(w_rep[off], 1)
        fix = rem[off] // safe
        floors[off] += fix
        rem[off] -= fix * safe
    return floors, rem


def _fits_exact(totals: IntArray, w_m: npt.NDArray[Any]) -> BoolArray:
    """Groups whose ``T * m / W_M`` :func:`_divide_exact` computes exactly in int64.

    ``W_M`` may be a float sum: it is within a rounding of the integer one, which the margin covers.
    """
    w_float = w_m.astype(np.float64)
    fits: BoolArray = (w_float <= INT_LIMIT) & (
        (totals.astype(np.float64) * 2.0**-51 + 2.0) * w_float <= 2.0**62
    )
    return fits


def grid_hamilton(totals: IntArray, k: IntArray, offsets: IntArray) -> IntArray | None:
    """Largest remainder for integer weights ``k``, exactly in int64; None if they do not fit.

    The same values as :func:`hamilton_groups` on the weights ``k * 2**-s`` for any ``s`` (the scale
    cancels): larger exact remainder first, then larger weight, then the earlier row. Callers
    whose weights lie on a grid (the engine's carried split) skip the float pass, its error
    bands and the exact re-ranking of near-ties, which dominate when many quotas nearly tie.
    Needs ``totals >= 0``, ``k >= 0`` and a positive weight in every group with a total.
    """
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    w_m = np.add.reduceat(k, starts)
    if not (_fits_exact(totals, w_m) & ((w_m > 0) | (totals == 0))).all():
        return None
    floors, rem = _divide_exact(totals, k, w_m, sizes)
    leftover = totals - np.add.reduceat(floors, starts)
    # The leftover-th largest remainder of each group, tau: every larger one wins a quantum;
    # the cells equal to tau share what is left, larger weight first, then earlier rows.
    ordered, ends = _sorted_by_group(rem, offsets)
    has = leftover > 0
    tau = np.where(has, ordered[np.where(has, ends - leftover, 0)], np.iinfo(np.int64).max)
    tau_rep = np.repeat(tau, sizes)
    reach = rem >= tau_rep
    n_reach = np.add.reduceat(reach, starts, dtype=np.int64)
    floors += reach
    over = np.flatnonzero(n_reach > leftover)
    if over.size:
        sub = gather_segments(offsets, over)
        tied = rem[sub.idx] == tau_rep[sub.idx]
        # how many of each group's tied cells keep their quantum
        keep = leftover[over] - n_reach[over] + np.add.reduceat(tied, sub.offsets[:-1])
        losers = _rank_ties(tied, k[sub.idx], sub.offsets, keep)
        floors[sub.idx[losers]] -= 1
    return floors


def _sorted_by_group(keys: IntArray, offsets: IntArray) -> tuple[IntArray, IntArray]:
    """Each group's keys (>= 0) in ascending order, group ``g``'s ending at ``ends[g] - 1``.

    Groups of similar size are sorted as table rows (:func:`_row_sorted`); others in one
    lexicographic sort by group, then key.
    """
    rows = _row_sorted(keys, offsets, -1)
    if rows is not None:
        return rows
    group = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    return keys[np.lexsort((keys, group))], offsets[1:]


def _row_sorted(
    keys: npt.NDArray[Any], offsets: IntArray, pad: float
) -> tuple[npt.NDArray[Any], IntArray] | None:
    """Each group's keys sorted in a row of a (groups x width) table; None for uneven groups.

    Rows are padded with ``pad`` (below every key), which sorts to the front, so group ``g``'s
    keys end at ``ends[g] - 1`` of the flattened table. Many short sorts that stay in cache beat
    one long one (about 2.5x on 10^4 groups of 100); groups whose sizes differ so much that the
    padding would exceed a quarter of the keys (or wider than :data:`_ROW_SORT_WIDTH`) get None.
    """
    sizes = np.diff(offsets)
    n_groups = sizes.size
    width = int(sizes.max(initial=0))
    if not (
        n_groups > 1 and 0 < width <= _ROW_SORT_WIDTH and 4 * width * n_groups <= 5 * keys.size
    ):
        return None
    if width * n_groups == keys.size:
        table = np.sort(keys.reshape(n_groups, width), axis=1)
    else:
        table = np.full((n_groups, width), pad, dtype=keys.dtype)
        shift = np.arange(0, n_groups * width, width) - offsets[:-1]
        table.reshape(-1)[np.arange(keys.size) + np.repeat(shift, sizes)] = keys
        table.sort(axis=1)
    return table.reshape(-1), np.arange(1, n_groups + 1, dtype=np.int64) * width


def _rank_ties(tied: BoolArray, k: IntArray, offsets: IntArray, keep: IntArray) -> BoolArray:
    """The tied cells beyond each group's first ``keep``, ranked by larger ``k``, then row."""
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    k_min = np.minimum.reduceat(np.where(tied, k, np.iinfo(np.int64).max), starts)
    k_max = np.maximum.reduceat(np.where(tied, k, -1), starts)
    single = k_min == k_max
    # one weight among the ties: rows decide
    rank = _rank_in_group(tied, offsets)
    losers: BoolArray = tied & (rank > np.repeat(keep, sizes)) & np.repeat(single, sizes)
    mixed = np.repeat(~single, sizes) & tied
    if mixed.any():
        cells = np.flatnonzero(mixed)
        group = np.repeat(np.arange(sizes.size), sizes)[cells]
        # lexsort is stable and cells ascend, so equal weights keep row order
        order = np.lexsort((-k[cells], group))
        ranked, by = cells[order], group[order]
        place = np.arange(ranked.size) - np.searchsorted(by, by)
        losers[ranked[place >= keep[by]]] = True
    return losers


def _distribute(
    floors: IntArray,
    rem: FloatArray,
    w: FloatArray,
    *,
    leftover: IntArray,
    err: FloatArray,
    offsets: IntArray,
    totals: IntArray,
) -> tuple[IntArray, IntArray]:
    """Give each group's leftover quanta to its largest remainders (exact floors given).

    One ``np.sort`` of packed keys (group id above, remainder below) finds each group's threshold,
    the ``leftover``-th largest key ``tau``. A cell whose key is more than ``delta`` (the float error
    plus the packing's rounding) above ``tau`` surely wins, more than ``delta`` below surely loses;
    when every cell within ``delta`` wins, the group is done, else the band is ranked exactly.

    Near-ties between different weights are ranked by exact integer remainders, whatever the
    group's float bound: exact ties are common (weights on a grid that sum to the total, as in the
    engine's carried split), and no sharper float pass separates them.

    Returns the values and the groups left unsettled: mixed-weight near-ties whose integers
    do not fit the exact int64 path.
    """
    sizes = np.diff(offsets)
    n_groups = leftover.size
    step = 2.0 ** (51 - max(n_groups - 1, 1).bit_length())
    key = rem * step
    rows = _row_sorted(key, offsets, -np.inf)
    if rows is not None:
        ordered, ends = rows
    else:
        # key = 2 * group * step + rem * step, below 2**53, so the addition rounds by at most
        # half a unit; the gap of a whole step between groups keeps their keys apart.
        key += np.repeat(np.arange(0, 2 * n_groups, 2, dtype=np.float64) * step, sizes)
        ordered = np.sort(key)
        ends = offsets[1:]
    has = leftover > 0
    tau = ordered[np.where(has, ends - leftover, 0)]
    delta = np.ceil(2.0 * err * step) + 2.0
    lower = np.where(has, tau - delta, np.inf)
    win = key >= np.repeat(lower, sizes)
    values = floors + win
    # More than `leftover` keys reach `lower` iff the next key down does (keys sorted per group).
    below = ordered[np.maximum(ends - leftover - 1, 0)]
    partial = np.flatnonzero(has & (leftover < sizes) & (below >= lower))
    if 2 * int(sizes[partial].sum()) >= key.size:
        # Most cells are in groups that tie inside the band (duplicate weights: fte 0.5 / 1,
        # small integers): settle the one-weight bands with whole-array passes instead of
        # gathering them. Gathering costs about as many passes over the partial groups' cells as
        # the whole-array rule costs over all cells, so it wins below about half.
        partial = _settle_one_weight_bands(
            values,
            floors,
            key,
            win,
            w,
            leftover=leftover,
            upper=tau + delta,
            offsets=offsets,
            partial=partial,
        )
    if not partial.size:
        return values, partial
    sub = gather_segments(offsets, partial)
    sub_sizes = np.diff(sub.offsets)
    sub_starts = sub.offsets[:-1]
    assert (np.add.reduceat(win[sub.idx], sub_starts, dtype=np.int64) > leftover[partial]).all()
    sub_key = key[sub.idx]
    clear = sub_key > np.repeat(tau[partial] + delta[partial], sub_sizes)
    band = win[sub.idx] & ~clear
    need = leftover[partial] - np.add.reduceat(clear, sub_starts, dtype=np.int64)
    ws = w[sub.idx]
    w_min = np.minimum.reduceat(np.where(band, ws, np.inf), sub_starts)
    w_max = np.maximum.reduceat(np.where(band, ws, -np.inf), sub_starts)
    single = w_min == w_max
    # One weight in the band: equal weights give equal exact remainders, so rows decide.
    rank = _rank_in_group(band, sub.offsets)
    chosen = clear | (band & (rank <= np.repeat(need, sub_sizes)) & np.repeat(single, sub_sizes))
    mixed = np.flatnonzero(~single)
    python = partial[:0]
    if mixed.size:
        msub = gather_segments(offsets, partial[mixed])
        msizes = np.diff(msub.offsets)
        exact = _int_quotas(totals[partial[mixed]], w[msub.idx], msub.offsets)
        group = np.repeat(np.arange(mixed.size), msizes)
        # Positions in msub map to positions in sub by the groups' start offsets.
        to_sub = np.arange(msub.idx.size) + np.repeat(sub_starts[mixed] - msub.offsets[:-1], msizes)
        cells = np.flatnonzero(band[to_sub] & np.repeat(exact.ok, msizes))
        # By group, then larger exact remainder, then larger weight; lexsort is stable and cells
        # ascend, so full ties keep the earlier row first. Remainders below 2**40 (weights on a
        # fine grid, as in the carried split) pack with the group into one int64 key.
        band_rem = exact.rem[cells]
        band_group = group[cells]
        if band_rem.size and int(band_rem.max()) < 1 << 40 and mixed.size < 1 << 22:
            packed = (band_group << 40) | ((1 << 40) - 1 - band_rem)
            order = np.lexsort((-w[msub.idx][cells], packed))
        else:
            order = np.lexsort((-w[msub.idx][cells], -band_rem, band_group))
        ranked = cells[order]
        first = np.searchsorted(group[ranked], np.arange(mixed.size))
        place = np.arange(ranked.size) - first[group[ranked]]
        chosen[to_sub[ranked[place < need[mixed][group[ranked]]]]] = True
        python = np.concatenate([python, partial[mixed[~exact.ok]]])
    values[sub.idx] = floors[sub.idx] + chosen
    return values, python


def _settle_one_weight_bands(
    values: IntArray,
    floors: IntArray,
    key: FloatArray,
    win: BoolArray,
    w: FloatArray,
    *,
    leftover: IntArray,
    upper: FloatArray,
    offsets: IntArray,
    partial: IntArray,
) -> IntArray:
    """Whole-array version of the one-weight band rule; returns the partial groups left over."""
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    is_partial = np.zeros(leftover.size, dtype=np.bool_)
    is_partial[partial] = True
    clear = key > np.repeat(np.where(is_partial, upper, np.inf), sizes)
    band = win & ~clear & np.repeat(is_partial, sizes)
    need = leftover - np.add.reduceat(clear, starts, dtype=np.int64)
    w_min = np.minimum.reduceat(np.where(band, w, np.inf), starts)
    w_max = np.maximum.reduceat(np.where(band, w, -np.inf), starts)
    single = (w_min == w_max) & is_partial
    rank = _rank_in_group(band, offsets)
    chosen = clear | (band & (rank <= np.repeat(need, sizes)))
    np.copyto(values, floors + chosen, where=np.repeat(single, sizes))
    left: IntArray = partial[~single[partial]]
    return left


def _rank_in_group(marked: BoolArray, offsets: IntArray) -> IntArray:
    """1, 2, ... for each group's marked cells in row order (meaningless on unmarked cells)."""
    counted = np.cumsum(marked, dtype=np.int64)
    before = np.concatenate(([0], counted[offsets[1:-1] - 1]))
    rank: IntArray = counted - np.repeat(before, np.diff(offsets))
    return rank


def _integer_weights(weights: Sequence[float | Fraction]) -> list[int]:
    """The weights times their common denominator, as exact Python integers.

    Floats are read as the binary fractions they are (the common denominator is a power of two);
    Fractions (a strategy's exact weights, see ``exact_segment_weights``) as they are.
    """
    ratios = [
        x.as_integer_ratio() if isinstance(x, Fraction) else float(x).as_integer_ratio()
        for x in weights
    ]
    common = math.lcm(*(den for _, den in ratios)) if ratios else 1
    return [num * (common // den) for num, den in ratios]


def _exact_hamilton(
    total: int, weights: Sequence[float | Fraction]
) -> tuple[list[int], list[int], list[float]]:
    """Largest remainder in Python integers: the cold path for groups numpy could not settle."""
    scaled = _integer_weights(weights)
    weight_sum = sum(scaled)
    if weight_sum == 0:
        zeros = [0] * len(weights)
        return zeros, zeros, [0.0] * len(weights)
    parts = [divmod(total * m, weight_sum) for m in scaled]
    floors = [a for a, _ in parts]
    order = sorted(range(len(weights)), key=lambda i: (-parts[i][1], -weights[i], i))
    values = list(floors)
    for i in order[: total - sum(floors)]:
        values[i] += 1
    return values, floors, [total * m / weight_sum for m in scaled]


def exact_rational_split(
    total: int, weights: Sequence[Fraction]
) -> tuple[list[int], list[Fraction]]:
    """Largest remainder on exact rational weights: the values and the exact quotas.

    For weights whose common denominator overflows int64 (an average of proportions, a blend):
    quotas, floors and the ranking are exact, ties go to the larger weight, then to the earlier
    child, as on the float path; a negative total is split by symmetry.

    Args:
        total: The whole quanta to split.
        weights: Non-negative Fractions, one per child.

    Returns:
        The split (summing to ``total``) and each child's exact quota ``total * w / sum(w)``.

    Example:
        >>> exact_rational_split(4, [Fraction(1, 10), Fraction(3, 10), Fraction(6, 10)])[0]
        [0, 1, 3]
    """
    if total < 0:
        values, quota = exact_rational_split(-total, weights)
        return [-v for v in values], [-q for q in quota]
    weight_sum = sum(weights, Fraction(0))
    if weight_sum == 0:
        return [0] * len(weights), [Fraction(0)] * len(weights)
    quota = [total * w / weight_sum for w in weights]
    values = [q.numerator // q.denominator for q in quota]
    order = sorted(range(len(weights)), key=lambda i: (-(quota[i] - values[i]), -weights[i], i))
    for i in order[: total - sum(values)]:
        values[i] += 1
    return values, quota


# ---------------------------------------------------------------------------------------------
# Floors and caps


def _run_bounded(
    flat: _Flat,
    labels: _Labels,
    w_eff: FloatArray,
    remaining: IntArray,
    locked_cells: IntArray | None,
) -> _Split:
    """Floors and caps by water-filling, then largest remainder; ``locked_cells``: :func:`_run`'s."""
    off = flat.offsets
    sizes = np.diff(off)
    starts = off[:-1]
    n_cells = w_eff.size
    free_cells = np.ones(n_cells, dtype=np.bool_) if flat.lock_mask is None else ~flat.lock_mask
    floors = np.zeros(n_cells, dtype=np.int64) if flat.floors is None else flat.floors
    caps_in = np.full(n_cells, MAX_QUANTA, dtype=np.int64) if flat.caps is None else flat.caps
    _check_bounds(flat, labels, floors, caps_in)
    negative = np.flatnonzero(remaining < 0)
    if negative.size:
        g = int(negative[0])
        raise _infeasible(
            labels,
            flat,
            g,
            f"the amount to split is negative ({labels.amount(int(remaining[g]))}) but floors/caps "
            "are set; "
            "bounded splits need a total >= 0",
            expected=">= 0",
            actual=int(remaining[g]),
            hint="drop the floors/caps for this metric, or split the negative total without bounds",
        )
    # A cap above what is left to split never binds (every child gets >= 0). Locked children
    # have neither (by index: locks are few).
    caps = np.minimum(caps_in, np.repeat(remaining, sizes))
    if locked_cells is not None:
        caps[locked_cells] = 0
        floors = floors.copy()
        floors[locked_cells] = 0
    _check_feasible(
        flat, labels, w_eff, floors=floors, caps=caps, remaining=remaining, free_cells=free_cells
    )

    at_floor, at_cap = _water_fill(
        w_eff, floors, caps, totals=remaining, free_cells=free_cells, offsets=off
    )
    free = free_cells & ~at_floor & ~at_cap
    on_floor, on_cap = np.flatnonzero(at_floor), np.flatnonzero(at_cap)
    fixed = _held_amounts(floors, caps, on_floor, on_cap)
    t_free = remaining - np.add.reduceat(fixed, starts)
    w_free = np.where(free, w_eff, 0.0)
    w_free_sum = np.add.reduceat(w_free, starts)
    bad = (t_free < 0) | ((w_free_sum == 0) & (t_free != 0))
    bad |= (t_free > 0) & ((w_free_sum < _W_MIN) | (w_free_sum > _W_MAX))
    # Both kinds of clamp and no free weight: lambda is pinned between them; the exact path judges.
    bad |= (
        (w_free_sum == 0)
        & (np.add.reduceat(at_floor & (w_eff > 0), starts, dtype=np.int64) > 0)
        & (np.add.reduceat(at_cap, starts, dtype=np.int64) > 0)
    )
    rounded = hamilton_groups(np.where(bad, 0, t_free), w_free, off, w_free_sum, quota=True)
    # Exact verification of the float classification: a child held at its floor must have
    # lambda * w <= floor, one at its cap lambda * w >= cap, a free one floor <= quota <= cap (the
    # free quotas have exact floors). Overflow gives inf / NaN, which fails the comparisons and so
    # sends the group to the exact path.
    a = rounded.floors
    zero_rem = np.repeat(rounded.mode == _MODE_INT, sizes) & (rounded.rem == 0)
    with np.errstate(all="ignore"):
        quota_all = w_eff * np.repeat(rounded.scale, sizes)
        cell_err = quota_all * np.repeat((sizes + 3) * _EPS, sizes) + _TINY
        wrong = at_floor & ~(quota_all + cell_err <= floors)
        spread = np.repeat(w_free_sum > 0, sizes)
        wrong |= at_cap & ~(quota_all - cell_err >= caps) & spread
    wrong |= free & ((a < floors) | (a > caps) | ((a == caps) & ~zero_rem))
    bad |= np.add.reduceat(wrong, starts, dtype=np.int64) > 0
    bad |= rounded.mode == _MODE_PYTHON
    adjustment = rounded.values - a
    adjustment *= free
    # the held children take their bound (in place: the rounded arrays are this call's own)
    values, quota = rounded.values, rounded.quota
    for bound, at in ((caps, on_cap), (floors, on_floor)):
        values[at] = bound[at]
        quota[at] = bound[at]
    for g in np.flatnonzero(bad).tolist():
        cells = np.array([c for c in flat.cells(g) if free_cells[c]], dtype=np.int64)
        got = exact_bounded_split(
            int(remaining[g]),
            w_eff[cells].tolist(),
            floors[cells].tolist(),
            caps[cells].tolist(),
        )
        values[cells] = got.values
        quota[cells] = got.quota
        adjustment[cells] = got.adjustment
        at_floor[cells] = got.at_floor
        at_cap[cells] = got.at_cap
    return _Split(values, quota, adjustment, at_floor, at_cap)


def _check_bounds(flat: _Flat, labels: _Labels, floors: IntArray, caps: IntArray) -> None:
    # Each check in order, naming its first failing cell. Whether the floors are in range is asked
    # of two reductions first: no (cells) temporary when they are, as they nearly always are.
    if floors.size and floors.min() < 0:
        _bad_bound(
            flat, labels, floors, caps, mask=floors < 0,
            text="floor {f} of child {c} is negative", hint="give floors >= 0",
        )  # fmt: skip
    if floors.size and floors.max() > MAX_QUANTA:
        _bad_bound(
            flat, labels, floors, caps, mask=floors > MAX_QUANTA,
            text="floor {f} of child {c} exceeds the kernel's limit", hint="lower it",
        )  # fmt: skip
    below = caps < floors
    if below.any():
        _bad_bound(
            flat, labels, floors, caps, mask=below,
            text="cap {k} of child {c} is below its floor {f}",
            hint="raise the cap or lower the floor",
        )  # fmt: skip
    if flat.lock_mask is not None:
        assert flat.locked is not None
        outside = flat.lock_mask & ((flat.locked < floors) | (flat.locked > caps))
        if outside.any():
            cell = int(np.flatnonzero(outside)[0])
            bounds = f"[{labels.amount(int(floors[cell]))}, {labels.amount(int(caps[cell]))}]"
            raise _infeasible(
                labels,
                flat,
                _group_of_cell(flat, cell),
                f"child {labels.child(flat.row(cell))} is locked at "
                f"{labels.amount(int(flat.locked[cell]))}, "
                f"outside its bounds {bounds}",
                expected=bounds,
                actual=int(flat.locked[cell]),
                hint="change the lock or widen the floor/cap of that child",
            )


def _bad_bound(
    flat: _Flat,
    labels: _Labels,
    floors: IntArray,
    caps: IntArray,
    *,
    mask: BoolArray,
    text: str,
    hint: str,
) -> NoReturn:
    """Raise for the first cell of ``mask``: ``text`` with its floor, cap and child."""
    cell = int(np.flatnonzero(mask)[0])
    raise _infeasible(
        labels,
        flat,
        _group_of_cell(flat, cell),
        text.format(
            f=labels.amount(int(floors[cell])),
            k=labels.amount(int(caps[cell])),
            c=labels.child(flat.row(cell)),
        ),
        expected=int(floors[cell]),
        actual=int(caps[cell]) if "cap" in text else int(floors[cell]),
        hint=hint,
    )


def _check_feasible(
    flat: _Flat,
    labels: _Labels,
    w_eff: FloatArray,
    *,
    floors: IntArray,
    caps: IntArray,
    remaining: IntArray,
    free_cells: BoolArray,
) -> None:
    off = flat.offsets
    locks = "" if flat.lock_mask is None else " after locks"
    # Children with zero weight stay at their floor; the others can rise to their caps.
    floor_sum, floor_sum_f = _group_sum(floors, off)
    low = np.flatnonzero((floor_sum_f > 2**60) | (floor_sum > remaining))
    if low.size:
        g = int(low[0])
        cells = sorted(
            (c for c in flat.cells(g) if free_cells[c] and floors[c] > 0), key=lambda c: -floors[c]
        )
        need = sum(int(floors[c]) for c in flat.cells(g))
        rest = int(remaining[g])
        raise _infeasible(
            labels,
            flat,
            g,
            f"floors sum to {labels.amount(need)}, above the {labels.amount(rest)} to split{locks} "
            f"(short by {labels.amount(need - rest)}); "
            "largest floors: "
            f"{labels.children_list([flat.row(c) for c in cells], [int(floors[c]) for c in cells])}",
            expected=rest,
            actual=need,
            hint="lower some floors or raise the parent total",
        )
    reach_sum, reach_sum_f = _group_sum(np.where(w_eff > 0, caps, floors), off)
    high = np.flatnonzero((reach_sum_f < 2**60) & (reach_sum < remaining))
    if high.size:
        g = int(high[0])
        capped = [c for c in flat.cells(g) if free_cells[c] and w_eff[c] > 0]
        idle = [flat.row(c) for c in flat.cells(g) if free_cells[c] and w_eff[c] == 0]
        top = int(reach_sum[g])
        rest = int(remaining[g])
        note = (
            f"; children with zero weight stay at their floors: {labels.children_list(idle)}"
            if idle
            else ""
        )
        listed = labels.children_list([flat.row(c) for c in capped], [int(caps[c]) for c in capped])
        raise _infeasible(
            labels,
            flat,
            g,
            f"caps of the children with positive weight allow at most {labels.amount(top)}, below "
            f"the {labels.amount(rest)} to split{locks} (short by {labels.amount(rest - top)}); "
            f"capped: {listed or 'none'}{note}",
            expected=rest,
            actual=top,
            hint="raise some caps, give weight to more children, or lower the parent total",
        )


def _water_fill(
    w: FloatArray,
    floors: IntArray,
    caps: IntArray,
    *,
    totals: IntArray,
    free_cells: BoolArray,
    offsets: IntArray,
) -> tuple[BoolArray, BoolArray]:
    """Float water-filling: which children sit at their floor / cap in the continuous solution.

    Each round splits what is left among the free children; if the overshoot above caps exceeds
    the shortfall below floors, the true lambda is larger, so the capped children stay capped (and
    symmetrically); equal means lambda is found. Every round fixes a child of every group still
    moving: at most n rounds, usually a handful.
    """
    at_floor = np.zeros(w.shape, dtype=np.bool_)
    at_cap = np.zeros(w.shape, dtype=np.bool_)
    if totals.size == 0:  # no period to split: nothing is held
        return at_floor, at_cap
    # Overflow here only misguides the classification, which is verified exactly afterwards.
    with np.errstate(all="ignore"):
        _fill(w, floors, caps, totals, free_cells, offsets, at_floor, at_cap)
    return at_floor, at_cap


def _fill(*arrays: npt.NDArray[Any]) -> None:
    """The rounds of :func:`_water_fill`, updating its masks in place.

    Once fewer than half of the groups still move, the rest are gathered and filled on their own,
    so late rounds cost little.
    """
    w, floors, caps, totals, free_cells, offsets, at_floor, at_cap = arrays
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    floors_f = floors.astype(np.float64)
    caps_f = caps.astype(np.float64)
    # the free children, what the held ones take and the free weights, kept up to date in
    # place round by round
    free = free_cells & ~at_floor & ~at_cap
    fixed = _held_amounts(floors, caps, np.flatnonzero(at_floor), np.flatnonzero(at_cap))
    w_free = np.where(free, w, 0.0)
    moving = np.ones(totals.size, dtype=np.bool_)
    # a buffer every round reuses (np.where's select costs several times a subtraction)
    gap = np.empty(w.shape)
    for _ in range(int(sizes.max()) + 1):
        n_moving = int(np.count_nonzero(moving))
        if n_moving == 0:
            return
        if 2 * n_moving < totals.size:
            sub = gather_segments(offsets, np.flatnonzero(moving))
            part = [a[sub.idx] for a in (w, floors, caps)]
            lo, hi = at_floor[sub.idx], at_cap[sub.idx]
            _fill(*part, totals[sub.groups], free_cells[sub.idx], sub.offsets, lo, hi)
            at_floor[sub.idx] = lo
            at_cap[sub.idx] = hi
            return
        left = (totals - np.add.reduceat(fixed, starts)).astype(np.float64)
        wsum = np.add.reduceat(w_free, starts)
        lam = np.zeros(left.shape)
        np.divide(left, wsum, out=lam, where=wsum > 0)
        x = np.repeat(lam, sizes)
        x *= w
        below = free & (x < floors_f)
        above = free & (x > caps_f)
        # the shortfall below the floors and the overshoot above the caps, per group
        np.subtract(floors_f, x, out=gap)
        np.copyto(gap, 0.0, where=~below)
        short = np.add.reduceat(gap, starts)
        np.subtract(x, caps_f, out=gap)
        np.copyto(gap, 0.0, where=~above)
        over = np.add.reduceat(gap, starts)
        # a child below its floor adds a positive shortfall (above its cap, a positive
        # overshoot), so a group moved exactly when either sum is positive
        moving = (short > 0) | (over > 0)
        # the newly held (all free until now), by index: few, and masked copies over every
        # cell cost more
        held_cap = np.flatnonzero(above & np.repeat(over >= short, sizes))
        held_floor = np.flatnonzero(below & np.repeat(short >= over, sizes))
        at_cap[held_cap] = True
        at_floor[held_floor] = True
        free[held_cap] = False
        free[held_floor] = False
        fixed[held_cap] = caps[held_cap]
        fixed[held_floor] = floors[held_floor]
        w_free[held_cap] = 0.0
        w_free[held_floor] = 0.0


def _held_amounts(
    floors: IntArray, caps: IntArray, on_floor: IntArray, on_cap: IntArray
) -> IntArray:
    """What the held children take: their floor at ``on_floor``, their cap at ``on_cap``, else 0.

    By index: the held children are few, and masked copies over every cell cost more.
    """
    fixed = np.zeros(floors.shape, dtype=np.int64)
    fixed[on_floor] = floors[on_floor]
    fixed[on_cap] = caps[on_cap]
    return fixed


class _Bounded(NamedTuple):
    values: list[int]
    quota: list[float]
    adjustment: list[int]
    at_floor: list[bool]
    at_cap: list[bool]


def exact_bounded_split(
    total: int, weights: Sequence[float | Fraction], floors: list[int], caps: list[int]
) -> _Bounded:
    """Water-filling and largest remainder in exact rationals for one group (the cold path)."""
    n = len(weights)
    scaled = _integer_weights(weights)
    lo = [False] * n
    hi = [False] * n

    def left() -> int:
        return (
            total
            - sum(floors[i] for i in range(n) if lo[i])
            - sum(caps[i] for i in range(n) if hi[i])
        )

    while True:
        free = [i for i in range(n) if not (lo[i] or hi[i])]
        wsum = sum(scaled[i] for i in free)
        if wsum == 0:
            # Only zero-weight children are free: lambda * 0 = 0, so they sit at their floors.
            for i in free:
                lo[i] = floors[i] > 0
            break
        lam = Fraction(left(), wsum)
        below = [i for i in free if lam * scaled[i] < floors[i]]
        above = [i for i in free if lam * scaled[i] > caps[i]]
        if not below and not above:
            break
        short = sum((floors[i] - lam * scaled[i] for i in below), Fraction(0))
        over = sum((lam * scaled[i] - caps[i] for i in above), Fraction(0))
        for i in above if over >= short else []:
            hi[i] = True
        for i in below if short >= over else []:
            lo[i] = True
    free = [i for i in range(n) if not (lo[i] or hi[i])]
    got, got_floors, got_quota = _exact_hamilton(left(), [weights[i] for i in free])
    values = [floors[i] if lo[i] else caps[i] for i in range(n)]
    quota = [float(v) for v in values]
    adjustment = [0] * n
    for j, i in enumerate(free):
        values[i] = got[j]
        quota[i] = got_quota[j]
        adjustment[i] = got[j] - got_floors[j]
    return _Bounded(values, quota, adjustment, lo, hi)
