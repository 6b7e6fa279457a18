"""History: past years' actuals, aligned by node id to the tree being planned (private module).

History grids live on the tree of their own year (people come and go). Strategies need them on the
planning tree's compiled order, so :class:`History` aligns each past plan by node id once, and caches
the alignment. A node absent from a past year has no history there (NaN), which is not zero.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade.calendar import PeriodLevel
from targetcascade.errors import PlanError
from targetcascade.org import OrgTree
from targetcascade.plan import Plan, PlanKind

__all__ = ["History"]

FloatArray = npt.NDArray[np.float64]


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
    # keyed by id(tree); the tree is kept in the value so a reused id can never match another tree
    _cache: dict[tuple[int, str, int], tuple[OrgTree, FloatArray]] = attrs.field(
        factory=dict, init=False, repr=False
    )

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

    def monthly(self, metric: str, tree: OrgTree) -> FloatArray:
        """Every node's monthly values over the history, aligned to ``tree``.

        Args:
            metric: Metric name (a sum metric of every history plan).
            tree: The planning tree; rows follow ``tree.compiled`` order.

        Returns:
            float64 array of shape (nodes, 12 x years), oldest month first, in quanta of the history
            metric; NaN where the node was absent that year or the cell had no value.

        Raises:
            MetricError: If a history plan lacks the metric.
        """
        columns = [self._aligned(plan, metric, tree) for plan in self.plans]
        if not columns:
            return np.zeros((len(tree), 0))
        return np.concatenate(columns, axis=1)

    def _aligned(self, plan: Plan, metric: str, tree: OrgTree) -> FloatArray:
        key = (id(tree), metric, plan.calendar.fiscal_year)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is tree:
            return cached[1]
        months = np.flatnonzero(plan.calendar.level_array == PeriodLevel.MONTH)
        grid = plan.grid(metric)[:, months].astype(np.float64)
        present = plan.present(metric)[:, months]
        grid[~present] = np.nan
        rows = _row_map(tree, plan.tree)
        out = np.full((len(tree), months.size), np.nan)
        found = rows >= 0
        out[found] = grid[rows[found]]
        out.flags.writeable = False
        self._cache[key] = (tree, out)
        return out

    def __getstate__(self) -> dict[str, Any]:
        return {"plans": self.plans}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "plans", state["plans"])
        object.__setattr__(self, "_cache", {})


def _row_map(target: OrgTree, source: OrgTree) -> npt.NDArray[np.int64]:
    """For each compiled position of ``target``, the compiled position in ``source`` (or -1)."""
    if target is source or target == source:
        return np.arange(len(target), dtype=np.int64)
    source_ids = source.compiled.ids
    target_ids = target.compiled.ids
    if source_ids == target_ids:
        return np.arange(len(target), dtype=np.int64)
    # a plain dict and map() keep the per-node work in C: about 10x faster than a Mapping's .get
    position = dict(zip(source_ids, range(len(source_ids)), strict=True))
    return np.fromiter(
        map(position.get, target_ids, itertools.repeat(-1)),
        dtype=np.int64,
        count=len(target_ids),
    )
