"""Ties between exact rational weights whose common denominator overflows int64 (#12.1)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import _reference as ref
from targetcascade import (
    AbsoluteBounds,
    CascadeSpec,
    FiscalCalendar,
    Lock,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    Split,
    cascade,
)
from targetcascade.allocation import AverageOfProportions, Blend, Proportional

DEALS = Metric(name="deals", unit="deal")
CAL = FiscalCalendar(fiscal_year=2027)
# three primes just below 2**22: their lcm (product) is above 2**66, past int64 and 2**53
P1, P2, P3 = 4194301, 4194287, 4194277
TREE = OrgTree.from_records(
    [{"id": "acme", "level": "company"}]
    + [{"id": n, "parent": "acme", "level": "region"} for n in "abc"]
)


def _history(monthly: dict[str, list[int]]) -> Plan:
    grid = np.array([monthly[n] + [0] * (12 - len(monthly[n])) for n in "abc"], dtype=np.int64)
    return Plan.from_leaf_arrays(
        TREE, FiscalCalendar(fiscal_year=2026), [DEALS], {"deals": grid}, kind="history"
    )


def _year(
    strategy: object,
    target: int,
    history: Plan,
    *,
    bounds: AbsoluteBounds | None = None,
    locks: list[Lock] | None = None,
) -> list[int]:
    spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=DEALS,
                target=target,
                mode="org_first",
                splits={"company": Split(strategy=strategy, bounds=bounds)},
                locks=locks or [],
            )
        ]
    )
    plan = cascade(spec, TREE, CAL, history=[history])
    return [plan.quanta(n, "FY2027", "deals") for n in "abc"]


def _monthly(x: int, a2: int, b2: int, z: int) -> dict[str, list[int]]:
    """a and b sell alike in months 1 and 3; c makes each month's total P1, P2, P3."""
    a, b = [x, a2, z], [x, b2, z]
    return {"a": a, "b": b, "c": [p - u - v for p, u, v in zip((P1, P2, P3), a, b, strict=True)]}


def _average_of_proportions(monthly: dict[str, list[int]]) -> list[Fraction]:
    return [
        sum((Fraction(u, p) for u, p in zip(monthly[n], (P1, P2, P3), strict=True)), Fraction(0))
        / 3
        for n in "abc"
    ]


def test_average_of_proportions_tie_goes_to_the_larger_weight():
    """Quotas 867048.48.., 867047.48.., 10848765.03.. tie a and b on .48..: a (the larger) gets it."""
    # T = 3 x P2: a's quota is 2 + F, b's 1 + F with F = P2 (800876 / P1 + 66173 / P3), so their
    # fractional parts are equal; the floors sum to T - 1 and the one leftover deal goes to the
    # larger weight, a (c's remainder .03 is smaller)
    monthly = _monthly(800876, 2, 1, 66173)
    assert _year(AverageOfProportions(), 3 * P2, _history(monthly)) == [867049, 867047, 10848765]


@given(
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.integers(1, 1000),
    st.integers(1, 1000),
    st.integers(1, 20),
)
def test_average_of_proportions_matches_the_fraction_reference(x, z, a2, b2, k):
    """AverageOfProportions with an lcm past int64 splits as exact Hamilton on its Fractions."""
    assume(a2 != b2)
    monthly = _monthly(x, a2, b2, z)
    target = 3 * P2 * k  # a multiple of 3 x P2: a and b's quotas tie on their fractional parts
    expected = ref.hamilton(target, _average_of_proportions(monthly))
    assert _year(AverageOfProportions(), target, _history(monthly)) == expected


@given(
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.integers(1, 1000),
    st.integers(1, 1000),
    st.sampled_from([0.1, 0.25, 0.5, 0.7, 1.0, 3.0]),
    st.integers(1, 20),
)
def test_blend_matches_the_fraction_reference(x, z, a2, b2, coefficient, k):
    """A Blend with an AverageOfProportions part splits as exact Hamilton on its exact blend."""
    assume(a2 != b2)
    monthly = _monthly(x, a2, b2, z)
    even = Proportional(values={"a": 1, "b": 1, "c": 2})
    blend = Blend(parts=((AverageOfProportions(), coefficient), (even, 1.0)))
    share = _average_of_proportions(monthly)
    exact = [
        Fraction(repr(coefficient)) * s / sum(share) + Fraction(v, 4)
        for s, v in zip(share, (1, 1, 2), strict=True)
    ]
    target = 3 * P2 * k
    assert _year(blend, target, _history(monthly)) == ref.hamilton(target, exact)


