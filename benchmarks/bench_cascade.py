"""Cascade benchmark (issue 4): the engine on synthetic organisations of 10^3 to 10^6 people.

For each size, in one process and in increasing order, it builds a seeded company -> 40 regions ->
teams of 100 -> individuals tree (``targetcascade.synthetic.large_org``; fewer regions below 10^5
people) with 24 months of history (``synthetic_history`` for FY2025 and FY2026: seasonality, trend,
noise, new hires and leavers), and times (median of ``--repeat`` runs):

* ``history``: ``Plan.from_leaf_arrays`` of both history years from their leaf x month actuals (the
  roll-up an importer pays before any cascade);
* (a) ``cascade``: the FY2027 revenue target split to every individual x month by historical share
  (``ProportionOfAverages(fallback=Equal())`` at every level, ``HistoricalSeasonality`` in time,
  ``time_first``), exact to the cent;
* (b) the same with ``CapacityWeighted`` at team level;
* (c) (a) with 5 % of individuals locked for the year at about half their value from (a), and
  ``RelativeBounds(floor="0.5", cap="2")`` at team level;
* (d) ``check`` on the plan of (a);
* (e) ``explain`` of 1,000 random cells of (a) (reported per explanation);
* baselines: ``_pandas_baseline.historical_share_cascade`` (a notebook's groupby / rank version of
  (a), checked to be exact), and the floors: one ``np.add.reduceat`` over the leaves x months grid,
  one ``np.sort`` of as many float64 keys.

Memory: ``ru_maxrss`` is the peak of the whole process, so sizes run in increasing order and the
table shows the process peak after each size and its growth. Each method also runs once more in a
forked child, which starts with the parent's pages resident; its peak minus its starting RSS is the
memory that method needs on top of the tree and history.

(a) is re-run ``--repeat`` times and the SHA-256 of ``plan.values.tobytes()`` must be the same each
time (byte-for-byte determinism).

Run: ``python benchmarks/bench_cascade.py [--sizes 1000 10000 100000 1000000] [--repeat 3]
[--profile]``. Writes ``benchmarks/results/cascade-<timestamp>.md`` and ``.json`` and prints the
Markdown.
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import ctypes.util
import datetime as dt
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Lock,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    RelativeBounds,
    Split,
    cascade,
    check,
    explain,
)
from targetcascade.allocation import (
    CapacityWeighted,
    Equal,
    HistoricalSeasonality,
    History,
    ProportionOfAverages,
)
from targetcascade.calendar import PeriodLevel
from targetcascade.plan import Origin, PlanKind
from targetcascade.synthetic import large_org, synthetic_history

sys.path.insert(0, str(Path(__file__).parent))
from _pandas_baseline import historical_share_cascade

RESULTS = Path(__file__).parent / "results"
FISCAL_YEAR = 2027
HISTORY_YEARS = (2025, 2026)
GROWTH_PERCENT = 108  # the target: last year's revenue + 8 %
LOCKED_SHARE = 0.05
EXPLAINED_CELLS = 1_000
MB = 1024 * 1024

T = TypeVar("T")


# ------------------------------------------------------------------------------------ measuring


def _timed(
    fn: Callable[[], T], repeat: int, each: Callable[[T], None] | None = None
) -> tuple[float, T]:
    """Median wall time of ``repeat`` runs and the last result; ``each`` sees every result."""
    times: list[float] = []
    result: T | None = None
    for _ in range(repeat):
        result = None  # let the previous result go before the next run
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if each is not None:
            each(result)
    assert result is not None
    return statistics.median(times), result


def _peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes)
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MB


def _current_rss_mb() -> float | None:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return None
    resident_pages = int(statm.read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / MB


def _release_free_memory() -> None:
    """Collect garbage and hand freed heap back to the OS, so a forked child starts lean."""
    gc.collect()
    libc_name = ctypes.util.find_library("c")
    if libc_name and sys.platform.startswith("linux"):
        ctypes.CDLL(libc_name).malloc_trim(0)


def _forked_peak(fn: Callable[[], object]) -> dict[str, float] | None:
    """Run ``fn`` once in a forked child: its starting RSS, peak RSS and the difference (MB).

    The child starts with the parent's resident pages counted in its RSS, so ``extra`` is what ``fn``
    needs on top of what the parent holds (tree, history, inputs). None where fork or /proc is
    missing, or when the child fails.
    """
    if not hasattr(os, "fork") or _current_rss_mb() is None:
        return None
    _release_free_memory()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 1
        try:
            start = _current_rss_mb()
            fn()
            peak = _peak_rss_mb()
            assert start is not None
            message = {"start_mb": start, "peak_mb": peak, "extra_mb": max(0.0, peak - start)}
            os.write(write_end, json.dumps(message).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    result: dict[str, float] = json.loads(data)
    return result


# ------------------------------------------------------------------------------------ the company


def _regions_for(individuals: int) -> int:
    # the issue-4 shape at 10^6 (40 regions x 250 teams x 100 people), scaled down as in
    # bench_foundation.py: 40 regions from 10^5 people, else one region per 2,500 people (at least 4)
    return 40 if individuals >= 100_000 else max(4, individuals // 2500)


def _company(individuals: int) -> tuple[OrgTree, dict[int, Plan], tuple[Metric, ...]]:
    tree = large_org(individuals, regions=_regions_for(individuals), people_per_team=100, seed=1)
    # the revenue history only: (a)-(c) read nothing else, and a second metric would double the
    # history the process holds
    metrics = (Metric(name="revenue", unit="CNY"),)
    history = {
        year: synthetic_history(
            tree, FiscalCalendar(fiscal_year=year), metrics, seed=10 + year, level_seed=1
        )
        for year in HISTORY_YEARS
    }
    return tree, history, metrics


def _history_rebuild(history: dict[int, Plan], metrics: tuple[Metric, ...]) -> Callable[[], Any]:
    """A function rebuilding both history plans from their leaf x month actuals (the roll-up)."""
    inputs = []
    for plan in history.values():
        leaves = np.flatnonzero(plan.tree.compiled.is_leaf)
        months = np.flatnonzero(plan.calendar.level_array == PeriodLevel.MONTH)
        leaf_values = {
            m.name: np.ascontiguousarray(plan.grid(m.name)[leaves][:, months]) for m in metrics
        }
        inputs.append((plan.tree, plan.calendar, leaf_values))

    def rebuild() -> list[Plan]:
        return [
            Plan.from_leaf_arrays(
                tree, calendar, metrics, values, origin=Origin.ACTUAL, kind=PlanKind.HISTORY
            )
            for tree, calendar, values in inputs
        ]

    return rebuild


def _target_cents(history: dict[int, Plan]) -> int:
    last = history[max(history)]
    return int(last.grid("revenue")[0, 0]) * GROWTH_PERCENT // 100


def _cents_text(cents: int) -> str:
    return f"{Decimal(cents).scaleb(-2)} CNY"


def _spec(
    revenue: Metric,
    target: int,
    *,
    team: Split | None = None,
    locks: list[Lock] | None = None,
) -> CascadeSpec:
    share = Split(strategy=ProportionOfAverages(fallback=Equal()))
    return CascadeSpec(
        metrics=[
            MetricCascade(
                metric=revenue,
                target=_cents_text(target),
                time=HistoricalSeasonality(),
                mode="time_first",
                splits={"company": share, "region": share, "team": team or share},
                locks=locks or [],
            )
        ]
    )


def _locks(tree: OrgTree, plan: Plan, history: dict[int, Plan], seed: int) -> list[Lock]:
    """5 % of the individuals, seeded, locked for the year at about half their value in ``plan``.

    A year lock is phased like the team's months, and the team-level bounds (half to twice last
    year's month) hold for locked cells too, so a lock must keep every phased month inside them:
    only people with a value in every month of last year are candidates (a month with no sales
    last year has a cap of zero), and a lock is raised above half where a floor needs it (and the
    person skipped where a cap then breaks).
    """
    compiled = tree.compiled
    calendar = plan.calendar
    months = np.flatnonzero(calendar.level_array == PeriodLevel.MONTH)
    year = calendar.index(calendar.label)
    leaves = np.flatnonzero(compiled.is_leaf)
    grid = plan.grid("revenue")
    last = History(plans=history).window(1).monthly("revenue", tree)[leaves]  # (leaves, 12)
    team = compiled.parent[leaves]
    phase = grid[team][:, months] / grid[team, year][:, None]  # the team's months, summing to 1
    full = np.flatnonzero((last > 0).all(axis=1))  # NaN (absent) compares False
    last, phase = last[full], phase[full]
    # the smallest year lock whose phased months (rounded) stay at or above the floors
    need = np.ceil((0.5 * last + 1) / phase).max(axis=1)
    value = np.maximum(grid[leaves[full], year] // 2, need).astype(np.int64)
    fits = (value[:, None] * phase + 1 <= 2 * last).all(axis=1)
    candidates = np.flatnonzero(fits)
    rng = np.random.default_rng(seed)
    wanted = min(candidates.size, max(1, round(LOCKED_SHARE * leaves.size)))
    chosen = np.sort(rng.choice(candidates, size=wanted, replace=False))
    label = calendar.label
    return [
        Lock(node=compiled.ids[node], period=label, value=Decimal(cents).scaleb(-2))
        for node, cents in zip(leaves[full[chosen]].tolist(), value[chosen].tolist(), strict=True)
    ]


def _pandas_inputs(tree: OrgTree, history: dict[int, Plan]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The notebook's inputs: long history (person, month, cents) and the org (person, team, region).

    People are coded by their position among the planning tree's leaves, teams and regions by their
    compiled position.
    """
    compiled = tree.compiled
    leaves = np.flatnonzero(compiled.is_leaf)
    person_of = np.full(len(tree), -1, dtype=np.int64)
    person_of[leaves] = np.arange(leaves.size)
    team = compiled.parent[leaves]
    org = pd.DataFrame(
        {"person": np.arange(leaves.size), "team": team, "region": compiled.parent[team]}
    )
    frames = []
    position = compiled.position
    for plan in history.values():
        past = plan.tree.compiled
        past_leaves = np.flatnonzero(past.is_leaf)
        planning = np.fromiter(
            (position[past.ids[i]] for i in past_leaves.tolist()),
            dtype=np.int64,
            count=past_leaves.size,
        )
        months = np.flatnonzero(plan.calendar.level_array == PeriodLevel.MONTH)
        cents = plan.grid("revenue")[past_leaves][:, months]
        frames.append(
            pd.DataFrame(
                {
                    "person": np.repeat(person_of[planning], months.size),
                    "month": np.tile(
                        np.arange(1, months.size + 1, dtype=np.int8), past_leaves.size
                    ),
                    "cents": cents.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), org


def _profile(fn: Callable[[], object], top: int = 15) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def _floors(
    leaf_grid: np.ndarray, team_of: np.ndarray, repeat: int, extra: dict[str, Any]
) -> dict[str, float]:
    """One ``np.add.reduceat`` over the leaves x months grid (into teams), one ``np.sort`` of as
    many float64 keys."""
    team_starts = np.concatenate(([0], np.flatnonzero(np.diff(team_of)) + 1))
    reduceat_s = _timed(lambda: np.add.reduceat(leaf_grid, team_starts, axis=0), repeat)[0]
    keys = np.random.default_rng(6).random(leaf_grid.size)
    sort_s = _timed(lambda: np.sort(keys), repeat)[0]
    extra["sort"] = _forked_peak(lambda: np.sort(keys))
    return {"reduceat_s": reduceat_s, "sort_s": sort_s}


def _pandas_baseline(
    tree: OrgTree, history: dict[int, Plan], target: int, repeat: int, extra: dict[str, Any]
) -> dict[str, Any]:
    """Time the notebook version of (a) and check that its leaf cents add up to the target."""
    history_frame, org_frame = _pandas_inputs(tree, history)

    def run_pandas() -> pd.DataFrame:
        return historical_share_cascade(history_frame, org_frame, target)

    pandas_s, result = _timed(run_pandas, repeat)
    exact = bool(
        len(result) == len(org_frame) * 12
        and int(result["cents"].sum()) == target
        and bool((result["cents"] >= 0).all())
    )
    assert exact, "the pandas baseline does not add up to the target"
    del result
    extra["pandas"] = _forked_peak(run_pandas)
    return {"pandas_s": pandas_s, "pandas_exact": exact}


# ------------------------------------------------------------------------------------ one size


def _plan_mb(plan: Plan) -> tuple[float, float]:
    """The bytes of ``plan``'s grid (values and origins) and of its provenance arrays, in MB."""
    grid = plan.values.nbytes + plan.origins.nbytes
    provenance = plan.provenance
    kept = 0
    if provenance is not None:
        fields: tuple[Mapping[str, np.ndarray[Any, Any]], ...] = (
            provenance.source,
            provenance.weight,
            provenance.quota,
            provenance.adjustment,
            provenance.bound,
            provenance.org_strategy,
            provenance.time_strategy,
        )
        kept = sum(array.nbytes for field in fields for array in field.values())
    return grid / MB, kept / MB


def run_size(individuals: int, repeat: int, *, profile: bool) -> dict[str, Any]:
    peak_before = _peak_rss_mb()
    calendar = FiscalCalendar(fiscal_year=FISCAL_YEAR)
    _release_free_memory()
    rss_before = _current_rss_mb()
    gen_start = time.perf_counter()
    tree, history, metrics = _company(individuals)
    generate_s = time.perf_counter() - gen_start
    revenue = metrics[0]
    compiled = tree.compiled
    leaves = np.flatnonzero(compiled.is_leaf)
    months = np.flatnonzero(calendar.level_array == PeriodLevel.MONTH)
    target = _target_cents(history)
    row: dict[str, Any] = {
        "individuals": int(leaves.size),
        "nodes": len(tree),
        "regions": len(tree.nodes_at("region")),
        "teams": len(tree.nodes_at("team")),
        "leaf_cells": int(leaves.size * months.size),
        "target_cents": target,
        "generate_s": generate_s,
    }
    extra: dict[str, dict[str, float] | None] = {}
    _release_free_memory()
    baseline_rss = _current_rss_mb()
    # what the inputs hold: the RSS they added, and of that the history plans' own grids
    row["rss_before_mb"] = rss_before
    row["inputs_mb"] = (
        None if rss_before is None or baseline_rss is None else baseline_rss - rss_before
    )
    row["history_grids_mb"] = sum(_plan_mb(plan)[0] for plan in history.values())

    # the history roll-up
    rebuild = _history_rebuild(history, metrics)
    # results not kept: a rebuilt history left alive would count in every later peak
    row["history_s"] = _timed(rebuild, repeat)[0]
    extra["history"] = _forked_peak(rebuild)

    # (a) historical share; a fresh dict each run, so no run reuses another's history alignment
    spec_a = _spec(revenue, target)
    hashes: list[str] = []

    def run_a() -> Plan:
        return cascade(spec_a, tree, calendar, history=dict(history))

    def hashed(plan: Plan) -> None:
        hashes.append(hashlib.sha256(plan.values.tobytes()).hexdigest())

    # The first run is the cold case, timed on its own: it also aligns the history trees to the
    # planning tree and sums each history plan's months (both cached for later runs). (a) is the
    # median of the ``repeat`` warm runs after it, like (b) and (c), which all run warm.
    row["a_first_s"] = _timed(run_a, 1, each=hashed)[0]
    row["a_s"], plan_a = _timed(run_a, repeat, each=hashed)
    extra["a"] = _forked_peak(run_a)
    row["a_peak_rss_mb"] = _peak_rss_mb()
    row["a_grid_mb"], row["a_provenance_mb"] = _plan_mb(plan_a)
    row["a_sha256"] = hashes[0]
    row["a_deterministic"] = len(set(hashes)) == 1
    row["a_runs_hashed"] = len(hashes)
    a_grid = plan_a.grid("revenue")
    assert int(a_grid[0, 0]) == target
    assert int(a_grid[leaves][:, months].sum()) == target, "(a) leaves do not add up to the target"

    # (b) capacity-weighted at team level
    spec_b = _spec(revenue, target, team=Split(strategy=CapacityWeighted()))

    def run_b() -> Plan:
        return cascade(spec_b, tree, calendar, history=dict(history))

    row["b_s"], plan_b = _timed(run_b, repeat)
    assert int(plan_b.grid("revenue")[leaves][:, months].sum()) == target
    assert check(plan_b).ok
    del plan_b
    extra["b"] = _forked_peak(run_b)

    # (c) locks, floors and caps
    locks = _locks(tree, plan_a, history, seed=3)
    row["locks"] = len(locks)
    locked = np.array([compiled.position[lock.node] for lock in locks])
    lock_values = np.array([int(Decimal(lock.value).scaleb(2)) for lock in locks])
    row["lock_over_unlocked_median"] = float(np.median(lock_values / a_grid[locked, 0]))
    bounded = Split(
        strategy=ProportionOfAverages(fallback=Equal()),
        bounds=RelativeBounds(floor="0.5", cap="2"),
    )
    spec_c = _spec(revenue, target, team=bounded, locks=locks)

    def run_c() -> Plan:
        return cascade(spec_c, tree, calendar, history=dict(history))

    row["c_s"], plan_c = _timed(run_c, repeat)
    assert int(plan_c.grid("revenue")[leaves][:, months].sum()) == target
    assert check(plan_c).ok
    del plan_c
    extra["c"] = _forked_peak(run_c)

    # (d) check
    row["d_check_s"], report = _timed(lambda: check(plan_a), repeat)
    assert report.ok, str(report)
    extra["d"] = _forked_peak(lambda: check(plan_a))

    # (e) explain 1,000 random cells
    rng = np.random.default_rng(5)
    nodes = rng.integers(0, len(tree), size=EXPLAINED_CELLS)
    periods = rng.integers(0, len(calendar.periods), size=EXPLAINED_CELLS)
    cells = [
        (compiled.ids[n], calendar.periods[p].label)
        for n, p in zip(nodes.tolist(), periods.tolist(), strict=True)
    ]

    def run_e() -> int:
        return sum(len(explain(plan_a, node, period, "revenue").steps) for node, period in cells)

    explain_s = _timed(run_e, repeat)[0]
    row["e_explain_ms"] = explain_s / EXPLAINED_CELLS * 1000
    extra["e"] = _forked_peak(run_e)

    # the floors and the pandas baseline
    leaf_grid = np.ascontiguousarray(a_grid[leaves][:, months])
    row.update(_floors(leaf_grid, compiled.parent[leaves], repeat, extra))
    row.update(_pandas_baseline(tree, history, target, repeat, extra))

    row["baseline_rss_mb"] = baseline_rss
    row["extra_rss_mb"] = extra
    row["process_peak_mb"] = _peak_rss_mb()
    row["process_growth_mb"] = row["process_peak_mb"] - peak_before
    if profile:
        row["a_profile"] = _profile(run_a)
    return row


# ------------------------------------------------------------------------------------ reporting


TARGETS = (
    ("(a) <= 5x the np.sort floor", "a_over_sort", "<=", 5.0),
    ("(a) >= 10x faster than pandas", "pandas_over_a", ">=", 10.0),
    ("(a) peak RSS <= 1 GB (process peak after (a))", "a_peak_rss_mb", "<=", 1024.0),
    ("(b) within 2x of (a)", "b_over_a", "<=", 2.0),
    ("(c) within 2x of (a)", "c_over_a", "<=", 2.0),
    ("(d) check <= 0.3 s", "d_check_s", "<=", 0.3),
    ("(e) explain <= 1 ms per cell", "e_explain_ms", "<=", 1.0),
)


def _ratios(row: dict[str, Any]) -> None:
    a = row["a_s"]
    row["a_over_sort"] = a / row["sort_s"]
    row["a_over_reduceat"] = a / row["reduceat_s"]
    row["pandas_over_a"] = row["pandas_s"] / a
    row["pandas_over_a_rollup"] = row["pandas_s"] / (a + row["history_s"])
    row["b_over_a"] = row["b_s"] / a
    row["c_over_a"] = row["c_s"] / a


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _extra(row: dict[str, Any], key: str) -> float | None:
    found = row["extra_rss_mb"].get(key)
    return None if found is None else float(found["extra_mb"])


def _table(header: tuple[str, ...], lines: list[str]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *lines]


def render(rows: list[dict[str, Any]], machine: str, repeat: int) -> str:
    out = [f"Cascade benchmark (issue 4), {machine}, median of {repeat}", ""]
    out.append("Times (s; explain in ms per cell):")
    out.append("")
    out += _table(
        (
            "individuals",
            "leaf cells",
            "history roll-up",
            "(a) share",
            "(a) first run",
            "(a) + roll-up",
            "(b) capacity",
            "(c) locks+bounds",
            "(d) check",
            "(e) explain (ms)",
            "pandas",
            "reduceat floor",
            "sort floor",
        ),
        [
            f"| {r['individuals']:,} | {r['leaf_cells']:,} | {r['history_s']:.3f} | {r['a_s']:.3f} | "
            f"{r['a_first_s']:.3f} | {r['a_s'] + r['history_s']:.3f} | {r['b_s']:.3f} | {r['c_s']:.3f} | "
            f"{r['d_check_s']:.4f} | {r['e_explain_ms']:.3f} | "
            f"{r['pandas_s']:.3f} | {r['reduceat_s']:.4f} | {r['sort_s']:.4f} |"
            for r in rows
        ],
    )
    out += ["", "Ratios to (a) (time):", ""]
    out += _table(
        (
            "individuals",
            "(a) / sort",
            "(a) / reduceat",
            "pandas / (a)",
            "pandas / ((a) + roll-up)",
            "(b) / (a)",
            "(c) / (a)",
        ),
        [
            f"| {r['individuals']:,} | {r['a_over_sort']:.1f} | {r['a_over_reduceat']:.1f} | "
            f"{r['pandas_over_a']:.1f} | {r['pandas_over_a_rollup']:.1f} | {r['b_over_a']:.2f} | "
            f"{r['c_over_a']:.2f} |"
            for r in rows
        ],
    )
    out += ["", "Memory (MB):", ""]
    out += _table(
        (
            "individuals",
            "held before",
            "process peak after (a)",
            "+history",
            "+(a)",
            "+(b)",
            "+(c)",
            "+(d)",
            "+(e)",
            "+sort",
            "+pandas",
            "pandas / (a)",
            "process peak after size",
            "growth",
        ),
        [
            f"| {r['individuals']:,} | {_mb(r['baseline_rss_mb'])} | {_mb(r['a_peak_rss_mb'])} | "
            + " | ".join(
                _mb(_extra(r, k)) for k in ("history", "a", "b", "c", "d", "e", "sort", "pandas")
            )
            + f" | {_pandas_rss_ratio(r)} | {_mb(r['process_peak_mb'])} | "
            f"{_mb(r['process_growth_mb'])} |"
            for r in rows
        ],
    )
    out += ["", "What the process holds at (a) (MB):", ""]
    out += _table(
        (
            "individuals",
            "process before the size",
            "+ inputs (tree and history)",
            "of which history grids",
            "+ (a)'s grid",
            "+ (a)'s provenance",
            "= held at (a)",
            "process peak after (a)",
        ),
        [
            f"| {r['individuals']:,} | {_mb(r['rss_before_mb'])} | {_mb(r['inputs_mb'])} | "
            f"{_mb(r['history_grids_mb'])} | "
            f"{_mb(r['a_grid_mb'])} | {_mb(r['a_provenance_mb'])} | "
            f"{_mb(_held_at_a(r))} | {_mb(r['a_peak_rss_mb'])} |"
            for r in rows
        ],
    )
    out += ["", "Determinism of (a), SHA-256 of plan.values.tobytes() over the repeats:", ""]
    out += [
        f"* {r['individuals']:,}: {'identical' if r['a_deterministic'] else 'DIFFERENT'} "
        f"over {r['a_runs_hashed']} runs ({r['a_sha256'][:16]}...)"
        for r in rows
    ]
    out += ["", "Shape and locks:", ""]
    out += [
        f"* {r['individuals']:,}: {r['regions']} regions, {r['teams']:,} teams, {r['nodes']:,} "
        f"nodes; (c) locks {r['locks']:,} people (median lock / value in (a): "
        f"{r['lock_over_unlocked_median']:.2f})"
        for r in rows
    ]
    out += [
        "",
        "Exactness: every plan's leaves add up to the target; the pandas baseline's leaf cents "
        "add up to the target at every size: "
        + ("yes" if all(r["pandas_exact"] for r in rows) else "NO")
        + ".",
    ]
    largest = rows[-1]
    out += ["", f"Issue-4 targets at {largest['individuals']:,} individuals:", ""]
    lines = []
    for name, key, op, limit in TARGETS:
        value = largest[key]
        met = value <= limit if op == "<=" else value >= limit
        lines.append(f"| {name} | {value:,.3g} | {'met' if met else 'NOT met'} |")
    out += _table(("target", "measured", "status"), lines)
    for r in rows:
        if "a_profile" in r:
            out += ["", f"cProfile of (a) at {r['individuals']:,} (top 15, cumulative):", "", "```"]
            out += [r["a_profile"].strip(), "```"]
    return "\n".join(out)


def _held_at_a(row: dict[str, Any]) -> float | None:
    before, inputs = row["rss_before_mb"], row["inputs_mb"]
    if before is None or inputs is None:
        return None
    return float(before + inputs + row["a_grid_mb"] + row["a_provenance_mb"])


def _pandas_rss_ratio(row: dict[str, Any]) -> str:
    a, p = _extra(row, "a"), _extra(row, "pandas")
    if a is None or p is None or a == 0:
        return "n/a"
    return f"{p / a:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--profile", action="store_true", help="add a cProfile of (a) at every size to the report"
    )
    args = parser.parse_args()
    rows = []
    for n in sorted(args.sizes):  # increasing: ru_maxrss is the process peak
        started = time.perf_counter()
        row = run_size(n, args.repeat, profile=args.profile)
        _ratios(row)
        row["wall_s"] = time.perf_counter() - started
        rows.append(row)
        print(
            f"{row['individuals']:,} individuals done in {row['wall_s']:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}"
    )
    report = render(rows, machine, args.repeat)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"cascade-{stamp}.json").write_text(
        json.dumps({"machine": machine, "repeat": args.repeat, "rows": rows}, indent=2) + "\n"
    )
    (RESULTS / f"cascade-{stamp}.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
