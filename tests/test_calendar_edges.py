"""Edge cases of targetcascade.calendar: label numbers of the wrong type, holidays in the repr."""

from __future__ import annotations

import datetime as dt

import pytest

from targetcascade.calendar import FiscalCalendar, PeriodLevel, format_label
from targetcascade.errors import PeriodError


class TestFormatLabel:
    @pytest.mark.parametrize("number", [1.0, True, "7"])
    def test_period_number_that_is_no_integer_is_refused(self, number: object) -> None:
        """A month number given as a float, a bool or a string is refused, naming it."""
        with pytest.raises(PeriodError, match=f"period number {number!r} is not an integer"):
            format_label(2027, PeriodLevel.MONTH, number)  # type: ignore[arg-type]


class TestFiscalCalendar:
    def test_repr_counts_one_holiday(self) -> None:
        """The repr shows a single holiday as a count, not the whole set."""
        calendar = FiscalCalendar(fiscal_year=2027, holidays=[dt.date(2027, 1, 1)])
        assert repr(calendar).endswith("holidays=<1 holiday>)")

    def test_repr_counts_several_holidays(self) -> None:
        """The repr shows several holidays (dates and ISO strings alike) as a plural count."""
        calendar = FiscalCalendar(fiscal_year=2027, holidays=[dt.date(2027, 1, 1), "2027-12-25"])
        assert repr(calendar).endswith("holidays=<2 holidays>)")

    def test_repr_without_holidays_shows_an_empty_set(self) -> None:
        """The repr of a calendar without holidays shows an empty frozenset."""
        assert repr(FiscalCalendar(fiscal_year=2027)).endswith("holidays=frozenset())")
