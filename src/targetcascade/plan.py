"""The plan grid: every node x every period x every metric, exact integers with an origin per cell.

A :class:`Plan` stores each metric as an ``int64`` array of quanta, shape (nodes, periods), nodes in the
tree's compiled (breadth-first) order and periods in the calendar's grid order (year, quarters,
months). Beside it an ``uint8`` array records each cell's :class:`Origin`; ``Origin.MISSING`` means
"no value", which is not zero.

Example:
    >>> from targetcascade import FiscalCalendar, Metric, OrgTree
    >>> tree = OrgTree.from_records([
    ...     {"id": "acme", "level": "company"},
    ...     {"id": "east", "parent": "acme", "level": "region"},
    ...     {"id": "west", "parent": "acme", "level": "region"},
    ... ])
    >>> calendar = FiscalCalendar(fiscal_year=2027)
    >>> revenue = Metric(name="revenue", unit="CNY")
    >>> leaf = [{"node": n, "period": f"FY2027-M{m:02d}", "metric": "revenue", "value": f"{v} CNY"}
    ...         for n, v in (("east", 100), ("west", 50)) for m in range(1, 13)]
    >>> plan = Plan.from_leaf_values(tree, calendar, [revenue], leaf)
    >>> plan.value("acme", "FY2027", "revenue")
    <Quantity(1800.00, 'CNY')>
    >>> plan.origin_of("acme", "FY2027-Q1", "revenue")
    <Origin.ROLLED_UP: 5>
"""

from __future__ import annotations

import difflib
import enum
import hashlib
import itertools
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, NoReturn, TypeVar

import attrs
import numpy as np
import numpy.typing as npt
import pint

from targetcascade._rules import (
    MAX_QUANTA,
    as_slice,
    block_index,
    div_round_half_even,
    exact_fraction,
    over_limit,
)
from targetcascade.calendar import FiscalCalendar
from targetcascade.errors import (
    MetricError,
    PeriodError,
    PlanError,
    SerializationError,
    SizeLimitError,
    TargetCascadeError,
    UnknownNodeError,
)
from targetcascade.metric import Metric, Rollup, Rounding
from targetcascade.org import OrgTree

__all__ = ["SCHEMA_VERSION", "Fallback", "FallbackRecords", "Origin", "Plan", "PlanKind"]

#: Version of the dict / JSON layout written by :meth:`Plan.to_dict`.
SCHEMA_VERSION: Final = 1

Int64Array = npt.NDArray[np.int64]
UInt8Array = npt.NDArray[np.uint8]
_T = TypeVar("_T")
_NONE_TYPE: Final = type(None)
# A decimal (exponent of at most 3 digits, as floats have) or a fraction of whole numbers: the
# exponent is what makes Fraction("1e99999999") build 10**99999999 for minutes (Python's int
# conversion already limits the digits).
_PLAIN_NUMBER: Final = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3}|\s*/\s*\d+)?\s*")


class Origin(enum.IntEnum):
    """Where a cell's value came from. ``MISSING`` means the cell has no value (not zero).

    Example:
        >>> Origin.parse("rolled_up") is Origin.ROLLED_UP
        True
    """

    MISSING = 0
    ALLOCATED = 1
    LOCKED = 2
    COMMITTED = 3
    ACTUAL = 4
    ROLLED_UP = 5
    MANUAL = 6

    @classmethod
    def parse(cls, value: Origin | str | int) -> Origin:
        """Read an origin from its name (any case), its number, or an Origin.

        Args:
            value: e.g. ``"locked"``, ``2``, ``Origin.LOCKED``.

        Returns:
            The origin.

        Raises:
            PlanError: If the value names no origin (``None``, a float such as 1.9, a bool, an
                unknown name or code).

        Example:
            >>> Origin.parse("LOCKED"), Origin.parse(4)
            (<Origin.LOCKED: 2>, <Origin.ACTUAL: 4>)
        """
        if isinstance(value, Origin):
            return value
        given: object = value  # user input: the annotation is not yet true
        hint = f"use one of {[o.name.lower() for o in cls]} or its code 0..{int(max(cls))}"
        # Only names and whole codes: int(1.9) or int(True) would read a float or a bool as 1.
        found: Origin | None = None
        if isinstance(given, str):
            found = cls.__members__.get(given.strip().upper())
        elif isinstance(given, numbers.Integral) and not isinstance(given, bool | np.bool_):
            found = next((origin for origin in cls if origin == int(given)), None)
        if found is None:
            raise PlanError(f"unknown cell origin {value!r}", hint=hint)
        return found


class PlanKind(enum.Enum):
    """What a grid holds: targets, history (last years' actuals) or this year's actuals.

    Example:
        >>> PlanKind("history")
        <PlanKind.HISTORY: 'history'>
    """

    TARGET = "target"
    HISTORY = "history"
    ACTUAL = "actual"


class Source(enum.IntEnum):
    """How the engine derived a cell (recorded in :class:`Provenance`).

    Example:
        >>> Source.ORG_SPLIT.name
        'ORG_SPLIT'
    """

    NONE = 0
    TARGET = 1
    ORG_SPLIT = 2
    TIME_SPLIT = 3
    ROLLED_UP = 4
    LOCKED = 5
    BALANCED = 6


@attrs.frozen(kw_only=True)
class Fallback:
    """A member whose weight came from its strategy's declared fallback, not from its own base.

    Attributes:
        metric: The metric cascaded.
        node: The member's node id.
        level: The member's level.
        reason: Why: ``"no history"`` (absent from every history year), ``"no value"`` (no
            attribute value or explicit weight), or ``"zero base"`` (its parent's children's bases,
            such as their history, sum to zero, so the whole group took the fallback).
        strategy: The strategy that fell back, as its registry name (``"proportion_of_averages"``).

    Example:
        >>> record = Fallback(metric="revenue", node="east-1-4", level="individual",
        ...                   reason="no history", strategy="proportion_of_averages")
        >>> record.node, record.reason
        ('east-1-4', 'no history')
    """

    metric: str
    node: str
    level: str
    reason: str
    strategy: str


class FallbackRecords(Sequence[Fallback]):
    """A plan's :class:`Fallback` records, made when first read from the rows the engine noted.

    A large organisation has tens of thousands of members without history; the engine keeps their
    rows as arrays and the records are built on first use, then kept. Compares equal to any
    sequence of the same records.

    Args:
        tree: The plan's tree (ids and levels of the rows).
        blocks: ``(metric, rows, reason, strategy)`` per report, rows without repeats, in order.

    Example:
        >>> from targetcascade import OrgTree
        >>> import numpy as np
        >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"},
        ...                              {"id": "east", "parent": "acme", "level": "region"}])
        >>> records = FallbackRecords(tree, [("deals", np.array([1]), "no history", "equal")])
        >>> len(records), records[0].node, records[0].level
        (1, 'east', 'region')
    """

    __slots__ = ("_blocks", "_records", "_tree")

    def __init__(
        self, tree: OrgTree, blocks: Iterable[tuple[str, npt.NDArray[np.int64], str, str]]
    ) -> None:
        self._tree = tree
        self._blocks = tuple(blocks)
        self._records: tuple[Fallback, ...] | None = None

    def _all(self) -> tuple[Fallback, ...]:
        if self._records is None:
            compiled = self._tree.compiled
            names = self._tree.levels.names
            self._records = tuple(
                Fallback(
                    metric=metric,
                    node=compiled.ids[row],
                    level=names[level],
                    reason=reason,
                    strategy=strategy,
                )
                for metric, rows, reason, strategy in self._blocks
                for row, level in zip(
                    rows.tolist(), compiled.level_code[rows].tolist(), strict=True
                )
            )
        return self._records

    def __len__(self) -> int:
        return sum(int(rows.size) for _, rows, _, _ in self._blocks)

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __iter__(self) -> Iterator[Fallback]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return self._all() == tuple(other)

    __hash__ = None  # type: ignore[assignment]  # equal to tuples, so not hashable like them

    def __repr__(self) -> str:
        return repr(self._all())


@attrs.frozen(kw_only=True, eq=False)
class Provenance:
    """How each cell of an engine-built plan was derived; what ``explain`` reads.

    Arrays are per metric name, shaped (nodes, periods) like the grid, except ``org_strategy`` and
    ``time_strategy`` (one entry per node: an index into ``labels``, -1 where none applies). The total
    a cell was split from is not stored: it is the parent cell (over-assigned by the plan's
    ``hedges``), which :func:`~targetcascade.explain.explain` recomputes. Derived (ratio) metrics
    have no arrays: each of their cells is its numerator over its denominator.

    Attributes:
        source: :class:`Source` code of each cell.
        weight: The strategy weight the cell was split with (NaN where not split).
        quota: The exact (float) share of the split total before rounding.
        adjustment: Quanta added by rounding (value minus the quota rounded toward zero).
        bound: 0, or 1 where a floor held the cell, 2 where a cap did.
        org_strategy: Which label split each node's value from its parent.
        time_strategy: Which label phased each node's year over its months.
        labels: Descriptions of the strategies used.
        mode: The cascade mode.
        fallbacks: The members that took their strategy's fallback, in the order met (one record
            per metric, node and reason).

    Example:
        >>> Provenance(source={}, weight={}, quota={}, adjustment={}, bound={}, org_strategy={},
        ...            time_strategy={}, labels=(), mode="time_first").mode
        'time_first'
    """

    source: Mapping[str, UInt8Array]
    weight: Mapping[str, npt.NDArray[np.float64]]
    quota: Mapping[str, npt.NDArray[np.float64]]
    adjustment: Mapping[str, npt.NDArray[np.int64]]
    bound: Mapping[str, UInt8Array]
    org_strategy: Mapping[str, npt.NDArray[np.int64]]
    time_strategy: Mapping[str, npt.NDArray[np.int64]]
    labels: tuple[str, ...]
    mode: str
    fallbacks: Sequence[Fallback] = ()


