"""Invariant checks: recompute every promise of a plan from its grid alone.

:func:`check` never trusts the engine that built a plan: it re-derives each rule from the tree, the
calendar and the integer grid, vectorised over the compiled arrays (segment sums), and returns a
:class:`CheckReport` of structured :class:`Violation` objects.

Rules (:class:`Rule`):

* ``org_additivity``: for every sum metric, parent and period, the children sum to the parent, or to
  ``round(parent x (1 + h))`` where over-assignment ``h`` is declared for the parent's level.
* ``time_additivity``: for every sum metric and node, months add up to their quarter, quarters to the year.
* ``ratio_consistency``: a ratio metric equals numerator / denominator rounded half to even to its quantum,
  and has no value where the denominator is zero or a part is missing.
* ``non_negative``: no negative value for metrics declared ``non_negative``.
* ``missing_child``: a cell with no value under a parent cell (in the tree or in time) that has one.
* ``tree`` and ``calendar``: the compiled tree and the period tree are well formed.
* ``limit``: no cell beyond ``MAX_QUANTA`` (2**53 quanta) in magnitude, the size limit every door of
  the library enforces (an imported grid may hold more; the other rules then still add up exactly,
  without wrapping int64).

Example:
    >>> from targetcascade import FiscalCalendar, Metric, OrgTree, Plan
    >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"},
    ...                              {"id": "east", "parent": "acme", "level": "region"}])
    >>> rows = [{"node": "east", "period": f"FY2027-M{m:02d}", "metric": "deals", "value": 2}
    ...         for m in range(1, 13)]
    >>> plan = Plan.from_leaf_values(tree, FiscalCalendar(fiscal_year=2027),
    ...                              [Metric(name="deals", unit="deal")], rows)
    >>> check(plan).ok
    True
    >>> broken = plan.with_values([{"node": "east", "period": "FY2027-M01", "metric": "deals", "value": 3}])
    >>> print(check(broken))  # doctest: +NORMALIZE_WHITESPACE
    2 violations in 34 cells (org_additivity: 1, time_additivity: 1)
      org_additivity     acme FY2027-M01 deals: 'acme' children sum to 3 deal but the parent is 2 deal
      in FY2027-M01 (off by 1 deal)
      time_additivity    east FY2027-Q1 deals: 'acme/east' months of FY2027-Q1 sum to 7 deal but
      FY2027-Q1 is 6 deal (off by 1 deal)
"""

from __future__ import annotations

import enum
import itertools
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade._rules import (
    MAX_QUANTA,
    as_slice,
    hedged_bounds,
    hedged_total,
    over_limit,
    segment_sums,
)
from targetcascade.errors import CheckFailedError
from targetcascade.metric import Metric, Rollup
from targetcascade.plan import Origin, Plan, ratio_quanta

__all__ = ["CheckReport", "Rule", "Violation", "check"]

#: At most this many violations are materialised as objects by default; counts stay exact.
DEFAULT_MAX_VIOLATIONS = 10_000

#: Nodes per block when adding periods up (time additivity): 8,192 rows of 17 int64 periods are about
#: 1.1 MB, so a block stays in cache while its months, quarters and year are summed and compared
#: (4,096 to 16,384 measured within a few percent of each other on the 10^6 benchmark).
_BLOCK_ROWS = 8192

#: Sibling groups of equal size that follow each other are summed with one reshape when the run spans
#: at least this many rows; ``np.add.reduceat`` along the node axis pays about 150 ns per row (a
#: 17-wide inner loop per row), the reshape a few microseconds per call, so it wins on longer runs.
_MIN_RUN_ROWS = 64

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Rule(enum.Enum):
    """The invariants :func:`check` verifies.

    Example:
        >>> Rule("org_additivity") is Rule.ORG_ADDITIVITY
        True
    """

    ORG_ADDITIVITY = "org_additivity"
    TIME_ADDITIVITY = "time_additivity"
    RATIO_CONSISTENCY = "ratio_consistency"
    NON_NEGATIVE = "non_negative"
    MISSING_CHILD = "missing_child"
    TREE = "tree"
    CALENDAR = "calendar"
    LIMIT = "limit"


