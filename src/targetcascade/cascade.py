"""The cascade: split a company target through the calendar and the organisation, exactly.

A :class:`CascadeSpec` says, per metric, what the company's annual target is (:class:`MetricCascade`),
how each level splits among its children (:class:`Split`: a strategy, over-assignment, floors and
caps; per-node overrides), how time is split (a time strategy) and which cells are locked
(:class:`Lock`). :func:`cascade` runs it and returns a :class:`~targetcascade.plan.Plan` whose
:func:`~targetcascade.check.check` is ok, with the provenance :func:`explain` reads.

Three modes (:class:`Mode`):

* ``time_first`` (default): the root's year is split into quarters and months by the time strategy;
  then every month is split down the org, level by level, by each level's strategy. Quarters and years
  below the root are the sums of their months.
* ``org_first``: each node's year is split down the tree by the org strategies; then every leaf's year
  is phased over its months by its own time strategy, and inner nodes' months are the sums of their
  children's.
* ``balanced``: both margins fixed: the children's annual totals come from the org split of the year and
  the parent's months from the level above; each child x month table is fitted by iterative proportional
  fitting and rounded so that both row and column sums stay exact (2-D controlled rounding).

Example:
    >>> from targetcascade.allocation import CapacityWeighted, Equal, Even
    >>> from targetcascade.synthetic import demo_company
    >>> company = demo_company()
    >>> spec = CascadeSpec(metrics=[MetricCascade(
    ...     metric=company.metrics[1], target="1500 customers", time=Even(),
    ...     splits={"company": Split(strategy=Equal()), "region": Split(strategy=Equal()),
    ...             "team": Split(strategy=CapacityWeighted())})])
    >>> plan = cascade(spec, company.tree, company.calendar)
    >>> plan.value("acme", "FY2027-Q1", "new_customers")
    <Quantity(375, 'customer')>
    >>> from targetcascade import check
    >>> check(plan).ok
    True
"""

from __future__ import annotations

import contextlib
import enum
import functools
import itertools
import json
import math
import numbers
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Any, Final, NamedTuple, TypeVar

import attrs
import numpy as np
import numpy.typing as npt
from pint import Quantity

from targetcascade._rules import (
    as_slice,
    block_index,
    hedged_period_totals,
    scaled_bounds,
)
from targetcascade.allocation._batch import OrgBatch, TimeBatch
from targetcascade.allocation._divisor import Adams, Jefferson, Webster
from targetcascade.allocation._fallbacks import Reported, collecting
from targetcascade.allocation._history import History
from targetcascade.allocation._kernel import (
    INT_LIMIT,
    MAX_QUANTA,
    Apportionment,
    apportion,
    apportion_detailed,
    exact_bounded_split,
    exact_rational_split,
    gather_segments,
    grid_hamilton,
    hamilton_groups,
)
from targetcascade.allocation._protocol import OrgStrategy, TimeStrategy
from targetcascade.allocation._registry import (
    StrategyRegistry,
    default_registry,
    reads_history,
    same_every_period,
    suggest_name,
)
from targetcascade.allocation.org_strategies import (
    checked_weights,
    exact_segment_weights,
    segment_sum,
)
from targetcascade.allocation.time_strategies import Even, checked_profile
from targetcascade.calendar import FiscalCalendar, PeriodLevel
from targetcascade.errors import (
    InfeasibleAllocationError,
    QuantumError,
    SerializationError,
    SpecError,
    TargetCascadeError,
)
from targetcascade.metric import Metric, Rollup
from targetcascade.org import OrgTree
from targetcascade.plan import (
    FallbackRecords,
    Origin,
    Plan,
    Provenance,
    Source,
    check_limit,
    ratio_of_grids,
)

_T = TypeVar("_T")

__all__ = [
    "SPEC_SCHEMA_VERSION",
    "AbsoluteBounds",
    "CascadeSpec",
    "Lock",
    "MetricCascade",
    "Mode",
    "RelativeBounds",
    "Split",
    "cascade",
]

#: Version of the dict / JSON layout written by :meth:`CascadeSpec.to_dict`.
SPEC_SCHEMA_VERSION: Final = 2

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_CARRY_GRID: Final = 1024.0
_AT_FLOOR: Final = 1
_AT_CAP: Final = 2


class Mode(enum.Enum):
    """The order in which time and the organisation are split.

    Example:
        >>> Mode("org_first")
        <Mode.ORG_FIRST: 'org_first'>
    """

    TIME_FIRST = "time_first"
    ORG_FIRST = "org_first"
    BALANCED = "balanced"


#: Deepest nesting of objects and lists a spec may have. A spec written by
#: :meth:`CascadeSpec.to_json` nests about ten deep (blends of strategies add a level or two each);
#: the limit keeps a hostile file from exhausting the interpreter's stack while it is read.
_MAX_SPEC_DEPTH: Final = 64

#: Numerators and denominators of a dimensionless spec number (hedge, bound factor) stay below
#: ``10**_MAX_DIGITS``: reading ``"1e999999999"`` exactly would otherwise build a billion-digit
#: integer.
_MAX_DIGITS: Final = 100
_MAX_NUMBER_CHARS: Final = 2 * _MAX_DIGITS + 3


def _json_type(value: Any) -> str:
    """What a value is, in the words of JSON, for messages about a spec's shape."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int | float | Decimal | Fraction):
        return f"the number {value!r}"
    return type(value).__name__


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _keys(cls: type) -> tuple[str, ...]:
    """The keys a spec object of ``cls`` may have: its attrs fields, so a new field needs no list."""
    return tuple(field.name for field in attrs.fields(cls))


def _object(
    data: Any,
    path: str,
    keys: Sequence[str],
    required: Iterable[str] = (),
    name: str = "the cascade spec",
) -> Mapping[str, Any]:
    """``data`` as an object holding only ``keys`` and every ``required`` one, naming the key path.

    ``name`` says what a top-level ``data`` (empty ``path``) is.
    """
    where = path or name
    if not isinstance(data, Mapping):
        raise SpecError(
            f"{where} must be an object, got {_json_type(data)}",
            hint=f"write it as {{...}} with the keys {', '.join(keys)}",
        )
    for key in data:
        if key not in keys:
            raise SpecError(
                f"unknown key {_join(path, key)!r}{suggest_name(str(key), keys)}",
                hint=f"the keys of {where} are {', '.join(keys)}",
            )
    for key in required:
        if key not in data:
            raise SpecError(f"{_join(path, key)!r} is missing", hint=f"give {key!r} in {where}")
    return data


def _mapping(data: Any, path: str, what: str) -> Mapping[str, Any]:
    """``data`` as an object whose keys are names (levels, node ids), naming the key path."""
    if not isinstance(data, Mapping):
        raise SpecError(
            f"{path!r} must be an object ({what}), got {_json_type(data)}",
            hint=f"write it as {{name: ...}}, one entry per {what.split(maxsplit=1)[0]}",
        )
    return data


def _list(data: Any, path: str, what: str) -> Sequence[Any]:
    if not isinstance(data, list | tuple):
        raise SpecError(
            f"{path!r} must be a list of {what}, got {_json_type(data)}",
            hint=f"write it as [...], one entry per {what.rstrip('s')}",
        )
    return data


@contextlib.contextmanager
def _reading(path: str) -> Iterator[None]:
    """Errors raised while building the part of a spec at ``path`` name the path, keeping their type."""
    try:
        yield
    except TargetCascadeError as exc:
        raise _restated(exc, problem=f"{path}: {exc.problem}") from exc


def _restated(
    exc: TargetCascadeError, *, problem: str | None = None, hint: str | None = None
) -> TargetCascadeError:
    """``exc`` again, of its type and fields, with more said in its problem or hint."""
    fields = {
        name: getattr(exc, name)
        for name in ("node", "period", "metric", "row", "expected", "actual")
    }
    problem = exc.problem if problem is None else problem
    hint = exc.hint if hint is None else hint
    try:
        return type(exc)(problem, hint=hint, **fields)
    except TypeError:  # a subclass with its own signature: what was said still leads
        return SpecError(problem, hint=hint)


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _check_depth(data: Any) -> None:
    """Refuse a spec nested deeper than :data:`_MAX_SPEC_DEPTH` before any recursion reads it."""
    level = [data]
    for _ in range(_MAX_SPEC_DEPTH):
        # one level at a time; the scalars that fill a spec are passed over by type alone
        deeper: list[Any] = []
        for value in level:
            children = value.values() if isinstance(value, Mapping) else value
            deeper.extend(
                child
                for child in children
                if type(child) not in _SCALARS and isinstance(child, Mapping | list | tuple)
            )
        if not deeper:
            return
        level = deeper
    raise _too_deep()


def _too_deep() -> SpecError:
    return SpecError(
        f"the cascade spec nests objects and lists more than {_MAX_SPEC_DEPTH} deep "
        "(the limit for a spec)",
        hint="a spec from CascadeSpec.to_json() nests about ten deep; check the file",
    )


def _dimensionless(value: Any, what: str) -> Fraction:
    """Read a dimensionless spec number (a hedge, a bound factor) exactly.

    The one float rule: a float is read as the decimal of its shortest repr (``1/30`` is
    ``Fraction("0.03333333333333333")``), the number its user saw, so what the spec stores and
    writes back is exactly what was accepted. Ints, Decimals, Fractions and decimal or ``"p/q"``
    strings are taken as they are.

    Raises:
        SpecError: If the value is not a finite number, or its numerator or denominator has more
            than :data:`_MAX_DIGITS` digits.
    """
    shown = value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(
                f"{what} {value!r} is not a finite number", hint="give e.g. '0.05' or '1/20'"
            )
        value = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_CHARS:
            raise SpecError(
                f"{what} {text[:20]!r}... is {len(text)} characters long (the limit for a "
                f"number in a spec is {_MAX_NUMBER_CHARS})",
                hint="give e.g. '0.05' or '1/20'",
            )
        try:
            value = Fraction(text) if "/" in text else Decimal(text)
        except (ValueError, ArithmeticError):
            raise SpecError(
                f"{what} {shown!r} is not a number", hint="give e.g. '0.05' or '1/20'"
            ) from None
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise SpecError(
                f"{what} {shown!r} is not a finite number", hint="give e.g. '0.05' or '1/20'"
            )
        if abs(value.adjusted()) >= _MAX_DIGITS:
            value = Fraction(10**_MAX_DIGITS)  # refused below, without building the number
    if isinstance(value, bool) or not isinstance(value, int | Decimal | Fraction):
        raise SpecError(f"{what} {shown!r} is not a number", hint="give e.g. '0.05' or '1/20'")
    fraction = Fraction(value)
    if max(abs(fraction.numerator), fraction.denominator) >= 10**_MAX_DIGITS:
        raise SpecError(
            f"{what} {str(shown)[:20]!r}... has more than {_MAX_DIGITS} digits (the limit for a "
            "dimensionless number in a spec)",
            hint="give e.g. '0.05' or '1/20'",
        )
    return fraction


def _to_hedge(value: Any) -> Fraction:
    return _dimensionless(value, "over-assignment (hedge)")


def _to_factor(value: Any) -> Fraction | None:
    return None if value is None else _dimensionless(value, "relative bound")


def _check_amount(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An amount (target, lock, absolute bound) is a quantity, a quantity string or a number."""
    if value is None and attribute.default is None:
        return
    if isinstance(value, bool) or not isinstance(value, str | Decimal | numbers.Real | Quantity):
        raise SpecError(
            f"{type(instance).__name__} {attribute.name} {value!r} is not an amount",
            hint="give a quantity string like '120 wan CNY' or a number in the metric's unit",
        )


def _exact_amount(metric: Metric, value: Any) -> Any:
    """An amount as the spec stores it: exactly what :meth:`Metric.to_quanta` accepted.

    Strings, ints and Decimals are exact already and kept as given (they write back as they were
    written). A float, or a quantity, is accepted as its whole number of quanta (a float within 4 ulps
    of one, the one float rule) and stored as the exact Decimal of those quanta, so the spec's JSON
    reads back as the same amount.
    """
    if value is None or isinstance(value, str | Decimal) or type(value) is int:
        return value
    return metric.from_quanta(metric.to_quanta(value))


def _to_per(value: Any) -> str:
    if isinstance(value, PeriodLevel):
        value = value.name.lower()
    if value in ("month", "year"):
        return str(value)
    if value in ("quarter", "week"):
        raise SpecError(
            f"absolute bounds per {value}: no cascade mode splits {value}s",
            hint="give per='month' (time_first mode) or per='year' (org_first and balanced modes)",
        )
    raise SpecError(
        f"absolute bounds per {value!r}: not a period a cascade splits",
        hint="give per='month' (time_first mode) or per='year' (org_first and balanced modes)",
    )


@attrs.frozen(kw_only=True)
class AbsoluteBounds:
    """Floors and caps in the metric's unit, for each child cell being split, per month or year.

    The bounds apply to the periods the org strategy splits, and ``per`` says which: months in
    ``time_first`` mode (``per="month"``), years in ``org_first`` and ``balanced`` modes
    (``per="year"``). A :class:`MetricCascade` refuses bounds per a period its mode does not split.

    Args:
        floor: Smallest value a child may get per ``per`` (a quantity string or number in the
            metric's unit).
        cap: Largest value a child may get per ``per``.
        per: ``"month"`` or ``"year"``: the period the floor and cap are for.

    Raises:
        SpecError: If ``per`` is not ``"month"`` or ``"year"``, or a bound is not an amount.

    Example:
        >>> AbsoluteBounds(floor="2 wan CNY", cap="30 wan CNY", per="month").to_dict()
        {'type': 'absolute', 'floor': '2 wan CNY', 'cap': '30 wan CNY', 'per': 'month'}
    """

    floor: Any = attrs.field(default=None, validator=_check_amount)
    cap: Any = attrs.field(default=None, validator=_check_amount)
    per: str = attrs.field(converter=_to_per)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description (values as text).

        Example:
            >>> AbsoluteBounds(cap=5, per="year").to_dict()["cap"]
            '5'
        """
        return {
            "type": "absolute",
            "floor": None if self.floor is None else str(self.floor),
            "cap": None if self.cap is None else str(self.cap),
            "per": self.per,
        }


@attrs.frozen(kw_only=True)
class RelativeBounds:
    """Floors and caps relative to each child's value in the same period of the last history year.

    "No one below 80 % or above 150 % of last year": ``RelativeBounds(floor="0.8", cap="1.5")``. A
    child without last year's value (a new hire) is not bounded.

    Args:
        floor: Fraction of last year's value a child must at least get (rounded up to the quantum).
        cap: Fraction of last year's value a child may at most get (rounded down to the quantum).

    Raises:
        SpecError: If a fraction is not a finite number, is negative, or the floor exceeds the cap.

    Example:
        >>> RelativeBounds(floor="0.8", cap="1.5").to_dict()
        {'type': 'relative', 'floor': '4/5', 'cap': '3/2'}
    """

    floor: Fraction | None = attrs.field(default=None, converter=_to_factor)
    cap: Fraction | None = attrs.field(default=None, converter=_to_factor)

    def __attrs_post_init__(self) -> None:
        for name in ("floor", "cap"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise SpecError(f"relative {name} {value} is negative", hint="give e.g. '0.8'")
        if self.floor is not None and self.cap is not None and self.floor > self.cap:
            raise SpecError(f"relative floor {self.floor} is above the cap {self.cap}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description (fractions as text).

        Example:
            >>> RelativeBounds(cap=2).to_dict()["cap"]
            '2'
        """
        return {
            "type": "relative",
            "floor": None if self.floor is None else str(self.floor),
            "cap": None if self.cap is None else str(self.cap),
        }


