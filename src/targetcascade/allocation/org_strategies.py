"""Org strategies: how a parent's value is shared among its children.

Each strategy is a small frozen value whose fields are its parameters. Its one method,
``weights(batch)``, receives the children of many parents at once (an
:class:`~targetcascade.allocation._batch.OrgBatch`, children of a parent contiguous) and returns
float weights of shape ``(children, periods)``; the kernel turns them into exact integers. Weights
are relative within a parent's segment and column: only their ratios matter.

Built-ins:

* :class:`Equal` -- every child the same.
* :class:`Proportional` -- to a node attribute (``potential``) or an explicit ``id -> weight`` map.
* :class:`CapacityWeighted` -- fte x ramp-up x active share of the period, summed over the people
  below an inner node.
* :class:`ProportionOfAverages` and :class:`AverageOfProportions` -- the historical share of each
  child, the two top-down formulas of Gross & Sohl (1990), "Disaggregation methods to expedite
  product line forecasting", *Journal of Forecasting* 9(3), 233-254 (as presented in Hyndman &
  Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., section 11.2).
* :class:`Blend` -- a weighted mix of other strategies.

Null is not zero. A child without a base (no attribute value, no history) takes its weight from a
declared ``fallback`` strategy by one rule, shared by every strategy here (*fallback mixing*): in
each parent segment and column, normalise the fallback's weights to shares ``f``; the children
without a base keep their share ``f_c``; the children with a base share the rest,
``1 - sum(f of those without)``, in proportion to their base. A segment whose base sums to zero
(or where no child has one) takes the fallback shares outright. Without a fallback, a missing base
is a :class:`StrategyError` naming the node.

Example:
    >>> import numpy as np
    >>> from targetcascade.synthetic import demo_company
    >>> from targetcascade.allocation._batch import OrgBatch
    >>> company = demo_company()
    >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar, metric=company.metrics[0],
    ...                  rows=[1, 2, 3, 4], offsets=[0, 4], parents=[0], periods=[0])
    >>> batch.ids
    ('north', 'east', 'south', 'west')
    >>> Equal().weights(batch).ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> weights = Proportional(attribute="potential").weights(batch).ravel()
    >>> weights.tolist() == [company.tree.node(n).attributes["potential"] for n in batch.ids]
    True
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade.allocation._batch import OrgBatch
from targetcascade.allocation._fallbacks import report
from targetcascade.allocation._kernel import as_float_weights, integer_weights, rescaled
from targetcascade.allocation._protocol import OrgStrategy
from targetcascade.allocation._registry import StrategyBase
from targetcascade.errors import InvalidAttributeError, StrategyError

__all__ = [
    "AverageOfProportions",
    "Blend",
    "CapacityWeighted",
    "Equal",
    "HistoricalShare",
    "ProportionOfAverages",
    "Proportional",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_SHOWN = 5  # nodes named in an error message
_FAR = 2**40  # days: a sentinel beyond any date, for missing start and end dates


# ------------------------------------------------------------------------------------- helpers


def segment_sum(values: FloatArray, offsets: IntArray) -> FloatArray:
    """Sum rows per CSR segment: ``out[s] = values[offsets[s]:offsets[s + 1]].sum(axis=0)``.

    Empty segments sum to zero.

    Args:
        values: Array of shape ``(rows, ...)``.
        offsets: CSR offsets, ``offsets[-1] == rows``.

    Returns:
        Array of shape ``(segments, ...)``.

    Example:
        >>> segment_sum(np.array([1.0, 2.0, 4.0]), np.array([0, 2, 2, 3])).tolist()
        [3.0, 0.0, 4.0]
    """
    starts = offsets[:-1]
    out = np.zeros((starts.size, *values.shape[1:]), dtype=np.float64)
    nonempty = np.diff(offsets) > 0
    if nonempty.any():
        # reduceat over the starts of non-empty segments: each sums up to the next such start,
        # which is where the segment ends (empty segments in between start there too)
        out[nonempty] = np.add.reduceat(values, starts[nonempty], axis=0)
    return out


def _any_row(mask: BoolArray) -> BoolArray:
    return np.asarray(mask.any(axis=1), dtype=np.bool_)


def _names(ids: tuple[str, ...], mask: BoolArray) -> str:
    found = [ids[i] for i in np.flatnonzero(mask)[:_SHOWN].tolist()]
    more = int(mask.sum()) - len(found)
    text = ", ".join(repr(i) for i in found)
    return f"{text} and {more} more" if more > 0 else text


def _first(ids: tuple[str, ...], mask: BoolArray) -> str:
    return ids[int(np.flatnonzero(mask)[0])]


def _period_label(batch: OrgBatch, column: int) -> str:
    return batch.calendar.periods[int(batch.periods[column])].label


def checked_weights(strategy: OrgStrategy, batch: OrgBatch, role: str) -> FloatArray:
    """``strategy.weights(batch)``, refused unless float, finite, >= 0 and of ``batch.shape``.

    Composite strategies call their parts through this, so a broken part is named.

    Args:
        strategy: The part (a fallback, a blend part).
        batch: The batch.
        role: How the part is named in errors (``"fallback of proportional"``).

    Returns:
        The weights as float64; a segment column whose largest weight is far from 1 (above
        ``2**400`` or below ``2**-400``) is moved next to 1 by an exact power of two, which keeps
        its ratios (see :func:`~targetcascade.allocation._kernel.rescaled`).

    Raises:
        StrategyError: If the weights are not numbers (strings, objects), have the wrong shape,
            or have a NaN, infinite or negative value.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
        ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2], parents=[0],
        ...                  periods=[0])
        >>> checked_weights(Equal(), batch, "fallback").tolist()
        [[1.0], [1.0]]
    """
    weights = as_float_weights(strategy.weights(batch), f"{role} {strategy!r}", "weights")
    if weights.shape != batch.shape:
        msg = (
            f"{role} {strategy!r} returned weights of shape {weights.shape}, expected "
            f"{batch.shape} (children, periods)"
        )
        raise StrategyError(
            msg,
            hint="fix the strategy; the conformance suite (check_strategy) shows what it breaks",
        )
    if weights.size and not (np.isfinite(weights).all() and weights.min() >= 0):
        bad = ~np.isfinite(weights) | (weights < 0)
        rows = _any_row(bad)
        node = _first(batch.ids, rows)
        msg = (
            f"{role} {strategy!r} returned a negative or non-finite weight for "
            f"{_names(batch.ids, rows)}"
        )
        raise StrategyError(
            msg,
            node=node,
            hint="fix the strategy; the conformance suite (check_strategy) shows what it breaks",
        )
    return rescaled(weights, batch.offsets)


def mix_fallback(
    batch: OrgBatch,
    base: FloatArray,
    known: BoolArray,
    fallback: OrgStrategy,
    owner: str,
    *,
    missing: str = "no value",
) -> FloatArray:
    """Fallback mixing: children without a base keep their fallback share, the rest share the rest.

    Per segment and column, with fallback shares ``f`` (the fallback's weights normalised; all zero
    when the fallback's segment column sums to zero) and ``B`` the sum of the known children's base:

    * a child without a base gets ``f_c``;
    * a child with a base gets ``(1 - F) * base_c / B`` where ``F`` is the fallback share of the
      children without a base;
    * if ``B == 0`` (no child has a base, or every base is zero) every child gets ``f_c``.

    The fallback is evaluated only when some segment column needs it.

    Args:
        batch: The batch.
        base: Non-negative finite weights ``(rows, periods)``; ignored where ``known`` is false.
        known: Which rows have a base.
        fallback: The declared fallback strategy.
        owner: The mixing strategy's name, for errors and for the fallback report.
        missing: Why a row without a base has none, as the engine reports it
            (:attr:`~targetcascade.plan.Plan.fallbacks`): ``"no value"`` or ``"no history"``.

    Returns:
        The mixed weights, only their ratios within a segment column counting: the fallback's
        own weights where it applies outright; whole numbers (the mix times ``B`` times the
        fallback's sum) where bases and fallback weights are whole, so the kernel reads them
        exactly; else shares summing to 1.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
        ...                  metric=company.metrics[0], rows=[1, 2, 3, 4], offsets=[0, 4],
        ...                  parents=[0], periods=[0])
        >>> base = np.array([[3.0], [1.0], [0.0], [0.0]])   # south and west have no base
        >>> known = np.array([True, True, False, False])
        >>> mix_fallback(batch, base, known, Equal(), "demo").ravel().tolist()   # 3/8, 1/8, 2/8, 2/8
        [6.0, 2.0, 4.0, 4.0]
    """
    counts = np.diff(batch.offsets)
    base = np.where(known[:, None], base, 0.0)
    base_sum = segment_sum(base, batch.offsets)
    use_fallback = base_sum <= 0
    if known.all() and not use_fallback.any():
        return base
    # the members taking the fallback, for Plan.fallbacks (a no-op outside an engine run)
    report(batch.rows[~known], missing, owner)
    outright = np.repeat(np.asarray(use_fallback.any(axis=1), dtype=np.bool_), counts)
    report(batch.rows[known & outright], "zero base", owner)
    f = checked_weights(fallback, batch, f"fallback of {owner}")
    # segment sums are spread to the rows by repeat (cheaper than gathering by segment id); a
    # value is divided by its own segment's sum, never multiplied by a reciprocal, which would
    # overflow for subnormal sums
    f_sum = np.repeat(segment_sum(f, batch.offsets), counts, axis=0)
    shares = np.divide(f, f_sum, out=np.zeros_like(f), where=f_sum > 0)
    f_unknown = segment_sum(np.where(known[:, None], 0.0, shares), batch.offsets)
    rest = np.repeat(np.clip(1.0 - f_unknown, 0.0, 1.0), counts, axis=0)  # clip: float error
    spread_sum = np.repeat(base_sum, counts, axis=0)
    own = np.divide(base, spread_sum, out=np.zeros_like(base), where=spread_sum > 0)
    mixed: FloatArray = np.where(known[:, None], rest * own, shares)
    # The same mix times B x F (F the segment's fallback sum) is base_c x (F - F_without) for a
    # child with a base and f_c x B for one without. Where bases and fallback weights are whole
    # numbers (history in quanta, Equal's ones) and B x F stays within 2**53, these are whole
    # numbers the kernel reads exactly, where the shares (thirds and the like) are not: ties are
    # then decided by the documented rule, not by float error.
    # (binary fractions, a quarter of capacity, are first made whole by a power of two: exact)
    whole_base, base_fits = _whole_per_segment(base, batch.offsets)
    whole_f, f_fits = _whole_per_segment(f, batch.offsets)
    whole_base_sum = segment_sum(whole_base, batch.offsets)
    raw_sum = segment_sum(whole_f, batch.offsets)
    without = segment_sum(np.where(known[:, None], 0.0, whole_f), batch.offsets)
    whole = base_fits & f_fits & (whole_base_sum * raw_sum <= float(2**53)) & (raw_sum > 0)
    if whole.any():
        scaled = np.where(
            known[:, None],
            whole_base * np.repeat(raw_sum - without, counts, axis=0),
            whole_f * np.repeat(whole_base_sum, counts, axis=0),
        )
        mixed = np.where(np.repeat(whole, counts, axis=0), scaled, mixed)
    if use_fallback.any():
        # the fallback outright: its own weights (only their ratios count), exact as given
        mixed = np.where(np.repeat(use_fallback, counts, axis=0), f, mixed)
    return mixed


def _fallback_validator(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None and attribute.default is None:
        return
    if not isinstance(value, OrgStrategy) or isinstance(value, type):
        msg = f"{type(instance).__name__}: {attribute.name}={value!r} is not an org strategy"
        raise StrategyError(
            msg,
            hint="give an org strategy instance, e.g. fallback=Equal() or CapacityWeighted()",
        )


def _optional_fallback(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _fallback_validator(instance, attribute, value)


def _window_validator(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{type(instance).__name__}: window={value!r} is not a positive number of years"
        raise StrategyError(
            msg,
            hint="give window=None to use every history year, or e.g. window=2 for the last two",
        )


# ------------------------------------------------------------------------------------- Equal


@attrs.frozen(kw_only=True)
class Equal(StrategyBase):
    """Every child of a parent gets the same weight.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
        ...                  metric=company.metrics[0], rows=[1, 2, 3], offsets=[0, 1, 3],
        ...                  parents=[0, 0], periods=[0, 1])
        >>> Equal().weights(batch).tolist()
        [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    """

    name: ClassVar[str] = "equal"
    kind: ClassVar[Literal["org"]] = "org"
    same_every_period: ClassVar[bool] = True
    needs_history: ClassVar[bool] = False
    may_return_zero: ClassVar[bool] = False

    def weights(self, batch: OrgBatch) -> FloatArray:
        """Ones of shape ``batch.shape``.

        Args:
            batch: The children to weigh.

        Returns:
            float64 ``(rows, periods)``.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[1], offsets=[0, 1],
            ...                  parents=[0], periods=[0])
            >>> Equal().weights(batch)
            array([[1.]])
        """
        return np.ones(batch.shape, dtype=np.float64)


# ------------------------------------------------------------------------------ Proportional


def _to_values(
    value: Mapping[str, float] | Iterable[tuple[str, float]] | None,
) -> tuple[tuple[str, float], ...] | None:
    if value is None:
        return None
    items: Iterable[Any] = value.items() if isinstance(value, Mapping) else value
    pairs: list[tuple[Any, Any]] = []
    try:
        for item in items:
            node, weight = item
            pairs.append((node, weight))
    except (TypeError, ValueError) as exc:
        msg = f"Proportional: values={value!r} is not a mapping of node id to weight"
        raise StrategyError(
            msg,
            hint='give values={"ann": 2.0, "bob": 1.0}',
        ) from exc
    out: dict[str, float] = {}
    for node, weight in pairs:
        if not isinstance(node, str) or not node:
            msg = f"Proportional: values has key {node!r}, not a node id"
            raise StrategyError(
                msg,
                hint="key the mapping by node id strings",
            )
        if node in out:
            msg = f"Proportional: values gives node {node!r} twice"
            raise StrategyError(msg, node=node)
        if isinstance(weight, bool) or not isinstance(
            weight, int | float | np.integer | np.floating
        ):
            msg = f"Proportional: values[{node!r}]={weight!r} is not a number"
            raise StrategyError(
                msg,
                node=node,
                hint="give each weight as a finite number >= 0",
            )
        number = float(weight)
        if not math.isfinite(number) or number < 0:
            msg = f"Proportional: values[{node!r}]={weight!r} is not a finite number >= 0"
            raise StrategyError(
                msg,
                node=node,
                hint="give each weight as a finite number >= 0; leave a node out for 'no value'",
            )
        out[node] = number
    return tuple(sorted(out.items()))


def _attribute_validator(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        msg = f"Proportional: attribute={value!r} is not an attribute name"
        raise StrategyError(
            msg,
            hint="name a numeric node attribute, e.g. attribute='potential', or 'fte'",
        )


@attrs.frozen(kw_only=True)
class Proportional(StrategyBase):
    """Weights proportional to a node attribute or to explicit per-node weights.

    Give exactly one of ``attribute`` (a free numeric attribute of the tree such as
    ``"potential"``, or ``"fte"``) and ``values`` (a mapping node id -> weight; stored as sorted
    ``(id, weight)`` pairs). A child without a value (attribute not given, id not in ``values``)
    is an error naming it, unless a ``fallback`` is declared: then it takes its fallback share by
    the module's *fallback mixing* rule. A segment whose values sum to zero takes the fallback
    outright; without a fallback it gets zero weights (``may_return_zero``), which the kernel
    refuses under a non-zero parent.

    Args:
        attribute: Name of the node attribute to weigh by.
        values: Explicit weights by node id, each a finite number >= 0.
        fallback: Org strategy for children without a value.

    Raises:
        StrategyError: Both or neither of ``attribute`` and ``values``; a bad name or weight.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
        ...                  metric=company.metrics[0], rows=[1, 2, 3, 4], offsets=[0, 4],
        ...                  parents=[0], periods=[0])
        >>> by_id = {"north": 3, "east": 1, "south": 0, "west": 1}
        >>> Proportional(values=by_id).weights(batch).ravel()
        array([3., 1., 0., 1.])
        >>> Proportional(values={"north": 3}).weights(batch)
        Traceback (most recent call last):
        ...
        targetcascade.errors.StrategyError: 'east', 'south', 'west' of parent 'acme' have no ...
    """

    name: ClassVar[str] = "proportional"
    kind: ClassVar[Literal["org"]] = "org"
    same_every_period: ClassVar[bool] = True
    needs_history: ClassVar[bool] = False
    may_return_zero: ClassVar[bool] = True

    attribute: str | None = attrs.field(default=None, validator=_attribute_validator)
    values: tuple[tuple[str, float], ...] | None = attrs.field(default=None, converter=_to_values)
    fallback: OrgStrategy | None = attrs.field(default=None, validator=_fallback_validator)

    def __attrs_post_init__(self) -> None:
        if (self.attribute is None) == (self.values is None):
            given = "both" if self.attribute is not None else "neither"
            msg = f"Proportional needs exactly one of attribute= and values=, got {given}"
            raise StrategyError(
                msg,
                hint="weigh by attribute='potential' or by values={'ann': 2.0, 'bob': 1.0}",
            )

    @classmethod
    def example(cls) -> Proportional:
        """Proportional to ``potential``, equal shares for children without one.

        Example:
            >>> Proportional.example()
            Proportional(attribute='potential', values=None, fallback=Equal())
        """
        return cls(attribute="potential", fallback=Equal())

    def _base(self, batch: OrgBatch) -> tuple[FloatArray, str]:
        if self.values is not None:
            compiled = batch.tree.compiled
            by_position = np.full(len(compiled), np.nan)
            for node, weight in self.values:  # once per given weight, not per row
                position = compiled.position.get(node)
                if position is not None:
                    by_position[position] = weight
            return by_position[batch.rows], "values="
        assert self.attribute is not None
        if self.attribute == "fte":
            return batch.fte, "fte"
        try:
            return batch.attribute(self.attribute), f"attribute {self.attribute!r}"
        except InvalidAttributeError as exc:
            msg = f"Proportional: {exc.problem}"
            raise StrategyError(
                msg,
                hint=exc.hint,
            ) from exc

    def weights(self, batch: OrgBatch) -> FloatArray:
        """Each child's value, the same in every column; fallback mixing where values are missing.

        Args:
            batch: The children to weigh.

        Returns:
            float64 ``(rows, periods)``.

        Raises:
            StrategyError: A child has no value and no fallback is declared (naming the child).

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
            ...                  parents=[0], periods=[0])
            >>> Proportional(values={"north": 3.0}, fallback=Equal()).weights(batch).ravel()
            array([3., 3.])
        """
        base, what = self._base(batch)
        known = ~np.isnan(base)
        if self.fallback is None and not known.all():
            missing = ~known
            first = int(np.flatnonzero(missing)[0])
            parent = batch.tree.compiled.ids[int(batch.parents[batch.segment[first]])]
            msg = (
                f"{_names(batch.ids, missing)} of parent {parent!r} "
                f"{'has' if missing.sum() == 1 else 'have'} no value in {what}"
            )
            raise StrategyError(
                msg,
                node=batch.ids[first],
                hint="give every child a value, or declare a fallback, e.g. fallback=Equal()",
            )
        grid = np.repeat(np.where(known, base, 0.0)[:, None], batch.shape[1], axis=1)
        if self.fallback is None:
            return grid
        return mix_fallback(batch, grid, known, self.fallback, self.name)


# ---------------------------------------------------------------------------- CapacityWeighted


def _to_ramp(value: Iterable[float]) -> tuple[float, ...]:
    try:
        items = tuple(value)
    except TypeError as exc:
        msg = f"CapacityWeighted: ramp={value!r} is not a sequence of monthly fractions"
        raise StrategyError(
            msg,
            hint="give e.g. ramp=(0.25, 0.5, 0.75, 1.0), or ramp=() for no ramp-up",
        ) from exc
    out: list[float] = []
    for i, item in enumerate(items):
        ok = not isinstance(item, bool) and isinstance(item, int | float | np.integer | np.floating)
        number = float(item) if ok else math.nan
        if not 0.0 <= number <= 1.0:  # also false for NaN
            msg = f"CapacityWeighted: ramp[{i}]={item!r} is not a fraction between 0 and 1"
            raise StrategyError(
                msg,
                hint="ramp values are the share of full productivity in each month of tenure",
            )
        out.append(number)
    return tuple(out)


@attrs.frozen(kw_only=True)
class CapacityWeighted(StrategyBase):
    """Weights by selling capacity: fte x ramp-up x the active share of each period.

    For a person (a leaf) and a month of the planning calendar:

    * ``fte``: the node's fte; a person without one counts as 1.0 (one full-time person);
    * ``ramp``: ``ramp[k]`` in the ``k``-th month of tenure (``k = 0`` is the month of the start
      date; months are counted as calendar months between the start date and the first active day
      of the period), 1.0 once the ramp is over and for people without a start date;
    * active share: the calendar days of the month between the start and end dates (inclusive)
      divided by the days of the month; 0 before the start and after the end.

    A column longer than a month (a quarter, the year) takes the mean of its months. An inner node
    (a team, a region) has the summed capacity of the people below it; its own fte and dates are
    not used. A segment whose people are all absent gets zero weights (``may_return_zero``): the
    kernel then refuses a non-zero parent value there.

    Args:
        ramp: Productivity by month of tenure, each in [0, 1]; ``()`` for no ramp-up.

    Raises:
        StrategyError: A ramp value outside [0, 1] or not a number.

    Example:
        A rep with fte 1.0 hired on 1 July 2027 carries nothing before July, then 25 %, 50 %,
        75 % and 100 % of a full share:

        >>> from targetcascade import FiscalCalendar, Metric, OrgTree
        >>> tree = OrgTree.from_records([
        ...     {"id": "acme", "level": "company"},
        ...     {"id": "east", "parent": "acme", "level": "region"},
        ...     {"id": "t", "parent": "east", "level": "team"},
        ...     {"id": "ann", "parent": "t", "level": "individual", "fte": 1.0,
        ...      "start_date": "2027-07-01"}])
        >>> cal = FiscalCalendar(fiscal_year=2027)
        >>> months = [cal.index(f"FY2027-M{m:02d}") for m in range(1, 13)]
        >>> batch = OrgBatch(tree=tree, calendar=cal, metric=Metric(name="deals", unit="deal"),
        ...                  rows=[3], offsets=[0, 1], parents=[2], periods=months)
        >>> CapacityWeighted().weights(batch).ravel().tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """

    name: ClassVar[str] = "capacity_weighted"
    kind: ClassVar[Literal["org"]] = "org"
    needs_history: ClassVar[bool] = False
    may_return_zero: ClassVar[bool] = True

    ramp: tuple[float, ...] = attrs.field(default=(0.25, 0.5, 0.75, 1.0), converter=_to_ramp)

    def monthly(self, batch: OrgBatch) -> FloatArray:
        """Each row's capacity in each month of the calendar, shape ``(rows, 12)``.

        Args:
            batch: The rows (their period columns are ignored).

        Returns:
            float64 ``(rows, months)``.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> c = company.tree.compiled
            >>> team = c.index("north-2")   # six people, one leaving at the end of June
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[team], offsets=[0, 1],
            ...                  parents=[c.parent[team]], periods=[0])
            >>> CapacityWeighted().monthly(batch)[0, [5, 6]].tolist()
            [6.0, 5.0]
        """
        compiled = batch.tree.compiled
        n_rows = batch.rows.size
        # Walk down from the rows to their leaves, one vectorised step per depth, remembering
        # which row each node belongs to (children of a node are contiguous in compiled order).
        nodes = batch.rows
        owner = np.arange(n_rows, dtype=np.int64)
        leaf_parts: list[IntArray] = []
        owner_parts: list[IntArray] = []
        while nodes.size:
            leaf = compiled.is_leaf[nodes]
            leaf_parts.append(nodes[leaf])
            owner_parts.append(owner[leaf])
            inner = nodes[~leaf]
            lo = compiled.child_offsets[inner]
            counts = compiled.child_offsets[inner + 1] - lo
            shift = np.repeat(lo - (np.cumsum(counts) - counts), counts)
            nodes = shift + np.arange(int(counts.sum()), dtype=np.int64)
            owner = np.repeat(owner[~leaf], counts)
        leaves = np.concatenate(leaf_parts)
        owners = np.concatenate(owner_parts)
        per_leaf = self._leaf_capacity(batch, leaves)
        if len(leaf_parts) == 1 and leaves.size == n_rows:
            return per_leaf  # the rows are the people themselves, in order: nothing to add up
        out = np.zeros((n_rows, per_leaf.shape[1]), dtype=np.float64)
        for m in range(per_leaf.shape[1]):  # a dozen months
            out[:, m] = np.bincount(owners, weights=per_leaf[:, m], minlength=n_rows)
        return out

    def _leaf_capacity(self, batch: OrgBatch, leaves: IntArray) -> FloatArray:
        compiled = batch.tree.compiled
        fte = np.nan_to_num(compiled.fte[leaves], nan=1.0)
        month_start, month_end = batch.month_bounds()
        if month_start.size == 0:
            return self._dated_capacity(batch, leaves)
        # Most people are there all year, past their ramp: fte x 1 x 1 in every month, exactly
        # what the formula gives them. Only the others need the (people x months) arithmetic.
        start, end = compiled.start[leaves], compiled.end[leaves]
        year_first, year_last = month_start[0], month_end[-1]
        whole = (np.isnat(start) | (start <= year_first)) & (np.isnat(end) | (end >= year_last))
        if self.ramp:
            # start month <= the year's first month - len(ramp), i.e. a start before the first
            # day of the month after that (one day-comparison: converting a million dates to
            # months costs more than the rest of this function)
            last_month = year_first.astype("datetime64[M]") - np.timedelta64(len(self.ramp), "M")
            ramped = start < (last_month + np.timedelta64(1, "M")).astype("datetime64[D]")
            whole &= np.isnat(start) | ((start < year_first) & ramped)
        # month-major (Fortran order): the carried split reads one month's column at a time
        out = np.empty((fte.size, month_start.size), order="F")
        out[...] = fte[:, None]
        if not whole.all():
            out[~whole] = self._dated_capacity(batch, leaves[~whole])
        return out

    def _dated_capacity(self, batch: OrgBatch, leaves: IntArray) -> FloatArray:
        compiled = batch.tree.compiled
        month_start, month_end = batch.month_bounds()
        # Whole days since the epoch as int64: integer arithmetic on (leaves, months) is several
        # times faster than datetime64 arithmetic; missing dates become far-away sentinels.
        first_day = month_start.astype(np.int64)
        last_day = month_end.astype(np.int64)
        start_raw = compiled.start[leaves]
        end_raw = compiled.end[leaves]
        no_start = np.isnat(start_raw)
        start = np.where(no_start, -_FAR, start_raw.astype(np.int64))
        end = np.where(np.isnat(end_raw), _FAR, end_raw.astype(np.int64))
        first = np.maximum(start[:, None], first_day[None, :])
        active = np.minimum(end[:, None], last_day[None, :]) - first + 1
        share = np.clip(active, 0, None) / (last_day - first_day + 1).astype(np.float64)
        fte = np.nan_to_num(compiled.fte[leaves], nan=1.0)
        if not self.ramp:
            plain: FloatArray = fte[:, None] * share
            return plain
        ramp = np.append(np.asarray(self.ramp, dtype=np.float64), 1.0)
        # tenure in calendar months at the first active day of the month: 0 when the person starts
        # within it, else the months between the start month and the month the period starts in
        start_month = np.where(no_start, 0, start_raw.astype("datetime64[M]").astype(np.int64))
        period_month = month_start.astype("datetime64[M]").astype(np.int64)
        tenure = np.where(
            start[:, None] >= first_day[None, :],
            0,
            period_month[None, :] - start_month[:, None],
        )
        step = np.where(no_start[:, None], len(self.ramp), np.clip(tenure, 0, len(self.ramp)))
        capacity: FloatArray = fte[:, None] * ramp[step] * share
        return capacity

    def weights(self, batch: OrgBatch) -> FloatArray:
        """Capacity per row and column: the mean of the monthly capacity over each column's months.

        Args:
            batch: The children to weigh.

        Returns:
            float64 ``(rows, periods)``.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> c = company.tree.compiled
            >>> team = c.index("east-1")   # six people, one of them starting on 1 April
            >>> q1, q2 = company.calendar.index("FY2027-Q1"), company.calendar.index("FY2027-Q2")
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[team], offsets=[0, 1],
            ...                  parents=[c.parent[team]], periods=[q1, q2])
            >>> CapacityWeighted().weights(batch).round(4).tolist()   # Q2: 5 + (0.25+0.5+0.75)/3
            [[5.0, 5.5]]
        """
        monthly = self.monthly(batch)
        month_index = {int(p): i for i, p in enumerate(batch.months.tolist())}
        column_months = batch.column_months()
        if all(months.size == 1 for months in column_months):
            # month columns (the carried split): the mean of one month is that month, and one
            # gather of whole rows beats writing a large array column by column
            index = [month_index[int(m[0])] for m in column_months]
            if index == list(range(monthly.shape[1])):
                return monthly  # all the months, in order (a fresh array)
            picked: FloatArray = monthly[:, index]
            return picked
        out = np.empty(batch.shape, dtype=np.float64)
        for j, months in enumerate(column_months):  # a handful of columns
            columns = [month_index[int(p)] for p in months.tolist()]
            out[:, j] = monthly[:, columns].mean(axis=1)
        return out


# ---------------------------------------------------------------------------- historical share


@attrs.frozen(kw_only=True)
class HistoricalShare(StrategyBase, abc.ABC):
    """Abstract base of the two historical-share formulas (not registered itself).

    Subclasses define :meth:`shares`: each child's historical weight from the aligned monthly
    history. Children with no history at all (every month NaN: a new hire, a new team) and segments
    whose history sums to zero take the ``fallback`` by the module's *fallback mixing* rule.

    Args:
        window: Use only the last ``window`` history years (None: all).
        fallback: Org strategy for children without history; None makes a child without
            history an error naming every such child.

    Example:
        >>> issubclass(ProportionOfAverages, HistoricalShare)
        True
    """

    kind: ClassVar[Literal["org"]] = "org"
    needs_history: ClassVar[bool] = True
    may_return_zero: ClassVar[bool] = True  # only where the fallback itself returns zeros
    same_every_period: ClassVar[bool] = True  # when the fallback's are too

    window: int | None = attrs.field(default=None, validator=_window_validator)
    fallback: OrgStrategy | None = attrs.field(factory=Equal, validator=_optional_fallback)

    @abc.abstractmethod
    def shares(self, history: FloatArray, batch: OrgBatch) -> FloatArray:
        """Each row's historical weight (rows,), from its history with NaN read as 0.

        Args:
            history: float64 ``(rows, months)``, non-negative, NaN replaced by 0.
            batch: The batch (for its segments).

        Returns:
            float64 ``(rows,)``.
        """

    def weights(self, batch: OrgBatch) -> FloatArray:
        """Historical shares, the same in every column, with fallback mixing for missing history.

        Args:
            batch: The children to weigh; ``batch.history`` holds the past years (None: no child
                has history, so the fallback decides).

        Returns:
            float64 ``(rows, periods)``.

        Raises:
            StrategyError: A child's history has a negative value (naming the child).

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> from targetcascade.allocation._history import History
            >>> company = demo_company()
            >>> c = company.tree.compiled
            >>> team = c.index("east-1")
            >>> rows = list(range(c.child_offsets[team], c.child_offsets[team + 1]))
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=rows, offsets=[0, 6],
            ...                  parents=[team], periods=[0],
            ...                  history=History(plans=company.history))
            >>> w = ProportionOfAverages().weights(batch).ravel()
            >>> batch.ids[3], round(float(w[3] / w.sum()), 4)   # the new hire keeps 1/6
            ('east-1-4', 0.1667)
        """
        found = self._row_shares(batch)
        if found is None:
            known = np.zeros(batch.rows.size, dtype=np.bool_)
            base = np.zeros(batch.shape)
        else:
            shares, known = found
            base = np.broadcast_to(shares[:, None], batch.shape)
        if self.fallback is None:
            self._refuse_missing(batch, known)
            # a parent whose children's history sums to zero gets zero weights: the kernel
            # refuses to split a non-zero value over them, naming the parent
            return np.array(base, dtype=np.float64)
        return mix_fallback(batch, base, known, self.fallback, self.name, missing="no history")

    def _refuse_missing(self, batch: OrgBatch, known: BoolArray) -> None:
        """Without a fallback, members without history are an error naming every one of them."""
        if known.all():
            return
        missing = np.flatnonzero(~known)
        ids = batch.ids
        names = ", ".join(repr(ids[i]) for i in missing.tolist())
        count = f"{missing.size} members have" if missing.size > 1 else "1 member has"
        msg = f"{self.name} (fallback=None): {count} no history of {batch.metric.name!r}: {names}"
        raise StrategyError(
            msg,
            node=ids[int(missing[0])],
            metric=batch.metric.name,
            hint="give them history, or declare a fallback for members without it, e.g. "
            "fallback=Equal() or fallback=CapacityWeighted()",
        )

    def _row_shares(self, batch: OrgBatch) -> tuple[FloatArray, BoolArray] | None:
        """Each row's share (:meth:`shares`) and whether it has any history; None: no history."""
        history = batch.history_monthly(self.window)
        if history.shape[1] == 0:
            return None
        absent = np.isnan(history)
        known = ~np.asarray(absent.all(axis=1), dtype=np.bool_)
        values = np.where(absent, 0.0, history)
        self._refuse_negative(batch, _any_row(values < 0))
        return self.shares(values, batch), known

    def _refuse_negative(self, batch: OrgBatch, negative: BoolArray) -> None:
        if negative.any():
            msg = (
                f"{self.name}: history of {batch.metric.name!r} has negative values for "
                f"{_names(batch.ids, negative)}"
            )
            raise StrategyError(
                msg,
                node=_first(batch.ids, negative),
                metric=batch.metric.name,
                hint="historical shares need non-negative history; use another strategy for "
                "metrics that can be negative",
            )