@attrs.frozen(kw_only=True)
class Violation:
    """One broken invariant, located and quantified.

    Args:
        rule: Which rule.
        node: Node id (the parent for additivity rules), or None for calendar rules.
        period: Period label (the parent period for time additivity), or None for tree rules.
        metric: Metric name, or None for tree / calendar rules.
        expected: What the rule requires, in the metric's unit (None where not a number).
        actual: What the grid holds (None for a missing value).
        unit: The metric's unit label ("" for structural rules).
        message: A readable sentence naming the cell and what is off.

    Example:
        >>> v = Violation(rule=Rule.NON_NEGATIVE, node="bob", period="FY2027-M03", metric="revenue",
        ...               expected=Decimal("0"), actual=Decimal("-5.00"), unit="CNY", message="...")
        >>> v.difference
        Decimal('-5.00')
    """

    rule: Rule
    node: str | None
    period: str | None
    metric: str | None
    expected: Decimal | None
    actual: Decimal | None
    unit: str
    message: str

    @property
    def difference(self) -> Decimal | None:
        """``actual - expected`` when both are numbers, else None.

        Example:
            >>> Violation(rule=Rule.ORG_ADDITIVITY, node="a", period="FY2027", metric="m",
            ...           expected=Decimal(10), actual=Decimal(8), unit="deal", message="").difference
            Decimal('-2')
        """
        if self.expected is None or self.actual is None:
            return None
        return self.actual - self.expected

    def to_dict(self) -> dict[str, Any]:
        """The violation as a JSON-safe dict (numbers as strings, exact).

        Example:
            >>> Violation(rule=Rule.TREE, node=None, period=None, metric=None, expected=None,
            ...           actual=None, unit="", message="two roots").to_dict()["rule"]
            'tree'
        """
        return {
            "rule": self.rule.value,
            "node": self.node,
            "period": self.period,
            "metric": self.metric,
            "expected": None if self.expected is None else str(self.expected),
            "actual": None if self.actual is None else str(self.actual),
            "difference": None if self.difference is None else str(self.difference),
            "unit": self.unit,
            "message": self.message,
        }


def _violation_tuple(violations: Iterable[Violation]) -> tuple[Violation, ...]:
    return tuple(violations)