def _to_fraction(value: Any) -> Fraction:
    try:
        # see _PLAIN_NUMBER: Fraction("1e99999999") would build 10**99999999 for minutes
        if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value):
            raise ValueError(value)
        return exact_fraction(value)
    except (ValueError, OverflowError) as exc:  # OverflowError: an infinite float
        raise PlanError(
            f"over-assignment {value!r} is not a number",
            hint="write a decimal or fraction (exponent of at most 3 digits), e.g. '0.05' for 5 %",
        ) from exc


def _metric_tuple(metrics: Iterable[Metric]) -> tuple[Metric, ...]:
    return tuple(metrics)


def _freeze(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.flags.writeable = False
    return array


@attrs.frozen(kw_only=True, eq=False)
class Plan:
    """An immutable target grid with a provenance code per cell.

    Build plans with :meth:`empty`, :meth:`from_leaf_values`, :meth:`from_leaf_arrays`,
    :meth:`from_records` or :meth:`from_dict`; the constructor itself takes validated arrays.

    Args:
        tree: The organisation.
        calendar: The fiscal year.
        metrics: The metrics, unique by name; a ratio metric's numerator and denominator must be sum
            metrics of the same plan.
        values: ``int64`` quanta, shape (metrics, nodes, periods), nodes in ``tree.compiled`` order
            and periods in ``calendar.periods`` order; zero where the origin is MISSING.
        origins: ``uint8`` :class:`Origin` codes of the same shape.
        hedges: Over-assignment per parent level, for every metric (``{"team": Fraction(1, 20)}``:
            a team's people carry 105 % of the team's target), or per metric then level
            (``{"revenue": {"team": "0.05"}}``); stored per metric. Levels not named have 0.
            carry 105 % of the team's target). Levels not named have 0.
        kind: What the grid holds.
        provenance: How an engine-built plan derived its cells (None for plans built otherwise);
            not part of equality or of :meth:`to_dict` (re-run the cascade spec to rebuild it).

    Raises:
        PlanError: On a shape mismatch, duplicate metric names or a broken ratio definition.

    Example:
        >>> from targetcascade import FiscalCalendar, Metric, OrgTree
        >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
        >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
        >>> plan
        <Plan target FY2027: 1 nodes x 17 periods x 1 metrics, 0 of 17 cells set>
    """

    tree: OrgTree
    calendar: FiscalCalendar
    metrics: tuple[Metric, ...] = attrs.field(converter=_metric_tuple)
    values: Int64Array = attrs.field(repr=False)
    origins: UInt8Array = attrs.field(repr=False)
    hedges: Mapping[str, Mapping[str, Fraction]] = attrs.field(factory=dict, repr=False)
    kind: PlanKind = attrs.field(default=PlanKind.TARGET, converter=PlanKind)
    provenance: Provenance | None = attrs.field(default=None, repr=False)

    @property
    def fallbacks(self) -> Sequence[Fallback]:
        """The members whose weight came from a declared fallback (empty unless engine-built).

        Part of the provenance: like it, not part of equality or of :meth:`to_dict`.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> Plan.empty(tree, FiscalCalendar(fiscal_year=2027),
            ...            [Metric(name="deals", unit="deal")]).fallbacks
            ()
        """
        return () if self.provenance is None else self.provenance.fallbacks

    def __attrs_post_init__(self) -> None:
        names = [m.name for m in self.metrics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise PlanError(f"metric names {duplicates} appear more than once", hint="rename them")
        by_name = dict(zip(names, self.metrics, strict=True))
        for metric in self.metrics:
            if metric.rollup is not Rollup.RATIO:
                continue
            for part in (metric.numerator, metric.denominator):
                other = by_name.get(part or "")
                if other is None or other.rollup is not Rollup.SUM:
                    raise PlanError(
                        f"ratio metric {metric.name!r} needs sum metric {part!r} in the same plan",
                        metric=metric.name,
                        hint=f"add Metric(name={part!r}, ...) to the plan's metrics",
                    )
        shape = (len(self.metrics), len(self.tree), len(self.calendar.periods))
        values = np.ascontiguousarray(self.values, dtype=np.int64)
        origins = np.ascontiguousarray(self.origins, dtype=np.uint8)
        if values.shape != shape or origins.shape != shape:
            raise PlanError(
                f"plan arrays have shapes {values.shape} and {origins.shape}, expected {shape} "
                "(metrics, nodes, periods)"
            )
        if values is self.values and values.flags.writeable:
            values = values.copy()
        if origins is self.origins and origins.flags.writeable:
            origins = origins.copy()
        if origins.size and int(origins.max()) > max(Origin):
            raise PlanError(f"origin codes must be 0..{int(max(Origin))}")
        object.__setattr__(self, "values", _freeze(values))
        object.__setattr__(self, "origins", _freeze(origins))
        object.__setattr__(self, "hedges", self._normalised_hedges(dict(self.hedges)))

    def _normalised_hedges(self, given: dict[str, Any]) -> dict[str, dict[str, Fraction]]:
        """{level: h} for all metrics, or {metric: {level: h}} -> {metric: {level: h}} without 0s."""
        level_names = set(self.tree.levels.names)
        metric_names = [m.name for m in self.metrics]
        nested = any(isinstance(v, Mapping) for v in given.values())
        per_metric = given if nested else dict.fromkeys(metric_names, given)
        out: dict[str, dict[str, Fraction]] = {}
        for metric, levels in per_metric.items():
            if metric not in metric_names:
                raise PlanError(
                    f"over-assignment given for unknown metric {metric!r}",
                    hint=f"metrics are {metric_names}",
                )
            if not isinstance(levels, Mapping):
                raise PlanError(
                    f"over-assignment for {metric!r} must map levels to fractions",
                    hint='write e.g. {"revenue": {"team": "0.05"}}',
                )
            for level, hedge in levels.items():
                if level not in level_names:
                    raise PlanError(
                        f"over-assignment given for unknown level {level!r}",
                        hint=f"levels are {list(self.tree.levels.names)}",
                    )
                fraction = _to_fraction(hedge)
                if fraction <= -1:
                    raise PlanError(
                        f"over-assignment {hedge} for level {level!r} would make children carry "
                        "nothing",
                        hint="give a fraction above -1, e.g. 0.05 for 5 % over-assignment",
                    )
                if fraction != 0:
                    out.setdefault(metric, {})[level] = fraction
        return {metric: dict(sorted(levels.items())) for metric, levels in sorted(out.items())}

    # ------------------------------------------------------------------ construction

    @classmethod
    def empty(
        cls,
        tree: OrgTree,
        calendar: FiscalCalendar,
        metrics: Sequence[Metric],
        *,
        hedges: Mapping[str, Any] | None = None,
        kind: PlanKind | str = PlanKind.TARGET,
    ) -> Plan:
        """A plan with every cell missing.

        Args:
            tree: The organisation.
            calendar: The fiscal year.
            metrics: The metrics.
            hedges: Over-assignment per parent level.
            kind: What the grid holds.

        Returns:
            The empty plan.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.ok_cells
            0
        """
        shape = (len(metrics), len(tree), len(calendar.periods))
        return cls(
            tree=tree,
            calendar=calendar,
            metrics=tuple(metrics),
            values=np.zeros(shape, dtype=np.int64),
            origins=np.zeros(shape, dtype=np.uint8),
            hedges=dict(hedges or {}),
            kind=PlanKind(kind),
        )

    @classmethod
    def from_leaf_arrays(
        cls,
        tree: OrgTree,
        calendar: FiscalCalendar,
        metrics: Sequence[Metric],
        leaf_values: Mapping[str, npt.ArrayLike],
        *,
        origin: Origin | str = Origin.MANUAL,
        hedges: Mapping[str, Any] | None = None,
        kind: PlanKind | str = PlanKind.TARGET,
        rounding: Rounding | None = None,
    ) -> Plan:
        """Build a plan from leaf x month quanta and roll it up over time and the tree.

        The fast path for large organisations: no per-cell Python work.

        Args:
            tree: The organisation.
            calendar: The fiscal year.
            metrics: The metrics; every sum metric must appear in ``leaf_values``.
            leaf_values: Per sum metric, integer quanta of shape (leaves, months), leaves in
                ``tree.compiled`` order (``tree.compiled.ids`` filtered by ``is_leaf``) and months in
                calendar order.
            origin: Origin recorded for the leaf-month cells; rolled-up cells get ROLLED_UP.
            hedges: Over-assignment per parent level; the roll-up divides nothing, so hedged levels
                are rolled up as plain sums and the checker will report them.
            kind: What the grid holds.
            rounding: How to round float arrays of fractional quanta to whole quanta (as for
                :meth:`Metric.to_quanta`); ``None`` (default) refuses them.

        Returns:
            The rolled-up plan; ratio metrics are derived from their numerator and denominator.

        Raises:
            PlanError: On a missing metric, a wrong shape, values that are not whole quanta (floats
                are accepted within 4 ulps of a whole number of quanta), or a cell, leaf or rolled
                up, beyond ``MAX_QUANTA`` (2**53 quanta) in magnitude; the message names the cell.

        Example:
            >>> import numpy as np
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"},
            ...                              {"id": "east", "parent": "acme", "level": "region"}])
            >>> deals = Metric(name="deals", unit="deal")
            >>> plan = Plan.from_leaf_arrays(tree, FiscalCalendar(fiscal_year=2027), [deals],
            ...                              {"deals": np.ones((1, 12), dtype=np.int64)})
            >>> plan.quanta("acme", "FY2027-Q2", "deals")
            3
        """
        origin = Origin.parse(origin)
        compiled = tree.compiled
        leaves = np.flatnonzero(compiled.is_leaf)
        months = _month_positions(calendar)
        shape = (len(metrics), len(tree), len(calendar.periods))
        values = np.zeros(shape, dtype=np.int64)
        origins = np.zeros(shape, dtype=np.uint8)
        unknown = sorted(set(leaf_values) - {m.name for m in metrics})
        if unknown:
            raise PlanError(f"leaf values given for unknown metrics {unknown}")
        for k, metric in enumerate(metrics):
            if metric.rollup is not Rollup.SUM:
                if metric.name in leaf_values:
                    raise PlanError(
                        f"metric {metric.name!r} has rollup {metric.rollup.value!r}; leaf values "
                        "are rolled up only for sum metrics",
                        metric=metric.name,
                        hint="give ratio metrics through their numerator and denominator; set "
                        "rollup='none' metrics with from_records",
                    )
                continue
            if metric.name not in leaf_values:
                raise PlanError(
                    f"no leaf values for sum metric {metric.name!r}",
                    metric=metric.name,
                    hint="pass an array of shape (leaves, months) for every sum metric",
                )
            raw = np.asarray(_rounded(leaf_values[metric.name], rounding))
            if raw.shape != (len(leaves), len(months)):
                raise PlanError(
                    f"leaf values for {metric.name!r} have shape {raw.shape}, expected "
                    f"{(len(leaves), len(months))} (leaves, months)",
                    metric=metric.name,
                )
            grid = _integer_array(raw, metric, tree, calendar, rows=leaves, columns=months)
            check_limit(grid, metric, tree, calendar, rows=leaves, columns=months)
            block = block_index(leaves, months)
            values[k][block] = grid
            origins[k][block] = origin
            # a year is a dozen months of at most 2**53 quanta each: it cannot wrap int64
            _roll_up_time(values[k], origins[k], calendar, leaves)
            check_limit(values[k][leaves], metric, tree, calendar, rows=leaves, what=" rolled up")
            _roll_up_org(values[k], origins[k], tree, calendar, metric)
        plan = cls(
            tree=tree,
            calendar=calendar,
            metrics=tuple(metrics),
            values=values,
            origins=origins,
            hedges=dict(hedges or {}),
            kind=PlanKind(kind),
        )
        return plan._derive_ratios()

    @classmethod
    def from_leaf_values(
        cls,
        tree: OrgTree,
        calendar: FiscalCalendar,
        metrics: Sequence[Metric],
        records: Iterable[Mapping[str, Any]],
        *,
        origin: Origin | str = Origin.MANUAL,
        hedges: Mapping[str, Any] | None = None,
        kind: PlanKind | str = PlanKind.TARGET,
        rounding: Rounding | None = None,
    ) -> Plan:
        """Build a plan from leaf x month records and roll it up bottom-up.

        Every leaf needs a value for every month of every sum metric: a partial roll-up would silently
        treat the gaps as zero, so gaps are an error.

        Args:
            tree: The organisation.
            calendar: The fiscal year.
            metrics: The metrics.
            records: Mappings with keys ``node``, ``period`` (a month label), ``metric`` and ``value``
                (a quantity string, pint quantity, Decimal, int or float in the metric's unit).
            origin: Origin recorded for the given cells; rolled-up cells get ROLLED_UP.
            hedges: Over-assignment per parent level.
            kind: What the grid holds.
            rounding: How to round values that are not a whole number of quanta (retail sales
                with four decimals into a cent metric), as for :meth:`Metric.to_quanta`; ``None``
                (default) refuses them, naming the row.

        Returns:
            The rolled-up plan.

        Raises:
            PlanError: On an unknown node / period / metric, a non-leaf node or non-month period, a
                duplicate cell, or a missing leaf-month value (the message names the row or cell).

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "solo", "level": "company"}])
            >>> rows = [{"node": "solo", "period": f"FY2027-M{m:02d}", "metric": "deals", "value": m}
            ...         for m in range(1, 13)]
            >>> plan = Plan.from_leaf_values(tree, FiscalCalendar(fiscal_year=2027),
            ...                              [Metric(name="deals", unit="deal")], rows)
            >>> plan.quanta("solo", "FY2027", "deals")
            78
        """
        metrics = tuple(metrics)
        compiled = tree.compiled
        leaves = np.flatnonzero(compiled.is_leaf)
        leaf_row = np.full(len(tree), -1, dtype=np.int64)
        leaf_row[leaves] = np.arange(len(leaves))
        months = _month_positions(calendar)
        month_col = {int(p): j for j, p in enumerate(months)}
        by_name = {m.name: m for m in metrics}
        grids = {
            m.name: np.zeros((len(leaves), len(months)), dtype=np.int64)
            for m in metrics
            if m.rollup is Rollup.SUM
        }
        seen = {name: np.zeros(grid.shape, dtype=bool) for name, grid in grids.items()}
        for row, record in enumerate(records):
            node, period, metric = _cell_keys(record, row, tree, calendar, by_name)
            if metric.rollup is not Rollup.SUM:
                raise PlanError(
                    f"row {row}: metric {metric.name!r} has rollup {metric.rollup.value!r}; only sum "
                    "metrics are given at the leaves",
                    row=row,
                    metric=metric.name,
                    hint="give a ratio metric's numerator and denominator instead",
                )
            r = leaf_row[node]
            if r < 0:
                raise PlanError(
                    f"row {row}: node {compiled.ids[node]!r} is not a leaf; from_leaf_values takes "
                    "values for leaves only and rolls them up",
                    row=row,
                    node=compiled.ids[node],
                    hint="use from_records to set values on inner nodes",
                )
            if period not in month_col:
                label = calendar.periods[period].label
                raise PlanError(
                    f"row {row}: period {label!r} is not a month; leaf values are monthly",
                    row=row,
                    period=label,
                )
            c = month_col[period]
            if seen[metric.name][r, c]:
                raise PlanError(
                    f"row {row}: a second value for node {compiled.ids[node]!r}, "
                    f"{calendar.periods[period].label}, {metric.name!r}",
                    row=row,
                    node=compiled.ids[node],
                    period=calendar.periods[period].label,
                    metric=metric.name,
                    hint="give each leaf x month x metric once",
                )
            seen[metric.name][r, c] = True
            quanta = _read_value(
                metric,
                record.get("value"),
                row,
                rounding,
                cell=(compiled.ids[node], calendar.periods[period].label),
            )
            grids[metric.name][r, c] = _within_limit(
                quanta, metric, row, tree=tree, node=node, calendar=calendar, period=period
            )
        for name, mask in seen.items():
            if not mask.all():
                r, c = np.argwhere(~mask)[0]
                missing = int((~mask).sum())
                raise PlanError(
                    f"no {name!r} value for leaf {compiled.ids[leaves[r]]!r} in "
                    f"{calendar.periods[months[c]].label} ({missing} leaf-month cells missing in all)",
                    node=compiled.ids[leaves[r]],
                    period=calendar.periods[months[c]].label,
                    metric=name,
                    hint="give every leaf a value for every month (0 where there is none)",
                )
        return cls.from_leaf_arrays(
            tree, calendar, metrics, grids, origin=origin, hedges=hedges, kind=kind
        )

    @classmethod
    def from_records(
        cls,
        tree: OrgTree,
        calendar: FiscalCalendar,
        metrics: Sequence[Metric],
        records: Iterable[Mapping[str, Any]],
        *,
        hedges: Mapping[str, Any] | None = None,
        kind: PlanKind | str = PlanKind.TARGET,
        rounding: Rounding | None = None,
    ) -> Plan:
        """Build a plan from full records, cell by cell, with no roll-up.

        Imported or hand-edited plans come in this way; :func:`targetcascade.check` then verifies
        them like any other plan.

        Args:
            tree: The organisation.
            calendar: The fiscal year.
            metrics: The metrics.
            records: Mappings with keys ``node``, ``period``, ``metric``, ``value`` and optionally
                ``origin`` (default ``manual``), as :meth:`to_records` writes them. A ``unit`` key,
                if present, must match the metric's unit.
            hedges: Over-assignment per parent level.
            kind: What the grid holds.
            rounding: How to round values that are not a whole number of quanta, as for
                :meth:`Metric.to_quanta`; ``None`` (default) refuses them, naming the row.

        Returns:
            The plan.

        Raises:
            PlanError: On unknown keys, duplicate cells or bad values (the message names the row).

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.from_records(tree, FiscalCalendar(fiscal_year=2027),
            ...     [Metric(name="revenue", unit="CNY")],
            ...     [{"node": "acme", "period": "FY2027", "metric": "revenue", "value": "1 yi CNY",
            ...       "origin": "locked"}])
            >>> plan.value("acme", "FY2027", "revenue"), plan.value("acme", "FY2027-Q1", "revenue")
            (<Quantity(100000000.00, 'CNY')>, None)
        """
        return cls.empty(tree, calendar, metrics, hedges=hedges, kind=kind).with_values(
            records, origin=Origin.MANUAL, rounding=rounding
        )

    # ------------------------------------------------------------------ editing

    def with_values(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        origin: Origin | str = Origin.MANUAL,
        rounding: Rounding | None = None,
    ) -> Plan:
        """A new plan with the given cells replaced; this plan is unchanged.

        Nothing is re-rolled: the checker reports what the edit breaks.

        Args:
            records: Mappings with ``node``, ``period``, ``metric``, ``value`` (``None`` clears the
                cell) and optionally ``origin``.
            origin: Origin for records that carry none.
            rounding: How to round values that are not a whole number of quanta, as for
                :meth:`Metric.to_quanta`; ``None`` (default) refuses them.

        Returns:
            The edited plan.

        Raises:
            PlanError: On unknown keys, a cell given twice, or a bad value (naming the row).

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> cell = {"node": "acme", "period": "FY2027", "metric": "deals", "value": 7}
            >>> edited = plan.with_values([cell])
            >>> edited.quanta("acme", "FY2027", "deals"), plan.quanta("acme", "FY2027", "deals")
            (7, None)
        """
        default_origin = Origin.parse(origin)
        values = self.values.copy()
        origins = self.origins.copy()
        by_name = {m.name: m for m in self.metrics}
        metric_index = {m.name: k for k, m in enumerate(self.metrics)}
        seen: set[tuple[int, int, int]] = set()
        given: object = records  # user input: the annotation is not yet true
        if not isinstance(given, Iterable) or isinstance(given, str | bytes | Mapping):
            raise PlanError(
                f"records must be an iterable of mappings, got {type(given).__name__}",
                hint="pass a list of dicts with keys node, period, metric, value",
            )
        for row, record in enumerate(records):
            node, period, metric = _cell_keys(record, row, self.tree, self.calendar, by_name)
            k = metric_index[metric.name]
            if (k, node, period) in seen:
                raise PlanError(
                    f"row {row}: a second value for node {self.tree.compiled.ids[node]!r}, "
                    f"{self.calendar.periods[period].label}, {metric.name!r}",
                    row=row,
                    hint="give each cell once",
                )
            seen.add((k, node, period))
            if "unit" in record and record["unit"] is not None:
                given = str(record["unit"])
                if given not in (metric.unit_label, str(metric.unit)):
                    raise PlanError(
                        f"row {row}: unit {given!r} differs from {metric.name!r}'s unit "
                        f"{metric.unit_label!r}",
                        row=row,
                        metric=metric.name,
                        hint="convert the value, or pass it as a quantity string with its unit",
                    )
            raw = record.get("value")
            if raw is None:
                values[k, node, period] = 0
                origins[k, node, period] = Origin.MISSING
                continue
            quanta = _read_value(
                metric,
                raw,
                row,
                rounding,
                cell=(self.tree.compiled.ids[node], self.calendar.periods[period].label),
            )
            values[k, node, period] = _within_limit(
                quanta,
                metric,
                row,
                tree=self.tree,
                node=node,
                calendar=self.calendar,
                period=period,
            )
            cell_origin = Origin.parse(record.get("origin", default_origin))
            if cell_origin is Origin.MISSING:
                raise PlanError(
                    f"row {row}: origin 'missing' with a value {raw!r}",
                    row=row,
                    hint="give value None to clear a cell",
                )
            origins[k, node, period] = cell_origin
        return attrs.evolve(self, values=values, origins=origins)

    def with_arrays(self, metric: str, values: npt.ArrayLike, origins: npt.ArrayLike) -> Plan:
        """A new plan with one metric's whole grid replaced (engine fast path).

        Args:
            metric: Metric name.
            values: ``int64`` quanta, shape (nodes, periods) in compiled x calendar order.
            origins: :class:`Origin` codes of the same shape.

        Returns:
            The new plan.

        Raises:
            PlanError: On a shape mismatch, values that are not whole quanta, a cell beyond
                ``MAX_QUANTA`` (2**53 quanta) in magnitude, or a value where the origin is MISSING.

        Example:
            >>> import numpy as np
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> full = plan.with_arrays("deals", np.full((1, 17), 3), np.full((1, 17), Origin.MANUAL))
            >>> full.ok_cells
            17
        """
        k = self.metric_index(metric)
        raw = np.asarray(values)
        codes = np.asarray(origins, dtype=np.uint8)
        if raw.shape != self.values.shape[1:] or codes.shape != raw.shape:
            raise PlanError(
                f"arrays for {metric!r} have shapes {raw.shape} and {codes.shape}, expected "
                f"{self.values.shape[1:]}",
                metric=metric,
            )
        grid = _integer_array(raw, self.metrics[k], self.tree, self.calendar)
        check_limit(grid, self.metrics[k], self.tree, self.calendar)
        if np.any(grid[codes == Origin.MISSING] != 0):
            raise PlanError(
                f"{metric!r}: cells marked missing carry values",
                metric=metric,
                hint="set the value to 0 where the origin is MISSING",
            )
        new_values = self.values.copy()
        new_origins = self.origins.copy()
        new_values[k] = grid
        new_origins[k] = codes
        return attrs.evolve(self, values=new_values, origins=new_origins)

    # ------------------------------------------------------------------ access

    def metric(self, name: str) -> Metric:
        """The metric called ``name``.

        Args:
            name: Metric name.

        Returns:
            The metric.

        Raises:
            MetricError: If the plan has no such metric.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.metric("deals").unit_label
            'deal'
        """
        return self.metrics[self.metric_index(name)]

    def metric_index(self, name: str) -> int:
        """Position of metric ``name`` along the first axis of :attr:`values`.

        Args:
            name: Metric name.

        Returns:
            The index.

        Raises:
            MetricError: If the plan has no such metric.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.metric_index("deals")
            0
        """
        for k, metric in enumerate(self.metrics):
            if metric.name == name:
                return k
        raise MetricError(
            f"plan has no metric {name!r}",
            metric=name,
            hint=f"metrics are {[m.name for m in self.metrics]}",
        )

    def _cell(self, node: str, period: str, metric: str) -> tuple[int, int, int]:
        k = self.metric_index(metric)
        return k, self.tree.compiled.index(node), self.calendar.index(period)

    def quanta(self, node: str, period: str, metric: str) -> int | None:
        """A cell's value as an integer number of quanta, or None when it has no value.

        Args:
            node: Node id.
            period: Period label.
            metric: Metric name.

        Returns:
            The integer, or None.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.quanta("acme", "FY2027", "deals") is None
            True
        """
        k, n, p = self._cell(node, period, metric)
        if self.origins[k, n, p] == Origin.MISSING:
            return None
        return int(self.values[k, n, p])

    def value(self, node: str, period: str, metric: str) -> pint.Quantity[Any] | None:
        """A cell's value as an exact pint quantity (Decimal magnitude), or None when it has none.

        Args:
            node: Node id.
            period: Period label.
            metric: Metric name.

        Returns:
            The quantity in the metric's unit, or None.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> revenue = Metric(name="revenue", unit="CNY")
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [revenue])
            >>> plan.with_values([{"node": "acme", "period": "FY2027", "metric": "revenue",
            ...                    "value": "12000 wan CNY"}]).value("acme", "FY2027", "revenue")
            <Quantity(120000000.00, 'CNY')>
        """
        quanta = self.quanta(node, period, metric)
        if quanta is None:
            return None
        return self.metric(metric).quantity(quanta)

    def origin_of(self, node: str, period: str, metric: str) -> Origin:
        """Where a cell's value came from (``Origin.MISSING`` when it has none).

        Args:
            node: Node id.
            period: Period label.
            metric: Metric name.

        Returns:
            The origin.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.origin_of("acme", "FY2027", "deals")
            <Origin.MISSING: 0>
        """
        k, n, p = self._cell(node, period, metric)
        return Origin(int(self.origins[k, n, p]))

    def grid(self, metric: str) -> Int64Array:
        """The read-only quanta grid of one metric, shape (nodes, periods), compiled x calendar order.

        Args:
            metric: Metric name.

        Returns:
            The array view (zero where a cell is missing: consult :meth:`present`).

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.grid("deals").shape
            (1, 17)
        """
        grid: Int64Array = self.values[self.metric_index(metric)]
        return grid

    def present(self, metric: str) -> npt.NDArray[np.bool_]:
        """Boolean mask of the cells of ``metric`` that have a value.

        Args:
            metric: Metric name.

        Returns:
            Array of shape (nodes, periods).

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.present("deals").any()
            np.False_
        """
        mask: npt.NDArray[np.bool_] = self.origins[self.metric_index(metric)] != Origin.MISSING
        return mask

    @property
    def ok_cells(self) -> int:
        """Number of cells that have a value.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.ok_cells
            0
        """
        return int(np.count_nonzero(self.origins))

    def hedge(self, level: str, metric: str | None = None) -> Fraction:
        """Over-assignment declared for the children of nodes at ``level`` (0 when none).

        Args:
            level: Level name of the parent.
            metric: Metric name; may be omitted when the plan has one metric.

        Returns:
            The exact fraction.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")],
            ...            hedges={"team": "0.05"}).hedge("team")
            Fraction(1, 20)
        """
        if metric is None:
            if len(self.metrics) != 1:
                raise PlanError(
                    "over-assignment is per metric; name the metric",
                    hint=f"metrics are {[m.name for m in self.metrics]}",
                )
            metric = self.metrics[0].name
        return self.hedges.get(metric, {}).get(level, Fraction(0))

    def to_records(self, *, include_missing: bool = False) -> list[dict[str, Any]]:
        """The grid as a list of plain dicts, one per cell.

        Order: metrics as declared, nodes in the tree's input order, periods in calendar order.

        Args:
            include_missing: Also list cells with no value (``value`` None, origin ``missing``).

        Returns:
            Dicts with keys ``node``, ``period``, ``metric``, ``value`` (Decimal in the metric's
            unit), ``unit`` and ``origin`` (lower-case name).

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> plan.with_values([{"node": "acme", "period": "FY2027-Q1", "metric": "deals",
            ...                    "value": 4}]).to_records()
            [{'node': 'acme', 'period': 'FY2027-Q1', 'metric': 'deals', 'value': Decimal('4'),
              'unit': 'deal', 'origin': 'manual'}]
        """
        compiled = self.tree.compiled
        node_order = np.argsort(compiled.input_order, kind="stable")
        labels = [p.label for p in self.calendar.periods]
        names = {o.value: o.name.lower() for o in Origin}
        out: list[dict[str, Any]] = []
        for k, metric in enumerate(self.metrics):
            unit = metric.unit_label
            grid = self.values[k]
            codes = self.origins[k]
            for n in node_order.tolist():
                node = compiled.ids[n]
                for p, label in enumerate(labels):
                    code = int(codes[n, p])
                    if code == Origin.MISSING and not include_missing:
                        continue
                    out.append(
                        {
                            "node": node,
                            "period": label,
                            "metric": metric.name,
                            "value": None
                            if code == Origin.MISSING
                            else metric.from_quanta(int(grid[n, p])),
                            "unit": unit,
                            "origin": names[code],
                        }
                    )
        return out

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe, lossless description of the plan (schema version :data:`SCHEMA_VERSION`).

        Cell values are integers of quanta (exact), ``None`` where missing; nodes in the tree's input
        order, periods in calendar order.

        Returns:
            The dict; ``json.dumps`` accepts it as is.

        Example:
            >>> import json
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
            >>> Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
            True
        """
        order = np.argsort(self.tree.compiled.input_order, kind="stable")
        cells: dict[str, Any] = {}
        for k, metric in enumerate(self.metrics):
            grid = self.values[k][order]
            codes = self.origins[k][order]
            shown = grid.astype(object)
            shown[codes == Origin.MISSING] = None
            rows: list[list[int | None]] = shown.tolist()
            cells[metric.name] = {"values": rows, "origins": codes.tolist()}
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind.value,
            "tree": self.tree.to_dict(),
            "calendar": self.calendar.to_dict(),
            "metrics": [m.to_dict() for m in self.metrics],
            "hedges": {
                metric: {level: str(h) for level, h in levels.items()}
                for metric, levels in self.hedges.items()
            },
            "origin_codes": {o.name.lower(): int(o) for o in Origin},
            "cells": cells,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """Rebuild a plan from :meth:`to_dict` output.

        The dict is read strictly, as a file that may have been edited by hand: every cell value is
        an integer of quanta within :data:`~targetcascade.allocation.MAX_QUANTA` (2**53) or ``null``
        exactly where its origin is 0 (missing); origins are integer codes; hedges are decimal or
        fraction strings; unknown keys are refused. Nothing is rounded, zeroed or dropped.

        Args:
            data: The dict (e.g. from ``json.load``).

        Returns:
            The plan, equal to the one written.

        Raises:
            SerializationError: On an unknown schema version or a malformed field; the message names
                the field's path in the file, e.g. ``cells.revenue.values[3][7]`` (the cell of the
                fourth node, in the file's node order, and the eighth period).

        Example:
            >>> Plan.from_dict({"schema_version": 99})
            Traceback (most recent call last):
            ...
            targetcascade.errors.SerializationError: plan schema version 99 is not supported ...
            >>> Plan.from_dict([])
            Traceback (most recent call last):
            ...
            targetcascade.errors.SerializationError: a plan must be a JSON object ...
        """
        given: object = data
        if not isinstance(given, Mapping):
            raise SerializationError(
                f"a plan must be a JSON object (a mapping of keys), got {type(given).__name__}",
                hint="pass the output of Plan.to_dict()",
            )
        version = data.get("schema_version")
        if type(version) is not int or version != SCHEMA_VERSION:
            raise SerializationError(
                f"plan schema version {version!r} is not supported (this library reads "
                f"{SCHEMA_VERSION})",
                hint="upgrade targetcascade, or re-export the plan",
            )
        _refuse_unknown_keys(data, _PLAN_KEYS, "", "a plan")
        for key in ("tree", "calendar", "metrics", "cells"):
            if key not in data:
                raise SerializationError(
                    f"the plan has no {key!r} key", hint="pass the output of Plan.to_dict()"
                )
        kind = _read_kind(data.get("kind", PlanKind.TARGET.value))
        tree = _inner("tree", OrgTree.from_dict, data["tree"])
        calendar = _inner("calendar", FiscalCalendar.from_dict, data["calendar"])
        raw_metrics = data["metrics"]
        if not isinstance(raw_metrics, list):
            raise SerializationError(
                f"metrics must be a list of metric definitions, got {type(raw_metrics).__name__}",
                hint="pass the output of Plan.to_dict()",
            )
        metrics = [_inner(f"metrics[{i}]", Metric.from_dict, m) for i, m in enumerate(raw_metrics)]
        hedges = _read_hedges(data.get("hedges", {}), metrics, tree)
        codes_given = data.get("origin_codes")
        if codes_given is not None and codes_given != _ORIGIN_CODES:
            raise SerializationError(
                f"origin_codes {codes_given!r} differ from this library's {_ORIGIN_CODES}",
                hint="write origins with the codes Plan.to_dict() uses",
            )
        cells = data["cells"]
        if not isinstance(cells, Mapping):
            raise SerializationError(
                f"cells must map metric names to grids, got {type(cells).__name__}",
                hint="pass the output of Plan.to_dict()",
            )
        names = [m.name for m in metrics]
        _refuse_unknown_keys(cells, names, "cells.", "a metric of the plan")
        compiled = tree.compiled
        order = np.argsort(compiled.input_order, kind="stable")
        shape = (len(metrics), len(tree), len(calendar.periods))
        values = np.zeros(shape, dtype=np.int64)
        origins = np.zeros(shape, dtype=np.uint8)
        ids = [compiled.ids[int(i)] for i in order]
        labels = [p.label for p in calendar.periods]
        for k, metric in enumerate(metrics):
            if metric.name not in cells:
                raise SerializationError(
                    f"cells has no grid for metric {metric.name!r}",
                    metric=metric.name,
                    hint="give every metric of 'metrics' a grid under 'cells'",
                )
            grid, codes = _read_grid(cells[metric.name], metric, ids, labels)
            values[k][order] = grid
            origins[k][order] = codes
        try:
            return cls(
                tree=tree,
                calendar=calendar,
                metrics=tuple(metrics),
                values=values,
                origins=origins,
                hedges=hedges,
                kind=kind,
            )
        except PlanError as exc:
            raise SerializationError(f"plan file: {exc.problem}", hint=exc.hint) from exc

    # ------------------------------------------------------------------ identity and display

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plan):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.metrics == other.metrics
            and self.hedges == other.hedges
            and self.calendar == other.calendar
            and self.tree == other.tree
            and np.array_equal(self.values, other.values)
            and np.array_equal(self.origins, other.origins)
        )

    def __hash__(self) -> int:
        digest = hashlib.blake2b(self.values.tobytes(), digest_size=8)
        digest.update(self.origins.tobytes())
        return hash((self.kind, self.metrics, self.calendar, len(self.tree), digest.digest()))

    def __repr__(self) -> str:
        cells = self.values.size
        return (
            f"<Plan {self.kind.value} {self.calendar.label}: {len(self.tree)} nodes x "
            f"{len(self.calendar.periods)} periods x {len(self.metrics)} metrics, "
            f"{self.ok_cells:,} of {cells:,} cells set>"
        )

    def table(
        self,
        metric: str,
        *,
        periods: Sequence[str] | None = None,
        max_depth: int | None = None,
    ) -> str:
        """An aligned text table of one metric: the tree down the side, periods across.

        Args:
            metric: Metric name.
            periods: Period labels to show (default: the year and its quarters).
            max_depth: Hide nodes deeper than this (0 = the root only).

        Returns:
            The table; missing cells show as ``-``.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"},
            ...                              {"id": "east", "parent": "acme", "level": "region"}])
            >>> rows = [{"node": "east", "period": f"FY2027-M{m:02d}", "metric": "deals", "value": m}
            ...         for m in range(1, 13)]
            >>> plan = Plan.from_leaf_values(tree, FiscalCalendar(fiscal_year=2027),
            ...                              [Metric(name="deals", unit="deal")], rows)
            >>> print(plan.table("deals", periods=["FY2027", "FY2027-Q1", "FY2027-Q4"]))
            deals (deal)  FY2027  FY2027-Q1  FY2027-Q4
            ------------------------------------------
            acme              78          6         33
              east            78          6         33
        """
        from targetcascade._display import plan_table  # noqa: PLC0415 - display only on demand

        return plan_table(self, metric, periods=periods, max_depth=max_depth)

    def _repr_html_(self) -> str:
        from targetcascade._display import plan_html  # noqa: PLC0415 - display only on demand

        return plan_html(self)

    def _derive_ratios(self) -> Plan:
        """Fill every ratio metric's cells from its numerator and denominator."""
        if not any(m.rollup is Rollup.RATIO for m in self.metrics):
            return self
        values = self.values.copy()
        origins = self.origins.copy()
        for k, metric in enumerate(self.metrics):
            if metric.rollup is not Rollup.RATIO:
                continue
            expected, known = ratio_quanta(self, metric)
            check_limit(
                np.where(known, expected, 0),
                metric,
                self.tree,
                self.calendar,
                hint=f"a {metric.denominator} near zero makes {metric.numerator} / "
                f"{metric.denominator} huge: look for a stray or missing digit there",
            )
            values[k] = np.where(known, expected, 0)
            origins[k] = np.where(known, Origin.ROLLED_UP, Origin.MISSING)
        return attrs.evolve(self, values=values, origins=origins)


