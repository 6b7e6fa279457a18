"""The fiscal calendar: one fiscal year and its period tree (year → quarters → months → weeks).

A :class:`FiscalCalendar` is a frozen value describing one fiscal year. Its periods partition the
year with no gap and no overlap: 4 quarters of 3 months each, and, for the week patterns, 52 or 53
whole weeks grouped into the months.

Months
    ``calendar``: the fiscal year starts on the 1st of ``start_month`` and its months are calendar
    months. ``4-4-5`` / ``4-5-4`` / ``5-4-4``: every month is a whole number of weeks, in that order
    within each quarter, so a quarter is 13 weeks (14 in the quarter holding the 53rd week).

Week-pattern years
    The year's last day is a ``week_end_day`` (0 = Monday … 6 = Sunday, as
    :meth:`datetime.date.weekday`) fixed by ``week_rule`` relative to the last day of the month
    before ``start_month``: ``last`` = the last such weekday on or before that day; ``nearest`` =
    the such weekday nearest to it (at most 3 days either side, so always unique). The year starts
    the day after the previous fiscal year's last day, so it has 52 weeks (364 days) or 53 weeks
    (371 days). In a 53-week year the extra week goes to fiscal month ``week53_month`` (default 12,
    the last month, as the NRF calendar does).

Year naming
    ``naming="end"`` (the default, as US federal, Apple and Microsoft reports name years) names a
    fiscal year by the calendar year in which it ends; ``naming="start"`` by the year in which it
    starts (the NRF retail calendar and Japanese fiscal years). "Ends"/"starts" refer to the nominal
    months: ``FY2023`` with ``start_month=2, naming="start"`` runs February 2023 to January 2024
    (for a week pattern its last week may spill a few days into February 2024). With
    ``start_month=1`` both namings give the same year.

Label scheme
    ======================  ===============  ==================================================
    period                  label            notes
    ======================  ===============  ==================================================
    year                    ``FY2027``       four-digit fiscal year
    quarter                 ``FY2027-Q3``    ``Q1`` … ``Q4``
    month                   ``FY2027-M07``   fiscal month ``M01`` … ``M12`` (two digits)
    week                    ``FY2027-W05``   week ``W01`` … ``W52`` / ``W53`` (week patterns only)
    ======================  ===============  ==================================================

    Labels are case-sensitive and have exactly one spelling, so they can serve as keys;
    :func:`parse_label` and :func:`format_label` convert both ways.

Example:
    The NRF 4-5-4 retail fiscal year 2023 (53 weeks, 29 January 2023 - 3 February 2024):

    >>> import datetime as dt
    >>> nrf = FiscalCalendar.nrf(2023)
    >>> nrf.start, nrf.end, len(nrf.weeks)
    (datetime.date(2023, 1, 29), datetime.date(2024, 2, 3), 53)
    >>> [p.label for p in nrf.periods[:6]]
    ['FY2023', 'FY2023-Q1', 'FY2023-Q2', 'FY2023-Q3', 'FY2023-Q4', 'FY2023-M01']
    >>> nrf.period_of(dt.date(2023, 12, 25)).label
    'FY2023-M11'
    >>> parse_label("FY2023-W05")
    LabelParts(fiscal_year=2023, level=<PeriodLevel.WEEK: 3>, number=5)
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import functools
import itertools
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, NamedTuple, TypeVar, cast

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade.errors import CalendarError, PeriodError, SerializationError

__all__ = [
    "MAX_FISCAL_YEAR",
    "MIN_FISCAL_YEAR",
    "FiscalCalendar",
    "LabelParts",
    "Pattern",
    "Period",
    "PeriodLevel",
    "WeekRule",
    "YearNaming",
    "format_label",
    "parse_label",
]

#: Smallest fiscal year a calendar accepts (labels carry exactly four digits).
MIN_FISCAL_YEAR: Final = 1000
#: Largest fiscal year a calendar accepts; 9999 is excluded because a year named by its start could
#: end in the year 10000, which :class:`datetime.date` cannot represent.
MAX_FISCAL_YEAR: Final = 9998

_LABEL_RE: Final = re.compile(r"FY(\d{4})(?:-Q(\d)|-M(\d{2})|-W(\d{2}))?")
_LABEL_HINT: Final = "labels look like FY2027, FY2027-Q3, FY2027-M07 or FY2027-W05"
_ISO_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_ONE_DAY: Final = dt.timedelta(days=1)
_FIELDS: Final = (
    "fiscal_year",
    "start_month",
    "pattern",
    "week_end_day",
    "week_rule",
    "week53_month",
    "naming",
    "weekend",
    "holidays",
)


class Pattern(enum.Enum):
    """How the months of a fiscal year are cut: calendar months, or whole weeks per quarter.

    Example:
        >>> Pattern("4-5-4").weeks_per_month
        (4, 5, 4)
        >>> Pattern.CALENDAR.weeks_per_month is None
        True
    """

    CALENDAR = "calendar"
    P445 = "4-4-5"
    P454 = "4-5-4"
    P544 = "5-4-4"

    @property
    def weeks_per_month(self) -> tuple[int, int, int] | None:
        """Weeks in the first, second and third month of each quarter; None for calendar months."""
        if self is Pattern.CALENDAR:
            return None
        first, second, third = (int(part) for part in self.value.split("-"))
        return (first, second, third)

    @property
    def is_weekly(self) -> bool:
        """Whether months are whole weeks (and the calendar has week periods).

        Example:
            >>> Pattern.P445.is_weekly, Pattern.CALENDAR.is_weekly
            (True, False)
        """
        return self is not Pattern.CALENDAR


class WeekRule(enum.Enum):
    """Where a week-pattern fiscal year ends, relative to the last day of its final nominal month.

    ``LAST``: on the last ``week_end_day`` on or before that day. ``NEAREST``: on the
    ``week_end_day`` nearest to it, which may fall up to 3 days into the next month.

    Example:
        >>> WeekRule("nearest") is WeekRule.NEAREST
        True
    """

    LAST = "last"
    NEAREST = "nearest"


class PeriodLevel(enum.IntEnum):
    """Depth of a period in the tree; the integer is its depth (year 0 … week 3).

    Example:
        >>> PeriodLevel.MONTH > PeriodLevel.QUARTER
        True
    """

    YEAR = 0
    QUARTER = 1
    MONTH = 2
    WEEK = 3


class YearNaming(enum.Enum):
    """Which calendar year names a fiscal year: the one it starts in, or the one it ends in.

    Example:
        >>> FiscalCalendar(fiscal_year=2027, start_month=4, naming="end").start
        datetime.date(2026, 4, 1)
        >>> FiscalCalendar(fiscal_year=2027, start_month=4, naming="start").start
        datetime.date(2027, 4, 1)
    """

    START = "start"
    END = "end"


class LabelParts(NamedTuple):
    """A period label taken apart: ``FY2027-M07`` is ``(2027, PeriodLevel.MONTH, 7)``.

    ``number`` is the quarter, month or week number within the fiscal year, and 0 for the year.

    Example:
        >>> LabelParts(2027, PeriodLevel.QUARTER, 3).label
        'FY2027-Q3'
    """

    fiscal_year: int
    level: PeriodLevel
    number: int

    @property
    def label(self) -> str:
        """The label these parts spell (see :func:`format_label`)."""
        return format_label(self.fiscal_year, self.level, self.number)


_MAX_NUMBER: Final = {
    PeriodLevel.YEAR: 0,
    PeriodLevel.QUARTER: 4,
    PeriodLevel.MONTH: 12,
    PeriodLevel.WEEK: 53,
}


def parse_label(label: str) -> LabelParts:
    """Take a period label apart into fiscal year, level and number.

    Args:
        label: A label in the scheme of this module (``FY2027``, ``FY2027-Q3``, ``FY2027-M07``,
            ``FY2027-W05``).

    Returns:
        The fiscal year, the level and the number within the year (0 for the year itself).

    Raises:
        PeriodError: If the label does not follow the scheme, or its number is out of range
            (``Q5``, ``M13``, ``W54``, ``M00``).

    Example:
        >>> parse_label("FY2027-M07")
        LabelParts(fiscal_year=2027, level=<PeriodLevel.MONTH: 2>, number=7)
        >>> parse_label("FY2027")
        LabelParts(fiscal_year=2027, level=<PeriodLevel.YEAR: 0>, number=0)
    """
    if not isinstance(label, str):
        msg = f"period label {label!r} is a {type(label).__name__}, not a string"
        raise PeriodError(msg, hint=_LABEL_HINT)
    match = _LABEL_RE.fullmatch(label)
    if match is None:
        msg = f"malformed period label {label!r}"
        raise PeriodError(msg, period=label, hint=_LABEL_HINT)
    fiscal_year = int(match.group(1))
    quarter, month, week = match.group(2, 3, 4)
    if quarter is not None:
        level, number = PeriodLevel.QUARTER, int(quarter)
    elif month is not None:
        level, number = PeriodLevel.MONTH, int(month)
    elif week is not None:
        level, number = PeriodLevel.WEEK, int(week)
    else:
        level, number = PeriodLevel.YEAR, 0
    if level is not PeriodLevel.YEAR and not 1 <= number <= _MAX_NUMBER[level]:
        msg = (
            f"period label {label!r} has {level.name.lower()} number {number}, "
            f"outside 1..{_MAX_NUMBER[level]}"
        )
        raise PeriodError(msg, period=label, hint=_LABEL_HINT)
    return LabelParts(fiscal_year, level, number)


def format_label(fiscal_year: int, level: PeriodLevel | int, number: int = 0) -> str:
    """Spell the label of a period; the inverse of :func:`parse_label`.

    Args:
        fiscal_year: The fiscal year (four digits).
        level: The period's level.
        number: Quarter 1-4, month 1-12 or week 1-53 within the year; 0 for the year.

    Returns:
        The label, e.g. ``FY2027-M07``.

    Raises:
        PeriodError: If the year is not four digits or the number is out of range for the level.

    Example:
        >>> format_label(2027, PeriodLevel.MONTH, 7), format_label(2027, PeriodLevel.WEEK, 5)
        ('FY2027-M07', 'FY2027-W05')
        >>> format_label(2027, PeriodLevel.YEAR)
        'FY2027'
    """
    try:
        lvl = PeriodLevel(level)
    except ValueError:
        msg = f"unknown period level {level!r}"
        raise PeriodError(msg, hint="use a PeriodLevel: YEAR, QUARTER, MONTH, WEEK") from None
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        msg = f"fiscal year {fiscal_year!r} is not an integer"
        raise PeriodError(msg, hint=_LABEL_HINT)
    if not 1000 <= fiscal_year <= 9999:
        msg = f"fiscal year {fiscal_year} is not four digits"
        raise PeriodError(msg, hint=_LABEL_HINT)
    if isinstance(number, bool) or not isinstance(number, int):
        msg = f"period number {number!r} is not an integer"
        raise PeriodError(msg, hint=_LABEL_HINT)
    if lvl is PeriodLevel.YEAR:
        if number != 0:
            msg = f"the year FY{fiscal_year} takes number 0, not {number}"
            raise PeriodError(msg, hint=_LABEL_HINT)
        return f"FY{fiscal_year}"
    if not 1 <= number <= _MAX_NUMBER[lvl]:
        msg = (
            f"{lvl.name.lower()} number {number} of FY{fiscal_year} is outside "
            f"1..{_MAX_NUMBER[lvl]}"
        )
        raise PeriodError(msg, hint=_LABEL_HINT)
    if lvl is PeriodLevel.QUARTER:
        return f"FY{fiscal_year}-Q{number}"
    letter = "M" if lvl is PeriodLevel.MONTH else "W"
    return f"FY{fiscal_year}-{letter}{number:02d}"


def _check_period(instance: Period, attribute: attrs.Attribute[dt.date], value: Any) -> None:
    del attribute
    if value < instance.start:
        msg = (
            f"period {instance.label} ends on {value.isoformat()}, before its start "
            f"{instance.start.isoformat()}"
        )
        raise PeriodError(
            msg,
            period=instance.label,
            hint="give the last day (inclusive) on or after the first day",
        )


@attrs.frozen(kw_only=True)
class Period:
    """One node of the period tree: a year, quarter, month or week, with inclusive dates.

    Periods are made by :class:`FiscalCalendar`; they refer to their parent and children by label,
    so they stay small plain values.

    Attributes:
        label: The period's label (``FY2027-Q3``; see the module docs for the scheme).
        level: Year, quarter, month or week.
        start: First day, inclusive.
        end: Last day, inclusive.
        parent: Label of the parent period; None for the year.
        children: Labels of the child periods, in order (a month's weeks for week patterns; empty
            for calendar months and for weeks).
        index: Position in :attr:`FiscalCalendar.periods` (for a week: in
            :attr:`FiscalCalendar.weeks`).

    Example:
        >>> q3 = FiscalCalendar(fiscal_year=2027).period("FY2027-Q3")
        >>> q3.start, q3.end, q3.days, q3.parent, q3.children
        (datetime.date(2027, 7, 1), datetime.date(2027, 9, 30), 92, 'FY2027',
         ('FY2027-M07', 'FY2027-M08', 'FY2027-M09'))
        >>> str(q3)
        'FY2027-Q3'
    """

    label: str
    level: PeriodLevel
    start: dt.date
    end: dt.date = attrs.field(validator=_check_period)
    parent: str | None
    children: tuple[str, ...]
    index: int

    @property
    def days(self) -> int:
        """Number of calendar days in the period, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def number(self) -> int:
        """Quarter, month or week number within the fiscal year (0 for the year).

        Example:
            >>> FiscalCalendar(fiscal_year=2027).period("FY2027-M07").number
            7
        """
        return parse_label(self.label).number

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` lies in the period (both ends included).

        Example:
            >>> february = FiscalCalendar(fiscal_year=2027).period("FY2027-M02")
            >>> february.contains(dt.date(2027, 2, 28)), february.contains(dt.date(2027, 3, 1))
            (True, False)
        """
        return self.start <= _check_date(day) <= self.end

    def __str__(self) -> str:
        return self.label


# --- converters and validators: validate at the door, naming the field ------------------------

_E = TypeVar("_E", bound=enum.Enum)


def _enum_member(cls: type[_E], value: object, field: str) -> _E:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        for member in cls:
            if key in (str(member.value).lower(), member.name.lower()):
                return member
    allowed = ", ".join(repr(member.value) for member in cls)
    msg = f"unknown {field} {value!r}"
    raise CalendarError(msg, hint=f"use one of {allowed}")


def _to_pattern(value: Pattern | str) -> Pattern:
    return _enum_member(Pattern, value, "pattern")


def _to_week_rule(value: WeekRule | str) -> WeekRule:
    return _enum_member(WeekRule, value, "week_rule")


def _to_naming(value: YearNaming | str) -> YearNaming:
    return _enum_member(YearNaming, value, "naming")


def _as_int(value: Any) -> int:
    # Integral numbers (numpy ints included) become plain ints; anything else passes through so
    # the field's validator rejects it with a message naming the field.
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return cast("int", value)


def _int_between(low: int, high: int, hint: str) -> Any:
    def validate(instance: object, attribute: attrs.Attribute[int], value: Any) -> None:
        del instance
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{attribute.name} {value!r} is not an integer ({type(value).__name__})"
            raise CalendarError(msg, hint=hint)
        if not low <= value <= high:
            msg = f"{attribute.name} {value} is outside {low}..{high}"
            raise CalendarError(msg, hint=hint)

    return validate


def _to_weekend(value: Iterable[int]) -> frozenset[int]:
    hint = "give weekday numbers 0=Monday .. 6=Sunday, e.g. {5, 6} for Saturday and Sunday"
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        msg = f"weekend {value!r} is not a collection of weekday numbers"
        raise CalendarError(msg, hint=hint)
    days: set[int] = set()
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or not 0 <= item <= 6:
            msg = f"weekend day {item!r} is not a weekday number 0..6"
            raise CalendarError(msg, hint=hint)
        days.add(int(item))
    if len(days) == 7:
        raise CalendarError(
            "weekend covers all seven weekdays, so no period would have a working day",
            hint="leave at least one weekday out of weekend",
        )
    return frozenset(days)


def _to_holidays(value: Iterable[dt.date | str]) -> frozenset[dt.date]:
    hint = "give holidays as datetime.date objects or ISO strings 'YYYY-MM-DD'"
    if isinstance(value, (str, bytes, dt.date)) or not isinstance(value, Iterable):
        msg = f"holidays {value!r} is not a collection of dates"
        raise CalendarError(msg, hint=hint)
    days: set[dt.date] = set()
    for item in cast("Iterable[object]", value):  # the annotation is a promise, not a check
        if isinstance(item, dt.datetime):
            msg = f"holiday {item!r} is a datetime, not a date"
            raise CalendarError(msg, hint="pass its .date()")
        if isinstance(item, dt.date):
            days.add(item)
        elif isinstance(item, str) and _ISO_DATE_RE.fullmatch(item):
            try:
                days.add(dt.date.fromisoformat(item))
            except ValueError:
                msg = f"holiday {item!r} is not a valid date"
                raise CalendarError(msg, hint=hint) from None
        else:
            msg = f"holiday {item!r} is not a date"
            raise CalendarError(msg, hint=hint)
    return frozenset(days)


def _holidays_repr(value: frozenset[dt.date]) -> str:
    if not value:
        return "frozenset()"
    return f"<{len(value)} holiday{'' if len(value) == 1 else 's'}>"


# --- date arithmetic ---------------------------------------------------------------------------


def _add_months(first_of_month: dt.date, months: int) -> dt.date:
    total = first_of_month.year * 12 + first_of_month.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def _nominal_start(fiscal_year: int, start_month: int, naming: YearNaming) -> dt.date:
    year = fiscal_year if naming is YearNaming.START or start_month == 1 else fiscal_year - 1
    return dt.date(year, start_month, 1)


def _week_anchor(nominal_end: dt.date, week_end_day: int, rule: WeekRule) -> dt.date:
    back = (nominal_end.weekday() - week_end_day) % 7  # days back to the previous week_end_day
    if rule is WeekRule.LAST or back <= 3:
        return nominal_end - dt.timedelta(days=back)
    return nominal_end + dt.timedelta(days=7 - back)


class _Layout(NamedTuple):
    periods: tuple[Period, ...]
    weeks: tuple[Period, ...]
    by_label: Mapping[str, Period]
    month_starts: tuple[dt.date, ...]  # 13 entries: the 12 month starts and end + 1 day


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.flags.writeable = False
    return array


@attrs.frozen(kw_only=True)
class FiscalCalendar:
    """One fiscal year: its start month, month pattern, week rules, naming and working days.

    Equality, hashing and pickling use the parameters only; periods and arrays are computed on first
    use and cached. See the module docs for the label scheme, the week rules and the naming.

    Args:
        fiscal_year: The year's name (``2027`` for ``FY2027``), 1000..9998.
        start_month: Calendar month (1-12) in which the fiscal year nominally starts.
        pattern: ``"calendar"`` months or a week pattern ``"4-4-5"``, ``"4-5-4"``, ``"5-4-4"``.
        week_end_day: Weekday on which weeks end, 0 = Monday … 6 = Sunday (week patterns only).
        week_rule: ``"last"`` or ``"nearest"``: how the year's last day is found (week patterns).
        week53_month: Fiscal month (1-12) that takes the 53rd week in a 53-week year.
        naming: ``"end"`` (default) or ``"start"``: whether ``fiscal_year`` is the calendar year in
            which the year nominally ends or starts.
        weekend: Weekdays that are never working days (default Saturday and Sunday).
        holidays: Dates that are not working days; dates outside the year are allowed and ignored,
            so one list can serve several years.

    Raises:
        CalendarError: If a parameter is out of range or of the wrong kind; the message names it.

    Example:
        >>> cal = FiscalCalendar(fiscal_year=2027, start_month=4)
        >>> cal.label, cal.start, cal.end
        ('FY2027', datetime.date(2026, 4, 1), datetime.date(2027, 3, 31))
        >>> cal.period("FY2027-Q3").start
        datetime.date(2026, 10, 1)
        >>> FiscalCalendar(fiscal_year=2027, start_month=13)
        Traceback (most recent call last):
        ...
        targetcascade.errors.CalendarError: start_month 13 is outside 1..12; ...
    """

    fiscal_year: int = attrs.field(
        converter=_as_int,
        validator=_int_between(
            MIN_FISCAL_YEAR, MAX_FISCAL_YEAR, "give the fiscal year as a four-digit integer"
        ),
    )
    start_month: int = attrs.field(
        default=1,
        converter=_as_int,
        validator=_int_between(1, 12, "give the calendar month 1=January .. 12=December"),
    )
    pattern: Pattern = attrs.field(default=Pattern.CALENDAR, converter=_to_pattern)
    week_end_day: int = attrs.field(
        default=5,
        converter=_as_int,
        validator=_int_between(0, 6, "give the weekday weeks end on, 0=Monday .. 6=Sunday"),
    )
    week_rule: WeekRule = attrs.field(default=WeekRule.LAST, converter=_to_week_rule)
    week53_month: int = attrs.field(
        default=12,
        converter=_as_int,
        validator=_int_between(1, 12, "give the fiscal month 1..12 that takes the 53rd week"),
    )
    naming: YearNaming = attrs.field(default=YearNaming.END, converter=_to_naming)
    weekend: frozenset[int] = attrs.field(default=frozenset({5, 6}), converter=_to_weekend)
    holidays: frozenset[dt.date] = attrs.field(
        default=frozenset(), converter=_to_holidays, repr=_holidays_repr
    )

    #: :func:`parse_label`, reachable from the class.
    parse_label = staticmethod(parse_label)
    #: :func:`format_label`, reachable from the class.
    format_label = staticmethod(format_label)

    # --- constructors ---------------------------------------------------------------------------

    @classmethod
    def nrf(cls, fiscal_year: int, **overrides: Any) -> FiscalCalendar:
        """The US National Retail Federation 4-5-4 calendar.

        Weeks end on Saturday; the year ends on the Saturday nearest 31 January and is named by the
        calendar year in which it starts; the 53rd week goes to the last month (January).

        Args:
            fiscal_year: The NRF fiscal year (``2023`` runs 29 Jan 2023 - 3 Feb 2024).
            **overrides: Other fields to set (``holidays``, ``weekend``, …).

        Returns:
            The calendar.

        Example:
            >>> FiscalCalendar.nrf(2024).start
            datetime.date(2024, 2, 4)
        """
        params: dict[str, Any] = {
            "start_month": 2,
            "pattern": Pattern.P454,
            "week_end_day": 5,
            "week_rule": WeekRule.NEAREST,
            "week53_month": 12,
            "naming": YearNaming.START,
        }
        _check_fields(overrides, "FiscalCalendar.nrf")
        params.update(overrides)
        return cls(fiscal_year=fiscal_year, **params)

    @classmethod
    def for_date(cls, day: dt.date, **params: Any) -> FiscalCalendar:
        """The calendar, with the given parameters, of the fiscal year that contains ``day``.

        Args:
            day: Any date.
            **params: The calendar's other fields (``start_month``, ``pattern``, …).

        Returns:
            The calendar whose year contains ``day``.

        Raises:
            PeriodError: If ``day`` is not a date.
            CalendarError: If a parameter is invalid or the year is out of range.

        Example:
            >>> FiscalCalendar.for_date(dt.date(2026, 5, 20), start_month=4).label
            'FY2027'
        """
        checked = _check_date(day)
        _check_fields(params, "FiscalCalendar.for_date")
        year = min(max(checked.year, MIN_FISCAL_YEAR), MAX_FISCAL_YEAR)
        cal = cls(fiscal_year=year, **params)
        while checked < cal.start:
            cal = cal.previous()
        while checked > cal.end:
            cal = cal.next()
        return cal

    def previous(self) -> FiscalCalendar:
        """The calendar of the fiscal year before this one, with the same parameters.

        Example:
            >>> FiscalCalendar.nrf(2023).previous().end
            datetime.date(2023, 1, 28)
        """
        return attrs.evolve(self, fiscal_year=self.fiscal_year - 1)

    def next(self) -> FiscalCalendar:
        """The calendar of the fiscal year after this one, with the same parameters.

        Example:
            >>> FiscalCalendar.nrf(2023).next().start
            datetime.date(2024, 2, 4)
        """
        return attrs.evolve(self, fiscal_year=self.fiscal_year + 1)

    # --- the year -------------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """The year's label, e.g. ``FY2027``."""
        return f"FY{self.fiscal_year}"

    @functools.cached_property
    def _bounds(self) -> tuple[dt.date, dt.date]:
        nominal_start = _nominal_start(self.fiscal_year, self.start_month, self.naming)
        if not self.pattern.is_weekly:
            return nominal_start, _add_months(nominal_start, 12) - _ONE_DAY
        end = _week_anchor(
            _add_months(nominal_start, 12) - _ONE_DAY, self.week_end_day, self.week_rule
        )
        previous_end = _week_anchor(nominal_start - _ONE_DAY, self.week_end_day, self.week_rule)
        return previous_end + _ONE_DAY, end

    @property
    def start(self) -> dt.date:
        """First day of the fiscal year."""
        return self._bounds[0]

    @property
    def end(self) -> dt.date:
        """Last day of the fiscal year (inclusive)."""
        return self._bounds[1]

    # --- the period tree ------------------------------------------------------------------------

    @functools.cached_property
    def _layout(self) -> _Layout:
        start, end = self._bounds
        year = self.label
        weekly = self.pattern.weeks_per_month
        if weekly is None:
            month_starts = (*(_add_months(start, k) for k in range(12)), end + _ONE_DAY)
            month_weeks: list[int] = []
        else:
            month_weeks = list(weekly * 4)
            n_weeks = ((end - start).days + 1) // 7
            if n_weeks == 53:
                month_weeks[self.week53_month - 1] += 1
            month_starts = tuple(
                start + dt.timedelta(weeks=w) for w in itertools.accumulate(month_weeks, initial=0)
            )

        quarters = [f"{year}-Q{q}" for q in range(1, 5)]
        months = [f"{year}-M{m:02d}" for m in range(1, 13)]
        weeks: list[Period] = []
        month_children: list[tuple[str, ...]] = []
        for m, n in enumerate(month_weeks):
            labels = []
            for _ in range(n):
                number = len(weeks) + 1
                week_start = start + dt.timedelta(weeks=number - 1)
                label = f"{year}-W{number:02d}"
                labels.append(label)
                weeks.append(
                    Period(
                        label=label,
                        level=PeriodLevel.WEEK,
                        start=week_start,
                        end=week_start + dt.timedelta(days=6),
                        parent=months[m],
                        children=(),
                        index=number - 1,
                    )
                )
            month_children.append(tuple(labels))
        if not month_children:
            month_children = [()] * 12

        periods = [
            Period(
                label=year,
                level=PeriodLevel.YEAR,
                start=start,
                end=end,
                parent=None,
                children=tuple(quarters),
                index=0,
            )
        ]
        periods.extend(
            Period(
                label=quarters[q],
                level=PeriodLevel.QUARTER,
                start=month_starts[3 * q],
                end=month_starts[3 * q + 3] - _ONE_DAY,
                parent=year,
                children=tuple(months[3 * q : 3 * q + 3]),
                index=1 + q,
            )
            for q in range(4)
        )
        periods.extend(
            Period(
                label=months[m],
                level=PeriodLevel.MONTH,
                start=month_starts[m],
                end=month_starts[m + 1] - _ONE_DAY,
                parent=quarters[m // 3],
                children=month_children[m],
                index=5 + m,
            )
            for m in range(12)
        )
        by_label = {p.label: p for p in periods}
        by_label.update((w.label, w) for w in weeks)
        return _Layout(tuple(periods), tuple(weeks), by_label, month_starts)

    @property
    def periods(self) -> tuple[Period, ...]:
        """The grid's periods, breadth first: ``[year, Q1..Q4, M01..M12]`` (17; weeks excluded).

        Example:
            >>> [p.label for p in FiscalCalendar(fiscal_year=2027).periods][-1]
            'FY2027-M12'
        """
        return self._layout.periods

    @property
    def weeks(self) -> tuple[Period, ...]:
        """The 52 or 53 week periods of a week pattern, in order; empty for calendar months.

        Example:
            >>> len(FiscalCalendar(fiscal_year=2027, pattern="4-4-5").weeks)
            52
        """
        return self._layout.weeks

    def period(self, label: str) -> Period:
        """The period with this label, at any level (weeks included).

        Args:
            label: A period label of this fiscal year.

        Returns:
            The period.

        Raises:
            PeriodError: If the label is malformed, belongs to another fiscal year, or names a week
                this calendar does not have.

        Example:
            >>> FiscalCalendar(fiscal_year=2027).period("FY2027-M02").end
            datetime.date(2027, 2, 28)
        """
        key: object = label  # callers may pass anything; only a str can be a label
        found = self._layout.by_label.get(key) if isinstance(key, str) else None
        if found is not None:
            return found
        parts = parse_label(label)  # raises on a malformed label
        if parts.fiscal_year != self.fiscal_year:
            msg = (
                f"period {label} belongs to FY{parts.fiscal_year}, not to this calendar's "
                f"{self.label}"
            )
            raise PeriodError(
                msg,
                period=label,
                hint="use .previous() / .next() or a FiscalCalendar for that fiscal year",
            )
        # A well-formed label of this year that is not in the tree can only be a missing week.
        if not self.pattern.is_weekly:
            msg = f"period {label} does not exist: {self.label} has calendar months, not weeks"
            raise PeriodError(
                msg,
                period=label,
                hint="use a week pattern ('4-4-5', '4-5-4', '5-4-4') to get week periods",
            )
        msg = f"period {label} does not exist: {self.label} has {len(self.weeks)} weeks"
        raise PeriodError(
            msg, period=label, hint=f"weeks run from {self.label}-W01 to {self.weeks[-1].label}"
        )

    def index(self, label: str) -> int:
        """Position of a year, quarter or month label in :attr:`periods`.

        Raises:
            PeriodError: If the label is unknown, or is a week (weeks are not in the grid; use
                ``period(label).index`` for its position in :attr:`weeks`).

        Example:
            >>> FiscalCalendar(fiscal_year=2027).index("FY2027-M01")
            5
        """
        found = self.period(label)
        if found.level is PeriodLevel.WEEK:
            msg = f"week {label} is not one of the grid's periods (year, quarters, months)"
            raise PeriodError(
                msg,
                period=label,
                hint="use calendar.period(label).index for its position in calendar.weeks",
            )
        return found.index

    def period_of(self, day: dt.date, level: PeriodLevel | int = PeriodLevel.MONTH) -> Period:
        """The period at ``level`` that contains ``day``.

        Args:
            day: A date within this fiscal year.
            level: Year, quarter, month (default) or week.

        Returns:
            The period containing ``day``.

        Raises:
            PeriodError: If ``day`` is not a date or lies outside the year, or ``level`` is WEEK on
                a calendar-month calendar.

        Example:
            >>> cal = FiscalCalendar(fiscal_year=2027, start_month=4)
            >>> cal.period_of(dt.date(2026, 12, 31)).label
            'FY2027-M09'
            >>> cal.period_of(dt.date(2026, 12, 31), PeriodLevel.QUARTER).label
            'FY2027-Q3'
        """
        checked = _check_date(day)
        try:
            lvl = PeriodLevel(level)
        except ValueError:
            msg = f"unknown period level {level!r}"
            raise PeriodError(msg, hint="use a PeriodLevel: YEAR, QUARTER, MONTH or WEEK") from None
        start, end = self._bounds
        if not start <= checked <= end:
            msg = (
                f"date {checked.isoformat()} is outside {self.label} "
                f"({start.isoformat()} to {end.isoformat()})"
            )
            raise PeriodError(
                msg,
                period=self.label,
                hint="use FiscalCalendar.for_date(day, ...) or .previous() / .next() for the "
                "calendar of the year that contains it",
            )
        layout = self._layout
        if lvl is PeriodLevel.YEAR:
            return layout.periods[0]
        if lvl is PeriodLevel.WEEK:
            if not layout.weeks:
                msg = (
                    f"{self.label} has calendar months, not weeks, so {checked.isoformat()} "
                    "has no week period"
                )
                raise PeriodError(msg, period=self.label, hint="use a week pattern, or level MONTH")
            return layout.weeks[(checked - start).days // 7]
        month = bisect.bisect_right(layout.month_starts, checked) - 1
        if lvl is PeriodLevel.MONTH:
            return layout.periods[5 + month]
        return layout.periods[1 + month // 3]

    # --- days and working days ------------------------------------------------------------------

    @functools.cached_property
    def _weekmask(self) -> str:
        return "".join("0" if d in self.weekend else "1" for d in range(7))

    @functools.cached_property
    def _holiday_array(self) -> npt.NDArray[np.datetime64]:
        return np.array(sorted(self.holidays), dtype="datetime64[D]")

    def _working_days(
        self, starts: npt.NDArray[np.datetime64], ends: npt.NDArray[np.datetime64]
    ) -> npt.NDArray[np.int64]:
        counts = np.busday_count(
            starts,
            ends + np.timedelta64(1, "D"),
            weekmask=self._weekmask,
            holidays=self._holiday_array,
        )
        return np.asarray(counts, dtype=np.int64)

    def days(self, label: str) -> int:
        """Calendar days in the period ``label`` (any level).

        Example:
            >>> FiscalCalendar(fiscal_year=2028).days("FY2028-M02")
            29
        """
        return self.period(label).days

    def working_days(self, label: str) -> int:
        """Working days in the period ``label``: days not in :attr:`weekend` and not holidays.

        Example:
            >>> cal = FiscalCalendar(fiscal_year=2027, holidays=[dt.date(2027, 1, 1)])
            >>> cal.working_days("FY2027-M01")  # 21 weekdays in January 2027, less New Year's Day
            20
        """
        found = self.period(label)
        start = np.array([found.start], dtype="datetime64[D]")
        end = np.array([found.end], dtype="datetime64[D]")
        return int(self._working_days(start, end)[0])

    # --- compiled arrays for the engine ---------------------------------------------------------

    @functools.cached_property
    def _date_arrays(self) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.datetime64]]:
        periods = self._layout.periods
        starts = np.array([p.start for p in periods], dtype="datetime64[D]")
        ends = np.array([p.end for p in periods], dtype="datetime64[D]")
        return starts, ends

    @functools.cached_property
    def parent_index(self) -> npt.NDArray[np.int64]:
        """Position of each period's parent in :attr:`periods` (-1 for the year); read-only.

        Example:
            >>> FiscalCalendar(fiscal_year=2027).parent_index.tolist()
            [-1, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
        """
        by_label = self._layout.by_label
        parents = [-1 if p.parent is None else by_label[p.parent].index for p in self.periods]
        return _readonly(np.array(parents, dtype=np.int64))

    @functools.cached_property
    def child_offsets(self) -> npt.NDArray[np.int64]:
        """CSR offsets: the children of period ``i`` are ``periods[off[i]:off[i + 1]]``; read-only.

        Months have no children in :attr:`periods` (weeks are not in the grid), so their ranges are
        empty.

        Example:
            >>> FiscalCalendar(fiscal_year=2027).child_offsets.tolist()[:7]
            [1, 5, 8, 11, 14, 17, 17]
        """
        n = len(self.periods)
        counts = np.bincount(self.parent_index[1:], minlength=n)
        # Breadth-first order puts the children of period i right after those of periods < i,
        # starting at position 1 (after the year).
        offsets = 1 + np.concatenate([[0], np.cumsum(counts)])
        return _readonly(offsets.astype(np.int64))

    @functools.cached_property
    def level_array(self) -> npt.NDArray[np.int8]:
        """The :class:`PeriodLevel` of each period in :attr:`periods`, as int8; read-only.

        Example:
            >>> FiscalCalendar(fiscal_year=2027).level_array.tolist()[:6]
            [0, 1, 1, 1, 1, 2]
        """
        return _readonly(np.array([int(p.level) for p in self.periods], dtype=np.int8))

    @functools.cached_property
    def _days_array(self) -> npt.NDArray[np.int64]:
        starts, ends = self._date_arrays
        return _readonly((ends - starts).astype(np.int64) + 1)

    @functools.cached_property
    def _working_days_array(self) -> npt.NDArray[np.int64]:
        return _readonly(self._working_days(*self._date_arrays))

    def days_array(self) -> npt.NDArray[np.int64]:
        """Calendar days of each period in :attr:`periods`; read-only.

        Example:
            >>> FiscalCalendar(fiscal_year=2027).days_array()[:5].tolist()
            [365, 90, 91, 92, 92]
        """
        return self._days_array

    def working_days_array(self) -> npt.NDArray[np.int64]:
        """Working days of each period in :attr:`periods`; read-only.

        Example:
            >>> FiscalCalendar(fiscal_year=2027).working_days_array()[:5].tolist()
            [261, 64, 65, 66, 66]
        """
        return self._working_days_array

    # --- serialisation --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the parameters; :meth:`from_dict` restores the calendar exactly.

        Example:
            >>> d = FiscalCalendar.nrf(2023).to_dict()
            >>> d["pattern"], d["naming"], d["weekend"]
            ('4-5-4', 'start', [5, 6])
        """
        return {
            "fiscal_year": self.fiscal_year,
            "start_month": self.start_month,
            "pattern": self.pattern.value,
            "week_end_day": self.week_end_day,
            "week_rule": self.week_rule.value,
            "week53_month": self.week53_month,
            "naming": self.naming.value,
            "weekend": sorted(self.weekend),
            "holidays": [day.isoformat() for day in sorted(self.holidays)],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FiscalCalendar:
        """Rebuild a calendar from :meth:`to_dict` output; missing optional keys take defaults.

        Raises:
            SerializationError: If ``data`` is not a mapping, lacks ``fiscal_year`` or has a key
                that is not a calendar field.
            CalendarError: If a field's value is invalid.

        Example:
            >>> cal = FiscalCalendar.nrf(2023, holidays=["2023-11-23"])
            >>> FiscalCalendar.from_dict(cal.to_dict()) == cal
            True
        """
        if not isinstance(data, Mapping):
            msg = f"a calendar dict must be a mapping, got {type(data).__name__}"
            raise SerializationError(msg, hint="pass the output of FiscalCalendar.to_dict()")
        unknown = sorted(str(key) for key in data if key not in _FIELDS)
        if unknown:
            msg = f"unknown calendar field(s) {', '.join(map(repr, unknown))}"
            raise SerializationError(msg, hint=f"calendar fields are {', '.join(_FIELDS)}")
        if "fiscal_year" not in data:
            raise SerializationError(
                "calendar dict has no 'fiscal_year'", hint="add e.g. 'fiscal_year': 2027"
            )
        return cls(**dict(data))


def _check_fields(params: Mapping[str, Any], where: str) -> None:
    """Refuse keywords that are not calendar fields (``fiscal_year`` is the method's own)."""
    unknown = sorted(set(params) - set(_FIELDS[1:]))
    if unknown:
        allowed = ", ".join(_FIELDS[1:])
        raise CalendarError(
            f"{where}() got unknown calendar field(s) {', '.join(map(repr, unknown))}",
            hint=f"calendar fields are {allowed}; the fiscal year comes from the method",
        )


def _check_date(day: object) -> dt.date:
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        msg = f"{day!r} is not a date ({type(day).__name__})"
        raise PeriodError(msg, hint="pass a datetime.date (for a datetime, its .date())")
    return day
