"""Edge cases of targetcascade._rules: what exact_fraction refuses."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from targetcascade._rules import exact_fraction


class TestExactFraction:
    def test_a_bool_is_not_a_number(self) -> None:
        """True is refused though it is an int to Python."""
        with pytest.raises(ValueError, match="True is not a number"):
            exact_fraction(True)

    def test_a_list_is_not_a_number(self) -> None:
        """A list is refused, shown in the message."""
        with pytest.raises(ValueError, match=r"\[1\] is not a number"):
            exact_fraction([1])

    def test_a_zero_denominator_is_not_a_number(self) -> None:
        """'1/0' is refused as not a number (not a raw ZeroDivisionError)."""
        with pytest.raises(ValueError, match="'1/0' is not a number"):
            exact_fraction("1/0")

    def test_decimals_and_floats_are_exact(self) -> None:
        """Decimal('0.1') and the float 0.1 both read as 1/10."""
        assert exact_fraction(Decimal("0.1")) == exact_fraction(0.1) == Fraction(1, 10)
