"""Tests for targetcascade.metric: Metric, its quantum arithmetic and its enums."""

from __future__ import annotations

import json
import math
import pickle
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    localcontext,
)
from fractions import Fraction

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import targetcascade.metric as metric_module
from targetcascade.errors import MetricError, QuantumError, UnitMismatchError, UnitParseError
from targetcascade.metric import Direction, Metric, Rollup, Rounding
from targetcascade.units import COUNT_UNITS, CURRENCIES, Quantity, parse_quantity, parse_unit, ureg

REVENUE = Metric(name="revenue", unit="CNY")
CUSTOMERS = Metric(name="new_customers", unit="customer")
REVENUE_K = Metric(name="revenue_k", unit="CNY", quantum=1000)
HALVES = Metric(name="half_days", unit="visit", quantum="0.5")
MARGIN = Metric(
    name="gross_margin",
    unit="percent",
    rollup=Rollup.RATIO,
    numerator="profit",
    denominator="revenue",
    quantum="0.01",
)

ALL_METRICS = [REVENUE, CUSTOMERS, REVENUE_K, HALVES, MARGIN]


def metric_id(metric: Metric) -> str:
    """Test id: the metric's name."""
    return metric.name


# The quanta the issue asks the properties to cover: cents, ones, thousands, halves.
QUANTA = ["0.01", "1", "1000", "0.5"]
# Every amount the library accepts: at most 2**53 quanta either side of zero (DESIGN.md, "One size limit").
WITHIN_LIMIT = st.integers(min_value=-(2**53), max_value=2**53)
# Floats are checked where half a quantum is far above float resolution (|value| < 1e12 quanta).
MODERATE = st.integers(min_value=-(10**12), max_value=10**12)


def metric_with(quantum: str) -> Metric:
    """A sum metric in CNY with the given quantum."""
    return Metric(name="revenue", unit="CNY", quantum=quantum)


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, by integer arithmetic only."""
    sign = -1 if numerator * denominator < 0 else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


class TestModule:
    def test_all_names_resolve(self):
        """Every name in metric.__all__ is an attribute of the module."""
        missing = [name for name in metric_module.__all__ if not hasattr(metric_module, name)]
        assert missing == []


class TestRollup:
    def test_values(self):
        """The three rollups are spelled 'sum', 'ratio' and 'none'."""
        assert [r.value for r in Rollup] == ["sum", "ratio", "none"]

    def test_from_string(self):
        """A rollup can be given by its string value."""
        assert Rollup("ratio") is Rollup.RATIO
        assert Metric(name="nps", unit="", rollup="none").rollup is Rollup.NONE

    def test_default_is_sum(self):
        """A metric sums up the tree unless told otherwise."""
        assert REVENUE.rollup is Rollup.SUM

    def test_unknown_rollup(self):
        """An unknown rollup raises MetricError naming the metric and the bad value."""
        with pytest.raises(MetricError) as info:
            Metric(name="revenue", unit="CNY", rollup="avg")
        assert "'avg'" in str(info.value)
        assert "revenue" in str(info.value)


class TestDirection:
    def test_values(self):
        """The directions are 'higher' and 'lower'."""
        assert {d.value for d in Direction} == {"higher", "lower"}

    def test_default_is_higher(self):
        """More is better unless told otherwise."""
        assert REVENUE.direction is Direction.HIGHER

    def test_from_string(self):
        """Churn can be declared lower-is-better by string."""
        churn = Metric(name="churned", unit="customer", direction="lower")
        assert churn.direction is Direction.LOWER

    def test_unknown_direction(self):
        """An unknown direction raises MetricError naming the metric and the bad value."""
        with pytest.raises(MetricError) as info:
            Metric(name="churned", unit="customer", direction="up")
        assert "'up'" in str(info.value)
        assert "churned" in str(info.value)


class TestRounding:
    def test_modes_are_decimal_modes(self):
        """Each Rounding member is the decimal module's rounding of the same name."""
        assert Rounding.HALF_EVEN.value == ROUND_HALF_EVEN
        assert Rounding.HALF_UP.value == ROUND_HALF_UP
        assert Rounding.FLOOR.value == ROUND_FLOOR
        assert Rounding.CEILING.value == ROUND_CEILING

    @pytest.mark.parametrize(
        ("rounding", "positive", "negative"),
        [
            (Rounding.HALF_EVEN, 12, -12),
            (Rounding.HALF_UP, 13, -13),
            (Rounding.FLOOR, 12, -13),
            (Rounding.CEILING, 13, -12),
        ],
    )
    def test_half_a_cent(self, rounding, positive, negative):
        """0.125 CNY is 12.5 cents: each mode rounds it (and -0.125) the way its name says."""
        assert REVENUE.to_quanta("0.125 CNY", rounding=rounding) == positive
        assert REVENUE.to_quanta("-0.125 CNY", rounding=rounding) == negative
        assert REVENUE.to_quanta(Decimal("0.125"), rounding=rounding) == positive

    @pytest.mark.parametrize(
        ("rounding", "expected"),
        [
            (Rounding.HALF_EVEN, [2, 2, 4]),
            (Rounding.HALF_UP, [2, 3, 4]),
            (Rounding.FLOOR, [1, 2, 3]),
            (Rounding.CEILING, [2, 3, 4]),
        ],
    )
    def test_thousands(self, rounding, expected):
        """With a 1000 CNY quantum, 1500 / 2500 / 3500 CNY round per mode (1.5, 2.5, 3.5 quanta)."""
        got = [REVENUE_K.to_quanta(f"{v} CNY", rounding=rounding) for v in (1500, 2500, 3500)]
        assert got == expected

    def test_whole_values_ignore_rounding(self):
        """A whole number of quanta is returned unchanged whatever the rounding mode."""
        for rounding in Rounding:
            assert REVENUE.to_quanta("12.34 CNY", rounding=rounding) == 1234


