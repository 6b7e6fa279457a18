"""Hypothesis strategy for fiscal calendars, for property-testing code that takes a calendar.

Re-exported as ``targetcascade.testing.calendars``.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from targetcascade.calendar import FiscalCalendar, Pattern, WeekRule, YearNaming

__all__ = ["calendars"]

_DEFAULT_YEARS: Final = st.integers(2000, 2060)
_DEFAULT_PATTERNS: Final = st.sampled_from(Pattern)
# Mostly the usual Saturday + Sunday, sometimes any weekend that leaves a working day (even none).
_WEEKENDS: Final = st.one_of(
    st.just(frozenset({5, 6})), st.frozensets(st.integers(0, 6), max_size=6)
)
_MARGIN: Final = dt.timedelta(days=10)


def calendars(
    fiscal_years: st.SearchStrategy[int] = _DEFAULT_YEARS,
    patterns: st.SearchStrategy[Pattern] = _DEFAULT_PATTERNS,
) -> st.SearchStrategy[FiscalCalendar]:
    """Fiscal calendars over every start month, pattern, week rule, weekday, naming and weekend.

    About half the week-pattern calendars drawn are 53-week years: for those the strategy picks a
    ``week_end_day`` that gives the drawn year 53 weeks (for any year, start month and rule at least
    one weekday does), so long years are never left to chance. Holidays are drawn from the year and
    a few days either side of it, so some fall outside the year, as shared holiday lists do.

    Args:
        fiscal_years: Strategy for the fiscal year (the calendar's name, not its start year).
        patterns: Strategy for the month pattern.

    Returns:
        A strategy producing valid :class:`~targetcascade.calendar.FiscalCalendar` values.

    Raises:
        hypothesis.errors.InvalidArgument: If an argument is not a hypothesis strategy.

    Example:
        Use it with ``@given`` in a test::

            from hypothesis import given, strategies as st
            from targetcascade.calendar import Pattern
            from targetcascade.testing import calendars

            @given(calendars(patterns=st.just(Pattern.P454)))
            def test_my_report_covers_the_year(cal):
                assert sum(my_report(cal).days) == cal.period(cal.label).days

        >>> isinstance(calendars(fiscal_years=st.just(2027)), st.SearchStrategy)
        True
    """
    for name, value in (("fiscal_years", fiscal_years), ("patterns", patterns)):
        if not isinstance(value, st.SearchStrategy):
            msg = f"calendars({name}=...) needs a hypothesis strategy, got {value!r}"
            raise InvalidArgument(msg)
    return _calendars(fiscal_years, patterns)


@st.composite
def _calendars(
    draw: st.DrawFn,
    fiscal_years: st.SearchStrategy[int],
    patterns: st.SearchStrategy[Pattern],
) -> FiscalCalendar:
    pattern = draw(patterns)
    cal = FiscalCalendar(
        fiscal_year=draw(fiscal_years),
        start_month=draw(st.integers(1, 12)),
        pattern=pattern,
        week_end_day=draw(st.integers(0, 6)),
        week_rule=draw(st.sampled_from(WeekRule)),
        week53_month=draw(st.integers(1, 12)),
        naming=draw(st.sampled_from(YearNaming)),
        weekend=draw(_WEEKENDS),
    )
    if pattern.is_weekly and draw(st.booleans()):
        long_days = [
            day for day in range(7) if _is_53_week_year(attrs.evolve(cal, week_end_day=day))
        ]
        cal = attrs.evolve(cal, week_end_day=draw(st.sampled_from(long_days)))
    holidays = draw(
        st.frozensets(
            st.dates(min_value=cal.start - _MARGIN, max_value=cal.end + _MARGIN), max_size=12
        )
    )
    return attrs.evolve(cal, holidays=holidays)


def _is_53_week_year(cal: FiscalCalendar) -> bool:
    return (cal.end - cal.start).days + 1 == 53 * 7
