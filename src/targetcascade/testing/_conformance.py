"""The conformance suite every strategy must pass, public so plug-in authors can run it on theirs.

:func:`check_strategy` runs a fixed list of named checks (:data:`CHECKS`) on one strategy instance,
over small synthetic batches it builds itself (the seeded demo company of
:func:`targetcascade.synthetic.demo_company` and a hand-made tree with a lone child, a team whose
history is all zero and a new hire without history), or over batches you pass. It returns one
:class:`CheckResult` per check and, by default, raises :class:`~targetcascade.errors.StrategyError`
naming every failed check.

Example:
    >>> from targetcascade.allocation.org_strategies import Equal
    >>> results = check_strategy(Equal())
    >>> len(results) == len(CHECKS), all(r.passed for r in results)
    (True, True)
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import pickle
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade.allocation._batch import OrgBatch, TimeBatch
from targetcascade.allocation._history import History
from targetcascade.allocation._kernel import apportion
from targetcascade.allocation._registry import (
    Kind,
    StrategyRegistry,
    default_registry,
    reads_history,
    same_every_period,
    strategy_kind,
    validate_strategy_class,
)
from targetcascade.allocation.org_strategies import segment_sum
from targetcascade.calendar import FiscalCalendar
from targetcascade.errors import StrategyError, TargetCascadeError
from targetcascade.metric import Metric
from targetcascade.org import OrgTree
from targetcascade.plan import Plan
from targetcascade.synthetic import demo_company

__all__ = ["CHECKS", "CheckResult", "check_strategy", "children_batch"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Batch = OrgBatch | TimeBatch

#: The checks :func:`check_strategy` runs, in order. What each one requires:
#:
#: * ``declared``: the class declares ``name`` (str), ``needs_history`` (bool), optionally ``kind``
#:   and ``may_return_zero`` (bool), defines ``to_dict`` and the method of its kind.
#: * ``immutable``: an attrs class whose instances refuse attribute assignment and hash.
#: * ``repr``: ``repr(strategy)`` starts with the class name and ``(``.
#: * ``shape``: every batch gets a float64 ``numpy.ndarray`` of ``batch.shape`` back, no exception.
#: * ``finite``: no NaN or infinity.
#: * ``non_negative``: no negative weight.
#: * ``deterministic``: a second call, and a call by an unpickled copy, give the same bytes.
#: * ``inputs_untouched``: the batch, its tree and its history are unchanged by the call, and the
#:   result shares no memory with them.
#: * ``history_declared``: unless the strategy or a strategy among its parameters declares
#:   ``needs_history`` (:func:`~targetcascade.allocation._registry.reads_history`), the result is the
#:   same without history; otherwise a batch without history gets valid weights or a
#:   ``StrategyError``.
#: * ``permutation_equivariant``: rebuilding the tree with every parent's children in reverse input
#:   order and reversing the batch rows reverses the result (up to float rounding, rtol 1e-9).
#: * ``single_child``: a parent with one child gets valid weights for it (positive unless
#:   ``may_return_zero``).
#: * ``zero_parent``: children whose history is all zero, or missing, get valid weights or a
#:   ``StrategyError``; the parent's own value is never an input.
#: * ``all_zero_handled``: unless the class declares ``may_return_zero = True``, no parent segment
#:   column (org) or node row (time) comes back all zero.
#: * ``same_every_period``: an org strategy that declares ``same_every_period = True`` (and whose
#:   nested strategies do too, see :func:`~targetcascade.allocation._registry.same_every_period`)
#:   returns identical columns for every batch of several periods, and a batch cut to its first
#:   period gets exactly that column: the engine relies on both to weigh one column per level.
#: * ``picklable``: a pickled copy is equal and gives the same weights.
#: * ``serialisation_round_trip``: ``to_dict()`` survives JSON unchanged and
#:   ``registry.from_dict(strategy.to_dict()) == strategy``.
#: * ``scale_invariant``: the kernel splits the strategy's weights times a power of two (up to
#:   near the largest float, down to near the smallest normal one) exactly as the weights
#:   themselves, and equal weights of the largest float exactly as equal weights of 1: a strategy
#:   may return weights of any finite size, only their ratios within a parent (or node) count.
CHECKS: Final = (
    "declared",
    "immutable",
    "repr",
    "shape",
    "finite",
    "non_negative",
    "deterministic",
    "inputs_untouched",
    "history_declared",
    "permutation_equivariant",
    "single_child",
    "zero_parent",
    "all_zero_handled",
    "same_every_period",
    "picklable",
    "serialisation_round_trip",
    "scale_invariant",
)

_RTOL: Final = 1e-9


@attrs.frozen(kw_only=True)
class CheckResult:
    """The outcome of one conformance check.

    Args:
        check: The check's name (one of :data:`CHECKS`).
        passed: Whether the strategy passed it.
        detail: Why it failed, or a note on how it passed.

    Example:
        >>> CheckResult(check="shape", passed=False, detail="returned (3,), expected (3, 1)")
        CheckResult(check='shape', passed=False, detail='returned (3,), expected (3, 1)')
    """

    check: str
    passed: bool
    detail: str = ""


# ------------------------------------------------------------------------------------ batches


def children_batch(
    tree: OrgTree,
    calendar: FiscalCalendar,
    metric: Metric,
    parents: Sequence[str],
    *,
    periods: Sequence[str] | None = None,
    history: History | None = None,
) -> OrgBatch:
    """An org batch of all children of ``parents`` (in the tree's order), for the given periods.

    Args:
        tree: The organisation.
        calendar: The planning year.
        metric: The metric being split.
        parents: Ids of the parents, each with at least one child.
        periods: Period labels of the columns (default: the twelve months).
        history: Past years, if the strategy reads them.

    Returns:
        The batch.

    Raises:
        StrategyError: A parent has no children.
        UnknownNodeError: A parent id is not in the tree.

    Example:
        >>> from targetcascade.synthetic import demo_company
        >>> company = demo_company()
        >>> batch = children_batch(company.tree, company.calendar, company.metrics[0],
        ...                        ["north", "west"], periods=["FY2027"])
        >>> batch.ids, batch.offsets.tolist(), batch.shape
        (('north-1', 'north-2', 'north-3', 'west-1', 'west-2'), [0, 3, 5], (5, 1))
    """
    compiled = tree.compiled
    positions = np.array([compiled.index(p) for p in parents], dtype=np.int64)
    lo = compiled.child_offsets[positions]
    counts = compiled.child_offsets[positions + 1] - lo
    if (counts == 0).any():
        leaf = parents[int(np.flatnonzero(counts == 0)[0])]
        msg = f"{leaf!r} has no children to weigh"
        raise StrategyError(msg, node=leaf, hint="build batches from parents with children")
    shift = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    rows = shift + np.arange(int(counts.sum()), dtype=np.int64)
    if periods is None:
        columns = np.flatnonzero(calendar.level_array == calendar.level_array.max())
    else:
        columns = np.array([calendar.index(label) for label in periods], dtype=np.int64)
    return OrgBatch(
        tree=tree,
        calendar=calendar,
        metric=metric,
        rows=rows,
        offsets=np.concatenate([[0], np.cumsum(counts)]),
        parents=positions,
        periods=columns,
        history=history,
    )


def _all_nodes(
    tree: OrgTree, calendar: FiscalCalendar, metric: Metric, history: History
) -> TimeBatch:
    return TimeBatch(
        tree=tree, calendar=calendar, metric=metric, rows=np.arange(len(tree)), history=history
    )


_HAND_RECORDS: Final[tuple[dict[str, Any], ...]] = (
    {"id": "acme", "level": "company"},
    {"id": "east", "parent": "acme", "level": "region", "potential": 2.0},
    {"id": "east-t", "parent": "east", "level": "team", "potential": 2.0},
    {"id": "e1", "parent": "east-t", "level": "individual", "fte": 1.0,
     "start_date": dt.date(2020, 1, 1), "potential": 1.0},
    {"id": "e2", "parent": "east-t", "level": "individual", "fte": 0.5,
     "start_date": dt.date(2021, 3, 1), "potential": 1.0},
    {"id": "west", "parent": "acme", "level": "region", "potential": 1.0},
    {"id": "west-t", "parent": "west", "level": "team", "potential": 1.0},
    {"id": "w1", "parent": "west-t", "level": "individual", "fte": 1.0,
     "start_date": dt.date(2019, 5, 1), "potential": 1.5},
    {"id": "w2", "parent": "west-t", "level": "individual", "fte": 1.0,
     "start_date": dt.date(2027, 7, 1), "potential": 0.5},
    {"id": "solo", "parent": "acme", "level": "region", "potential": 1.0},
    {"id": "solo-t", "parent": "solo", "level": "team", "potential": 1.0},
    {"id": "s1", "parent": "solo-t", "level": "individual", "fte": 1.0,
     "start_date": dt.date(2022, 1, 1), "potential": 1.0},
)  # fmt: skip


def _hand_history(metric: Metric) -> History:
    """Two years of history: e1 and e2 sold nothing, w2 was not there, w1 and s1 sold."""
    tree = OrgTree.from_records([r for r in _HAND_RECORDS if r["id"] != "w2"])
    monthly = {
        "e1": np.zeros(12),
        "e2": np.zeros(12),
        "w1": np.arange(1, 13) * 100.0,
        "s1": np.full(12, 250.0),
    }
    leaves = [tree.compiled.ids[i] for i in np.flatnonzero(tree.compiled.is_leaf).tolist()]
    plans = []
    for offset, year in enumerate((2025, 2026)):
        values = np.array([monthly[leaf] * (1 + offset) for leaf in leaves], dtype=np.int64)
        plans.append(
            Plan.from_leaf_arrays(
                tree,
                FiscalCalendar(fiscal_year=year),
                [metric],
                {metric.name: values},
                origin="actual",
                kind="history",
            )
        )
    return History(plans=plans)


@attrs.frozen(kw_only=True, eq=False)
class _Fixtures:
    org: tuple[tuple[str, OrgBatch], ...]
    time: tuple[tuple[str, TimeBatch], ...]
    single_child: OrgBatch
    zero_parent: OrgBatch
    zero_time: TimeBatch


@functools.cache
def _fixtures() -> _Fixtures:
    company = demo_company()
    tree, calendar, metric = company.tree, company.calendar, company.metrics[0]
    history = History(plans=company.history)
    regions = list(tree.children("acme"))
    teams = [team for region in regions for team in tree.children(region)]
    quarters = [f"FY2027-Q{q}" for q in range(1, 5)]
    weekly = FiscalCalendar(fiscal_year=2027, start_month=4, pattern="4-4-5")
    every = [p.label for p in calendar.periods]
    org = (
        ("demo regions x year", children_batch(tree, calendar, metric, ["acme"],
                                               periods=["FY2027"], history=history)),
        ("demo teams x quarters", children_batch(tree, calendar, metric, regions,
                                                 periods=quarters, history=history)),
        ("demo people x months", children_batch(tree, calendar, metric, teams, history=history)),
        ("demo people x every period", children_batch(tree, calendar, metric, teams,
                                                      periods=every, history=history)),
        ("demo people x 4-4-5 months", children_batch(tree, weekly, metric, teams,
                                                      history=history)),
    )  # fmt: skip
    hand = OrgTree.from_records(_HAND_RECORDS)
    hand_history = _hand_history(metric)
    zero_time = _all_nodes(hand, calendar, metric, hand_history)
    time = (
        ("demo every node", _all_nodes(tree, calendar, metric, history)),
        ("demo every node, 4-4-5", _all_nodes(tree, weekly, metric, history)),
        ("hand tree every node", zero_time),
    )
    return _Fixtures(
        org=org,
        time=time,
        single_child=children_batch(
            hand, calendar, metric, ["solo", "solo-t"], periods=quarters, history=hand_history
        ),
        zero_parent=children_batch(
            hand, calendar, metric, ["east-t", "west-t"], history=hand_history
        ),
        zero_time=zero_time,
    )


@functools.lru_cache(maxsize=8)
def _reversed_tree(tree: OrgTree) -> OrgTree:
    return OrgTree.from_records(tree.to_records()[::-1], levels=tree.levels)


def _reversed(batch: Batch) -> Batch:
    """The same batch on the tree rebuilt with reversed children, rows (and segments) reversed."""
    tree = _reversed_tree(batch.tree)
    position = tree.compiled.position
    rows = np.array([position[i] for i in batch.ids[::-1]], dtype=np.int64)
    history = None if batch.history is None else History(plans=batch.history.plans)
    if isinstance(batch, TimeBatch):
        return attrs.evolve(batch, tree=tree, rows=rows, history=history)
    ids = batch.tree.compiled.ids
    parents = [position[ids[p]] for p in batch.parents.tolist()[::-1]]
    counts = np.diff(batch.offsets)[::-1]
    return attrs.evolve(
        batch,
        tree=tree,
        rows=rows,
        parents=parents,
        offsets=np.concatenate([[0], np.cumsum(counts)]),
        history=history,
    )


# ------------------------------------------------------------------------------------ running


@attrs.define
class _Outcome:
    value: Any = None
    error: BaseException | None = None


def _call(strategy: Any, batch: Batch, kind: Kind) -> _Outcome:
    try:
        value = strategy.weights(batch) if kind == "org" else strategy.profile(batch)
    except Exception as exc:  # noqa: BLE001 - a strategy's failure is a finding, not a crash
        return _Outcome(error=exc)
    return _Outcome(value=value)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _problem(outcome: _Outcome, batch: Batch) -> str | None:
    """Why an outcome is not a valid result for the batch (None if it is)."""
    if outcome.error is not None:
        return f"raised {_describe(outcome.error)}"
    value = outcome.value
    if not isinstance(value, np.ndarray):
        return f"returned a {type(value).__name__}, not a numpy array"
    if value.dtype != np.float64:
        return f"returned dtype {value.dtype}, not float64"
    if value.shape != batch.shape:
        return f"returned shape {value.shape}, expected {batch.shape}"
    if not np.isfinite(value).all():
        return "returned a NaN or infinite weight"
    if (value < 0).any():
        return "returned a negative weight"
    return None


def _zero_groups(value: FloatArray, batch: Batch) -> str | None:
    """Where a valid result has an all-zero segment column (org) or row (time)."""
    value = (value > 0).astype(np.float64)  # which weights count, not their (finite) size
    if isinstance(batch, TimeBatch):
        empty = np.flatnonzero(value.sum(axis=1) <= 0)
        if empty.size:
            return f"node {batch.ids[int(empty[0])]!r} got an all-zero profile"
        return None
    sums = segment_sum(value, batch.offsets)
    zero = np.argwhere(sums <= 0)
    if zero.size:
        s, p = (int(i) for i in zero[0])
        parent = batch.tree.compiled.ids[int(batch.parents[s])]
        label = batch.calendar.periods[int(batch.periods[p])].label
        return f"every child of {parent!r} got weight 0 in {label}"
    return None


@attrs.define
class _Context:
    strategy: Any
    kind: Kind
    batches: tuple[tuple[str, Batch], ...]
    registry: StrategyRegistry
    fixtures: _Fixtures
    outcomes: list[_Outcome] = attrs.Factory(list)

    def valid(self) -> list[tuple[str, Batch, FloatArray]]:
        return [
            (label, batch, outcome.value)
            for (label, batch), outcome in zip(self.batches, self.outcomes, strict=True)
            if _problem(outcome, batch) is None
        ]

    @property
    def may_return_zero(self) -> bool:
        return bool(getattr(type(self.strategy), "may_return_zero", False))


Check = Callable[[_Context], str | None]


def _check_declared(ctx: _Context) -> str | None:
    cls = type(ctx.strategy)
    try:
        validate_strategy_class(cls)
        found = strategy_kind(cls)
    except StrategyError as exc:
        return str(exc)
    if found != ctx.kind:
        return f"the class is a {found} strategy but was checked as {ctx.kind}"
    return None


def _check_immutable(ctx: _Context) -> str | None:
    cls = type(ctx.strategy)
    if not attrs.has(cls):
        return f"{cls.__name__} is not an attrs class; use @attrs.frozen(kw_only=True)"
    fields = attrs.fields(cls)
    target = fields[0].name if fields else "name"
    probe = copy.copy(ctx.strategy)  # never mutate the caller's instance, even if it allows it
    try:
        setattr(probe, target, None)
    except AttributeError:
        pass
    else:
        return f"setting {target!r} on an instance worked; use @attrs.frozen(kw_only=True)"
    try:
        hash(ctx.strategy)
    except TypeError as exc:
        return f"instances are not hashable: {exc}"
    if copy.copy(ctx.strategy) != ctx.strategy:
        return "a copy is not equal to the original"
    return None


def _check_repr(ctx: _Context) -> str | None:
    text = repr(ctx.strategy)
    name = type(ctx.strategy).__name__
    if not text.startswith(f"{name}("):
        return f"repr {text!r} does not start with {name + '('!r}"
    return None


def _first_problem(ctx: _Context, accept: Callable[[_Outcome, Batch], str | None]) -> str | None:
    for (label, batch), outcome in zip(ctx.batches, ctx.outcomes, strict=True):
        found = accept(outcome, batch)
        if found is not None:
            return f"{label}: {found}"
    return None


def _shape_problem(outcome: _Outcome, batch: Batch) -> str | None:
    problem = _problem(outcome, batch)
    if problem is None or problem.startswith(("returned a NaN", "returned a negative")):
        return None
    return problem


def _array(outcome: _Outcome) -> FloatArray | None:
    if outcome.error is not None or not isinstance(outcome.value, np.ndarray):
        return None
    try:
        return np.asarray(outcome.value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _check_shape(ctx: _Context) -> str | None:
    return _first_problem(ctx, _shape_problem)


def _check_finite(ctx: _Context) -> str | None:
    def problem(outcome: _Outcome, batch: Batch) -> str | None:
        value = _array(outcome)
        if value is not None and not np.isfinite(value).all():
            return "returned a NaN or infinite weight"
        return None

    return _first_problem(ctx, problem)


def _check_non_negative(ctx: _Context) -> str | None:
    def problem(outcome: _Outcome, batch: Batch) -> str | None:
        value = _array(outcome)
        if value is not None and (value < 0).any():
            return f"returned a negative weight ({float(np.nanmin(value))})"
        return None

    return _first_problem(ctx, problem)


def _same(a: Any, b: Any) -> bool:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
    )


def _check_deterministic(ctx: _Context) -> str | None:
    try:
        twin = pickle.loads(pickle.dumps(ctx.strategy))  # noqa: S301 - our own bytes
    except Exception:  # noqa: BLE001 - the picklable check reports this
        twin = ctx.strategy
    for (label, batch), first in zip(ctx.batches, ctx.outcomes, strict=True):
        for who, strategy in (("a second call", ctx.strategy), ("an unpickled copy", twin)):
            again = _call(strategy, batch, ctx.kind)
            if first.error is not None or again.error is not None:
                if type(first.error) is not type(again.error):
                    return f"{label}: {who} gave a different outcome"
                continue
            if not _same(first.value, again.value):
                return f"{label}: {who} gave different weights"
    return None


def _sources(batch: Batch) -> dict[str, npt.NDArray[Any]]:
    compiled = batch.tree.compiled
    arrays: dict[str, npt.NDArray[Any]] = {
        "batch.rows": batch.rows,
        "tree.parent": compiled.parent,
        "tree.child_offsets": compiled.child_offsets,
        "tree.fte": compiled.fte,
        "tree.start": compiled.start,
        "tree.end": compiled.end,
        "tree.is_leaf": compiled.is_leaf,
    }
    for name, values in compiled.attributes.items():
        arrays[f"tree.attribute {name!r}"] = values
    if isinstance(batch, OrgBatch):
        arrays.update(
            {"batch.offsets": batch.offsets, "batch.parents": batch.parents,
             "batch.periods": batch.periods}
        )  # fmt: skip
    if batch.history is not None:
        arrays["history"] = batch.history.monthly(batch.metric.name, batch.tree)
    return arrays


def _check_inputs_untouched(ctx: _Context) -> str | None:
    for label, batch in ctx.batches:
        sources = _sources(batch)
        before = {name: array.copy() for name, array in sources.items()}
        records = batch.tree.to_records()
        outcome = _call(ctx.strategy, batch, ctx.kind)
        after = _sources(batch)
        for name, array in before.items():
            if name not in after or not np.array_equal(after[name], array, equal_nan=True):
                return f"{label}: the call changed {name}"
        if batch.tree.to_records() != records:
            return f"{label}: the call changed the tree"
        if isinstance(outcome.value, np.ndarray):
            for name, array in sources.items():
                if np.may_share_memory(outcome.value, array):
                    return f"{label}: the result shares memory with {name}; return a new array"
    return None


def _check_history_declared(ctx: _Context) -> str | None:
    needs = reads_history(ctx.strategy)
    for (label, batch), outcome in zip(ctx.batches, ctx.outcomes, strict=True):
        if batch.history is None:
            continue
        bare = attrs.evolve(batch, history=None)
        without = _call(ctx.strategy, bare, ctx.kind)
        if needs:
            if isinstance(without.error, StrategyError):
                continue
            problem = _problem(without, bare)
            if problem is not None:
                return f"{label} without history: {problem}"
        elif _problem(outcome, batch) is None and not _same(outcome.value, without.value):
            return f"{label}: needs_history is False but the weights change without history"
    return None


def _check_permutation(ctx: _Context) -> str | None:
    for (label, batch), outcome in zip(ctx.batches, ctx.outcomes, strict=True):
        if _problem(outcome, batch) is not None:
            continue
        flipped = _reversed(batch)
        again = _call(ctx.strategy, flipped, ctx.kind)
        problem = _problem(again, flipped)
        if problem is not None:
            return f"{label} with children reversed: {problem}"
        expected = outcome.value[::-1]
        scale = float(np.abs(expected).max()) if expected.size else 0.0
        if not np.allclose(again.value, expected, rtol=_RTOL, atol=_RTOL * scale):
            worst = int(np.abs(again.value - expected).max(axis=1).argmax())
            return f"{label}: reversing the children changed the weights of {flipped.ids[worst]!r}"
    return None


def _check_single_child(ctx: _Context) -> str | None:
    if ctx.kind == "time":
        return None
    batch = ctx.fixtures.single_child
    outcome = _call(ctx.strategy, batch, ctx.kind)
    problem = _problem(outcome, batch)
    if problem is not None:
        return f"a lone child: {problem}"
    if not ctx.may_return_zero and not (outcome.value > 0).all():
        return "a lone child got weight 0 (the class does not declare may_return_zero)"
    return None


def _check_zero_parent(ctx: _Context) -> str | None:
    fixtures = ctx.fixtures
    batch: Batch = fixtures.zero_parent if ctx.kind == "org" else fixtures.zero_time
    outcome = _call(ctx.strategy, batch, ctx.kind)
    if isinstance(outcome.error, StrategyError):
        return None
    problem = _problem(outcome, batch)
    if problem is not None:
        return f"children with all-zero or no history: {problem}"
    return None


def _check_all_zero(ctx: _Context) -> str | None:
    if ctx.may_return_zero:
        return None
    found = [(label, batch, value) for label, batch, value in ctx.valid()]
    fixtures = ctx.fixtures
    extra: list[tuple[str, Batch]] = (
        [("a lone child", fixtures.single_child), ("zero history", fixtures.zero_parent)]
        if ctx.kind == "org"
        else [("zero history", fixtures.zero_time)]
    )
    for label, batch in extra:
        outcome = _call(ctx.strategy, batch, ctx.kind)
        if _problem(outcome, batch) is None:
            found.append((label, batch, outcome.value))
    for label, batch, value in found:
        zero = _zero_groups(value, batch)
        if zero is not None:
            return f"{label}: {zero}, and the class does not declare may_return_zero = True"
    return None


def _check_same_every_period(ctx: _Context) -> str | None:
    if ctx.kind != "org" or not same_every_period(ctx.strategy):
        return None
    for label, batch, value in ctx.valid():
        if not isinstance(batch, OrgBatch) or batch.periods.size < 2:
            continue
        differs = np.flatnonzero((value != value[:, :1]).any(axis=0))
        if differs.size:
            period = batch.calendar.periods[int(batch.periods[int(differs[0])])].label
            return f"{label}: declares same_every_period but {period} differs from the first column"
        first = attrs.evolve(batch, periods=batch.periods[:1])
        outcome = _call(ctx.strategy, first, ctx.kind)
        column = _array(outcome)
        if column is None or column.shape != (batch.rows.size, 1):
            return f"{label}: the batch cut to its first period gave no valid weights"
        if not np.array_equal(column[:, 0], value[:, 0]):
            return f"{label}: the batch cut to its first period gives other weights"
    return None


def _check_picklable(ctx: _Context) -> str | None:
    try:
        twin = pickle.loads(pickle.dumps(ctx.strategy))  # noqa: S301 - our own bytes
    except Exception as exc:  # noqa: BLE001 - any failure to pickle is the finding
        return f"pickling failed: {_describe(exc)}"
    if twin != ctx.strategy:
        return "the unpickled copy is not equal to the original"
    return None


def _check_round_trip(ctx: _Context) -> str | None:
    try:
        data = ctx.strategy.to_dict()
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return f"to_dict() raised {_describe(exc)}"
    if not isinstance(data, dict) or data.get("strategy") != getattr(ctx.strategy, "name", None):
        return f"to_dict() gave {data!r}, not a dict whose 'strategy' is the strategy's name"
    try:
        text = json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"to_dict() is not JSON-safe: {exc}"
    if json.loads(text) != data:
        return "to_dict() changes through JSON (use lists, not tuples; str keys)"
    try:
        rebuilt = ctx.registry.from_dict(data)
    except StrategyError as exc:
        return f"registry.from_dict(to_dict()) raised {_describe(exc)}"
    if rebuilt != ctx.strategy:
        return f"registry.from_dict(to_dict()) gave {rebuilt!r}, not an equal strategy"
    return None


def _groups(batch: Batch, value: FloatArray) -> tuple[FloatArray, IntArray]:
    """The weights as the kernel splits them: (rows, columns) with CSR segments of rows."""
    if isinstance(batch, OrgBatch):
        return value, np.asarray(batch.offsets, dtype=np.int64)
    # a node's months are one group: one segment over the months, one column per node
    return value.T, np.array([0, value.shape[1]], dtype=np.int64)


def _check_scale_invariant(ctx: _Context) -> str | None:
    total = 10**6 + 7  # odd, so rounding matters
    for label, batch, value in ctx.valid():
        weights, offsets = _groups(batch, value)
        positive = weights[weights > 0]
        if positive.size == 0 or offsets.size < 2 or (np.diff(offsets) == 0).any():
            continue
        some = segment_sum((weights > 0).astype(np.float64), offsets)  # sums could overflow
        totals = np.where(some > 0, total, 0)
        top = int(np.frexp(positive.max())[1])
        bottom = int(np.frexp(positive.min())[1])
        scaled = {
            "times 2**k near the largest float": np.ldexp(weights, 1020 - top),
            "times 2**-k near the smallest normal float": np.ldexp(weights, -1020 - bottom),
            "of the largest float where non-zero": np.where(weights > 0, np.finfo(float).max, 0.0),
        }
        plain = {
            "of the largest float where non-zero": np.where(weights > 0, 1.0, 0.0),
        }
        for what, big in scaled.items():
            base = plain.get(what, weights)
            try:
                expected = apportion(totals, base, offsets)
                got = apportion(totals, big, offsets)
            except TargetCascadeError as exc:
                return f"{label}: weights {what} were refused: {_describe(exc)}"
            if not np.array_equal(expected, got):
                return f"{label}: weights {what} split differently from the weights themselves"
    return None


_CHECKS: Final[dict[str, Check]] = {
    "declared": _check_declared,
    "immutable": _check_immutable,
    "repr": _check_repr,
    "shape": _check_shape,
    "finite": _check_finite,
    "non_negative": _check_non_negative,
    "deterministic": _check_deterministic,
    "inputs_untouched": _check_inputs_untouched,
    "history_declared": _check_history_declared,
    "permutation_equivariant": _check_permutation,
    "single_child": _check_single_child,
    "zero_parent": _check_zero_parent,
    "all_zero_handled": _check_all_zero,
    "same_every_period": _check_same_every_period,
    "picklable": _check_picklable,
    "serialisation_round_trip": _check_round_trip,
    "scale_invariant": _check_scale_invariant,
}


def check_strategy(
    strategy: Any,
    *,
    kind: Kind | None = None,
    batches: Sequence[OrgBatch | TimeBatch] | None = None,
    registry: StrategyRegistry | None = None,
    raise_on_failure: bool = True,
) -> tuple[CheckResult, ...]:
    """Run every conformance check (:data:`CHECKS`) on ``strategy``.

    Args:
        strategy: An org or time strategy instance.
        kind: ``"org"`` or ``"time"``; by default the class's declared or inferred kind.
        batches: Batches of the strategy's kind to run the batch checks on (shape, finite,
            non_negative, deterministic, inputs_untouched, history_declared,
            permutation_equivariant, all_zero_handled) instead of the built-in ones (the demo
            company's levels and periods, also on a 4-4-5 calendar). Pass your own when your
            strategy needs attributes or data the demo company lacks. ``single_child`` and
            ``zero_parent`` always use the built-in hand-made tree.
        registry: Registry for the serialisation round trip (default :func:`default_registry`).
        raise_on_failure: Raise if any check fails (default); otherwise just return the results.

    Returns:
        One :class:`CheckResult` per check, in the order of :data:`CHECKS`.

    Raises:
        StrategyError: A check failed (the message names every failed check and why), or the
            strategy's kind cannot be told, or a batch is of the other kind.

    Example:
        >>> from targetcascade.allocation.time_strategies import Seasonal
        >>> [r.check for r in check_strategy(Seasonal(profile=(1, 1, 1, 2)))][:4]
        ['declared', 'immutable', 'repr', 'shape']
    """
    found = kind if kind is not None else strategy_kind(type(strategy))
    if found not in ("org", "time"):
        msg = f"kind={found!r} is not a strategy kind"
        raise StrategyError(msg, hint="use kind='org' or kind='time'")
    fixtures = _fixtures()
    if batches is None:
        chosen: tuple[tuple[str, Batch], ...] = fixtures.org if found == "org" else fixtures.time
    else:
        expected = OrgBatch if found == "org" else TimeBatch
        for i, batch in enumerate(batches):
            if not isinstance(batch, expected):
                msg = f"batches[{i}] is a {type(batch).__name__}, not an {expected.__name__}"
                raise StrategyError(
                    msg, hint=f"a {found} strategy is checked on {expected.__name__}s"
                )
        chosen = tuple((f"batches[{i}]", batch) for i, batch in enumerate(batches))
    ctx = _Context(
        strategy=strategy,
        kind=found,
        batches=chosen,
        registry=registry if registry is not None else default_registry(),
        fixtures=fixtures,
    )
    ctx.outcomes = [_call(strategy, batch, found) for _, batch in chosen]
    results = []
    for name, check in _CHECKS.items():
        try:
            problem = check(ctx)
        except Exception as exc:  # noqa: BLE001 - a check tripping over the strategy is a failure
            problem = f"the check itself failed on this strategy: {_describe(exc)}"
        results.append(CheckResult(check=name, passed=problem is None, detail=problem or ""))
    failed = [r for r in results if not r.passed]
    if failed and raise_on_failure:
        listing = "; ".join(f"{r.check}: {r.detail}" for r in failed)
        msg = (
            f"{strategy!r} fails {len(failed)} of {len(results)} conformance checks "
            f"({', '.join(r.check for r in failed)}): {listing}"
        )
        raise StrategyError(
            msg, hint="each check is described in targetcascade.testing._conformance.CHECKS"
        )
    return tuple(results)