Bounds = AbsoluteBounds | RelativeBounds
_BOUNDS: Final[dict[str, type[AbsoluteBounds] | type[RelativeBounds]]] = {
    "absolute": AbsoluteBounds,
    "relative": RelativeBounds,
}


def _bounds_from(data: Any, path: str, per: str | None) -> Bounds | None:
    """Bounds from their dict; ``per`` is what a spec of schema version 1 meant (None: required)."""
    if data is None:
        return None
    kind = data.get("type") if isinstance(data, Mapping) else None
    if not isinstance(kind, str) or kind not in _BOUNDS:
        # names a bounds value that is no object at all
        _object(data, path, ("type", *dict.fromkeys(_keys(AbsoluteBounds) + _keys(RelativeBounds))))
        raise SpecError(
            f"{_join(path, 'type')!r} is {_json_type(kind)}{suggest_name(str(kind), _BOUNDS)}",
            hint="bounds are {'type': 'absolute', ...} or {'type': 'relative', ...}",
        )
    cls = _BOUNDS[kind]
    fields = _keys(cls)
    required = ("per",) if "per" in fields and per is None else ()
    _object(data, path, ("type", *fields), required)
    values = {key: value for key, value in data.items() if key != "type"}
    if "per" in fields and per is not None:
        values.setdefault("per", per)
    with _reading(path):
        return cls(**values)


