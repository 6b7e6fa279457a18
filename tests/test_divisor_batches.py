"""Divisor methods over many groups at once agree with the seat-by-seat reference, group by group."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _reference import divisor
from targetcascade.allocation import Adams, Jefferson, Webster

METHODS = {"webster": (Webster(), Fraction(1, 2)), "jefferson": (Jefferson(), Fraction(1)),
           "adams": (Adams(), Fraction(0))}  # fmt: skip

ALABAMA = [1500.0, 1500.0, 900.0, 500.0, 500.0, 200.0]


def split(method, groups: list[tuple[int, list[float]]]) -> list[list[int]]:
    totals = np.array([t for t, _ in groups], dtype=np.int64)
    weights = np.array([w for _, ws in groups for w in ws], dtype=np.float64)
    offsets = np.cumsum([0] + [len(ws) for _, ws in groups], dtype=np.int64)
    seats = method.split(totals, weights, offsets).tolist()
    return [seats[offsets[g] : offsets[g + 1]] for g in range(len(groups))]


class TestWebsterByHand:
    def test_no_alabama_paradox(self):
        """Weights 1500:1500:900:500:500:200: 25 seats give 8,8,4,2,2,1 and 26 give 8,8,5,2,2,1.

        At 23 seats (7,7,4,2,2,1) five children tie at priority 200 (1500/7.5, 900/4.5,
        500/2.5): the two largest weights take seats 24 and 25; seat 26 then goes to 900
        (900/4.5 = 200 beats 1500/8.5 = 176.5 and ties the 500s, larger weight first). Nobody
        loses a seat when the house grows, unlike largest remainder (the 500s' 3 -> 2).
        """
        method = METHODS["webster"][0]
        assert split(method, [(25, ALABAMA), (26, ALABAMA)]) == [
            [8, 8, 4, 2, 2, 1],
            [8, 8, 5, 2, 2, 1],
        ]


groups_strategy = st.lists(
    st.tuples(
        st.integers(0, 60),
        st.lists(
            st.sampled_from([0.0, 1e-9, 1.0, 1.0, 2.0, 3.0, 7.5, 1e6, 1e12]),
            min_size=1,
            max_size=8,
        ).filter(any),
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.parametrize("name", sorted(METHODS))
@given(groups=groups_strategy)
def test_many_groups_match_the_reference(name, groups):
    """Each group of a batch gets exactly the seats the seat-by-seat reference gives it alone."""
    method, theta = METHODS[name]
    got = split(method, groups)
    for (total, weights), seats in zip(groups, got, strict=True):
        assert seats == divisor(total, weights, theta)
        assert sum(seats) == total


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_long_correction_in_one_group_among_settled_ones(name):
    """One group needing many correction rounds among many that settle at once: all exact."""
    method, theta = METHODS[name]
    settled = [(4, [1.0, 1.0, 1.0, 1.0])] * 9
    hard = (97, [1e-9, 1e12, 3.0, 1e12 * (1 + 2**-40), 2.0, 1e-9, 5.0, 1.0])
    groups = [*settled, hard, *settled]
    got = split(method, groups)
    assert got[0] == [1, 1, 1, 1]
    assert got[9] == divisor(*hard, theta)
    assert all(seats == [1, 1, 1, 1] for i, seats in enumerate(got) if i != 9)