@attrs.frozen(kw_only=True)
class CheckReport:
    """What :func:`check` found.

    Args:
        violations: The violations, in a deterministic order (rule, metric, node, period).
        counts: Exact number of violations per rule (may exceed ``len(violations)`` when truncated).
        cells_checked: Number of grid cells the rules looked at.
        truncated: True when more violations exist than were materialised.

    Example:
        >>> report = CheckReport(violations=(), counts={}, cells_checked=17)
        >>> report.ok, str(report)
        (True, 'ok: 17 cells, no violations')
    """

    violations: tuple[Violation, ...] = attrs.field(converter=_violation_tuple)
    counts: dict[Rule, int] = attrs.field(factory=dict)
    cells_checked: int = 0
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when no rule is broken.

        Example:
            >>> CheckReport(violations=(), counts={}, cells_checked=0).ok
            True
        """
        return not any(self.counts.values())

    @property
    def total(self) -> int:
        """Exact number of violations over all rules.

        Example:
            >>> CheckReport(violations=(), counts={Rule.TREE: 2}, cells_checked=0).total
            2
        """
        return sum(self.counts.values())

    def by_rule(self, rule: Rule | str) -> tuple[Violation, ...]:
        """The materialised violations of one rule.

        Args:
            rule: A :class:`Rule` or its value.

        Returns:
            The violations of that rule.

        Example:
            >>> CheckReport(violations=(), counts={}, cells_checked=0).by_rule("tree")
            ()
        """
        wanted = Rule(rule)
        return tuple(v for v in self.violations if v.rule is wanted)

    def raise_if_failed(self) -> None:
        """Raise :class:`~targetcascade.errors.CheckFailedError` when a rule is broken.

        Raises:
            CheckFailedError: With the report's summary and first violations as its message.

        Example:
            >>> CheckReport(violations=(), counts={}, cells_checked=0).raise_if_failed()
        """
        if self.ok:
            return
        first = self.violations[0] if self.violations else None
        raise CheckFailedError(
            str(self),
            node=None if first is None else first.node,
            period=None if first is None else first.period,
            metric=None if first is None else first.metric,
            expected=None if first is None else first.expected,
            actual=None if first is None else first.actual,
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-safe dict.

        Example:
            >>> CheckReport(violations=(), counts={}, cells_checked=3).to_dict()["ok"]
            True
        """
        return {
            "ok": self.ok,
            "cells_checked": self.cells_checked,
            "truncated": self.truncated,
            "counts": {rule.value: n for rule, n in self.counts.items()},
            "violations": [v.to_dict() for v in self.violations],
        }

    def _summary(self) -> str:
        if self.ok:
            return f"ok: {self.cells_checked:,} cells, no violations"
        parts = ", ".join(f"{rule.value}: {n:,}" for rule, n in self.counts.items() if n)
        noun = "violation" if self.total == 1 else "violations"
        return f"{self.total:,} {noun} in {self.cells_checked:,} cells ({parts})"

    def __str__(self) -> str:
        return self.format()

    def format(self, limit: int = 20) -> str:
        """A readable report: the summary line, then up to ``limit`` violations.

        Args:
            limit: How many violations to list.

        Returns:
            The text.

        Example:
            >>> print(CheckReport(violations=(), counts={}, cells_checked=5).format())
            ok: 5 cells, no violations
        """
        lines = [self._summary()]
        for v in self.violations[:limit]:
            where = " ".join(x for x in (v.node, v.period, v.metric) if x)
            lines.append(f"  {v.rule.value:<18} {where}: {v.message}")
        hidden = self.total - min(limit, len(self.violations))
        if hidden > 0:
            lines.append(f"  ... and {hidden:,} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from targetcascade._display import report_html  # noqa: PLC0415 - display only on demand

        return report_html(self)


def check(
    plan: Plan,
    *,
    rules: Iterable[Rule | str] | None = None,
    max_violations: int | None = DEFAULT_MAX_VIOLATIONS,
) -> CheckReport:
    """Verify every invariant of ``plan`` from its grid alone.

    Args:
        plan: The plan (built by the engine, imported, or edited by hand).
        rules: Only these rules (default: all).
        max_violations: Materialise at most this many :class:`Violation` objects (None: all);
            :attr:`CheckReport.counts` stays exact either way.

    Returns:
        The report.

    Example:
        >>> from targetcascade import FiscalCalendar, Metric, OrgTree, Plan
        >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
        >>> plan = Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])
        >>> check(plan.with_values([{"node": "acme", "period": "FY2027", "metric": "deals",
        ...                          "value": 5}])).counts[Rule.MISSING_CHILD]
        4
    """
    wanted = list(Rule) if rules is None else [Rule(r) for r in rules]
    checker = _Checker(plan, max_violations)
    for rule in Rule:
        if rule in wanted:
            getattr(checker, f"_rule_{rule.value}")()
    counts = {rule: checker.counts[rule] for rule in Rule if rule in wanted}
    return CheckReport(
        violations=tuple(checker.found),
        counts=counts,
        cells_checked=int(plan.values.size),
        truncated=checker.truncated,
    )


class _Checker:
    """Holds the plan's compiled arrays and collects violations; one method per rule."""

    def __init__(self, plan: Plan, max_violations: int | None) -> None:
        self.plan = plan
        self.compiled = plan.tree.compiled
        self.periods = plan.calendar.periods
        self.limit = max_violations
        self.found: list[Violation] = []
        self.counts: Counter[Rule] = Counter()
        self.truncated = False
        self._full: dict[int, bool] = {}
        self._masks: dict[int, BoolArray] = {}
        self._peaks: dict[int, int] = {}

    # -------------------------------------------------------------- bookkeeping

    def _room(self, rule: Rule, count: int) -> int:
        """Record ``count`` violations of ``rule``; return how many may still be materialised."""
        self.counts[rule] += count
        if self.limit is None:
            return count
        room = max(self.limit - len(self.found), 0)
        if count > room:
            self.truncated = True
        return min(count, room)

    def _path(self, index: int) -> str:
        return self.plan.tree.path(self.compiled.ids[index])

    def _add(
        self,
        rule: Rule,
        *,
        node: int | None,
        period: int | None,
        metric: Metric | None,
        expected: int | None,
        actual: int | None,
        message: str,
    ) -> None:
        self.found.append(
            Violation(
                rule=rule,
                node=None if node is None else self.compiled.ids[node],
                period=None if period is None else self.periods[period].label,
                metric=None if metric is None else metric.name,
                expected=None
                if expected is None or metric is None
                else metric.from_quanta(expected),
                actual=None if actual is None or metric is None else metric.from_quanta(actual),
                unit="" if metric is None else metric.unit_label,
                message=message,
            )
        )

    def _sum_metrics(self) -> list[tuple[int, Metric, Int64Array]]:
        return [
            (k, m, self.plan.values[k])
            for k, m in enumerate(self.plan.metrics)
            if m.rollup is Rollup.SUM
        ]

    def _all_present(self, k: int) -> bool:
        """Whether every cell of metric ``k`` has a value (the common case, which skips masks)."""
        if k not in self._full:
            origins = self.plan.origins[k]
            # MISSING is 0, the smallest origin code, so the minimum tells without a full-size mask.
            self._full[k] = origins.size == 0 or int(origins.min()) > Origin.MISSING
        return self._full[k]

    def _peak(self, k: int) -> int:
        """The largest magnitude in metric ``k``'s grid, computed once per check."""
        if k not in self._peaks:
            self._peaks[k] = _peak(self.plan.values[k])
        return self._peaks[k]

    def _present(self, k: int) -> BoolArray:
        """Where metric ``k`` has a value, computed once per check."""
        if k not in self._masks:
            self._masks[k] = self.plan.origins[k] != Origin.MISSING
        return self._masks[k]

    def _complete(
        self,
        present: BoolArray,
        parents: Int64Array,
        offsets: Int64Array,
        axis: int,
    ) -> BoolArray | None:
        """Where a parent and all its children have values (None: everywhere, the common case)."""
        if present.all():
            return None
        if axis == 0:
            _, counts = _node_segment_sums(present.astype(np.int64), offsets)
        else:
            _, counts = segment_sums(present.astype(np.int64), offsets, axis=axis)
        sizes = np.diff(offsets)[parents]
        if axis == 0:
            result: BoolArray = present[parents] & (counts == sizes[:, None])
        else:
            result = present[:, parents] & (counts == sizes[None, :])
        return result

    # -------------------------------------------------------------- rules

    def _rule_org_additivity(self) -> None:
        offsets = self.compiled.child_offsets
        level_names = self.plan.tree.levels.names
        widest = int(np.diff(offsets).max(initial=0))
        for k, metric, values in self._sum_metrics():
            if widest * self._peak(k) < 2**63:
                parents, sums = _node_segment_sums(values, offsets)
            else:
                # an imported grid big enough for int64 sums to wrap: Python integers, exactly
                parents, sums = segment_sums(values.astype(object), offsets, axis=0)
            complete = (
                None
                if self._all_present(k)
                else self._complete(self._present(k), parents, offsets, axis=0)
            )
            expected = values[parents]
            low = high = expected
            codes = self.compiled.level_code[parents]
            hedged = {
                code: self.plan.hedge(level_names[code], metric.name)
                for code in np.unique(codes).tolist()
            }
            if any(hedged.values()):
                # hedged totals are exact (Python ints where int64 would wrap)
                parts = []
                for code, hedge in hedged.items():
                    if hedge:
                        rows = codes == code
                        floor, ceiling = hedged_bounds(values[parents][rows], hedge)
                        total = hedged_total(values[parents][rows], hedge)
                        parts.append((rows, total, floor, ceiling))
                wide = any(a.dtype == object for part in parts for a in part[1:])
                kind = object if wide else np.int64
                expected, low, high = (a.astype(kind) for a in (expected, expected, expected))
                for rows, total, floor, ceiling in parts:
                    expected[rows], low[rows], high[rows] = total, floor, ceiling
                # Over-assigned: the year must be the rounded hedged value; other periods the floor
                # or ceiling of their exact hedged value (see _rules.hedged_period_totals for why).
                low[:, 0] = high[:, 0] = expected[:, 0]
                wrong = (sums < low) | (sums > high)
            else:
                wrong = sums != expected
            bad_rows, bad_cols = np.nonzero(wrong if complete is None else complete & wrong)
            for i in range(self._room(Rule.ORG_ADDITIVITY, bad_rows.size)):
                r, p = int(bad_rows[i]), int(bad_cols[i])
                node = int(parents[r])
                got = int(sums[r, p])
                hedge = self.plan.hedge(level_names[self.compiled.level_code[node]], metric.name)
                if not hedge:
                    want = int(expected[r, p])
                    rule = f"the parent is {metric.format(want)}"
                elif p == 0:
                    want = int(expected[r, p])
                    rule = f"parent x (1 + {hedge}) rounded is {metric.format(want)}"
                else:
                    want = int(low[r, p]) if got < low[r, p] else int(high[r, p])
                    rule = (
                        f"parent x (1 + {hedge}) lies between {metric.format(int(low[r, p]))} "
                        f"and {metric.format(int(high[r, p]))}"
                    )
                self._add(
                    Rule.ORG_ADDITIVITY,
                    node=node,
                    period=p,
                    metric=metric,
                    expected=want,
                    actual=got,
                    message=f"{self._path(node)!r} children sum to {metric.format(got)} but "
                    f"{rule} in {self.periods[p].label} "
                    f"(off by {metric.format(got - want)})",
                )

    def _rule_time_additivity(self) -> None:
        offsets = self.plan.calendar.child_offsets
        widest = int(np.diff(offsets).max(initial=0))
        for k, metric, values in self._sum_metrics():
            if widest * self._peak(k) < 2**63:
                periods, bad_nodes, bad_cols, sums, expected = _period_mismatches(values, offsets)
            else:
                # an imported grid big enough for int64 sums to wrap: Python integers, exactly
                periods, exact = segment_sums(values.astype(object), offsets, axis=1)
                bad_nodes, bad_cols = np.nonzero(exact != values[:, periods])
                sums = exact[bad_nodes, bad_cols]
                expected = values[:, periods][bad_nodes, bad_cols]
            if bad_nodes.size and not self._all_present(k):
                # Whether a cell is complete depends on its own node's row only: look at those rows
                # (bad_nodes is in row order, so each node's first mismatch starts a new row).
                new_row = np.ones(bad_nodes.size, dtype=np.bool_)
                new_row[1:] = bad_nodes[1:] != bad_nodes[:-1]
                rows = bad_nodes[new_row]
                complete = self._complete(self._present(k)[rows], periods, offsets, axis=1)
                if complete is not None:
                    keep = complete[np.cumsum(new_row) - 1, bad_cols]
                    bad_nodes, bad_cols = bad_nodes[keep], bad_cols[keep]
                    sums, expected = sums[keep], expected[keep]
            for i in range(self._room(Rule.TIME_ADDITIVITY, bad_nodes.size)):
                node, c = int(bad_nodes[i]), int(bad_cols[i])
                p = int(periods[c])
                want, got = int(expected[i]), int(sums[i])
                label = self.periods[p].label
                parts = "months" if p > 0 else "quarters"
                self._add(
                    Rule.TIME_ADDITIVITY,
                    node=node,
                    period=p,
                    metric=metric,
                    expected=want,
                    actual=got,
                    message=f"{self._path(node)!r} {parts} of {label} sum to {metric.format(got)} "
                    f"but {label} is {metric.format(want)} (off by {metric.format(got - want)})",
                )

    def _rule_ratio_consistency(self) -> None:
        for k, metric in enumerate(self.plan.metrics):
            if metric.rollup is not Rollup.RATIO:
                continue
            expected, defined = ratio_quanta(self.plan, metric)
            values = self.plan.values[k]
            present = self._present(k)
            bad = (defined != present) | (defined & (values != expected))
            nodes, periods = np.nonzero(bad)
            for i in range(self._room(Rule.RATIO_CONSISTENCY, nodes.size)):
                n, p = int(nodes[i]), int(periods[i])
                want = int(expected[n, p]) if defined[n, p] else None
                got = int(values[n, p]) if present[n, p] else None
                shown_want = "no value" if want is None else metric.format(want)
                shown_got = "no value" if got is None else metric.format(got)
                self._add(
                    Rule.RATIO_CONSISTENCY,
                    node=n,
                    period=p,
                    metric=metric,
                    expected=want,
                    actual=got,
                    message=f"{self._path(n)!r} {metric.name} in {self.periods[p].label} is "
                    f"{shown_got} but {metric.numerator} / {metric.denominator} gives {shown_want}",
                )

    def _rule_non_negative(self) -> None:
        for k, metric in enumerate(self.plan.metrics):
            if not metric.non_negative:
                continue
            values = self.plan.values[k]
            if values.size == 0 or int(values.min()) >= 0:
                continue  # the common case, without a full-size mask
            nodes, periods = np.nonzero((values < 0) & self._present(k))
            for i in range(self._room(Rule.NON_NEGATIVE, nodes.size)):
                n, p = int(nodes[i]), int(periods[i])
                self._add(
                    Rule.NON_NEGATIVE,
                    node=n,
                    period=p,
                    metric=metric,
                    expected=0,
                    actual=int(values[n, p]),
                    message=f"{self._path(n)!r} has {metric.format(int(values[n, p]))} in "
                    f"{self.periods[p].label}, but {metric.name} may not be negative",
                )

    def _rule_missing_child(self) -> None:
        parent = self.compiled.parent
        period_parent = self.plan.calendar.parent_index
        for k, metric, _values in self._sum_metrics():
            if self._all_present(k):
                continue
            present = self._present(k)
            # in the tree: child missing where its parent (same period) has a value
            org_gap = np.zeros_like(present)
            org_gap[1:] = present[parent[1:]] & ~present[1:]
            # in time: period missing where its parent period (same node) has a value
            time_gap = np.zeros_like(present)
            time_gap[:, 1:] = present[:, period_parent[1:]] & ~present[:, 1:]
            nodes, periods = np.nonzero(org_gap | time_gap)
            for i in range(self._room(Rule.MISSING_CHILD, nodes.size)):
                n, p = int(nodes[i]), int(periods[i])
                if org_gap[n, p]:
                    above = f"its parent {self._path(int(parent[n]))!r} has one"
                else:
                    above = f"{self.periods[int(period_parent[p])].label} has one"
                self._add(
                    Rule.MISSING_CHILD,
                    node=n,
                    period=p,
                    metric=metric,
                    expected=None,
                    actual=None,
                    message=f"{self._path(n)!r} has no {metric.name} value in "
                    f"{self.periods[p].label} but {above}",
                )

    def _rule_limit(self) -> None:
        for k, metric in enumerate(self.plan.metrics):
            values = self.plan.values[k]
            if self._peak(k) <= MAX_QUANTA:
                continue  # the common case, without a full-size mask
            nodes, periods = np.nonzero(over_limit(values) & self._present(k))
            for i in range(self._room(Rule.LIMIT, nodes.size)):
                n, p = int(nodes[i]), int(periods[i])
                value = int(values[n, p])
                self._add(
                    Rule.LIMIT,
                    node=n,
                    period=p,
                    metric=metric,
                    expected=MAX_QUANTA if value > 0 else -MAX_QUANTA,
                    actual=value,
                    message=f"{self._path(n)!r} has {metric.format(value)} in "
                    f"{self.periods[p].label}, beyond the limit of {metric.format(MAX_QUANTA)} "
                    "in magnitude (2**53 quanta)",
                )

    def _rule_tree(self) -> None:
        problems = _tree_problems(self.compiled.parent, self.compiled.child_offsets)
        for i in range(self._room(Rule.TREE, len(problems))):
            self._add(
                Rule.TREE,
                node=None,
                period=None,
                metric=None,
                expected=None,
                actual=None,
                message=problems[i],
            )

    def _rule_calendar(self) -> None:
        problems = _calendar_problems(self.plan)
        for i in range(self._room(Rule.CALENDAR, len(problems))):
            self._add(
                Rule.CALENDAR,
                node=None,
                period=None,
                metric=None,
                expected=None,
                actual=None,
                message=problems[i],
            )


def _peak(values: Int64Array) -> int:
    """The largest magnitude in ``values``, as a Python int (int64's minimum included)."""
    if values.size == 0:
        return 0
    return max(abs(int(values.max())), abs(int(values.min())))


def _equal_runs(
    offsets: Int64Array,
) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array] | None:
    """Runs of consecutive non-empty CSR segments of equal size.

    Returns ``(parents, starts, sizes, bounds)``: the non-empty segments, their first positions and
    sizes, and the run boundaries as indices into ``parents`` (run ``r`` is
    ``parents[bounds[r]:bounds[r + 1]]``, all of size ``sizes[bounds[r]]``). Because the segments tile
    their axis in order, the children of one run are the contiguous positions
    ``starts[bounds[r]] : starts[bounds[r]] + count x size``. None when the offsets do not tile in
    order (a malformed structure, left to the general path so that it behaves exactly as before).
    """
    counts = np.diff(offsets)
    if counts.size == 0 or int(counts.min()) < 0 or int(offsets[0]) < 0:
        return None
    parents = np.flatnonzero(counts > 0)
    sizes = counts[parents]
    starts = offsets[parents]
    edges = np.flatnonzero(sizes[1:] != sizes[:-1]) + 1
    bounds = np.concatenate([[0], edges, [parents.size]]).astype(np.int64)
    return parents, starts, sizes, bounds


