"""Divisor (highest-averages) apportionment: Webster, Jefferson and Adams (private).

A stationary divisor method with parameter ``theta`` gives a child with ``s`` quanta the priority
``w / (s + theta)`` for its next quantum and hands the quanta out one at a time to the highest
priority (ties: larger weight, then earlier row). Equivalently it rounds every ``w_i / d`` with a
common divisor ``d``: down below ``floor + theta``, up above. Adding a quantum to the total never
takes one from a child (house monotone), so divisor methods are free of the Alabama paradox that
largest remainder shows; in exchange a child may get more than the ceiling or less than the floor
of its exact quota (Balinski & Young, *Fair Representation*, 2nd ed., 2001, ch. 9 and appendix A).

``theta = 1/2`` is Webster / Sainte-Lague (unbiased), ``1`` Jefferson / D'Hondt (favours large
weights), ``0`` Adams (favours small weights; every child with positive weight gets a quantum
first, as long as the total lasts).

The kernel starts from the rounding at the divisor Pukelsheim recommends
(``W / (T + n (theta - 1/2))``; *Proportional Representation*, 2nd ed., 2017, sec. 6.5), closes
most of the remaining gap with one sort (one quantum to each of the best next priorities), and then
corrects every group at once, one quantum per group per round: add to the best next priority while
short, take from the worst last priority while over, and swap while the best next still beats the
worst last. Priorities are compared in float, which is exact whenever the floats differ (rounding
is monotone); groups where two different priorities round to the same float are solved in exact
rationals, one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import ClassVar, Final

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["Adams", "Jefferson", "Webster"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_ROUNDS_PER_CHILD: Final = 4  # safety net for the correction loop; it converges far sooner


@attrs.frozen(kw_only=True)
class _Divisor:
    theta: ClassVar[Fraction]

    def split(self, totals: IntArray, weights: FloatArray, offsets: IntArray) -> IntArray:
        """Apportion each group's total by this divisor method.

        Args:
            totals: ``(groups,)`` integers ``>= 0``.
            weights: ``(cells,)`` finite floats ``>= 0``, the children of group ``g`` at
                ``offsets[g]:offsets[g + 1]``; a group with a positive total has a positive weight.
            offsets: ``(groups + 1,)`` CSR offsets, every group non-empty.

        Returns:
            ``(cells,)`` integers whose group sums equal ``totals``.
        """
        return _divisor_split(
            np.asarray(totals, dtype=np.int64),
            np.asarray(weights, dtype=np.float64),
            np.asarray(offsets, dtype=np.int64),
            self.theta,
        )


@attrs.frozen(kw_only=True)
class Webster(_Divisor):
    """Webster / Sainte-Lague: round ``w / d`` to the nearest integer (priority ``w / (s + 1/2)``).

    House monotone (no Alabama paradox) and unbiased between large and small weights.

    Example:
        >>> import numpy as np
        >>> w = np.array([1500.0, 1500, 900, 500, 500, 200])
        >>> Webster().split(np.array([25]), w, np.array([0, 6])).tolist()
        [8, 8, 4, 2, 2, 1]
        >>> Webster().split(np.array([26]), w, np.array([0, 6])).tolist()
        [8, 8, 5, 2, 2, 1]
    """

    theta: ClassVar[Fraction] = Fraction(1, 2)


@attrs.frozen(kw_only=True)
class Jefferson(_Divisor):
    """Jefferson / D'Hondt: round ``w / d`` down (priority ``w / (s + 1)``); favours large weights.

    Example:
        >>> import numpy as np
        >>> Jefferson().split(np.array([10]), np.array([6.0, 3.0, 1.0]), np.array([0, 3])).tolist()
        [6, 3, 1]
        >>> Jefferson().split(np.array([4]), np.array([6.0, 3.0, 1.0]), np.array([0, 3])).tolist()
        [3, 1, 0]
    """

    theta: ClassVar[Fraction] = Fraction(1)


@attrs.frozen(kw_only=True)
class Adams(_Divisor):
    """Adams: round ``w / d`` up (priority ``w / s``); every positive weight gets a quantum first.

    Example:
        >>> import numpy as np
        >>> Adams().split(np.array([4]), np.array([6.0, 3.0, 1.0]), np.array([0, 3])).tolist()
        [2, 1, 1]
    """

    theta: ClassVar[Fraction] = Fraction(0)


def _divisor_split(totals: IntArray, w: FloatArray, offsets: IntArray, theta: Fraction) -> IntArray:
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    n_cells = w.size
    if n_cells == 0:
        return np.zeros(0, dtype=np.int64)
    th = float(theta)
    positive = w > 0
    weight_sum = np.add.reduceat(w, starts)
    # Start: count the signposts j + theta <= x below x = w (T + n (theta - 1/2)) / W.
    multiplier = np.zeros(totals.size)
    target = totals + sizes * (th - 0.5)
    with np.errstate(all="ignore"):
        np.divide(target, weight_sum, out=multiplier, where=weight_sum > 0)
        x = w * np.repeat(np.maximum(multiplier, 0.0), sizes)
        seats = np.where(positive & (x >= th), np.floor(x - th) + 1.0, 0.0)
    seats = np.minimum(seats, np.repeat(totals.astype(np.float64), sizes)).astype(np.int64)
    seats[~positive] = 0
    if th > 0:
        _jump(totals, w, seats, offsets, th=th)
    # Groups without positive weight have a zero total (validated); nothing to do.
    done = np.add.reduceat(positive, starts, dtype=np.int64) == 0
    exact_groups = _correct(totals, w, seats, offsets, th=th, done=done)
    for g in np.flatnonzero(exact_groups).tolist():
        lo, hi = int(offsets[g]), int(offsets[g + 1])
        seats[lo:hi] = _exact_divisor(int(totals[g]), w[lo:hi].tolist(), theta)
    return seats


def _jump(
    totals: IntArray, w: FloatArray, seats: IntArray, offsets: IntArray, *, th: float
) -> None:
    """Close most of each group's gap at once, with one sort.

    One quantum more (less) for each of the ``|gap|`` best next (worst last) priorities.
    Approximate on purpose; :func:`_correct` then makes every group exact, in a step or two
    instead of one step per missing quantum.
    """
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    need = totals - np.add.reduceat(seats, starts)
    grow = np.repeat(need > 0, sizes)
    shrink = np.repeat(need < 0, sizes)
    positive = w > 0
    with np.errstate(all="ignore"):
        nxt = np.where(positive, w / (seats + th), 0.0)
        last = np.where(positive & (seats > 0), w / (seats - 1 + th), np.inf)
        top = np.repeat(np.maximum.reduceat(nxt, starts), sizes)
        bottom = np.repeat(np.minimum.reduceat(last, starts), sizes)
        # A score in [0, 1] per cell, larger = first to change; -1 where the cell cannot change.
        score = np.where(grow, nxt / top, np.where(shrink, bottom / last, -1.0))
    eligible = (grow & positive) | (shrink & (seats > 0))
    score = np.where(eligible & np.isfinite(score), score, -1.0)
    count = np.minimum(np.abs(need), np.add.reduceat(eligible, starts, dtype=np.int64))
    key = score + np.repeat(np.arange(0, 3 * need.size, 3, dtype=np.float64), sizes)
    ordered = np.sort(key)
    tau = ordered[np.minimum(offsets[1:] - count, key.size - 1)]
    pick = eligible & (key >= np.repeat(np.where(count > 0, tau, np.inf), sizes))
    seats += pick & grow
    seats -= pick & shrink


def _correct(
    totals: IntArray,
    w: FloatArray,
    seats: IntArray,
    offsets: IntArray,
    *,
    th: float,
    done: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Step every group to its apportionment, updating ``seats`` in place.

    Returns the groups left to the exact path. Once fewer than half of the groups are still
    moving, the rest are gathered and corrected on their own, so late rounds stay cheap.
    """
    sizes = np.diff(offsets)
    starts = offsets[:-1]
    positive = w > 0
    exact_groups = np.zeros(totals.size, dtype=np.bool_)
    for _ in range(_ROUNDS_PER_CHILD * int(sizes.max()) + 10):
        live = ~done & ~exact_groups
        n_live = int(live.sum())
        if n_live == 0:
            return exact_groups
        if 2 * n_live < totals.size and totals.size > 1:
            moving = np.flatnonzero(live)
            sub_sizes = sizes[moving]
            sub_offsets = np.zeros(moving.size + 1, dtype=np.int64)
            np.cumsum(sub_sizes, out=sub_offsets[1:])
            idx = np.repeat(offsets[moving] - sub_offsets[:-1], sub_sizes) + np.arange(
                int(sub_offsets[-1])
            )
            sub_seats = seats[idx]
            sub_exact = _correct(
                totals[moving],
                w[idx],
                sub_seats,
                sub_offsets,
                th=th,
                done=np.zeros(moving.size, np.bool_),
            )
            seats[idx] = sub_seats
            exact_groups[moving] = sub_exact
            return exact_groups
        with np.errstate(all="ignore"):
            nxt = np.where(positive, w / (seats + th), -1.0)
            last = np.where(positive & (seats > 0), w / (seats - 1 + th), np.inf)
        best_val = np.maximum.reduceat(nxt, starts)
        worst_val = np.minimum.reduceat(last, starts)
        best, best_ok = _pick(
            nxt == np.repeat(best_val, sizes), best_val, w, seats, offsets, first=True
        )
        taken = positive & (seats > 0)
        worst, worst_ok = _pick(
            taken & (last == np.repeat(worst_val, sizes)),
            worst_val,
            w,
            seats - 1,
            offsets,
            first=False,
        )
        has_taken = np.add.reduceat(taken, starts, dtype=np.int64) > 0
        need = totals - np.add.reduceat(seats, starts)
        grow = live & (need > 0)
        shrink = live & (need < 0)
        # Balanced: consistent when the worst taken signpost comes before the best untaken one.
        balanced = live & (need == 0) & has_taken
        done |= live & (need == 0) & ~has_taken
        ahead = best_val > worst_val
        tie = best_val == worst_val
        same = ((w[best] == w[worst]) & (seats[best] == seats[worst] - 1)) | (best_val == np.inf)
        # Equal priorities: the larger weight, then the earlier row, comes first.
        tie_wins = (w[best] > w[worst]) | ((w[best] == w[worst]) & (best < worst))
        swap = balanced & (ahead | (tie & same & tie_wins))
        unsure = balanced & tie & ~same
        unsure |= (grow & ~best_ok) | (shrink & ~worst_ok) | (swap & ~(best_ok & worst_ok))
        # A zero or subnormal priority has lost its precision, an infinite one with theta > 0
        # overflowed: exact path.
        tiny = np.finfo(np.float64).tiny
        lost = (best_val <= tiny) | (has_taken & (worst_val <= tiny))
        unsure |= live & (lost | ((best_val == np.inf) & (th > 0)))
        exact_groups |= unsure
        grow &= ~unsure
        shrink &= ~unsure
        swap &= ~unsure
        done |= balanced & ~swap & ~unsure
        seats[best[grow | swap]] += 1  # one cell per group: no repeated index
        seats[worst[shrink | swap]] -= 1
    # A guard, not a silent result: anything left unfinished is solved exactly.
    return exact_groups | ~done