def ratio_quanta(plan: Plan, metric: Metric) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """The exact quanta a ratio metric must hold in every cell, and where it is defined.

    The ratio is ``numerator / denominator`` (each in its own unit's magnitude), expressed in the
    ratio metric's dimensionless unit and rounded half to even to its quantum. It is defined where
    both parts have values and the denominator is not zero.

    Args:
        plan: The plan.
        metric: A ratio metric of the plan.

    Returns:
        ``(quanta, defined)``, both of shape (nodes, periods); the quanta are int64, or Python ints
        (an object array) when some ratio is beyond ``MAX_QUANTA``.

    Example:
        >>> from targetcascade import FiscalCalendar, Metric, OrgTree
        >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
        >>> profit, revenue = Metric(name="profit", unit="CNY"), Metric(name="revenue", unit="CNY")
        >>> margin = Metric(name="margin", unit="percent", rollup="ratio", numerator="profit",
        ...                 denominator="revenue", quantum="0.1")
        >>> rows = [{"node": "acme", "period": f"FY2027-M{m:02d}", "metric": name, "value": v}
        ...         for m in range(1, 13) for name, v in (("profit", 1), ("revenue", 3))]
        >>> calendar = FiscalCalendar(fiscal_year=2027)
        >>> plan = Plan.from_leaf_values(tree, calendar, [profit, revenue, margin], rows)
        >>> plan.value("acme", "FY2027", "margin")
        <Quantity(33.3, 'percent')>
    """
    num_metric = plan.metric(metric.numerator or "")
    den_metric = plan.metric(metric.denominator or "")
    return ratio_of_grids(
        metric,
        num_metric,
        den_metric,
        num=plan.grid(num_metric.name),
        den=plan.grid(den_metric.name),
        present=plan.present(num_metric.name) & plan.present(den_metric.name),
    )


