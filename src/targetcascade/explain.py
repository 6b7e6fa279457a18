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

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import numpy as np

from targetcascade._rules import hedged_period_totals
from targetcascade.errors import PlanError
from targetcascade.plan import Origin, Plan, Source

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
        value: The cell's value in the metric's unit.
        source: How it was derived: ``target``, ``org_split``, ``time_split``, ``rolled_up``,
            ``locked``, ``balanced`` or ``edited``.
        from_node: Node of the cell it was split from (the parent node, or the same node in a time
            split), or None.
        from_period: Period of that cell, or None.
        split_total: The total that was split (after over-assignment), or None.
        strategy: Label of the strategy used, or "".
        weight: The cell's weight, or None.
        weight_total: Sum of the weights it was split against, or None.
        share: ``weight / weight_total``, or None.
        rounding: What rounding added, in the metric's unit, or None.
        bound: ``"floor"`` or ``"cap"`` when one held the cell, else None.
        parts: For a rolled-up cell, the labels of the cells it sums.
        sentence: The step as a sentence.

    Example:
        >>> Step(node="a", period="FY2027", value=Decimal(5), source="target", from_node=None,
        ...      from_period=None, split_total=None, strategy="", weight=None, weight_total=None,
        ...      share=None, rounding=None, bound=None, parts=(), sentence="a FY2027 5 = target").source
        'target'
    """

    node: str
    period: str
    value: Decimal
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
    source = provenance.source[m.name]
    weight = provenance.weight[m.name]
    quota = provenance.quota[m.name]  # the balanced step reports the fitted value
    adjustment = provenance.adjustment[m.name]
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
            siblings = weight[lo:hi, p]
            locked = source[lo:hi, p] == _LOCKED
            locked_sum = int(values[lo:hi, p][locked].sum())
            label = labels[int(provenance.org_strategy[m.name][n])]
        else:  # TIME_SPLIT
            from_n, from_p = n, int(calendar.parent_index[p])
            offsets = calendar.child_offsets
            lo, hi = int(offsets[from_p]), int(offsets[from_p + 1])
            siblings = weight[n, lo:hi]
            locked = source[n, lo:hi] == _LOCKED
            locked_sum = int(values[n, lo:hi][locked].sum())
            label = labels[int(provenance.time_strategy[m.name][n])]
        if code is Source.ORG_SPLIT:
            total = _split_total(plan, k, from_n, p, hedges)
        else:  # a node's period is split over its sub-periods as it is
            total = int(values[from_n, from_p])
        w = float(weight[n, p])
        w_total = float(np.sum(siblings[~locked]))
        share = w / w_total if w_total else 0.0
        rounding = int(adjustment[n, p])
        base.update(
            from_node=ids[from_n],
            from_period=periods[from_p].label,
            split_total=m.from_quanta(total),
            strategy=label,
            weight=w,
            weight_total=w_total,
            share=share,
            rounding=m.from_quanta(rounding),
            bound=_BOUND_NAMES.get(int(bound[n, p])),
        )
        held = f", held at its {base['bound']}" if base["bound"] else ""
        name = label.split(":")[0]
        source_cell = f"{ids[from_n]} {periods[from_p].label} {shown(total)}"
        if locked_sum:
            source_cell = f"({source_cell} - {shown(locked_sum)} locked)"
        percent = f"{share:.2%}".replace("%", " %")
        sentence = (
            f"{head} = {source_cell} x {percent}"
            f" ({name}: weight {_weight(w)} of {_weight(w_total)}{held}) + {shown(rounding)} rounding"
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
    """A note per fallback taken by a node whose split is a step of the chain."""
    if not plan.fallbacks:
        return ()
    split = {step.node for step in steps if step.source in ("org_split", "time_split")}
    return tuple(
        f"{f.node} has its weight from the fallback of {f.strategy} ({f.reason})"
        for f in plan.fallbacks
        if f.metric == metric and f.node in split
    )


def _weight(x: float) -> str:
    """A weight as read: a whole number in full (history in quanta: 1,200,000), else 4 digits."""
    if x.is_integer() and abs(x) <= 2**53:
        return f"{int(x):,}"
    return f"{x:,.4g}"


def _split_total(plan: Plan, k: int, parent: int, p: int, hedges: Mapping[str, Fraction]) -> int:
    """What was split among ``parent``'s children in period ``p``: its value, over-assigned."""
    compiled = plan.tree.compiled
    level = plan.tree.levels.names[int(compiled.level_code[parent])]
    hedge = hedges.get(level)
    if not hedge:
        return int(plan.values[k][parent, p])
    row = plan.values[k][parent : parent + 1]
    return int(hedged_period_totals(row, hedge, plan.calendar.child_offsets)[0, p])


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