def _pick(
    candidate: npt.NDArray[np.bool_],
    value: FloatArray,
    w: FloatArray,
    seats: IntArray,
    offsets: IntArray,
    *,
    first: bool,
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Per group, the candidate first (or last) in signpost order, and whether that is certain.

    Candidates share one float priority ``value``. Infinite priorities (Adams, no quantum yet) are
    exactly equal; finite ones are when weight and seat count agree too. Among exactly equal
    priorities the larger weight comes first, then the earlier row. A group whose candidates
    might differ in exact priority is flagged (False) for the exact path.
    """
    starts = offsets[:-1]
    sizes = np.diff(offsets)
    row = np.arange(w.size, dtype=np.int64)
    infinite = np.repeat(value == np.inf, sizes)
    # Order among exact ties: weight (descending when picking the first), then row.
    if first:
        top_w = np.maximum.reduceat(np.where(candidate, w, -np.inf), starts)
        pool = candidate & (w == np.repeat(top_w, sizes))
        chosen = np.minimum.reduceat(np.where(pool, row, w.size), starts)
    else:
        low_w = np.minimum.reduceat(np.where(candidate, w, np.inf), starts)
        pool = candidate & (w == np.repeat(low_w, sizes))
        chosen = np.maximum.reduceat(np.where(pool, row, -1), starts)
    chosen = np.clip(chosen, 0, w.size - 1)
    differs = candidate & ~infinite
    differs &= (w != np.repeat(w[chosen], sizes)) | (seats != np.repeat(seats[chosen], sizes))
    return chosen, np.add.reduceat(differs, starts, dtype=np.int64) == 0


def _exact_divisor(total: int, weights: Sequence[float], theta: Fraction) -> list[int]:
    """The same method in exact rationals for one group (the cold path)."""
    exact = [Fraction(x) for x in weights]
    n = len(exact)
    weight_sum = sum(exact, Fraction(0))
    seats = [0] * n
    if weight_sum > 0:
        multiplier = (total + n * (theta - Fraction(1, 2))) / weight_sum
        for i, wi in enumerate(exact):
            x = wi * max(multiplier, Fraction(0))
            if wi > 0 and x >= theta:
                seats[i] = min(int((x - theta) // 1) + 1, total)

    def next_key(i: int) -> tuple[int, Fraction, Fraction, int]:
        d = seats[i] + theta
        return (1, Fraction(0), exact[i], -i) if d == 0 else (0, exact[i] / d, exact[i], -i)

    def last_key(i: int) -> tuple[int, Fraction, Fraction, int]:
        d = seats[i] - 1 + theta
        return (1, Fraction(0), exact[i], -i) if d == 0 else (0, exact[i] / d, exact[i], -i)

    live = [i for i in range(n) if exact[i] > 0]
    while live:
        have = sum(seats)
        taken = [i for i in live if seats[i] > 0]
        best = max(live, key=next_key)
        if have < total:
            seats[best] += 1
        elif have > total:
            seats[min(taken, key=last_key)] -= 1
        elif taken and next_key(best) > last_key(worst := min(taken, key=last_key)):
            seats[best] += 1
            seats[worst] -= 1
        else:
            break
    return seats
