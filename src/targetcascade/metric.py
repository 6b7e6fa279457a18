"""Metrics: what a target measures, in which unit, to which quantum, and how it rolls up.

A :class:`Metric` is a frozen value. Its *quantum* is the smallest step a target may take (0.01 CNY, one
customer, 1000 CNY); the plan stores every value as an integer number of quanta, so sums are exact.

Example:
    >>> revenue = Metric(name="revenue", unit="CNY")
    >>> revenue.quantum
    Decimal('0.01')
    >>> revenue.to_quanta("1.5 wan CNY")
    1500000
    >>> revenue.from_quanta(1500000)
    Decimal('15000.00')
    >>> margin = Metric(name="gross_margin", unit="percent", rollup=Rollup.RATIO,
    ...                 numerator="profit", denominator="revenue", quantum="0.01")
    >>> margin.rollup.value
    'ratio'
"""

from __future__ import annotations

import enum
import math
import numbers
import re
from collections.abc import Iterable
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    Inexact,
    InvalidOperation,
    localcontext,
)
from typing import Any, Final

import attrs
import pint

from targetcascade._rules import MAX_QUANTA
from targetcascade.errors import MetricError, QuantumError, SizeLimitError, UnitParseError
from targetcascade.units import EXACT, as_quantity, format_unit, is_currency, parse_unit, ureg

__all__ = [
    "MAX_QUANTA",
    "MAX_QUANTUM",
    "MAX_QUANTUM_DIGITS",
    "MIN_QUANTUM",
    "Direction",
    "Metric",
    "Rollup",
    "Rounding",
]

# MAX_QUANTA, the one size limit (DESIGN.md), is defined in _rules below every door and re-exported
# here with the value types that check it first.

#: Smallest and largest quantum a metric may have; with at most :data:`MAX_QUANTUM_DIGITS`
#: significant digits. Outside them exact conversions would cost time and memory out of all
#: proportion and nothing useful fits the grid.
MIN_QUANTUM: Final = Decimal("1e-20")
MAX_QUANTUM: Final = Decimal("1e20")
MAX_QUANTUM_DIGITS: Final = 20


class Rollup(enum.Enum):
    """How a metric's values combine up the org tree and over time.

    Example:
        >>> Rollup("sum") is Rollup.SUM
        True
    """

    #: Children add up to the parent (revenue, counts). Cascaded by splitting.
    SUM = "sum"
    #: The ratio of two sum metrics (margin = profit / revenue), rolled up from them, never averaged.
    RATIO = "ratio"
    #: Never rolled up (a satisfaction score).
    NONE = "none"


class Direction(enum.Enum):
    """Whether more of a metric is better (revenue) or worse (churn).

    Example:
        >>> Direction("lower")
        <Direction.LOWER: 'lower'>
    """

    HIGHER = "higher"
    LOWER = "lower"


class Rounding(enum.Enum):
    """How :meth:`Metric.to_quanta` rounds a value that is not a whole number of quanta.

    Example:
        >>> Metric(name="revenue", unit="CNY").to_quanta("0.125 CNY", rounding=Rounding.HALF_EVEN)
        12
    """

    HALF_EVEN = ROUND_HALF_EVEN
    HALF_UP = ROUND_HALF_UP
    FLOOR = ROUND_FLOOR
    CEILING = ROUND_CEILING


# Validated with fullmatch: "$" would also match before a trailing newline ("revenue\n").
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
# float inputs are accepted when they are within this many units in the last place of a whole
# number of quanta: enough for values typed as decimals (0.1 + 0.2), far too little to hide a
# genuinely fractional quantum.
_FLOAT_ULPS: Final = 4
# Amounts of 1e41 or more exceed MAX_QUANTA quanta of the largest quantum; amounts below 1e-40 are
# below every quantum. Both are settled before any arithmetic, so any Decimal is safe to pass.
_AMOUNT_MAX_EXP: Final = 40


def _to_unit(value: Any) -> pint.Unit:
    return parse_unit(value)