def _node_segment_sums(values: Int64Array, offsets: Int64Array) -> tuple[Int64Array, Int64Array]:
    """``segment_sums(values, offsets, axis=0)``, the same integers, faster on regular trees.

    A run of sibling groups of equal size (the teams of 100 people of a region, say) is summed as one
    ``(groups, size, periods)`` reshape; the stretches between such runs go to ``np.add.reduceat``.
    Integer addition is exact and wraps the same in any order, so the sums are identical.
    """
    found = _equal_runs(offsets)
    if found is None or found[0].size == 0 or int(offsets[-1]) > values.shape[0]:
        return segment_sums(values, offsets, axis=0)
    parents, starts, sizes, bounds = found
    sums = np.empty((parents.size, values.shape[1]), dtype=np.int64)
    run_rows = np.diff(bounds) * sizes[bounds[:-1]]
    long_runs = np.flatnonzero(run_rows >= _MIN_RUN_ROWS).tolist()
    done = 0  # parents[:done] are summed
    for r in long_runs:
        first, stop = int(bounds[r]), int(bounds[r + 1])
        if done < first:
            _reduceat_rows(values, starts, sizes, first=done, stop=first, out=sums)
        row, size = int(starts[first]), int(sizes[first])
        block = values[row : row + (stop - first) * size]
        shaped = block.reshape(stop - first, size, values.shape[1])
        np.einsum("gsp->gp", shaped, out=sums[first:stop])
        done = stop
    if done < parents.size:
        _reduceat_rows(values, starts, sizes, first=done, stop=parents.size, out=sums)
    return parents, sums


