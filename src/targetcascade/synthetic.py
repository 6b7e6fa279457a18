"""Seeded synthetic organisations and histories for examples, the demo, tests and benchmarks.

Nothing here is real data: every name and number comes from a seeded :class:`numpy.random.Generator`,
so the same seed gives the same company, byte for byte.

Example:
    >>> company = demo_company()
    >>> len(company.tree), company.calendar.label, [m.name for m in company.metrics]
    (75, 'FY2027', ['revenue', 'new_customers'])
    >>> sorted(company.history)
    [2025, 2026]
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Mapping
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from targetcascade.calendar import FiscalCalendar
from targetcascade.errors import PlanError
from targetcascade.metric import Metric
from targetcascade.org import OrgTree
from targetcascade.plan import Origin, Plan, PlanKind

__all__ = ["SyntheticCompany", "demo_company", "large_org", "synthetic_history"]

#: Monthly seasonality of a sales year (calendar-month fiscal year): slow January, strong quarter ends,
#: a big December. Mean 1.
SEASONALITY: Final = np.array(
    [0.70, 0.80, 1.05, 0.90, 0.95, 1.10, 0.90, 0.85, 1.10, 1.00, 1.05, 1.60]
)

_REGIONS: Final = ("north", "east", "south", "west")
_TEAMS_PER_REGION: Final = (3, 3, 2, 2)
_PEOPLE_PER_TEAM: Final = 6
_GIVEN: Final = (
    "an", "bo", "chen", "dai", "fang", "gao", "hui", "jia", "kai", "lan", "mei", "ning",
    "ping", "qing", "rui", "shan", "tao", "wei", "xin", "yan", "zhi", "lu", "min", "yu",
)  # fmt: skip


@attrs.frozen(kw_only=True, eq=False)
class SyntheticCompany:
    """A generated company: its org tree for the target year, the calendar, metrics and history.

    Args:
        tree: The organisation in the target year (new hires and leavers carry start / end dates).
        calendar: The target fiscal year.
        metrics: ``revenue`` (CNY) and ``new_customers`` (customer).
        history: Actuals per past fiscal year, each on the tree of people present in that year.
        seed: The seed it was generated from.

    Example:
        >>> company = demo_company(seed=7)
        >>> company.history[2026].kind.value
        'history'
    """

    tree: OrgTree
    calendar: FiscalCalendar
    metrics: tuple[Metric, ...]
    history: Mapping[int, Plan]
    seed: int


def _rng(seed: int, name: str) -> np.random.Generator:
    """A seeded generator; the seed must be an integer >= 0, as numpy requires."""
    given: object = seed  # user input: the annotation is not yet true
    whole = isinstance(given, numbers.Integral) and not isinstance(given, bool | np.bool_)
    if not whole or seed < 0:
        raise PlanError(
            f"{name} {seed!r} is not an integer >= 0",
            hint=f"give {name} as a whole number 0 or above, e.g. {name}=2027",
        )
    return np.random.default_rng(int(seed))


def demo_company(seed: int = 2027, *, fiscal_year: int = 2027) -> SyntheticCompany:
    """The demo company: 4 regions, 10 teams, 60 people, two years of monthly history.

    Among the 60 people are two new hires who start during the target year (on a ramp, no history),
    one hire from the middle of last year (half a year of history), a leaver who ends mid-year, and
    two part-timers (fte 0.5). Revenue per person follows a seeded log-normal level, the
    :data:`SEASONALITY` profile, about 8 % yearly growth and noise.

    Args:
        seed: Seed of the random generator, an integer >= 0.
        fiscal_year: The target year; history covers the two years before it.

    Returns:
        The company.

    Raises:
        PlanError: If the seed is not an integer >= 0.

    Example:
        >>> company = demo_company()
        >>> company.tree.node("east-1-4").start_date
        datetime.date(2027, 4, 1)
    """
    rng = _rng(seed, "seed")
    fy = fiscal_year
    records: list[dict[str, object]] = [{"id": "acme", "name": "Acme Sales", "level": "company"}]
    person = 0
    for region, n_teams in zip(_REGIONS, _TEAMS_PER_REGION, strict=True):
        potential = round(float(rng.uniform(0.6, 1.6)), 2)
        records.append(
            {"id": region, "parent": "acme", "level": "region", "name": region.title(),
             "potential": potential}
        )  # fmt: skip
        for t in range(1, n_teams + 1):
            team = f"{region}-{t}"
            records.append({"id": team, "parent": region, "level": "team", "name": team})
            for p in range(1, _PEOPLE_PER_TEAM + 1):
                person += 1
                given = _GIVEN[(person * 7) % len(_GIVEN)]
                record: dict[str, object] = {
                    "id": f"{team}-{p}",
                    "parent": team,
                    "level": "individual",
                    "name": f"{given.title()} {person:02d}",
                    "fte": 1.0,
                    "start_date": dt.date(
                        fy - 4 + int(rng.integers(0, 3)), 1 + int(rng.integers(0, 12)), 1
                    ),
                    "potential": round(float(rng.uniform(0.5, 2.0)), 2),
                }
                records.append(record)
    by_id = {str(r["id"]): r for r in records}
    # The cast of special cases, at fixed places so the demo can talk about them.
    by_id["east-1-4"]["start_date"] = dt.date(fy, 4, 1)  # new hire in Q2, no history
    by_id["west-2-6"]["start_date"] = dt.date(fy, 7, 1)  # new hire in Q3, no history
    by_id["south-1-3"]["start_date"] = dt.date(fy - 1, 7, 1)  # half a year of history
    by_id["north-2-2"]["end_date"] = dt.date(fy, 6, 30)  # leaves at the end of Q2
    by_id["north-1-5"]["fte"] = 0.5
    by_id["west-1-1"]["fte"] = 0.5
    tree = OrgTree.from_records(records)
    calendar = FiscalCalendar(fiscal_year=fy)
    metrics = (
        Metric(name="revenue", unit="CNY", description="signed revenue"),
        Metric(name="new_customers", unit="customer", description="newly won customers"),
    )
    history = {
        year: synthetic_history(
            tree, FiscalCalendar(fiscal_year=year), metrics, seed=seed + year, level_seed=seed
        )
        for year in (fy - 2, fy - 1)
    }
    return SyntheticCompany(
        tree=tree, calendar=calendar, metrics=metrics, history=history, seed=seed
    )


def synthetic_history(
    tree: OrgTree,
    calendar: FiscalCalendar,
    metrics: tuple[Metric, ...],
    *,
    seed: int,
    level_seed: int = 0,
    growth: float = 0.08,
    base_year: int = 2027,
) -> Plan:
    """Monthly actuals for ``calendar``'s year on the part of ``tree`` present in that year.

    Leaves that start after the year ends are dropped (with inner nodes left empty); months before a
    leaf's start or after its end hold zero. Revenue is ``level x fte x seasonality x trend x noise``
    in the revenue unit, rounded to its quantum; new customers are Poisson with a mean proportional
    to revenue. Each person's
    level depends only on ``level_seed`` and their position in ``tree``, so the same person has the
    same level in every history year.

    Args:
        tree: The organisation (leaves carry ``fte``, ``start_date``, ``end_date``).
        calendar: The past fiscal year to generate.
        metrics: Metrics named ``revenue`` (a currency) and / or ``new_customers`` (a count);
            only these are generated (the draws do not depend on which are asked for).
        seed: Seed of this year's noise.
        level_seed: Seed of the per-person revenue levels.
        growth: Yearly growth of the revenue level.
        base_year: The year whose level the trend is relative to.

    Returns:
        A plan of kind ``history`` whose leaf-months have origin ``actual``.

    Example:
        >>> company = demo_company()
        >>> company.history[2025].quanta("acme", "FY2025", "new_customers") > 0
        True
    """
    compiled = tree.compiled
    all_leaves = np.flatnonzero(compiled.is_leaf)
    level = _rng(level_seed, "level_seed").lognormal(np.log(90_000.0), 0.35, all_leaves.size)
    level_of = np.zeros(len(tree))
    level_of[all_leaves] = level
    year_end = np.datetime64(calendar.end, "D")
    late = compiled.is_leaf & ~np.isnat(compiled.start) & (compiled.start > year_end)
    present_tree, kept = _without(tree, late)
    sub = present_tree.compiled
    leaves = np.flatnonzero(sub.is_leaf)
    origin_of_leaf = kept[leaves]  # positions in ``tree.compiled``
    months = [p for p in calendar.periods if p.level.name == "MONTH"]
    month_start = np.array([np.datetime64(p.start, "D") for p in months])
    month_end = np.array([np.datetime64(p.end, "D") for p in months])
    start = compiled.start[origin_of_leaf][:, None]
    end = compiled.end[origin_of_leaf][:, None]
    active = ~(~np.isnat(start) & (month_end[None, :] < start))
    active &= ~(~np.isnat(end) & (month_start[None, :] > end))
    fte = np.nan_to_num(compiled.fte[origin_of_leaf], nan=1.0)
    rng = _rng(seed, "seed")
    trend = (1 + growth) ** (calendar.fiscal_year - base_year)
    noise = rng.lognormal(mean=0.0, sigma=0.12, size=active.shape)
    base = level_of[origin_of_leaf] * fte
    revenue_yuan = base[:, None] * SEASONALITY[None, : len(months)] * trend * noise
    revenue_yuan = np.where(active, revenue_yuan, 0.0)
    customers = rng.poisson(revenue_yuan / 40_000.0)
    by_name = {m.name: m for m in metrics}
    unknown = sorted(set(by_name) - {"revenue", "new_customers"})
    if unknown:
        raise PlanError(
            f"synthetic_history generates 'revenue' and 'new_customers', not {unknown}",
            hint="pass metrics named revenue and/or new_customers",
        )
    leaf_values = {}
    if "revenue" in by_name:
        quanta_per_unit = 1 / float(by_name["revenue"].quantum)
        leaf_values["revenue"] = np.rint(revenue_yuan * quanta_per_unit).astype(np.int64)
    if "new_customers" in by_name:
        leaf_values["new_customers"] = customers.astype(np.int64)
    return Plan.from_leaf_arrays(
        present_tree,
        calendar,
        metrics,
        leaf_values,
        origin=Origin.ACTUAL,
        kind=PlanKind.HISTORY,
    )


def _without(tree: OrgTree, drop: npt.NDArray[np.bool_]) -> tuple[OrgTree, npt.NDArray[np.int64]]:
    """The tree without the flagged leaves and the inner nodes they leave empty, built in bulk.

    Returns the new tree and, for each of its compiled positions, the position in ``tree.compiled``.
    """
    compiled = tree.compiled
    if not drop.any():
        return tree, np.arange(len(tree))
    keep = ~drop
    # An inner node stays if any kept leaf lies below it: push "kept leaf" up, deepest first.
    alive = keep & compiled.is_leaf
    for d in range(int(compiled.depth.max()), 0, -1):
        at = np.flatnonzero(alive & (compiled.depth == d))
        alive[compiled.parent[at]] = True
    alive[0] = True
    rows = np.flatnonzero(alive)
    ids = [compiled.ids[i] for i in rows.tolist()]
    # parents as rows of the smaller tree, not ids: the tree then needs no id dict of its own
    # (about 75 MB per million nodes; History aligns it through the planning tree's dict)
    new_row = np.full(len(tree), -1, dtype=np.int64)
    new_row[rows] = np.arange(rows.size, dtype=np.int64)
    parent_rows = np.where(compiled.parent[rows] < 0, -1, new_row[compiled.parent[rows]])
    attributes = {a: compiled.attribute(a)[rows] for a in tree.attribute_names}
    smaller = OrgTree.from_arrays(
        ids,
        parent_rows,
        compiled.level_code[rows],
        names=[tree.node(i).name for i in ids] if len(ids) <= 10_000 else None,
        fte=compiled.fte[rows],
        start=compiled.start[rows],
        end=compiled.end[rows],
        attributes=attributes,
        levels_spec=tree.levels,
    )
    # the smaller tree's compiled position p holds its input row input_order[p], which is
    # position rows[input_order[p]] of ``tree.compiled``
    return smaller, rows[smaller.compiled.input_order]


def large_org(
    individuals: int,
    *,
    regions: int = 40,
    people_per_team: int = 100,
    seed: int = 0,
) -> OrgTree:
    """A big synthetic organisation: company -> regions -> teams -> individuals, built from arrays.

    With the defaults and 10⁶ individuals this is the benchmark shape: 40 regions, 10,000 teams
    (250 per region) of 100 people. Individuals get fte (mostly 1, some 0.5), start dates (about 3 %
    hired during the target year 2027) and end dates (about 2 % leaving), and a ``potential``
    attribute.

    Args:
        individuals: Number of leaves; teams = ceil(individuals / people_per_team).
        regions: Number of regions (at most the number of teams).
        people_per_team: Team size (the last team may be smaller).
        seed: Seed of the random generator.

    Returns:
        The tree.

    Example:
        >>> tree = large_org(1_000, regions=4, people_per_team=50)
        >>> len(tree), len(tree.nodes_at("team"))
        (1025, 20)
    """
    rng = _rng(seed, "seed")
    teams = -(-individuals // people_per_team)
    regions = max(1, min(regions, teams))
    ids: list[str] = ["co"]
    parents: list[str | None] = [None]
    levels: list[str] = ["company"]
    region_ids = [f"r{r}" for r in range(regions)]
    ids += region_ids
    parents += ["co"] * regions
    levels += ["region"] * regions
    team_region = np.arange(teams) * regions // teams
    team_ids = [f"t{t}" for t in range(teams)]
    ids += team_ids
    parents += [region_ids[r] for r in team_region.tolist()]
    levels += ["team"] * teams
    person_team = np.arange(individuals) // people_per_team
    ids += [f"p{i}" for i in range(individuals)]
    parents += [team_ids[t] for t in person_team.tolist()]
    levels += ["individual"] * individuals
    n = len(ids)
    fte = np.full(n, np.nan)
    start = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    potential = np.full(n, np.nan)
    people = slice(n - individuals, n)
    fte[people] = np.where(rng.random(individuals) < 0.05, 0.5, 1.0)
    hired_days = rng.integers(0, 6 * 365, size=individuals)
    start[people] = np.datetime64("2027-12-31") - hired_days.astype("timedelta64[D]")
    leaving = rng.random(individuals) < 0.02
    end_day = np.datetime64("2027-01-01") + rng.integers(0, 365, size=individuals).astype(
        "timedelta64[D]"
    )
    end[people] = np.where(leaving & (end_day >= start[people]), end_day, np.datetime64("NaT"))
    potential[people] = np.round(rng.uniform(0.5, 2.0, size=individuals), 2)
    return OrgTree.from_arrays(
        ids,
        parents,
        levels,
        fte=fte,
        start=start,
        end=end,
        attributes={"potential": potential},
    )