class TestMetric:
    def test_fields(self):
        """A metric keeps its name, unit and the documented defaults."""
        assert REVENUE.name == "revenue"
        assert REVENUE.unit == ureg.Unit("CNY")
        assert REVENUE.numerator is None
        assert REVENUE.denominator is None
        assert REVENUE.non_negative is True
        assert REVENUE.description == ""

    @pytest.mark.parametrize("unit", [*CURRENCIES, "wan CNY", "yuan", "million USD"])
    def test_currency_quantum_defaults_to_a_cent(self, unit):
        """A currency metric (scaled or not) defaults to a quantum of exactly 0.01."""
        quantum = Metric(name="money", unit=unit).quantum
        assert quantum == Decimal("0.01")
        assert str(quantum) == "0.01"

    @pytest.mark.parametrize("unit", [*COUNT_UNITS, "percent", "", "CNY / customer"])
    def test_other_quantum_defaults_to_one(self, unit):
        """Counts, percents and per-count prices default to a quantum of 1."""
        assert Metric(name="things", unit=unit).quantum == Decimal(1)

    @pytest.mark.parametrize(
        ("given_quantum", "expected"),
        [
            ("0.01", "0.01"),
            (0.01, "0.01"),
            (0.1, "0.1"),
            (1000, "1000"),
            (Decimal("0.5"), "0.5"),
            (" 0.05 ", "0.05"),
        ],
    )
    def test_quantum_is_read_exactly(self, given_quantum, expected):
        """A quantum given as str, int, float or Decimal becomes the exact decimal it spells."""
        quantum = metric_with(given_quantum).quantum
        assert isinstance(quantum, Decimal)
        assert str(quantum) == expected

    @pytest.mark.parametrize("bad", [0, -1, "-0.01", "0", "NaN", "Infinity", math.nan, math.inf])
    def test_non_positive_quantum(self, bad):
        """A zero, negative or non-finite quantum raises MetricError naming metric and quantum."""
        with pytest.raises(MetricError) as info:
            Metric(name="revenue", unit="CNY", quantum=bad)
        err = info.value
        assert "'revenue'" in str(err)
        assert err.metric == "revenue"
        assert err.hint

    @pytest.mark.parametrize("bad", ["abc", "", True, [1], object()])
    def test_unreadable_quantum(self, bad):
        """A quantum that is not a number raises MetricError naming the metric."""
        with pytest.raises(MetricError) as info:
            Metric(name="revenue", unit="CNY", quantum=bad)
        assert "revenue" in str(info.value)
        assert info.value.metric == "revenue"

    @pytest.mark.parametrize("name", ["", "1st", "gross margin", "revenue!", "a/b"])
    def test_bad_name(self, name):
        """A malformed name raises MetricError quoting it and saying what is allowed."""
        with pytest.raises(MetricError) as info:
            Metric(name=name, unit="CNY")
        assert repr(name) in str(info.value)
        assert "letters" in str(info.value)

    def test_name_must_be_a_string(self):
        """A non-string name raises MetricError."""
        with pytest.raises(MetricError, match="3"):
            Metric(name=3, unit="CNY")

    @pytest.mark.parametrize("name", ["revenue", "_x", "gm.q1", "win-rate", "Deals2"])
    def test_good_names(self, name):
        """Letters, digits, '_', '.', '-' are allowed after a letter or '_'."""
        assert Metric(name=name, unit="deal").name == name

    def test_unknown_unit(self):
        """An unknown unit raises UnitParseError naming it."""
        with pytest.raises(UnitParseError, match="'xyz'"):
            Metric(name="revenue", unit="xyz")

    def test_foreign_unit_is_moved_into_the_registry(self):
        """A unit of another pint registry is re-read in the library's registry."""
        import pint

        other = pint.UnitRegistry()
        metric = Metric(name="distance", unit=other.Unit("meter"))
        assert metric.unit._REGISTRY is ureg

    def test_ratio_metric(self):
        """A ratio metric keeps its numerator and denominator and a dimensionless unit."""
        assert (MARGIN.numerator, MARGIN.denominator) == ("profit", "revenue")
        assert MARGIN.rollup is Rollup.RATIO
        assert (
            Metric(
                name="win_rate", unit="", rollup="ratio", numerator="won", denominator="proposals"
            ).unit
            == ureg.dimensionless
        )

    @pytest.mark.parametrize(
        "parts", [{}, {"numerator": "profit"}, {"denominator": "revenue"}], ids=str
    )
    def test_ratio_needs_both_parts(self, parts):
        """A ratio without numerator or denominator raises MetricError naming the metric."""
        with pytest.raises(MetricError, match="numerator and denominator") as info:
            Metric(name="gross_margin", unit="percent", rollup="ratio", **parts)
        assert "'gross_margin'" in str(info.value)
        assert info.value.metric == "gross_margin"

    @pytest.mark.parametrize("rollup", ["sum", "none"])
    @pytest.mark.parametrize("part", ["numerator", "denominator"])
    def test_parts_only_on_ratios(self, rollup, part):
        """A numerator or denominator on a sum or none metric raises MetricError naming both."""
        with pytest.raises(MetricError) as info:
            Metric(name="profit", unit="CNY", rollup=rollup, **{part: "revenue"})
        assert "'profit'" in str(info.value)
        assert repr(rollup) in str(info.value)
        assert info.value.metric == "profit"

    def test_ratio_of_itself(self):
        """A ratio of a metric to itself raises MetricError naming metric and part."""
        with pytest.raises(MetricError) as info:
            Metric(name="odd", unit="", rollup="ratio", numerator="revenue", denominator="revenue")
        assert "'odd'" in str(info.value)
        assert "'revenue'" in str(info.value)
        assert info.value.metric == "odd"

    @pytest.mark.parametrize("unit", ["CNY", "customer", "CNY / customer"])
    def test_ratio_must_be_dimensionless(self, unit):
        """A ratio metric with a dimensioned unit raises MetricError naming metric and unit."""
        with pytest.raises(MetricError) as info:
            Metric(name="gm", unit=unit, rollup="ratio", numerator="p", denominator="r")
        assert "'gm'" in str(info.value)
        assert str(parse_unit(unit)) in str(info.value)
        assert "percent" in str(info.value)

    @pytest.mark.parametrize(
        "parts",
        [
            {"numerator": 3, "denominator": "revenue"},
            {"numerator": "profit", "denominator": "bad name"},
            {"numerator": "", "denominator": "revenue"},
        ],
        ids=str,
    )
    def test_ratio_parts_must_be_metric_names(self, parts):
        """Numerator and denominator must be valid metric names, else MetricError quoting them."""
        with pytest.raises(MetricError) as info:
            Metric(name="gm", unit="percent", rollup="ratio", **parts)
        bad = next(v for v in parts.values() if v not in ("profit", "revenue"))
        assert repr(bad) in str(info.value)

    def test_frozen(self):
        """A metric cannot be changed in place."""
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            REVENUE.quantum = Decimal(1)

    def test_evolve_revalidates(self):
        """attrs.evolve returns a new metric and runs the same validation."""
        coarse = attrs.evolve(REVENUE, quantum="1000")
        assert coarse.quantum == Decimal(1000)
        assert REVENUE.quantum == Decimal("0.01")
        with pytest.raises(MetricError):
            attrs.evolve(REVENUE, quantum=0)

    def test_equal_and_hashable(self):
        """Metrics with the same fields are equal and hash alike, however the unit was spelled."""
        a = Metric(name="revenue", unit="wan CNY")
        b = Metric(name="revenue", unit="CNY wan")
        assert a == b
        assert hash(a) == hash(b)
        assert a != REVENUE
        assert len({a, b, REVENUE}) == 2

    def test_unit_label(self):
        """unit_label is the canonical unit text."""
        assert REVENUE.unit_label == "CNY"
        assert Metric(name="revenue", unit="CNY wan").unit_label == "wan * CNY"
        assert Metric(name="asp", unit="CNY / deal").unit_label == "CNY / deal"

    @pytest.mark.parametrize("metric", ALL_METRICS, ids=metric_id)
    def test_pickles(self, metric):
        """A metric survives pickling (e.g. to a worker process) and still converts values."""
        back = pickle.loads(pickle.dumps(metric))
        assert back == metric
        assert back.unit._REGISTRY is ureg
        assert back.to_quanta(back.from_quanta(7)) == 7

    def test_pickles_scaled_unit(self):
        """A metric in a scaled unit ('wan CNY') survives pickling."""
        metric = Metric(name="revenue", unit="wan CNY")
        assert pickle.loads(pickle.dumps(metric)) == metric