def ratio_of_grids(
    metric: Metric,
    num_metric: Metric,
    den_metric: Metric,
    *,
    num: Int64Array,
    den: Int64Array,
    present: npt.NDArray[np.bool_],
) -> tuple[Int64Array, npt.NDArray[np.bool_]]:
    """:func:`ratio_quanta` on the grids themselves (``present``: both parts have a value).

    The engine fills derived metrics with it before its plan exists, so a cascade and ``check``
    compute every ratio cell by the one rule.
    """
    known = present & (den != 0)
    # value_in_quanta = (num * qn) / (den * qd) / (quantum_of_ratio * dimensionless factor of its unit)
    unit_factor = Fraction(Decimal(str((1 * metric.unit).to("dimensionless").magnitude)))
    scale = (
        Fraction(num_metric.quantum)
        / Fraction(den_metric.quantum)
        / (Fraction(metric.quantum) * unit_factor)
    )
    top = np.where(known, num, 0)
    bottom = np.where(known, den, 1)
    limit = 2**62
    # magnitudes as Python ints: np.abs of int64's minimum is itself negative
    big_top = _magnitude(top) * scale.numerator >= limit
    big_bottom = _magnitude(bottom) * scale.denominator >= limit
    if big_top or big_bottom:
        # Exact fallback with Python integers (Fraction takes the sign); only reached for extreme
        # magnitudes.
        flat = [
            round(Fraction(t * scale.numerator, b * scale.denominator))
            for t, b in zip(top.ravel().tolist(), bottom.ravel().tolist(), strict=True)
        ]
        exact = np.empty(len(flat), dtype=object)
        exact[:] = flat
        result = exact.reshape(top.shape)
        if all(abs(value) <= MAX_QUANTA for value in flat):
            result = result.astype(np.int64)
    else:
        sign = np.where(bottom < 0, -1, 1)
        top, bottom = top * sign, bottom * sign
        result = div_round_half_even(top * scale.numerator, bottom * scale.denominator)
    return np.where(known, result, 0), known