def _reduceat_rows(
    values: Int64Array,
    starts: Int64Array,
    sizes: Int64Array,
    *,
    first: int,
    stop: int,
    out: Int64Array,
) -> None:
    """Sums of segments ``first:stop`` (contiguous rows) into ``out[first:stop]``."""
    row = int(starts[first])
    end = int(starts[stop - 1] + sizes[stop - 1])
    np.add.reduceat(values[row:end], starts[first:stop] - row, axis=0, out=out[first:stop])


def _period_mismatches(
    values: Int64Array, offsets: Int64Array
) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array]:
    """Where sub-periods do not add up to their period, in ``np.nonzero`` order (node, then period).

    Equivalent to ``periods, sums = segment_sums(values, offsets, axis=1)`` followed by
    ``np.nonzero(sums != values[:, periods])``, without full-size temporaries: the nodes are taken in
    cache-sized blocks, and each run of periods with the same number of sub-periods (the four
    quarters of three months) is added with one reshape and compared at once; only a block with a
    mismatch is gone through cell by cell.

    Returns:
        ``(periods, nodes, columns, sums, expected)``: the parent periods (columns of the sums), and
        for each mismatch its node, column, the sub-periods' sum and the period's value.
    """
    found = _equal_runs(offsets)
    if found is None or found[0].size == 0 or int(offsets[-1]) > values.shape[1]:
        periods, all_sums = segment_sums(values, offsets, axis=1)
        expected_all = values[:, periods]
        nodes, columns = np.nonzero(all_sums != expected_all)
        return periods, nodes, columns, all_sums[nodes, columns], expected_all[nodes, columns]
    periods, starts, sizes, bounds = found
    # The widest runs (the months) first, so that a block's rows are in cache before the narrower
    # runs read them again.
    runs = sorted(
        (
            _PeriodRun.of(periods, starts, sizes, int(first), int(stop))
            for first, stop in itertools.pairwise(bounds.tolist())
        ),
        key=lambda run: -run.width,
    )
    parent_columns = as_slice(periods)
    hits: list[tuple[Int64Array, Int64Array, Int64Array, Int64Array]] = []
    for top in range(0, values.shape[0], _BLOCK_ROWS):
        block = values[top : top + _BLOCK_ROWS]
        run_sums = [run.sums(block) for run in runs]
        if all(
            np.array_equal(sums, block[:, run.parents])
            for sums, run in zip(run_sums, runs, strict=True)
        ):
            continue
        sums = np.empty((block.shape[0], periods.size), dtype=np.int64)
        for part, run in zip(run_sums, runs, strict=True):
            sums[:, run.first : run.stop] = part.reshape(block.shape[0], run.stop - run.first)
        expected = block[:, parent_columns]
        nodes, columns = np.nonzero(sums != expected)
        hits.append((nodes + top, columns, sums[nodes, columns], expected[nodes, columns]))
    if not hits:
        empty = np.zeros(0, dtype=np.int64)
        return periods, empty, empty, empty, empty
    nodes, columns, got, want = (np.concatenate(parts) for parts in zip(*hits, strict=True))
    return periods, nodes, columns, got, want


