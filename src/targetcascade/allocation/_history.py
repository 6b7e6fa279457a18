"""History: past years' actuals, aligned by node id to the tree being planned (private module).

History grids live on the tree of their own year (people come and go). Strategies need them on the
planning tree's compiled order, so :class:`History` aligns each past plan by node id once, and caches
the alignment per pair of trees. A node absent from a past year has no history there (NaN), which is not zero.

Each year keeps its own metric, so last year may be in whole dollars and the year before in cents,
or in ``wan CNY``: values are read through each year's unit and quantum into one common step (see
:meth:`History.grain`), and a year in another dimension (CNY history for a USD metric) is refused,
never read as if it were in the planned unit.
"""

from __future__ import annotations

import functools
import math
import threading
import weakref
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade._rules import as_slice, exact_fraction
from targetcascade.calendar import PeriodLevel
from targetcascade.errors import PlanError, TargetCascadeError, UnitMismatchError
from targetcascade.metric import Metric
from targetcascade.org import CompiledTree, OrgTree, PositionMap
from targetcascade.plan import Origin, Plan, PlanKind
from targetcascade.units import as_quantity, format_unit, ureg

__all__ = ["History", "HistoryTotals"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class HistoryTotals(NamedTuple):
    """Each node's history summed over its months: what sum-based historical shares read.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> totals = History(plans=company.history).totals("revenue", company.tree)
        >>> int(totals.known.sum()), int(totals.negative.sum())   # two 2027 hires have none
        (73, 0)
    """

    total: IntArray
    """int64 (rows,): the sum of every month with a value, in quanta (0 without any), exact."""
    known: BoolArray
    """bool (rows,): some month of some year has a value."""
    negative: BoolArray
    """bool (rows,): some month's value is negative."""


def _to_plans(value: Iterable[Plan] | Mapping[int, Plan]) -> tuple[Plan, ...]:
    plans = tuple(value.values()) if isinstance(value, Mapping) else tuple(value)
    for plan in plans:
        if not isinstance(plan, Plan):
            raise PlanError(f"history must hold Plan objects, got {type(plan).__name__}")
    years = [p.calendar.fiscal_year for p in plans]
    if len(set(years)) != len(years):
        raise PlanError(
            f"history has fiscal years {sorted(years)} with repeats",
            hint="give one plan per fiscal year",
        )
    return tuple(sorted(plans, key=lambda p: p.calendar.fiscal_year))


@attrs.frozen(kw_only=True, eq=False)
class History:
    """Past years' grids (kind ``history`` or ``actual``), oldest first.

    Args:
        plans: One plan per past fiscal year (a mapping year -> plan is accepted).

    Raises:
        PlanError: If a year repeats or an item is not a plan.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> history = History(plans=company.history)
        >>> history.years
        (2025, 2026)
        >>> values = history.monthly("revenue", company.tree)
        >>> values.shape   # 75 nodes x 24 months; the two people hired in 2027 are NaN
        (75, 24)
    """

    plans: tuple[Plan, ...] = attrs.field(converter=_to_plans)

    def __attrs_post_init__(self) -> None:
        for plan in self.plans:
            if plan.kind is PlanKind.TARGET:
                raise PlanError(
                    f"history plan {plan.calendar.label} has kind 'target'",
                    hint="history holds actuals: build it with kind='history' or 'actual'",
                )

    @property
    def years(self) -> tuple[int, ...]:
        """The fiscal years held, oldest first.

        Example:
            >>> History(plans=()).years
            ()
        """
        return tuple(p.calendar.fiscal_year for p in self.plans)

    def window(self, years: int | None) -> History:
        """The last ``years`` years (all when None).

        Args:
            years: How many of the most recent years to keep.

        Returns:
            A history of those years.

        Example:
            >>> History(plans=()).window(2).years
            ()
        """
        if years is None or years >= len(self.plans):
            return self
        return History(plans=self.plans[len(self.plans) - years :])

    def monthly(
        self, metric: str | Metric, tree: OrgTree, rows: npt.ArrayLike | None = None
    ) -> FloatArray:
        """Nodes' monthly values over the history, aligned to ``tree``.

        Only the requested rows are gathered, so asking for one level of a large tree costs that
        level, not the tree.

        Args:
            metric: The planned metric, or its name (a sum metric of every history plan). Given
                as a metric, every year's unit must have its dimension.
            tree: The planning tree; rows follow ``tree.compiled`` order.
            rows: Compiled positions in ``tree`` to return (None: every node, in order).

        Returns:
            float64 array of shape (rows, 12 x years), oldest month first, in whole steps of
            :meth:`grain` (the history metric's quanta when every year has the same unit and
            quantum); NaN where the node was absent that year or the cell had no value.

        Raises:
            MetricError: If a history plan lacks the metric.
            UnitMismatchError: If a year's unit has another dimension than the metric's (or than
                the most recent year's, given a name).

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> history = History(plans=company.history)
            >>> root = history.monthly("revenue", company.tree, rows=[0])
            >>> root.shape, bool((root == history.monthly("revenue", company.tree)[[0]]).all())
            ((1, 24), True)
        """
        wanted = None if rows is None else np.asarray(rows, dtype=np.int64)
        count = len(tree) if wanted is None else wanted.size
        _, factors = self._steps(metric)
        name = metric if isinstance(metric, str) else metric.name
        columns = [
            self._aligned(plan, name, tree, wanted, factor)
            for plan, factor in zip(self.plans, factors, strict=True)
        ]
        if not columns:
            return np.zeros((count, 0))
        if len(columns) == 1:
            return columns[0]  # a fresh array already
        return np.concatenate(columns, axis=1)

    def totals(
        self, metric: str | Metric, tree: OrgTree, rows: npt.ArrayLike | None = None
    ) -> HistoryTotals:
        """Nodes' history summed over every month, aligned to ``tree``.

        The same numbers as summing :meth:`monthly` row by row with NaN read as 0, without
        building the (rows x months) grid: each past plan's month sums are computed once per plan
        (plans are immutable, so they are cached for as long as the plan lives) and only the
        requested rows are gathered. Integer quanta are summed exactly in int64 (over years too:
        a year's cells are at most ``MAX_QUANTA``, so a thousand years still fit).

        Args:
            metric: The planned metric, or its name, as for :meth:`monthly`.
            tree: The planning tree; rows follow ``tree.compiled`` order.
            rows: Compiled positions in ``tree`` to return (None: every node, in order).

        Returns:
            The totals (in whole steps of :meth:`grain`), with which rows have any value and which
            have a negative month.

        Raises:
            MetricError: If a history plan lacks the metric.
            UnitMismatchError: As for :meth:`monthly`.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> history = History(plans=company.history)
            >>> monthly = history.monthly("revenue", company.tree)
            >>> totals = history.totals("revenue", company.tree)
            >>> bool((totals.total == np.nansum(monthly, axis=1)).all())
            True
        """
        wanted = None if rows is None else np.asarray(rows, dtype=np.int64)
        count = len(tree) if wanted is None else wanted.size
        total = np.zeros(count, dtype=np.int64)
        known = np.zeros(count, dtype=np.bool_)
        negative = np.zeros(count, dtype=np.bool_)
        _, factors = self._steps(metric)
        name = metric if isinstance(metric, str) else metric.name
        for plan, factor in zip(self.plans, factors, strict=True):
            year_total, year_known, year_negative = _month_totals(plan, name)
            if factor != 1:
                year_total = year_total * factor
            take, found = _source_rows(tree, plan, wanted)
            if found is None:
                total += year_total[take]
                known |= year_known[take]
                negative |= year_negative[take]
            else:
                total += np.where(found, year_total[take], 0)
                known |= found & year_known[take]
                negative |= found & year_negative[take]
        return HistoryTotals(total, known, negative)

    def grain(self, metric: str | Metric) -> Fraction:
        """The step the history's values come in, as an exact amount of ``metric``'s unit.

        Each year's values are whole quanta of that year's metric; they are read as whole multiples
        of the finest step every year's quantum is a multiple of (the quantum itself when all years
        agree), so shares and sums over years compare like with like.

        Args:
            metric: The planned metric (the step is in its unit), or a name (the step is in the
                unit of the most recent year's metric).

        Returns:
            The step; ``Fraction(0)`` without history.

        Raises:
            MetricError: If a history plan lacks the metric.
            UnitMismatchError: If a year's unit has another dimension than the metric's.

        Example:
            >>> from targetcascade import FiscalCalendar, Metric, OrgTree, Plan
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> dollars = Metric(name="revenue", unit="USD", quantum="1")
            >>> last = Plan.empty(tree, FiscalCalendar(fiscal_year=2026), [dollars], kind="history")
            >>> History(plans=[last]).grain(Metric(name="revenue", unit="USD"))
            Fraction(1, 1)
        """
        step, _ = self._steps(metric)
        return step

    def _steps(self, metric: str | Metric) -> tuple[Fraction, tuple[int, ...]]:
        """The common step (in the reference unit) and each year's quantum as a multiple of it."""
        if not self.plans:
            return Fraction(0), ()
        name = metric if isinstance(metric, str) else metric.name
        years = tuple(plan.metric(name) for plan in self.plans)
        planned = years[-1] if isinstance(metric, str) else metric
        keys = tuple((m.unit, m.quantum) for m in years)
        labels = tuple(plan.calendar.label for plan in self.plans)
        return _common_step(planned.unit, name, keys, labels)

    @staticmethod
    def _aligned(
        plan: Plan, metric: str, tree: OrgTree, rows: npt.NDArray[np.int64] | None, factor: int = 1
    ) -> FloatArray:
        k = plan.metric_index(metric)
        months = _months(plan)
        take, found = _source_rows(tree, plan, rows)
        # views of the 12 month columns: the gathers copy those, not all 17
        out: FloatArray = plan.values[k][:, months][take].astype(np.float64)
        if factor != 1:
            out *= factor
        missing = plan.origins[k][:, months][take] == Origin.MISSING
        if found is not None:
            missing |= ~found[:, None]
        out[missing] = np.nan
        return out


@functools.lru_cache(maxsize=256)
def _common_step(
    unit: Any, name: str, years: tuple[tuple[Any, Decimal], ...], labels: tuple[str, ...]
) -> tuple[Fraction, tuple[int, ...]]:
    """Each year's quantum in ``unit``, their finest common step, and each quantum in steps.

    Units and quanta are immutable, so the conversions are cached: batches ask once per level.
    """
    quanta: list[Fraction] = []
    for (year_unit, quantum), label in zip(years, labels, strict=True):
        try:
            converted = as_quantity(ureg.Quantity(quantum, year_unit), unit)
        except TargetCascadeError as exc:
            raise UnitMismatchError(
                f"history {label} has {name!r} in {format_unit(year_unit)}, but {name!r} is "
                f"planned in {format_unit(unit)}",
                metric=name,
                expected=format_unit(unit),
                actual=format_unit(year_unit),
                hint="there is no implicit exchange rate: convert the history into "
                f"{format_unit(unit)} first, or plan {name!r} in {format_unit(year_unit)}",
            ) from exc
        magnitude = converted.magnitude
        quanta.append(exact_fraction(magnitude if isinstance(magnitude, float) else str(magnitude)))
    # the largest step every quantum is a whole multiple of: gcd of numerators over lcm of
    # denominators
    step = Fraction(
        math.gcd(*(q.numerator for q in quanta)), math.lcm(*(q.denominator for q in quanta))
    )
    return step, tuple(int(q / step) for q in quanta)


def _months(plan: Plan) -> slice | npt.NDArray[np.int64]:
    """The month columns of ``plan``'s grid (a slice: they are one run)."""
    return as_slice(np.flatnonzero(plan.calendar.level_array == PeriodLevel.MONTH))


def _source_rows(
    tree: OrgTree, plan: Plan, rows: npt.NDArray[np.int64] | None
) -> tuple[slice | npt.NDArray[np.int64], BoolArray | None]:
    """Where ``rows`` of ``tree`` (None: all) sit in ``plan``'s tree, and which of them are there.

    Returns what to index the plan's nodes with (a slice when every row is there in one run, as
    for a whole tree aligned to itself, so no gather) and the found mask, None when all are found;
    rows not found index node 0 and must be masked out.
    """
    source = _row_map(tree, plan.tree)
    if rows is not None:
        source = source[rows]
    found = source >= 0
    if found.all():
        return as_slice(source), None
    return np.where(found, source, 0), found


# source compiled tree -> (target compiled tree -> target position -> source position or -1).
# Trees are immutable, so the alignment of a history year to the planning tree is computed once
# per pair for as long as both trees live: re-running a cascade (another lock, another strategy)
# does not pay for it again. Compiled trees compare and hash by identity.
_ROW_MAPS: weakref.WeakKeyDictionary[
    CompiledTree, weakref.WeakKeyDictionary[CompiledTree, npt.NDArray[np.int64]]
] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()  # guards this module's two caches (engine threads share them)


# id(plan) -> (weak reference to the plan, metric -> (month total in int64, some month has a
# value, some month is negative) on the plan's own tree). Plans are immutable; they hash by
# content, which costs a pass over the grid, so the cache goes by identity and forgets a plan when
# it is collected.
_TotalsEntry = tuple[IntArray, BoolArray, BoolArray]
_TOTALS: dict[int, tuple[weakref.ref[Plan], dict[str, _TotalsEntry]]] = {}


def _forget(key: int, ref: weakref.ref[Plan]) -> None:
    with _CACHE_LOCK:
        entry = _TOTALS.get(key)
        if entry is not None and entry[0] is ref:
            del _TOTALS[key]


def _month_totals(plan: Plan, metric: str) -> _TotalsEntry:
    """Per node of ``plan``: its months' sum, whether any month has a value, any is negative."""
    key = id(plan)
    with _CACHE_LOCK:
        entry = _TOTALS.get(key)
        if entry is not None and entry[0]() is plan and metric in entry[1]:
            return entry[1][metric]
    k = plan.metric_index(metric)
    months = _months(plan)
    missing = plan.origins[k][:, months] == Origin.MISSING
    kept = np.where(missing, 0, plan.values[k][:, months])
    # int64 quanta sum exactly (12 months of at most 2**53 each)
    total: IntArray = kept.sum(axis=1, dtype=np.int64)
    known: BoolArray = np.asarray(~missing.all(axis=1), dtype=np.bool_)
    negative: BoolArray = np.asarray((kept < 0).any(axis=1), dtype=np.bool_)
    found = (total, known, negative)
    for array in found:
        array.flags.writeable = False
    with _CACHE_LOCK:
        entry = _TOTALS.get(key)
        if entry is None or entry[0]() is not plan:
            entry = (weakref.ref(plan, functools.partial(_forget, key)), {})
            _TOTALS[key] = entry
        entry[1][metric] = found
    return found


def _row_map(target: OrgTree, source: OrgTree) -> npt.NDArray[np.int64]:
    """For each compiled position of ``target``, the compiled position in ``source`` (or -1)."""
    target_c, source_c = target.compiled, source.compiled
    with _CACHE_LOCK:
        per_target = _ROW_MAPS.get(source_c)
        cached = None if per_target is None else per_target.get(target_c)
    if cached is not None:
        return cached
    if target is source or target_c.ids == source_c.ids:
        rows = np.arange(len(target), dtype=np.int64)
    elif (
        isinstance(source_c.position, PositionMap)
        and isinstance(target_c.position, PositionMap)
        and not source_c.position.has_rows
    ):
        # the planning tree's id dict (built once per tree, cached there; it serves locks and
        # explain too) looks up the history tree's ids, so no history tree needs a dict of its
        # own (about 75 MB per million nodes)
        found = target_c.positions_of(source_c.ids)
        hit = np.flatnonzero(found >= 0)
        rows = np.full(len(target), -1, dtype=np.int64)
        rows[found[hit]] = hit
    else:
        rows = source_c.positions_of(target_c.ids)
    rows.flags.writeable = False
    with _CACHE_LOCK:
        _ROW_MAPS.setdefault(source_c, weakref.WeakKeyDictionary())[target_c] = rows
    return rows