@given(
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.integers(1, 1000),
    st.integers(1, 1000),
    st.integers(1, 20),
    st.one_of(st.none(), st.integers(0, 10**7)),
    st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_bounded_and_locked_splits_match_the_fraction_reference(x, z, a2, b2, k, cap, lock):
    """With a cap on every child or a lock on c, the split is the exact reference's on Fractions."""
    assume(a2 != b2)
    monthly = _monthly(x, a2, b2, z)
    target = 3 * P2 * k
    share = _average_of_proportions(monthly)
    pins = [None, None, lock]
    caps = None if cap is None else [cap] * 3
    assume(cap is None or cap * (3 if lock is None else 2) + (lock or 0) >= target)
    assume(lock is None or cap is None or lock <= cap)
    expected = ref.apportion_group(target, share, locked=pins, caps=caps)
    got = _year(
        AverageOfProportions(),
        target,
        _history(monthly),
        bounds=None if cap is None else AbsoluteBounds(cap=cap, per="year"),
        locks=None if lock is None else [Lock(node="c", period="FY2027", value=lock)],
    )
    assert got == expected


def _carried_reference(monthly_totals: list[int], weights: list[Fraction]) -> list[list[int]]:
    """The carried monthly split in Fractions: each month, largest remainder on the carried quotas.

    Month m's carried quota is the exact share plus what earlier months' rounding owes the child
    (never below 0), counted in whole steps of 1/1024 quantum (half to even, at least one step).
    """
    carry = [Fraction(0)] * len(weights)
    months = []
    for total in monthly_totals:
        share = [total * w / sum(weights) for w in weights]
        steps = [
            max(round(max(q + c, Fraction(0)) * 1024), 1) for q, c in zip(share, carry, strict=True)
        ]
        got = ref.hamilton(total, steps)
        carry = [c + q - v for c, q, v in zip(carry, share, got, strict=True)]
        months.append(got)
    return months


@given(
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.integers(1, 1000),
    st.integers(1, 1000),
    st.integers(1, 20),
    st.booleans(),
)
def test_time_first_months_match_the_carried_fraction_reference(x, z, a2, b2, k, blend):
    """time_first: every month of a, b, c is the carried rule's on the exact (Fraction) weights."""
    assume(a2 != b2)
    monthly = _monthly(x, a2, b2, z)
    share = _average_of_proportions(monthly)
    strategy: object = AverageOfProportions()
    if blend:
        even = Proportional(values={"a": 1, "b": 1, "c": 2})
        strategy = Blend(parts=((AverageOfProportions(), 0.7), (even, 1.0)))
        share = [
            Fraction(7, 10) * s / sum(share) + Fraction(v, 4)
            for s, v in zip(share, (1, 1, 2), strict=True)
        ]
    target = 12 * 3 * P2 * k  # Even months of 3 x P2 x k: a and b's shares tie every month
    spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=DEALS,
                target=target,
                mode="time_first",
                splits={"company": Split(strategy=strategy)},
            )
        ]
    )
    plan = cascade(spec, TREE, CAL, history=[_history(monthly)])
    expected = _carried_reference([3 * P2 * k] * 12, share)
    got = [[plan.quanta(n, f"FY2027-M{m:02d}", "deals") for n in "abc"] for m in range(1, 13)]
    assert got == expected


@given(
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.integers(1, 1000),
    st.integers(1, 1000),
    st.integers(1, 20),
)
def test_a_new_member_mixes_in_exactly(x, z, a2, b2, k):
    """d has no history: it keeps Equal's 1/4, a, b, c share 3/4 as their exact averages say."""
    assume(a2 != b2)
    monthly = _monthly(x, a2, b2, z)
    tree = OrgTree.from_records(
        [{"id": "acme", "level": "company"}]
        + [{"id": n, "parent": "acme", "level": "region"} for n in "abcd"]
    )
    target = 4 * P2 * k  # 3/4 x (a2 - b2) / (3 P2) x T whole: a and b's quotas tie
    spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=DEALS,
                target=target,
                mode="org_first",
                splits={"company": Split(strategy=AverageOfProportions())},
            )
        ]
    )
    plan = cascade(spec, tree, CAL, history=[_history(monthly)])
    exact = [Fraction(3, 4) * s for s in _average_of_proportions(monthly)] + [Fraction(1, 4)]
    assert [plan.quanta(n, "FY2027", "deals") for n in "abcd"] == ref.hamilton(target, exact)