@attrs.frozen(kw_only=True)
class ProportionOfAverages(HistoricalShare):
    """Historical share as a proportion of averages: ``w_c = sum_t y_c,t / sum_t y_p,t``.

    ``y_p,t`` is the sum over the parent's children in the batch (the children's history decides,
    not the parent's own row), ``t`` runs over the history months in ``window``; a month a child
    was absent (NaN) counts as 0. Gross & Sohl (1990), method "F2" / proportion of historical
    averages (Hyndman & Athanasopoulos, FPP3, section 11.2).

    Args:
        window: Use only the last ``window`` history years (None: all).
        fallback: Org strategy for children without history (default :class:`Equal`); None
            makes a child without history an error naming every such child.

    Example:
        >>> ProportionOfAverages(window=2, fallback=CapacityWeighted()).to_dict()
        {'strategy': 'proportion_of_averages', 'window': 2,
         'fallback': {'strategy': 'capacity_weighted', 'ramp': [0.25, 0.5, 0.75, 1.0]}}
    """

    name: ClassVar[str] = "proportion_of_averages"

    @classmethod
    def example(cls) -> ProportionOfAverages:
        """The last two years, capacity for new people.

        Example:
            >>> ProportionOfAverages.example().window
            2
        """
        return cls(window=2, fallback=CapacityWeighted())

    def shares(self, history: FloatArray, batch: OrgBatch) -> FloatArray:
        """``sum_t y_c,t / sum_t y_p,t`` per row, ``y_p`` summed over the row's segment.

        Args:
            history: float64 ``(rows, months)``, non-negative, NaN read as 0.
            batch: The batch (for its segments).

        Returns:
            float64 ``(rows,)``; 0 for every child of a segment that never sold.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
            ...                  parents=[0], periods=[0])
            >>> y = np.array([[1.0, 3.0, 0.0], [1.0, 1.0, 0.0]])  # totals 4 and 2 of 6
            >>> ProportionOfAverages().shares(y, batch).round(4).tolist()
            [0.6667, 0.3333]
        """
        return _proportions(history.sum(axis=1), batch)

    def _row_shares(self, batch: OrgBatch) -> tuple[FloatArray, BoolArray] | None:
        # only the month sums matter here: read them without the (rows x months) grid
        if type(self).shares is not ProportionOfAverages.shares:  # a subclass's own formula
            return super()._row_shares(batch)
        totals = batch.history_totals(self.window)
        if totals is None:
            return None
        self._refuse_negative(batch, totals.negative)
        # The integer totals themselves, not their shares: within a segment the parent's total is
        # a common denominator that does not change the split, and integers reach the kernel
        # exactly, so ties between shares are decided by the documented rule, not by float error.
        known = totals.known
        return integer_weights(np.where(known, totals.total, 0), batch.offsets), known


