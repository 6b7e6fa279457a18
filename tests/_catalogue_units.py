"""Catalogue rows for the value-type doors: units (``parse_quantity``), ``Metric``, ``FiscalCalendar``.

Each row is a bad input and the library error it must meet, naming the culprit; see ``_catalogue.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from _catalogue import Case
from targetcascade import FiscalCalendar, Metric, OrgTree, Plan
from targetcascade.allocation import Equal
from targetcascade.cascade import CascadeSpec, Lock, MetricCascade, Split, cascade
from targetcascade.errors import (
    CalendarError,
    MetricError,
    PeriodError,
    QuantumError,
    SerializationError,
    UnitParseError,
)
from targetcascade.units import parse_quantity

_REVENUE = Metric(name="revenue", unit="CNY")
_LIMIT = "90,071,992,547,409.92 CNY"  # 2**53 cents
_FY = FiscalCalendar(fiscal_year=2027)


def _tree() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )


def _cascade(target: object, locks: list[Lock] | None = None) -> object:
    item = MetricCascade(
        metric=_REVENUE,
        target=target,
        splits={"company": Split(strategy=Equal())},
        locks=locks or [],
    )
    return cascade(CascadeSpec(metrics=[item]), _tree(), _FY)


def _leaf_records(value: object) -> object:
    solo = OrgTree.from_records([{"id": "solo", "level": "company"}])
    rows = [
        {"node": "solo", "period": f"FY2027-M{m:02d}", "metric": "revenue", "value": value}
        for m in range(1, 13)
    ]
    return Plan.from_leaf_values(solo, _FY, [_REVENUE], rows)


def _ratio_beyond_limit() -> object:
    solo = OrgTree.from_records([{"id": "solo", "level": "company"}])
    profit = Metric(name="profit", unit="CNY")
    margin = Metric(
        name="margin",
        unit="percent",
        rollup="ratio",
        numerator="profit",
        denominator="revenue",
        quantum="0.01",
    )
    rows = [
        {"node": "solo", "period": f"FY2027-M{m:02d}", "metric": name, "value": value}
        for m in range(1, 13)
        for name, value in (("profit", "1e11 CNY"), ("revenue", "0.01 CNY"))
    ]
    return Plan.from_leaf_values(solo, _FY, [profit, _REVENUE, margin], rows)


CASES: list[Case] = [
    # ---- #12.3 / #21.5: amounts beyond 2**53 quanta, at every door that converts to quanta
    Case(
        id="12.3-target-beyond-limit",
        call=lambda: _cascade("1e20 CNY"),
        error=QuantumError,
        names=("revenue", "1e20 CNY", _LIMIT),
    ),
    Case(
        id="21.5-lock-1e20-cny",
        call=lambda: _cascade("100 CNY", [Lock(node="east", period="FY2027", value="1e20 CNY")]),
        error=QuantumError,
        names=("'east'", "FY2027", "revenue", _LIMIT),
    ),
    Case(
        id="21.5-record-1e20-cny",
        call=lambda: _leaf_records("1e20 CNY"),
        error=QuantumError,
        names=("row 0", "revenue", _LIMIT),
    ),
    Case(
        id="21.5-ratio-beyond-limit-at-the-leaf-door",
        call=_ratio_beyond_limit,
        error=QuantumError,
        names=("margin", "'solo'", "FY2027", "90,071,992,547,409.92 percent"),
    ),
    Case(
        id="door-metric-to-quanta-float-overflow",
        call=lambda: _REVENUE.to_quanta(1e308),
        error=QuantumError,
        names=("revenue", "1e+308", _LIMIT),
    ),
    Case(
        id="door-metric-to-quanta-many-huge-int",
        call=lambda: _REVENUE.to_quanta_many([1, 10**6000]),
        error=QuantumError,
        names=("revenue", "1.000000E+6000", _LIMIT),
    ),
    # ---- #21.6: limits on the quantum
    Case(
        id="21.6-quantum-1e-999999",
        call=lambda: Metric(name="revenue", unit="CNY", quantum="1e-999999"),
        error=MetricError,
        names=("'revenue'", "1E-999999", "between 1e-20 and 1e20"),
    ),
    Case(
        id="door-metric-quantum-too-many-digits",
        call=lambda: Metric(name="revenue", unit="CNY", quantum="0." + "1" * 30),
        error=MetricError,
        names=("'revenue'", "at most 20 significant digits"),
    ),
    # ---- #21.10: strict names and flags
    Case(
        id="21.10-metric-name-newline",
        call=lambda: Metric(name="revenue\n", unit="CNY"),
        error=MetricError,
        names=("'revenue\\n'", "not a valid name"),
    ),
    Case(
        id="21.10-non-negative-false-string",
        call=lambda: Metric(name="profit", unit="CNY", non_negative="false"),
        error=MetricError,
        names=("'profit'", "non_negative", "'false'", "True or False"),
    ),
    Case(
        id="door-metric-from-dict-flag-int",
        call=lambda: Metric.from_dict({"name": "profit", "unit": "CNY", "non_negative": 0}),
        error=MetricError,
        names=("'profit'", "non_negative 0"),
    ),
    # ---- other doors of Metric
    Case(
        id="door-metric-rollup-unknown",
        call=lambda: Metric(name="revenue", unit="CNY", rollup="avg"),
        error=MetricError,
        names=("'revenue'", "'avg'", "'sum'"),
    ),
    Case(
        id="door-metric-unknown-unit",
        call=lambda: Metric(name="revenue", unit="XYZ"),
        error=UnitParseError,
        names=("'XYZ'",),
    ),
    Case(
        id="door-metric-quantum-negative",
        call=lambda: Metric(name="revenue", unit="CNY", quantum="-0.01"),
        error=MetricError,
        names=("'revenue'", "-0.01", "positive"),
    ),
    Case(
        id="door-metric-to-quanta-fraction-of-a-cent",
        call=lambda: _REVENUE.to_quanta(Decimal("0.125")),
        error=QuantumError,
        names=("0.125", "revenue", "0.01 CNY"),
    ),
    # ---- #21.8 and #12: parse_quantity's door
    Case(
        id="21.8-parse-1e1001",
        call=lambda: parse_quantity("1e1001 CNY"),
        error=UnitParseError,
        names=("'1e1001 CNY'", "1e41"),
    ),
    Case(
        id="21.8-parse-million-digits",
        call=lambda: parse_quantity("7" * 10**6 + " CNY"),
        error=UnitParseError,
        names=("'7777", "more than 40 digits"),
    ),
    Case(
        id="21.8-parse-none",
        call=lambda: parse_quantity(None),  # type: ignore[arg-type]
        error=UnitParseError,
        names=("NoneType None", "must be a string"),
    ),
    Case(
        id="21.8-parse-bytes",
        call=lambda: parse_quantity(b"12 CNY"),  # type: ignore[arg-type]
        error=UnitParseError,
        names=("b'12 CNY'",),
    ),
    Case(
        id="12.x-parse-compound-numeral",
        call=lambda: parse_quantity("一千二百万元"),
        error=UnitParseError,
        names=("'一千二百万元'", "'1200万元'"),
    ),
    Case(
        id="door-parse-unknown-unit",
        call=lambda: parse_quantity("12 foo"),
        error=UnitParseError,
        names=("'foo'",),
    ),
    Case(
        id="door-parse-fractional-scale-power",
        call=lambda: parse_quantity("1 wan**0.5 CNY"),
        error=UnitParseError,
        names=("'wan'", "0.5"),
    ),
    Case(
        id="door-parse-currency-sign-first",
        call=lambda: parse_quantity("¥1200"),
        error=UnitParseError,
        names=("'¥1200'", "after the number"),
    ),
    # ---- FiscalCalendar's doors
    Case(
        id="door-calendar-start-month-13",
        call=lambda: FiscalCalendar(fiscal_year=2027, start_month=13),
        error=CalendarError,
        names=("start_month 13", "1..12"),
    ),
    Case(
        id="door-calendar-fiscal-year-string",
        call=lambda: FiscalCalendar(fiscal_year="2027"),
        error=CalendarError,
        names=("fiscal_year '2027'",),
    ),
    Case(
        id="door-calendar-holiday-not-a-date",
        call=lambda: FiscalCalendar(fiscal_year=2027, holidays=["2027-02-30"]),
        error=CalendarError,
        names=("'2027-02-30'",),
    ),
    Case(
        id="door-calendar-label-trailing-newline",
        call=lambda: _FY.period("FY2027\n"),
        error=PeriodError,
        names=("'FY2027\\n'",),
    ),
    Case(
        id="door-calendar-date-outside-year",
        call=lambda: _FY.period_of(dt.date(2030, 1, 1)),
        error=PeriodError,
        names=("2030-01-01", "FY2027"),
    ),
    Case(
        id="door-calendar-for-date-unknown-keyword",
        call=lambda: FiscalCalendar.for_date(dt.date(2027, 1, 1), start_mnoth=4),
        error=CalendarError,
        names=("'start_mnoth'", "start_month"),
    ),
    Case(
        id="door-calendar-nrf-unknown-keyword",
        call=lambda: FiscalCalendar.nrf(2027, colour="red"),
        error=CalendarError,
        names=("'colour'",),
    ),
    Case(
        id="door-calendar-contains-none",
        call=lambda: _FY.period("FY2027-Q1").contains(None),  # type: ignore[arg-type]
        error=PeriodError,
        names=("None is not a date",),
    ),
    Case(
        id="door-calendar-from-dict-unknown-field",
        call=lambda: FiscalCalendar.from_dict({"fiscal_year": 2027, "colour": "red"}),
        error=SerializationError,
        names=("'colour'",),
    ),
]
