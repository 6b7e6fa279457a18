"""The library's unit registry: currencies, sales counts and the scale words of sales plans.

There is exactly one registry, :data:`ureg`, created when this module is imported. In it

* every currency is its own dimension, so adding CNY to USD is an error, never a silent sum (there is no
  implicit exchange rate);
* every count unit (``customer``, ``deal``, ``lead``, ``visit``, ``call``, ``proposal``, ``order``,
  ``unit``) is its own dimension, so "3 customers + 2 deals" is an error too;
* the scale words ``wan`` (10⁴), ``yi`` (10⁸), ``thousand``, ``million`` and ``billion`` are
  dimensionless factors, so ``"12000 wan CNY"`` and ``"1.2 yi CNY"`` are the same amount;
* :func:`parse_quantity` also reads amounts written the Chinese way, ``"1.2亿 CNY"``, ``"1200万元"``,
  ``"3千 USD"`` (scales in :data:`CJK_SCALES`; 元, 人民币, RMB, ¥ and ￥ mean CNY).

Example:
    >>> from targetcascade.units import parse_quantity
    >>> parse_quantity("12000 wan CNY") == parse_quantity("1.2 yi CNY") == parse_quantity("1.2e8 CNY")
    True
    >>> parse_quantity("1.2 yi CNY")
    <Quantity(120000000, 'CNY')>
    >>> parse_quantity("1.2亿元") == parse_quantity("1.2 yi CNY")
    True

Add a currency or count unit with :func:`define_currency` / :func:`define_count_unit`; both are
idempotent and refuse names that already mean something else in the registry.
"""

from __future__ import annotations

import functools
import numbers
import re
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from typing import Any, Final, cast

import pint

from targetcascade.errors import UnitMismatchError, UnitParseError

__all__ = [
    "CJK_SCALES",
    "CNY_ALIASES",
    "COUNT_UNITS",
    "CURRENCIES",
    "MAX_NUMBER_DIGITS",
    "MAX_NUMBER_EXPONENT",
    "SCALE_WORDS",
    "Quantity",
    "Unit",
    "as_quantity",
    "define_count_unit",
    "define_currency",
    "format_unit",
    "is_currency",
    "parse_quantity",
    "parse_unit",
    "ureg",
]

#: ISO 4217 codes defined when the registry is created.
CURRENCIES: Final = ("CNY", "USD", "EUR", "JPY", "GBP", "HKD")
#: Count units defined when the registry is created; each is its own dimension.
COUNT_UNITS: Final = ("customer", "deal", "lead", "visit", "call", "proposal", "order", "unit")
#: Scale words and their exact factors.
SCALE_WORDS: Final = {
    "thousand": 10**3,
    "wan": 10**4,
    "million": 10**6,
    "yi": 10**8,
    "billion": 10**9,
}


def _mismatch(exc: pint.DimensionalityError) -> UnitMismatchError:
    return UnitMismatchError(
        f"cannot combine {exc.units1} ({exc.dim1 or 'dimensionless'}) with "
        f"{exc.units2} ({exc.dim2 or 'dimensionless'})",
        expected=str(exc.units1),
        actual=str(exc.units2),
        hint="currencies and counts are separate dimensions with no implicit exchange rate; "
        "convert explicitly first",
    )


