"""Time strategies: how a node's year is phased over its months.

Each strategy is a small frozen value whose fields are its parameters. Its one method,
``profile(batch)``, receives many nodes at once (a
:class:`~targetcascade.allocation._batch.TimeBatch`) and returns float weights of shape
``(nodes, 12)``, one per fiscal month in calendar order (``M01`` is the first month of the fiscal
year). Only the ratios within a row matter; the engine splits the year into quarters by their
summed month weights and each quarter into its months, exactly.

Built-ins:

* :class:`Even` -- every month the same (not proportional to days: a 4-4-5 calendar's five-week
  months get no more than its four-week ones; use :class:`WorkingDays` for that).
* :class:`Seasonal` -- a fixed profile of 12 monthly or 4 quarterly weights.
* :class:`HistoricalSeasonality` -- each node's own monthly share of its past years.
* :class:`WorkingDays` -- proportional to the working days of each month (weekends and the
  calendar's holidays excluded).

Example:
    >>> from targetcascade.synthetic import demo_company
    >>> from targetcascade.allocation._batch import TimeBatch
    >>> company = demo_company()
    >>> batch = TimeBatch(tree=company.tree, calendar=company.calendar,
    ...                   metric=company.metrics[0], rows=[0])
    >>> Seasonal(profile=(1, 1, 1, 2)).profile(batch).round(3).tolist()
    [[0.333, 0.333, 0.333, 0.333, 0.333, 0.333, 0.333, 0.333, 0.333, 0.667, 0.667, 0.667]]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade.allocation._batch import TimeBatch
from targetcascade.allocation._fallbacks import report
from targetcascade.allocation._kernel import as_float_weights, integer_weights, rescaled
from targetcascade.allocation._protocol import TimeStrategy
from targetcascade.allocation._registry import StrategyBase
from targetcascade.errors import StrategyError

__all__ = ["Even", "HistoricalSeasonality", "Seasonal", "WorkingDays"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SHOWN = 5  # nodes named in an error message


def _any_row(mask: BoolArray) -> BoolArray:
    return np.asarray(mask.any(axis=1), dtype=np.bool_)


def _names(ids: tuple[str, ...], mask: BoolArray) -> str:
    found = [ids[i] for i in np.flatnonzero(mask)[:_SHOWN].tolist()]
    more = int(mask.sum()) - len(found)
    text = ", ".join(repr(i) for i in found)
    return f"{text} and {more} more" if more > 0 else text


def checked_profile(strategy: TimeStrategy, batch: TimeBatch, role: str) -> FloatArray:
    """``strategy.profile(batch)``, refused unless float, finite, >= 0 and of ``batch.shape``.

    Args:
        strategy: The part (a fallback).
        batch: The batch.
        role: How the part is named in errors.

    Returns:
        The profile as float64; a row whose largest weight is far from 1 (above ``2**400`` or
        below ``2**-400``) is moved next to 1 by an exact power of two, which keeps its ratios.

    Raises:
        StrategyError: If the profile is not numbers, has the wrong shape, or a NaN, infinite or
            negative value.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = TimeBatch(tree=company.tree, calendar=company.calendar,
        ...                   metric=company.metrics[0], rows=[0])
        >>> checked_profile(Even(), batch, "fallback").shape
        (1, 12)
    """
    profile = as_float_weights(strategy.profile(batch), f"{role} {strategy!r}", "profile")
    if profile.shape != batch.shape:
        msg = (
            f"{role} {strategy!r} returned a profile of shape {profile.shape}, expected "
            f"{batch.shape} (nodes, months)"
        )
        raise StrategyError(
            msg,
            hint="fix the strategy; the conformance suite (check_strategy) shows what it breaks",
        )
    bad = _any_row(~np.isfinite(profile) | (profile < 0))
    if bad.any():
        msg = (
            f"{role} {strategy!r} returned a negative or non-finite month weight for "
            f"{_names(batch.ids, bad)}"
        )
        raise StrategyError(
            msg,
            node=batch.ids[int(np.flatnonzero(bad)[0])],
            hint="fix the strategy; the conformance suite (check_strategy) shows what it breaks",
        )
    # one group per row: its months (a column of the transpose, one segment over all months)
    months = np.array([0, profile.shape[1]], dtype=np.int64)
    return rescaled(profile.T, months).T if profile.shape[1] else profile


# -------------------------------------------------------------------------------------- Even


@attrs.frozen(kw_only=True)
class Even(StrategyBase):
    """Every month of the year carries the same weight.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = TimeBatch(tree=company.tree, calendar=company.calendar,
        ...                   metric=company.metrics[0], rows=[0, 1])
        >>> Even().profile(batch).sum(axis=1).tolist()
        [12.0, 12.0]
    """

    name: ClassVar[str] = "even"
    kind: ClassVar[Literal["time"]] = "time"
    needs_history: ClassVar[bool] = False
    may_return_zero: ClassVar[bool] = False

    def profile(self, batch: TimeBatch) -> FloatArray:
        """Ones of shape ``batch.shape``.

        Args:
            batch: The nodes to phase.

        Returns:
            float64 ``(rows, months)``.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = TimeBatch(tree=company.tree, calendar=company.calendar,
            ...                   metric=company.metrics[0], rows=[0])
            >>> Even().profile(batch)[0, :3].tolist()
            [1.0, 1.0, 1.0]
        """
        return np.ones(batch.shape, dtype=np.float64)


# ---------------------------------------------------------------------------------- Seasonal


def _to_profile(value: Iterable[float]) -> tuple[float, ...]:
    try:
        items = tuple(value)
    except TypeError as exc:
        msg = f"Seasonal: profile={value!r} is not a sequence of weights"
        raise StrategyError(
            msg,
            hint="give 12 monthly weights or 4 quarterly weights, e.g. profile=(2, 3, 3, 4)",
        ) from exc
    out: list[float] = []
    for i, item in enumerate(items):
        ok = not isinstance(item, bool) and isinstance(item, int | float | np.integer | np.floating)
        number = float(item) if ok else math.nan
        if not (math.isfinite(number) and number >= 0):
            msg = f"Seasonal: profile[{i}]={item!r} is not a finite number >= 0"
            raise StrategyError(
                msg,
                hint="weights are relative: 1.2 for a month 20 % above an average one",
            )
        out.append(number)
    return tuple(out)


def _profile_validator(
    instance: object, attribute: attrs.Attribute[Any], value: tuple[float, ...]
) -> None:
    if len(value) not in (4, 12):
        msg = f"Seasonal: profile has {len(value)} weights"
        raise StrategyError(
            msg,
            hint="give 12 monthly weights (fiscal M01..M12) or 4 quarterly weights",
        )
    if sum(value) <= 0:
        msg = f"Seasonal: profile={value!r} is all zero"
        raise StrategyError(
            msg,
            hint="give at least one month a positive weight",
        )


@attrs.frozen(kw_only=True, repr=False)
class Seasonal(StrategyBase):
    """A fixed seasonal profile, the same for every node.

    Give 12 weights, one per fiscal month ``M01..M12``, or 4, one per quarter, each spread evenly
    over its three months. Weights are relative.

    Args:
        profile: 12 or 4 finite weights >= 0, not all zero (stored as :attr:`profile_weights`,
            since ``profile`` is the method every time strategy has).

    Raises:
        StrategyError: Another length, a negative or non-finite weight, or all zeros.

    Example:
        >>> Seasonal(profile=(3, 3, 3, 3)) == Seasonal(profile=(3.0,) * 4)
        True
        >>> Seasonal(profile=(1, 2, 3))
        Traceback (most recent call last):
        ...
        targetcascade.errors.StrategyError: Seasonal: profile has 3 weights; ...
    """

    name: ClassVar[str] = "seasonal"
    kind: ClassVar[Literal["time"]] = "time"
    needs_history: ClassVar[bool] = False
    may_return_zero: ClassVar[bool] = False

    profile_weights: tuple[float, ...] = attrs.field(
        alias="profile", converter=_to_profile, validator=_profile_validator
    )

    def __repr__(self) -> str:
        return f"Seasonal(profile={self.profile_weights!r})"

    @classmethod
    def example(cls) -> Seasonal:
        """A quarterly profile with a strong fourth quarter.

        Example:
            >>> Seasonal.example().monthly()[-3:]   # 0.9 spread over the fourth quarter's months
            (0.3, 0.3, 0.3)
        """
        return cls(profile=(0.6, 0.75, 0.75, 0.9))

    def monthly(self) -> tuple[float, ...]:
        """The 12 monthly weights (a quarterly profile spread evenly within its quarters).

        Returns:
            12 weights.

        Example:
            >>> Seasonal(profile=(3, 0, 0, 6)).monthly()
            (1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0)
        """
        if len(self.profile_weights) == 12:
            return self.profile_weights
        return tuple(q / 3 for q in self.profile_weights for _ in range(3))

    def profile(self, batch: TimeBatch) -> FloatArray:
        """The monthly weights, one row per node.

        Args:
            batch: The nodes to phase.

        Returns:
            float64 ``(rows, months)``.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = TimeBatch(tree=company.tree, calendar=company.calendar,
            ...                   metric=company.metrics[0], rows=[0, 5])
            >>> Seasonal(profile=(3, 0, 0, 6)).profile(batch)[:, 9].tolist()
            [2.0, 2.0]
        """
        row = np.asarray(self.monthly(), dtype=np.float64)
        return np.repeat(row[None, :], batch.rows.size, axis=0)


# --------------------------------------------------------------------- HistoricalSeasonality


def _window_validator(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{type(instance).__name__}: window={value!r} is not a positive number of years"
        raise StrategyError(
            msg,
            hint="give window=None to use every history year, or e.g. window=2 for the last two",
        )


def _fallback_validator(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:  # no fallback: a node without usable history is an error
        return
    if not isinstance(value, TimeStrategy) or isinstance(value, type):
        msg = f"{type(instance).__name__}: fallback={value!r} is not a time strategy"
        raise StrategyError(
            msg,
            hint="give a time strategy instance, e.g. fallback=Even() or WorkingDays()",
        )


@attrs.frozen(kw_only=True)
class HistoricalSeasonality(StrategyBase):
    """Each node's own seasonality: its share of the year in each month, from its history.

    ``w_m = sum_years y_m / sum_years sum_months y`` over the last ``window`` history years (a
    month the node was absent, NaN, counts as 0). A node with no history (every month NaN) or
    whose history sums to zero takes the ``fallback`` profile. The weights returned are the month
    totals in whole quanta (``sum_years y_m``): only ratios within a row matter, and integers
    reach the kernel exactly, so a node phases exactly as under ``Seasonal`` with those integers.

    Args:
        window: Use only the last ``window`` history years (None: all).
        fallback: Time strategy for nodes without history; None makes a node without usable
            history (none, or all zero) an error naming every such node.

    Raises:
        StrategyError: A bad window or fallback.

    Example:
        >>> HistoricalSeasonality(window=2).to_dict()
        {'strategy': 'historical_seasonality', 'window': 2, 'fallback': {'strategy': 'even'}}
    """

    name: ClassVar[str] = "historical_seasonality"
    kind: ClassVar[Literal["time"]] = "time"
    needs_history: ClassVar[bool] = True
    may_return_zero: ClassVar[bool] = False

    window: int | None = attrs.field(default=None, validator=_window_validator)
    fallback: TimeStrategy | None = attrs.field(factory=Even, validator=_fallback_validator)

    def profile(self, batch: TimeBatch) -> FloatArray:
        """Each node's monthly shares of its history years; the fallback where it has none.

        Args:
            batch: The nodes to phase; ``batch.history`` holds the past years.

        Returns:
            float64 ``(rows, months)``: a node's month totals in quanta (its fallback's profile
            where it has no usable history).

        Raises:
            StrategyError: A node's summed history of some month is negative (naming it), the
                fallback returns an all-zero profile for a node that needs it, or there is no
                fallback and some nodes have no usable history (naming every one of them).

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> from targetcascade.allocation._history import History
            >>> company = demo_company()
            >>> batch = TimeBatch(tree=company.tree, calendar=company.calendar,
            ...                   metric=company.metrics[0], rows=[0],
            ...                   history=History(plans=company.history))
            >>> months = HistoricalSeasonality().profile(batch)[0]
            >>> whole = History(plans=company.history).totals("revenue", company.tree, [0]).total
            >>> bool(months.sum() == whole[0]), bool(months[11] > 2 * months[0])  # a big December
            (True, True)
        """
        history = batch.history_monthly(self.window)
        n_rows, n_months = batch.shape
        years = history.shape[1] // n_months if n_months else 0
        if years == 0:
            totals = np.zeros(batch.shape)
            known = np.zeros(n_rows, dtype=bool)
        else:
            known = ~np.asarray(np.isnan(history).all(axis=1), dtype=np.bool_)
            # whole quanta, summed exactly in int64 (a float sum over years is not exact)
            by_year = np.nan_to_num(history, nan=0.0).astype(np.int64)
            totals = by_year.reshape(n_rows, years, n_months).sum(axis=1)
        negative = _any_row(totals < 0)
        if negative.any():
            msg = (
                f"historical_seasonality: history of {batch.metric.name!r} sums to a negative "
                f"month for {_names(batch.ids, negative)}"
            )
            raise StrategyError(
                msg,
                node=batch.ids[int(np.flatnonzero(negative)[0])],
                metric=batch.metric.name,
                hint="seasonal shares need non-negative history; use Seasonal or Even instead",
            )
        year_total = totals.sum(axis=1)
        usable = known & (year_total > 0)
        # Each node's month totals themselves, not their shares of its year: a row is phased on
        # its own, so the year is a common denominator that does not change the split, and
        # integers reach the kernel exactly (the same months as Seasonal with those integers).
        month_rows = np.arange(0, n_rows * n_months + 1, max(n_months, 1), dtype=np.int64)
        exact = integer_weights(np.where(usable[:, None], totals, 0).reshape(-1), month_rows)
        shares = exact.reshape(n_rows, n_months)
        if usable.all():
            return shares
        if self.fallback is None:
            unusable = np.flatnonzero(~usable)
            names = ", ".join(repr(batch.ids[i]) for i in unusable.tolist())
            msg = (
                f"historical_seasonality (fallback=None): no usable history of "
                f"{batch.metric.name!r} (none, or all zero) for {names}"
            )
            raise StrategyError(
                msg,
                node=batch.ids[int(unusable[0])],
                metric=batch.metric.name,
                hint="give them history, or declare a fallback, e.g. fallback=Even()",
            )
        # the nodes taking the fallback, for Plan.fallbacks (a no-op outside an engine run)
        report(batch.rows[~known], "no history", self.name)
        report(batch.rows[known & ~usable], "zero base", self.name)
        fallback = checked_profile(self.fallback, batch, "fallback of historical_seasonality")
        fallback_total = fallback.sum(axis=1)
        empty = ~usable & (fallback_total <= 0)
        if empty.any():
            msg = (
                f"historical_seasonality: {_names(batch.ids, empty)} have no history and the "
                f"fallback {self.fallback!r} gives them an all-zero year"
            )
            raise StrategyError(
                msg,
                node=batch.ids[int(np.flatnonzero(empty)[0])],
                hint="declare a fallback that gives every node some month, e.g. Even()",
            )
        return np.where(usable[:, None], shares, fallback)


# ------------------------------------------------------------------------------- WorkingDays


@attrs.frozen(kw_only=True)
class WorkingDays(StrategyBase):
    """Weights proportional to each month's working days (the calendar's weekend and holidays).

    Example:
        >>> import datetime as dt
        >>> from targetcascade import FiscalCalendar, Metric, OrgTree
        >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
        >>> cal = FiscalCalendar(fiscal_year=2027, holidays=[dt.date(2027, 1, 1)])
        >>> batch = TimeBatch(tree=tree, calendar=cal, metric=Metric(name="deals", unit="deal"),
        ...                   rows=[0])
        >>> WorkingDays().profile(batch)[0, :3].tolist()   # 21 weekdays in January less New Year
        [20.0, 20.0, 23.0]
    """

    name: ClassVar[str] = "working_days"
    kind: ClassVar[Literal["time"]] = "time"
    needs_history: ClassVar[bool] = False
    may_return_zero: ClassVar[bool] = False

    def profile(self, batch: TimeBatch) -> FloatArray:
        """The working days of each month, one row per node.

        Args:
            batch: The nodes to phase.

        Returns:
            float64 ``(rows, months)``.

        Raises:
            StrategyError: The calendar's year has no working day at all.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = TimeBatch(tree=company.tree, calendar=company.calendar,
            ...                   metric=company.metrics[0], rows=[0])
            >>> int(WorkingDays().profile(batch).sum())   # weekdays of 2027
            261
        """
        days = batch.working_days()
        if days.sum() <= 0:
            msg = f"working_days: {batch.calendar.label} has no working day"
            raise StrategyError(
                msg,
                hint="check the calendar's weekend and holidays, or phase with Even()",
            )
        return np.repeat(days[None, :], batch.rows.size, axis=0)