# ---------------------------------------------------------------------- reading plan files

_PLAN_KEYS: Final = (
    "schema_version",
    "kind",
    "tree",
    "calendar",
    "metrics",
    "hedges",
    "origin_codes",
    "cells",
)
_ORIGIN_CODES: Final = {o.name.lower(): int(o) for o in Origin}


def _refuse_unknown_keys(
    data: Mapping[Any, Any], allowed: Sequence[str], prefix: str, what: str
) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            suggestion = f" (did you mean {close[0]!r}?)" if close else ""
            raise SerializationError(
                f"unknown key {prefix}{key!r}{suggestion}",
                hint=f"each key must be {what}: {', '.join(allowed)}",
            )


def _inner(path: str, read: Callable[[Any], _T], raw: Any) -> _T:
    """Read a nested part with its own door; its errors gain the part's path in the file."""
    try:
        return read(raw)
    except TargetCascadeError as exc:
        fields = {name: getattr(exc, name) for name in ("node", "period", "metric", "row")}
        raise type(exc)(
            f"{path}: {exc.problem}",
            expected=exc.expected,
            actual=exc.actual,
            hint=exc.hint,
            **fields,
        ) from exc


def _read_kind(raw: Any) -> PlanKind:
    kinds = [k.value for k in PlanKind]
    if not isinstance(raw, str) or raw not in kinds:
        raise SerializationError(f"kind {raw!r} is not a plan kind", hint=f"use one of {kinds}")
    return PlanKind(raw)