@attrs.frozen(eq=False)
class _PeriodRun:
    """Consecutive parent periods with the same number of sub-periods, e.g. the four quarters."""

    first: int  # the run is columns first:stop of the sums (indices into the parent periods)
    stop: int
    column: int  # first sub-period; the run's sub-periods are column : column + width
    size: int  # sub-periods per parent
    parents: int | slice | Int64Array  # the parents' grid columns (an int for one parent)

    @classmethod
    def of(
        cls, periods: Int64Array, starts: Int64Array, sizes: Int64Array, first: int, stop: int
    ) -> _PeriodRun:
        parents = int(periods[first]) if stop - first == 1 else as_slice(periods[first:stop])
        return cls(first, stop, int(starts[first]), int(sizes[first]), parents)

    @property
    def width(self) -> int:
        return (self.stop - self.first) * self.size

    def sums(self, block: Int64Array) -> Int64Array:
        """Sub-period sums per node: ``(nodes, parents)``, or ``(nodes,)`` for a single parent.

        A single parent gets a 1-D result so that comparing it with its column runs as one long loop
        rather than one length-1 loop per node.
        """
        parts = block[:, self.column : self.column + self.width]
        if self.stop - self.first == 1:
            single: Int64Array = np.einsum("ns->n", parts)
            return single
        shaped = parts.reshape(block.shape[0], self.stop - self.first, self.size)
        several: Int64Array = np.einsum("ngs->ng", shaped)
        return several