def _proportions(totals: FloatArray, batch: OrgBatch) -> FloatArray:
    """Each row's total over its segment's sum of totals (0 in a segment summing to 0)."""
    parent = np.repeat(segment_sum(totals, batch.offsets), np.diff(batch.offsets))
    shares: FloatArray = np.divide(totals, parent, out=np.zeros_like(totals), where=parent > 0)
    return shares


def _relative_to_validator(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ("parent", "top"):
        msg = f"{type(instance).__name__}: relative_to={value!r} is not 'parent' or 'top'"
        raise StrategyError(
            msg,
            hint="relative_to='parent' averages each child's proportion of its parent (the "
            "default); 'top' of the top node (FPP3 section 11.2, hierarchicalforecast)",
        )


@attrs.frozen(kw_only=True)
class AverageOfProportions(HistoricalShare):
    """Historical share as an average of proportions: ``w_c = mean_t (y_c,t / y_p,t)``.

    ``y_p,t`` is the sum over the parent's children in the batch; the mean runs over the history
    months in ``window`` where ``y_p,t > 0`` (a month in which the whole segment sold nothing says
    nothing about shares); a month a child was absent (NaN) counts as a share of 0. Gross & Sohl
    (1990), method "F1" / average historical proportions (Hyndman & Athanasopoulos, FPP3, section
    11.2).

    With ``relative_to="top"`` the proportions are taken of the tree's top node instead,
    ``w_c = mean_t (y_c,t / y_top,t)`` over the months with ``y_top,t > 0``: the form of FPP3
    section 11.2 and of hierarchicalforecast's ``TopDown(method="average_proportions")``, which
    apply the leaves' average proportions of the total. Within a parent these weights sum to the
    parent's own average proportion of the top (its children's history adds up to its own), so
    cascading them level by level gives each leaf exactly ``mean_t (y_leaf,t / y_top,t)`` of the
    target, as those tools do. The default, ``"parent"``, multiplies each level's average
    proportion of its parent instead (``mean_t(y_s/Y) x mean_t(y_r/y_s)``), which differs
    whenever the parents' shares move over time.

    Args:
        window: Use only the last ``window`` history years (None: all).
        fallback: Org strategy for children without history (default :class:`Equal`); None
            makes a child without history an error naming every such child.
        relative_to: ``"parent"`` (each child's proportion of its parent, the default) or
            ``"top"`` (of the top node, FPP3's form).

    Raises:
        StrategyError: A ``relative_to`` other than ``"parent"`` or ``"top"``.

    Example:
        >>> AverageOfProportions().to_dict()
        {'strategy': 'average_of_proportions', 'window': None, 'fallback': {'strategy': 'equal'},
         'relative_to': 'parent'}
        >>> AverageOfProportions(relative_to="root")
        Traceback (most recent call last):
        ...
        targetcascade.errors.StrategyError: AverageOfProportions: relative_to='root' is not ...
    """

    name: ClassVar[str] = "average_of_proportions"
    has_exact_weights: ClassVar[bool] = True  # see exact_segment_weights

    relative_to: Literal["parent", "top"] = attrs.field(
        default="parent", validator=_relative_to_validator
    )

    @classmethod
    def example(cls) -> AverageOfProportions:
        """All history years, equal shares for new people.

        Example:
            >>> AverageOfProportions.example()
            AverageOfProportions(window=None, fallback=Equal(), relative_to='parent')
        """
        return cls(fallback=Equal())

    def shares(self, history: FloatArray, batch: OrgBatch) -> FloatArray:
        """``mean_t (y_c,t / y_p,t)`` over the months with ``y_p,t > 0``, times a segment's factor.

        Only ratios within a segment count, so for whole-number history the shares are returned
        times ``L x months`` (``L`` the lcm of the segment's ``y_p,t``): whole numbers the kernel
        reads exactly, so ties are decided by the rule, not by float rounding. A segment whose
        numbers would exceed ``2**53`` gets the float shares.

        Args:
            history: float64 ``(rows, months)``, non-negative, NaN read as 0.
            batch: The batch (for its segments).

        Returns:
            float64 ``(rows,)``; 0 for every child of a segment that never sold.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
            ...                  parents=[0], periods=[0])
            >>> y = np.array([[1.0, 3.0, 0.0], [1.0, 1.0, 0.0]])  # shares 1/2, 3/4; no month 3
            >>> AverageOfProportions().shares(y, batch).tolist()   # 0.625 : 0.375, times 8
            [5.0, 3.0]
        """
        sizes = np.diff(batch.offsets)
        parent = self._denominators(history, batch)  # (segments, months)
        valid = parent > 0
        # y_c,t / y_p,t, and 0 where y_p,t == 0 (then every y_c,t of the segment is 0 as well)
        spread = np.repeat(parent, sizes, axis=0)
        proportions = np.divide(history, spread, out=np.zeros_like(history), where=spread > 0).sum(
            axis=1
        )
        months = valid.sum(axis=1).astype(np.float64)
        per_month = np.divide(1.0, months, out=np.zeros_like(months), where=months > 0)
        shares: FloatArray = proportions * np.repeat(per_month, sizes)
        numerators, exact = _common_numerators(history, batch.offsets, parent)
        return np.where(np.repeat(exact, sizes), numerators, shares)

    def exact_weights(self, batch: OrgBatch) -> dict[int, list[Fraction]]:
        """The exact shares (Fractions) of the segments :meth:`shares` could not make whole.

        Children without history take their fallback share, the others share the rest, exactly
        as :func:`mix_fallback` mixes them; see :func:`exact_segment_weights`.

        Args:
            batch: The children to weigh.

        Returns:
            Segment index -> each child's ``mean_t (y_c,t / y_p,t)`` as a Fraction.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
            ...                  parents=[0], periods=[0])
            >>> AverageOfProportions().exact_weights(batch)   # no history: nothing to make exact
            {}
        """
        history = batch.history_monthly(self.window)
        if history.shape[1] == 0:
            return {}
        absent = np.isnan(history)
        values = np.where(absent, 0.0, history)
        if (values < 0).any():
            return {}  # refused by weights()
        parent = self._denominators(values, batch)
        _, exact = _common_numerators(values, batch.offsets, parent)
        base = _exact_average_of_proportions(values, parent, batch.offsets, np.flatnonzero(~exact))
        known = ~np.asarray(absent.all(axis=1), dtype=np.bool_)
        if known.all() or not base:
            return base
        if self.fallback is None or (
            batch.shape[1] != 1 and not getattr(self.fallback, "same_every_period", False)
        ):
            return {}  # refused by weights(), or a fallback varying by period: float weights
        return _exact_mix(batch, base, known, self.fallback, self.name)

    def _denominators(self, history: FloatArray, batch: OrgBatch) -> FloatArray:
        """``y_p,t`` per segment and month: the children's sum, or the top node's history."""
        if self.relative_to == "parent":
            return segment_sum(history, batch.offsets)
        if batch.history is None:
            return np.zeros((batch.parents.size, history.shape[1]))
        top = batch.history.window(self.window).monthly(batch.metric.name, batch.tree, rows=[0])
        return np.repeat(np.nan_to_num(top, nan=0.0), batch.parents.size, axis=0)


def _common_numerators(
    history: FloatArray, offsets: IntArray, denominators: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """``sum_t y_c,t * (L / y_p,t)`` per row, ``L`` the lcm of its segment's non-zero ``y_p,t``.

    These are the average-of-proportions weights times ``L`` times the number of months, a
    common factor of the segment, so they split exactly as the shares do; being integers, they
    reach the kernel exactly (ties go by the documented rule, not by float error). A segment
    whose numerators could exceed ``2**53`` is not exact here (second value False): it keeps the
    float shares.
    """
    whole = segment_sum((history != np.floor(history)).any(axis=1).astype(np.float64), offsets)
    values = history.astype(np.int64)
    parent = denominators.astype(np.int64)  # (segments, months) whole quanta
    n_months = parent.shape[1]
    limit = float(2**53) / max(n_months, 1)
    lcm = np.ones(parent.shape[0], dtype=np.int64)
    exact = (whole == 0) & (denominators == np.floor(denominators)).all(axis=1)
    for t in range(n_months):  # a few dozen months
        y = np.where(parent[:, t] > 0, parent[:, t], 1)
        step = y // np.gcd(lcm, y)
        exact &= lcm.astype(np.float64) * step.astype(np.float64) <= limit
        lcm = np.where(exact, lcm * step, 1)  # 1 where it stopped fitting: never overflows
    factor = np.where(parent > 0, lcm[:, None] // np.where(parent > 0, parent, 1), 0)
    spread = np.repeat(factor, np.diff(offsets), axis=0)
    # y_c,t <= y_p,t keeps each term below L; a top node's history read from another tree may
    # not bound it, so the sums are checked in float before they are trusted
    rough = (values.astype(np.float64) * spread.astype(np.float64)).sum(axis=1)
    exact &= segment_sum(rough, offsets) <= float(2**53)
    numerators: IntArray = np.where(
        np.repeat(exact, np.diff(offsets))[:, None], values * spread, 0
    ).sum(axis=1)
    return numerators.astype(np.float64), exact


# ------------------------------------------------------------------------------------- Blend


def _to_parts(value: Iterable[Any]) -> tuple[tuple[OrgStrategy, float], ...]:
    try:
        pairs = [tuple(item) for item in value]
    except TypeError as exc:
        msg = f"Blend: parts={value!r} is not a sequence of (strategy, coefficient) pairs"
        raise StrategyError(
            msg,
            hint="give parts=((ProportionOfAverages(), 0.7), (CapacityWeighted(), 0.3))",
        ) from exc
    out: list[tuple[OrgStrategy, float]] = []
    for i, pair in enumerate(pairs):
        if len(pair) != 2:
            msg = f"Blend: parts[{i}]={pair!r} is not a (strategy, coefficient) pair"
            raise StrategyError(
                msg,
                hint="give parts=((ProportionOfAverages(), 0.7), (CapacityWeighted(), 0.3))",
            )
        strategy, coefficient = pair
        if not isinstance(strategy, OrgStrategy) or isinstance(strategy, type):
            msg = f"Blend: parts[{i}] holds {strategy!r}, not an org strategy"
            raise StrategyError(
                msg,
                hint="each part is an org strategy instance with its coefficient",
            )
        ok = not isinstance(coefficient, bool) and isinstance(
            coefficient, int | float | np.integer | np.floating
        )
        number = float(coefficient) if ok else math.nan
        if not (math.isfinite(number) and number > 0):
            msg = f"Blend: parts[{i}] has coefficient {coefficient!r}, not a finite number > 0"
            raise StrategyError(
                msg,
                hint="coefficients are relative (they need not sum to 1); drop a part rather "
                "than giving it 0",
            )
        out.append((strategy, number))
    if not out:
        raise StrategyError(
            "Blend: parts is empty", hint="give at least one (strategy, coefficient)"
        )
    return tuple(out)


@attrs.frozen(kw_only=True)
class Blend(StrategyBase):
    """A weighted mix of org strategies: ``w = sum_k a_k * w_k / sum_segment(w_k)``.

    Where the parts' weights are whole numbers, the blend is returned times the common
    denominator of its fractions (coefficients read as the decimals written: 0.7 is 7/10), so the
    kernel reads it exactly and ties are decided by the rule, not by float rounding.

    Each part's weights are normalised per parent segment and column before they are combined, so
    a coefficient is the part's say in the split whatever the scale of its weights; coefficients are
    relative. A part whose weights sum to zero in a segment column has no say to give there: that is
    a :class:`StrategyError` naming the parent, the period and the part (give the part a fallback).

    Args:
        parts: ``(strategy, coefficient)`` pairs; coefficients finite and > 0.

    Raises:
        StrategyError: An empty ``parts``, a part that is not an org strategy, a bad coefficient.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
        ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
        ...                  parents=[0], periods=[0])
        >>> by_id = Proportional(values={"north": 3, "east": 1})
        >>> blend = Blend(parts=((Equal(), 1.0), (by_id, 1.0)))
        >>> blend.weights(batch).ravel().tolist()   # (1/2 + 3/4, 1/2 + 1/4) times 4
        [5.0, 3.0]
    """

    name: ClassVar[str] = "blend"
    has_exact_weights: ClassVar[bool] = True  # see exact_segment_weights
    kind: ClassVar[Literal["org"]] = "org"
    same_every_period: ClassVar[bool] = True
    needs_history: ClassVar[bool] = False  # the parts declare their own: see reads_history
    may_return_zero: ClassVar[bool] = False

    parts: tuple[tuple[OrgStrategy, float], ...] = attrs.field(converter=_to_parts)

    @classmethod
    def example(cls) -> Blend:
        """70 % historical share, 30 % capacity.

        Example:
            >>> [part.name for part, _ in Blend.example().parts]
            ['proportion_of_averages', 'capacity_weighted']
        """
        return cls(parts=((ProportionOfAverages(), 0.7), (CapacityWeighted(), 0.3)))

    def weights(self, batch: OrgBatch) -> FloatArray:
        """The coefficient-weighted sum of the parts' normalised weights.

        Args:
            batch: The children to weigh.

        Returns:
            float64 ``(rows, periods)``: whole numbers where the parts are (see above), else
            shares summing, per segment column, to the sum of the coefficients.

        Raises:
            StrategyError: A part returns invalid weights, or zero weights for a whole segment
                column (naming the parent, period and part).

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
            ...                  parents=[0], periods=[0])
            >>> Blend(parts=((Proportional(values={"north": 0, "east": 0}), 1.0),)).weights(batch)
            Traceback (most recent call last):
            ...
            targetcascade.errors.StrategyError: blend part 0 (proportional) gives every child of
            'acme' weight 0 in FY2027; ...
        """
        segment = batch.segment
        total = np.zeros(batch.shape, dtype=np.float64)
        normalised: list[tuple[FloatArray, FloatArray, Fraction]] = []
        for k, (part, coefficient) in enumerate(self.parts):  # a handful of parts
            w = checked_weights(part, batch, f"blend part {k}")
            sums = segment_sum(w, batch.offsets)
            normalised.append((w, sums, Fraction(repr(coefficient))))
            zero = sums <= 0
            if zero.any():
                s, p = (int(i) for i in np.argwhere(zero)[0])
                parent = batch.tree.compiled.ids[int(batch.parents[s])]
                msg = (
                    f"blend part {k} ({part.name}) gives every child of {parent!r} weight 0 in "
                    f"{_period_label(batch, p)}"
                )
                raise StrategyError(
                    msg,
                    node=parent,
                    period=_period_label(batch, p),
                    hint="give that part a fallback (e.g. fallback=Equal()) or blend other parts",
                )
            with np.errstate(divide="ignore", invalid="ignore"):
                total += coefficient * (w / sums[segment])
        whole, exact = _blend_in_whole_numbers(normalised, batch.offsets)
        return np.where(np.repeat(exact, np.diff(batch.offsets), axis=0), whole, total)

    def exact_weights(self, batch: OrgBatch) -> dict[int, list[Fraction]]:
        """The exact blend (Fractions) of the segments :meth:`weights` could not make whole.

        Each part's weights are read exactly (its own exact weights where it has them, else its
        floats as the binary fractions they are), normalised per segment and weighted by the
        coefficients read as the decimals they were written as; see :func:`exact_segment_weights`.
        Given where the weights are the same in every period of the batch.

        Args:
            batch: The children to weigh.

        Returns:
            Segment index -> each child's blended weight as a Fraction.

        Example:
            >>> from targetcascade.synthetic import demo_company
            >>> company = demo_company()
            >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
            ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
            ...                  parents=[0], periods=[0])
            >>> Blend(parts=((Equal(), 0.5), (Equal(), 0.5))).exact_weights(batch)  # whole already
            {}
        """
        if batch.shape[1] != 1 and not all(
            getattr(part, "same_every_period", False) for part, _ in self.parts
        ):
            return {}
        columns = [
            checked_weights(part, batch, f"blend part {k}")[:, :1]
            for k, (part, _) in enumerate(self.parts)
        ]
        normalised = [
            (w, segment_sum(w, batch.offsets), Fraction(repr(a)))
            for w, (_, a) in zip(columns, self.parts, strict=True)
        ]
        if any((sums <= 0).any() for _, sums, _ in normalised):
            return {}  # refused by weights()
        _, whole = _blend_in_whole_numbers(normalised, batch.offsets)
        inexact = np.flatnonzero(~whole[:, 0])
        if inexact.size == 0:
            return {}
        exact_parts = [exact_segment_weights(part, batch) for part, _ in self.parts]
        out: dict[int, list[Fraction]] = {}
        for s in inexact.tolist():
            lo, hi = int(batch.offsets[s]), int(batch.offsets[s + 1])
            blended = [Fraction(0)] * (hi - lo)
            for (w, _, a), known in zip(normalised, exact_parts, strict=True):
                ws = known.get(s) or [Fraction(float(x)) for x in w[lo:hi, 0]]
                total = sum(ws, Fraction(0))
                blended = [b + a * x / total for b, x in zip(blended, ws, strict=True)]
            out[s] = blended
        return out


def _whole_per_segment(w: FloatArray, offsets: IntArray) -> tuple[FloatArray, BoolArray]:
    """Each segment column times the least power of two making its weights whole numbers.

    Every float is a whole number times a power of two, so this is exact; the second value says
    where the scaled weights stay within ``2**53`` (and so sum exactly in int64 and float).
    """
    mantissa, exponent = np.frexp(w)
    digits = np.ldexp(mantissa, 53).astype(np.int64)  # the 53-bit integer significand
    trailing = np.frexp((digits & -digits).astype(np.float64))[1] - 1
    lowest = np.where(w > 0, exponent.astype(np.int64) - 53 + trailing, 0)
    sizes = np.diff(offsets)
    nonempty = sizes > 0
    need = np.zeros((sizes.size, *w.shape[1:]), dtype=np.int64)
    top = np.zeros((sizes.size, *w.shape[1:]), dtype=np.int64)
    if nonempty.any():
        starts = offsets[:-1][nonempty]
        need[nonempty] = np.minimum.reduceat(lowest, starts, axis=0)
        top[nonempty] = np.maximum.reduceat(np.where(w > 0, exponent, 0), starts, axis=0)
    shift = np.maximum(-need, 0)
    within = top + shift <= 53  # else the scaled weights would not be exact integers anyway
    shift = np.where(within, shift, 0)
    scaled: FloatArray = np.ldexp(w, np.repeat(shift, sizes, axis=0).astype(np.int32))
    fits = within & (segment_sum(scaled, offsets) <= float(2**53))
    return scaled, fits


def _blend_in_whole_numbers(
    parts: list[tuple[FloatArray, FloatArray, Fraction]], offsets: IntArray
) -> tuple[FloatArray, BoolArray]:
    """``sum_k a_k w_k / S_k`` times ``L``, the lcm of the ``S_k x den(a_k)``, where it fits.

    With part weights ``w_k`` that are binary fractions (whole numbers, quarters of capacity: each
    segment column is first scaled to whole numbers by a power of two), segment sums ``S_k`` and
    coefficients read as the decimals they were written as (0.7 is 7/10), the blend is a sum of
    fractions; times their common
    denominator ``L`` (common to the segment column, so the split is the same) they are whole
    numbers the kernel reads exactly, where the float sum of shares would let rounding decide
    ties. Segment columns where anything exceeds ``2**53`` are not exact here (second value
    False): they keep the float blend.
    """
    counts = np.diff(offsets)
    limit = float(2**53)
    first_sums = parts[0][1]
    exact = np.ones(first_sums.shape, dtype=np.bool_)
    lcm = np.ones(first_sums.shape, dtype=np.int64)
    # binary fractions (a quarter of capacity, fte 0.5) become whole numbers times a power of two
    scaled = [(*_whole_per_segment(w, offsets), a) for w, _, a in parts]
    parts = [(w, segment_sum(w, offsets), a) for w, _, a in scaled]
    for (_, sums, a), (_, fits, _) in zip(parts, scaled, strict=True):
        exact &= fits & (sums > 0) & (sums * a.denominator <= limit)
        d = np.where(exact, sums, 1).astype(np.int64) * a.denominator
        step = d // np.gcd(lcm, d)
        exact &= lcm.astype(np.float64) * step.astype(np.float64) <= limit
        lcm = np.where(exact, lcm * step, 1)  # 1 where it stopped fitting: never overflows
    # each row's numerator is at most L x sum_k a_k
    exact &= lcm.astype(np.float64) * float(sum(a for _, _, a in parts)) <= limit
    rows = np.repeat(exact, counts, axis=0)
    numerators = np.zeros(rows.shape, dtype=np.int64)
    for w, sums, a in parts:
        d = np.where(exact, sums, 1).astype(np.int64) * a.denominator
        factor = np.where(exact, lcm // d, 0) * a.numerator
        numerators += np.repeat(factor, counts, axis=0) * np.where(rows, w, 0).astype(np.int64)
    return numerators.astype(np.float64), exact


# ------------------------------------------------------------------ exact rational weights (#12.1)


def exact_segment_weights(strategy: OrgStrategy, batch: OrgBatch) -> dict[int, list[Fraction]]:
    """The exact weights of the segments whose float weights are not exact, by segment index.

    A strategy declaring ``has_exact_weights: ClassVar[bool] = True`` offers them through its
    ``exact_weights(batch)`` method: for each segment whose exact (rational) weights it could not
    hand the kernel as float64-exact whole numbers (their common denominator overflows ``2**53``),
    the weights of the segment's children as Fractions, the same in every period of the batch.
    Segments it leaves out are exact in its float weights; any other strategy's float weights are
    exact as they are (the kernel reads a float as the binary fraction it is).

    Args:
        strategy: An org strategy.
        batch: The children to weigh.

    Returns:
        Segment index -> one Fraction per child of the segment (proportional to the weights).

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = OrgBatch(tree=company.tree, calendar=company.calendar,
        ...                  metric=company.metrics[0], rows=[1, 2], offsets=[0, 2],
        ...                  parents=[0], periods=[0])
        >>> exact_segment_weights(Equal(), batch)
        {}
    """
    if not getattr(strategy, "has_exact_weights", False):
        return {}
    found: dict[int, list[Fraction]] = strategy.exact_weights(batch)  # type: ignore[attr-defined]
    return found


def _exact_average_of_proportions(
    history: FloatArray, parent: FloatArray, offsets: IntArray, segments: IntArray
) -> dict[int, list[Fraction]]:
    """``mean_t (y_c,t / y_p,t)`` as Fractions for the given segments (whole-number history)."""
    out: dict[int, list[Fraction]] = {}
    for s in segments.tolist():
        lo, hi = int(offsets[s]), int(offsets[s + 1])
        months = [t for t in range(parent.shape[1]) if parent[s, t] > 0]
        if not months:
            continue
        den = [Fraction(float(parent[s, t])) for t in months]
        out[s] = [
            sum(
                (Fraction(float(history[r, t])) / d for t, d in zip(months, den, strict=True)),
                Fraction(0),
            )
            / len(months)
            for r in range(lo, hi)
        ]
    return out


def _exact_mix(
    batch: OrgBatch,
    base: dict[int, list[Fraction]],
    known: BoolArray,
    fallback: OrgStrategy,
    owner: str,
) -> dict[int, list[Fraction]]:
    """:func:`mix_fallback`'s rule on exact bases (segments whose bases all vanish are left out)."""
    f = checked_weights(fallback, batch, f"fallback of {owner}")[:, 0]
    f_exact = exact_segment_weights(fallback, batch)
    out: dict[int, list[Fraction]] = {}
    for s, shares in base.items():
        lo, hi = int(batch.offsets[s]), int(batch.offsets[s + 1])
        has = known[lo:hi].tolist()
        b_sum = sum((x for x, k in zip(shares, has, strict=True) if k), Fraction(0))
        fs = f_exact.get(s) or [Fraction(float(x)) for x in f[lo:hi]]
        f_sum = sum(fs, Fraction(0))
        if b_sum == 0 or f_sum == 0:
            continue  # the fallback outright: its float weights are exact as given
        rest = 1 - sum((x for x, k in zip(fs, has, strict=True) if not k), Fraction(0)) / f_sum
        out[s] = [
            rest * x / b_sum if k else y / f_sum for x, y, k in zip(shares, fs, has, strict=True)
        ]
    return out
