"""Run many cascade scenarios in parallel on a local Dask cluster and prove they equal a serial run.

A *scenario* is one growth assumption for one business unit: "next year's revenue target is last
year's actual grown by g", cascaded to every region, team and person x month. The sweep is the
grid of growth rates (by default -5 % to +20 % in steps of 5 %) x business units.

**Business units.** Each business unit is its own seeded synthetic organisation
(:func:`targetcascade.synthetic.large_org`: company -> 4 regions -> teams -> people) with two years
of monthly history (:func:`~targetcascade.synthetic.synthetic_history`). Independent organisations
rather than region subtrees of one company because that is the shape that scales out: a scenario
needs only its own unit's tree and history, so those are the only large inputs a task touches, and
each unit can be built, shipped or loaded on its own. (A region of one company would first need
its subtree and its slice of the history cut out, which the library has no one call for.)

**What crosses the wire.** The scenario function :func:`run_scenario` is a top-level pure function.
Its arguments are a :class:`Scenario` (unit name, growth in basis points and the small
:class:`~targetcascade.CascadeSpec`: about 1 kB pickled) and the unit's :class:`BusinessUnit`
(tree + history: 12 MB pickled at 20,000 people). The units are shipped to the workers **once**
before any task runs (``inputs="scatter"``: built here, ``client.scatter(..., broadcast=True)``)
or **built on the workers** from their seed (``inputs="build"``: one ``build_unit`` task per unit);
either way every task refers to a unit by its future and never carries the unit itself. Each task
returns a :class:`Summary` of about 200 bytes: the root's annual total, the top-level split, the
``check`` result and a SHA-256 digest of the plan, either of its grid bytes (``--digest arrays``,
the default: milliseconds) or of its canonical JSON (``--digest json``: ``plan.to_dict()`` with
sorted keys, the portable and thorough form, which takes longer than the cascade itself).
``keep_plans=True`` (``--keep-plans``) also returns each whole plan as its dict.

**Proof.** The same :func:`run_scenario` runs serially in this process on the same inputs; the two
lists of summaries must be equal field by field (digests, totals, check results), or the script
exits with status 1. The engine is deterministic, so which worker ran a scenario, and in which
order, cannot change a byte.

Run it (from the repository root; the cluster needs ``pip install 'targetcascade[distributed]'``)::

    PYTHONPATH=src python examples/scenario_sweep.py                     # 4 units x 6 rates
    PYTHONPATH=src python examples/scenario_sweep.py --units 10 --rates 251 --people 2000
    PYTHONPATH=src python examples/scenario_sweep.py --api bag --inputs build
    PYTHONPATH=src python examples/scenario_sweep.py --scheduler tcp://10.0.0.5:8786

``tests/test_examples.py`` runs :func:`run_sweep` on a real two-process ``LocalCluster``.
``docs/scaling.md`` explains the choices and quotes measured timings.

Dask documentation this follows:

* ``dask.delayed`` best practices -- call delayed on the function, compute many tasks at once, do
  not put large inputs into every call: https://docs.dask.org/en/stable/delayed-best-practices.html
* ``Client.scatter(..., broadcast=True)`` and its note that broadcasting is incompatible with the
  Active Memory Manager's ``ReduceReplicas`` policy (on by default, it trims the extra copies
  within seconds): https://distributed.dask.org/en/stable/api.html#distributed.Client.scatter and
  https://distributed.dask.org/en/stable/active_memory_manager.html
* ``Client.upload_file`` (ship this module to the workers when it was imported rather than run):
  https://distributed.dask.org/en/stable/api.html#distributed.Client.upload_file
* ``dask.bag.from_sequence`` and partitions: https://docs.dask.org/en/stable/bag-creation.html
* ``LocalCluster``: https://distributed.dask.org/en/stable/api.html#distributed.LocalCluster
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import resource
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    Split,
    cascade,
    check,
)
from targetcascade.allocation import (
    CapacityWeighted,
    Equal,
    HistoricalSeasonality,
    ProportionOfAverages,
)
from targetcascade.synthetic import large_org, synthetic_history

if TYPE_CHECKING:  # only for annotations: Dask is imported lazily, see _import_dask()
    from distributed import Client, Future

FISCAL_YEAR = 2027
HISTORY_YEARS = (FISCAL_YEAR - 2, FISCAL_YEAR - 1)
REGIONS = 4
PEOPLE_PER_TEAM = 50
BASIS_POINTS = 10_000  # growth is given in basis points (1 bp = 0.01 %) so it is exact
EXTRA = "pip install 'targetcascade[distributed]'"

Api = Literal["delayed", "bag"]
Inputs = Literal["scatter", "build"]
Digest = Literal["arrays", "json"]


# ----------------------------------------------------------------------------- the pure parts


@dataclasses.dataclass(frozen=True)
class BusinessUnit:
    """One business unit: a seeded synthetic organisation and its two years of monthly actuals."""

    name: str
    seed: int
    tree: OrgTree
    history: Mapping[int, Plan]
    revenue: Metric

    @property
    def base(self) -> int:
        """Last year's revenue of the whole unit, in quanta (cents)."""
        year = HISTORY_YEARS[-1]
        value = self.history[year].quanta(self.tree.root, f"FY{year}", self.revenue.name)
        assert value is not None
        return value


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One growth assumption for one business unit, with the spec that cascades it."""

    unit: str
    growth_bp: int
    spec: CascadeSpec


class Summary(TypedDict):
    """What a task sends back: small, plain Python values (a ``dict`` at run time)."""

    unit: str
    growth_bp: int
    total: int  # the root's annual revenue in the plan, in quanta
    split: dict[str, int]  # annual revenue of each child of the root, in quanta
    check_ok: bool
    violations: int
    digest: str  # SHA-256 of the plan's grid bytes or of its canonical JSON
    plan: NotRequired[dict[str, Any]]  # the whole plan, only with keep_plans


def build_unit(name: str, seed: int, people: int) -> BusinessUnit:
    """Generate business unit ``name`` from its seed: tree, history, metric. Same seed, same bytes.

    Args:
        name: Label of the unit.
        seed: Seed of its organisation and history.
        people: Number of individuals.

    Returns:
        The unit.
    """
    tree = large_org(people, regions=REGIONS, people_per_team=PEOPLE_PER_TEAM, seed=seed)
    metrics = (
        Metric(name="revenue", unit="CNY"),
        Metric(name="new_customers", unit="customer"),
    )
    history = {
        year: synthetic_history(
            tree, FiscalCalendar(fiscal_year=year), metrics, seed=seed * 10_000 + year,
            level_seed=seed, base_year=FISCAL_YEAR,
        )
        for year in HISTORY_YEARS
    }  # fmt: skip
    return BusinessUnit(name=name, seed=seed, tree=tree, history=history, revenue=metrics[0])


def grown_target(base: int, growth_bp: int) -> int:
    """``round(base x (1 + growth))`` in whole quanta, exactly (ties to even).

    Args:
        base: Last year's value in quanta.
        growth_bp: Growth in basis points (500 is +5 %).

    Returns:
        The target in quanta.
    """
    return round(Fraction(base * (BASIS_POINTS + growth_bp), BASIS_POINTS))


def scenario_spec(unit: BusinessUnit, growth_bp: int) -> CascadeSpec:
    """The cascade of one scenario: the grown target split by historical share, then by capacity.

    Revenue target = last year's actual x (1 + growth); phased over the months by the unit's
    historical seasonality; split to regions and teams by historical share (Gross-Sohl proportion of
    averages, teams without history falling back to equal shares), and to people by capacity (fte x
    ramp x active months) with teams over-assigned by 5 %.

    Args:
        unit: The business unit.
        growth_bp: Growth in basis points.

    Returns:
        The spec (a small, picklable value).
    """
    target = unit.revenue.from_quanta(grown_target(unit.base, growth_bp))
    history_share = ProportionOfAverages(window=2, fallback=Equal())
    return CascadeSpec(
        metrics=[
            MetricCascade(
                metric=unit.revenue,
                target=target,
                time=HistoricalSeasonality(window=2),
                splits={
                    "company": Split(strategy=history_share),
                    "region": Split(strategy=history_share),
                    "team": Split(strategy=CapacityWeighted(), hedge="0.05"),
                },
            )
        ]
    )


def json_digest(plan_dict: Mapping[str, Any]) -> str:
    """SHA-256 of a plan's canonical JSON: ``plan.to_dict()`` with sorted keys and no spaces.

    The JSON form is the library's lossless, portable serialisation (tree, calendar, metrics, hedges
    and every cell as integers of quanta), so equal digests mean equal plans on any machine. It is
    the thorough choice, but building and hashing the JSON takes longer than the cascade itself.

    Args:
        plan_dict: ``plan.to_dict()``.

    Returns:
        The hex digest.
    """
    text = json.dumps(plan_dict, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def array_digest(plan: Plan) -> str:
    """SHA-256 of a plan's grid bytes: shape, values (little-endian int64) and origin codes.

    Byte-for-byte equality of the grid, which is what a cascade computes (the tree, calendar and
    metrics are its inputs). Milliseconds, where :func:`json_digest` takes longer than the cascade;
    little-endian on every machine, so digests compare across platforms.

    Args:
        plan: The plan.

    Returns:
        The hex digest.
    """
    sha = hashlib.sha256(repr(plan.values.shape).encode("ascii"))
    sha.update(plan.values.astype("<i8", copy=False).tobytes())
    sha.update(plan.origins.tobytes())
    return sha.hexdigest()


def run_scenario(
    scenario: Scenario, unit: BusinessUnit, keep_plan: bool = False, digest: Digest = "arrays"
) -> Summary:
    """Cascade one scenario and summarise it. Pure: the same arguments give the same summary.

    Args:
        scenario: The growth assumption and its spec.
        unit: The scenario's business unit (on a worker: the copy shipped or built there once).
        keep_plan: Also return the whole plan as ``plan.to_dict()``.
        digest: ``"arrays"`` (:func:`array_digest`) or ``"json"`` (:func:`json_digest`).

    Returns:
        The summary.
    """
    assert scenario.unit == unit.name, (scenario.unit, unit.name)
    calendar = FiscalCalendar(fiscal_year=FISCAL_YEAR)
    plan = cascade(scenario.spec, unit.tree, calendar, history=unit.history)
    report = check(plan)
    year = calendar.label
    metric = unit.revenue.name

    def annual(node: str) -> int:
        value = plan.quanta(node, year, metric)
        assert value is not None
        return value

    plan_dict = plan.to_dict() if keep_plan or digest == "json" else None
    summary = Summary(
        unit=unit.name,
        growth_bp=scenario.growth_bp,
        total=annual(unit.tree.root),
        split={child: annual(child) for child in unit.tree.children(unit.tree.root)},
        check_ok=report.ok,
        violations=sum(report.counts.values()),
        digest=array_digest(plan) if plan_dict is None else json_digest(plan_dict),
    )
    if keep_plan:
        assert plan_dict is not None
        summary["plan"] = plan_dict
    return summary


def run_item(
    item: tuple[Scenario, BusinessUnit], keep_plan: bool = False, digest: Digest = "arrays"
) -> Summary:
    """:func:`run_scenario` on a ``(scenario, unit)`` pair: the element type of the Dask bag."""
    scenario, unit = item
    return run_scenario(scenario, unit, keep_plan, digest)


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process in MB (run on each worker by ``client.run``)."""
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def growth_grid(rates: int, low_bp: int = -500, high_bp: int = 2_000) -> list[int]:
    """``rates`` growth rates in basis points, evenly from ``low_bp`` to ``high_bp`` (whole bp).

    Args:
        rates: How many (at least 1; 1 gives ``low_bp``).
        low_bp: The lowest rate.
        high_bp: The highest rate.

    Returns:
        The rates, ascending.
    """
    if rates < 1:
        raise ValueError(f"need at least one growth rate, got {rates}")
    if rates == 1:
        return [low_bp]
    return [low_bp + (high_bp - low_bp) * i // (rates - 1) for i in range(rates)]


def compare(serial: Sequence[Summary], parallel: Sequence[Summary]) -> list[str]:
    """Every difference between two runs' summaries, field by field; empty when identical.

    Args:
        serial: Summaries of the serial run.
        parallel: Summaries of the cluster run, in the same scenario order.

    Returns:
        One line per differing scenario field (or a length mismatch).
    """
    if len(serial) != len(parallel):
        return [f"{len(serial)} serial results but {len(parallel)} from the cluster"]
    problems = []
    for one, other in zip(serial, parallel, strict=True):
        name = f"{one['unit']} {one['growth_bp'] / 100:+.2f}%"
        for key in sorted(set(one) | set(other)):
            left, right = one.get(key), other.get(key)
            if left != right:
                shown = "(plans differ)" if key == "plan" else f"{left!r} != {right!r}"
                problems.append(f"{name}: {key}: {shown}")
    return problems


# ---------------------------------------------------------------------------- running the sweep


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` measured: both runs' summaries, their differences and the timings."""

    units: tuple[BusinessUnit, ...]
    scenarios: tuple[Scenario, ...]
    serial: list[Summary]
    parallel: list[Summary]
    mismatches: list[str]
    api: Api
    inputs: Inputs
    digest: Digest
    workers: int  # worker processes (or threads with threads=True)
    threads: bool
    malloc_trim: bool
    seconds: dict[str, float]  # build, serial, startup, ship, cluster
    worker_peak_rss_mb: dict[str, float]
    client_peak_rss_mb: float
    replicas: dict[str, int]  # unit name -> number of workers holding it after the run

    @property
    def ok(self) -> bool:
        """The cluster run equals the serial run and every plan checks ok."""
        return not self.mismatches and all(s["check_ok"] for s in self.serial)


def _import_dask() -> tuple[ModuleType, ModuleType, ModuleType]:
    """Import ``dask``, ``dask.bag`` and ``distributed`` on first use, or say which extra to install.

    Lazy so that this module (and ``targetcascade``) import without Dask.
    """
    try:
        import dask  # noqa: PLC0415 -- optional dependency, imported when a sweep needs it
        import dask.bag  # noqa: PLC0415
        import distributed  # noqa: PLC0415
    except ImportError as exc:
        msg = (
            f"the scenario sweep runs on Dask's distributed scheduler, which is not installed "
            f"({exc}); install the extra: {EXTRA}"
        )
        raise ImportError(msg, name=exc.name) from exc
    return dask, dask.bag, distributed


@contextlib.contextmanager
def local_client(
    workers: int = 2, *, threads: bool = False, malloc_trim: bool = False
) -> Iterator[Client]:
    """A ``LocalCluster`` and a client on it, both closed on exit.

    ``workers`` processes of one thread each (the cascade holds the GIL for much of its work, so
    processes, not threads, give parallelism); with ``threads=True`` one process with ``workers``
    threads instead, to compare. Two Dask defaults are changed for this cluster:

    * the Active Memory Manager is off, so the copies that ``scatter(..., broadcast=True)`` puts on
      every worker stay there (its ``ReduceReplicas`` policy would drop them within seconds);
    * worker processes start without ``MALLOC_TRIM_THRESHOLD_=65536`` (unless ``malloc_trim``).
      Dask sets it so that freed memory goes back to the OS, but it also turns off glibc's adaptive
      mmap threshold: every large numpy temporary is then a fresh ``mmap`` with its page faults,
      and a cascade took twice as long with it as without it on this machine (docs/scaling.md).

    The nanny writes its worker environment into this process's ``os.environ``; it is restored on
    exit, so later subprocesses do not inherit it.

    Args:
        workers: Number of worker processes (or threads).
        threads: One process with threads instead of processes.
        malloc_trim: Keep Dask's ``MALLOC_TRIM_THRESHOLD_`` for the workers.

    Yields:
        The client.
    """
    dask, _, distributed = _import_dask()
    config: dict[str, Any] = {"distributed.scheduler.active-memory-manager.start": False}
    spawn_environ = dask.config.get("distributed.nanny.pre-spawn-environ")
    saved = {name: os.environ.get(name) for name in spawn_environ}
    if not malloc_trim:
        config["distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"] = None
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)  # an inherited value would win over config
    try:
        with dask.config.set(config):
            cluster = distributed.LocalCluster(
                n_workers=1 if threads else workers,
                threads_per_worker=workers if threads else 1,
                processes=not threads,
                dashboard_address=None,  # no port to collide with; pass your own cluster for one
            )
        with cluster, distributed.Client(cluster) as client:
            yield client
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _ship_units(
    client: Client, units: Sequence[BusinessUnit], inputs: Inputs, people: int
) -> dict[str, Future[BusinessUnit]]:
    """Futures of the units on the cluster: scattered to every worker, or built there from seeds."""
    if inputs == "scatter":
        # A list scatters element-wise: one future per unit, each copied to every worker once.
        futures = client.scatter(list(units), broadcast=True)
    else:
        # The key names every input: asking again for the same unit reuses it, never a stale one.
        futures = [
            client.submit(build_unit, u.name, u.seed, people, key=f"{u.name}-{u.seed}-{people}")
            for u in units
        ]
        distributed = _import_dask()[2]
        distributed.wait(futures)
    return {u.name: f for u, f in zip(units, futures, strict=True)}


def run_sweep(
    *,
    units: int = 4,
    rates: int = 6,
    people: int = 20_000,
    workers: int = 2,
    api: Api = "delayed",
    inputs: Inputs = "scatter",
    partitions: int | None = None,
    keep_plans: bool = False,
    digest: Digest = "arrays",
    threads: bool = False,
    malloc_trim: bool = False,
    client: Client | None = None,
    first_seed: int = 1,
) -> SweepResult:
    """Run every scenario serially here and in parallel on Dask; compare the two runs.

    Args:
        units: Number of business units (seeds ``first_seed``, ``first_seed + 1``, ...).
        rates: Number of growth rates from -5 % to +20 %.
        people: Individuals per business unit.
        workers: Worker processes of the local cluster (ignored when ``client`` is given).
        api: ``"delayed"`` (one task per scenario) or ``"bag"`` (scenarios in ``partitions``).
        inputs: ``"scatter"`` (build here, ship once to every worker) or ``"build"`` (each unit
            built on a worker from its seed).
        partitions: Bag partitions (default: 4 per worker thread).
        keep_plans: Return every plan's dict too (heavier; compared as well).
        digest: How to fingerprint plans: ``"arrays"`` (the grid bytes, fast) or ``"json"`` (the
            canonical JSON of ``plan.to_dict()``, portable and thorough, slower).
        threads: Local cluster of one process with ``workers`` threads instead.
        malloc_trim: Local cluster keeps Dask's ``MALLOC_TRIM_THRESHOLD_`` (see :func:`local_client`).
        client: An existing client (e.g. of a remote cluster); its cluster is left running.
        first_seed: Seed of the first unit.

    Returns:
        Both runs' summaries, the differences (empty when identical) and the measurements.

    Raises:
        ImportError: Dask's distributed scheduler is not installed (names the extra to install).
    """
    dask, bag, _ = _import_dask()
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    built = tuple(build_unit(f"bu-{s}", s, people) for s in range(first_seed, first_seed + units))
    scenarios = tuple(
        Scenario(unit=u.name, growth_bp=g, spec=scenario_spec(u, g))
        for u in built
        for g in growth_grid(rates)
    )
    by_name = {u.name: u for u in built}
    seconds["build"] = time.perf_counter() - start

    start = time.perf_counter()
    serial = [run_scenario(s, by_name[s.unit], keep_plans, digest) for s in scenarios]
    seconds["serial"] = time.perf_counter() - start

    with contextlib.ExitStack() as stack:
        start = time.perf_counter()
        if client is None:
            cluster = local_client(workers, threads=threads, malloc_trim=malloc_trim)
            client = stack.enter_context(cluster)
        seconds["startup"] = time.perf_counter() - start
        if __name__ != "__main__":
            # Imported (e.g. by the tests): tasks refer to this module's functions by name, so the
            # workers must be able to import it. Run as a script, cloudpickle sends them by value.
            client.upload_file(__file__)

        start = time.perf_counter()
        shipped = _ship_units(client, built, inputs, people)
        seconds["ship"] = time.perf_counter() - start

        start = time.perf_counter()
        if api == "delayed":
            run = dask.delayed(run_scenario)

            def name(scenario: Scenario) -> str:
                # Readable, and still naming every input: Dask takes equal keys for equal results.
                unit_key = shipped[scenario.unit].key
                token = dask.base.tokenize(scenario.spec.to_json(), unit_key, keep_plans, digest)
                return f"scenario-{scenario.unit}{scenario.growth_bp:+d}bp-{token}"

            tasks = [
                run(s, shipped[s.unit], keep_plans, digest, dask_key_name=name(s))
                for s in scenarios
            ]
            parallel = list(client.gather(client.compute(tasks)))
        else:
            n_threads = sum(client.nthreads().values())
            items = [(s, shipped[s.unit]) for s in scenarios]  # futures inside items are resolved
            sweep = bag.from_sequence(items, npartitions=partitions or 4 * n_threads)
            mapped = sweep.map(run_item, keep_plan=keep_plans, digest=digest)
            parallel = client.compute(mapped).result()
        seconds["cluster"] = time.perf_counter() - start

        worker_rss = client.run(peak_rss_mb)
        replicas = {name: len(holders) for name, holders in _who_has(client, shipped).items()}
        client.cancel(list(shipped.values()))

    return SweepResult(
        units=built,
        scenarios=scenarios,
        serial=serial,
        parallel=parallel,
        mismatches=compare(serial, parallel),
        api=api,
        inputs=inputs,
        digest=digest,
        workers=workers,
        threads=threads,
        malloc_trim=malloc_trim,
        seconds=seconds,
        worker_peak_rss_mb=dict(worker_rss),
        client_peak_rss_mb=peak_rss_mb(),
        replicas=replicas,
    )


def _who_has(
    client: Client, shipped: Mapping[str, Future[BusinessUnit]]
) -> dict[str, tuple[str, ...]]:
    holders = client.who_has(list(shipped.values()))
    return {name: tuple(holders.get(future.key, ())) for name, future in shipped.items()}


# ------------------------------------------------------------------------------------ reporting


def format_table(result: SweepResult, limit: int = 12) -> str:
    """The first ``limit`` scenarios: target, top-level split (M CNY) and digest prefix."""
    metric = result.units[0].revenue
    rows = [
        (
            f"{x['unit']} {x['growth_bp'] / 100:+.2f}%",
            metric.format(x["total"]).removesuffix(f" {metric.unit_label}"),
            "  ".join(f"{child} {quanta / 1e8:,.2f}" for child, quanta in x["split"].items()),
            x["digest"][:12],
        )
        for x in result.parallel[:limit]
    ]
    titles = ("scenario", f"target ({metric.unit_label})", "top-level split (M CNY)", "digest")
    widths = [max(len(r[k]) for r in [titles, *rows]) for k in range(4)]

    def line(row: tuple[str, str, str, str]) -> str:
        a, b, c, d = (text.ljust(w) for text, w in zip(row, widths, strict=True))
        return f"{a}  {b.strip().rjust(widths[1])}  {c}  {d}".rstrip()

    out = [line(titles), "-" * len(line(titles)), *(line(r) for r in rows)]
    if len(result.parallel) > limit:
        out.append(f"... and {len(result.parallel) - limit} more")
    return "\n".join(out)


def format_report(result: SweepResult) -> str:
    """Timings, memory and the verdict of the comparison."""
    s = result.seconds
    n = len(result.scenarios)
    where = (
        f"1 worker process x {result.workers} threads"
        if result.threads
        else f"{len(result.worker_peak_rss_mb)} worker processes x 1 thread"
    )
    if result.malloc_trim:
        where += " with MALLOC_TRIM_THRESHOLD_"
    rss = ", ".join(f"{mb:.0f}" for mb in sorted(result.worker_peak_rss_mb.values()))
    replicas = sorted(set(result.replicas.values()))
    lines = [
        (
            f"{n} scenarios = {len(result.units)} business units x {n // len(result.units)} "
            f"growth rates, {len(result.units[0].tree):,} nodes per unit"
        ),
        f"build inputs here: {s['build']:.2f} s",
        f"serial (this process): {s['serial']:.2f} s",
        (
            f"cluster ({where}, {result.api}, inputs {result.inputs}, {result.digest} digest): "
            f"{s['cluster']:.2f} s "
            f"(+ {s['startup']:.2f} s cluster start, {s['ship']:.2f} s to ship inputs)"
        ),
        f"speed-up of the sweep: {s['serial'] / s['cluster']:.2f}x",
        f"peak RSS: workers {rss} MB; this process {result.client_peak_rss_mb:.0f} MB",
        f"copies of each unit on the cluster after the run: {replicas}",
    ]
    failed = [f"{x['unit']} {x['growth_bp']}" for x in result.serial if not x["check_ok"]]
    if failed:
        lines.append(f"check FAILED for {len(failed)} scenarios: {', '.join(failed[:5])}")
    if result.mismatches:
        lines.append(f"cluster results DIFFER from the serial run ({len(result.mismatches)}):")
        lines += [f"  {m}" for m in result.mismatches[:20]]
    else:
        lines.append(
            f"identical: all {n} digests, totals, top-level splits and check results equal the "
            "serial run"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scenario_sweep.py",
        description="Cascade growth scenarios x business units on a local Dask cluster; compare "
        "with a serial run. Exit status 0 when identical, 1 when not (or a check fails), 2 when "
        "Dask is missing.",
    )
    parser.add_argument("--units", type=int, default=4, help="business units (default 4)")
    parser.add_argument(
        "--rates", type=int, default=6, help="growth rates from -5%% to +20%% (default 6)"
    )
    parser.add_argument(
        "--people", type=int, default=20_000, help="individuals per unit (default 20000)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--api", choices=["delayed", "bag"], default="delayed")
    parser.add_argument(
        "--inputs",
        choices=["scatter", "build"],
        default="scatter",
        help="scatter: build here and broadcast once; build: build each unit on a worker",
    )
    parser.add_argument("--partitions", type=int, default=None, help="bag partitions")
    parser.add_argument(
        "--digest",
        choices=["arrays", "json"],
        default="arrays",
        help="fingerprint of each plan: grid bytes (fast) or canonical JSON (portable, slower)",
    )
    parser.add_argument("--threads", action="store_true", help="one process with N threads")
    parser.add_argument(
        "--malloc-trim",
        action="store_true",
        help="keep Dask's MALLOC_TRIM_THRESHOLD_=65536 for the workers (slower here)",
    )
    parser.add_argument("--keep-plans", action="store_true", help="return whole plans too")
    parser.add_argument("--scheduler", default=None, help="address of a running scheduler")
    parser.add_argument("--show", type=int, default=12, help="table rows to print")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sweep from the command line; print the table and the report.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 when the cluster run equals the serial run and every plan checks ok, 1 otherwise, 2 when
        Dask is not installed.
    """
    args = _parser().parse_args(argv)
    try:
        distributed = _import_dask()[2]
    except ImportError as exc:
        print(f"scenario_sweep: {exc}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {
        "units": args.units,
        "rates": args.rates,
        "people": args.people,
        "workers": args.workers,
        "api": args.api,
        "inputs": args.inputs,
        "partitions": args.partitions,
        "keep_plans": args.keep_plans,
        "digest": args.digest,
        "threads": args.threads,
        "malloc_trim": args.malloc_trim,
    }
    if args.scheduler:
        with distributed.Client(args.scheduler) as client:
            if client.amm.running():
                print(
                    "note: the Active Memory Manager is running on this cluster; it may drop the "
                    "broadcast copies of the units (correct, but they are then fetched again)"
                )
            result = run_sweep(client=client, **options)
    else:
        result = run_sweep(**options)
    print(format_table(result, limit=args.show))
    print()
    print(format_report(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