def _read_hedges(
    raw: Any, metrics: Sequence[Metric], tree: OrgTree
) -> dict[str, dict[str, Fraction]]:
    if not isinstance(raw, Mapping):
        raise SerializationError(
            f"hedges must map metric names to {{level: fraction}}, got {type(raw).__name__}",
            hint='write e.g. {"revenue": {"team": "0.05"}}',
        )
    names = [m.name for m in metrics]
    levels = list(tree.levels.names)
    _refuse_unknown_keys(raw, names, "hedges.", "a metric of the plan")
    out: dict[str, dict[str, Fraction]] = {}
    for metric, per_level in raw.items():
        if not isinstance(per_level, Mapping):
            raise SerializationError(
                f"hedges.{metric} must map level names to fractions, got "
                f"{type(per_level).__name__}",
                metric=metric,
                hint='write e.g. {"team": "0.05"}',
            )
        _refuse_unknown_keys(per_level, levels, f"hedges.{metric}.", "a level of the tree")
        for level, hedge in per_level.items():
            path = f"hedges.{metric}.{level}"
            try:
                # see _PLAIN_NUMBER: Fraction("1e99999999") would build 10**99999999 for minutes
                if isinstance(hedge, str) and not _PLAIN_NUMBER.fullmatch(hedge):
                    raise ValueError(hedge)
                fraction = exact_fraction(hedge)
            except (ValueError, OverflowError):  # OverflowError: an infinite float
                fraction = None
            if fraction is None or fraction <= -1:
                raise SerializationError(
                    f"{path} is {hedge!r}, not an over-assignment (a number above -1)",
                    metric=metric,
                    hint="write a decimal or fraction string (exponent of at most 3 digits), e.g. "
                    "'0.05' or '1/20'",
                )
            out.setdefault(metric, {})[level] = fraction
    return out