class TestMetricToQuanta:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("12.34 CNY", 1234),
            ("1.5 wan CNY", 1_500_000),
            ("1.2 yi CNY", 12_000_000_000),
            ("-3 CNY", -300),
            ("0 CNY", 0),
            (Decimal("12.34"), 1234),
            (12, 1200),
            (12.5, 1250),
            (0.1 + 0.2, 30),
            (Quantity(Decimal("0.5"), "wan CNY"), 500_000),
            (Quantity(0.1, "wan CNY"), 100_000),
            (Quantity(0.3, "yi CNY"), 3_000_000_000),
            ("3 RMB", 300),
        ],
        ids=repr,
    )
    def test_revenue_hand_checked(self, value, expected):
        """Revenue in cents: strings, Decimals, ints, floats and quantities convert exactly."""
        got = REVENUE.to_quanta(value)
        assert type(got) is int
        assert got == expected

    def test_issue_spellings_agree(self):
        """'12000 wan', '1.2 yi', '120 million' and '1.2e8' CNY are all 12,000,000,000 cents."""
        spellings = ["12000 wan CNY", "1.2 yi CNY", "120 million CNY", "1.2e8 CNY"]
        assert {REVENUE.to_quanta(s) for s in spellings} == {12_000_000_000}

    def test_thousand_quantum(self):
        """With a quantum of 1000 CNY, 1.2 million CNY is 1200 quanta."""
        assert REVENUE_K.to_quanta("1.2 million CNY") == 1200
        assert REVENUE_K.to_quanta(1.2e6) == 1200

    def test_counts(self):
        """Customers count in ones; plurals and scale words work."""
        assert CUSTOMERS.to_quanta("35 customers") == 35
        assert CUSTOMERS.to_quanta("1.2 wan customers") == 12_000
        assert CUSTOMERS.to_quanta(7) == 7

    def test_half_quantum(self):
        """With a quantum of 0.5 visit, 2.5 visits is 5 quanta."""
        assert HALVES.to_quanta("2.5 visits") == 5
        assert HALVES.to_quanta(2.5) == 5

    def test_scaled_metric_unit(self):
        """A metric in wan CNY takes values in CNY: 15000 CNY is 1.50 wan, i.e. 150 quanta."""
        metric = Metric(name="revenue", unit="wan CNY")
        assert metric.to_quanta("15000 CNY") == 150
        assert metric.to_quanta("1.5 wan CNY") == 150
        assert metric.to_quanta(1.5) == 150

    def test_percent(self):
        """A percent metric reads '12.5 percent', a bare '12.5' (its own unit) and 0.125 dimensionless."""
        metric = Metric(name="share", unit="percent", quantum="0.1")
        assert metric.to_quanta("12.5 percent") == 125
        assert metric.to_quanta("12.5") == 125
        assert metric.to_quanta(12.5) == 125
        assert metric.to_quanta("0.125 dimensionless") == 125

    def test_numpy_float(self):
        """A numpy float64 (as read from a DataFrame) is accepted like a float."""
        assert REVENUE.to_quanta(np.float64(0.3)) == 30

    def test_numpy_integer(self):
        """A numpy int64 (as read from a DataFrame) is accepted like an int."""
        assert REVENUE.to_quanta(np.int64(3)) == 300

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            ("0.125 CNY", "0.125"),
            (Decimal("0.125"), "0.125"),
            (0.125, "0.125"),
            ("1e-3 CNY", "1e-3"),
            (Quantity(Decimal("0.0000001"), "wan CNY"), "1E-7"),
        ],
        ids=repr,
    )
    def test_fraction_of_a_cent_is_refused(self, value, shown):
        """A value finer than the quantum raises QuantumError naming metric, value and quantum."""
        with pytest.raises(QuantumError) as info:
            REVENUE.to_quanta(value)
        err = info.value
        message = str(err)
        assert "revenue" in message
        assert shown in message
        assert "0.01" in message
        assert "CNY" in message
        assert err.metric == "revenue"
        assert err.actual is not None
        assert "rounding=Rounding." in message
        assert isinstance(err, ValueError)

    def test_thousand_quantum_refuses_1500(self):
        """1500 CNY is not a whole number of 1000 CNY quanta."""
        with pytest.raises(QuantumError, match="revenue_k") as info:
            REVENUE_K.to_quanta("1500 CNY")
        assert "1000" in str(info.value)

    def test_counts_refuse_halves(self):
        """2.5 customers is refused: the quantum is one customer."""
        with pytest.raises(QuantumError, match="new_customers"):
            CUSTOMERS.to_quanta(2.5)

    @pytest.mark.parametrize(
        "value",
        [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("Infinity"), Decimal("sNaN")],
    )
    def test_non_finite(self, value):
        """NaN and infinities raise QuantumError naming the metric, even with a rounding mode."""
        with pytest.raises(QuantumError, match="revenue") as info:
            REVENUE.to_quanta(value, rounding=Rounding.HALF_EVEN)
        assert info.value.metric == "revenue"

    @pytest.mark.parametrize(
        ("value", "found"),
        [("3 USD", "USD"), ("3 customers", "customer"), (Quantity(3, "EUR"), "EUR")],
        ids=repr,
    )
    def test_wrong_unit(self, value, found):
        """A value in another currency or a count raises UnitMismatchError (also a TypeError)."""
        with pytest.raises(UnitMismatchError) as info:
            REVENUE.to_quanta(value)
        assert isinstance(info.value, TypeError)
        assert found in str(info.value)
        assert "CNY" in str(info.value)

    @pytest.mark.parametrize(
        ("value", "named"),
        [(None, "None"), (True, "True"), ([1], "[1]"), ("abc", "'abc'"), ("12 foo", "'foo'")],
        ids=repr,
    )
    def test_unreadable(self, value, named):
        """A value that is not a quantity raises UnitParseError quoting the unreadable part."""
        with pytest.raises(UnitParseError) as info:
            REVENUE.to_quanta(value)
        assert named in str(info.value)

    def test_array_is_refused(self):
        """An array quantity is not a single value: QuantumError naming the metric."""
        with pytest.raises(QuantumError, match="revenue"):
            REVENUE.to_quanta(Quantity(np.array([1.0, 2.0]), "CNY"))

    def test_float_within_representation_error(self):
        """Whole cents up to binary error convert: 0.1 + 0.2, 1.1 * 3, 0.07 * 100, 0.1 * 3 * 10."""
        assert REVENUE.to_quanta(0.1 + 0.2) == 30
        assert REVENUE.to_quanta(1.1 * 3) == 330
        assert REVENUE.to_quanta(0.07 * 100) == 700
        assert CUSTOMERS.to_quanta(0.1 * 3 * 10) == 3

    def test_float_repr_is_what_rounds(self):
        """A float off the grid is read as the decimal it prints as: 2.675 HALF_UP is 268 cents."""
        assert REVENUE.to_quanta(2.675, rounding=Rounding.HALF_UP) == 268
        assert REVENUE.to_quanta(1.005, rounding=Rounding.HALF_UP) == 101

    def test_long_decimal_is_exact_or_refused(self):
        """A 31-digit value is converted exactly or refused, never rounded to 28 digits."""
        value = Decimal("10000000000000000000000000000.01")
        try:
            got = REVENUE.to_quanta(value)
        except QuantumError:
            return
        assert got == 10**30 + 1

    def test_long_fractional_decimal_is_refused(self):
        """A 31-digit value with half a cent is refused, not rounded away by decimal precision."""
        with pytest.raises(QuantumError):
            REVENUE.to_quanta(Decimal("1234567890123456789012345678.915"))

    def test_independent_of_callers_decimal_context(self):
        """A caller's low decimal precision does not change the result: 1234567.89 is 123456789."""
        with localcontext() as context:
            context.prec = 6
            assert REVENUE.to_quanta(Decimal("1234567.89")) == 123_456_789
            assert REVENUE.to_quanta("1234567.89 CNY") == 123_456_789

    @given(
        coefficient=st.integers(min_value=-(10**20), max_value=10**20),
        exponent=st.integers(min_value=-5, max_value=5),
        quantum=st.sampled_from([*QUANTA, "0.001", "0.1"]),
    )
    def test_decimals_of_any_exponent(self, coefficient, exponent, quantum):
        """coefficient x 10**exponent is a whole number of quanta exactly when the fraction is,
        and then converts to it, whatever the Decimal's exponent (12.3400 or 1.2E+3)."""
        value = Decimal((0 if coefficient >= 0 else 1, tuple(map(int, str(abs(coefficient)))),
                         exponent))  # fmt: skip
        ratio = Fraction(value) / Fraction(Decimal(quantum))
        metric = metric_with(quantum)
        if ratio.denominator == 1 and abs(ratio) <= 2**53:
            assert metric.to_quanta(value) == ratio.numerator
        else:
            with pytest.raises(QuantumError):
                metric.to_quanta(value)

    @given(q=WITHIN_LIMIT, quantum=st.sampled_from(QUANTA))
    def test_round_trip_from_quanta(self, q, quantum):
        """to_quanta(from_quanta(q)) == q for every q within the limit and quanta 0.01, 1, 1000, 0.5."""
        metric = metric_with(quantum)
        assert metric.to_quanta(metric.from_quanta(q)) == q

    @given(q=WITHIN_LIMIT, quantum=st.sampled_from(QUANTA))
    def test_round_trip_decimal_strings(self, q, quantum):
        """The printed value, as a string with its unit, reads back to the same quanta."""
        metric = metric_with(quantum)
        text = f"{metric.from_quanta(q)} CNY"
        assert metric.to_quanta(text) == q
        assert metric.to_quanta(f"{metric.from_quanta(q):E} CNY") == q

    @given(q=WITHIN_LIMIT, quantum=st.sampled_from(QUANTA))
    def test_round_trip_in_wan(self, q, quantum):
        """The same amount written in wan reads back to the same quanta."""
        metric = metric_with(quantum)
        wan = Decimal(q) * Decimal(quantum) / 10_000  # exact: at most 23 significant digits
        assert metric.to_quanta(f"{wan} wan CNY") == q

    @given(
        q=MODERATE,
        quantum=st.sampled_from(QUANTA),
        ulps=st.integers(min_value=-1, max_value=1),
    )
    def test_float_within_representation_error_property(self, q, quantum, ulps):
        """The nearest float to q quanta, even one ulp off, converts back to q."""
        value = float(Fraction(q) * Fraction(quantum))
        for _ in range(abs(ulps)):
            value = math.nextafter(value, math.copysign(math.inf, ulps))
        assert metric_with(quantum).to_quanta(value) == q

    @given(
        q=MODERATE,
        quantum=st.sampled_from(QUANTA),
        kind=st.sampled_from(["str", "decimal", "float", "quantity"]),
        rounding=st.sampled_from(list(Rounding)),
    )
    def test_half_a_quantum_off(self, q, quantum, kind, rounding):
        """(q + 1/2) quanta is refused without rounding and rounded per mode when asked."""
        exact = (Decimal(2 * q + 1) * Decimal(quantum)) / 2  # exact: few significant digits
        value = {
            "str": f"{exact} CNY",
            "decimal": exact,
            "float": float(exact),
            "quantity": Quantity(exact, "CNY"),
        }[kind]
        metric = metric_with(quantum)
        with pytest.raises(QuantumError) as info:
            metric.to_quanta(value)
        assert info.value.metric == "revenue"
        # Expected by integer arithmetic on the fraction (2q + 1) / 2, not by the decimal module.
        expected = {
            Rounding.FLOOR: (2 * q + 1) // 2,
            Rounding.CEILING: -((-(2 * q + 1)) // 2),
            Rounding.HALF_UP: half_up(2 * q + 1, 2),
            Rounding.HALF_EVEN: q if q % 2 == 0 else q + 1,
        }[rounding]
        assert metric.to_quanta(value, rounding=rounding) == expected

    @given(
        q=MODERATE,
        quantum=st.sampled_from(QUANTA),
        offset=st.integers(min_value=1, max_value=99),
        rounding=st.sampled_from(list(Rounding)),
    )
    def test_off_grid_decimals_round_as_asked(self, q, quantum, offset, rounding):
        """q + offset/100 quanta rounds per mode, checked against integer arithmetic."""
        numerator = 100 * q + offset  # the value is numerator / 100 quanta
        value = Decimal(numerator) * Decimal(quantum) / 100
        expected = {
            Rounding.FLOOR: numerator // 100,
            Rounding.CEILING: -(-numerator // 100),
            Rounding.HALF_UP: half_up(numerator, 100),
            Rounding.HALF_EVEN: round(Fraction(numerator, 100)),  # Python rounds half to even
        }[rounding]
        assert metric_with(quantum).to_quanta(value, rounding=rounding) == expected

    @given(q=MODERATE, fraction=st.integers(min_value=1, max_value=9))
    def test_quantum_error_pickles(self, q, fraction):
        """A QuantumError survives pickling with its message, metric, actual value and hint."""
        value = Decimal(q) / 100 + Decimal(fraction) / 1000
        with pytest.raises(QuantumError) as info:
            REVENUE.to_quanta(value)
        err = info.value
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is QuantumError
        assert str(back) == str(err)
        assert (back.metric, back.actual, back.hint) == (err.metric, err.actual, err.hint)

    def test_quantum_error_from_a_quantity_pickles(self):
        """A QuantumError raised for a pint quantity input also survives pickling."""
        with pytest.raises(QuantumError) as info:
            REVENUE.to_quanta(Quantity(Decimal("0.125"), "CNY"))
        back = pickle.loads(pickle.dumps(info.value))
        assert str(back) == str(info.value)
        assert back.actual == info.value.actual


class TestMetricToQuantaMany:
    """``to_quanta_many`` is ``to_quanta`` value by value (its batch shortcut for Decimals and ints
    must give the same numbers and refuse the same values)."""

    def test_hand_checked(self):
        """Cents: 12.34 -> 1234, 5 -> 500, '0.5 CNY' -> 50, 0.1 + 0.2 -> 30 (float path)."""
        m = Metric(name="revenue", unit="CNY")
        assert m.to_quanta_many([Decimal("12.34"), 5, "0.5 CNY", 0.1 + 0.2]) == [1234, 500, 50, 30]
        thousands = Metric(name="revenue", unit="CNY", quantum="1000")
        assert thousands.to_quanta_many([Decimal("2E+3"), 5000, Decimal("1000.000")]) == [2, 5, 1]

    @given(
        st.sampled_from(["0.01", "1", "1000", "0.05", "0.25"]),
        st.lists(
            st.one_of(
                st.decimals(allow_nan=True, allow_infinity=True, places=None).filter(
                    lambda d: not d.is_finite() or abs(d.adjusted()) < 30
                ),
                st.integers(-(10**15), 10**15).map(lambda i: Decimal(i).scaleb(-2)),
                st.integers(-(10**12), 10**12),
                st.floats(-1e9, 1e9, allow_nan=False),
                st.sampled_from(["1.5 CNY", "0.001 CNY", "2 wan CNY"]),
            ),
            max_size=8,
        ),
        st.sampled_from([None, Rounding.HALF_EVEN]),
    )
    def test_same_as_one_by_one(self, quantum, values, rounding):
        """The same list as ``to_quanta`` per value, or the same error for the first refused."""
        m = Metric(name="revenue", unit="CNY", quantum=quantum)
        expected, error = [], None
        for value in values:
            try:
                expected.append(m.to_quanta(value, rounding=rounding))
            except QuantumError as e:
                error = e
                break
        if error is None:
            assert m.to_quanta_many(values, rounding=rounding) == expected
        else:
            with pytest.raises(QuantumError) as info:
                m.to_quanta_many(values, rounding=rounding)
            assert str(info.value) == str(error)


class TestMetricFromQuanta:
    @pytest.mark.parametrize(
        ("metric", "quanta", "text"),
        [
            (REVENUE, 123_456, "1234.56"),
            (REVENUE, 100, "1.00"),
            (REVENUE, 0, "0.00"),
            (REVENUE, -5, "-0.05"),
            (CUSTOMERS, 35, "35"),
            (REVENUE_K, 1200, "1200000"),
            (HALVES, 5, "2.5"),
            (HALVES, 4, "2.0"),
        ],
        ids=repr,
    )
    def test_hand_checked(self, metric, quanta, text):
        """from_quanta is quanta x quantum, with the quantum's number of decimal places."""
        value = metric.from_quanta(quanta)
        assert isinstance(value, Decimal)
        assert str(value) == text

    def test_numpy_integer(self):
        """An int64 read out of a plan grid converts like an int."""
        assert REVENUE.from_quanta(np.int64(150)) == Decimal("1.50")

    def test_quantum_in_exponent_form(self):
        """A quantum written '1e3' prints plain numbers: 2 quanta is '2000', not '2E+3'."""
        metric = metric_with("1e3")
        assert metric.from_quanta(2) == 2000
        assert str(metric.from_quanta(2)) == "2000"

    def test_beyond_decimal_precision(self):
        """10**30 + 1 cents is exactly 10**28 + 0.01 CNY (more digits than decimal's default 28)."""
        assert REVENUE.from_quanta(10**30 + 1) == Decimal("10000000000000000000000000000.01")

    def test_independent_of_callers_decimal_context(self):
        """A caller's low decimal precision does not change the result."""
        with localcontext() as context:
            context.prec = 6
            assert str(REVENUE.from_quanta(123_456_789)) == "1234567.89"

    @pytest.mark.parametrize("bad", [1.5, Decimal("2.5")], ids=repr)
    def test_non_integer_quanta_are_refused(self, bad):
        """A fractional number of quanta raises QuantumError instead of being truncated."""
        with pytest.raises(QuantumError):
            REVENUE.from_quanta(bad)


class TestMetricQuantity:
    def test_value_and_unit(self):
        """quantity(150) is 1.50 CNY with an exact Decimal magnitude in the library registry."""
        quantity = REVENUE.quantity(150)
        assert quantity.magnitude == Decimal("1.50")
        assert isinstance(quantity.magnitude, Decimal)
        assert quantity.units == ureg.Unit("CNY")
        assert quantity._REGISTRY is ureg

    def test_scaled_unit(self):
        """A wan CNY metric gives quantities in wan CNY: 150 quanta is 1.50 wan CNY = 15000 CNY."""
        quantity = Metric(name="revenue", unit="wan CNY").quantity(150)
        assert quantity == parse_quantity("15000 CNY")

    def test_adds_with_same_currency_only(self):
        """The quantity adds to CNY and refuses USD."""
        assert REVENUE.quantity(150) + parse_quantity("1 CNY") == parse_quantity("2.5 CNY")
        with pytest.raises(UnitMismatchError):
            REVENUE.quantity(150) + parse_quantity("1 USD")

    @given(q=WITHIN_LIMIT)
    def test_round_trips_through_to_quanta(self, q):
        """to_quanta(quantity(q)) == q."""
        assert REVENUE.to_quanta(REVENUE.quantity(q)) == q


class TestMetricFormat:
    @pytest.mark.parametrize(
        ("metric", "quanta", "text"),
        [
            (REVENUE, 123_456_789, "1,234,567.89 CNY"),
            (REVENUE, -123_456_789, "-1,234,567.89 CNY"),
            (REVENUE, 0, "0.00 CNY"),
            (REVENUE, 5, "0.05 CNY"),
            (REVENUE, 100_000, "1,000.00 CNY"),
            (CUSTOMERS, 1_234_567, "1,234,567 customer"),
            (REVENUE_K, 1234, "1,234,000 CNY"),
            (HALVES, 5, "2.5 visit"),
            (MARGIN, 1234, "12.34 percent"),
        ],
        ids=repr,
    )
    def test_hand_checked(self, metric, quanta, text):
        """Thousands separators, the quantum's decimals and the canonical unit."""
        assert metric.format(quanta) == text

    def test_scaled_unit(self):
        """A wan CNY metric shows its canonical unit label."""
        assert Metric(name="revenue", unit="CNY wan").format(123_456) == "1,234.56 wan * CNY"

    def test_quantum_in_exponent_form(self):
        """A quantum written '1e3' still formats plainly: 2000 quanta is 2,000,000 CNY."""
        assert metric_with("1e3").format(2000) == "2,000,000 CNY"


class TestMetricToDict:
    def test_hand_checked(self):
        """to_dict spells every field as JSON-safe text."""
        assert MARGIN.to_dict() == {
            "name": "gross_margin",
            "unit": "percent",
            "quantum": "0.01",
            "rollup": "ratio",
            "numerator": "profit",
            "denominator": "revenue",
            "direction": "higher",
            "non_negative": True,
            "description": "",
        }

    @pytest.mark.parametrize("metric", ALL_METRICS, ids=metric_id)
    def test_json_round_trip(self, metric):
        """A metric survives to_dict -> JSON -> from_dict unchanged."""
        data = json.loads(json.dumps(metric.to_dict()))
        assert Metric.from_dict(data) == metric

    @given(
        unit=st.sampled_from(["CNY", "wan CNY", "USD", "customer", "deal", "CNY / customer"]),
        quantum=st.one_of(st.none(), st.sampled_from(["0.01", "1", "1000", "0.5", "0.25", "100"])),
        rollup=st.sampled_from(["sum", "none"]),
        direction=st.sampled_from(list(Direction)),
        non_negative=st.booleans(),
        description=st.text(max_size=20),
    )
    def test_round_trip_property(self, unit, quantum, rollup, direction, non_negative, description):
        """Any sum/none metric survives to_dict -> JSON -> from_dict."""
        metric = Metric(
            name="m",
            unit=unit,
            quantum=quantum,
            rollup=rollup,
            direction=direction,
            non_negative=non_negative,
            description=description,
        )
        assert Metric.from_dict(json.loads(json.dumps(metric.to_dict()))) == metric


class TestMetricFromDict:
    def test_minimal(self):
        """Only name and unit are required; the rest take their defaults."""
        metric = Metric.from_dict({"name": "deals", "unit": "deal"})
        assert metric == Metric(name="deals", unit="deal")
        assert metric.quantum == Decimal(1)

    @pytest.mark.parametrize("data", [{"name": "x"}, {"unit": "CNY"}, {}], ids=str)
    def test_missing_keys(self, data):
        """A definition without name or unit raises MetricError saying both are needed."""
        with pytest.raises(MetricError, match="needs 'name' and 'unit'"):
            Metric.from_dict(data)

    def test_unknown_key(self):
        """An unknown key raises MetricError naming it and listing the allowed keys."""
        with pytest.raises(MetricError, match=r"unknown keys \['colour'\]") as info:
            Metric.from_dict({"name": "revenue", "unit": "CNY", "colour": "red"})
        assert "quantum" in str(info.value)

    def test_bad_rollup(self):
        """A bad rollup string raises MetricError quoting it."""
        with pytest.raises(MetricError, match="'avg'"):
            Metric.from_dict({"name": "revenue", "unit": "CNY", "rollup": "avg"})

    def test_bad_quantum_names_the_metric(self):
        """A bad quantum raises MetricError naming the metric it belongs to."""
        with pytest.raises(MetricError, match="revenue"):
            Metric.from_dict({"name": "revenue", "unit": "CNY", "quantum": "abc"})

    def test_bad_unit(self):
        """An unknown unit raises UnitParseError naming it."""
        with pytest.raises(UnitParseError, match="'xyz'"):
            Metric.from_dict({"name": "revenue", "unit": "xyz"})

    @pytest.mark.parametrize("data", [None, [], "revenue"], ids=repr)
    def test_not_a_dict(self, data):
        """Something that is not a dict raises MetricError, not a bare TypeError."""
        with pytest.raises(MetricError):
            Metric.from_dict(data)


class TestSizeLimit:
    """Amounts beyond 2**53 quanta are refused at the door, naming the metric and the limit (#21.5)."""

    LIMIT = "90,071,992,547,409.92 CNY"  # 2**53 = 9,007,199,254,740,992 cents

    @pytest.mark.parametrize(
        "value",
        [
            "1e20 CNY",
            Decimal("1e20"),
            10**20,
            1e20,
            Decimal("-1e999999"),
            10**6000,
            1e300,
            -1.7e308,
        ],
        ids=[
            "str",
            "decimal",
            "int",
            "float",
            "decimal-1e999999",
            "int-1e6000",
            "float-1e300",
            "float-max",
        ],
    )
    def test_beyond_the_limit_is_refused(self, value):
        """1e20 CNY (and any larger amount, of any type) is a QuantumError naming the limit in CNY."""
        with pytest.raises(QuantumError) as info:
            REVENUE.to_quanta(value)
        assert "revenue" in str(info.value)
        assert self.LIMIT in str(info.value)
        assert info.value.expected == 2**53

    @pytest.mark.parametrize("sign", [1, -1])
    def test_the_limit_itself_is_accepted(self, sign):
        """90,071,992,547,409.92 CNY is exactly 2**53 cents and is accepted; one cent more is not."""
        assert REVENUE.to_quanta(sign * Decimal("90071992547409.92")) == sign * 2**53
        assert REVENUE.to_quanta(f"{sign * Decimal('90071992547409.92')} CNY") == sign * 2**53
        with pytest.raises(QuantumError, match="size limit"):
            REVENUE.to_quanta(sign * Decimal("90071992547409.93"))
        with pytest.raises(QuantumError, match="size limit"):
            REVENUE.to_quanta(sign * (2**53 + 1) // 100 + sign)

    def test_rounding_does_not_pass_the_limit(self):
        """Rounding up to one quantum past the limit is refused too."""
        with pytest.raises(QuantumError, match="size limit"):
            REVENUE.to_quanta(Decimal("90071992547409.925"), rounding=Rounding.CEILING)

    def test_limit_is_in_the_metric_unit(self):
        """A metric of thousands of CNY names its own limit: 2**53 x 1000 CNY."""
        with pytest.raises(QuantumError, match=r"9,007,199,254,740,992,000 CNY"):
            REVENUE_K.to_quanta("1e25 CNY")

    @pytest.mark.parametrize("values", [[Decimal("1e20")], [10**20], [Decimal("1E+999999")]])
    def test_many_refuses_as_one_by_one(self, values):
        """to_quanta_many's fast paths refuse what to_quanta refuses."""
        with pytest.raises(QuantumError, match="size limit"):
            REVENUE.to_quanta_many([Decimal(1), *values])

    def test_many_at_the_boundary(self):
        """to_quanta_many agrees with to_quanta on either side of 2**53 cents, ints and Decimals."""
        edge = Decimal("90071992547409.92")  # 2**53 cents
        assert REVENUE.to_quanta_many([edge, -edge]) == [2**53, -(2**53)]
        assert REVENUE.to_quanta_many([90071992547409]) == [9007199254740900]
        for beyond in ([90071992547410], [edge + Decimal("0.01")], [-edge - Decimal("0.01")]):
            with pytest.raises(QuantumError, match="size limit"):
                REVENUE.to_quanta_many(beyond)

    def test_callers_decimal_context_cannot_let_a_value_past(self):
        """Under a caller's 1-digit context, 2**53 + 1 still does not pass to_quanta_many."""
        deals = Metric(name="deals", unit="deal")
        with localcontext() as context:
            context.prec = 1
            with pytest.raises(QuantumError, match="size limit"):
                deals.to_quanta_many([Decimal(2**53 + 1)])
            assert deals.to_quanta_many([Decimal(2**53)]) == [2**53]

    def test_tiny_values_round_as_any_value_below_a_quantum(self):
        """1e-99999999 CNY is below a cent: refused without rounding, 0 or 1 cent when rounded."""
        tiny = Decimal("1e-99999999")
        with pytest.raises(QuantumError, match="not a whole number"):
            REVENUE.to_quanta(tiny)
        assert REVENUE.to_quanta(tiny, rounding=Rounding.CEILING) == 1
        assert REVENUE.to_quanta(Decimal("-1e-99999999"), rounding=Rounding.FLOOR) == -1
        assert REVENUE.to_quanta(tiny, rounding=Rounding.HALF_UP) == 0


class TestQuantumLimits:
    """A quantum lies in [1e-20, 1e20] with at most 20 significant digits (#21.6)."""

    @pytest.mark.parametrize(
        "quantum", ["1e-999999", "1e-21", "1e21", "2e20", "0.123456789012345678901", "1" * 1000]
    )
    def test_outside_is_refused(self, quantum):
        """A quantum beyond the limits is a MetricError naming the metric and the limits."""
        with pytest.raises(MetricError) as info:
            Metric(name="revenue", unit="CNY", quantum=quantum)
        assert "'revenue'" in str(info.value)
        assert "between 1e-20 and 1e20 with at most 20 significant digits" in str(info.value)

    @pytest.mark.parametrize(
        "quantum", ["1e-20", "1e20", "0.12345678901234567890", "1234567890.1234567890000"]
    )
    def test_the_limits_themselves_are_accepted(self, quantum):
        """The extreme quanta are accepted; trailing zeros are not significant digits."""
        assert Metric(name="revenue", unit="CNY", quantum=quantum).quantum == Decimal(quantum)

    def test_smallest_quantum_converts(self):
        """With a quantum of 1e-20, 0.01 is 10**18 quanta... beyond the limit, refused at once."""
        tiny = Metric(name="tiny", unit="CNY", quantum="1e-20")
        assert tiny.to_quanta("0.00001 CNY") == 10**15
        with pytest.raises(QuantumError, match="size limit"):
            tiny.to_quanta("0.01 CNY")


class TestStrictFields:
    """Names are matched in full and flags must be real bools (#21.10)."""

    @pytest.mark.parametrize("name", ["revenue\n", "revenue\r\n", "\nrevenue", "revenue "])
    def test_name_with_a_newline_is_refused(self, name):
        """'revenue\\n' is not a valid name ($ would have matched before the newline)."""
        with pytest.raises(MetricError, match="is not a valid name"):
            Metric(name=name, unit="CNY")

    def test_ratio_part_with_a_newline_is_refused(self):
        """A numerator 'profit\\n' is not a metric name."""
        with pytest.raises(MetricError, match="numerator"):
            Metric(
                name="margin",
                unit="percent",
                rollup="ratio",
                numerator="profit\n",
                denominator="revenue",
            )

    @pytest.mark.parametrize("flag", ["false", "true", 0, 1, None, 0.0])
    def test_non_negative_must_be_a_bool(self, flag):
        """non_negative='false' (truthy) and 0 are refused, naming the field and the value."""
        with pytest.raises(MetricError) as info:
            Metric(name="profit", unit="CNY", non_negative=flag)
        assert "non_negative" in str(info.value)
        assert repr(flag) in str(info.value)

    @pytest.mark.parametrize("flag", [True, False])
    def test_bools_are_accepted(self, flag):
        """True and False are what they say."""
        assert Metric(name="profit", unit="CNY", non_negative=flag).non_negative is flag

    def test_description_must_be_text(self):
        """A description that is not a string is refused."""
        with pytest.raises(MetricError, match="description"):
            Metric(name="profit", unit="CNY", description=3)

    def test_from_dict_refuses_a_string_flag(self):
        """A JSON file with "non_negative": "false" is refused, not read as true."""
        with pytest.raises(MetricError, match="non_negative"):
            Metric.from_dict({"name": "profit", "unit": "CNY", "non_negative": "false"})


class TestFloatRule:
    """One float rule: a float amount within 4 ulps of whole quanta is those quanta (#21.4)."""

    @pytest.mark.parametrize(
        ("value", "quanta"),
        [
            (0.1 + 0.2, 30),  # 0.30000000000000004
            (sum([0.1] * 10), 100),  # 0.9999999999999999
            (1.1 * 3, 330),  # 3.3000000000000003
            (np.float64(0.1) + np.float64(0.2), 30),
        ],
        ids=["0.1+0.2", "ten-tenths", "1.1x3", "numpy"],
    )
    def test_representation_error_is_absorbed(self, value, quanta):
        """Floats a few ulps off a whole number of cents are those cents, by every door."""
        assert REVENUE.to_quanta(value) == quanta
        assert REVENUE.to_quanta_many([value, value]) == [quanta, quanta]
        assert REVENUE.to_quanta(Quantity(value, "CNY")) == quanta

    def test_numpy_arrays(self):
        """Elements of numpy arrays follow the same rule: float64 sums absorbed, int64 exact."""
        assert REVENUE.to_quanta_many(np.array([0.1 + 0.2, 1.1 * 3])) == [30, 330]
        assert REVENUE.to_quanta_many(np.array([7, -2], dtype=np.int64)) == [700, -200]
        with pytest.raises(QuantumError, match="size limit"):
            REVENUE.to_quanta_many(np.array([2**63 + 5], dtype=np.uint64))

    def test_scaled_unit_float(self):
        """0.3 wan CNY given as a float quantity is 3000 CNY, 300000 cents."""
        assert REVENUE.to_quanta(Quantity(0.3, "wan CNY")) == 300_000

    @pytest.mark.parametrize(
        "value",
        [0.30000000000000054, 0.125, np.float32(0.1)],
        ids=["15-ulps-off", "eighth", "float32-tenth"],
    )
    def test_farther_is_refused(self, value):
        """A float farther than 4 ulps (0.3 + 5.4e-16: about 15 ulps of 30) is not whole quanta."""
        with pytest.raises(QuantumError, match="not a whole number"):
            REVENUE.to_quanta(value)
        with pytest.raises(QuantumError, match="not a whole number"):
            REVENUE.to_quanta_many([value])

    def test_rounding_reads_the_printed_decimal(self):
        """With a rounding rule, a float is the decimal it prints as: 0.125 rounds to 12 or 13."""
        assert REVENUE.to_quanta(0.125, rounding=Rounding.HALF_EVEN) == 12
        assert REVENUE.to_quanta(0.125, rounding=Rounding.HALF_UP) == 13
        assert REVENUE.to_quanta_many([0.125], rounding=Rounding.HALF_UP) == [13]

    def test_stored_value_round_trips(self):
        """What is stored is what was accepted: 0.1 + 0.2 CNY is stored and printed as 0.30."""
        quanta = REVENUE.to_quanta(0.1 + 0.2)
        assert str(REVENUE.from_quanta(quanta)) == "0.30"
        assert REVENUE.to_quanta(str(REVENUE.from_quanta(quanta))) == quanta