class _Unreadable:
    """A field value that could not be converted; ``Metric`` reports it naming the metric."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field, self.value, self.allowed = field, value, allowed

    def __repr__(self) -> str:
        return repr(self.value)


def _to_quantum(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, float):
        # repr gives the shortest decimal that round-trips: 0.01 -> Decimal('0.01')
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    return _Unreadable("quantum", value, "a positive number such as '0.01' or 1000")


def _to_enum(cls: type[enum.Enum], field: str, value: Any) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in cls)
        return _Unreadable(field, value, f"one of {allowed}")


def _to_rollup(value: Any) -> Any:
    return _to_enum(Rollup, "rollup", value)


def _to_direction(value: Any) -> Any:
    return _to_enum(Direction, "direction", value)


def _tidy(quantum: Decimal) -> Decimal:
    """1E+3 -> 1000, 0.010 -> 0.01: the same number, written as people write it."""
    with localcontext(EXACT):
        if quantum == quantum.to_integral_value():
            return quantum.quantize(Decimal(1))
        return quantum.normalize()


def _check_quantum_range(name: str, quantum: Decimal) -> None:
    """Refuse a quantum outside [MIN_QUANTUM, MAX_QUANTUM] or with too many significant digits."""
    digits = quantum.as_tuple().digits
    significant = len(bytes(digits).rstrip(b"\0"))
    if quantum < MIN_QUANTUM or quantum > MAX_QUANTUM or significant > MAX_QUANTUM_DIGITS:
        shown = f"{quantum:.6E}" if significant > MAX_QUANTUM_DIGITS else str(quantum)
        raise MetricError(
            f"metric {name!r} has quantum {shown}, outside the library's limits: a quantum lies "
            f"between 1e-20 and 1e20 with at most {MAX_QUANTUM_DIGITS} "
            "significant digits",
            metric=name,
            actual=shown,
            hint="give the smallest step a target may take, e.g. '0.01' for cents or '1000'",
        )


def _check_name(instance: Metric, attribute: attrs.Attribute[str], value: Any) -> None:
    del instance
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise MetricError(
            f"metric {attribute.name} {value!r} is not a valid name",
            hint="use letters, digits, '_', '.', '-', starting with a letter or '_'",
        )


def _check_bool(instance: Metric, attribute: attrs.Attribute[bool], value: Any) -> None:
    # "false" and 0 would be read by truth value: only a real bool says what it means.
    if not isinstance(value, bool):
        raise MetricError(
            f"metric {instance.name!r} has {attribute.name} {value!r} "
            f"({type(value).__name__}), which is not True or False",
            metric=instance.name,
            actual=value,
            hint=f"give {attribute.name}=True or {attribute.name}=False",
        )


def _check_description(instance: Metric, attribute: attrs.Attribute[str], value: Any) -> None:
    if not isinstance(value, str):
        raise MetricError(
            f"metric {instance.name!r} has {attribute.name} {value!r} "
            f"({type(value).__name__}), which is not a string",
            metric=instance.name,
            actual=value,
            hint="give free text, e.g. description='signed revenue'",
        )


@attrs.frozen(kw_only=True)
class Metric:
    """A measured quantity that plans set targets for.

    Args:
        name: Unique name within a plan, e.g. ``"revenue"``.
        unit: Unit string or pint unit of the library registry, e.g. ``"CNY"``, ``"customer"``.
        quantum: Smallest step a value may take, in ``unit``. Defaults to 0.01 for currencies and 1
            otherwise. Between :data:`MIN_QUANTUM` (1e-20) and :data:`MAX_QUANTUM` (1e20), with at
            most :data:`MAX_QUANTUM_DIGITS` (20) significant digits.
        rollup: :class:`Rollup` (or its string value).
        numerator: For ratio metrics, the name of the sum metric on top.
        denominator: For ratio metrics, the name of the sum metric below.
        direction: :class:`Direction`: whether higher values are better.
        non_negative: Whether values below zero break the plan's invariants (default True; set False
            for profit, which may be planned negative). A bool: ``"false"`` or ``0`` is refused.
        description: Free text shown in reports.

    Raises:
        MetricError: On a malformed name, a non-positive quantum or one outside the limits above,
            a ``non_negative`` that is not a bool, or inconsistent ratio fields.
        UnitParseError: If the unit is not known to the registry.

    Example:
        >>> new_customers = Metric(name="new_customers", unit="customer")
        >>> new_customers.quantum, str(new_customers.unit)
        (Decimal('1'), 'customer')
        >>> Metric(name="revenue", unit="CNY", quantum="1000").to_quanta("1.2 million CNY")
        1200
    """

    name: str = attrs.field(validator=_check_name)
    unit: pint.Unit = attrs.field(converter=_to_unit)
    quantum: Decimal = attrs.field(default=None, converter=_to_quantum)
    rollup: Rollup = attrs.field(default=Rollup.SUM, converter=_to_rollup)
    numerator: str | None = None
    denominator: str | None = None
    direction: Direction = attrs.field(default=Direction.HIGHER, converter=_to_direction)
    non_negative: bool = attrs.field(default=True, validator=_check_bool)
    description: str = attrs.field(default="", validator=_check_description)

    def __attrs_post_init__(self) -> None:
        for field in ("quantum", "rollup", "direction"):
            value = getattr(self, field)
            if isinstance(value, _Unreadable):
                raise MetricError(
                    f"metric {self.name!r} has {field} {value.value!r}, which is not valid",
                    metric=self.name,
                    actual=value.value,
                    hint=f"give {value.allowed}",
                )
        for field in ("numerator", "denominator"):
            part = getattr(self, field)
            if part is not None and (not isinstance(part, str) or not _NAME.fullmatch(part)):
                raise MetricError(
                    f"metric {self.name!r} has {field} {part!r}, which is not a metric name",
                    metric=self.name,
                    hint="name a sum metric of the same plan, e.g. 'revenue'",
                )
        if self.quantum is None:
            default = Decimal("0.01") if is_currency(self.unit) else Decimal(1)
            object.__setattr__(self, "quantum", default)
        if not self.quantum.is_finite() or self.quantum <= 0:
            raise MetricError(
                f"metric {self.name!r} has quantum {self.quantum}, which is not a positive number",
                metric=self.name,
                hint="give the smallest step a target may take, e.g. '0.01' for cents",
            )
        _check_quantum_range(self.name, self.quantum)
        is_ratio = self.rollup is Rollup.RATIO
        has_parts = (self.numerator is not None, self.denominator is not None)
        if is_ratio and not all(has_parts):
            raise MetricError(
                f"ratio metric {self.name!r} needs both numerator and denominator",
                metric=self.name,
                hint="e.g. numerator='profit', denominator='revenue'",
            )
        if not is_ratio and any(has_parts):
            raise MetricError(
                f"metric {self.name!r} names a numerator/denominator but its rollup is "
                f"{self.rollup.value!r}",
                metric=self.name,
                hint="set rollup='ratio' or drop numerator and denominator",
            )
        if is_ratio and self.numerator == self.denominator:
            raise MetricError(
                f"ratio metric {self.name!r} divides {self.numerator!r} by itself",
                metric=self.name,
                hint="name two different sum metrics, e.g. numerator='profit', "
                "denominator='revenue'",
            )
        object.__setattr__(self, "quantum", _tidy(self.quantum))
        if is_ratio and self.unit.dimensionality:
            raise MetricError(
                f"ratio metric {self.name!r} has unit {self.unit}, which is not dimensionless",
                metric=self.name,
                hint="use 'percent' or '' (a plain ratio)",
            )

    @property
    def unit_label(self) -> str:
        """The unit as a short string, e.g. ``'CNY'``.

        Example:
            >>> Metric(name="revenue", unit="wan CNY").unit_label
            'wan * CNY'
        """
        return format_unit(self.unit)

    def to_quanta(self, value: Any, *, rounding: Rounding | None = None) -> int:
        """Convert a value to an exact integer number of quanta.

        Args:
            value: A quantity string (``"1.5 wan CNY"``), a pint quantity, a Decimal, int or float (in
                the metric's unit).
            rounding: How to round a value that is not a whole number of quanta; ``None`` (default)
                refuses such values.

        Returns:
            The value as an integer count of quanta.

        A float is accepted within 4 ulps of a whole number of quanta and stored as those quanta;
        any other float is read as the decimal it prints as (the one float rule). The result lies
        within :data:`MAX_QUANTA` (2**53) quanta either side of zero.

        Raises:
            QuantumError: If the value is not a whole number of quanta and no rounding was asked for,
                is NaN / infinite, or is more than :data:`MAX_QUANTA` quanta from zero (the message
                names the limit in the metric's unit).
            UnitMismatchError: If the value has a unit of another dimension.

        Example:
            >>> m = Metric(name="revenue", unit="CNY")
            >>> m.to_quanta("12.34 CNY"), m.to_quanta(0.1 + 0.2)
            (1234, 30)
            >>> m.to_quanta("0.125 CNY")
            Traceback (most recent call last):
            ...
            targetcascade.errors.QuantumError: 0.125 CNY is not a whole number of ...
        """
        if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
            # a bare number is in the metric's unit: no quantity to build (locks come by the
            # ten thousand)
            return self._decimal_to_quanta(Decimal(value), rounding, shown=value)
        quantity = as_quantity(value, self.unit)
        magnitude = quantity.magnitude
        if isinstance(magnitude, float):
            return self._float_to_quanta(magnitude, rounding)
        if isinstance(magnitude, int) and not isinstance(magnitude, bool):
            magnitude = Decimal(magnitude)
        if not isinstance(magnitude, Decimal):
            raise QuantumError(
                f"{self.name}: cannot read {value!r} as a single number",
                metric=self.name,
                actual=value,
            )
        return self._decimal_to_quanta(magnitude, rounding, shown=value)

    def to_quanta_many(
        self, values: Iterable[Any], *, rounding: Rounding | None = None
    ) -> list[int]:
        """:meth:`to_quanta` of each value, in order; faster for Decimals and ints.

        With a power-of-ten quantum (0.01, 1, 1000), a Decimal or int that is a whole number of
        quanta is converted by shifting its decimal point, without the per-value checks of
        :meth:`to_quanta` (about twice as fast for Decimals, thirty times for ints: locks come by
        the ten thousand). Every other value, and any value that is not a whole number of quanta,
        goes through :meth:`to_quanta`, so the results and the errors raised are the same.

        Args:
            values: The values (anything :meth:`to_quanta` accepts).
            rounding: As for :meth:`to_quanta`.

        Returns:
            One integer count of quanta per value.

        Raises:
            QuantumError: As :meth:`to_quanta`, for the first value it refuses.
            UnitMismatchError: As :meth:`to_quanta`.

        Example:
            >>> from decimal import Decimal
            >>> m = Metric(name="revenue", unit="CNY")
            >>> m.to_quanta_many([Decimal("12.34"), 5, "0.5 CNY", 0.1 + 0.2])
            [1234, 500, 50, 30]
        """
        shift = self._quantum_shift()
        if shift is None:
            return [self.to_quanta(value, rounding=rounding) for value in values]
        factor = 10**shift if shift >= 0 else 0
        # Values surely within MAX_QUANTA take the fast paths; the rest, refusals included, take
        # the one-by-one path and its messages. An int within int_limit is within the limit once
        # scaled; a Decimal below 10**(small + 1) is below 10**15 < 2**53 quanta.
        int_limit = MAX_QUANTA // factor if factor else -1
        int_floor = -int_limit
        small = 14 - shift
        out: list[int] = []
        for value in values:
            kind = type(value)
            if kind is Decimal and value.is_finite() and value.adjusted() <= small:
                scaled = value.scaleb(shift, context=EXACT)
                if scaled == scaled.to_integral_value():
                    out.append(int(scaled))
                    continue
            elif kind is int and int_floor <= value <= int_limit:
                out.append(value * factor)
                continue
            out.append(self.to_quanta(value, rounding=rounding))
        return out

    def _quantum_shift(self) -> int | None:
        """Decimal places a value shifts to count its quanta; None unless a power of ten.

        2 for a quantum of 0.01, 0 for 1, -3 for 1000.
        """
        step = self.quantum.as_tuple()
        if step.digits != (1,) or not isinstance(step.exponent, int):
            return None
        return -step.exponent

    def _decimal_to_quanta(self, magnitude: Decimal, rounding: Rounding | None, shown: Any) -> int:
        if not magnitude.is_finite():
            raise QuantumError(
                f"{self.name}: value {shown!r} is not finite", metric=self.name, actual=shown
            )
        if magnitude:
            adjusted = magnitude.adjusted()
            if adjusted > _AMOUNT_MAX_EXP:
                # beyond the limit of any metric: refuse before the arithmetic leaves the context
                raise self._beyond_limit(shown)
            if adjusted < -_AMOUNT_MAX_EXP:
                # below every quantum, so it rounds as the smallest such number of its sign does
                magnitude = Decimal((magnitude.is_signed(), (1,), -_AMOUNT_MAX_EXP - 1))
        places, shift = magnitude.as_tuple().exponent, self._quantum_shift()
        if shift is not None and isinstance(places, int) and places >= -shift:
            # a power-of-ten quantum (0.01, 1) and a value with no more decimal places: shifting
            # the decimal point is exact (locks come by the ten thousand, so this skips the
            # division and its context)
            return self._limited(int(magnitude.scaleb(shift, context=EXACT)), shown)
        with localcontext(EXACT) as context:
            context.traps[Inexact] = False
            ratio = magnitude / self.quantum
            exact = not context.flags[Inexact]
            whole = ratio.to_integral_value(rounding=ROUND_FLOOR)
            if exact and ratio == whole:
                return self._limited(int(whole), shown)
        if rounding is None:
            raise QuantumError(
                f"{_show(shown)} is not a whole number of {self.name}'s quantum "
                f"{self.quantum} {self.unit_label}",
                metric=self.name,
                actual=shown,
                hint="round it to the quantum first, or pass rounding=Rounding.HALF_EVEN "
                "(or HALF_UP, FLOOR, CEILING)",
            )
        with localcontext(EXACT) as context:
            context.traps[Inexact] = False
            ratio = magnitude / self.quantum
            return self._limited(int(ratio.to_integral_value(rounding=rounding.value)), shown)

    def _limited(self, quanta: int, shown: Any) -> int:
        """``quanta`` if within the library's size limit, else the error naming it."""
        if -MAX_QUANTA <= quanta <= MAX_QUANTA:
            return quanta
        raise self._beyond_limit(shown)

    def _beyond_limit(self, shown: Any) -> SizeLimitError:
        return SizeLimitError(
            f"{self.name}: {_show(shown)} is outside the size limit of ±{self.format(MAX_QUANTA)} "
            f"(2**53 quanta of {self.quantum} {self.unit_label})",
            metric=self.name,
            expected=MAX_QUANTA,
            actual=shown,
            hint="check the value's unit and scale words, or give the metric a coarser quantum "
            "(e.g. quantum='1000')",
        )

    def _float_to_quanta(self, magnitude: float, rounding: Rounding | None) -> int:
        if not math.isfinite(magnitude):
            raise QuantumError(
                f"{self.name}: value {magnitude!r} is not finite",
                metric=self.name,
                actual=magnitude,
            )
        ratio = magnitude / float(self.quantum)
        if not abs(ratio) <= 2.0 * MAX_QUANTA:  # also inf, when the quotient overflows
            raise self._beyond_limit(magnitude)
        # The float rule (DESIGN.md, "One float rule"): within 4 ulps of a whole number of quanta.
        nearest = round(ratio)
        tolerance = _FLOAT_ULPS * math.ulp(max(abs(ratio), 1.0))
        if abs(ratio - nearest) <= tolerance:
            return self._limited(nearest, magnitude)
        # Not within representation error: treat the float as the decimal it prints as.
        return self._decimal_to_quanta(Decimal(repr(magnitude)), rounding, shown=magnitude)

    def from_quanta(self, quanta: int) -> Decimal:
        """The exact value of ``quanta`` in the metric's unit.

        Args:
            quanta: An integer number of quanta.

        Returns:
            A Decimal with the quantum's number of decimal places.

        Example:
            >>> Metric(name="revenue", unit="CNY").from_quanta(123456)
            Decimal('1234.56')
        """
        if isinstance(quanta, bool) or not isinstance(quanta, numbers.Integral):
            raise QuantumError(
                f"{self.name}: {quanta!r} is not a whole number of quanta",
                metric=self.name,
                actual=quanta,
                hint="quanta are integers; convert values with to_quanta()",
            )
        with localcontext(EXACT):
            return (Decimal(int(quanta)) * self.quantum).quantize(self.quantum)

    def quantity(self, quanta: int) -> pint.Quantity[Any]:
        """The value of ``quanta`` as a pint quantity (Decimal magnitude) of the library registry.

        Args:
            quanta: An integer number of quanta.

        Returns:
            The quantity in the metric's unit.

        Example:
            >>> Metric(name="revenue", unit="CNY").quantity(150)
            <Quantity(1.50, 'CNY')>
        """
        return ureg.Quantity(self.from_quanta(quanta), self.unit)

    def format(self, quanta: int) -> str:
        """Format ``quanta`` for people: thousands separators and the unit.

        Args:
            quanta: An integer number of quanta.

        Returns:
            e.g. ``'1,234,567.89 CNY'``.

        Example:
            >>> Metric(name="revenue", unit="CNY").format(123456789)
            '1,234,567.89 CNY'
        """
        return f"{self.from_quanta(quanta):,} {self.unit_label}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description of the metric.

        Returns:
            A dict that :meth:`from_dict` turns back into an equal metric.

        Example:
            >>> m = Metric(name="revenue", unit="CNY")
            >>> Metric.from_dict(m.to_dict()) == m
            True
        """
        return {
            "name": self.name,
            "unit": self.unit_label,
            "quantum": str(self.quantum),
            "rollup": self.rollup.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "direction": self.direction.value,
            "non_negative": self.non_negative,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metric:
        """Rebuild a metric from :meth:`to_dict` output.

        Args:
            data: The dict.

        Returns:
            The metric.

        Raises:
            MetricError: If a required field is missing or malformed.

        Example:
            >>> Metric.from_dict({"name": "deals", "unit": "deal"}).quantum
            Decimal('1')
        """
        known = {field.name for field in attrs.fields(cls)}
        if not isinstance(data, dict):
            raise MetricError(
                f"metric definition must be a dict, got {type(data).__name__}",
                hint="pass what Metric.to_dict() returned",
            )
        unknown = set(data) - known
        if unknown or "name" not in data or "unit" not in data:
            raise MetricError(
                f"metric definition {data!r} is malformed"
                + (f": unknown keys {sorted(unknown)}" if unknown else ": needs 'name' and 'unit'"),
                hint=f"allowed keys are {sorted(known)}",
            )
        try:
            return cls(**data)
        except (ValueError, TypeError) as exc:
            if isinstance(exc, MetricError | UnitParseError):
                raise
            raise MetricError(f"metric definition {data!r} is malformed: {exc}") from exc


def _show(value: Any) -> str:
    if isinstance(value, pint.Quantity):
        return f"{_show(value.magnitude)} {value.units}"
    if isinstance(value, int) and not -(10**30) < value < 10**30:
        # str() of an int of thousands of digits raises; a huge number is named by its size
        return f"{Decimal(value):.6E}"
    if isinstance(value, Decimal) and len(value.as_tuple().digits) > 40:
        return f"{value:.6E}"
    return str(value)