def _grid_cells(raw: Any, path: str, ids: Sequence[str], labels: Sequence[str]) -> list[Any]:
    """The rows of one grid (node x period lists) flattened, after checking its shape."""
    if not isinstance(raw, list) or len(raw) != len(ids):
        got = f"{len(raw)} rows" if isinstance(raw, list) else type(raw).__name__
        raise SerializationError(
            f"{path} must be a list of {len(ids)} rows, one per node, got {got}",
            hint="pass the output of Plan.to_dict()",
        )
    for i, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != len(labels):
            got = f"{len(row)} values" if isinstance(row, list) else type(row).__name__
            raise SerializationError(
                f"{path}[{i}] (node {ids[i]!r}) must be a list of {len(labels)} values, one per "
                f"period, got {got}",
                node=ids[i],
                hint="pass the output of Plan.to_dict()",
            )
    return list(itertools.chain.from_iterable(raw))


def _read_grid(
    block: Any, metric: Metric, ids: Sequence[str], labels: Sequence[str]
) -> tuple[Int64Array, UInt8Array]:
    """One metric's values and origins, in the file's node order, checked cell by cell."""
    base = f"cells.{metric.name}"
    if not isinstance(block, Mapping):
        raise SerializationError(
            f"{base} must be an object with 'values' and 'origins', got {type(block).__name__}",
            metric=metric.name,
            hint="pass the output of Plan.to_dict()",
        )
    _refuse_unknown_keys(block, ("values", "origins"), f"{base}.", "one of")
    for key in ("values", "origins"):
        if key not in block:
            raise SerializationError(
                f"{base} has no {key!r}",
                metric=metric.name,
                hint="pass the output of Plan.to_dict()",
            )
    shape = (len(ids), len(labels))
    flat_values = _grid_cells(block["values"], f"{base}.values", ids, labels)
    flat_codes = _grid_cells(block["origins"], f"{base}.origins", ids, labels)

    def fail(part: str, at: int, problem: str, hint: str) -> NoReturn:
        i, j = divmod(at, len(labels))
        raise SerializationError(
            f"{base}.{part}[{i}][{j}] (node {ids[i]!r}, {labels[j]}) {problem}",
            node=ids[i],
            period=labels[j],
            metric=metric.name,
            hint=hint,
        )

    # JSON gives Python ints; bools, floats ("1.9") and strings ("12") are refused, never read.
    if not set(map(type, flat_values)) <= {int, _NONE_TYPE}:
        at = next(n for n, v in enumerate(flat_values) if v is not None and type(v) is not int)
        value = flat_values[at]
        fail(
            "values",
            at,
            f"is {value!r} ({type(value).__name__}), not an integer of quanta or null",
            f"write a whole number of {metric.name}'s quantum ({metric.quantum} "
            f"{metric.unit_label}) as a JSON integer, or null for no value",
        )
    if not set(map(type, flat_codes)) <= {int}:
        at = next(n for n, v in enumerate(flat_codes) if type(v) is not int)
        fail(
            "origins",
            at,
            f"is {flat_codes[at]!r}, not an origin code",
            f"origins are integer codes {_ORIGIN_CODES}",
        )
    n = len(flat_values)
    missing = np.fromiter((v is None for v in flat_values), dtype=np.bool_, count=n)
    try:
        grid = np.fromiter((0 if v is None else v for v in flat_values), dtype=np.int64, count=n)
        wide = np.flatnonzero((grid > MAX_QUANTA) | (grid < -MAX_QUANTA))
        too_big = int(wide[0]) if wide.size else -1
    except OverflowError:  # beyond int64; find the first such cell (error path only)
        too_big = next(
            at for at, v in enumerate(flat_values) if v is not None and abs(v) > MAX_QUANTA
        )
    if too_big >= 0:
        fail(
            "values",
            too_big,
            f"is {flat_values[too_big]} quanta, beyond the limit MAX_QUANTA = 2**53 = "
            f"{MAX_QUANTA:,} quanta ({metric.format(MAX_QUANTA)})",
            "every cell of a plan is at most MAX_QUANTA quanta in size",
        )
    top = int(max(Origin))
    try:
        wide_codes = np.fromiter(flat_codes, dtype=np.int64, count=n)
        outside = np.flatnonzero((wide_codes < 0) | (wide_codes > top))
        bad_code = int(outside[0]) if outside.size else -1
    except OverflowError:  # beyond int64; find the first such code (error path only)
        bad_code = next(at for at, c in enumerate(flat_codes) if not 0 <= c <= top)
    if bad_code >= 0:
        fail(
            "origins",
            bad_code,
            f"is {flat_codes[bad_code]}, not an origin code",
            f"origins are integer codes {_ORIGIN_CODES}",
        )
    codes = wide_codes.astype(np.uint8)
    is_missing = codes == Origin.MISSING
    clash = np.flatnonzero(missing != is_missing)
    if clash.size:
        at = int(clash[0])
        if missing[at]:
            fail(
                "values",
                at,
                f"is null (no value) but its origin is {Origin(int(codes[at])).name.lower()!r}",
                "null is not zero: give the value, or origin 0 (missing) for a cell with no value",
            )
        fail(
            "values",
            at,
            f"is {flat_values[at]} but its origin is 'missing'",
            "give null as the value of a missing cell, or the cell's real origin",
        )
    return grid.reshape(shape), codes.reshape(shape)


def _magnitude(values: Int64Array) -> int:
    """The largest ``|value|`` as a Python int (0 for an empty array)."""
    if values.size == 0:
        return 0
    return max(abs(int(values.max())), abs(int(values.min())))


# ---------------------------------------------------------------------- helpers


def _month_positions(calendar: FiscalCalendar) -> Int64Array:
    from targetcascade.calendar import PeriodLevel  # noqa: PLC0415 - same module family, kept local

    return np.flatnonzero(calendar.level_array == PeriodLevel.MONTH).astype(np.int64)


def check_limit(
    values: npt.NDArray[Any],
    metric: Metric,
    tree: OrgTree,
    calendar: FiscalCalendar,
    *,
    rows: Int64Array | None = None,
    columns: Int64Array | None = None,
    what: str = "",
    hint: str = "plan in a coarser quantum (e.g. quantum='1000'), or look for a stray digit",
) -> None:
    """Refuse a grid holding a cell beyond ``MAX_QUANTA`` in magnitude, naming the first such cell.

    Args:
        values: Integers (int64 or Python ints), shape (rows, columns).
        metric: Their metric.
        tree: The organisation (names the node).
        calendar: The fiscal year (names the period).
        rows: Compiled positions of the rows (None: every node in order).
        columns: Grid positions of the columns (None: every period in order).
        what: Words after the metric's name, e.g. ``" rolled up"``.
        hint: What to do about it.

    Raises:
        SizeLimitError: Naming the metric, node, period, value and the limit in the metric's unit.

    Example:
        >>> from targetcascade import FiscalCalendar, Metric, OrgTree
        >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
        >>> calendar = FiscalCalendar(fiscal_year=2027)
        >>> check_limit(np.array([[2**53 + 1]]), Metric(name="deals", unit="deal"), tree, calendar)
        Traceback (most recent call last):
        ...
        targetcascade.errors.SizeLimitError: 'deals' for 'acme' in FY2027 is 9,007,199,254,740,993 deal, ...
    """
    if values.size == 0 or (int(values.max()) <= MAX_QUANTA and int(values.min()) >= -MAX_QUANTA):
        return  # the common case, without full-size masks
    r, c = (int(i) for i in np.argwhere(over_limit(values))[0])
    node = tree.compiled.ids[r if rows is None else int(rows[r])]
    period = calendar.periods[c if columns is None else int(columns[c])].label
    value = int(values[r, c])
    raise SizeLimitError(
        f"{metric.name!r}{what} for {node!r} in {period} is {metric.format(value)}, beyond the "
        f"limit of {metric.format(MAX_QUANTA)} in magnitude (2**53 quanta)",
        node=node,
        period=period,
        metric=metric.name,
        expected=MAX_QUANTA,
        actual=value,
        hint=hint,
    )


def _within_limit(
    quanta: int,
    metric: Metric,
    row: int,
    *,
    tree: OrgTree,
    node: int,
    calendar: FiscalCalendar,
    period: int,
) -> int:
    """``quanta`` if within ``MAX_QUANTA`` in magnitude, else a PlanError naming row and cell."""
    if -MAX_QUANTA <= quanta <= MAX_QUANTA:
        return quanta
    node_id, label = tree.compiled.ids[node], calendar.periods[period].label
    raise SizeLimitError(
        f"row {row}: {metric.name!r} for {node_id!r} in {label} is {metric.format(quanta)}, "
        f"beyond the limit of {metric.format(MAX_QUANTA)} in magnitude (2**53 quanta)",
        row=row,
        node=node_id,
        period=label,
        metric=metric.name,
        expected=MAX_QUANTA,
        actual=quanta,
        hint="plan in a coarser quantum (e.g. quantum='1000'), or look for a stray digit",
    )