class _Quantity(pint.registry.Quantity[Any]):
    """pint's quantity, raising the library's :class:`UnitMismatchError` on dimension clashes."""

    def _add_sub(self, other: Any, op: Any) -> Any:
        try:
            return super()._add_sub(other, op)
        except pint.DimensionalityError as exc:
            raise _mismatch(exc) from exc

    def compare(self, other: Any, op: Any) -> Any:
        try:
            return super().compare(other, op)
        except pint.DimensionalityError as exc:
            raise _mismatch(exc) from exc

    def to(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().to(*args, **kwargs)
        except pint.DimensionalityError as exc:
            raise _mismatch(exc) from exc

    def __reduce__(self) -> tuple[Any, ...]:
        # pint would unpickle into its application registry, which has no CNY; rebuild in ours.
        return (_rebuild_quantity, (self.magnitude, format_unit(self.units)))


class _Unit(pint.registry.Unit):
    """pint's unit, pickled by its text so it comes back in the library's registry."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_unit, (format_unit(self),))


def _rebuild_quantity(magnitude: Any, unit: str) -> pint.Quantity[Any]:
    return ureg.Quantity(magnitude, parse_unit(unit))


def _rebuild_unit(unit: str) -> pint.Unit:
    return parse_unit(unit)


class _Registry(pint.UnitRegistry[Any]):
    Quantity = _Quantity
    Unit = _Unit


#: Decimal context for the library's exact arithmetic: ample precision, and an inexact result is an
#: error rather than a silent rounding (independent of the caller's decimal context).
EXACT: Final = Context(prec=1000, Emax=10**6, Emin=-(10**6), traps=[Inexact, InvalidOperation])

ureg: Final = _Registry(on_redefinition="raise", autoconvert_offset_to_baseunit=False)
"""The registry every quantity of the library belongs to."""

Quantity = ureg.Quantity
Unit = ureg.Unit

# Validated with fullmatch: "$" would also match before a trailing newline ("SGD\n").
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_COUNT_NAME = re.compile(r"[a-z][a-z_]*")


def _dimension_of(name: str) -> str:
    return f"[{name}]"


def is_currency(unit: Any) -> bool:
    """Say whether a unit is (a scaled form of) one of the registry's currencies.

    Args:
        unit: A unit, a unit string or a quantity.

    Returns:
        True when the unit's only dimension is a currency dimension.

    Example:
        >>> is_currency("wan CNY"), is_currency("customer")
        (True, False)
    """
    dims = dict(parse_unit(unit).dimensionality)
    if len(dims) != 1:
        return False
    ((dim, power),) = dims.items()
    return power == 1 and dim.startswith("[currency_")


def define_currency(code: str) -> None:
    """Add a currency as a dimension of its own.

    Args:
        code: Three upper-case letters (ISO 4217), e.g. ``"SGD"``.

    Raises:
        UnitParseError: If the code is malformed or already means another unit.

    Example:
        >>> define_currency("SGD")
        >>> parse_quantity("3 wan SGD")
        <Quantity(30000, 'SGD')>
    """
    if not _CURRENCY_CODE.fullmatch(code):
        raise UnitParseError(
            f"currency code {code!r} is not three upper-case letters",
            hint="use an ISO 4217 code such as 'SGD'",
        )
    _define_dimension(code, _dimension_of(f"currency_{code}"), "currency")


def define_count_unit(name: str) -> None:
    """Add a count unit (``ticket``, ``demo``, ...) as a dimension of its own.

    Args:
        name: A lower-case word; pint accepts its plural (``tickets``) too.

    Raises:
        UnitParseError: If the name is malformed or already means another unit.

    Example:
        >>> define_count_unit("demo")
        >>> parse_quantity("12 demos")
        <Quantity(12, 'demo')>
    """
    if not _COUNT_NAME.fullmatch(name):
        raise UnitParseError(
            f"count unit name {name!r} is not a lower-case word",
            hint="use letters and underscores, e.g. 'site_visit'",
        )
    _define_dimension(name, _dimension_of(f"count_{name}"), "count")


def _define_dimension(name: str, dimension: str, what: str) -> None:
    """Define ``name`` as the base unit of a new ``dimension``; idempotent; refuse clashes."""
    wanted = pint.util.UnitsContainer({dimension: 1})
    if name in ureg._units:
        if ureg.parse_units(name).dimensionality == wanted:
            return
        raise UnitParseError(
            f"{name!r} already names a unit of this registry that is not a {what}",
            hint=f"pick another name for the {what}",
        )
    # pint reads "customers" as the plural of "customer"; a new dimension would split the two. Look
    # at exact names only: parsing here would make pint cache a prefixed reading (u + nit for "unit").
    for singular in (name[:-1], name[:-2]) if name.endswith("s") else ():
        if singular in ureg._units:
            raise UnitParseError(
                f"{name!r} is the plural of {singular!r}, already a unit of this registry",
                hint=f"use {singular!r}, or pick another name",
            )
    ureg.define(f"{name} = {dimension}")


def _populate() -> None:
    for code in CURRENCIES:
        define_currency(code)
    ureg.define("yuan = CNY = RMB")
    for name in COUNT_UNITS:
        define_count_unit(name)
    for word, factor in SCALE_WORDS.items():
        ureg.define(f"{word} = {factor}")


_populate()


def parse_unit(unit: Any) -> pint.Unit:
    """Turn a unit string, unit or quantity (of any pint registry) into a unit of :data:`ureg`.

    Args:
        unit: ``"CNY"``, ``"wan CNY"``, ``"customer"``, a :class:`pint.Unit` or a quantity.

    Returns:
        The unit in the library's registry.

    Raises:
        UnitParseError: If the string does not name units of the registry.

    Example:
        >>> parse_unit("wan CNY") == parse_unit("CNY wan")
        True
        >>> parse_unit("CNY").dimensionality
        <UnitsContainer({'[currency_CNY]': 1})>
    """
    if isinstance(unit, pint.Quantity):
        unit = unit.units
    if isinstance(unit, pint.Unit):
        if unit._REGISTRY is ureg:
            return unit
        unit = str(unit)
    if not isinstance(unit, str):
        raise UnitParseError(
            f"unit must be a string or a pint unit, got {type(unit).__name__} {unit!r}"
        )
    text = unit.strip() or "dimensionless"
    try:
        parsed = ureg.parse_units(text)
    except Exception as exc:
        raise UnitParseError(
            f"unit {unit!r} is not defined in targetcascade's registry",
            hint="define it with define_currency() or define_count_unit(), or fix the spelling",
        ) from exc
    return parsed


#: Most digits the number of a quantity string may have (an exponent's digits not counted).
MAX_NUMBER_DIGITS: Final = 40
#: The number of a quantity string lies, unless zero, in [10**-MAX_NUMBER_EXPONENT,
#: 10**(MAX_NUMBER_EXPONENT + 1)): beyond every metric's size limit or below every quantum, and
#: cheap to read exactly whatever the text.
MAX_NUMBER_EXPONENT: Final = 40
#: Chinese scale characters written after a number (``1200万元``, ``1.2亿 CNY``) and their factors.
CJK_SCALES: Final = {
    "十": 10,
    "百": 10**2,
    "千": 10**3,
    "万": 10**4,
    "十万": 10**5,
    "百万": 10**6,
    "千万": 10**7,
    "亿": 10**8,
}
#: Unit spellings that mean CNY in a quantity string (``万元`` and ``亿元`` are 万 / 亿 + 元).
CNY_ALIASES: Final = ("元", "人民币", "RMB", "¥", "￥")

# Digits are ASCII or full-width (U+FF10..U+FF19, and the full-width point U+FF0E); "\d" would also
# take Arabic-Indic or Devanagari digits, which nobody writes amounts in here.
_DIGIT = "[0-9\uff10-\uff19]"
_NUMBER = re.compile(
    rf"\s*(?P<number>[-+]?(?:{_DIGIT}+(?:[.\uff0e]{_DIGIT}*)?|[.\uff0e]{_DIGIT}+))"
    r"(?:[eE](?P<exponent>[-+]?[0-9]+))?\s*(?P<rest>.*)",
    re.DOTALL,
)
_FULL_WIDTH: Final = str.maketrans(
    "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff0e", "0123456789."
)
_SCALES_LONGEST_FIRST: Final = sorted(CJK_SCALES, key=len, reverse=True)
# Chinese numerals, so that 一千二百万 or 1千2百万 is refused with a hint instead of "unknown unit".
_CJK_NUMERALS: Final = frozenset("零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟")
_NUMBER_FORM_HINT: Final = (
    "write digits, at most one scale and a unit, e.g. '1200万元', '1.2亿 CNY', '3千 USD' or "
    "'12000 wan CNY'"
)


def _read_number(match: re.Match[str], text: str) -> Decimal:
    """The exact number a :data:`_NUMBER` match found in ``text``, within the documented limits."""
    number = match["number"].translate(_FULL_WIDTH)
    exponent = match["exponent"] or "0"
    limits = (
        f"numbers have at most {MAX_NUMBER_DIGITS} digits and lie between "
        f"1e-{MAX_NUMBER_EXPONENT} and 1e{MAX_NUMBER_EXPONENT + 1}"
    )
    if len(number.lstrip("+-").replace(".", "")) > MAX_NUMBER_DIGITS:
        raise UnitParseError(
            f"the number in quantity {_clip(text)} has more than {MAX_NUMBER_DIGITS} digits",
            hint=limits,
        )
    # an exponent of more than six digits is far outside the limit; refused before it is read
    value = Decimal(f"{number}e{exponent}") if len(exponent.lstrip("+-0")) <= 6 else None
    if value is None or (
        value and not -MAX_NUMBER_EXPONENT <= value.adjusted() <= MAX_NUMBER_EXPONENT
    ):
        raise UnitParseError(
            f"the number in quantity {_clip(text)} is outside the library's limits", hint=limits
        )
    return value


def _clip(value: object) -> str:
    """``repr(value)``, shortened in the middle when long, so a message stays readable."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:40]}...{text[-20:]} ({len(text)} characters)"


def parse_quantity(text: str) -> pint.Quantity[Any]:
    """Parse ``"<number> <unit>"`` exactly, scale words folded into the base unit.

    The number is read as a :class:`~decimal.Decimal` (no binary rounding), and scale words such as
    ``wan`` or ``million`` are multiplied in exactly, so the magnitude of the result is exact.

    The text is: a number (ASCII or full-width digits, ``.`` or its full-width form U+FF0E as the
    point, an optional exponent ``e8``), an optional space, an optional Chinese scale (十 百 千 万
    十万 百万 千万 亿), an optional space, and a unit: a unit of the registry (``CNY``, ``wan CNY``,
    ``customers``), or 元, 人民币, RMB, ¥ or ￥ for CNY (so ``万元`` and ``亿元`` are CNY).
    A number has at most :data:`MAX_NUMBER_DIGITS` digits and lies between 1e-40 and 1e41.

    Args:
        text: e.g. ``"12000 wan CNY"``, ``"1.2e8 CNY"``, ``"1200万元"``, ``"35 customers"``.

    Returns:
        A quantity of :data:`ureg` with a Decimal magnitude, in the unit without scale words.

    Raises:
        UnitParseError: If the text is not a string, has no leading number, writes the number in
            Chinese numerals (一千二百万), passes the limits above or names unknown units.

    Example:
        >>> parse_quantity("120 million CNY")
        <Quantity(120000000, 'CNY')>
        >>> parse_quantity("35 customers")
        <Quantity(35, 'customer')>
        >>> parse_quantity("1200万元") == parse_quantity("1.2亿 CNY") / 10 == parse_quantity("1200 wan CNY")
        True
        >>> parse_quantity("3千 USD")
        <Quantity(3000, 'USD')>
    """
    if not isinstance(text, str):
        raise UnitParseError(
            f"quantity must be a string, got {type(text).__name__} {_clip(text)}",
            hint="write it as '<number> <unit>', e.g. '12000 wan CNY'",
        )
    match = _NUMBER.match(text)
    if match is None:
        stripped = text.lstrip()
        if stripped[:1] in _CJK_NUMERALS:
            raise UnitParseError(
                f"quantity {_clip(text)} writes its number in Chinese numerals",
                hint=_NUMBER_FORM_HINT,
            )
        if stripped[:1] in ("¥", "￥"):
            raise UnitParseError(
                f"quantity {_clip(text)} puts the currency sign before the number",
                hint="put the unit after the number, e.g. '1200 ¥' or '1200元'",
            )
        raise UnitParseError(
            f"quantity {_clip(text)} does not start with a number",
            hint="write it as '<number> <unit>', e.g. '12000 wan CNY'",
        )
    magnitude = _read_number(match, text)
    rest = match["rest"]
    scale = 1
    for word in _SCALES_LONGEST_FIRST:
        if rest.startswith(word):
            scale, rest = CJK_SCALES[word], rest[len(word) :].lstrip()
            break
    if rest[:1] in _CJK_NUMERALS or rest[:1].isdigit():
        raise UnitParseError(
            f"quantity {_clip(text)} has a compound number ({match['rest'].strip()!r} after "
            f"{match['number']!r})",
            hint=_NUMBER_FORM_HINT,
        )
    unit = parse_unit("CNY" if rest.strip() in CNY_ALIASES else rest)
    if scale != 1:
        with localcontext(EXACT):
            magnitude *= scale
    return _strip_scale_words(magnitude, unit)


def _strip_scale_words(magnitude: Decimal, unit: pint.Unit) -> pint.Quantity[Any]:
    """Move the scale words of ``unit`` into the magnitude, exactly."""
    try:
        with localcontext(EXACT):
            return _strip_exactly(magnitude, unit)
    except (Inexact, InvalidOperation) as exc:
        # e.g. "1 yi**300 CNY": more digits than the exact context holds
        raise UnitParseError(
            f"{magnitude} {format_unit(unit)} is too large to hold exactly",
            hint="write the amount with fewer scale words",
        ) from exc


def _strip_exactly(magnitude: Decimal, unit: pint.Unit) -> pint.Quantity[Any]:
    factor = Decimal(1)
    kept: dict[str, float] = {}
    for name, power in unit._units.items():
        exponent = cast("float", power)
        if name in SCALE_WORDS:
            if exponent != int(exponent):
                # int() would silently read wan**0.5 (100) as wan**0 (1)
                raise UnitParseError(
                    f"scale word {name!r} has the fractional power {exponent:g}",
                    hint="use whole powers of scale words, e.g. 'wan CNY' or 'wan ** 2 CNY'",
                )
            factor *= Decimal(SCALE_WORDS[name]) ** int(exponent)
        else:
            kept[name] = exponent
    base = ureg.Unit(pint.util.UnitsContainer(kept)) if kept else ureg.dimensionless
    value = magnitude * factor
    # Normalise 1.20E+8 to 120000000 for readable reprs; the value itself is unchanged.
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    else:
        value = value.normalize()
    return ureg.Quantity(value, base)


def as_quantity(value: Any, unit: Any = None) -> pint.Quantity[Any]:
    """Accept a quantity from the user and return it in :data:`ureg`, checking its dimension.

    Strings are parsed exactly with :func:`parse_quantity`; a string that is only a number takes
    ``unit``, like a bare number. A quantity of another pint registry is
    converted through its unit name (or refused if the name is unknown here). A bare number takes
    ``unit``.

    Args:
        value: A string, a pint quantity, or a plain number (only when ``unit`` is given).
        unit: The unit the value must be convertible to; ``None`` accepts any.

    Returns:
        The quantity in :data:`ureg`, converted to ``unit`` when one is given.

    Raises:
        UnitMismatchError: If the dimension differs from ``unit``'s (e.g. USD for CNY).
        UnitParseError: If the value cannot be read as a quantity.

    Example:
        >>> as_quantity("3 wan CNY", "CNY")
        <Quantity(30000, 'CNY')>
        >>> as_quantity("3 USD", "CNY")
        Traceback (most recent call last):
        ...
        targetcascade.errors.UnitMismatchError: 3 USD has dimension [currency_USD] ...
    """
    target = None if unit is None else parse_unit(unit)
    if isinstance(value, str):
        bare = _NUMBER.match(value)
        if bare is not None and not bare["rest"].strip():
            # "12.6" for a percent metric means 12.6 percent, as the number 12.6 would.
            value = _read_number(bare, value)
        else:
            value = parse_quantity(value)
    if isinstance(value, pint.Quantity):
        quantity = _foreign_to_ureg(value)
    elif isinstance(value, numbers.Real | Decimal) and not isinstance(value, bool):
        if isinstance(value, numbers.Integral):
            value = int(value)
        elif not isinstance(value, Decimal):
            value = float(value)
        if target is None:
            raise UnitParseError(
                f"bare number {value!r} has no unit",
                hint="pass a unit, or a quantity string such as '100 CNY'",
            )
        quantity = ureg.Quantity(value, target)
    else:
        raise UnitParseError(f"cannot read {value!r} ({type(value).__name__}) as a quantity")
    if target is None:
        return quantity
    if quantity.dimensionality != target.dimensionality:
        raise UnitMismatchError(
            f"{quantity} has dimension {_dims(quantity)} but {target} needs {_dims(target)}",
            expected=str(target),
            actual=str(quantity.units),
            hint="currencies and counts never convert into each other; convert explicitly first",
        )
    if quantity.units == target:
        return quantity
    if isinstance(quantity.magnitude, Decimal):
        return _convert_decimal(quantity, target)
    return quantity.to(target)


def _foreign_to_ureg(value: pint.Quantity[Any]) -> pint.Quantity[Any]:
    if value._REGISTRY is ureg:
        return value
    return ureg.Quantity(value.magnitude, parse_unit(str(value.units)))


def _convert_decimal(quantity: pint.Quantity[Any], target: pint.Unit) -> pint.Quantity[Any]:
    """Convert a Decimal quantity exactly when both units differ only by scale words."""
    source = _strip_scale_words(quantity.magnitude, parse_unit(quantity.units))
    goal = _strip_scale_words(Decimal(1), target)
    if source.units == goal.units:
        with localcontext(EXACT):
            magnitude = source.magnitude / goal.magnitude
        return ureg.Quantity(magnitude, target)
    return quantity.to(target)


def format_unit(unit: Any) -> str:
    """A canonical, deterministic text for a unit: scale words first, then names alphabetically.

    pint's own ``str(unit)`` may order factors differently from one process to the next; plans and
    reports need the same text every run.

    Args:
        unit: A unit, unit string or quantity.

    Returns:
        e.g. ``'wan * CNY'``, ``'CNY / customer'``, ``'dimensionless'``.

    Example:
        >>> format_unit("CNY wan"), format_unit("CNY / customer"), format_unit("")
        ('wan * CNY', 'CNY / customer', 'dimensionless')
    """
    return _format_units(parse_unit(unit)._units)


@functools.lru_cache(maxsize=1024)
def _format_units(units: Any) -> str:
    """:func:`format_unit` of a unit's name -> power container (immutable, so cached).

    Every formatted amount (``explain``'s steps, reports) names its metric's unit: the text is a
    pure function of the unit's names and powers, worked out once instead of per amount.
    """
    items = {name: cast("float", power) for name, power in units.items()}
    if not items:
        return "dimensionless"
    scale_order = list(SCALE_WORDS)

    def key(name: str) -> tuple[int, int, str]:
        return (0, scale_order.index(name), "") if name in SCALE_WORDS else (1, 0, name)

    def term(name: str, power: float) -> str:
        power = abs(power)
        text = f"{power:g}"
        return name if power == 1 else f"{name} ** {text}"

    up = [term(n, p) for n, p in sorted(items.items(), key=lambda kv: key(kv[0])) if p > 0]
    down = [term(n, p) for n, p in sorted(items.items(), key=lambda kv: key(kv[0])) if p < 0]
    text = " * ".join(up) if up else "1"
    if down:
        text += " / " + (down[0] if len(down) == 1 else "(" + " * ".join(down) + ")")
    return text


def _dims(thing: pint.Quantity[Any] | pint.Unit) -> str:
    return str(thing.dimensionality)