def _check_org_strategy(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance, attribute
    if not isinstance(value, OrgStrategy):
        raise SpecError(
            f"{value!r} is not an org strategy",
            hint="use e.g. Equal(), CapacityWeighted() or ProportionOfAverages()",
        )


def _check_bounds(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance, attribute
    if value is not None and not isinstance(value, AbsoluteBounds | RelativeBounds):
        raise SpecError(
            f"bounds {value!r} are not bounds",
            hint="use AbsoluteBounds(floor=..., cap=..., per=...) or "
            "RelativeBounds(floor=..., cap=...), or None",
        )


Divisor = Webster | Jefferson | Adams
_DIVISORS: Final[dict[str, type[Webster] | type[Jefferson] | type[Adams]]] = {
    "webster": Webster,
    "jefferson": Jefferson,
    "adams": Adams,
}


def _check_rounding(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance, attribute
    if value is not None and not isinstance(value, Webster | Jefferson | Adams):
        raise SpecError(
            f"rounding {value!r} is not a divisor method",
            hint="use Webster(), Jefferson() or Adams(); largest remainder is the default",
        )


@attrs.frozen(kw_only=True)
class Split:
    """How a parent's value is split among its children.

    Args:
        strategy: The org strategy giving the children's weights.
        hedge: Over-assignment: the children carry ``round(parent x (1 + hedge))`` in the year, and
            the floor or ceiling of ``parent x (1 + hedge)`` in every quarter and month. A float is
            read as the decimal it prints as (``1/30`` is ``0.03333333333333333``).
        bounds: Floors and caps for the children, or None.
        rounding: A divisor method (``Webster()``, ``Jefferson()``, ``Adams()``) instead of the
            default largest remainder, for splits that must never show the Alabama paradox. Divisor
            methods take no floors or caps, and each period is rounded on its own (no carry).

    Raises:
        SpecError: If the strategy is not an org strategy, the hedge is not a finite number above
            -1, or the bounds are not bounds.

    Example:
        >>> from targetcascade.allocation import Equal
        >>> Split(strategy=Equal(), hedge="0.05").hedge
        Fraction(1, 20)
    """

    strategy: OrgStrategy = attrs.field(validator=_check_org_strategy)
    hedge: Fraction = attrs.field(default=Fraction(0), converter=_to_hedge)
    bounds: Bounds | None = attrs.field(default=None, validator=_check_bounds)
    rounding: Divisor | None = attrs.field(default=None, validator=_check_rounding)

    def __attrs_post_init__(self) -> None:
        if self.hedge <= -1:
            raise SpecError(f"over-assignment {self.hedge} would leave the children nothing")
        if self.rounding is not None and self.bounds is not None:
            raise SpecError(
                "floors and caps need largest-remainder rounding",
                hint="drop rounding=..., or drop the bounds",
            )

    def describe(self) -> str:
        """A short label for explanations, e.g. ``'capacity_weighted +5%'``.

        Example:
            >>> from targetcascade.allocation import Equal
            >>> Split(strategy=Equal(), hedge="0.05").describe()
            'equal, over-assigned 5%'
        """
        text = self.strategy.name
        if self.hedge:
            text += f", over-assigned {float(self.hedge) * 100:g}%"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description.

        Example:
            >>> from targetcascade.allocation import Equal
            >>> Split(strategy=Equal()).to_dict()
            {'strategy': {'strategy': 'equal'}, 'hedge': '0', 'bounds': None, 'rounding': None}
        """
        return {
            "strategy": self.strategy.to_dict(),
            "hedge": str(self.hedge),
            "bounds": None if self.bounds is None else self.bounds.to_dict(),
            "rounding": None if self.rounding is None else type(self.rounding).__name__.lower(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], registry: StrategyRegistry | None = None) -> Split:
        """Rebuild a split from :meth:`to_dict` output.

        Args:
            data: The dict.
            registry: Where strategy names are looked up (default: the default registry).

        Returns:
            The split.

        Raises:
            SpecError: On an unknown key or a value of the wrong kind, naming its key path.

        Example:
            >>> from targetcascade.allocation import Equal
            >>> Split.from_dict(Split(strategy=Equal()).to_dict()) == Split(strategy=Equal())
            True
        """
        return _split_from(data, "", registry or default_registry(), per=None)


def _split_from(data: Any, path: str, registry: StrategyRegistry, per: str | None) -> Split:
    _object(data, path, _keys(Split), required=("strategy",), name="the split")
    rounding = data.get("rounding")
    if rounding is not None and (not isinstance(rounding, str) or rounding not in _DIVISORS):
        raise SpecError(
            f"{_join(path, 'rounding')!r} is {_json_type(rounding)}, not a divisor method"
            f"{suggest_name(str(rounding), _DIVISORS)}",
            hint=f"use one of {sorted(_DIVISORS)}, or null for largest remainder",
        )
    with _reading(_join(path, "strategy")):
        strategy = registry.from_dict(data["strategy"], kind="org")
    values = dict(data)
    values.update(
        strategy=strategy,
        bounds=_bounds_from(data.get("bounds"), _join(path, "bounds"), per),
        rounding=None if rounding is None else _DIVISORS[rounding](),
    )
    with _reading(path or "split"):
        return Split(**values)


def _check_text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance
    if not isinstance(value, str) or not value:
        raise SpecError(
            f"lock {attribute.name} {value!r} is not text (a node id or a period label)",
            hint="give the node id and the period label as text, e.g. 'FY2027-Q1'",
        )


@attrs.frozen(kw_only=True)
class Lock:
    """A cell pinned to a value: the engine keeps it and splits the rest among the siblings.

    Args:
        node: Node id.
        period: Period label (a month, quarter or year).
        value: The value (quantity string or number in the metric's unit). A float is accepted as
            the whole number of quanta it is within 4 ulps of, when the lock joins a
            :class:`MetricCascade`.

    Raises:
        SpecError: If the node or period is not text or the value is not an amount.

    Example:
        >>> Lock(node="east-1-1", period="FY2027", value="120 wan CNY").to_dict()
        {'node': 'east-1-1', 'period': 'FY2027', 'value': '120 wan CNY'}
    """

    node: str = attrs.field(validator=_check_text)
    period: str = attrs.field(validator=_check_text)
    value: Any = attrs.field(validator=_check_amount)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description.

        Example:
            >>> Lock(node="a", period="FY2027", value=5).to_dict()["value"]
            '5'
        """
        return {"node": self.node, "period": self.period, "value": str(self.value)}


def _splits(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else {} if value is None else value


def _locks(value: Any) -> Any:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else value


def _check_splits(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance
    if not isinstance(value, dict):
        raise SpecError(
            f"{attribute.name} must map names to Split(...), got {_json_type(value)}",
            hint=f"write {attribute.name}={{'region': Split(strategy=Equal())}}",
        )
    for name, split in value.items():
        if not isinstance(name, str) or not isinstance(split, Split):
            raise SpecError(
                f"{attribute.name}[{name!r}] is {split!r}, not a Split under a name",
                hint="give Split(strategy=...) under each level name or node id",
            )


def _check_locks(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance, attribute
    if not isinstance(value, tuple) or not all(isinstance(lock, Lock) for lock in value):
        raise SpecError(
            f"locks must be a list of Lock(...), got {value!r}"[:200],
            hint="give locks=[Lock(node=..., period=..., value=...), ...]",
        )


def _time_overrides(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else {} if value is None else value


def _check_time_strategy(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance, attribute
    if not isinstance(value, TimeStrategy):
        raise SpecError(
            f"{value!r} is not a time strategy",
            hint="use e.g. Even(), Seasonal(...), HistoricalSeasonality() or WorkingDays()",
        )


def _check_time_overrides(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise SpecError(
            f"time_overrides must map node ids to time strategies, got {_json_type(value)}",
            hint="write time_overrides={'east': Seasonal(...)}",
        )
    for strategy in value.values():
        _check_time_strategy(instance, attribute, strategy)


def _check_metric(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance, attribute
    if not isinstance(value, Metric):
        raise SpecError(f"metric {value!r} is not a Metric", hint="give Metric(name=..., unit=...)")


def _to_mode(value: Any) -> Mode:
    if isinstance(value, Mode):
        return value
    try:
        return Mode(value)
    except (ValueError, TypeError):
        modes = [mode.value for mode in Mode]
        raise SpecError(
            f"mode {value!r} is not a cascade mode{suggest_name(str(value), modes)}",
            hint=f"use one of {', '.join(repr(mode) for mode in modes)}",
        ) from None


#: The period each mode's org split works on, which absolute bounds must be given per.
_PER_OF_MODE: Final = {Mode.TIME_FIRST: "month", Mode.ORG_FIRST: "year", Mode.BALANCED: "year"}


@attrs.frozen(kw_only=True, eq=False)
class MetricCascade:
    """What to cascade for one metric.

    Args:
        metric: A sum metric.
        target: The company's annual target (quantity string, Decimal, int or float in the unit). A
            float (or a quantity) is accepted only as a whole number of quanta (within 4 ulps of one)
            and stored as the exact Decimal of those quanta, so ``0.1 + 0.2`` CNY is ``0.30``.
        splits: Split per parent level name (``{"company": ..., "region": ..., "team": ...}``).
        overrides: Split per parent node id, replacing its level's split for its children.
        time: Time strategy phasing the year over the months.
        time_overrides: Time strategy per node id (used where a node's own year is phased: the root in
            ``time_first`` and ``balanced`` modes, every leaf in ``org_first`` mode).
        locks: Pinned cells. Float values are stored as their exact quanta, as for the target.
        mode: :class:`Mode`.

    Raises:
        SpecError: If the metric is not a sum metric, the mode is unknown, a part is of the wrong
            kind, or absolute bounds are per a period the mode does not split.
        QuantumError: If a float amount is not within 4 ulps of a whole quantum.

    Example:
        >>> from targetcascade import Metric
        >>> from targetcascade.allocation import Equal
        >>> MetricCascade(metric=Metric(name="deals", unit="deal"), target=120,
        ...               splits={"company": Split(strategy=Equal())}).mode
        <Mode.TIME_FIRST: 'time_first'>
        >>> MetricCascade(metric=Metric(name="revenue", unit="CNY"), target=0.1 + 0.2).target
        Decimal('0.30')
    """

    metric: Metric = attrs.field(validator=_check_metric)
    target: Any = attrs.field(validator=_check_amount)
    splits: dict[str, Split] = attrs.field(factory=dict, converter=_splits, validator=_check_splits)
    overrides: dict[str, Split] = attrs.field(
        factory=dict, converter=_splits, validator=_check_splits
    )
    time: TimeStrategy = attrs.field(factory=Even, validator=_check_time_strategy)
    time_overrides: dict[str, TimeStrategy] = attrs.field(
        factory=dict, converter=_time_overrides, validator=_check_time_overrides
    )
    locks: tuple[Lock, ...] = attrs.field(factory=tuple, converter=_locks, validator=_check_locks)
    mode: Mode = attrs.field(default=Mode.TIME_FIRST, converter=_to_mode)

    def __attrs_post_init__(self) -> None:
        if self.metric.rollup is not Rollup.SUM:
            raise SpecError(
                f"metric {self.metric.name!r} has rollup {self.metric.rollup.value!r}; only sum "
                "metrics are cascaded",
                metric=self.metric.name,
                hint="cascade the numerator and denominator of a ratio metric instead, and "
                "give the ratio in CascadeSpec(derived=[...])",
            )
        self._check_bounds_period()
        self._store_exact_amounts()

    def _check_bounds_period(self) -> None:
        per = _PER_OF_MODE[self.mode]
        for where, splits in (("splits", self.splits), ("overrides", self.overrides)):
            for name, split in splits.items():
                bounds = split.bounds
                if isinstance(bounds, AbsoluteBounds) and bounds.per != per:
                    modes = [m.value for m, p in _PER_OF_MODE.items() if p == bounds.per]
                    raise SpecError(
                        f"{self.metric.name!r}: the absolute bounds of {where}[{name!r}] are per "
                        f"{bounds.per}, but {self.mode.value} mode splits each {per}",
                        metric=self.metric.name,
                        hint=f"use mode={' or '.join(repr(m) for m in modes)} for bounds per "
                        f"{bounds.per}, or give the bounds per={per!r}",
                    )

    def _store_exact_amounts(self) -> None:
        """Floats and quantities become the exact amounts they were accepted as (the one float rule)."""
        metric = self.metric
        with _reading(f"{metric.name!r} target"):
            object.__setattr__(self, "target", _exact_amount(metric, self.target))
        for name in ("splits", "overrides"):
            splits: dict[str, Split] = getattr(self, name)
            for key, split in splits.items():
                bounds = split.bounds
                if isinstance(bounds, AbsoluteBounds):
                    with _reading(f"{metric.name!r} {name}[{key!r}] bounds"):
                        floor = _exact_amount(metric, bounds.floor)
                        cap = _exact_amount(metric, bounds.cap)
                    if floor is not bounds.floor or cap is not bounds.cap:
                        exact = attrs.evolve(bounds, floor=floor, cap=cap)
                        splits[key] = attrs.evolve(split, bounds=exact)
        locks = self.locks
        if any(type(lock.value) not in (str, int, Decimal) for lock in locks):
            exact_locks = []
            for lock in locks:
                with _reading(f"{metric.name!r} lock on {lock.node!r} {lock.period}"):
                    value = _exact_amount(metric, lock.value)
                exact_locks.append(lock if value is lock.value else attrs.evolve(lock, value=value))
            object.__setattr__(self, "locks", tuple(exact_locks))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MetricCascade):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description.

        Example:
            >>> from targetcascade import Metric
            >>> MetricCascade(metric=Metric(name="deals", unit="deal"), target=12).to_dict()["target"]
            '12'
        """
        return {
            "metric": self.metric.to_dict(),
            "target": str(self.target),
            "splits": {level: s.to_dict() for level, s in self.splits.items()},
            "overrides": {node: s.to_dict() for node, s in self.overrides.items()},
            "time": self.time.to_dict(),
            "time_overrides": {node: t.to_dict() for node, t in self.time_overrides.items()},
            "locks": [lock.to_dict() for lock in self.locks],
            "mode": self.mode.value,
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], registry: StrategyRegistry | None = None
    ) -> MetricCascade:
        """Rebuild from :meth:`to_dict` output.

        Args:
            data: The dict.
            registry: Where strategy names are looked up.

        Returns:
            The metric cascade.

        Raises:
            SpecError: On an unknown key or a value of the wrong kind, naming its key path.

        Example:
            >>> from targetcascade import Metric
            >>> m = MetricCascade(metric=Metric(name="deals", unit="deal"), target=12)
            >>> MetricCascade.from_dict(m.to_dict()) == m
            True
        """
        return _metric_cascade_from(
            data, "", registry or default_registry(), version=SPEC_SCHEMA_VERSION
        )


def _metric_cascade_from(
    data: Any, path: str, registry: StrategyRegistry, version: int
) -> MetricCascade:
    _object(data, path, _keys(MetricCascade), ("metric", "target"), name="the metric cascade")
    with _reading(_join(path, "mode")):
        mode = _to_mode(data.get("mode", Mode.TIME_FIRST.value))
    # before version 2, absolute bounds had no ``per``: they were per the period the mode splits
    per = _PER_OF_MODE[mode] if version < 2 else None
    metric_path = _join(path, "metric")
    _object(data["metric"], metric_path, _keys(Metric))
    with _reading(metric_path):
        metric = Metric.from_dict(dict(data["metric"]))
    splits = {}
    for where in ("splits", "overrides"):
        named = _mapping(data.get(where, {}), _join(path, where), "level name → split")
        splits[where] = {
            name: _split_from(value, _join(_join(path, where), name), registry, per)
            for name, value in named.items()
        }
    times = _mapping(
        data.get("time_overrides", {}), _join(path, "time_overrides"), "node id → time strategy"
    )
    time_overrides = {}
    for node, value in times.items():
        with _reading(_join(_join(path, "time_overrides"), node)):
            time_overrides[node] = registry.from_dict(value, kind="time")
    with _reading(_join(path, "time")):
        time = registry.from_dict(data["time"], kind="time") if "time" in data else Even()
    locks_path = _join(path, "locks")
    locks = []
    keys = _keys(Lock)
    every = set(keys)
    # locks come by the ten thousand: a lock's path is only spelt out when it is refused
    for i, lock in enumerate(_list(data.get("locks", []), locks_path, "locks")):
        if type(lock) is not dict or lock.keys() != every:
            _object(lock, f"{locks_path}[{i}]", keys, required=keys)
        try:
            locks.append(Lock(**lock))
        except TargetCascadeError as exc:
            raise _restated(exc, problem=f"{locks_path}[{i}]: {exc.problem}") from exc
    values = dict(data)
    values.update(
        metric=metric,
        time=time,
        time_overrides=time_overrides,
        locks=locks,
        mode=mode,
        **splits,
    )
    with _reading(path or "metric cascade"):
        return MetricCascade(**values)


def _metric_cascades(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def _check_metric_cascades(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    del instance, attribute
    if not isinstance(value, tuple) or not all(isinstance(m, MetricCascade) for m in value):
        raise SpecError(
            f"metrics must be a list of MetricCascade(...), got {value!r}"[:200],
            hint="give metrics=[MetricCascade(metric=..., target=..., splits=...), ...]",
        )


#: Schema versions :meth:`CascadeSpec.from_dict` reads: 1 had absolute bounds without ``per``.
_READABLE_VERSIONS: Final = (1, SPEC_SCHEMA_VERSION)


def _derived_metrics(value: Iterable[Metric] | None) -> tuple[Metric, ...]:
    return tuple(value or ())


def _check_derived(derived: tuple[Metric, ...], cascaded: list[str]) -> None:
    """Each derived metric is a ratio of two cascaded metrics, and no name is given twice."""
    seen = set(cascaded)
    for metric in derived:
        if not isinstance(metric, Metric):
            raise SpecError(
                f"derived metric {metric!r} is not a Metric",
                hint="give Metric(name=..., rollup='ratio', numerator=..., denominator=...)",
            )
        if metric.rollup is not Rollup.RATIO:
            raise SpecError(
                f"derived metric {metric.name!r} has rollup {metric.rollup.value!r}; only ratio "
                "metrics are derived",
                metric=metric.name,
                hint="cascade sum metrics in metrics=[...]; derive ratios of two of them",
            )
        missing = [
            f"{role} {part!r}"
            for role, part in (("numerator", metric.numerator), ("denominator", metric.denominator))
            if part not in cascaded
        ]
        if missing:
            raise SpecError(
                f"derived metric {metric.name!r} needs its {' and '.join(missing)} cascaded in "
                f"this spec (cascaded: {cascaded})",
                metric=metric.name,
                hint="add a MetricCascade for each part, or name parts the spec cascades",
            )
        if metric.name in seen:
            raise SpecError(
                f"metric {metric.name!r} is given twice (cascaded or derived)",
                metric=metric.name,
                hint="give each metric once",
            )
        seen.add(metric.name)


@attrs.frozen(kw_only=True, eq=False)
class CascadeSpec:
    """A whole cascade: one :class:`MetricCascade` per metric. Serialises to JSON and back.

    Args:
        metrics: The metric cascades, unique by metric name.
        derived: Ratio metrics filled from two cascaded metrics (``margin = profit / revenue``):
            every cell is its numerator over its denominator, rounded half to even to the ratio's
            quantum as :func:`~targetcascade.check.check` expects, and has no value where the
            denominator is 0.

    Raises:
        SpecError: On a repeated metric, a derived metric that is not a ratio, or a ratio whose
            numerator or denominator is not a cascaded metric of the spec.

    Example:
        >>> from targetcascade import Metric
        >>> from targetcascade.allocation import Equal
        >>> spec = CascadeSpec(metrics=[MetricCascade(
        ...     metric=Metric(name="deals", unit="deal"), target=120,
        ...     splits={"company": Split(strategy=Equal())})])
        >>> CascadeSpec.from_json(spec.to_json()) == spec
        True
        >>> win_rate = Metric(name="win", unit="percent", rollup="ratio", numerator="deals",
        ...                   denominator="proposals")
        >>> try:
        ...     CascadeSpec(metrics=spec.metrics, derived=[win_rate])
        ... except SpecError as refused:
        ...     print(refused.problem)
        derived metric 'win' needs its denominator 'proposals' cascaded in this spec (cascaded: ['deals'])
    """

    metrics: tuple[MetricCascade, ...] = attrs.field(
        converter=_metric_cascades, validator=_check_metric_cascades
    )
    derived: tuple[Metric, ...] = attrs.field(factory=tuple, converter=_derived_metrics)

    def __attrs_post_init__(self) -> None:
        names = [m.metric.name for m in self.metrics]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise SpecError(f"metrics {repeated} are cascaded twice", hint="give each metric once")
        _check_derived(self.derived, names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CascadeSpec):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description with a schema version.

        Example:
            >>> CascadeSpec(metrics=[]).to_dict()
            {'schema_version': 2, 'metrics': []}
        """
        data: dict[str, Any] = {
            "schema_version": SPEC_SCHEMA_VERSION,
            "metrics": [m.to_dict() for m in self.metrics],
        }
        if self.derived:  # a spec without derived metrics is written as before they existed
            data["derived"] = [m.to_dict() for m in self.derived]
        return data

    def to_json(self) -> str:
        """The spec as canonical JSON (sorted keys): the same spec gives the same text.

        Example:
            >>> CascadeSpec(metrics=[]).to_json()
            '{"metrics": [], "schema_version": 2}'
        """
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], registry: StrategyRegistry | None = None
    ) -> CascadeSpec:
        """Rebuild from :meth:`to_dict` output, of this or an older schema version.

        Every key is checked: an unknown key (a typo such as ``"lcoks"``) or a value of the wrong
        kind is an error naming its key path (``metrics[0].splits.region.hegde``) and the nearest
        valid key. A spec of schema version 1 has no ``per`` in its absolute bounds; they are read
        as per the period the metric's mode splits (a month in ``time_first``, a year otherwise).

        Args:
            data: The dict.
            registry: Where strategy names are looked up (default: built-ins and plug-ins).

        Returns:
            The spec.

        Raises:
            SerializationError: On an unknown schema version.
            SpecError: On an unknown key or a value of the wrong kind (naming the key path), or
                objects and lists nested more than 64 deep.

        Example:
            >>> CascadeSpec.from_dict({"schema_version": 2, "metrics": []}).metrics
            ()
            >>> CascadeSpec.from_dict({"schema_version": 2, "metrcs": []})
            Traceback (most recent call last):
            ...
            targetcascade.errors.SpecError: unknown key 'metrcs' (did you mean 'metrics'?); ...
        """
        if not isinstance(data, Mapping):
            _object(data, "", ("schema_version", *_keys(cls)))
        version = data.get("schema_version")
        if version not in _READABLE_VERSIONS:
            raise SerializationError(
                f"cascade spec schema version {version!r} is not supported "
                f"(this library reads {', '.join(map(str, _READABLE_VERSIONS))})",
                hint="upgrade targetcascade, or re-export the spec",
            )
        _check_depth(data)
        _object(data, "", ("schema_version", *_keys(cls)), required=("metrics",))
        reg = registry or default_registry()
        try:
            metrics = [
                _metric_cascade_from(item, f"metrics[{i}]", reg, version)
                for i, item in enumerate(_list(data["metrics"], "metrics", "metric cascades"))
            ]
            values = {key: value for key, value in data.items() if key != "schema_version"}
            values["metrics"] = metrics
            if "derived" in values:
                derived = []
                for i, item in enumerate(_list(values["derived"], "derived", "ratio metrics")):
                    _object(item, f"derived[{i}]", _keys(Metric))
                    with _reading(f"derived[{i}]"):
                        derived.append(Metric.from_dict(dict(item)))
                values["derived"] = derived
            with _reading("the cascade spec"):
                return cls(**values)
        except TargetCascadeError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(f"malformed cascade spec: {exc!r}") from exc

    @classmethod
    def from_json(cls, text: str | bytes, registry: StrategyRegistry | None = None) -> CascadeSpec:
        """Rebuild from :meth:`to_json` output (see :meth:`from_dict` for what is checked).

        Args:
            text: The JSON text.
            registry: Where strategy names are looked up.

        Returns:
            The spec.

        Raises:
            SpecError: If the text is not JSON, or nests objects and lists more than 64 deep (the
                limit for a spec), or as :meth:`from_dict`.

        Example:
            >>> CascadeSpec.from_json('{"schema_version": 2, "metrics": []}').metrics
            ()
        """
        if isinstance(text, bytes | bytearray):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SpecError(f"the cascade spec is not UTF-8 text: {exc.reason}") from None
        if not isinstance(text, str):
            raise SpecError(
                f"a cascade spec is JSON text, got {type(text).__name__}",
                hint="pass the file's text, or use CascadeSpec.from_dict for a dict",
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"the cascade spec is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            raise SpecError(f"the cascade spec is not readable JSON: {exc}") from None
        except RecursionError:
            raise _too_deep() from None
        return cls.from_dict(data, registry)


# ---------------------------------------------------------------------------------------------
# The engine


class _Labels(Sequence[str]):
    """Node ids at given compiled positions (after ``prefix``), made only when a message needs one."""

    def __init__(self, tree: OrgTree, positions: IntArray, prefix: str = "") -> None:
        self._ids = tree.compiled.ids
        self._positions = positions
        self._prefix = prefix

    def __len__(self) -> int:
        return int(self._positions.size)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._prefix + self._ids[int(p)] for p in self._positions[index]]
        return self._prefix + self._ids[int(self._positions[index])]


class _CellLabels(Sequence[str]):
    """Labels "node period" of node-major (node, period) rows, made only when a message needs one."""

    def __init__(
        self, tree: OrgTree, calendar: FiscalCalendar, nodes: IntArray, periods: IntArray
    ) -> None:
        self._ids = tree.compiled.ids
        self._periods = calendar.periods
        self._nodes = nodes
        self._columns = periods

    def __len__(self) -> int:
        return int(self._nodes.size * self._columns.size)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        node, column = divmod(int(index), int(self._columns.size))
        period = self._periods[int(self._columns[column])].label
        return f"{self._ids[int(self._nodes[node])]} {period}"


@attrs.define
class _Grid:
    """Mutable working arrays of one metric while the engine fills them."""

    values: IntArray
    origins: npt.NDArray[np.uint8]
    source: npt.NDArray[np.uint8]
    weight: FloatArray
    quota: FloatArray
    adjustment: IntArray
    bound: npt.NDArray[np.uint8]
    org_strategy: IntArray
    time_strategy: IntArray


def cascade(
    spec: CascadeSpec,
    tree: OrgTree,
    calendar: FiscalCalendar,
    *,
    history: History | Mapping[int, Plan] | Iterable[Plan] | None = None,
) -> Plan:
    """Run a cascade spec on a tree and calendar; return the exact, checked-to-be-coherent plan.

    Args:
        spec: What to cascade.
        tree: The organisation.
        calendar: The fiscal year.
        history: Past years' actuals (a :class:`History`, a mapping year -> plan, or plans) for
            strategies that need history and for relative bounds.

    Returns:
        A plan of kind ``target`` with :class:`~targetcascade.plan.Provenance` for :func:`explain`.

    Raises:
        SpecError: A level with children has no split, a lock names an unknown cell or a derived
            cell, a strategy needs history that was not given, or a mode cannot honour a policy.
        InfeasibleAllocationError: Locks, floors or caps cannot all hold (naming parent, period and
            children), or all weights are zero under a non-zero parent.
        StrategyError: A strategy returned weights that are negative, NaN or of the wrong shape.

    Example:
        >>> from targetcascade import FiscalCalendar, Metric, OrgTree
        >>> from targetcascade.allocation import Equal
        >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"},
        ...     {"id": "east", "parent": "acme", "level": "region"},
        ...     {"id": "west", "parent": "acme", "level": "region"}])
        >>> spec = CascadeSpec(metrics=[MetricCascade(metric=Metric(name="deals", unit="deal"),
        ...     target=120, splits={"company": Split(strategy=Equal())})])
        >>> plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        >>> [plan.quanta(n, "FY2027", "deals") for n in ("acme", "east", "west")]
        [120, 60, 60]
        >>> [plan.quanta("east", f"FY2027-Q{q}", "deals") for q in range(1, 5)]
        [15, 15, 15, 15]
    """
    past = _as_history(history)
    metrics = (*(m.metric for m in spec.metrics), *spec.derived)
    shape = (len(tree), len(calendar.periods))
    labels: list[str] = []
    grids: dict[str, _Grid] = {}
    hedges: dict[str, dict[str, Fraction]] = {}
    fallbacks: list[tuple[str, npt.NDArray[np.int64], str, str]] = []
    # each metric's engine fills its slice of the plan's arrays in place: no copies at the end
    values = np.zeros((len(metrics), *shape), dtype=np.int64)
    origins = np.zeros((len(metrics), *shape), dtype=np.uint8)
    for k, item in enumerate(spec.metrics):
        _validate(item, tree, calendar, past)
        hedges[item.metric.name] = {
            level: split.hedge for level, split in item.splits.items() if split.hedge
        }
        grid = _new_grid(values[k], origins[k])
        engine = _Engine(item, tree, calendar, history=past, grid=grid, labels=labels)
        with collecting() as reported:
            engine.run()
        fallbacks.extend(_fallback_rows(item.metric.name, reported))
        grids[item.metric.name] = grid
    for k, metric in enumerate(spec.derived, start=len(spec.metrics)):
        _derive(
            metric,
            metrics=metrics,
            values=values,
            origins=origins,
            k=k,
            tree=tree,
            calendar=calendar,
        )
    # read-only arrays are taken over by Plan as they are (writeable ones it would copy); the
    # engine's views are closed too, so nothing can write into the plan afterwards
    for grid in grids.values():
        grid.values.flags.writeable = False
        grid.origins.flags.writeable = False
    values.flags.writeable = False
    origins.flags.writeable = False
    provenance = Provenance(
        source={k: g.source for k, g in grids.items()},
        weight={k: g.weight for k, g in grids.items()},
        quota={k: g.quota for k, g in grids.items()},
        adjustment={k: g.adjustment for k, g in grids.items()},
        bound={k: g.bound for k, g in grids.items()},
        org_strategy={k: g.org_strategy for k, g in grids.items()},
        time_strategy={k: g.time_strategy for k, g in grids.items()},
        labels=tuple(labels),
        mode=",".join(sorted({m.mode.value for m in spec.metrics})),
        fallbacks=FallbackRecords(tree, fallbacks) if fallbacks else (),
    )
    for k, metric in enumerate(metrics):
        check_limit(values[k], metric, tree, calendar)  # the size limit holds at the way out too
    return Plan(
        tree=tree,
        calendar=calendar,
        metrics=metrics,
        values=values,
        origins=origins,
        hedges=hedges,
        provenance=provenance,
    )


def _derive(
    metric: Metric,
    *,
    metrics: tuple[Metric, ...],
    values: IntArray,
    origins: npt.NDArray[np.uint8],
    k: int,
    tree: OrgTree,
    calendar: FiscalCalendar,
) -> None:
    """Fill derived ratio ``metric`` (slice ``k``) from its cascaded numerator and denominator.

    Every cell by the rule ``check`` verifies (:func:`~targetcascade.plan.ratio_quanta`); where the
    denominator is 0 the cell has no value.
    """
    names = [m.name for m in metrics]
    num, den = names.index(metric.numerator or ""), names.index(metric.denominator or "")
    present = (origins[num] != Origin.MISSING) & (origins[den] != Origin.MISSING)
    try:
        quanta, known = ratio_of_grids(
            metric, metrics[num], metrics[den], num=values[num], den=values[den], present=present
        )
        too_large = np.abs(quanta) > MAX_QUANTA
    except OverflowError:
        too_large = np.ones(values[k].shape, dtype=bool)
        known = too_large
    if too_large.any():
        n, p = (int(i[0]) for i in np.nonzero(too_large))
        raise SpecError(
            f"derived metric {metric.name!r} at {tree.compiled.ids[n]!r} "
            f"{calendar.periods[p].label} is beyond the limit of 2**53 = {MAX_QUANTA:,} quanta "
            f"of {metric.format(1)}",
            metric=metric.name,
            node=tree.compiled.ids[n],
            period=calendar.periods[p].label,
            hint="give the ratio a coarser quantum",
        )
    values[k] = np.where(known, quanta, 0)
    origins[k] = np.where(known, np.uint8(Origin.ROLLED_UP), np.uint8(Origin.MISSING))


def _fallback_rows(
    metric: str, reported: Reported
) -> list[tuple[str, npt.NDArray[np.int64], str, str]]:
    """Each report's rows without the ones already reported for the same reason and strategy."""
    seen: dict[tuple[str, str], set[int]] = {}
    out: list[tuple[str, npt.NDArray[np.int64], str, str]] = []
    for rows, reason, strategy in reported:
        done = seen.setdefault((reason, strategy), set())
        # first occurrences in report order: a large organisation reports thousands of rows
        unique, first = np.unique(rows, return_index=True)
        fresh = [
            row for row in unique[np.argsort(first, kind="stable")].tolist() if row not in done
        ]
        done.update(fresh)
        if fresh:
            out.append((metric, np.array(fresh, dtype=np.int64), reason, strategy))
    return out


def _as_history(history: History | Mapping[int, Plan] | Iterable[Plan] | None) -> History | None:
    if history is None or isinstance(history, History):
        return history
    return History(plans=history)


def _new_grid(values: IntArray, origins: npt.NDArray[np.uint8]) -> _Grid:
    """Working arrays for one metric around its (zeroed) slices of the plan's values and origins."""
    shape = values.shape
    nodes = shape[0]
    return _Grid(
        values=values,
        origins=origins,
        source=np.zeros(shape, dtype=np.uint8),
        weight=np.full(shape, np.nan),
        quota=np.full(shape, np.nan),
        adjustment=np.zeros(shape, dtype=np.int64),
        bound=np.zeros(shape, dtype=np.uint8),
        org_strategy=np.full(nodes, -1, dtype=np.int64),
        time_strategy=np.full(nodes, -1, dtype=np.int64),
    )


def _validate(
    item: MetricCascade, tree: OrgTree, calendar: FiscalCalendar, history: History | None
) -> None:
    """Check the spec against the tree and calendar before any work (validate at the door)."""
    compiled = tree.compiled
    names = tree.levels.names
    inner_levels = {names[c] for c in np.unique(compiled.level_code[~compiled.is_leaf]).tolist()}
    missing = sorted(
        level
        for level in inner_levels
        if level not in item.splits
        and any(
            compiled.ids[i] not in item.overrides
            for i in np.flatnonzero(
                ~compiled.is_leaf & (compiled.level_code == tree.levels.code(level))
            ).tolist()
        )
    )
    if missing:
        raise SpecError(
            f"{item.metric.name!r}: no split for the children of level(s) {missing}",
            metric=item.metric.name,
            hint="add splits={level: Split(strategy=...)} for every level that has children",
        )
    for level in item.splits:
        if level not in names:
            raise SpecError(
                f"{item.metric.name!r}: split given for unknown level {level!r}",
                metric=item.metric.name,
                hint=f"levels are {list(names)}",
            )
    for node in (*item.overrides, *item.time_overrides):
        if node not in tree:
            raise SpecError(
                f"{item.metric.name!r}: override for unknown node {node!r}",
                node=node,
                metric=item.metric.name,
            )
    for node, split in item.overrides.items():
        level = names[compiled.level_code[compiled.index(node)]]
        level_hedge = item.splits[level].hedge if level in item.splits else Fraction(0)
        if split.hedge != level_hedge:
            raise SpecError(
                f"{item.metric.name!r}: override for {node!r} over-assigns {split.hedge} but its "
                f"level {level!r} over-assigns {level_hedge}",
                node=node,
                metric=item.metric.name,
                hint="over-assignment is declared per level; give the override the level's hedge",
            )
    needs_history = [
        s.strategy.name
        for s in (*item.splits.values(), *item.overrides.values())
        if reads_history(s.strategy)
    ] + [t.name for t in (item.time, *item.time_overrides.values()) if reads_history(t)]
    relative = [
        s
        for s in (*item.splits.values(), *item.overrides.values())
        if isinstance(s.bounds, RelativeBounds)
    ]
    if (needs_history or relative) and (history is None or not history.plans):
        what = needs_history or ["relative bounds"]
        raise SpecError(
            f"{item.metric.name!r}: {sorted(set(what))} need history, but none was given",
            metric=item.metric.name,
            hint="pass history=... (past years' plans) to cascade()",
        )
    _validate_sign(item)
    if item.mode is Mode.ORG_FIRST and any(s.hedge for s in item.splits.values()):
        raise SpecError(
            f"{item.metric.name!r}: over-assignment needs a fixed parent phasing, which org_first "
            "mode does not have (parents' months are the sums of their children's)",
            metric=item.metric.name,
            hint="use mode='time_first' or 'balanced' with over-assignment",
        )
    periods_seen: set[str] = set()  # a few labels, locked by the ten thousand
    root = tree.root
    for lock in item.locks:
        if lock.node not in tree:
            raise SpecError(f"lock on unknown node {lock.node!r}", node=lock.node)
        if lock.period not in periods_seen:
            calendar.index(lock.period)  # PeriodError names the label
            periods_seen.add(lock.period)
        if lock.node == root:
            raise SpecError(
                f"lock on the root {lock.node!r}: the root carries the target",
                node=lock.node,
                hint="change the target, or lock a child",
            )


def _validate_sign(item: MetricCascade) -> None:
    """A negative target needs a metric that may be negative, and no floors or caps."""
    metric = item.metric
    target = metric.to_quanta(item.target)
    if target >= 0:
        return
    if metric.non_negative:
        raise SpecError(
            f"the target {metric.format(target)} of {metric.name!r} is negative, but the metric "
            "is declared non-negative (its plan could not check ok)",
            metric=metric.name,
            hint=f"give a target >= 0, or declare Metric(name={metric.name!r}, ..., "
            "non_negative=False) for a metric that may be planned negative (a loss)",
        )
    bounded = sorted(
        {level for level, s in item.splits.items() if s.bounds is not None}
        | {node for node, s in item.overrides.items() if s.bounds is not None}
    )
    if bounded:
        raise SpecError(
            f"the target {metric.format(target)} of {metric.name!r} is negative, but the splits "
            f"of {bounded} have floors or caps, which bound non-negative shares only",
            metric=metric.name,
            hint="drop the bounds for this metric, or give a target >= 0",
        )


class _Engine:
    """Fills one metric's grid for one :class:`MetricCascade`.

    A negative target (a planned loss) is split as the exact mirror of the positive one: the engine
    splits ``-target`` with every lock negated, then negates every cell, so ``plan(-T)`` is
    ``-plan(T)`` cell by cell in every mode (the kernel's "split by symmetry", for the whole cascade:
    the carried monthly split and the balanced tables need non-negative margins).
    """

    def __init__(
        self,
        item: MetricCascade,
        tree: OrgTree,
        calendar: FiscalCalendar,
        *,
        history: History | None,
        grid: _Grid,
        labels: list[str],
    ) -> None:
        self.item = item
        self.metric = item.metric
        self.tree = tree
        self.compiled = tree.compiled
        self.calendar = calendar
        self.history = history
        self.grid = grid
        self.labels = labels
        self.periods = calendar.periods
        self.months = np.flatnonzero(calendar.level_array == PeriodLevel.MONTH).astype(np.int64)
        self.year = 0
        self.locks = self._lock_table()
        #: -1 while a negative target is split as its positive mirror (see the class docstring)
        self.sign = 1

    # -------------------------------------------------------------- helpers

    def _label(self, text: str) -> int:
        if text not in self.labels:
            self.labels.append(text)
        return self.labels.index(text)

    def _lock_table(self) -> dict[tuple[int, int], int]:
        table: dict[tuple[int, int], int] = {}
        locks = self.item.locks
        if not locks:
            return table
        # nodes and periods were checked at the door; positions are looked up in one pass
        where = self.compiled.positions_of([lock.node for lock in locks]).tolist()
        period_of = {label: self.calendar.index(label) for label in {lock.period for lock in locks}}
        to_quanta = self.metric.to_quanta
        try:
            values: list[int | None] = list(self.metric.to_quanta_many(lk.value for lk in locks))
        except Exception:  # noqa: BLE001 - converted lock by lock below, which raises the first
            values = [None] * len(locks)  # problem in lock order (a duplicate may come first)
        for lock, row, value in zip(locks, where, values, strict=True):
            key = (row, period_of[lock.period])
            if key in table:
                raise SpecError(f"two locks on {lock.node!r} {lock.period}", node=lock.node)
            table[key] = _lock_quanta(to_quanta, lock) if value is None else value
            if table[key] < 0 and self.metric.non_negative:
                raise SpecError(
                    f"lock {lock.node!r} {lock.period} = {self.metric.format(table[key])} is "
                    f"negative, but {self.metric.name!r} is declared non-negative",
                    node=lock.node,
                    period=lock.period,
                    metric=self.metric.name,
                    hint="lock a value >= 0, or declare the metric with non_negative=False",
                )
        return table

    def _months_of(self, period: int) -> list[int]:
        """Positions within ``self.months`` of the months that make up grid period ``period``."""
        span = self.periods[period]
        return [
            j
            for j, m in enumerate(self.months.tolist())
            if span.start <= self.periods[m].start <= span.end
        ]

    def _split_of(self, parent: int) -> Split:
        node = self.compiled.ids[parent]
        if node in self.item.overrides:
            return self.item.overrides[node]
        level = self.tree.levels.names[self.compiled.level_code[parent]]
        return self.item.splits[level]

    @functools.cached_property
    def _active(self) -> BoolArray | None:
        """Whether each node is employed in each month, ``(nodes, months)``; None: all, always.

        A month with at least one day between a node's start and end dates (inclusive) is active;
        an inner node is active only where it has an active child, so a team whose people are all
        away takes no share of a month. The engine applies this after every strategy's weights
        (built-ins and plug-ins alike): people carry nothing in months they are not employed.
        """
        c = self.compiled
        dated = np.flatnonzero(~np.isnat(c.start) | ~np.isnat(c.end))
        if dated.size == 0:
            return None
        spans = [self.periods[m] for m in self.months.tolist()]
        first = np.array([np.datetime64(p.start, "D") for p in spans])
        last = np.array([np.datetime64(p.end, "D") for p in spans])
        start, end = c.start[dated][:, None], c.end[dated][:, None]
        active = np.ones((len(self.tree), self.months.size), dtype=bool)
        active[dated] = (np.isnat(start) | (start <= last[None, :])) & (
            np.isnat(end) | (end >= first[None, :])
        )
        counts = np.diff(c.child_offsets)
        for d in range(int(c.depth.max(initial=0)) - 1, -1, -1):
            parents = np.flatnonzero((c.depth == d) & (counts > 0))
            if parents.size == 0:
                continue
            lo, hi = int(c.child_offsets[parents[0]]), int(c.child_offsets[parents[-1] + 1])
            active[parents] &= np.logical_or.reduceat(
                active[lo:hi], c.child_offsets[parents] - lo, axis=0
            )
        return None if active.all() else active

    def _active_in(self, rows: IntArray, columns: IntArray) -> BoolArray | None:
        """Whether each row is active in each column (a period with an active month); None: all."""
        active = self._active
        if active is None:
            return None
        part = active[as_slice(rows)]  # a view where the rows are a run (as they mostly are)
        if not np.array_equal(columns, self.months):
            by_column = [part[:, self._months_of(p)].any(axis=1) for p in columns.tolist()]
            part = np.stack(by_column, axis=1)
        return None if part.all() else part

    def _nobody_active(
        self,
        parents: IntArray,
        offsets: IntArray,
        active: BoolArray,
        totals: IntArray,
        columns: IntArray,
    ) -> None:
        """Refuse a non-zero parent value in a period where none of its children is employed."""
        anyone = np.logical_or.reduceat(active, offsets[:-1], axis=0)
        stranded = ~anyone & (totals != 0)
        if not stranded.any():
            return
        s, j = (int(i) for i in np.argwhere(stranded)[0])
        position = int(parents[s])
        node = self.compiled.ids[position]
        period = self.periods[int(columns[j])].label
        if self.compiled.is_leaf[position]:  # a leaf's own year, phased over its months
            why = f"it is employed in none of the months of {period} (its start and end dates)"
            fix = f"unlock {node!r} {period}, or check its start and end dates"
        else:
            why = (
                f"none of its children is employed then (their start and end dates leave "
                f"{period} out)"
            )
            fix = (
                f"lock {node!r} {period} at 0, phase the year away from {period} (a Seasonal "
                "profile with 0 there), or check the children's start and end dates"
            )
        raise InfeasibleAllocationError(
            f"{node!r} carries {self._amount(int(totals[s, j]))} of {self.metric.name!r} in "
            f"{period}, but {why}",
            node=node,
            period=period,
            metric=self.metric.name,
            hint=fix,
        )

    def _amount(self, quanta: int) -> str:
        """An amount of the engine's working grid for a message, in the metric's unit and sign."""
        return self.metric.format(self.sign * quanta)

    def _time_of(self, node: int) -> TimeStrategy:
        return self.item.time_overrides.get(self.compiled.ids[node], self.item.time)

    def _column_labels(self, periods: IntArray) -> list[str]:
        return [self.periods[int(p)].label for p in periods]

    # -------------------------------------------------------------- entry

    def run(self) -> None:
        target = self.metric.to_quanta(self.item.target)
        locks = self.locks
        if target < 0:
            # split the positive mirror, negated back below (see the class docstring)
            self.sign = -1
            target = -target
            self.locks = {key: -value for key, value in locks.items()}
        g = self.grid
        g.values[0, self.year] = target
        g.origins[0, self.year] = Origin.MANUAL
        g.source[0, self.year] = Source.TARGET
        mode = self.item.mode
        if mode is Mode.TIME_FIRST:
            self._phase(np.array([0], dtype=np.int64))
            self._org_pass(self.months)
        elif mode is Mode.ORG_FIRST:
            self._org_pass(np.array([self.year], dtype=np.int64))
            leaves = np.flatnonzero(self.compiled.is_leaf).astype(np.int64)
            self._phase(leaves)
            self._roll_up_org_months()
        else:
            self._org_pass(np.array([self.year], dtype=np.int64))
            self._phase(np.array([0], dtype=np.int64))
            split_years = g.source[:, self.year].copy()
            self._balanced_pass()
            self._roll_up_time(np.arange(1, len(self.tree), dtype=np.int64))
            # each child's year is its months' sum and also the org split that fixed that sum:
            # explain tells the split (the values are the same either way)
            g.source[1:, self.year] = split_years[1:]
        if self.sign < 0:
            np.negative(g.values, out=g.values)
            np.negative(g.quota, out=g.quota)
            np.negative(g.adjustment, out=g.adjustment)
            self.locks = locks
            self.sign = 1
        self._check_locks_applied()

    # -------------------------------------------------------------- time

    def _phase(self, nodes: IntArray) -> None:
        """Split each node's year into quarters and months by its time strategy, exactly."""
        if nodes.size == 0:
            return
        g = self.grid
        profile = np.empty((nodes.size, self.months.size))
        groups: dict[int, list[int]] = {}
        for row, node in enumerate(nodes.tolist()):
            groups.setdefault(id(self._time_of(node)), []).append(row)
        for rows in groups.values():
            strategy = self._time_of(int(nodes[rows[0]]))
            batch = TimeBatch(
                tree=self.tree,
                calendar=self.calendar,
                metric=self.metric,
                rows=nodes[rows],
                history=self.history,
            )
            profile[rows] = checked_profile(strategy, batch, "time strategy")
            g.time_strategy[nodes[rows]] = self._label(f"{strategy.name}: {strategy!r}")
        active = self._active_in(nodes, self.months)
        if active is not None:
            # a node's year is phased over the months it is employed in only
            profile[~active] = 0.0
            year = np.full(1, self.year, dtype=np.int64)
            self._nobody_active(
                nodes,
                np.arange(nodes.size + 1, dtype=np.int64),
                np.any(active, axis=1, keepdims=True),
                g.values[nodes, self.year][:, None],
                year,
            )
        offsets = self.calendar.child_offsets
        levels = self.calendar.level_array
        # weight of every grid period = sum of its months' profile
        period_weight = np.zeros((nodes.size, len(self.periods)))
        period_weight[:, self.months] = profile
        for level in sorted(set(levels.tolist()), reverse=True):
            for p in np.flatnonzero(levels == level).tolist():
                lo, hi = int(offsets[p]), int(offsets[p + 1])
                if hi > lo:
                    period_weight[:, p] = period_weight[:, lo:hi].sum(axis=1)
        # descend the period tree: year -> quarters -> months
        for parent_period in np.flatnonzero(np.diff(offsets) > 0).tolist():
            lo, hi = int(offsets[parent_period]), int(offsets[parent_period + 1])
            children = np.arange(lo, hi)
            k = children.size
            totals = g.values[nodes, parent_period][:, None]  # (nodes, 1)
            weights = period_weight[:, lo:hi].reshape(-1, 1)  # node-major: node i's k periods
            seg_offsets = np.arange(0, nodes.size * k + 1, k, dtype=np.int64)
            locked, mask = self._time_locks(nodes, children)
            split = apportion_detailed(
                totals,
                weights,
                seg_offsets,
                locked=locked,
                lock_mask=mask,
                segment_labels=_Labels(self.tree, nodes),
                column_labels=[self.periods[parent_period].label],
                amount=self._amount,
                child_labels=_CellLabels(self.tree, self.calendar, nodes, children),
            )
            vals = split.values.reshape(nodes.size, k)
            g.values[np.ix_(nodes, children)] = vals
            g.weight[np.ix_(nodes, children)] = weights.reshape(nodes.size, k)
            g.quota[np.ix_(nodes, children)] = split.quota.reshape(nodes.size, k)
            g.adjustment[np.ix_(nodes, children)] = split.adjustment.reshape(nodes.size, k)
            locked_cells = mask.reshape(nodes.size, k) if mask is not None else None
            src = np.full((nodes.size, k), Source.TIME_SPLIT, dtype=np.uint8)
            org = np.full((nodes.size, k), Origin.ALLOCATED, dtype=np.uint8)
            if locked_cells is not None:
                src[locked_cells] = Source.LOCKED
                org[locked_cells] = Origin.LOCKED
            g.source[np.ix_(nodes, children)] = src
            g.origins[np.ix_(nodes, children)] = org

    def _time_locks(
        self, nodes: IntArray, children: IntArray
    ) -> tuple[IntArray | None, BoolArray | None]:
        if not self.locks:
            return None, None
        node_row = {int(n): i for i, n in enumerate(nodes.tolist())}
        locked = np.zeros((nodes.size, children.size), dtype=np.int64)
        mask = np.zeros((nodes.size, children.size), dtype=bool)
        for (node, period), value in self.locks.items():
            if node in node_row and period in set(children.tolist()):
                j = int(np.flatnonzero(children == period)[0])
                locked[node_row[node], j] = value
                mask[node_row[node], j] = True
        if not mask.any():
            return None, None
        return locked.reshape(-1, 1), mask.reshape(-1, 1)

    def _roll_up_time(self, nodes: IntArray) -> None:
        """Quarters and years of ``nodes`` become the sums of their months.

        A large contiguous run of nodes is rolled up in chunks on the engine's threads (numpy
        releases the GIL; each chunk writes its own rows).
        """
        rows = as_slice(nodes)
        threads = _engine_threads() if nodes.size >= _THREAD_ROWS else 1
        if threads == 1 or not isinstance(rows, slice):
            self._roll_up_rows(rows)
            return
        edges = np.linspace(rows.start, rows.stop, threads + 1).astype(np.int64).tolist()
        _in_threads(
            self._roll_up_rows, [slice(a, b) for a, b in itertools.pairwise(edges)], threads
        )

    def _roll_up_rows(self, rows: slice | IntArray) -> None:
        g = self.grid
        offsets = self.calendar.child_offsets
        levels = self.calendar.level_array
        values = g.values[rows]  # a view for a slice, a copy otherwise (written back below)
        for level in sorted({int(v) for v in levels.tolist()} - {PeriodLevel.MONTH}, reverse=True):
            parents = np.flatnonzero(levels == level)
            lo, hi = offsets[parents], offsets[parents + 1]
            if (lo[1:] == hi[:-1]).all() and (hi > lo).all():
                # the children of this level's periods are one run (months of the quarters, the
                # quarters of the year): one reduceat over that block
                block = values[:, int(lo[0]) : int(hi[-1])]
                values[:, as_slice(parents)] = np.add.reduceat(block, lo - lo[0], axis=1)
            else:
                for p, a, b in zip(parents.tolist(), lo.tolist(), hi.tolist(), strict=True):
                    values[:, p] = values[:, a:b].sum(axis=1)
            g.origins[rows, as_slice(parents)] = Origin.ROLLED_UP
            g.source[rows, as_slice(parents)] = Source.ROLLED_UP
        if not isinstance(rows, slice):
            g.values[rows] = values

    def _roll_up_org_months(self) -> None:
        """In org_first mode: inner nodes' quarters and months are their children's sums."""
        g = self.grid
        c = self.compiled
        counts = np.diff(c.child_offsets)
        sub = np.flatnonzero(self.calendar.level_array > PeriodLevel.YEAR)
        for d in range(int(c.depth.max(initial=0)) - 1, -1, -1):
            parents = np.flatnonzero((c.depth == d) & (counts > 0))
            if parents.size == 0:
                continue
            first, last = int(c.child_offsets[parents[0]]), int(c.child_offsets[parents[-1] + 1])
            sums = np.add.reduceat(g.values[first:last][:, sub], c.child_offsets[parents] - first)
            g.values[np.ix_(parents, sub)] = sums
            g.origins[np.ix_(parents, sub)] = Origin.ROLLED_UP
            g.source[np.ix_(parents, sub)] = Source.ROLLED_UP

    # -------------------------------------------------------------- org

    def _org_pass(self, columns: IntArray) -> None:
        """Split ``columns`` of every inner node among its children, level by level."""
        c = self.compiled
        counts = np.diff(c.child_offsets)
        for d in range(int(c.depth.max(initial=0))):
            parents = np.flatnonzero((c.depth == d) & (counts > 0)).astype(np.int64)
            if parents.size == 0:
                continue
            for members, split in self._by_split(parents):
                with self._saying_per(split.bounds):
                    self._split_parents(members, split, columns)

    @contextlib.contextmanager
    def _saying_per(self, bounds: Bounds | None) -> Iterator[None]:
        """Floors or caps that cannot be met say which period they are per (a month is no year)."""
        try:
            yield
        except InfeasibleAllocationError as exc:
            if not isinstance(bounds, AbsoluteBounds):
                raise
            shown = {
                name: "none" if value is None else self.metric.format(self.metric.to_quanta(value))
                for name, value in (("floor", bounds.floor), ("cap", bounds.cap))
            }
            said = (
                f"the absolute bounds (floor {shown['floor']}, cap {shown['cap']}) are per "
                f"{bounds.per}"
            )
            raise _restated(exc, hint=said if exc.hint is None else f"{said}; {exc.hint}") from exc

    def _by_split(self, parents: IntArray) -> list[tuple[IntArray, Split]]:
        """``parents`` grouped by the :class:`Split` that splits them, in order of first parent.

        A parent's split is its override, else its level's; grouping goes by level code in
        numpy, so only overridden parents are looked at one by one.
        """
        c = self.compiled
        key = c.level_code[parents].astype(np.int64)
        splits: dict[int, Split] = {}
        overrides = self.item.overrides
        if overrides:
            ids = c.ids
            for i, p in enumerate(parents.tolist()):
                override = overrides.get(ids[p])
                if override is not None:
                    key[i] = -1 - i  # a key of its own; merged by identity below
                    splits[-1 - i] = override
        names = self.tree.levels.names
        for code in np.unique(key[key >= 0]).tolist():
            splits[code] = self.item.splits[names[code]]
        _, first = np.unique(key, return_index=True)
        groups: dict[int, tuple[list[IntArray], Split]] = {}
        for k in key[np.sort(first)].tolist():
            split = splits[k]
            groups.setdefault(id(split), ([], split))[0].append(parents[key == k])
        return [
            (parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts)), split)
            for parts, split in groups.values()
        ]

    def _split_parents(self, parents: IntArray, split: Split, columns: IntArray) -> None:
        c = self.compiled
        g = self.grid
        children = gather_segments(c.child_offsets, parents)  # the parents' children, and their CSR
        rows, offsets = children.idx, children.offsets
        # a strategy whose weights are the same in every period is asked for one column only
        same = columns.size > 1 and same_every_period(split.strategy)
        batch = OrgBatch(
            tree=self.tree,
            calendar=self.calendar,
            metric=self.metric,
            rows=rows,
            offsets=offsets,
            parents=parents,
            periods=columns[:1] if same else columns,
            history=self.history,
        )
        weights = checked_weights(split.strategy, batch, "org strategy")
        if same:
            weights = np.broadcast_to(weights, (rows.size, columns.size))
        totals = self._hedged_totals(parents, split.hedge, columns)
        active = self._active_in(rows, columns)
        locked, mask = self._org_locks(rows, columns)
        user_mask = mask
        if active is not None:
            # whatever the strategy says, nobody carries a period they are not employed in
            weights = np.where(active, weights, 0.0)
            # a lock is an explicit decision: a locked child takes its part even there
            self._nobody_active(
                parents, offsets, active if mask is None else active | mask, totals, columns
            )
            if split.bounds is not None:
                # a floor binds only where its child is employed: elsewhere the child is held at 0,
                # the way a lock holds its cell (so last year's floor cannot follow a leaver out)
                idle = ~active if mask is None else ~active & ~mask
                if idle.any():
                    if mask is None:
                        locked = np.zeros((columns.size, rows.size), dtype=np.int64).T
                        mask = np.zeros((columns.size, rows.size), dtype=bool).T
                    mask |= idle
        limits = _Limits(locked, mask, *self._bounds(split.bounds, rows, columns))
        carried = split.rounding is None and columns.size > 1
        if not carried:
            # the carried split works relative bounds out a month at a time, in its threads
            limits = limits.resolved()
        in_place: tuple[IntArray, FloatArray, IntArray] | None = None
        split_one = partial(
            apportion_detailed,
            segment_labels=_Labels(self.tree, parents),
            child_labels=_Labels(self.tree, rows),
            amount=self._amount,
        )
        if split.rounding is not None:
            detail = _divisor_split(
                split.rounding,
                totals,
                weights,
                offsets,
                locked=limits.locked,
                mask=limits.mask,
                segment_labels=_Labels(self.tree, parents),
                column_labels=self._column_labels(columns),
                child_labels=_Labels(self.tree, rows),
                amount=self._amount,
            )
        elif carried:
            cells = block_index(rows, columns)
            if isinstance(cells[0], slice) and isinstance(cells[1], slice):
                # slices give views: the lean split writes straight into the grid
                in_place = (g.values[cells], g.quota[cells], g.adjustment[cells])
            detail = _carried_split(
                split_one,
                totals,
                weights,
                offsets,
                limits=limits,
                column_labels=self._column_labels(columns),
                out=in_place,
                relabel=lambda groups, cells: {
                    "segment_labels": _Labels(self.tree, parents[groups]),
                    "child_labels": _Labels(self.tree, rows[cells]),
                },
            )
            if limits.none:
                detail = _exact_carried(
                    detail,
                    _inexact_segments(split.strategy, batch, weights),
                    totals,
                    weights,
                    offsets,
                )
        else:
            detail = split_one(
                totals,
                weights,
                offsets,
                locked=limits.locked,
                lock_mask=limits.mask,
                floors=limits.floors,
                caps=limits.caps,
                column_labels=self._column_labels(columns),
            )
            detail = _exact_segments(
                detail,
                _inexact_segments(split.strategy, batch, weights),
                totals,
                weights,
                offsets,
                limits=limits,
            )
        cells = block_index(rows, columns)
        if in_place is None or detail.values is not in_place[0]:  # else written in place
            g.values[cells] = detail.values
            g.quota[cells] = detail.quota
            g.adjustment[cells] = detail.adjustment
        g.weight[cells] = weights
        if not limits.unbounded:  # the grid starts with no bound anywhere
            # uint8 like the grid's arrays: no (children x months) int64 temporaries
            g.bound[cells] = np.where(
                detail.at_floor, np.uint8(_AT_FLOOR), np.where(detail.at_cap, np.uint8(_AT_CAP), 0)
            )
        mask = user_mask  # the idle cells held at 0 are allocated (0), not locked
        if mask is None:
            g.source[cells] = Source.ORG_SPLIT
            g.origins[cells] = Origin.ALLOCATED
        else:
            g.source[cells] = np.where(mask, np.uint8(Source.LOCKED), np.uint8(Source.ORG_SPLIT))
            g.origins[cells] = np.where(mask, np.uint8(Origin.LOCKED), np.uint8(Origin.ALLOCATED))
        g.org_strategy[rows] = self._label(split.describe() + f": {split.strategy!r}")
        if self.item.mode is Mode.TIME_FIRST:
            # the children's quarters and year now follow from their months; the next level's
            # over-assignment rounds from them
            self._roll_up_time(rows)

    def _hedged_totals(self, parents: IntArray, hedge: Fraction, columns: IntArray) -> IntArray:
        """What the children of ``parents`` must sum to in ``columns``, refused beyond the limit.

        The hedged totals are exact for any hedge (Python integers where int64 would wrap, as for
        a float hedge such as 1/30); one beyond ``MAX_QUANTA`` is an error naming the parent cell.
        """
        values = self.grid.values[parents]
        if not hedge:
            return values[:, columns]
        hedged = hedged_period_totals(values, hedge, self.calendar.child_offsets)
        check_limit(
            hedged,
            self.metric,
            self.tree,
            self.calendar,
            rows=parents,
            what=f" children's total (over-assigned by {hedge})",
        )
        result: IntArray = hedged[:, columns].astype(np.int64)
        return result

    def _org_locks(
        self, rows: IntArray, columns: IntArray
    ) -> tuple[IntArray | None, BoolArray | None]:
        if not self.locks:
            return None, None
        nodes, periods, values = self._lock_arrays
        # rows are ascending (children of ascending parents), so a lock's row is found by search
        at = np.minimum(np.searchsorted(rows, nodes), rows.size - 1)
        on_rows = rows[at] == nodes
        if not on_rows.any():
            return None, None
        column_of = np.full(len(self.periods), -1, dtype=np.int64)
        column_of[columns] = np.arange(columns.size)
        # month-major memory (transposed views): the carried split reads them a month at a time
        locked = np.zeros((columns.size, rows.size), dtype=np.int64).T
        mask = np.zeros((columns.size, rows.size), dtype=bool).T
        direct = on_rows & (column_of[periods] >= 0)
        locked[at[direct], column_of[periods[direct]]] = values[direct]
        mask[at[direct], column_of[periods[direct]]] = True
        phased = on_rows & ~direct
        if self.item.mode is Mode.TIME_FIRST and phased.any():
            self._phase_locks(
                at[phased],
                nodes=nodes[phased],
                periods=periods[phased],
                values=values[phased],
                locked=locked,
                mask=mask,
            )
        if not mask.any():
            return None, None
        return locked, mask

    @functools.cached_property
    def _lock_arrays(self) -> tuple[IntArray, IntArray, IntArray]:
        """The locks as (node, period, value) arrays, sorted by node then period."""
        keys = sorted(self.locks)
        nodes = np.array([k[0] for k in keys], dtype=np.int64)
        periods = np.array([k[1] for k in keys], dtype=np.int64)
        values = np.array([self.locks[k] for k in keys], dtype=np.int64)
        return nodes, periods, values

    def _phase_locks(
        self,
        at: IntArray,
        *,
        nodes: IntArray,
        periods: IntArray,
        values: IntArray,
        locked: IntArray,
        mask: BoolArray,
    ) -> None:
        """Year or quarter locks in time_first mode: phase each like its parent's months.

        ``at`` are the locks' rows in ``locked`` / ``mask`` (whose columns are the months). One
        kernel call per locked period (the year, or a quarter) phases all its locks at once.
        """
        for period in np.unique(periods).tolist():
            these = periods == period
            months = np.asarray(self._months_of(period), dtype=np.int64)
            rows = at[these]
            both = mask[rows][:, months].any(axis=1)
            if both.any():
                node = int(nodes[these][int(np.flatnonzero(both)[0])])
                month = int(months[int(np.flatnonzero(mask[at[these][both][0]][months])[0])])
                raise SpecError(
                    f"{self.compiled.ids[node]!r} is locked both in {self.periods[period].label} "
                    f"and in {self.periods[int(self.months[month])].label}",
                    node=self.compiled.ids[node],
                    hint="lock the months, or their quarter / year, not both",
                )
            parents = self.compiled.parent[nodes[these]]
            shape = self.grid.values[parents][:, self.months[months]].astype(np.float64)
            active = self._active_in(nodes[these], self.months[months])
            employed = np.ones(shape.shape) if active is None else active.astype(np.float64)
            shape *= employed  # a lock is phased over the months its node is employed in
            flat = ~shape.any(axis=1)
            shape[flat] = employed[flat]  # a parent without values in the period: spread evenly
            k = months.size
            split = apportion_detailed(
                values[these][:, None],
                shape.reshape(-1, 1),
                np.arange(0, rows.size * k + 1, k, dtype=np.int64),
                segment_labels=_Labels(self.tree, nodes[these], prefix="lock of "),
                column_labels=[self.periods[period].label],
                amount=self._amount,
            )
            locked[np.ix_(rows, months)] = split.values.reshape(rows.size, k)
            mask[np.ix_(rows, months)] = True

    def _bounds(
        self, bounds: Bounds | None, rows: IntArray, columns: IntArray
    ) -> tuple[IntArray | None, IntArray | None, _Relative | None]:
        """The level's floors and caps: absolute ones as arrays, relative ones to work out later."""
        if bounds is None:
            return None, None, None
        shape = (rows.size, columns.size)
        if isinstance(bounds, AbsoluteBounds):
            floor = None if bounds.floor is None else self.metric.to_quanta(bounds.floor)
            cap = None if bounds.cap is None else self.metric.to_quanta(bounds.cap)
            return (
                None if floor is None else np.full(shape, floor, dtype=np.int64),
                None if cap is None else np.full(shape, cap, dtype=np.int64),
                None,
            )
        if bounds.floor is None and bounds.cap is None:
            return None, None, None
        # (the carried split lays each chunk's rows out month-major in its own thread)
        reference = self._last_year(rows, columns)
        # Last year comes in quanta of its own metric (whole dollars, say, against this year's
        # cents): the fractions scale through them exactly. A history in another dimension (CNY
        # for a USD metric) is refused by grain().
        assert self.history is not None  # validated at the door
        scale = self.history.window(1).grain(self.metric) / Fraction(self.metric.quantum)
        return (
            None,
            None,
            _Relative(
                reference,
                None if bounds.floor is None else bounds.floor * scale,
                None if bounds.cap is None else bounds.cap * scale,
            ),
        )

    def _last_year(self, rows: IntArray, columns: IntArray) -> FloatArray:
        """Each row's value in the same periods of the last history year (NaN when absent).

        In whole quanta of last year's metric (see :meth:`History.grain`).
        """
        assert self.history is not None  # validated at the door
        last = self.history.window(1)
        monthly = last.monthly(self.metric, self.tree, rows)  # (rows, 12)
        if np.array_equal(columns, self.months):
            return monthly  # the months themselves (time_first): nothing to add up
        out = np.empty((rows.size, columns.size))
        for j, p in enumerate(columns.tolist()):
            out[:, j] = monthly[:, self._months_of(p)].sum(axis=1)
        return out

    # -------------------------------------------------------------- balanced

    def _balanced_pass(self) -> None:
        """Months of every child from its annual total and the parent's months (two margins)."""
        # networkx flows are needed by this mode only
        from targetcascade.allocation._matrix import fit_ipf, round_matrix  # noqa: PLC0415

        c = self.compiled
        g = self.grid
        below_year = [
            (n, p) for n, p in self.locks if self.periods[p].level is not PeriodLevel.YEAR
        ]
        if below_year:
            node, period = self.compiled.ids[below_year[0][0]], self.periods[below_year[0][1]].label
            raise SpecError(
                f"{self.metric.name!r}: balanced mode keeps annual locks only, but {node!r} is "
                f"locked in {period}",
                node=node,
                period=period,
                metric=self.metric.name,
                hint="lock years, or use time_first mode for month locks",
            )
        counts = np.diff(c.child_offsets)
        for d in range(int(c.depth.max(initial=0))):
            for parent in np.flatnonzero((c.depth == d) & (counts > 0)).tolist():
                lo, hi = int(c.child_offsets[parent]), int(c.child_offsets[parent + 1])
                rows = np.arange(lo, hi, dtype=np.int64)
                split = self._split_of(parent)
                columns = self._hedged_totals(np.array([parent]), split.hedge, self.months)[0]
                row_totals = g.values[rows, self.year]
                batch = OrgBatch(
                    tree=self.tree,
                    calendar=self.calendar,
                    metric=self.metric,
                    rows=rows,
                    offsets=np.array([0, rows.size]),
                    parents=np.array([parent]),
                    periods=self.months,
                    history=self.history,
                )
                seed = checked_weights(split.strategy, batch, "org strategy")
                seed = np.where(seed > 0, seed, 0.0) + np.where(row_totals[:, None] > 0, 1e-12, 0)
                active = self._active_in(rows, self.months)
                if active is not None:
                    seed = np.where(active, seed, 0.0)
                    self._nobody_active(
                        np.array([parent]),
                        np.array([0, rows.size]),
                        active,
                        columns[None, :],
                        self.months,
                    )
                row_labels = _Labels(self.tree, rows)
                col_labels = [f"{c.ids[parent]} {self.periods[int(m)].label}" for m in self.months]
                try:
                    fitted = fit_ipf(
                        seed,
                        row_totals,
                        columns,
                        row_labels=row_labels,
                        col_labels=col_labels,
                        amount=self._amount,
                    )
                    table = round_matrix(
                        fitted,
                        row_totals,
                        columns,
                        row_labels=row_labels,
                        col_labels=col_labels,
                        amount=self._amount,
                    )
                except InfeasibleAllocationError as exc:
                    # the matrix kernel is unit-free and knows no tree: name the parent and year
                    year = self.periods[self.year].label
                    raise InfeasibleAllocationError(
                        f"balancing the children of {c.ids[parent]!r} over the months of {year} "
                        f"({self.metric.name!r}, {self._amount(int(columns.sum()))}): {exc.problem}",
                        node=c.ids[parent],
                        period=year,
                        metric=self.metric.name,
                        hint=exc.hint
                        if active is None
                        else "a child employed in some months only cannot always take its year's "
                        "share in them: use mode='time_first', or a strategy weighting by the "
                        "months employed (CapacityWeighted)",
                    ) from exc
                g.values[np.ix_(rows, self.months)] = table
                g.weight[np.ix_(rows, self.months)] = seed
                g.quota[np.ix_(rows, self.months)] = fitted
                g.adjustment[np.ix_(rows, self.months)] = table - np.trunc(fitted).astype(np.int64)
                g.source[np.ix_(rows, self.months)] = Source.BALANCED
                g.origins[np.ix_(rows, self.months)] = Origin.ALLOCATED
                # the children's quarters now follow from their months: an over-assigned level
                # below splits its hedged year over them (see _rules.hedged_period_totals)
                self._roll_up_time(rows)

    # -------------------------------------------------------------- final checks

    def _check_locks_applied(self) -> None:
        if not self.locks:
            return
        # one vectorised comparison; the loop below only names the first lock that failed
        with contextlib.suppress(OverflowError):  # a lock beyond int64: the loop finds it
            wanted = np.fromiter(self.locks.values(), np.int64, len(self.locks))
            cells = np.array(list(self.locks), dtype=np.int64)
            if (self.grid.values[cells[:, 0], cells[:, 1]] == wanted).all():
                return
        for (node, period), value in self.locks.items():
            got = int(self.grid.values[node, period])
            if got != value:
                raise SpecError(
                    f"lock {self.compiled.ids[node]!r} {self.periods[period].label} = "
                    f"{self.metric.format(value)} cannot be kept in {self.item.mode.value} mode "
                    f"(the cell is derived and came to {self.metric.format(got)})",
                    node=self.compiled.ids[node],
                    period=self.periods[period].label,
                    hint="in org_first mode lock years, or leaves' months and quarters",
                )


def _free_shares(
    totals: IntArray,
    weights: FloatArray,
    offsets: IntArray,
    *,
    locked: IntArray | None,
    mask: BoolArray | None,
) -> FloatArray:
    """Each unlocked child's exact share: ``(total - locks) x w / sum(w)`` of its segment, per column.

    Locked children (and children with zero weight) get 0; a segment whose free weights sum to zero
    gives its children 0.
    """
    sizes = np.diff(offsets)
    free = weights if mask is None else np.where(mask, 0.0, weights)
    rest = totals.astype(np.float64)
    if locked is not None and mask is not None:
        # locked siblings take their value; the others share what is left
        rest = rest - segment_sum(np.where(mask, locked, 0).astype(np.float64), offsets)
    w_sum = segment_sum(free, offsets)
    # segment values spread to their children by np.repeat (several times faster than indexing
    # by each child's segment)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares: FloatArray = free / np.repeat(w_sum, sizes, axis=0)
        shares *= np.repeat(rest, sizes, axis=0)
    dead = ~(w_sum > 0)
    if dead.any():
        shares[np.repeat(dead, sizes, axis=0)] = 0.0
    return shares


def _divisor_split(
    method: Divisor,
    totals: IntArray,
    weights: FloatArray,
    offsets: IntArray,
    *,
    locked: IntArray | None,
    mask: BoolArray | None,
    segment_labels: Sequence[str],
    column_labels: Sequence[str],
    child_labels: Sequence[str],
    amount: Callable[[int], str] | None = None,
) -> Apportionment:
    """Split by a divisor method; quotas are the plain proportional shares, for explanations."""
    values = apportion(
        totals,
        weights,
        offsets,
        locked=locked,
        lock_mask=mask,
        method=method,
        segment_labels=segment_labels,
        column_labels=column_labels,
        child_labels=child_labels,
        amount=amount,
    )
    quota = _free_shares(totals, weights, offsets, locked=locked, mask=mask)
    if mask is not None and locked is not None:
        quota = np.where(mask, locked, quota)
    none = np.zeros(values.shape, dtype=bool)
    return Apportionment(
        values=values,
        quota=quota,
        adjustment=values - quota.astype(np.int64),  # the cast truncates toward zero
        at_floor=none,
        at_cap=none,
    )


def _inexact_segments(
    strategy: OrgStrategy, batch: OrgBatch, weights: FloatArray
) -> dict[int, list[Fraction]]:
    """:func:`exact_segment_weights`, skipped where every weight is a float64-exact whole number.

    Whole numbers up to ``2**53`` are what the strategies hand over when they could make a level
    exact (the common case), and asking them again for Fractions would weigh the level twice.
    """
    if not getattr(strategy, "has_exact_weights", False):
        return {}
    if bool(((weights == np.floor(weights)) & (weights <= float(2**53))).all()):
        return {}
    return exact_segment_weights(strategy, batch)


def _exact_segments(
    detail: Apportionment,
    exact: dict[int, list[Fraction]],
    totals: IntArray,
    weights: FloatArray,
    offsets: IntArray,
    *,
    limits: _Limits,
) -> Apportionment:
    """Redo, in exact rationals, the segments whose strategy gave exact weights (#12.1).

    Their float weights are roundings of rationals whose common denominator overflows int64, so
    the float split could let rounding decide a tie; these few segments are split again on the
    exact weights by the same rules (locks kept, floors and caps by water-filling, the rest by
    largest remainder). A child whose float weight is 0 (not employed in the period) keeps weight
    0. The float split ran first, so the inputs are known to be feasible.
    """
    if not exact:
        return detail
    values = np.array(detail.values, order="F")
    quota = np.array(detail.quota, order="F")
    adjustment = np.array(detail.adjustment, order="F")
    at_floor = np.array(detail.at_floor, order="F")
    at_cap = np.array(detail.at_cap, order="F")
    for s, w in exact.items():
        lo, hi = int(offsets[s]), int(offsets[s + 1])
        for j in range(values.shape[1]):
            held: dict[int, int] = {}
            if limits.mask is not None and limits.locked is not None:
                held = {r: int(limits.locked[r, j]) for r in range(lo, hi) if limits.mask[r, j]}
            free = [r for r in range(lo, hi) if r not in held]
            rest = int(totals[s, j]) - sum(held.values())
            ws = [w[r - lo] if weights[r, j] > 0 else Fraction(0) for r in free]
            floors = [0 if limits.floors is None else int(limits.floors[r, j]) for r in free]
            caps = [max(rest, 0) if limits.caps is None else int(limits.caps[r, j]) for r in free]
            got = exact_bounded_split(rest, ws, floors, caps) if not limits.unbounded else None
            if got is None:
                split, exact_quota = exact_rational_split(rest, ws)
                for r, v, q in zip(free, split, exact_quota, strict=True):
                    values[r, j], quota[r, j] = v, float(q)
                    adjustment[r, j] = v - int(q)  # int() truncates toward zero, as the kernel's
                continue
            for k, r in enumerate(free):
                values[r, j], quota[r, j] = got.values[k], got.quota[k]
                adjustment[r, j] = got.adjustment[k]
                at_floor[r, j], at_cap[r, j] = got.at_floor[k], got.at_cap[k]
    for a in (values, quota, adjustment, at_floor, at_cap):
        a.flags.writeable = False
    return attrs.evolve(
        detail,
        values=values,
        quota=quota,
        adjustment=adjustment,
        at_floor=at_floor,
        at_cap=at_cap,
    )


def _exact_carried(
    detail: Apportionment,
    exact: dict[int, list[Fraction]],
    totals: IntArray,
    weights: FloatArray,
    offsets: IntArray,
) -> Apportionment:
    """Redo, in exact rationals, the carried split of the segments with exact weights (#12.1).

    The rule of :func:`_carried_one` without locks or bounds, with the shares and carries as
    Fractions: the carried quotas are put on the grid exactly, so a tie between exact weights is
    decided by the rule, not by float rounding. Segments with a negative month keep the float
    split (the kernel's symmetry path).
    """
    todo = {s: w for s, w in exact.items() if (totals[s] >= 0).all()}
    if not todo:
        return detail
    values = np.array(detail.values, order="F")
    quota = np.array(detail.quota, order="F")
    adjustment = np.array(detail.adjustment, order="F")
    for s, w in todo.items():
        lo, hi = int(offsets[s]), int(offsets[s + 1])
        carry = [Fraction(0)] * (hi - lo)
        for j in range(values.shape[1]):
            free = [weights[r, j] > 0 for r in range(lo, hi)]
            ws = [x if f else Fraction(0) for x, f in zip(w, free, strict=True)]
            w_sum = sum(ws, Fraction(0))
            total = int(totals[s, j])
            share = [total * x / w_sum if w_sum else Fraction(0) for x in ws]
            carried = [
                max(q + c, Fraction(0)) if f else Fraction(0)
                for q, c, f in zip(share, carry, free, strict=True)
            ]
            use = (
                carried
                if sum(carried) > 0
                else [Fraction(float(weights[r, j])) for r in range(lo, hi)]
            )
            # whole steps of the grid, as _grid_steps rounds them (half to even, at least one)
            steps = [max(round(u * int(_CARRY_GRID)), 1) if u > 0 else 0 for u in use]
            got, _ = exact_rational_split(total, [Fraction(k) for k in steps])
            for k, r in enumerate(range(lo, hi)):
                values[r, j], quota[r, j] = got[k], float(share[k])
                adjustment[r, j] = got[k] - int(float(share[k]))  # truncated, as the float path
            carry = [
                c + q - v if f else Fraction(0)
                for c, q, v, f in zip(carry, share, got, free, strict=True)
            ]
    for a in (values, quota, adjustment):
        a.flags.writeable = False
    return attrs.evolve(detail, values=values, quota=quota, adjustment=adjustment)


def _carried_split(
    split_one: Callable[..., Apportionment],
    totals: IntArray,
    weights: FloatArray,
    offsets: IntArray,
    *,
    limits: _Limits,
    column_labels: list[str],
    lean: bool = True,
    out: tuple[IntArray, FloatArray, IntArray] | None = None,
    relabel: Callable[[IntArray, IntArray], dict[str, Sequence[str]]] | None = None,
) -> Apportionment:
    """Split month by month, carrying rounding differences (see :func:`_carried_one`).

    Every parent's children are split on their own, so a large level is cut into chunks of whole
    parents that run in threads (numpy releases the GIL inside its array operations); the numbers
    are the same, byte for byte, whatever the number of threads. Should a chunk fail, the split
    runs again in one thread, so the error raised is the one a one-thread run raises.
    """
    n = weights.shape[0]
    threads = _engine_threads() if lean and n >= _THREAD_ROWS else 1
    if threads > 1:
        try:
            return _carried_chunks(
                split_one,
                totals,
                weights,
                offsets,
                limits=limits,
                column_labels=column_labels,
                threads=threads,
                out=out,
                relabel=relabel,
            )
        except Exception:  # noqa: BLE001, S110 - re-run below in one thread for its error
            pass
    return _carried_one(
        split_one,
        totals,
        weights,
        offsets,
        limits=limits,
        column_labels=column_labels,
        lean=lean,
        out=out,
        relabel=relabel,
    )


class _Relative(NamedTuple):
    """Floors and caps as fractions of last year's values, worked out where they are needed.

    A carried split works them out a month at a time in its threads, so a level's (children x
    months) floors and caps never exist all at once. ``reference`` is NaN where a child had no
    value last year (no bound there), else whole quanta of last year's metric; ``floor`` and
    ``cap`` turn those into this year's quanta (the bound's fraction times the quantum ratio).
    """

    reference: FloatArray
    floor: Fraction | None
    cap: Fraction | None

    def take(self, index: Any) -> _Relative:
        """The rows (or, month-major, the month) at ``index``."""
        return self._replace(reference=self.reference[index])

    def month_major(self) -> _Relative:
        """The reference as contiguous (months x children) rows."""
        return self._replace(reference=_month_major(self.reference))

    def work_out(self) -> tuple[IntArray | None, IntArray | None]:
        """Floors rounded up, caps rounded down to the quantum, exactly; no bound where NaN.

        A floor beyond the kernel's limit stays beyond it (the kernel refuses it by name); a cap
        beyond it is no cap, as the kernel reads it.
        """
        reference = self.reference
        missing = np.isnan(reference)
        # whole quanta of last year's metric (exact in float64 up to 2**53)
        whole = np.where(missing, 0.0, reference).astype(np.int64)
        unknown = np.nonzero(missing)  # by index: new hires are few
        floors = None
        caps = None
        no_cap = np.iinfo(np.int64).max // 4
        if self.floor is not None:
            _, lo = scaled_bounds(whole, self.floor)
            floors = np.minimum(lo, MAX_QUANTA + 1).astype(np.int64)
            floors[unknown] = 0
        if self.cap is not None:
            hi, _ = scaled_bounds(whole, self.cap)
            caps = np.minimum(hi, no_cap).astype(np.int64)
            caps[unknown] = no_cap
        return floors, caps


class _Limits(NamedTuple):
    """What pins or bounds the children of a split, one row per child; any may be None.

    ``locked`` holds where ``mask`` is true; ``floors`` and ``caps`` bound the rest, or
    ``relative`` gives them as fractions of last year, to be worked out by :meth:`resolved`.
    """

    locked: IntArray | None = None
    mask: BoolArray | None = None
    floors: IntArray | None = None
    caps: IntArray | None = None
    relative: _Relative | None = None

    @property
    def none(self) -> bool:
        """No locks, floors or caps at all."""
        return all(a is None for a in self)

    @property
    def unbounded(self) -> bool:
        """No floors or caps (locks aside)."""
        return self.floors is None and self.caps is None and self.relative is None

    def take(self, index: Any) -> _Limits:
        """The rows (or, month-major, the month) at ``index``."""
        return self._map(lambda a: a[index], lambda r: r.take(index))

    def month_major(self) -> _Limits:
        """Each array as contiguous (months x children) rows (see :func:`_month_major`)."""
        return self._map(_month_major, _Relative.month_major)

    def _map(
        self,
        array: Callable[[npt.NDArray[Any]], Any],
        relative: Callable[[_Relative], _Relative],
    ) -> _Limits:
        """Each array given through ``array``, the relative bounds through ``relative``."""
        *arrays, given = self
        locked, mask, floors, caps = (None if a is None else array(a) for a in arrays)
        return _Limits(locked, mask, floors, caps, None if given is None else relative(given))

    def resolved(self) -> _Limits:
        """Relative bounds worked out, and a lock overriding the floor and cap of its child.

        A lock is an explicit decision, so a locked child's floor is lowered and its cap raised to
        its lock. Arrays that change are new ones (this one's are left alone); with nothing to work
        out or override, this is returned as it is.
        """
        locked, mask, floors, caps, relative = self
        if relative is not None:
            floors, caps = relative.work_out()
        elif mask is None or (floors is None and caps is None):
            return self
        else:
            floors = None if floors is None else floors.copy()
            caps = None if caps is None else caps.copy()
        if mask is not None and locked is not None and (floors is not None or caps is not None):
            # by index: locks are few, and a masked ufunc over every cell costs several times more
            at = np.nonzero(mask)
            if floors is not None:
                floors[at] = np.minimum(floors[at], locked[at])
            if caps is not None:
                caps[at] = np.maximum(caps[at], locked[at])
        return _Limits(locked, mask, floors, caps)


def _carried_out(n: int, periods: int) -> tuple[IntArray, FloatArray, IntArray]:
    """Empty (children x months) values, quotas and adjustments for a carried split to fill."""
    return (
        np.empty((n, periods), dtype=np.int64),
        np.empty((n, periods)),
        np.empty((n, periods), dtype=np.int64),
    )


def _carried_chunks(
    split_one: Callable[..., Apportionment],
    totals: IntArray,
    weights: FloatArray,
    offsets: IntArray,
    *,
    limits: _Limits,
    column_labels: list[str],
    threads: int,
    out: tuple[IntArray, FloatArray, IntArray] | None,
    relabel: Callable[[IntArray, IntArray], dict[str, Sequence[str]]] | None,
) -> Apportionment:
    """:func:`_carried_one` on chunks of about ``n / threads`` children (whole parents) in threads."""
    n, periods = weights.shape
    if out is None:
        out = _carried_out(n, periods)
    edges = _blocks(offsets, -(-n // threads))
    at_floor = np.zeros((n, periods), dtype=np.bool_)
    at_cap = np.zeros((n, periods), dtype=np.bool_)

    def run(k: int) -> None:
        s0, s1 = edges[k], edges[k + 1]
        lo, hi = int(offsets[s0]), int(offsets[s1])
        views = (out[0][lo:hi], out[1][lo:hi], out[2][lo:hi])
        one = split_one
        local: Callable[[IntArray, IntArray], dict[str, Sequence[str]]] | None = None
        if relabel is not None:
            # error messages name the chunk's parents and children by their place in the level
            one = partial(split_one, **relabel(np.arange(s0, s1), np.arange(lo, hi)))

            def local(groups: IntArray, cells: IntArray) -> dict[str, Sequence[str]]:
                return relabel(groups + s0, cells + lo)

        got = _carried_one(
            one,
            totals[s0:s1],
            weights[lo:hi],
            offsets[s0 : s1 + 1] - lo,
            limits=limits.take(slice(lo, hi)),
            column_labels=column_labels,
            out=views,
            relabel=local,
        )
        if got.values is not views[0]:  # the general path returns its own arrays
            views[0][...] = got.values
            views[1][...] = got.quota
            views[2][...] = got.adjustment
        at_floor[lo:hi] = got.at_floor
        at_cap[lo:hi] = got.at_cap

    _in_threads(run, range(len(edges) - 1), threads)
    return Apportionment(
        values=out[0], quota=out[1], adjustment=out[2], at_floor=at_floor, at_cap=at_cap
    )


def _carried_one(
    split_one: Callable[..., Apportionment],
    totals: IntArray,
    weights: FloatArray,
    offsets: IntArray,
    *,
    limits: _Limits,
    column_labels: list[str],
    lean: bool = True,
    out: tuple[IntArray, FloatArray, IntArray] | None = None,
    relabel: Callable[[IntArray, IntArray], dict[str, Sequence[str]]] | None = None,
) -> Apportionment:
    """Split month by month, carrying each child's rounding difference into the next month.

    Rounding every month on its own would hand each month's tie to the same (earliest) child, and a
    child's year could drift by up to a quantum per month from its exact share. Here month ``m`` is
    split by largest remainder on the carried quotas ``x_i = q_i,m + c_i``, where ``q_i,m`` is the
    child's exact share of the month and ``c_i`` what earlier months' rounding owes it (exact shares
    so far minus quanta received). Within a parent the carries sum to zero, so the month's total is
    unchanged and stays exact; a child's running total stays within about one quantum of its exact
    share. Children with zero weight in a month get nothing that month (a new hire before the start
    date, a leaver after the end date), whatever they are owed; locked cells take their lock.
    """
    n, periods = weights.shape
    sizes = np.diff(offsets)
    if lean and limits.none:
        try:
            return _carried_plain(totals, weights, offsets, out)
        except _UseKernel:
            pass
    carry = np.zeros(n)
    # month-major: each month's results are contiguous rows, where columns of a (children x
    # months) array would touch a cache line per child; the caller gets transposed views
    values = np.zeros((periods, n), dtype=np.int64)
    quota = np.zeros((periods, n))
    adjustment = np.zeros((periods, n), dtype=np.int64)
    mostly_held = False
    at_floor = np.zeros((periods, n), dtype=bool)
    at_cap = np.zeros((periods, n), dtype=bool)
    by_month = _month_major(weights)
    limits_by_month = limits.month_major()
    for j in range(periods):
        weight = by_month[j]
        these = limits_by_month.take(j).resolved()
        free = weight > 0 if these.mask is None else (weight > 0) & ~these.mask
        held_out = np.flatnonzero(~free)  # locked or without weight: few, so written by index
        exact = _free_shares(
            totals[:, j : j + 1],
            weight[:, None],
            offsets,
            locked=None if these.locked is None else these.locked[:, None],
            mask=None if these.mask is None else these.mask[:, None],
        )[:, 0]
        carried = exact + carry
        np.maximum(carried, 0.0, out=carried)
        carried[held_out] = 0.0
        # a segment whose carried quotas all vanished falls back to the plain weights
        alive = segment_sum(carried, offsets) > 0
        use = carried
        if not alive.all():
            w = weight.copy()
            w[held_out] = 0.0
            use = np.where(np.repeat(alive, sizes), carried, w)
        # The carried quotas only steer who gets the leftover quanta; on a grid of 1/1024 quantum
        # they are short binary fractions the kernel's exact integer path takes in one pass (full
        # 53-bit mantissas would send many groups down its slow Python-integer path).
        use = _grid_steps(use) / _CARRY_GRID
        month = _Month(total=totals[:, j], use=use, limits=these, label=column_labels[j])
        detail = (
            _split_month(split_one, month, offsets, relabel)
            if lean and not mostly_held
            else _kernel_month(split_one, month, offsets)
        )
        got = detail.values
        bounded = detail.at_floor | detail.at_cap
        values[j] = got
        np.copyto(quota[j], exact)
        np.copyto(quota[j], detail.quota, where=bounded | ~free)
        np.subtract(got, quota[j].astype(np.int64), out=adjustment[j])  # the cast truncates
        at_floor[j] = detail.at_floor
        at_cap[j] = detail.at_cap
        # where a floor or cap held someone, the bounds, not the shares, decided the month: the
        # whole parent starts afresh (carrying against unbounded shares would starve the others)
        segment_bounded = segment_sum(bounded.astype(np.float64), offsets) > 0
        if segment_bounded.all():
            carry.fill(0.0)
        else:
            carry = np.where(free & ~np.repeat(segment_bounded, sizes), carry + exact - got, 0.0)
        # Where bounds held someone in most parents this month, they most likely will next month
        # too, and screening every parent for the lean path would be wasted: the kernel takes the
        # whole month (the numbers are the same either way).
        mostly_held = 2 * int(np.count_nonzero(segment_bounded)) > segment_bounded.size
    return Apportionment(
        values=values.T,
        quota=quota.T,
        adjustment=adjustment.T,
        at_floor=at_floor.T,
        at_cap=at_cap.T,
    )


def _month_major(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A (children x months) array as contiguous (months x children) rows, in one transposed copy.

    A month's row is then read in one sweep, where a column of ``a`` touches a cache line per
    child. A column broadcast to every month stays a broadcast.
    """
    if a.strides[1] == 0:
        return np.broadcast_to(np.ascontiguousarray(a[:, 0]), a.shape[::-1])
    if a.T.flags.c_contiguous:  # month-major already (the engine builds locks and bounds so)
        return a.T
    # in blocks of rows that stay in cache while each of their columns is copied out: numpy's
    # own transposed copy of a large C-ordered array re-reads every cache line per column
    out = np.empty(a.shape[::-1], dtype=a.dtype)
    for lo in range(0, a.shape[0], _TRANSPOSE_ROWS):
        out[:, lo : lo + _TRANSPOSE_ROWS] = a[lo : lo + _TRANSPOSE_ROWS].T
    return out


_TRANSPOSE_ROWS: Final = 8192


class _Month(NamedTuple):
    """One month of a carried split: 1-D per child (``total`` per segment)."""

    total: IntArray
    use: FloatArray
    limits: _Limits
    label: str


class _MonthSplit(NamedTuple):
    values: IntArray
    quota: FloatArray
    at_floor: BoolArray
    at_cap: BoolArray


def _kernel_month(
    split_one: Callable[..., Apportionment],
    month: _Month,
    offsets: IntArray,
    **labels: Sequence[str],
) -> _MonthSplit:
    """One month through the kernel's public entry: validation, locks, water-filling."""

    def column(a: npt.NDArray[Any] | None) -> npt.NDArray[Any] | None:
        return None if a is None else a[:, None]

    limits = month.limits
    detail = split_one(
        month.total[:, None],
        month.use[:, None],
        offsets,
        locked=column(limits.locked),
        lock_mask=column(limits.mask),
        floors=column(limits.floors),
        caps=column(limits.caps),
        column_labels=[month.label],
        **labels,
    )
    return _MonthSplit(
        detail.values[:, 0], detail.quota[:, 0], detail.at_floor[:, 0], detail.at_cap[:, 0]
    )


# A free child's exact quota this far inside its floor and cap cannot be held by either: the
# kernel's float water-filling and its rounding both leave it alone (absolute part for small
# quotas, relative part for the float error of large ones).
_BOUND_MARGIN: Final = 1e-6
_BOUND_MARGIN_REL: Final = 1e-9


def _split_month(
    split_one: Callable[..., Apportionment],
    month: _Month,
    offsets: IntArray,
    relabel: Callable[[IntArray, IntArray], dict[str, Sequence[str]]] | None,
) -> _MonthSplit:
    """One month with locks, floors or caps: the kernel's numbers, its full path only where needed.

    A parent whose free children all have exact quotas strictly inside their floors and caps (and
    whose locks fit its total) is split by the largest-remainder core directly, as the kernel
    would after finding that no bound holds anyone; the other parents (a bound may hold, an error
    is due, a negative total) go through the kernel's public entry, gathered, with their labels.
    """
    starts = offsets[:-1]
    sizes = np.diff(offsets)
    n = month.use.size
    locked, mask, floors, caps, _ = month.limits  # resolved: no relative bounds left
    if mask is not None and locked is not None:
        free = ~mask
        lock_sum = np.add.reduceat(np.where(mask, locked, 0), starts)
        w = np.where(mask, 0.0, month.use)
    else:
        free = np.ones(n, dtype=np.bool_)
        lock_sum = np.zeros(starts.size, dtype=np.int64)
        w = month.use
    remaining = month.total - lock_sum
    w_sum = np.add.reduceat(w, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        each = np.repeat(remaining, sizes)  # (np.repeat: several times faster than indexing)
        q = w / np.repeat(w_sum, sizes) * each
    margin = _BOUND_MARGIN + _BOUND_MARGIN_REL * np.abs(q)
    spread = free & (w > 0)
    # the kernel checks every child's bounds (locked ones too) before it splits anything
    ok = np.ones(n, dtype=np.bool_)
    if floors is not None:
        lo = floors
        ok &= (lo >= 0) & (lo <= MAX_QUANTA)
        # a free child with weight sits strictly above its floor; one without weight gets 0
        ok &= np.where(spread, q >= lo + margin, ~free | (lo == 0))
        if mask is not None and locked is not None:
            ok &= ~mask | (locked >= lo)
    if caps is not None:
        hi = caps
        ok &= hi >= (0 if floors is None else floors)
        ok &= ~spread | (q <= hi - margin)
        if mask is not None and locked is not None:
            ok &= ~mask | (locked <= hi)
    if floors is not None or caps is not None:
        # bounded, the kernel caps every child at what is left to split: a child taking it all
        # counts as held there
        ok &= ~spread | (q <= each - margin)
    safe = np.add.reduceat(ok.astype(np.int64), starts) == sizes
    safe &= (remaining >= 0) & (remaining <= MAX_QUANTA) & ((w_sum > 0) | (remaining == 0))
    safe &= np.isfinite(w_sum)
    if 2 * int(np.count_nonzero(safe)) < safe.size:
        # mostly held by bounds (or due an error): the kernel takes the whole month
        return _kernel_month(split_one, month, offsets)
    rounded = hamilton_groups(np.where(safe, remaining, 0), w, offsets, w_sum, quota=True)
    values = rounded.values
    quota = np.where(w > 0, rounded.quota, 0.0)
    if mask is not None and locked is not None:
        values = np.where(mask, locked, values)
        quota = np.where(mask, locked.astype(np.float64), quota)
    at_floor = np.zeros(n, dtype=np.bool_)
    at_cap = np.zeros(n, dtype=np.bool_)
    hard = np.flatnonzero(~safe)
    if hard.size:
        sub = gather_segments(offsets, hard)  # the kernel's own gather of whole segments
        labels = {} if relabel is None else relabel(hard, sub.idx)
        part = _kernel_month(
            split_one,
            _Month(
                total=month.total[hard],
                use=month.use[sub.idx],
                limits=month.limits.take(sub.idx),
                label=month.label,
            ),
            sub.offsets,
            **labels,
        )
        values[sub.idx] = part.values
        quota[sub.idx] = part.quota
        at_floor[sub.idx] = part.at_floor
        at_cap[sub.idx] = part.at_cap
    return _MonthSplit(values, quota, at_floor, at_cap)


def _in_threads(work: Callable[[_T], object], items: Iterable[_T], threads: int) -> None:
    """``work`` on every item on up to ``threads`` threads; re-raises the first item's failure."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="targetcascade") as pool:
        list(pool.map(work, items))


#: Below this many children a level's carried split runs in the calling thread.
_THREAD_ROWS: Final = 200_000


def _engine_threads() -> int:
    """How many threads the engine may use for one large split (1: the calling thread only).

    ``TARGETCASCADE_THREADS`` in the environment sets it (set it to 1 in processes that already run
    one cascade per core, such as Dask workers); by default it is the number of CPUs this process
    may run on, at most 4. Parents are independent, so their children are split in chunks of whole
    parents; the result is the same, byte for byte, whatever the number of threads.

    Example:
        >>> _engine_threads() >= 1
        True
    """
    given = os.environ.get("TARGETCASCADE_THREADS", "").strip()
    if given:
        try:
            return max(1, int(given))
        except ValueError:
            raise SpecError(
                f"TARGETCASCADE_THREADS={given!r} is not a whole number",
                hint="set it to 1 to keep the engine in one thread, or to a thread count",
            ) from None
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, available or 1))


def _carried_plain(
    totals: IntArray,
    weights: FloatArray,
    offsets: IntArray,
    out: tuple[IntArray, FloatArray, IntArray] | None,
) -> Apportionment:
    """:func:`_carried_split` without locks, floors or caps: the same numbers, lean.

    The general path goes through the kernel's public entry once per month, which validates and
    re-lays out its inputs each time. Here the checks the kernel would make are made once (they
    cannot fail on the engine's own arrays except for all-zero weights, which go to the kernel so
    that it raises its usual error), and each month calls the largest remainder core directly.

    Parents are independent, so the children are taken in blocks of whole parents of about
    :data:`_PLAIN_BLOCK_ROWS`: a block's twelve months run on arrays that stay in the CPU's cache,
    and its results are written to ``out`` (views of the engine's grid, when given) in one
    transposed copy. Writing a large grid one month column at a time touches a cache line per child
    and month, and cost more than the whole split.
    """
    n, periods = weights.shape
    if out is None:
        out = _carried_out(n, periods)
    edges = _blocks(offsets, _PLAIN_BLOCK_ROWS)
    for s0, s1 in itertools.pairwise(edges):
        lo, hi = int(offsets[s0]), int(offsets[s1])
        values, quota = _carried_plain_block(
            totals[s0:s1], weights[lo:hi], offsets[s0 : s1 + 1] - lo
        )
        out[0][lo:hi] = values.T
        out[1][lo:hi] = quota.T
        # computed month-major (contiguous), then copied like the others; in one buffer
        adjustment = quota.astype(np.int64)  # the cast truncates toward zero
        del quota
        np.subtract(values, adjustment, out=adjustment)
        del values
        out[2][lo:hi] = adjustment.T
        # let the block go before the next one is made (else two blocks per thread are alive)
        del adjustment
    none = np.zeros((n, periods), dtype=np.bool_)
    return Apportionment(values=out[0], quota=out[1], adjustment=out[2], at_floor=none, at_cap=none)


#: Children per block of :func:`_carried_plain` (whole parents; a parent larger than this is one
#: block of its own).
_PLAIN_BLOCK_ROWS: Final = 1 << 18


def _blocks(offsets: IntArray, rows: int) -> list[int]:
    """Segment edges cutting CSR ``offsets`` into runs of whole segments of about ``rows`` cells."""
    n = int(offsets[-1])
    if n <= rows:
        return [0, offsets.size - 1]
    cuts = np.searchsorted(offsets, np.arange(rows, n, rows))
    edges: list[int] = np.unique(np.concatenate(([0], cuts, [offsets.size - 1]))).tolist()
    return edges


def _carried_plain_block(
    totals: IntArray, weights: FloatArray, offsets: IntArray
) -> tuple[IntArray, FloatArray]:
    """One block of :func:`_carried_plain`: month-major values and exact quotas."""
    n, periods = weights.shape
    starts = offsets[:-1]
    sizes = np.diff(offsets)
    values = np.empty((periods, n), dtype=np.int64)
    quota = np.empty((periods, n))
    carry = np.zeros(n)
    # weights broadcast from one column (same_every_period strategies) are read once
    same = weights.strides[1] == 0
    for j in range(periods):
        if j == 0 or not same:
            w = np.ascontiguousarray(weights[:, j])
            w_sum = np.add.reduceat(w, starts)
            free = w > 0
            all_free = bool(free.all())
            share = w / np.repeat(np.where(w_sum > 0, w_sum, 1.0), sizes)
        total = totals[:, j]
        if ((w_sum == 0) & (total != 0)).any() or (total < 0).any():
            # the kernel names the parent and month of the zero weights, and splits negative
            # totals by symmetry; both are rare enough to take its full path for the whole split
            raise _UseKernel
        # the same floats as _free_shares: w / W, then times the total
        exact = quota[j]
        np.multiply(share, np.repeat(total, sizes), out=exact)
        carried = exact + carry
        np.maximum(carried, 0.0, out=carried)
        if not all_free:
            carried[~free] = 0.0
        # a segment whose carried quotas all vanished falls back to the plain weights
        alive = np.add.reduceat(carried, starts) > 0
        use = carried if alive.all() else np.where(np.repeat(alive, sizes), carried, w)
        # the weights _carried_one gives the kernel, counted in whole steps of the grid
        grid = _grid_steps(use)
        got = (
            grid_hamilton(total, grid.astype(np.int64), offsets)
            if grid.max(initial=0.0) <= INT_LIMIT
            else None
        )
        if got is None:  # integers too large for int64: the kernel's general core
            grid /= _CARRY_GRID
            got = hamilton_groups(
                total, grid, offsets, np.add.reduceat(grid, starts), quota=False
            ).values
        values[j] = got
        carry += exact
        carry -= got
        if not all_free:
            carry[~free] = 0.0
    return values, quota


def _grid_steps(use: FloatArray) -> FloatArray:
    """Carried quotas in whole steps of 1/:data:`_CARRY_GRID` quantum (as floats).

    A positive quota keeps at least one step (a child with weight keeps some, however small);
    others get 0.
    """
    steps = np.round(use * _CARRY_GRID)
    np.maximum(steps, 1.0, out=steps)
    steps[~(use > 0)] = 0.0
    return steps


class _UseKernel(Exception):  # noqa: N818 - a control-flow signal, not an error users see
    """Raised by a lean path to hand the whole split to the kernel's general path."""


def _lock_quanta(to_quanta: Callable[[Any], int], lock: Lock) -> int:
    """A lock's value in quanta; a refusal names the lock's node and period."""
    try:
        return to_quanta(lock.value)
    except QuantumError as exc:
        raise QuantumError(
            f"lock on {lock.node!r} in {lock.period}: {exc.problem}",
            node=lock.node,
            period=lock.period,
            metric=exc.metric,
            expected=exc.expected,
            actual=exc.actual,
            hint=exc.hint,
        ) from exc