def _tree_problems(parent: npt.NDArray[np.int64], offsets: npt.NDArray[np.int64]) -> list[str]:
    """Structural defects of a compiled (breadth-first, CSR) tree, recomputed from its arrays."""
    n = parent.size
    problems: list[str] = []
    roots = np.flatnonzero(parent < 0)
    if roots.tolist() != [0]:
        problems.append(f"compiled tree has roots at positions {roots.tolist()[:10]}, expected [0]")
    if offsets.size != n + 1 or n == 0:
        problems.append(f"child offsets have {offsets.size} entries for {n} nodes")
        return problems
    counts = np.diff(offsets)
    if offsets[0] != 1 or offsets[-1] != n or np.any(counts < 0):
        problems.append("child offsets do not tile positions 1..n-1 in order")
        return problems
    implied = np.repeat(np.arange(n), counts)
    if not np.array_equal(implied, parent[1:]):
        bad = int(np.flatnonzero(implied != parent[1:])[0]) + 1
        problems.append(
            f"node at position {bad} has parent {parent[bad]} but sits in the "
            f"children of {implied[bad - 1]}"
        )
    if np.any(parent[1:] >= np.arange(1, n)):
        problems.append("a parent comes after its child in breadth-first order (a cycle?)")
    return problems


def _calendar_problems(plan: Plan) -> list[str]:
    """Gaps or overlaps between a period's children, recomputed from the periods' dates."""
    periods = plan.calendar.periods
    offsets = plan.calendar.child_offsets
    problems: list[str] = []
    for i, period in enumerate(periods):
        children = periods[int(offsets[i]) : int(offsets[i + 1])]
        if not children:
            continue
        if children[0].start != period.start or children[-1].end != period.end:
            problems.append(
                f"{period.label} runs {period.start}..{period.end} but its children cover "
                f"{children[0].start}..{children[-1].end}"
            )
        for left, right in itertools.pairwise(children):
            if (right.start - left.end).days != 1:
                problems.append(
                    f"{left.label} ends {left.end} but {right.label} starts {right.start}"
                )
    return problems
