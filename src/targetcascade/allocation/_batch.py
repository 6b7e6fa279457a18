"""What a strategy sees: a batch of children (org) or of nodes to phase over months (time).

The engine hands a strategy a whole level at once. An :class:`OrgBatch` holds the children of many
parents, contiguous per parent (CSR segments); a :class:`TimeBatch` holds nodes whose year is to be
phased over the months. Both expose the tree's typed attributes and the history as arrays in the
batch's row order, so strategies stay vectorised and never look nodes up one by one.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade.allocation._history import History, HistoryTotals
from targetcascade.calendar import FiscalCalendar, PeriodLevel
from targetcascade.metric import Metric
from targetcascade.org import OrgTree

__all__ = ["OrgBatch", "TimeBatch"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DateArray = npt.NDArray[np.datetime64]


def _readonly_int(value: npt.ArrayLike) -> IntArray:
    array = np.array(value, dtype=np.int64)
    array.flags.writeable = False
    return array


@attrs.frozen(kw_only=True, eq=False)
class _NodeRows:
    """Shared accessors for batches whose rows are org nodes (``rows``: compiled positions)."""

    tree: OrgTree
    calendar: FiscalCalendar
    metric: Metric
    rows: IntArray = attrs.field(converter=_readonly_int)
    history: History | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """Node id of each row."""
        ids = self.tree.compiled.ids
        return tuple(ids[i] for i in self.rows.tolist())

    @property
    def fte(self) -> FloatArray:
        """Fte of each row, NaN where not given."""
        return self.tree.compiled.fte[self.rows]

    @property
    def start(self) -> DateArray:
        """Start date of each row, NaT where not given."""
        return self.tree.compiled.start[self.rows]

    @property
    def end(self) -> DateArray:
        """End date of each row, NaT where not given."""
        return self.tree.compiled.end[self.rows]

    def attribute(self, name: str) -> FloatArray:
        """The free numeric attribute ``name`` of each row, NaN where not given.

        Args:
            name: Attribute name (e.g. ``"potential"``).

        Returns:
            float64 array of shape (rows,).

        Raises:
            StrategyError: If no node of the tree has the attribute.
        """
        return self.tree.compiled.attribute(name)[self.rows]

    def history_monthly(self, window: int | None = None) -> FloatArray:
        """Each row's monthly history of the batch's metric, oldest month first.

        Args:
            window: Use only the last ``window`` fiscal years (None: all).

        Returns:
            float64 (rows, 12 x years); NaN where the node had no value (absent that year). An empty
            second axis when there is no history.
        """
        if self.history is None:
            return np.zeros((self.rows.size, 0))
        return self.history.window(window).monthly(self.metric, self.tree, self.rows)

    def history_totals(self, window: int | None = None) -> HistoryTotals | None:
        """Each row's history of the batch's metric summed over its months (NaN read as 0).

        The row sums of :meth:`history_monthly`, without building its (rows x months) grid.

        Args:
            window: Use only the last ``window`` fiscal years (None: all).

        Returns:
            The totals, or None when there is no history year at all.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
            ...                  parents=[0], periods=[0], history=History(plans=company.history))
            >>> totals = batch.history_totals()
            >>> bool((totals.total == batch.history_monthly().sum(axis=1)).all())
            True
        """
        if self.history is None or not self.history.plans:
            return None
        return self.history.window(window).totals(self.metric, self.tree, self.rows)

    @property
    def months(self) -> IntArray:
        """Calendar positions of the months, in order."""
        return np.flatnonzero(self.calendar.level_array == PeriodLevel.MONTH).astype(np.int64)

    def month_bounds(self) -> tuple[DateArray, DateArray]:
        """First and last day (inclusive) of each month of the calendar, as datetime64[D]."""
        periods = [self.calendar.periods[i] for i in self.months.tolist()]
        starts = np.array([np.datetime64(p.start, "D") for p in periods])
        ends = np.array([np.datetime64(p.end, "D") for p in periods])
        return starts, ends


@attrs.frozen(kw_only=True, eq=False)
class OrgBatch(_NodeRows):
    """The children of many parents, to be given weights for one or more period columns.

    ``rows`` are the children's compiled positions, grouped by parent: segment ``s`` (the children of
    ``parents[s]``) is ``rows[offsets[s]:offsets[s + 1]]``. ``periods`` are the calendar positions of
    the columns being split (e.g. the 12 months, or the year alone).

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> from targetcascade.allocation._history import History
        >>> company = demo_company()
        >>> c = company.tree.compiled
        >>> root_children = range(int(c.child_offsets[0]), int(c.child_offsets[1]))
        >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar, metric=company.metrics[0],
        ...                  rows=list(root_children), offsets=[0, 4], parents=[0], periods=[0],
        ...                  history=History(plans=company.history))
        >>> batch.ids, batch.segment.tolist()
        (('north', 'east', 'south', 'west'), [0, 0, 0, 0])
    """

    offsets: IntArray = attrs.field(converter=_readonly_int)
    parents: IntArray = attrs.field(converter=_readonly_int)
    periods: IntArray = attrs.field(converter=_readonly_int)

    @property
    def segment(self) -> IntArray:
        """Segment (parent) index of each row."""
        return np.repeat(np.arange(self.parents.size), np.diff(self.offsets))

    @property
    def shape(self) -> tuple[int, int]:
        """The shape every strategy's weights must have: (rows, periods)."""
        return (int(self.rows.size), int(self.periods.size))

    def period_bounds(self) -> tuple[DateArray, DateArray]:
        """First and last day (inclusive) of each period column, as datetime64[D]."""
        periods = [self.calendar.periods[i] for i in self.periods.tolist()]
        starts = np.array([np.datetime64(p.start, "D") for p in periods])
        ends = np.array([np.datetime64(p.end, "D") for p in periods])
        return starts, ends

    def column_months(self) -> list[IntArray]:
        """For each period column, the calendar positions of the months it covers."""
        levels = self.calendar.level_array
        out: list[IntArray] = []
        for p in self.periods.tolist():
            period = self.calendar.periods[p]
            if levels[p] == PeriodLevel.MONTH:
                out.append(np.array([p], dtype=np.int64))
                continue
            months = [
                i
                for i in self.months.tolist()
                if period.start <= self.calendar.periods[i].start <= period.end
            ]
            out.append(np.array(months, dtype=np.int64))
        return out


@attrs.frozen(kw_only=True, eq=False)
class TimeBatch(_NodeRows):
    """Nodes whose targets are to be phased over the months of the year.

    A time strategy returns a profile of shape (rows, 12): the relative weight of each month for each
    node. The engine splits the year into quarters by the quarters' summed month weights, then each
    quarter into its months, exactly.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = TimeBatch(tree=company.tree, calendar=company.calendar,
        ...                   metric=company.metrics[0], rows=[0])
        >>> batch.shape
        (1, 12)
    """

    @property
    def shape(self) -> tuple[int, int]:
        """The shape every time strategy's profile must have: (rows, months)."""
        return (int(self.rows.size), int(self.months.size))

    def working_days(self) -> FloatArray:
        """Working days of each month (weekends and the calendar's holidays excluded)."""
        return self.calendar.working_days_array()[self.months].astype(np.float64)
