"""Slow, plain-Python reference twins of the allocation kernel, in exact rational arithmetic.

Written for obviousness, not speed, and deliberately by other routes than the kernel: quotas are
``fractions.Fraction`` throughout, water-filling scans the breakpoints of
``F(lam) = sum(clip(lam * w_i, floor_i, cap_i))`` instead of iterating, and divisor methods award
seats one at a time (highest averages). The vectorised kernel must agree with these exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction


def quotas(total: int, weights: Sequence[float]) -> list[Fraction]:
    """Exact shares ``total * w_i / sum(w)`` of the exact binary fractions the floats stand for."""
    exact = [Fraction(w) for w in weights]
    weight_sum = sum(exact, Fraction(0))
    if weight_sum == 0:
        return [Fraction(0)] * len(exact)
    return [total * w / weight_sum for w in exact]


def round_quotas(quota: Sequence[Fraction], weights: Sequence[float]) -> list[int]:
    """Largest remainder on given exact quotas (their sum must be an integer).

    Floors first; the leftover units go to the largest fractional parts, ties to the larger
    weight, then to the earlier child.
    """
    floors = [q.numerator // q.denominator for q in quota]
    leftover = sum(quota, Fraction(0)) - sum(floors)
    assert leftover.denominator == 1
    ranked = sorted(
        range(len(quota)), key=lambda i: (-(quota[i] - floors[i]), -Fraction(weights[i]), i)
    )
    result = list(floors)
    for i in ranked[: int(leftover)]:
        result[i] += 1
    return result


def hamilton(total: int, weights: Sequence[float]) -> list[int]:
    """Largest remainder (Hamilton) of a non-negative total; negative totals by symmetry."""
    if total < 0:
        return [-x for x in hamilton(-total, weights)]
    return round_quotas(quotas(total, weights), weights)


def water_fill(
    total: int, weights: Sequence[float], floors: Sequence[int], caps: Sequence[int]
) -> list[Fraction]:
    """The continuous bounded split: ``clip(lam * w_i, floor_i, cap_i)`` summing to ``total``.

    Children with zero weight take their floor. Raises ``ValueError`` when no lambda fits.
    """
    w = [Fraction(x) for x in weights]

    def filled(lam: Fraction | None) -> list[Fraction]:  # None stands for lambda = infinity
        out = []
        for wi, fi, ci in zip(w, floors, caps, strict=True):
            if wi == 0:
                out.append(Fraction(fi))
            elif lam is None:
                out.append(Fraction(ci))
            else:
                out.append(min(max(lam * wi, Fraction(fi)), Fraction(ci)))
        return out

    if sum(filled(Fraction(0))) > total or sum(filled(None)) < total:
        raise ValueError("no lambda fits")
    points = sorted(
        {
            Fraction(b) / wi
            for wi, f, c in zip(w, floors, caps, strict=True)
            if wi > 0
            for b in (f, c)
        }
    )
    lo = Fraction(0)
    for hi in [*points, None]:
        at_hi = sum(filled(hi))
        if at_hi >= total:
            break
        lo = hi  # type: ignore[assignment]
    base = sum(filled(lo))
    if base == total:
        return filled(lo)
    # Between lo and hi F is linear; its slope is the weight of the children strictly inside.
    assert hi is not None
    mid = (lo + hi) / 2
    slope = sum(
        (wi for wi, f, c in zip(w, floors, caps, strict=True) if wi > 0 and f < mid * wi < c),
        Fraction(0),
    )
    return filled(lo + (total - base) / slope)


def apportion_group(
    total: int,
    weights: Sequence[float],
    *,
    locked: Sequence[int | None] | None = None,
    floors: Sequence[int] | None = None,
    caps: Sequence[int] | None = None,
) -> list[int]:
    """One segment-column: locks kept, bounds honoured, the rest by largest remainder."""
    n = len(weights)
    pins = list(locked) if locked is not None else [None] * n
    free = [i for i in range(n) if pins[i] is None]
    rest = total - sum(p for p in pins if p is not None)
    result: list[int] = [p if p is not None else 0 for p in pins]
    free_w = [weights[i] for i in free]
    if floors is None and caps is None:
        got = hamilton(rest, free_w)
    else:
        lows = [floors[i] if floors is not None else 0 for i in free]
        highs = [caps[i] if caps is not None else max(rest, 0) for i in free]
        if sum(lows) > rest:
            raise ValueError("floors above the total")
        highs = [min(c, rest) for c in highs]  # a cap above the total never binds
        got = round_quotas(water_fill(rest, free_w, lows, highs), free_w)
    for i, v in zip(free, got, strict=True):
        result[i] = v
    return result


def divisor(total: int, weights: Sequence[float], theta: Fraction) -> list[int]:
    """Highest averages: seat after seat to the largest ``w / (seats + theta)``.

    ``theta`` is 1 for Jefferson (D'Hondt), 1/2 for Webster (Sainte-Lague), 0 for Adams (where a
    child without a seat has infinite priority). Ties: larger weight, then the earlier child.
    Children with weight 0 never get a seat.
    """
    exact = [Fraction(w) for w in weights]
    seats = [0] * len(exact)
    for _ in range(total):

        def priority(i: int) -> tuple[int, Fraction, Fraction, int]:
            d = seats[i] + theta
            if d == 0:
                return (1, Fraction(0), exact[i], -i)  # infinite priority
            return (0, exact[i] / d, exact[i], -i)

        best = max((i for i in range(len(exact)) if exact[i] > 0), key=priority)
        seats[best] += 1
    return seats


def hedged_periods(values: Sequence[int], hedge: Fraction, offsets: Sequence[int]) -> list[int]:
    """What over-assigned children sum to in each period of one node's grid, in Fractions.

    The year is ``round(year x (1 + h))`` (half to even); each period's total is shared among its
    sub-periods as their floors of ``x (1 + h)`` plus one quantum each for the largest fractional
    parts, ties to the earlier sub-period.
    """
    factor = 1 + hedge
    exact = [v * factor for v in values]
    out = [0] * len(values)
    out[0] = round(exact[0])
    for p in range(len(offsets) - 1):
        lo, hi = offsets[p], offsets[p + 1]
        if hi <= lo:
            continue
        floors = [x.numerator // x.denominator for x in exact[lo:hi]]
        leftover = out[p] - sum(floors)
        ranked = sorted(range(hi - lo), key=lambda i: (-(exact[lo + i] - floors[i]), i))
        for i in range(hi - lo):
            out[lo + i] = floors[i] + (1 if i in ranked[:leftover] else 0)
    return out
