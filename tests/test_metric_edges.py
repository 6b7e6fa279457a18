"""Edge cases of targetcascade.metric: amounts with very many digits in error messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from targetcascade.errors import QuantumError
from targetcascade.metric import Metric
from targetcascade.units import define_count_unit, parse_quantity


class TestMetric:
    def test_many_digit_decimal_off_the_quantum_is_shown_short(self) -> None:
        """A 46-digit Decimal off the quantum is refused with the value shown in 7 digits."""
        revenue = Metric(name="revenue", unit="CNY", quantum="0.01")
        with pytest.raises(QuantumError) as info:
            revenue.to_quanta(Decimal("1." + "1" * 45))
        message = str(info.value)
        assert message.startswith("1.111111E+0 is not a whole number of revenue's quantum 0.01 CNY")
        assert "1" * 20 not in message

    def test_short_decimal_off_the_quantum_is_shown_in_full(self) -> None:
        """A Decimal with few digits off the quantum is shown as typed."""
        revenue = Metric(name="revenue", unit="CNY", quantum="0.01")
        with pytest.raises(QuantumError, match=r"^1\.234 is not a whole number"):
            revenue.to_quanta(Decimal("1.234"))


class TestDefineCountUnit:
    def test_name_ending_in_s_that_is_no_plural_is_defined(self) -> None:
        """A count unit ending in 's' whose stem is no unit ('kudos') becomes its own dimension."""
        define_count_unit("kudos")
        quantity = parse_quantity("2 kudos")
        assert quantity.magnitude == 2
        assert str(quantity.dimensionality) == "[count_kudos]"
