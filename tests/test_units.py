"""Tests for targetcascade.units: the library's pint registry and its parsers."""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pint
import pytest
from hypothesis import given
from hypothesis import strategies as st

import targetcascade.units as units_module
from targetcascade.errors import TargetCascadeError, UnitMismatchError, UnitParseError
from targetcascade.units import (
    COUNT_UNITS,
    CURRENCIES,
    SCALE_WORDS,
    Quantity,
    Unit,
    as_quantity,
    define_count_unit,
    define_currency,
    format_unit,
    is_currency,
    parse_quantity,
    parse_unit,
    ureg,
)

# Names this file adds to the shared module-level registry. They are unique to these tests and the
# define_* functions are idempotent, so running the tests twice in one process is harmless.
TEST_CURRENCY = "XTS"  # ISO 4217 reserves XTS "for testing purposes"
TEST_COUNT = "ticket"

SRC_DIR = Path(units_module.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def foreign() -> pint.UnitRegistry:
    """A pint registry that is not the library's, with its own CNY and wan."""
    registry = pint.UnitRegistry()
    registry.define("CNY = [money]")
    registry.define("wan = 10000")
    registry.define("FOO = [foo]")
    return registry


def run_fresh(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter, so registry mutations cannot leak into this process."""
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


def mismatch(a: str, b: str) -> UnitMismatchError:
    """Add two quantity strings and return the error it must raise."""
    with pytest.raises(UnitMismatchError) as info:
        parse_quantity(a) + parse_quantity(b)
    return info.value


class TestModule:
    def test_all_names_resolve(self):
        """Every name in units.__all__ is an attribute of the module."""
        missing = [name for name in units_module.__all__ if not hasattr(units_module, name)]
        assert missing == []


class TestUreg:
    @pytest.mark.parametrize(("a", "b"), list(itertools.combinations(CURRENCIES, 2)))
    def test_currencies_never_add(self, a, b):
        """Adding two different currencies raises UnitMismatchError naming both, never sums."""
        err = mismatch(f"1 {a}", f"2 {b}")
        assert a in str(err)
        assert b in str(err)

    @pytest.mark.parametrize(("a", "b"), list(itertools.combinations(COUNT_UNITS, 2)))
    def test_count_units_never_add(self, a, b):
        """Each count unit is its own dimension: 3 customers + 2 deals is an error."""
        err = mismatch(f"3 {a}", f"2 {b}")
        assert a in str(err)
        assert b in str(err)

    @pytest.mark.parametrize("count", COUNT_UNITS)
    @pytest.mark.parametrize("currency", ["CNY", "USD"])
    def test_counts_and_currencies_never_add(self, count, currency):
        """A count never adds to money."""
        mismatch(f"3 {count}", f"2 {currency}")

    def test_cny_plus_usd_is_a_type_error_too(self):
        """CNY + USD can be caught as the builtin TypeError as well as the library's own error."""
        with pytest.raises(TypeError):
            parse_quantity("1 CNY") + parse_quantity("1 USD")
        with pytest.raises(TargetCascadeError):
            parse_quantity("1 CNY") - parse_quantity("1 USD")

    def test_mismatch_error_fields(self):
        """The error carries the two units as expected/actual and a hint on what to do."""
        err = mismatch("1 CNY", "1 USD")
        assert (err.expected, err.actual) == ("CNY", "USD")
        assert err.hint
        assert "convert" in err.hint

    def test_mismatch_error_pickles(self):
        """A dimension error survives pickling with its message and fields."""
        err = mismatch("1 CNY", "1 USD")
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is UnitMismatchError
        assert str(back) == str(err)
        assert (back.expected, back.actual, back.hint) == (err.expected, err.actual, err.hint)

    def test_float_magnitudes_also_refuse(self):
        """The mismatch check does not depend on the magnitude type."""
        with pytest.raises(UnitMismatchError):
            Quantity(1.5, "CNY") + Quantity(2, "USD")

    def test_comparing_currencies_raises(self):
        """Ordering CNY against USD is a unit error, not an arbitrary answer."""
        with pytest.raises(UnitMismatchError):
            parse_quantity("1 CNY") < parse_quantity("1 USD")  # noqa: B015 - the comparison raises

    def test_converting_between_currencies_raises(self):
        """There is no implicit exchange rate: CNY.to('USD') is an error."""
        with pytest.raises(UnitMismatchError, match="USD"):
            parse_quantity("7 CNY").to("USD")

    def test_equality_across_currencies_is_false(self):
        """Equality is allowed and says False: 1 CNY is not 1 USD."""
        assert parse_quantity("1 CNY") != parse_quantity("1 USD")

    def test_same_currency_adds(self):
        """Amounts in one currency add exactly: 1.5 wan + 2500 = 17500 CNY."""
        total = parse_quantity("1.5 wan CNY") + parse_quantity("2500 CNY")
        assert total == parse_quantity("17500 CNY")
        assert total.magnitude == Decimal(17500)

    def test_yuan_and_rmb_are_cny(self):
        """'yuan' and 'RMB' are the same dimension as CNY, 1:1."""
        assert parse_quantity("1 CNY") + parse_quantity("1 yuan") == parse_quantity("2 CNY")
        assert parse_quantity("3 RMB") == parse_quantity("3 CNY")

    def test_percent_is_dimensionless(self):
        """5 percent is 0.05 of one."""
        five = parse_quantity("5 percent")
        assert five.dimensionality == ureg.dimensionless.dimensionality
        assert five.to("dimensionless").magnitude == Decimal("0.05")

    def test_scale_words_are_dimensionless_factors(self):
        """'3 wan' is the plain number 30000."""
        assert parse_quantity("3 wan") == parse_quantity("30000")


class TestCurrencies:
    def test_contents(self):
        """The built-in currencies include CNY, USD, EUR, JPY, GBP and HKD."""
        assert set(CURRENCIES) >= {"CNY", "USD", "EUR", "JPY", "GBP", "HKD"}

    @pytest.mark.parametrize("code", CURRENCIES)
    def test_each_is_its_own_dimension(self, code):
        """A currency's dimension is its own, named after its code."""
        assert dict(parse_unit(code).dimensionality) == {f"[currency_{code}]": 1}


class TestCountUnits:
    def test_contents(self):
        """The count units are exactly the eight sales counts of the issue."""
        assert set(COUNT_UNITS) == {
            "customer",
            "deal",
            "lead",
            "visit",
            "call",
            "proposal",
            "order",
            "unit",
        }

    @pytest.mark.parametrize("name", COUNT_UNITS)
    def test_each_is_its_own_dimension(self, name):
        """A count unit's dimension is its own."""
        assert dict(parse_unit(name).dimensionality) == {f"[count_{name}]": 1}

    @pytest.mark.parametrize("name", COUNT_UNITS)
    def test_plural_parses(self, name):
        """'35 customers' means 35 customer (pint's plural rule)."""
        assert parse_quantity(f"35 {name}s") == parse_quantity(f"35 {name}")


class TestScaleWords:
    def test_factors(self):
        """The scale words are the exact integer factors a person knows them as."""
        assert SCALE_WORDS == {
            "thousand": 1_000,
            "wan": 10_000,
            "million": 1_000_000,
            "yi": 100_000_000,
            "billion": 1_000_000_000,
        }
        assert all(type(factor) is int for factor in SCALE_WORDS.values())

    @pytest.mark.parametrize("word", list(SCALE_WORDS))
    def test_each_word_scales_a_currency(self, word):
        """'2 <word> CNY' is 2 x factor CNY."""
        assert parse_quantity(f"2 {word} CNY").magnitude == 2 * SCALE_WORDS[word]


class TestQuantity:
    def test_is_the_registry_quantity(self):
        """units.Quantity builds quantities of the library's registry."""
        assert Quantity is ureg.Quantity
        assert Quantity(3, "CNY")._REGISTRY is ureg

    def test_pickles(self):
        """A quantity of the library's registry survives pickling (e.g. to a worker process)."""
        original = parse_quantity("1.5 wan CNY")
        back = pickle.loads(pickle.dumps(original))
        assert back == original
        assert back.magnitude == Decimal(15000)
        with pytest.raises(UnitMismatchError):
            back + parse_quantity("1 USD")

    def test_pickles_counts(self):
        """A count quantity survives pickling."""
        original = parse_quantity("35 customers")
        assert pickle.loads(pickle.dumps(original)) == original


class TestUnit:
    def test_is_the_registry_unit(self):
        """units.Unit builds units of the library's registry."""
        assert Unit is ureg.Unit
        assert Unit("CNY") == parse_unit("CNY")

    def test_pickles(self):
        """A unit of the library's registry survives pickling."""
        assert pickle.loads(pickle.dumps(Unit("CNY"))) == Unit("CNY")


class TestParseQuantity:
    @pytest.mark.parametrize(
        "text", ["12000 wan CNY", "1.2 yi CNY", "120 million CNY", "1.2e8 CNY"]
    )
    def test_issue_examples_are_the_same_amount(self, text):
        """The four spellings in the issue all parse to 120,000,000 CNY exactly."""
        quantity = parse_quantity(text)
        assert quantity.units == ureg.Unit("CNY")
        assert isinstance(quantity.magnitude, Decimal)
        assert quantity.magnitude == Decimal(120_000_000)

    @pytest.mark.parametrize(
        ("text", "magnitude", "unit"),
        [
            ("0.1 wan CNY", Decimal(1000), "CNY"),
            ("0.5 thousand USD", Decimal(500), "USD"),
            ("1 billion JPY", Decimal(1_000_000_000), "JPY"),
            ("1 yi wan CNY", Decimal(10**12), "CNY"),
            ("1 wan wan CNY", Decimal(10**8), "CNY"),
            ("1 CNY wan", Decimal(10_000), "CNY"),
            ("12000wan CNY", Decimal(120_000_000), "CNY"),
            ("-2.5 wan CNY", Decimal(-25_000), "CNY"),
            ("+.5 CNY", Decimal("0.5"), "CNY"),
            ("12.34 CNY", Decimal("12.34"), "CNY"),
            ("35 customers", Decimal(35), "customer"),
            ("3 wan / customer CNY", Decimal(30_000), "CNY / customer"),
            ("1 CNY / wan", Decimal("0.0001"), "CNY"),
            ("5 percent", Decimal(5), "percent"),
            ("1e3", Decimal(1000), "dimensionless"),
        ],
    )
    def test_hand_checked(self, text, magnitude, unit):
        """Scale words are folded into an exact Decimal magnitude; other units are kept."""
        quantity = parse_quantity(text)
        assert isinstance(quantity.magnitude, Decimal)
        assert quantity.magnitude == magnitude
        assert quantity.units == parse_unit(unit)

    def test_no_binary_rounding(self):
        """0.1 wan is exactly 1000, not 1000.0000000000001."""
        assert parse_quantity("0.1 wan CNY").magnitude == 1000
        assert parse_quantity("0.3 CNY").magnitude == Decimal("0.3")

    def test_large_amounts_stay_exact(self):
        """1e30 CNY parses to exactly 10**30, not a decimal-context error."""
        assert parse_quantity("1e30 CNY").magnitude == 10**30

    @given(
        mantissa=st.integers(min_value=-(10**15), max_value=10**15),
        exponent=st.integers(min_value=-10, max_value=6),
        scientific=st.booleans(),
    )
    def test_wan_is_exactly_ten_thousand(self, mantissa, exponent, scientific):
        """'<decimal> wan CNY' has magnitude decimal x 10^4 exactly, in plain or E notation."""
        number = Decimal(f"{mantissa}E{exponent}")
        text = f"{number} wan CNY" if scientific else f"{number:f} wan CNY"
        quantity = parse_quantity(text)
        assert isinstance(quantity.magnitude, Decimal)
        assert Fraction(quantity.magnitude) == Fraction(mantissa) * Fraction(10) ** exponent * 10**4
        assert quantity.units == ureg.Unit("CNY")

    @given(
        mantissa=st.integers(min_value=0, max_value=10**9),
        exponent=st.integers(min_value=-4, max_value=0),
        words=st.lists(st.sampled_from(list(SCALE_WORDS)), max_size=2),
    )
    def test_scale_words_multiply_in(self, mantissa, exponent, words):
        """Up to two scale words, in any order, multiply the number by their factors' product."""
        number = Decimal(f"{mantissa}E{exponent}")
        quantity = parse_quantity(f"{number:f} {' '.join(words)} CNY")
        factor = 1
        for word in words:
            factor *= SCALE_WORDS[word]
        assert (
            Fraction(quantity.magnitude) == Fraction(mantissa) * Fraction(10) ** exponent * factor
        )

    @pytest.mark.parametrize("text", ["CNY", "", "   ", "abc CNY", "nan CNY", "inf CNY", "- 3 CNY"])
    def test_no_leading_number(self, text):
        """Text without a leading number raises UnitParseError quoting the text."""
        with pytest.raises(UnitParseError) as info:
            parse_quantity(text)
        assert repr(text) in str(info.value)
        assert "<number> <unit>" in str(info.value)

    def test_unknown_unit(self):
        """An unknown unit raises UnitParseError naming it, with a hint to define it."""
        with pytest.raises(UnitParseError, match="'foo'") as info:
            parse_quantity("12 foo")
        assert "define_currency" in str(info.value)
        assert isinstance(info.value, ValueError)

    @pytest.mark.parametrize("text", ["1,000 CNY", "1 000 CNY", "3 wan 2 CNY"])
    def test_malformed_numbers(self, text):
        """A thousands separator or a second number is a UnitParseError, not pint's bare error."""
        with pytest.raises(UnitParseError) as info:
            parse_quantity(text)
        assert text.split(" ", 1)[1] in str(info.value)

    def test_error_pickles(self):
        """A parse error survives pickling with its message and hint."""
        with pytest.raises(UnitParseError) as info:
            parse_quantity("12 foo")
        back = pickle.loads(pickle.dumps(info.value))
        assert type(back) is UnitParseError
        assert str(back) == str(info.value)
        assert back.hint == info.value.hint


class TestParseQuantityChinese:
    """Amounts as Chinese-speaking users write them: 1.2亿 CNY, 1200万元, 3千 USD (#12)."""

    @pytest.mark.parametrize(
        ("text", "magnitude", "unit"),
        [
            # the issue's three spellings, worked out by hand: 1.2 x 10**8, 1200 x 10**4, 3 x 10**3
            ("1.2亿 CNY", 120_000_000, "CNY"),
            ("1200万元", 12_000_000, "CNY"),
            ("3千 USD", 3_000, "USD"),
            # each scale once: 5 x its factor
            ("5十 CNY", 50, "CNY"),
            ("5百 CNY", 500, "CNY"),
            ("5千 CNY", 5_000, "CNY"),
            ("5万 CNY", 50_000, "CNY"),
            ("5十万 CNY", 500_000, "CNY"),
            ("5百万 CNY", 5_000_000, "CNY"),
            ("5千万 CNY", 50_000_000, "CNY"),
            ("5亿 CNY", 500_000_000, "CNY"),
            # the spaces are optional on both sides of the scale
            ("1200 万元", 12_000_000, "CNY"),
            ("1200万 元", 12_000_000, "CNY"),
            ("1200 万 元", 12_000_000, "CNY"),
            ("3亿元", 300_000_000, "CNY"),
            # every spelling of CNY
            ("7元", 7, "CNY"),
            ("7 人民币", 7, "CNY"),
            ("7 RMB", 7, "CNY"),
            ("7¥", 7, "CNY"),
            ("7 ￥", 7, "CNY"),
            # full-width digits and point: 1200万元 and 12.5万元 typed in full width
            ("\uff11\uff12\uff10\uff10万元", 12_000_000, "CNY"),
            ("\uff11\uff12\uff0e\uff15万元", 125_000, "CNY"),
            # decimals and signs stay exact: 0.0001 x 10**8 = 10**4; -1.5 x 10**7
            ("0.0001亿元", 10_000, "CNY"),
            ("-1.5千万元", -15_000_000, "CNY"),
            ("2.5万 customers", 25_000, "customer"),
        ],
    )
    def test_hand_checked(self, text, magnitude, unit):
        """Digits, one optional scale and a unit parse to the exact Decimal amount."""
        quantity = parse_quantity(text)
        assert isinstance(quantity.magnitude, Decimal)
        assert quantity.magnitude == magnitude
        assert quantity.units == parse_unit(unit)

    @given(
        mantissa=st.integers(min_value=-(10**15), max_value=10**15),
        exponent=st.integers(min_value=-8, max_value=4),
        scale=st.sampled_from(["", "十", "百", "千", "万", "十万", "百万", "千万", "亿"]),
        unit=st.sampled_from(["元", " 元", "人民币", " RMB", "¥", " ￥", " CNY"]),
        space=st.sampled_from(["", " "]),
    )
    def test_exact_for_any_number_and_scale(self, mantissa, exponent, scale, unit, space):
        """<digits><scale><unit> is mantissa x 10**exponent x the scale's factor CNY, exactly."""
        number = Decimal(mantissa).scaleb(exponent)
        quantity = parse_quantity(f"{number}{space}{scale}{unit}")
        factor = {"": 1, "十": 10, "百": 100, "千": 1000, "万": 10**4, "十万": 10**5,
                  "百万": 10**6, "千万": 10**7, "亿": 10**8}[scale]  # fmt: skip
        assert (
            Fraction(quantity.magnitude) == Fraction(mantissa) * Fraction(10) ** exponent * factor
        )
        assert quantity.units == parse_unit("CNY")

    def test_same_as_the_english_scale_words(self):
        """1200万元 is 1200 wan CNY, and 1.2亿 CNY is 1.2 yi CNY."""
        assert parse_quantity("1200万元") == parse_quantity("1200 wan CNY")
        assert parse_quantity("1.2亿 CNY") == parse_quantity("1.2 yi CNY")

    def test_reaches_to_quanta(self):
        """A metric reads 1200万元 as 1,200,000,000 cents."""
        from targetcascade import Metric

        assert Metric(name="revenue", unit="CNY").to_quanta("1200万元") == 1_200_000_000

    @pytest.mark.parametrize(
        "text", ["一千二百万元", "十二万元", "三千 USD", "1千2百万元", "1万亿元"]
    )
    def test_compound_numerals_are_refused_with_a_hint(self, text):
        """Chinese numerals and compound scales are a UnitParseError showing the digit form."""
        with pytest.raises(UnitParseError) as info:
            parse_quantity(text)
        assert repr(text) in str(info.value)
        assert "'1200万元'" in str(info.value)

    def test_currency_sign_in_front_is_refused_with_a_hint(self):
        """¥1200 is refused, saying to put the unit after the number."""
        with pytest.raises(UnitParseError, match="after the number"):
            parse_quantity("¥1200")

    def test_other_unicode_digits_are_refused(self):
        """Arabic-Indic digits are not read as a number (only ASCII and full-width are)."""
        with pytest.raises(UnitParseError, match="does not start with a number"):
            parse_quantity("\u0661\u0662 CNY")


class TestParseQuantityLimits:
    """Hostile numbers and non-strings are a UnitParseError naming the input (#21.8)."""

    def test_1e1001(self):
        """1e1001 CNY is outside the limits (was decimal.InvalidOperation)."""
        with pytest.raises(UnitParseError) as info:
            parse_quantity("1e1001 CNY")
        assert "'1e1001 CNY'" in str(info.value)
        assert "1e41" in str(info.value)

    def test_a_million_digits(self):
        """A 10**6-digit number is refused at once, naming the limit (was decimal.Inexact)."""
        text = "9" * 10**6 + " CNY"
        with pytest.raises(UnitParseError, match="more than 40 digits") as info:
            parse_quantity(text)
        assert "(1000006 characters)" in str(info.value)

    @pytest.mark.parametrize("text", ["1e9999999999 CNY", "1e-41 CNY", "0.5e-40 CNY"])
    def test_exponents_beyond_the_limit(self, text):
        """Exponents that put the number outside [1e-40, 1e41) are refused, naming the text."""
        with pytest.raises(UnitParseError, match="outside the library's limits") as info:
            parse_quantity(text)
        assert repr(text) in str(info.value)

    @pytest.mark.parametrize(
        ("text", "magnitude"),
        [("1e40 CNY", Decimal("1e40")), ("1e-40 CNY", Decimal("1e-40")), ("0e-99 CNY", 0)],
    )
    def test_the_limits_themselves_are_accepted(self, text, magnitude):
        """1e40 and 1e-40 are inside the limits; zero of any exponent is zero."""
        assert parse_quantity(text).magnitude == magnitude

    def test_forty_digits_are_accepted(self):
        """A number of exactly 40 digits is read exactly."""
        assert parse_quantity("1" * 40 + " CNY").magnitude == int("1" * 40)

    @pytest.mark.parametrize("bad", [None, b"1 CNY", 12, ["1 CNY"]], ids=repr)
    def test_not_a_string(self, bad):
        """None, bytes or a number is a UnitParseError naming the value (was TypeError)."""
        with pytest.raises(UnitParseError, match="quantity must be a string") as info:
            parse_quantity(bad)
        assert repr(bad) in str(info.value)

    def test_too_many_scale_words(self):
        """1 yi**300 CNY needs more digits than the exact context holds: a UnitParseError."""
        with pytest.raises(UnitParseError, match="too large"):
            parse_quantity("1 yi**300 CNY")

    @pytest.mark.parametrize("text", ["1 wan**0.5 CNY", "1 yi**1.5 CNY"])
    def test_fractional_power_of_a_scale_word(self, text):
        """wan**0.5 is refused, not silently read as wan**0 (1 wan**0.5 CNY gave 1 CNY, not 100)."""
        with pytest.raises(UnitParseError, match="fractional power"):
            parse_quantity(text)

    def test_bare_number_string_has_the_same_limits(self):
        """as_quantity('1e1001', 'CNY') is refused like parse_quantity."""
        with pytest.raises(UnitParseError, match="'1e1001'"):
            as_quantity("1e1001", "CNY")


class TestParseUnit:
    def test_reordering_is_the_same_unit(self):
        """'wan CNY' and 'CNY wan' are one unit."""
        assert parse_unit("wan CNY") == parse_unit("CNY wan")

    def test_empty_is_dimensionless(self):
        """An empty or blank string is the dimensionless unit."""
        assert parse_unit("") == ureg.dimensionless
        assert parse_unit("  ") == ureg.dimensionless

    def test_unit_of_this_registry_is_returned_as_is(self):
        """A unit of the library's registry passes through unchanged."""
        unit = ureg.Unit("CNY")
        assert parse_unit(unit) is unit

    def test_quantity_gives_its_unit(self):
        """A quantity stands for its unit."""
        assert parse_unit(parse_quantity("3 wan CNY")) == ureg.Unit("CNY")

    def test_foreign_unit_is_moved_into_the_registry(self, foreign):
        """A unit of another pint registry is re-read by name in the library's registry."""
        unit = parse_unit(foreign.Unit("CNY"))
        assert unit._REGISTRY is ureg
        assert dict(unit.dimensionality) == {"[currency_CNY]": 1}

    def test_unknown_name(self):
        """An unknown unit name raises UnitParseError naming it and saying how to define one."""
        with pytest.raises(UnitParseError, match="'xyz'") as info:
            parse_unit("xyz")
        assert "define_count_unit" in str(info.value)

    def test_foreign_unit_unknown_here(self, foreign):
        """A foreign unit this registry does not know raises UnitParseError naming it."""
        with pytest.raises(UnitParseError, match="FOO"):
            parse_unit(foreign.Unit("FOO"))

    @pytest.mark.parametrize("bad", [3, 2.5, None, ["CNY"]])
    def test_not_a_string(self, bad):
        """A non-string, non-unit input raises UnitParseError naming its type and value."""
        with pytest.raises(UnitParseError) as info:
            parse_unit(bad)
        assert type(bad).__name__ in str(info.value)
        assert repr(bad) in str(info.value)

    @pytest.mark.parametrize("text", ["2 CNY", "-CNY", "CNY)", "(CNY", "CNY**", "'CNY'", "CNY/0"])
    def test_malformed_expression(self, text):
        """A malformed unit expression raises UnitParseError quoting it, never a bare pint error."""
        with pytest.raises(UnitParseError) as info:
            parse_unit(text)
        assert repr(text) in str(info.value)


class TestAsQuantity:
    def test_string_with_target_unit(self):
        """'3 wan CNY' read as CNY is exactly 30000 CNY."""
        quantity = as_quantity("3 wan CNY", "CNY")
        assert quantity.units == ureg.Unit("CNY")
        assert quantity.magnitude == Decimal(30_000)

    def test_string_without_target_unit(self):
        """Without a target unit any dimension is accepted."""
        assert as_quantity("35 customers") == parse_quantity("35 customer")

    def test_converts_exactly_into_a_scaled_unit(self):
        """3 CNY in wan CNY is exactly 0.0003 wan CNY."""
        quantity = as_quantity("3 CNY", "wan CNY")
        assert quantity.units == parse_unit("wan CNY")
        assert quantity.magnitude == Decimal("0.0003")

    def test_decimal_quantity_in_scaled_unit(self):
        """A Decimal quantity in wan CNY converts to CNY exactly."""
        quantity = as_quantity(Quantity(Decimal("1.5"), "wan CNY"), "CNY")
        assert quantity.magnitude == Decimal(15_000)
        assert isinstance(quantity.magnitude, Decimal)

    def test_same_registry_quantity_passes_through(self):
        """A quantity of the library's registry already in the target unit is returned as is."""
        quantity = parse_quantity("3 CNY")
        assert as_quantity(quantity, "CNY") is quantity

    def test_float_quantity_converts(self):
        """A float quantity converts through pint: 1.5 wan CNY is 15000 CNY."""
        quantity = as_quantity(Quantity(1.5, "wan CNY"), "CNY")
        assert quantity.magnitude == pytest.approx(15_000.0)

    def test_bare_number_takes_the_unit(self):
        """A bare int, float or Decimal takes the given unit."""
        assert as_quantity(3, "CNY") == parse_quantity("3 CNY")
        assert as_quantity(Decimal("1.5"), "wan CNY") == parse_quantity("15000 CNY")
        assert as_quantity(2.5, "customer") == parse_quantity("2.5 customer")

    def test_numpy_integer_is_a_number(self):
        """A numpy integer (as read from a DataFrame) is a number like a Python int."""
        assert as_quantity(np.int64(3), "CNY") == parse_quantity("3 CNY")

    def test_bare_number_without_unit(self):
        """A bare number with no unit raises UnitParseError naming the number."""
        with pytest.raises(UnitParseError, match="bare number 3 has no unit"):
            as_quantity(3)

    @pytest.mark.parametrize("bad", [True, None, ["3 CNY"], object()])
    def test_unreadable_value(self, bad):
        """Booleans, None and other objects raise UnitParseError naming the value's type."""
        with pytest.raises(UnitParseError) as info:
            as_quantity(bad, "CNY")
        assert type(bad).__name__ in str(info.value)

    @pytest.mark.parametrize(
        ("value", "unit", "found"),
        [
            ("3 USD", "CNY", "USD"),
            ("3 customers", "CNY", "customer"),
            ("3 CNY", "customer", "CNY"),
            ("300 CNY", "CNY / customer", "CNY"),
            ("3 deals", "lead", "deal"),
        ],
    )
    def test_wrong_dimension(self, value, unit, found):
        """A value of another dimension raises UnitMismatchError naming both units."""
        with pytest.raises(UnitMismatchError) as info:
            as_quantity(value, unit)
        err = info.value
        assert isinstance(err, TypeError)
        assert found in str(err)
        assert str(parse_unit(unit)) in str(err)
        assert err.expected == str(parse_unit(unit))
        assert err.actual == found

    def test_unknown_target_unit(self):
        """An unknown target unit raises UnitParseError naming it."""
        with pytest.raises(UnitParseError, match="'xyz'"):
            as_quantity("3 CNY", "xyz")

    def test_foreign_quantity_is_converted(self, foreign):
        """A quantity of another pint registry is converted through its unit name."""
        quantity = as_quantity(foreign.Quantity(3, "CNY"), "CNY")
        assert quantity._REGISTRY is ureg
        assert quantity == parse_quantity("3 CNY")

    def test_foreign_decimal_quantity_is_exact(self, foreign):
        """A foreign Decimal quantity in wan CNY converts to CNY exactly: 3.5 wan = 35000."""
        quantity = as_quantity(foreign.Quantity(Decimal("3.5"), "wan * CNY"), "CNY")
        assert isinstance(quantity.magnitude, Decimal)
        assert quantity.magnitude == Decimal(35_000)

    def test_foreign_standard_unit(self, foreign):
        """A foreign quantity in a standard pint unit is re-read in the library registry."""
        quantity = as_quantity(foreign.Quantity(3, "percent"), "percent")
        assert quantity._REGISTRY is ureg
        assert quantity.magnitude == 3

    def test_foreign_quantity_unknown_here(self, foreign):
        """A foreign quantity whose unit this registry does not know is refused, naming the unit."""
        with pytest.raises(UnitParseError, match="FOO"):
            as_quantity(foreign.Quantity(3, "FOO"), "CNY")

    def test_foreign_quantity_wrong_dimension(self, foreign):
        """A foreign CNY quantity is still refused where USD is needed."""
        with pytest.raises(UnitMismatchError):
            as_quantity(foreign.Quantity(3, "CNY"), "USD")


class TestFormatUnit:
    @pytest.mark.parametrize(
        ("unit", "text"),
        [
            ("CNY", "CNY"),
            ("wan CNY", "wan * CNY"),
            ("CNY wan", "wan * CNY"),
            ("CNY yi wan", "wan * yi * CNY"),
            ("billion thousand USD", "thousand * billion * USD"),
            ("CNY / customer", "CNY / customer"),
            ("CNY / customer / deal", "CNY / (customer * deal)"),
            ("CNY / deal / customer", "CNY / (customer * deal)"),
            ("CNY ** 2 / customer", "CNY ** 2 / customer"),
            ("1 / customer", "1 / customer"),
            ("percent", "percent"),
            ("", "dimensionless"),
            ("RMB", "yuan"),
        ],
    )
    def test_hand_checked(self, unit, text):
        """Scale words first in size order, then names alphabetically; denominators grouped."""
        assert format_unit(unit) == text

    def test_accepts_units_and_quantities(self):
        """A unit object or a quantity formats like its unit string."""
        assert format_unit(ureg.Unit("CNY") * ureg.Unit("wan")) == "wan * CNY"
        assert format_unit(Quantity(3, "CNY / customer")) == "CNY / customer"

    def test_unknown_unit(self):
        """An unknown unit raises UnitParseError naming it."""
        with pytest.raises(UnitParseError, match="'xyz'"):
            format_unit("xyz")

    @given(
        factors=st.lists(
            st.tuples(
                st.sampled_from(["CNY", "USD", "customer", "deal", "wan", "yi", "thousand"]),
                st.sampled_from([1, -1, 2, -2]),
            ),
            unique_by=lambda factor: factor[0],
            max_size=5,
        ),
        data=st.data(),
    )
    def test_canonical_for_reorderings(self, factors, data):
        """Any order of the same factors formats to the same text, which parses back to the unit."""
        shuffled = data.draw(st.permutations(factors))

        def spell(parts: list[tuple[str, int]]) -> str:
            return " * ".join(f"{name} ** {power}" for name, power in parts)

        text = format_unit(spell(factors))
        assert format_unit(spell(shuffled)) == text
        assert parse_unit(text) == parse_unit(spell(factors))


class TestIsCurrency:
    @pytest.mark.parametrize("unit", ["CNY", "USD", "wan CNY", "yuan", "RMB", "million JPY"])
    def test_currencies(self, unit):
        """A currency, scaled or aliased, is a currency."""
        assert is_currency(unit)

    @pytest.mark.parametrize(
        "unit", ["customer", "CNY / customer", "CNY ** 2", "percent", "", "wan", "meter"]
    )
    def test_not_currencies(self, unit):
        """Counts, per-count prices, squared money and plain numbers are not currencies."""
        assert not is_currency(unit)

    def test_accepts_quantities(self):
        """A quantity is judged by its unit."""
        assert is_currency(parse_quantity("3 USD"))
        assert not is_currency(parse_quantity("3 deals"))

    def test_unknown_unit(self):
        """An unknown unit raises UnitParseError rather than answering False."""
        with pytest.raises(UnitParseError, match="'xyz'"):
            is_currency("xyz")


class TestDefineCurrency:
    def test_new_currency_is_its_own_dimension(self):
        """A defined currency parses, scales and refuses to add to CNY."""
        define_currency(TEST_CURRENCY)
        assert parse_quantity(f"3 wan {TEST_CURRENCY}").magnitude == 30_000
        assert is_currency(TEST_CURRENCY)
        mismatch(f"1 {TEST_CURRENCY}", "1 CNY")

    def test_idempotent(self):
        """Defining the same currency twice is a no-op, as is redefining a built-in one."""
        define_currency(TEST_CURRENCY)
        define_currency(TEST_CURRENCY)
        define_currency("CNY")
        assert dict(parse_unit(TEST_CURRENCY).dimensionality) == {f"[currency_{TEST_CURRENCY}]": 1}
        assert parse_quantity("1 CNY") + parse_quantity("1 yuan") == parse_quantity("2 CNY")

    @pytest.mark.parametrize("code", ["sgd", "SGDX", "SG", "S1D", "", "ticket"])
    def test_malformed_code(self, code):
        """A code that is not three upper-case letters raises UnitParseError quoting it."""
        with pytest.raises(UnitParseError) as info:
            define_currency(code)
        assert repr(code) in str(info.value)
        assert "ISO 4217" in str(info.value)

    @pytest.mark.parametrize("code", ["BTU", "KPH"])
    def test_code_that_already_names_another_unit(self, code):
        """A code that pint already uses for a non-currency raises UnitParseError naming it."""
        with pytest.raises(UnitParseError, match=repr(code)):
            define_currency(code)


class TestDefineCountUnit:
    def test_new_count_is_its_own_dimension(self):
        """A defined count parses with its plural and refuses to add to other counts."""
        define_count_unit(TEST_COUNT)
        assert parse_quantity(f"3 {TEST_COUNT}s") == parse_quantity(f"3 {TEST_COUNT}")
        assert not is_currency(TEST_COUNT)
        mismatch(f"1 {TEST_COUNT}", "1 customer")

    def test_idempotent(self):
        """Defining the same count twice is a no-op, as is redefining a built-in one."""
        define_count_unit(TEST_COUNT)
        define_count_unit(TEST_COUNT)
        define_count_unit("customer")
        assert dict(parse_unit(TEST_COUNT).dimensionality) == {f"[count_{TEST_COUNT}]": 1}
        assert dict(parse_unit("customers").dimensionality) == {"[count_customer]": 1}

    @pytest.mark.parametrize("name", ["Ticket", "site visit", "", "2fa", "XTS", "ticket-s"])
    def test_malformed_name(self, name):
        """A name that is not a lower-case word raises UnitParseError quoting it."""
        with pytest.raises(UnitParseError) as info:
            define_count_unit(name)
        assert repr(name) in str(info.value)

    @pytest.mark.parametrize("name", ["meter", "minute", "wan"])
    def test_name_that_already_names_another_unit(self, name):
        """A name pint (or the library) already uses for a non-count raises UnitParseError."""
        with pytest.raises(UnitParseError, match=repr(name)):
            define_count_unit(name)

    def test_plural_of_an_existing_count_is_not_shadowed(self):
        """define_count_unit('customers') must not turn '3 customers' into a new dimension."""
        code = (
            "from targetcascade.errors import UnitParseError\n"
            "from targetcascade.units import define_count_unit, parse_unit\n"
            "try:\n"
            "    define_count_unit('customers')\n"
            "except UnitParseError:\n"
            "    pass\n"
            "print(dict(parse_unit('customers').dimensionality))\n"
        )
        result = run_fresh(code)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "{'[count_customer]': 1}"


class TestNamesMatchInFull:
    """Names are validated with fullmatch: '$' would accept a trailing newline (#21.10)."""

    def test_currency_code_with_a_newline(self):
        """define_currency('SGD\\n') is refused."""
        with pytest.raises(UnitParseError, match="not three upper-case letters"):
            define_currency("SGD\n")

    def test_count_unit_with_a_newline(self):
        """define_count_unit('ticket\\n') is refused."""
        with pytest.raises(UnitParseError, match="not a lower-case word"):
            define_count_unit("ticket\n")
