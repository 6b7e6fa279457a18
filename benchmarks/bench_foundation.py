"""Foundation benchmark: build, validate and check org trees of 10^4, 10^5 and 10^6 nodes.

For each size it times, in one process (median of ``--repeat`` runs):

* ``build``: ``OrgTree.from_arrays`` (validation at the door included) of a company -> regions -> teams
  -> individuals tree made by ``targetcascade.synthetic.large_org``;
* ``compile``: the cached breadth-first CSR form;
* ``plan``: ``Plan.from_leaf_arrays`` with one revenue metric, leaf x 12 months of seeded quanta, rolled
  up to the full 17-period grid (year, quarters, months) at every node;
* ``check``: ``check(plan)`` over every rule;
* ``floor``: one ``np.add.reduceat`` over the nodes x 17 grid, the same-process baseline ``check`` is
  compared against (ratio = check / floor).

Run: ``python benchmarks/bench_foundation.py [--sizes 10000 100000 1000000] [--repeat 3]``.
Writes ``benchmarks/results/foundation-<timestamp>.json`` and ``.md`` and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from targetcascade import FiscalCalendar, Metric, OrgTree, Plan, check
from targetcascade.synthetic import large_org

RESULTS = Path(__file__).parent / "results"


def _timed(fn, repeat):  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_size(nodes_wanted: int, repeat: int) -> dict[str, float | int]:
    individuals = max(10, int(nodes_wanted * 100 / 101))
    regions = 40 if individuals >= 100_000 else max(4, individuals // 2500)
    tree_time, tree = _timed(lambda: large_org(individuals, regions=regions, seed=1), repeat)
    # large_org builds its inputs too; time from_arrays alone on the same inputs.
    compiled = tree.compiled
    ids = list(compiled.ids)
    parents = [None if p < 0 else compiled.ids[p] for p in compiled.parent.tolist()]
    levels = [tree.levels.names[c] for c in compiled.level_code.tolist()]
    build_time, built = _timed(
        lambda: OrgTree.from_arrays(
            ids,
            parents,
            levels,
            fte=compiled.fte,
            start=compiled.start,
            end=compiled.end,
            attributes={"potential": compiled.attribute("potential")},
        ),
        repeat,
    )
    compile_times = []
    for _ in range(repeat):
        fresh = OrgTree.from_arrays(ids, parents, levels)
        start = time.perf_counter()
        _ = fresh.compiled
        compile_times.append(time.perf_counter() - start)
    calendar = FiscalCalendar(fiscal_year=2027)
    revenue = Metric(name="revenue", unit="CNY")
    leaves = int(built.compiled.is_leaf.sum())
    rng = np.random.default_rng(7)
    leaf_values = {"revenue": rng.integers(0, 10_000_000, size=(leaves, 12), dtype=np.int64)}
    plan_time, plan = _timed(
        lambda: Plan.from_leaf_arrays(built, calendar, [revenue], leaf_values), repeat
    )
    check_time, report = _timed(lambda: check(plan), repeat)
    assert report.ok, str(report)
    grid = plan.grid("revenue")
    offsets = built.compiled.child_offsets
    inner = np.flatnonzero(np.diff(offsets) > 0)
    floor_time, _ = _timed(lambda: np.add.reduceat(grid[1:], offsets[inner] - 1, axis=0), repeat)
    return {
        "nodes": len(built),
        "individuals": leaves,
        "cells": int(grid.size),
        "large_org_s": tree_time,
        "build_s": build_time,
        "compile_s": statistics.median(compile_times),
        "plan_rollup_s": plan_time,
        "check_s": check_time,
        "reduceat_floor_s": floor_time,
        "check_over_floor": check_time / floor_time,
        "peak_rss_mb": _peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [run_size(n, args.repeat) for n in args.sizes]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )
    header = (
        "nodes",
        "cells",
        "build (s)",
        "compile (s)",
        "plan roll-up (s)",
        "check (s)",
        "reduceat floor (s)",
        "check / floor",
        "peak RSS (MB)",
    )
    lines = [
        f"Foundation benchmark, {machine}, median of {args.repeat}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines.extend(
        f"| {r['nodes']:,} | {r['cells']:,} | {r['build_s']:.3f} | {r['compile_s']:.3f} | "
        f"{r['plan_rollup_s']:.3f} | {r['check_s']:.3f} | {r['reduceat_floor_s']:.4f} | "
        f"{r['check_over_floor']:.1f} | {r['peak_rss_mb']:.0f} |"
        for r in rows
    )
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"foundation-{stamp}.json").write_text(
        json.dumps({"machine": machine, "repeat": args.repeat, "rows": rows}, indent=2) + "\n"
    )
    (RESULTS / f"foundation-{stamp}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
