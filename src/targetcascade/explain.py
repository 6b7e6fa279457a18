"""Explain a cell of a cascaded plan: where its number came from, step by step up to the target.

:func:`explain` reads the :class:`~targetcascade.plan.Provenance` that :func:`~targetcascade.cascade`
records and returns an :class:`Explanation`: a chain of :class:`Step` objects from the cell up to the
company target, each with the parent cell, the strategy, the weight and share, any floor, cap or lock,
and the rounding adjustment, plus a readable sentence per step.

Example:
    >>> from targetcascade import CascadeSpec, MetricCascade, Split, cascade
    >>> from targetcascade.allocation import Equal
    >>> from targetcascade.synthetic import demo_company
    >>> company = demo_company()
    >>> spec = CascadeSpec(metrics=[MetricCascade(
    ...     metric=company.metrics[1], target="1000 customers",
    ...     splits={level: Split(strategy=Equal()) for level in ("company", "region", "team")})])
    >>> plan = cascade(spec, company.tree, company.calendar)
    >>> print(explain(plan, "north", "FY2027-M01", "new_customers").sentence)
    ... # doctest: +NORMALIZE_WHITESPACE
    north FY2027-M01 21 customer = acme FY2027-M01 84 customer x 25.00 % (equal: weight 1 of 4)
    + 0 customer rounding
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade._rules import hedged_period_totals
from targetcascade.errors import PlanError
from targetcascade.metric import Metric, Rollup
from targetcascade.plan import Origin, Plan, Source, ratio_of_grids

__all__ = ["Explanation", "Step", "explain"]

_BOUND_NAMES = {1: "floor", 2: "cap"}
#: Codes looked up as plain ints: a numpy scalar compared with an ``IntEnum`` member takes the slow
#: path (tens of µs for the two origins below), and on Python 3.11 every ``Source.X`` read goes
#: through ``EnumType.__getattr__``; explain does both several times per step.
_EDITED_ORIGINS = frozenset({int(Origin.MANUAL), int(Origin.COMMITTED)})
_SOURCE_OF = {int(code): code for code in Source}
_LOCKED = int(Source.LOCKED)


@attrs.frozen(kw_only=True)
class Step:
    """One link of an explanation: how one cell got its value.

    Args:
        node: Node id of the cell.
        period: Period label of the cell.
        value: The cell's value in the metric's unit; None for a derived cell without a value.
        source: How it was derived: ``target``, ``org_split``, ``time_split``, ``rolled_up``,
            ``locked``, ``balanced``, ``edited`` or ``derived`` (a ratio of two cascaded metrics).
        from_node: Node of the cell it was split from (the parent node, or the same node in a time
            split), or None.
        from_period: Period of that cell, or None.
        split_total: The total that was split (after over-assignment), or None.
        strategy: Label of the strategy used, or "".
        weight: The cell's weight, or None.
        weight_total: Sum of the weights of the siblings that shared what was left (the cell's
            own included; locked and held siblings left out), or None. For a cell held at its
            floor or cap: the sum over every sibling not locked.
        share: ``weight / weight_total``, or None (also for a held cell, which takes its bound).
        rounding: What rounding added, in the metric's unit, or None: the cell minus its exact
            share ``(split_total - locked - held) x share`` rounded toward zero to the quantum.
            In ``time_first`` mode it includes what earlier months' rounding carried over.
        bound: ``"floor"`` or ``"cap"`` when one held the cell, else None.
        parts: For a rolled-up cell, the labels of the cells it sums; for a derived cell, its
            numerator and denominator metrics.
        sentence: The step as a sentence.
        locked: What locked siblings took from ``split_total`` before the split, or None.
        held: What siblings held at their floor or cap took (the cell itself aside), or None.

    For a split cell not held by a bound the fields multiply out exactly:
    ``value == trunc((split_total - locked - held) x weight / weight_total) + rounding``, the
    truncation toward zero in whole quanta.

    Example:
        >>> Step(node="a", period="FY2027", value=Decimal(5), source="target", from_node=None,
        ...      from_period=None, split_total=None, strategy="", weight=None, weight_total=None,
        ...      share=None, rounding=None, bound=None, parts=(), sentence="a FY2027 5 = target").source
        'target'
    """

    node: str
    period: str
    value: Decimal | None
    source: str
    from_node: str | None
    from_period: str | None
    split_total: Decimal | None
    strategy: str
    weight: float | None
    weight_total: float | None
    share: float | None
    rounding: Decimal | None
    bound: str | None
    parts: tuple[str, ...]
    sentence: str
    locked: Decimal | None = None
    held: Decimal | None = None


@attrs.frozen(kw_only=True)
class Explanation:
    """The chain of steps that produced a cell, the cell first and the company target last.

    Example:
        >>> Explanation(metric="deals", unit="deal", steps=()).sentence
        ''
    """

    metric: str
    unit: str
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    """Remarks on the chain, one line each: a member whose weight came from a fallback."""

    @property
    def sentence(self) -> str:
        """The first step's sentence: why this cell has its value.

        Example:
            >>> Explanation(metric="deals", unit="deal", steps=()).sentence
            ''
        """
        return self.steps[0].sentence if self.steps else ""

    def __str__(self) -> str:
        lines = [("" if i == 0 else "  <- ") + step.sentence for i, step in enumerate(self.steps)]
        return "\n".join(lines + [f"  note: {note}" for note in self.notes])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (numbers as strings).

        Example:
            >>> Explanation(metric="deals", unit="deal", steps=()).to_dict()
            {'metric': 'deals', 'unit': 'deal', 'steps': []}
        """

        def clean(value: Any) -> Any:
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, tuple):
                return list(value)
            return value

        out: dict[str, Any] = {
            "metric": self.metric,
            "unit": self.unit,
            "steps": [{k: clean(v) for k, v in attrs.asdict(s).items()} for s in self.steps],
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def explain(plan: Plan, node: str, period: str, metric: str) -> Explanation:
    """Explain one cell of a cascaded plan, step by step up to the company target.

    Args:
        plan: A plan returned by :func:`~targetcascade.cascade`.
        node: Node id.
        period: Period label.
        metric: Metric name.

    Returns:
        The explanation.

    Raises:
        PlanError: If the plan carries no provenance (it was not built by the engine).
        UnknownNodeError, PeriodError, MetricError: If the cell does not exist.

    Example:
        >>> from targetcascade import CascadeSpec, FiscalCalendar, Metric, MetricCascade, OrgTree
        >>> from targetcascade import Split, cascade
        >>> from targetcascade.allocation import Equal
        >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"},
        ...     {"id": "east", "parent": "acme", "level": "region"},
        ...     {"id": "west", "parent": "acme", "level": "region"}])
        >>> spec = CascadeSpec(metrics=[MetricCascade(metric=Metric(name="deals", unit="deal"),
        ...     target=101, splits={"company": Split(strategy=Equal())})])
        >>> plan = cascade(spec, tree, FiscalCalendar(fiscal_year=2027))
        >>> print(explain(plan, "east", "FY2027-M01", "deals"))
        east FY2027-M01 5 deal = acme FY2027-M01 9 deal x 50.00 % (equal: weight 1 of 2) + 1 deal rounding
          <- acme FY2027-M01 9 deal = acme FY2027-Q1 26 deal x 33.33 % (even: weight 1 of 3) + 1 deal rounding
          <- acme FY2027-Q1 26 deal = acme FY2027 101 deal x 25.00 % (even: weight 3 of 12) + 1 deal rounding
          <- acme FY2027 101 deal = the target
    """
    provenance = plan.provenance
    if provenance is None:
        raise PlanError(
            "this plan has no provenance: it was not built by cascade()",
            hint="explain plans returned by targetcascade.cascade",
        )
    m = plan.metric(metric)
    tree = plan.tree
    compiled = tree.compiled
    calendar = plan.calendar
    k = plan.metric_index(metric)
    n = compiled.index(node)
    p = calendar.index(period)
    if m.name not in provenance.source and m.rollup is Rollup.RATIO:
        return _derived(plan, m, n, p)
    source = provenance.source[m.name]
    weight = provenance.weight[m.name]
    quota = provenance.quota[m.name]  # the balanced step reports the fitted value
    bound = provenance.bound[m.name]
    hedges = plan.hedges.get(m.name, {})
    values = plan.values[k]
    origins = plan.origins[k]
    labels = provenance.labels
    ids = compiled.ids
    periods = calendar.periods

    def shown(quanta: int) -> str:
        return m.format(quanta)

    steps: list[Step] = []
    while True:
        value = int(values[n, p])
        code = _SOURCE_OF[int(source[n, p])]
        head = f"{ids[n]} {periods[p].label} {shown(value)}"
        base: dict[str, Any] = {
            "node": ids[n],
            "period": periods[p].label,
            "value": m.from_quanta(value),
            "from_node": None,
            "from_period": None,
            "split_total": None,
            "strategy": "",
            "weight": None,
            "weight_total": None,
            "share": None,
            "rounding": None,
            "bound": None,
            "parts": (),
        }
        if int(origins[n, p]) in _EDITED_ORIGINS and code is not Source.TARGET:
            steps.append(Step(source="edited", sentence=f"{head} was set by hand", **base))
            break
        if code is Source.TARGET:
            steps.append(Step(source="target", sentence=f"{head} = the target", **base))
            break
        if code is Source.LOCKED:
            steps.append(Step(source="locked", sentence=f"{head} is locked", **base))
            break
        if code is Source.ROLLED_UP:
            parts = _parts(plan, k, n, p)
            listed = " + ".join(f"{label} {shown(int(v))}" for label, v in parts)
            base["parts"] = tuple(label for label, _ in parts)
            steps.append(Step(source="rolled_up", sentence=f"{head} = {listed}", **base))
            break
        if code is Source.BALANCED:
            parent = int(compiled.parent[n])
            base["from_node"] = ids[parent]
            base["from_period"] = periods[p].label
            fitted = float(quota[n, p])
            sentence = (
                f"{head}: {ids[n]}'s year and {ids[parent]}'s {periods[p].label} "
                f"balanced to {fitted:,.2f} and rounded with both margins exact"
            )
            steps.append(Step(source="balanced", sentence=sentence, **base))
            break
        if code is Source.ORG_SPLIT:
            from_n, from_p = int(compiled.parent[n]), p
            lo, hi = int(compiled.child_offsets[from_n]), int(compiled.child_offsets[from_n + 1])
            group: Any = (slice(lo, hi), p)
            me = n - lo
            label = labels[int(provenance.org_strategy[m.name][n])]
            total = _split_total(plan, k, from_n, p, hedges)
        else:  # TIME_SPLIT: a node's period is split over its sub-periods as it is
            from_n, from_p = n, int(calendar.parent_index[p])
            offsets = calendar.child_offsets
            lo, hi = int(offsets[from_p]), int(offsets[from_p + 1])
            group = (n, slice(lo, hi))
            me = p - lo
            label = labels[int(provenance.time_strategy[m.name][n])]
            total = int(values[from_n, from_p])
        split = _group_split(
            total=total,
            me=me,
            values=values[group],
            weights=weight[group],
            locked=source[group] == _LOCKED,
            held=bound[group] != 0,
        )
        base.update(
            from_node=ids[from_n],
            from_period=periods[from_p].label,
            split_total=m.from_quanta(total),
            strategy=label,
            weight=split.weight,
            weight_total=split.weight_total,
            share=split.share,
            rounding=None if split.share is None else m.from_quanta(split.rounding),
            bound=None if split.share is not None else _BOUND_NAMES.get(int(bound[n, p])),
            locked=m.from_quanta(split.locked) if split.locked else None,
            held=m.from_quanta(split.held) if split.held else None,
        )
        name = label.split(":")[0]
        weights_text = f"{name}: weight {_weight(split.weight)} of {_weight(split.weight_total)}"
        source_cell = f"{ids[from_n]} {periods[from_p].label} {shown(total)}"
        if split.share is None:  # held at its floor or cap: the bound, not the share, set it
            sentence = (
                f"{head} = its {base['bound']}, which held it when {source_cell} was split"
                f" ({weights_text})"
            )
        else:
            taken = [
                f"{_less(amount, shown)} {what}"
                for amount, what in ((split.locked, "locked"), (split.held, "held"))
                if amount
            ]
            if taken:
                source_cell = f"({source_cell} {' '.join(taken)})"
            percent = f"{split.share:.2%}".replace("%", " %")
            sentence = (
                f"{head} = {source_cell} x {percent} ({weights_text})"
                f" {_plus(split.rounding, shown)} rounding"
            )
        if int(values[from_n, from_p]) != total:
            sentence += f" (over-assigned from {shown(int(values[from_n, from_p]))})"
        steps.append(Step(source=code.name.lower(), sentence=sentence, **base))
        n, p = from_n, from_p
    return Explanation(
        metric=m.name,
        unit=m.unit_label,
        steps=tuple(steps),
        notes=_fallback_notes(plan, m.name, steps),
    )


def _fallback_notes(plan: Plan, metric: str, steps: list[Step]) -> tuple[str, ...]:
    """A note per fallback taken by a node whose split is a step of the chain, in plan order."""
    if not plan.fallbacks:
        return ()
    index = _fallback_index(plan)
    split = {step.node for step in steps if step.source in ("org_split", "time_split")}
    positions = sorted(i for node in split for i in index.get((metric, node), ()))
    return tuple(
        f"{f.node} has its weight from the fallback of {f.strategy} ({f.reason})"
        for f in (plan.fallbacks[i] for i in positions)
    )


# A plan's fallback records by (metric, node), built once per plan and dropped with it: a large
# organisation has tens of thousands of them, and explain looks up the few nodes of one chain.
_FALLBACK_INDEX: dict[int, dict[tuple[str, str], tuple[int, ...]]] = {}


def _fallback_index(plan: Plan) -> dict[tuple[str, str], tuple[int, ...]]:
    key = id(plan)
    index = _FALLBACK_INDEX.get(key)
    if index is None:
        grouped: dict[tuple[str, str], list[int]] = {}
        for i, f in enumerate(plan.fallbacks):
            grouped.setdefault((f.metric, f.node), []).append(i)
        index = {k: tuple(v) for k, v in grouped.items()}
        _FALLBACK_INDEX[key] = index
        weakref.finalize(plan, _FALLBACK_INDEX.pop, key, None)
    return index


def _weight(x: float) -> str:
    """A weight as read: a whole number in full (history in quanta: 1,200,000), else 4 digits."""
    if x.is_integer() and abs(x) <= 2**53:
        return f"{int(x):,}"
    return f"{x:,.4g}"


def _derived(plan: Plan, m: Metric, n: int, p: int) -> Explanation:
    """A derived ratio cell: its numerator over its denominator, in the same node and period.

    A part edited after the cascade (``Plan.with_values`` re-derives nothing) is said to be so,
    with what the parts give now, rather than stated as the cell's reason.
    """
    label = f"{plan.tree.compiled.ids[n]} {plan.calendar.periods[p].label}"
    texts: list[str] = []
    grids: list[npt.NDArray[np.int64]] = []
    present = np.ones((1, 1), dtype=bool)
    for name in (m.numerator or "", m.denominator or ""):
        k = plan.metric_index(name)
        amount = int(plan.values[k][n, p])
        known = int(plan.origins[k][n, p]) != Origin.MISSING
        grids.append(np.full((1, 1), amount, dtype=np.int64))
        present &= known
        texts.append(f"{name} {plan.metric(name).format(amount) if known else 'no value'}")
    quotient = " / ".join(texts)
    wanted, defined = ratio_of_grids(
        m,
        plan.metric(m.numerator or ""),
        plan.metric(m.denominator or ""),
        num=grids[0],
        den=grids[1],
        present=present,
    )
    k = plan.metric_index(m.name)
    has_value = int(plan.origins[k][n, p]) != Origin.MISSING
    stored = int(plan.values[k][n, p])
    value = m.from_quanta(stored) if has_value else None
    shown = m.format(stored) if has_value else f"{m.name} has no value"
    if has_value != bool(defined[0, 0]) or (has_value and stored != int(wanted[0, 0])):
        now = m.format(int(wanted[0, 0])) if defined[0, 0] else "no value"
        sentence = (
            f"{label} {shown}, derived from {quotient}, which gives {now} now "
            "(a part was changed after the cascade)"
        )
    elif has_value:
        sentence = f"{label} {shown} = {quotient} (derived, rounded half to even to {m.format(1)})"
    else:
        why = "the denominator is 0" if present[0, 0] else "a part has no value"
        sentence = f"{label} {shown}: {quotient} (derived; {why})"
    step = Step(
        node=plan.tree.compiled.ids[n],
        period=plan.calendar.periods[p].label,
        value=value,
        source="derived",
        from_node=None,
        from_period=None,
        split_total=None,
        strategy="",
        weight=None,
        weight_total=None,
        share=None,
        rounding=None,
        bound=None,
        parts=(m.numerator or "", m.denominator or ""),
        sentence=sentence,
    )
    return Explanation(metric=m.name, unit=m.unit_label, steps=(step,))


class _GroupSplit(NamedTuple):
    """One cell's part in the split of its group (its siblings), in quanta and exact weights."""

    weight: float
    weight_total: float
    share: float | None
    rounding: int
    locked: int
    held: int


def _group_split(
    *,
    total: int,
    me: int,
    values: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    locked: npt.NDArray[np.bool_],
    held: npt.NDArray[np.bool_],
) -> _GroupSplit:
    """Recompute cell ``me``'s share of ``total`` among its group, the way the kernel split it.

    Locked siblings keep their lock and siblings held at a floor or cap keep their bound; the
    others share what is left by weight. The rounding is recomputed here from the very numbers
    the explanation states (the weights as the floats shown, sums in exact rationals), so
    ``trunc((total - locked - held) x weight / weight_total) + rounding`` is the cell exactly.
    """
    held = held & ~locked  # a lock is never a bound's doing
    value = int(values[me])
    locked_sum = int(values[locked].sum())
    w = float(weights[me])
    if held[me] and _took_the_rest(
        me=me, total=total, values=values, weights=weights, locked=locked, held=held
    ):
        # the kernel caps a child at what is left to split and flags it held there; a child alone
        # in sharing the rest took it by its share (100 %), not by the user's floor or cap
        held = held.copy()
        held[me] = False
    if held[me]:
        w_total = float(np.sum(weights[~locked]))
        held_others = int(values[held].sum()) - value
        return _GroupSplit(w, w_total, None, 0, locked_sum, held_others)
    held_sum = int(values[held].sum())
    free = ~locked & ~held
    w_total = float(np.sum(weights[free]))
    share = w / w_total if w_total else 0.0
    rest = total - locked_sum - held_sum
    exact = Fraction(rest) * Fraction(w) / Fraction(w_total) if w_total else Fraction(0)
    return _GroupSplit(w, w_total, share, value - int(exact), locked_sum, held_sum)


def _took_the_rest(
    *,
    me: int,
    total: int,
    values: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    locked: npt.NDArray[np.bool_],
    held: npt.NDArray[np.bool_],
) -> bool:
    """Whether cell ``me`` is the only weighted child left sharing, and took all that was left."""
    if not weights[me] > 0:
        # a child of no weight takes nothing by its share: what it holds is its bound's doing
        return False
    others = ~locked & ~held
    others[me] = False
    rest = total - int(values[locked].sum()) - int(values[held].sum()) + int(values[me])
    return int(values[me]) == rest and not bool((weights[others] > 0).any())


def _less(quanta: int, shown: Callable[[int], str]) -> str:
    """``quanta`` taken away, signed for reading: ``- 5 deal``, or ``+ 5 deal`` for -5 deal."""
    return f"- {shown(quanta)}" if quanta >= 0 else f"+ {shown(-quanta)}"


def _plus(quanta: int, shown: Callable[[int], str]) -> str:
    """``quanta`` added, signed for reading: ``+ 1 deal``, or ``- 1 deal`` for -1 deal."""
    return f"+ {shown(quanta)}" if quanta >= 0 else f"- {shown(-quanta)}"


def _split_total(plan: Plan, k: int, parent: int, p: int, hedges: Mapping[str, Fraction]) -> int:
    """What was split among ``parent``'s children in period ``p``: its value, over-assigned."""
    compiled = plan.tree.compiled
    level = plan.tree.levels.names[int(compiled.level_code[parent])]
    hedge = hedges.get(level)
    if not hedge:
        return int(plan.values[k][parent, p])
    row = plan.values[k][parent : parent + 1]
    # the engine splits a negative target as the mirror of the positive one, hedged totals included
    sign = -1 if int(row[0, 0]) < 0 else 1
    return sign * int(hedged_period_totals(sign * row, hedge, plan.calendar.child_offsets)[0, p])


def _parts(plan: Plan, k: int, n: int, p: int) -> list[tuple[str, int]]:
    """The cells a rolled-up cell sums: its sub-periods in the grid, or else its children."""
    values = plan.values[k]
    calendar = plan.calendar
    compiled = plan.tree.compiled
    offsets = calendar.child_offsets
    lo, hi = int(offsets[p]), int(offsets[p + 1])
    if hi > lo:
        return [(calendar.periods[c].label, int(values[n, c])) for c in range(lo, hi)]
    clo, chi = int(compiled.child_offsets[n]), int(compiled.child_offsets[n + 1])
    return [(compiled.ids[c], int(values[c, p])) for c in range(clo, chi)]
