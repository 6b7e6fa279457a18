"""Tests for targetcascade.calendar: the fiscal calendar and its period tree.

Published facts used here (each test says which it checks):

* NRF 4-5-4 calendar: fiscal 2023 ran Sunday 29 January 2023 to Saturday 3 February 2024 and had
  53 weeks (https://www.retaildogma.com/retail-calendar/ ; Coresight Research, "The 4-5-4 US Retail
  Calendar, 2023-24": "the fiscal year ending February 3, 2024. Fiscal 2023 comprises 53 weeks ...
  most recently occurred in fiscal 2017"). NRF's own page lists the 53-week years as FY'00, FY'06,
  FY'12, FY'17 (https://www.nrf.com/modules.php?name=Pages&sp_id=391) and FY'23
  (https://www.nrf.com/resources/4-5-4-calendar).
* Apple's fiscal year is the 52/53-week period ending on the last Saturday of September (Apple
  Form 10-K). Year bounds from the table in https://rigelkent.blogspot.com/2024/08/
  the-544-fiscal-calendar-used-by-apple.html: FY2005 26 Sep 2004 - 24 Sep 2005, FY2017 25 Sep 2016
  - 30 Sep 2017, FY2023 25 Sep 2022 - 30 Sep 2023, FY2024 1 Oct 2023 - 28 Sep 2024; the extra
  week of a 53-week year lands in the December quarter, which then has 14 weeks (Dr. Drang,
  "Apple's fiscal quarters", 4 Feb 2017, on Q1 FY2017;
  https://calendars.fandom.com/wiki/Apple_Fiscal_Calendar).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import pickle
import re

import attrs
import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from targetcascade.calendar import (
    MAX_FISCAL_YEAR,
    MIN_FISCAL_YEAR,
    FiscalCalendar,
    LabelParts,
    Pattern,
    Period,
    PeriodLevel,
    WeekRule,
    YearNaming,
    format_label,
    parse_label,
)
from targetcascade.errors import CalendarError, PeriodError, SerializationError
from targetcascade.testing._calendars import calendars

D = dt.date
ONE_DAY = dt.timedelta(days=1)


def apple(fiscal_year: int) -> FiscalCalendar:
    # Apple: year ends on the last Saturday of September, named by the year it ends in, 5-4-4
    # months, the 53rd week in the December quarter (fiscal month 3 = December).
    return FiscalCalendar(
        fiscal_year=fiscal_year,
        start_month=10,
        pattern="5-4-4",
        week_end_day=5,
        week_rule="last",
        week53_month=3,
        naming="end",
    )


def nominal_end(cal: FiscalCalendar) -> dt.date:
    """Last day of the month before start_month, in the calendar year the naming rule says."""
    if cal.start_month == 1:
        return D(cal.fiscal_year, 12, 31)
    end_year = cal.fiscal_year if cal.naming is YearNaming.END else cal.fiscal_year + 1
    return D(end_year, cal.start_month, 1) - ONE_DAY


def levels(cal: FiscalCalendar) -> dict[PeriodLevel, list[Period]]:
    by_level: dict[PeriodLevel, list[Period]] = {level: [] for level in PeriodLevel}
    for period in (*cal.periods, *cal.weeks):
        by_level[period.level].append(period)
    return by_level


class TestPattern:
    def test_weeks_per_month_follow_the_name(self):
        """A week pattern gives the weeks of a quarter's three months in its name's order."""
        assert Pattern.P445.weeks_per_month == (4, 4, 5)
        assert Pattern.P454.weeks_per_month == (4, 5, 4)
        assert Pattern.P544.weeks_per_month == (5, 4, 4)
        assert Pattern.CALENDAR.weeks_per_month is None

    def test_strings_convert(self):
        """The calendar accepts pattern strings by value or name, any case."""
        assert FiscalCalendar(fiscal_year=2027, pattern="4-4-5").pattern is Pattern.P445
        assert FiscalCalendar(fiscal_year=2027, pattern="P544").pattern is Pattern.P544
        assert FiscalCalendar(fiscal_year=2027, pattern="Calendar").pattern is Pattern.CALENDAR


class TestWeekRule:
    def test_last_and_nearest_differ_when_the_month_ends_midweek(self):
        """LAST stays in the month; NEAREST may cross into the next (31 Jan 2024 is a Wednesday)."""
        common = {"start_month": 2, "pattern": "4-5-4", "naming": "start", "week_end_day": 5}
        assert FiscalCalendar(fiscal_year=2023, week_rule="last", **common).end == D(2024, 1, 27)
        assert FiscalCalendar(fiscal_year=2023, week_rule="nearest", **common).end == D(2024, 2, 3)


class TestPeriodLevel:
    def test_levels_are_depths(self):
        """Levels order as depths in the tree, year 0 to week 3."""
        assert [int(level) for level in PeriodLevel] == [0, 1, 2, 3]
        assert PeriodLevel.YEAR < PeriodLevel.QUARTER < PeriodLevel.MONTH < PeriodLevel.WEEK


class TestYearNaming:
    def test_start_month_january_is_the_calendar_year_either_way(self):
        """With start_month 1, FY2027 is calendar 2027 under both namings."""
        for naming in YearNaming:
            cal = FiscalCalendar(fiscal_year=2027, naming=naming)
            assert (cal.start, cal.end) == (D(2027, 1, 1), D(2027, 12, 31))

    def test_end_naming_is_the_default(self):
        """By default a year is named by the year it ends in (FY2027 = Apr 2026 - Mar 2027)."""
        cal = FiscalCalendar(fiscal_year=2027, start_month=4)
        assert cal.naming is YearNaming.END
        assert (cal.start, cal.end) == (D(2026, 4, 1), D(2027, 3, 31))

    def test_start_naming(self):
        """naming='start' names a year by the year it starts in (Japan: FY2027 from April 2027)."""
        cal = FiscalCalendar(fiscal_year=2027, start_month=4, naming="start")
        assert (cal.start, cal.end) == (D(2027, 4, 1), D(2028, 3, 31))


class TestParseLabel:
    @pytest.mark.parametrize(
        ("label", "parts"),
        [
            ("FY2027", (2027, PeriodLevel.YEAR, 0)),
            ("FY2027-Q3", (2027, PeriodLevel.QUARTER, 3)),
            ("FY2027-M07", (2027, PeriodLevel.MONTH, 7)),
            ("FY2027-M12", (2027, PeriodLevel.MONTH, 12)),
            ("FY2027-W05", (2027, PeriodLevel.WEEK, 5)),
            ("FY2023-W53", (2023, PeriodLevel.WEEK, 53)),
        ],
    )
    def test_documented_labels_parse(self, label, parts):
        """Every documented label form parses into (fiscal year, level, number)."""
        assert parse_label(label) == parts
        assert FiscalCalendar.parse_label(label) == parts

    @pytest.mark.parametrize(
        "label",
        [
            "fy2027",
            "FY27",
            "FY2027-Q5",
            "FY2027-Q0",
            "FY2027-M13",
            "FY2027-M00",
            "FY2027-M7",
            "FY2027-W54",
            "FY2027-W00",
            "FY2027-W5",
            "FY2027-Q3 ",
            "FY2027-H1",
            "",
        ],
    )
    def test_malformed_labels_raise_naming_the_label(self, label):
        """A malformed or out-of-range label raises PeriodError quoting it, the scheme as hint."""
        with pytest.raises(PeriodError, match=re.escape(repr(label))) as info:
            parse_label(label)
        assert "FY2027-M07" in str(info.value)  # the hint shows the scheme

    def test_non_string_raises(self):
        """A label that is not a string raises PeriodError naming it."""
        with pytest.raises(PeriodError, match="2027"):
            parse_label(2027)  # type: ignore[arg-type]


class TestFormatLabel:
    def test_formats_every_level(self):
        """Labels are spelled FY2027, FY2027-Q3, FY2027-M07, FY2027-W05."""
        assert format_label(2027, PeriodLevel.YEAR) == "FY2027"
        assert format_label(2027, PeriodLevel.QUARTER, 3) == "FY2027-Q3"
        assert format_label(2027, PeriodLevel.MONTH, 7) == "FY2027-M07"
        assert format_label(2027, 3, 5) == "FY2027-W05"
        assert LabelParts(2027, PeriodLevel.MONTH, 11).label == "FY2027-M11"

    @given(
        st.integers(1000, 9999),
        st.sampled_from(PeriodLevel),
        st.integers(1, 53),
    )
    def test_round_trip(self, year, level, number):
        """parse_label inverts format_label for every valid year, level and number."""
        number = {PeriodLevel.YEAR: 0, PeriodLevel.QUARTER: 1 + number % 4}.get(level, number)
        if level is PeriodLevel.MONTH:
            number = 1 + number % 12
        assert parse_label(format_label(year, level, number)) == (year, level, number)

    @pytest.mark.parametrize(
        ("args", "culprit"),
        [
            ((2027, PeriodLevel.QUARTER, 5), "quarter number 5"),
            ((2027, PeriodLevel.MONTH, 0), "month number 0"),
            ((2027, PeriodLevel.WEEK, 54), "week number 54"),
            ((2027, PeriodLevel.YEAR, 1), "not 1"),
            ((999, PeriodLevel.YEAR, 0), "999"),
            ((2027, 9, 1), "level 9"),
            ((2027.0, PeriodLevel.YEAR, 0), "2027.0"),
        ],
    )
    def test_bad_parts_raise(self, args, culprit):
        """Out-of-range parts raise PeriodError naming the bad part."""
        with pytest.raises(PeriodError, match=re.escape(culprit)):
            format_label(*args)


class TestPeriod:
    def test_fields_and_helpers(self):
        """A period knows its dates (inclusive), day count, parent, children and number."""
        q1 = FiscalCalendar(fiscal_year=2027).period("FY2027-Q1")
        assert (q1.start, q1.end, q1.days) == (D(2027, 1, 1), D(2027, 3, 31), 90)
        assert q1.parent == "FY2027"
        assert q1.children == ("FY2027-M01", "FY2027-M02", "FY2027-M03")
        assert (q1.number, q1.index, str(q1)) == (1, 1, "FY2027-Q1")
        assert q1.contains(D(2027, 3, 31))
        assert not q1.contains(D(2027, 4, 1))

    @pytest.mark.parametrize("day", [None, "2027-03-01", dt.datetime(2027, 3, 1)], ids=repr)
    def test_contains_refuses_what_is_not_a_date(self, day):
        """contains(None) or a datetime is a PeriodError, not a raw TypeError."""
        q1 = FiscalCalendar(fiscal_year=2027).period("FY2027-Q1")
        with pytest.raises(PeriodError, match="is not a date"):
            q1.contains(day)

    def test_end_before_start_raises(self):
        """A period that ends before it starts is refused, naming the period."""
        with pytest.raises(PeriodError, match="FY2027-M01"):
            Period(
                label="FY2027-M01",
                level=PeriodLevel.MONTH,
                start=D(2027, 1, 31),
                end=D(2027, 1, 1),
                parent="FY2027-Q1",
                children=(),
                index=5,
            )


class TestFiscalCalendar:
    # --- structure, property-tested over every start month and pattern -------------------------

    @given(calendars())
    def test_each_level_partitions_the_year(self, cal):
        """Quarters, months and weeks each cover the year day by day with no gap or overlap."""
        year = cal.periods[0]
        assert (year.start, year.end, year.label) == (cal.start, cal.end, cal.label)
        for level, periods in levels(cal).items():
            if level is PeriodLevel.WEEK and not cal.pattern.is_weekly:
                assert periods == []
                continue
            assert periods[0].start == cal.start
            assert periods[-1].end == cal.end
            for before, after in itertools.pairwise(periods):
                assert after.start == before.end + ONE_DAY
            assert sum(p.days for p in periods) == year.days
        assert [p.level for p in cal.periods] == [0] + [1] * 4 + [2] * 12

    @given(calendars())
    def test_children_nest_in_their_parents(self, cal):
        """Every period lies inside its parent, and a parent's children tile it in order."""
        by_label = {p.label: p for p in (*cal.periods, *cal.weeks)}
        for period in by_label.values():
            if period.parent is not None:
                parent = by_label[period.parent]
                assert parent.level == period.level - 1
                assert period.label in parent.children
                assert parent.start <= period.start <= period.end <= parent.end
            if period.children:
                kids = [by_label[label] for label in period.children]
                assert kids[0].start == period.start
                assert kids[-1].end == period.end
                assert all(kid.parent == period.label for kid in kids)
        assert [len(by_label[q].children) for q in cal.periods[0].children] == [3, 3, 3, 3]

    @given(calendars(patterns=st.sampled_from([Pattern.P445, Pattern.P454, Pattern.P544])))
    def test_week_patterns_have_whole_weeks(self, cal):
        """A week-pattern year is 52/53 weeks ending on week_end_day; months follow the pattern."""
        n_weeks = len(cal.weeks)
        assert n_weeks in (52, 53)
        assert cal.periods[0].days == 7 * n_weeks
        assert all(w.days == 7 and w.end.weekday() == cal.week_end_day for w in cal.weeks)
        assert [w.label for w in cal.weeks] == [
            f"{cal.label}-W{n:02d}" for n in range(1, n_weeks + 1)
        ]
        expected = list(cal.pattern.weeks_per_month * 4)
        if n_weeks == 53:
            expected[cal.week53_month - 1] += 1
        months = cal.periods[5:]
        assert [m.days // 7 for m in months] == expected
        assert [len(m.children) for m in months] == expected
        long_quarter = (cal.week53_month - 1) // 3 if n_weeks == 53 else None
        quarters = cal.periods[1:5]
        assert [q.days // 7 for q in quarters] == [
            14 if q == long_quarter else 13 for q in range(4)
        ]

    @given(calendars(patterns=st.sampled_from([Pattern.P445, Pattern.P454, Pattern.P544])))
    def test_year_end_follows_the_week_rule(self, cal):
        """The year ends on the last week_end_day on or before, or nearest to, the nominal end."""
        target = nominal_end(cal)
        gap = (cal.end - target).days
        if cal.week_rule is WeekRule.LAST:
            assert -6 <= gap <= 0
        else:
            assert -3 <= gap <= 3
        assert cal.end.weekday() == cal.week_end_day
        assert cal.start == cal.previous().end + ONE_DAY

    @given(calendars(patterns=st.just(Pattern.CALENDAR)))
    def test_calendar_months_are_calendar_months(self, cal):
        """With calendar months, every month starts on the 1st and the year ends on time."""
        assert cal.end == nominal_end(cal)
        assert all(m.start.day == 1 for m in cal.periods[5:])
        assert cal.periods[5].start.month == cal.start_month
        assert cal.weeks == ()

    @given(calendars())
    def test_year_is_named_by_its_start_or_end(self, cal):
        """The fiscal year names the calendar year its nominal first (or last) month falls in."""
        first_month = cal.start + dt.timedelta(days=6)  # in the nominal first month for any rule
        last_month = cal.end - dt.timedelta(days=6)  # in the nominal last month for any rule
        assert first_month.month == cal.start_month
        assert last_month.month == (cal.start_month - 2) % 12 + 1
        named = first_month if cal.naming is YearNaming.START else last_month
        assert named.year == cal.fiscal_year

    @given(calendars())
    def test_adjacent_years_meet(self, cal):
        """previous() ends the day before this year starts; next() starts the day after it ends."""
        assert cal.previous().end + ONE_DAY == cal.start
        assert cal.next().start == cal.end + ONE_DAY
        assert cal.next().previous() == cal

    @given(calendars())
    def test_labels_round_trip(self, cal):
        """Every period's label parses back to its year, level and number and finds the period."""
        for period in (*cal.periods, *cal.weeks):
            parts = parse_label(period.label)
            assert parts.fiscal_year == cal.fiscal_year
            assert parts.level == period.level
            assert format_label(*parts) == period.label
            assert cal.period(period.label) == period
        for i, period in enumerate(cal.periods):
            assert cal.index(period.label) == i == period.index
        for i, week in enumerate(cal.weeks):
            assert week.index == i

    @given(calendars(), st.data())
    def test_period_of_contains_the_date(self, cal, data):
        """period_of(day, level) is the period at that level containing the day."""
        day = data.draw(st.dates(min_value=cal.start, max_value=cal.end))
        month = cal.period_of(day)
        assert month.level is PeriodLevel.MONTH
        assert month.contains(day)
        quarter = cal.period_of(day, PeriodLevel.QUARTER)
        assert quarter.contains(day)
        assert month.parent == quarter.label
        assert cal.period_of(day, PeriodLevel.YEAR).label == cal.label
        if cal.pattern.is_weekly:
            week = cal.period_of(day, PeriodLevel.WEEK)
            assert week.contains(day)
            assert week.parent == month.label

    @given(calendars())
    def test_dict_json_and_pickle_round_trips(self, cal):
        """to_dict is JSON-safe and from_dict restores an equal calendar; pickling does too."""
        data = json.loads(json.dumps(cal.to_dict()))
        again = FiscalCalendar.from_dict(data)
        assert again == cal
        assert hash(again) == hash(cal)
        assert again.periods == cal.periods
        assert pickle.loads(pickle.dumps(cal)) == cal

    @given(calendars())
    def test_working_days_at_most_days(self, cal):
        """Working days never exceed calendar days, per period and as arrays."""
        days = cal.days_array()
        working = cal.working_days_array()
        assert ((working >= 0) & (working <= days)).all()
        assert days.tolist() == [p.days for p in cal.periods]
        for i in (0, 1, 5, 16):
            assert working[i] == cal.working_days(cal.periods[i].label)
        # Working days add up the tree like any sum: months to quarters, quarters to the year.
        assert working[0] == working[1:5].sum() == working[5:].sum()
        for week in cal.weeks[:3]:
            assert 0 <= cal.working_days(week.label) <= 7 - len(cal.weekend)

    @given(calendars())
    def test_compiled_arrays_match_the_tree(self, cal):
        """parent_index, child_offsets and level_array describe the tree of the Period objects."""
        labels = [p.label for p in cal.periods]
        parents = [-1 if p.parent is None else labels.index(p.parent) for p in cal.periods]
        assert cal.parent_index.tolist() == parents
        assert cal.level_array.tolist() == [int(p.level) for p in cal.periods]
        offsets = cal.child_offsets
        for i, period in enumerate(cal.periods):
            grid_children = labels[offsets[i] : offsets[i + 1]]
            expected = [] if period.level is PeriodLevel.MONTH else list(period.children)
            assert grid_children == expected

    @given(calendars(fiscal_years=st.integers(MIN_FISCAL_YEAR + 1, MAX_FISCAL_YEAR - 1)))
    def test_for_date_finds_the_year(self, cal):
        """for_date returns the calendar, with the same parameters, whose year holds the date."""
        params = {k: v for k, v in attrs.asdict(cal, recurse=False).items() if k != "fiscal_year"}
        assert FiscalCalendar.for_date(cal.start, **params) == cal
        assert FiscalCalendar.for_date(cal.end, **params) == cal

    # --- the compiled arrays, hand-checked -----------------------------------------------------

    def test_grid_order_and_csr_by_hand(self):
        """The grid is [year, Q1..Q4, M01..M12]; children of each period are contiguous (CSR)."""
        cal = FiscalCalendar(fiscal_year=2027)
        assert [p.label for p in cal.periods] == ["FY2027"] + [
            f"FY2027-Q{q}" for q in range(1, 5)
        ] + [f"FY2027-M{m:02d}" for m in range(1, 13)]
        assert cal.parent_index.tolist() == [-1, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
        assert cal.child_offsets.tolist() == [1, 5, 8, 11, 14] + [17] * 13
        assert cal.level_array.dtype == np.int8
        assert cal.parent_index.dtype == cal.child_offsets.dtype == np.int64
        assert cal.days_array().dtype == cal.working_days_array().dtype == np.int64

    def test_arrays_are_read_only_and_cached(self):
        """Arrays handed out are read-only, so sharing is safe; they are computed once."""
        cal = FiscalCalendar(fiscal_year=2027)
        for array in (
            cal.parent_index,
            cal.child_offsets,
            cal.level_array,
            cal.days_array(),
            cal.working_days_array(),
        ):
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 99
        assert cal.days_array() is cal.days_array()
        assert cal.periods is cal.periods

    def test_equality_uses_parameters_only(self):
        """Calendars with the same parameters are equal and hash alike, cached or not."""
        a = FiscalCalendar(fiscal_year=2027, holidays=[D(2027, 1, 1)])
        b = FiscalCalendar(fiscal_year=2027, holidays=frozenset({D(2027, 1, 1)}))
        _ = a.periods, a.working_days_array()
        assert a == b
        assert hash(a) == hash(b)
        assert a != attrs.evolve(b, holidays=())

    # --- published calendars -------------------------------------------------------------------

    def test_nrf_fiscal_2023_has_53_weeks(self):
        """NRF 4-5-4 FY2023 runs 29 Jan 2023 - 3 Feb 2024, 53 weeks (retaildogma, Coresight)."""
        cal = FiscalCalendar.nrf(2023)
        assert (cal.start, cal.end) == (D(2023, 1, 29), D(2024, 2, 3))
        assert len(cal.weeks) == 53
        # By hand from the 4-5-4 rule with the 53rd week in January: January is 5 weeks,
        # 31 Dec 2023 - 3 Feb 2024, and the fourth quarter 14 weeks from 29 Oct 2023.
        january = cal.period("FY2023-M12")
        assert (january.start, january.end, january.days) == (D(2023, 12, 31), D(2024, 2, 3), 35)
        q4 = cal.period("FY2023-Q4")
        assert (q4.start, q4.days) == (D(2023, 10, 29), 98)
        february = cal.period("FY2023-M01")
        assert (february.start, february.end) == (D(2023, 1, 29), D(2023, 2, 25))
        assert cal.period_of(D(2023, 12, 25)).label == "FY2023-M11"  # Christmas in retail December

    def test_nrf_neighbouring_years(self):
        """NRF FY2022 ends 28 Jan 2023 and FY2024 starts 4 Feb 2024; both have 52 weeks."""
        fy2022, fy2024 = FiscalCalendar.nrf(2022), FiscalCalendar.nrf(2024)
        assert fy2022.end == D(2023, 1, 28)
        assert fy2024.start == D(2024, 2, 4)
        assert len(fy2022.weeks) == len(fy2024.weeks) == 52

    def test_nrf_53_week_years_match_the_published_list(self):
        """From FY2000 to FY2023 NRF had 53 weeks exactly in FY'00, '06, '12, '17 and '23."""
        long_years = [y for y in range(2000, 2024) if len(FiscalCalendar.nrf(y).weeks) == 53]
        assert long_years == [2000, 2006, 2012, 2017, 2023]

    @pytest.mark.parametrize(
        ("year", "start", "end", "weeks"),
        [
            (
                2005,
                D(2004, 9, 26),
                D(2005, 9, 24),
                52,
            ),  # 30 Sep 2005 is a Friday: LAST, not NEAREST
            (2017, D(2016, 9, 25), D(2017, 9, 30), 53),
            (2023, D(2022, 9, 25), D(2023, 9, 30), 53),
            (2024, D(2023, 10, 1), D(2024, 9, 28), 52),
        ],
    )
    def test_apple_fiscal_years(self, year, start, end, weeks):
        """Apple's years (ending the last Saturday of September) match the published bounds."""
        cal = apple(year)
        assert (cal.start, cal.end, len(cal.weeks)) == (start, end, weeks)

    def test_apple_long_year_puts_14_weeks_in_the_december_quarter(self):
        """Apple Q1 FY2017 had 14 weeks, 25 Sep - 31 Dec 2016 (Dr. Drang, 2017)."""
        q1 = apple(2017).period("FY2017-Q1")
        assert (q1.start, q1.end, q1.days // 7) == (D(2016, 9, 25), D(2016, 12, 31), 14)
        assert apple(2017).period("FY2017-M03").days == 35  # December took the extra week

    def test_calendar_months_by_hand(self):
        """A fiscal year from April: FY2027 = 1 Apr 2026 - 31 Mar 2027; Q3 is Oct-Dec 2026."""
        cal = FiscalCalendar(fiscal_year=2027, start_month=4)
        q3 = cal.period("FY2027-Q3")
        assert (q3.start, q3.end, q3.days) == (D(2026, 10, 1), D(2026, 12, 31), 92)
        assert cal.period("FY2027-M11").start == D(2027, 2, 1)
        assert cal.days("FY2027-M11") == 28  # February 2027
        assert cal.period_of(D(2027, 3, 31)).label == "FY2027-M12"
        assert FiscalCalendar(fiscal_year=2028, start_month=4).days("FY2028-M11") == 29  # leap year

    # --- working days, hand-checked ------------------------------------------------------------

    def test_working_days_with_a_holiday(self):
        """May 2027 has 21 weekdays (1 May is a Saturday); Memorial Day 31 May leaves 20."""
        plain = FiscalCalendar(fiscal_year=2027)
        assert plain.working_days("FY2027-M05") == 21
        memorial = FiscalCalendar(fiscal_year=2027, holidays=[D(2027, 5, 31)])
        assert memorial.working_days("FY2027-M05") == 20
        assert memorial.days("FY2027-M05") == 31

    def test_holidays_on_weekends_and_outside_the_year_change_nothing(self):
        """A holiday on a Saturday or in another year does not remove a working day."""
        cal = FiscalCalendar(fiscal_year=2027, holidays=["2027-05-01", "2026-12-25"])
        assert cal.working_days("FY2027-M05") == 21
        assert (
            cal.working_days("FY2027") == 261
        )  # 2027 has 261 weekdays (365 = 52 weeks + a Friday)

    def test_golden_week_holidays(self):
        """October 2027 has 21 weekdays; holidays on 1-7 October remove the five weekdays."""
        holidays = [D(2027, 10, d) for d in range(1, 8)]
        cal = FiscalCalendar(fiscal_year=2027, holidays=holidays)
        assert cal.working_days("FY2027-M10") == 16
        assert cal.working_days("FY2027-Q4") == 21 + 22 + 23 - 5

    def test_custom_weekend(self):
        """A Friday-Saturday weekend leaves October 2027 (5 Fri, 5 Sat) 21 working days."""
        cal = FiscalCalendar(fiscal_year=2027, weekend={4, 5})
        assert cal.working_days("FY2027-M10") == 21
        assert FiscalCalendar(fiscal_year=2027, weekend=()).working_days("FY2027-M10") == 31

    def test_week_working_days(self):
        """NRF week 1 of FY2023 (Sun 29 Jan - Sat 4 Feb 2023) has five working days."""
        assert FiscalCalendar.nrf(2023).working_days("FY2023-W01") == 5
        assert FiscalCalendar.nrf(2023).days("FY2023-W01") == 7

    # --- bad input ------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("params", "culprit"),
        [
            ({"fiscal_year": 999}, "fiscal_year 999"),
            ({"fiscal_year": 9999}, "fiscal_year 9999"),
            ({"fiscal_year": "2027"}, "fiscal_year '2027'"),
            ({"fiscal_year": 2027.0}, "fiscal_year 2027.0"),
            ({"fiscal_year": True}, "fiscal_year True"),
            ({"start_month": 0}, "start_month 0"),
            ({"start_month": 13}, "start_month 13"),
            ({"pattern": "4-4-4"}, "pattern '4-4-4'"),
            ({"pattern": 445}, "pattern 445"),
            ({"week_end_day": 7}, "week_end_day 7"),
            ({"week_end_day": -1}, "week_end_day -1"),
            ({"week_rule": "first"}, "week_rule 'first'"),
            ({"week53_month": 13}, "week53_month 13"),
            ({"week53_month": 0}, "week53_month 0"),
            ({"naming": "middle"}, "naming 'middle'"),
            ({"weekend": {7}}, "weekend day 7"),
            ({"weekend": [5.0]}, "weekend day 5.0"),
            ({"weekend": "Sa"}, "weekend 'Sa'"),
            ({"weekend": range(7)}, "weekend covers all seven"),
            ({"holidays": "2027-01-01"}, "holidays '2027-01-01'"),
            ({"holidays": D(2027, 1, 1)}, "holidays datetime.date(2027, 1, 1)"),
            (
                {"holidays": [dt.datetime(2027, 1, 1)]},
                "holiday datetime.datetime(2027, 1, 1, 0, 0)",
            ),
            ({"holidays": ["2027-13-01"]}, "holiday '2027-13-01'"),
            ({"holidays": ["01/01/2027"]}, "holiday '01/01/2027'"),
            ({"holidays": [20270101]}, "holiday 20270101"),
        ],
    )
    def test_bad_parameters_raise_calendar_error(self, params, culprit):
        """Each bad parameter raises CalendarError naming it and its value, with a hint."""
        params = {"fiscal_year": 2027, **params}
        with pytest.raises(CalendarError, match=re.escape(culprit)) as info:
            FiscalCalendar(**params)
        assert info.value.hint
        assert isinstance(info.value, ValueError)

    def test_year_range_ends(self):
        """The first and last allowed years work; stepping past them raises CalendarError."""
        assert FiscalCalendar(fiscal_year=MIN_FISCAL_YEAR, pattern="4-4-5").weeks
        last = FiscalCalendar(fiscal_year=MAX_FISCAL_YEAR, start_month=12, naming="start")
        assert last.end == D(9999, 11, 30)
        with pytest.raises(CalendarError, match="fiscal_year 999"):
            FiscalCalendar(fiscal_year=MIN_FISCAL_YEAR).previous()
        with pytest.raises(CalendarError, match="fiscal_year 9999"):
            last.next()

    def test_unknown_labels_raise_period_error(self):
        """Another year's labels, missing weeks, malformed labels raise PeriodError naming them."""
        cal = FiscalCalendar(fiscal_year=2027)
        with pytest.raises(PeriodError, match="FY2026-Q1 belongs to FY2026") as info:
            cal.period("FY2026-Q1")
        assert info.value.period == "FY2026-Q1"
        with pytest.raises(PeriodError, match=r"FY2027-W01 does not exist.*calendar months"):
            cal.period("FY2027-W01")
        weekly = FiscalCalendar(fiscal_year=2027, pattern="4-4-5")
        assert len(weekly.weeks) == 52
        with pytest.raises(PeriodError, match=r"FY2027-W53 does not exist.*52 weeks"):
            weekly.period("FY2027-W53")
        with pytest.raises(PeriodError, match="'FY2027-m01'"):
            cal.days("FY2027-m01")
        with pytest.raises(PeriodError, match="'Q1'"):
            cal.working_days("Q1")
        with pytest.raises(PeriodError, match="FY2027-W01 is not one of the grid's periods"):
            weekly.index("FY2027-W01")

    def test_dates_outside_the_year_raise_period_error(self):
        """period_of names the date and the year's bounds when the date is outside the year."""
        cal = FiscalCalendar.nrf(2023)
        with pytest.raises(
            PeriodError, match=re.escape("2023-01-28 is outside FY2023 (2023-01-29 to 2024-02-03)")
        ):
            cal.period_of(D(2023, 1, 28))
        with pytest.raises(PeriodError, match="2024-02-04 is outside FY2023"):
            cal.period_of(D(2024, 2, 4), PeriodLevel.WEEK)

    @pytest.mark.parametrize(
        ("day", "level", "culprit"),
        [
            (
                dt.datetime(2027, 5, 1, 12),
                PeriodLevel.MONTH,
                "datetime.datetime(2027, 5, 1, 12, 0)",
            ),
            ("2027-05-01", PeriodLevel.MONTH, "'2027-05-01'"),
            (D(2027, 5, 1), 7, "level 7"),
            (D(2027, 5, 1), "month", "level 'month'"),
            (D(2027, 5, 1), PeriodLevel.WEEK, "FY2027 has calendar months, not weeks"),
        ],
    )
    def test_bad_period_of_arguments_raise(self, day, level, culprit):
        """period_of refuses non-dates, unknown levels and weeks of calendar months, naming them."""
        with pytest.raises(PeriodError, match=re.escape(culprit)):
            FiscalCalendar(fiscal_year=2027).period_of(day, level)

    @pytest.mark.parametrize(
        ("data", "culprit"),
        [
            ([2027], "got list"),
            ({"fiscal_year": 2027, "start_moth": 4}, "'start_moth'"),
            ({"start_month": 4}, "no 'fiscal_year'"),
        ],
    )
    def test_bad_dicts_raise_serialization_error(self, data, culprit):
        """from_dict refuses non-mappings, unknown keys and a missing fiscal year, naming them."""
        with pytest.raises(SerializationError, match=re.escape(culprit)):
            FiscalCalendar.from_dict(data)

    def test_bad_values_in_dicts_raise_calendar_error(self):
        """from_dict passes field values through the same validation as the constructor."""
        with pytest.raises(CalendarError, match="week_rule 'closest'"):
            FiscalCalendar.from_dict({"fiscal_year": 2027, "week_rule": "closest"})

    def test_errors_pickle(self):
        """Calendar errors survive pickling with their fields (for process pools)."""
        with pytest.raises(PeriodError) as info:
            FiscalCalendar(fiscal_year=2027).period("FY2026-Q1")
        again = pickle.loads(pickle.dumps(info.value))
        assert (str(again), again.period) == (str(info.value), "FY2026-Q1")


class TestCalendarsStrategy:
    @given(calendars(fiscal_years=st.just(2030)))
    def test_respects_the_fiscal_year_strategy(self, cal):
        """Drawn calendars take the fiscal year from the given strategy, 53-week years included."""
        assert cal.fiscal_year == 2030

    def test_reaches_53_week_years(self):
        """The strategy produces 53-week years without luck."""
        long_year = find(calendars(), lambda cal: len(cal.weeks) == 53)
        assert len(long_year.weeks) == 53

    def test_every_year_has_a_53_week_weekday(self):
        """For every year, start month, rule and naming some week_end_day gives 53 weeks.

        The strategy relies on this to draw long years on purpose.
        """
        for year, month, rule, naming in itertools.product(
            range(2000, 2061, 7), range(1, 13), WeekRule, YearNaming
        ):
            base = FiscalCalendar(
                fiscal_year=year, start_month=month, pattern="4-4-5", week_rule=rule, naming=naming
            )
            lengths = {
                (c.end - c.start).days + 1
                for c in (attrs.evolve(base, week_end_day=d) for d in range(7))
            }
            assert 371 in lengths, (year, month, rule, naming)

    def test_refuses_non_strategies(self):
        """Arguments that are not strategies raise InvalidArgument naming the argument."""
        with pytest.raises(InvalidArgument, match="fiscal_years"):
            calendars(fiscal_years=2027)  # type: ignore[arg-type]


class TestConstructorKeywords:
    """for_date and nrf refuse unknown keywords with a CalendarError, not a raw TypeError."""

    @pytest.mark.parametrize(
        "call",
        [
            lambda: FiscalCalendar.for_date(D(2027, 1, 1), start_mnoth=4),
            lambda: FiscalCalendar.for_date(D(2027, 1, 1), fiscal_year=2020),
            lambda: FiscalCalendar.nrf(2027, start_mnoth=4),
        ],
        ids=["for_date-typo", "for_date-fiscal_year", "nrf-typo"],
    )
    def test_unknown_keyword(self, call):
        """The message names the keyword and lists the calendar fields."""
        with pytest.raises(CalendarError, match="unknown calendar field") as info:
            call()
        assert "start_month" in str(info.value)

    def test_known_keywords_still_work(self):
        """for_date(day, start_month=4) and nrf(2024, holidays=...) are unchanged."""
        assert FiscalCalendar.for_date(D(2026, 5, 20), start_month=4).label == "FY2027"
        assert FiscalCalendar.nrf(2024, holidays=[D(2024, 12, 25)]).start == D(2024, 2, 4)