def _integer_array(
    raw: npt.ArrayLike,
    metric: Metric,
    tree: OrgTree,
    calendar: FiscalCalendar,
    *,
    rows: Int64Array | None = None,
    columns: Int64Array | None = None,
) -> Int64Array:
    """Quanta as int64: integers as they are, floats by the one float rule, others refused.

    A float is taken only within 4 ulps of a whole number of quanta (the rule of
    :meth:`Metric.to_quanta`); unsigned integers beyond int64 and floats beyond the limit are
    refused by name rather than wrapped. ``rows`` and ``columns`` name the cells as
    :func:`check_limit` does.
    """
    array = np.asarray(raw)
    name = metric.name

    def refuse(bad: npt.NDArray[np.bool_], problem: str, hint: str) -> PlanError:
        r, c = (int(i) for i in np.argwhere(bad)[0])
        node = tree.compiled.ids[r if rows is None else int(rows[r])]
        period = calendar.periods[c if columns is None else int(columns[c])].label
        return PlanError(
            f"{name!r} for {node!r} in {period}: {array[r, c].item()!r} {problem}",
            node=node,
            period=period,
            metric=name,
            actual=array[r, c].item(),
            hint=hint,
        )

    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise refuse(
            array > np.iinfo(np.int64).max,
            f"quanta is beyond the limit of {metric.format(MAX_QUANTA)} (2**53 quanta)",
            "plan in a coarser quantum, or look for a stray digit",
        )
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind != "f":
        raise PlanError(
            f"values for {name!r} must be integers of quanta, got dtype {array.dtype}",
            metric=name,
        )
    finite = np.isfinite(array)
    if not finite.all():
        raise refuse(~finite, "is not a number of quanta", "give whole numbers of quanta")
    wide = array.astype(np.float64)
    beyond = np.abs(wide) > MAX_QUANTA
    if beyond.any():
        raise refuse(
            beyond,
            f"quanta is beyond the limit of {metric.format(MAX_QUANTA)} (2**53 quanta)",
            "plan in a coarser quantum, or look for a stray digit",
        )
    nearest = np.round(wide)
    # the one float rule: within 4 ulps (of the array's own precision) of a whole number of
    # quanta, as Metric.to_quanta reads a float
    ulps = np.spacing(np.maximum(np.abs(array), array.dtype.type(1))).astype(np.float64)
    tolerance = 4 * ulps
    off = np.abs(wide - nearest) > tolerance
    if off.any():
        raise refuse(
            off,
            "is not a whole number of quanta",
            "convert with Metric.to_quanta (and a rounding rule) first",
        )
    return nearest.astype(np.int64)


def _rounded(raw: npt.ArrayLike, rounding: Rounding | None) -> npt.ArrayLike:
    """Float quanta rounded to whole quanta by ``rounding`` (as Metric.to_quanta rounds values).

    Integer arrays and ``rounding=None`` pass through; NaN and infinities stay, to be refused.
    """
    array = np.asarray(raw)
    if rounding is None or array.dtype.kind != "f":
        return raw
    rounded: npt.NDArray[np.floating[Any]]
    if rounding is Rounding.FLOOR:
        rounded = np.floor(array)
    elif rounding is Rounding.CEILING:
        rounded = np.ceil(array)
    elif rounding is Rounding.HALF_EVEN:
        rounded = np.rint(array)  # IEEE round half to even, exact
    else:
        # half away from zero; a - floor(a) is exact in binary, where a + 0.5 rounds for large a
        size = np.abs(array)
        whole = np.floor(size)
        rounded = np.copysign(whole + (size - whole >= 0.5), array)
    return rounded


def _cell_keys(
    record: Mapping[str, Any],
    row: int,
    tree: OrgTree,
    calendar: FiscalCalendar,
    metrics: Mapping[str, Metric],
) -> tuple[int, int, Metric]:
    if not isinstance(record, Mapping):
        raise PlanError(f"row {row}: expected a mapping, got {type(record).__name__}", row=row)
    missing = [key for key in ("node", "period", "metric") if key not in record]
    if missing:
        raise PlanError(
            f"row {row}: missing keys {missing} in {dict(record)!r}",
            row=row,
            hint="each record needs node, period, metric and value",
        )
    unknown = set(record) - {"node", "period", "metric", "value", "unit", "origin"}
    if unknown:
        raise PlanError(
            f"row {row}: unknown keys {sorted(unknown)}",
            row=row,
            hint="records have keys node, period, metric, value, unit, origin",
        )
    name = record["metric"]
    metric = metrics.get(name) if isinstance(name, str) else None
    if metric is None:
        raise PlanError(
            f"row {row}: unknown metric {name!r}",
            row=row,
            metric=str(name),
            hint=f"metrics are {sorted(metrics)}",
        )
    node_id = record["node"]
    # Ids are strings (ints are converted with str(), as OrgTree.from_records does); str(None)
    # would match a node whose id is "None".
    if isinstance(node_id, numbers.Integral) and not isinstance(node_id, bool | np.bool_):
        node_id = str(int(node_id))
    if not isinstance(node_id, str):
        raise PlanError(
            f"row {row}: node {node_id!r} of type {type(node_id).__name__} is not a node id",
            row=row,
            hint="give the node's id as a string",
        )
    try:
        node = tree.compiled.index(node_id)
    except UnknownNodeError as exc:
        raise PlanError(f"row {row}: {exc}", row=row, node=node_id) from exc
    label = record["period"]
    if not isinstance(label, str):
        raise PlanError(
            f"row {row}: period {label!r} of type {type(label).__name__} is not a period label",
            row=row,
            hint="give the period as a label such as 'FY2027-Q3'",
        )
    try:
        period = calendar.index(label)
    except PeriodError as exc:
        raise PlanError(f"row {row}: {exc}", row=row, period=label) from exc
    return node, period, metric


def _read_value(
    metric: Metric,
    raw: Any,
    row: int,
    rounding: Rounding | None = None,
    *,
    cell: tuple[str, str] | None = None,
) -> int:
    """``raw`` in ``metric``'s quanta; a refusal names the row and, given ``cell``, its node and period."""
    try:
        return metric.to_quanta(raw, rounding=rounding)
    except TargetCascadeError as exc:
        where = f"row {row}" if cell is None else f"row {row} ({cell[0]!r}, {cell[1]})"
        raise type(exc)(
            f"{where}: {exc.problem}",
            row=row,
            node=None if cell is None else cell[0],
            period=None if cell is None else cell[1],
            metric=metric.name,
            expected=exc.expected,
            actual=raw,
            hint=exc.hint,
        ) from exc


def _roll_up_time(
    values: Int64Array, origins: UInt8Array, calendar: FiscalCalendar, nodes: Int64Array
) -> None:
    """Fill quarters and the year of ``nodes`` from their months, in place."""
    offsets = calendar.child_offsets
    levels = calendar.level_array
    rows = as_slice(nodes)
    sub_values = values[rows]  # a view when the nodes are contiguous, else a copy written back
    sub_origins = origins[rows]
    # Deepest period level first, so quarters exist before the year adds them.
    for level in sorted(set(levels.tolist()), reverse=True):
        parents = np.flatnonzero((levels == level) & (np.diff(offsets) > 0))
        for p in parents.tolist():
            lo, hi = int(offsets[p]), int(offsets[p + 1])
            sub_values[:, p] = sub_values[:, lo:hi].sum(axis=1)
            sub_origins[:, p] = Origin.ROLLED_UP
    values[rows] = sub_values
    origins[rows] = sub_origins


def _roll_up_org(
    values: Int64Array,
    origins: UInt8Array,
    tree: OrgTree,
    calendar: FiscalCalendar,
    metric: Metric,
) -> None:
    """Fill inner nodes from their children, deepest level first, in place (vectorised per depth).

    Every level is refused beyond ``MAX_QUANTA`` before the next one adds it up, so each sum adds
    children of at most 2**53 quanta; where a parent has so many children that such a sum could
    leave int64, that level is added in Python integers instead, so nothing wraps unseen.
    """
    compiled = tree.compiled
    offsets, depth = compiled.child_offsets, compiled.depth
    counts = np.diff(offsets)
    for d in range(int(depth.max(initial=0)) - 1, -1, -1):
        # Inner nodes of one depth are contiguous in breadth-first order, and so are their children.
        parents = np.flatnonzero((depth == d) & (counts > 0))
        if parents.size == 0:
            continue
        first = int(offsets[parents[0]])
        last = int(offsets[parents[-1] + 1])
        starts = offsets[parents] - first
        if int(counts[parents].max()) * MAX_QUANTA < 2**63:
            sums: npt.NDArray[Any] = np.add.reduceat(values[first:last], starts, axis=0)
        else:
            sums = np.add.reduceat(values[first:last].astype(object), starts, axis=0)
        check_limit(sums, metric, tree, calendar, rows=parents, what=" rolled up")
        values[parents] = sums
        origins[parents] = Origin.ROLLED_UP
