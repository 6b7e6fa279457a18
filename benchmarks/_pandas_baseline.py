"""The notebook baseline: a straightforward pandas historical-share cascade (time first).

This is what an analyst writes in a notebook to do the job of ``cascade`` (a) in
``bench_cascade.py`` without the library:

1. roll the history up with ``groupby`` (per person, then per team and region);
2. phase the company's annual target over its months by the company's historical seasonality;
3. split level by level (company -> regions -> teams -> people): each child's share is its history
   over its siblings' (Gross & Sohl's proportion of averages); children without history get an equal
   share ``1 / n`` and the others share the rest (the ``ProportionOfAverages(fallback=Equal())``
   rule); multiply every parent-month by the shares, floor to cents, and hand the cents the floors
   left over to the largest remainders of each parent and month (``groupby`` + ``rank``).

The result is integer cents per person x month that add up exactly to every parent-month. It is the
same kind of work as the engine, not the same algorithm cell by cell (no carrying of rounding
differences from month to month, no tie rules, no locks, bounds or provenance), so the benchmark
compares time and memory and checks exactness, never values.

Inputs use integer codes for people, teams and regions (an analyst's string ids would only make
pandas slower), in the long format of an actuals export.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def historical_share_cascade(history: pd.DataFrame, org: pd.DataFrame, target: int) -> pd.DataFrame:
    """Split ``target`` cents to every person x month of the planning year.

    Args:
        history: One row per person and history month: ``person``, ``month`` (1-12, month of the
            fiscal year; several years simply give several rows) and ``cents`` (int64).
        org: One row per person of the planning year: ``person``, ``team``, ``region``.
        target: The company's annual target in cents.

    Returns:
        Columns ``person``, ``month`` and ``cents`` (int64), one row per person x month.
    """
    # 1. roll-up: history per person, then per team and region (NaN: no history at all)
    per_person = history.groupby("person", sort=False)["cents"].sum()
    people = org.merge(per_person.rename("history"), how="left", left_on="person", right_index=True)
    by_team = people.groupby("team", sort=False)
    teams = pd.DataFrame(
        {"region": by_team["region"].first(), "history": by_team["history"].sum(min_count=1)}
    ).reset_index()
    regions = teams.groupby("region", sort=False)["history"].sum(min_count=1).reset_index()
    regions["company"] = 0

    # 2. the company's months by its historical seasonality
    by_month = history.groupby("month")["cents"].sum().reindex(range(1, 13), fill_value=0)
    company = pd.DataFrame(
        {
            "company": 0,
            "month": by_month.index,
            "exact": target * (by_month.to_numpy(dtype=np.float64) / by_month.sum()),
            "total": target,
        }
    )
    company["cents"] = _largest_remainder(company, ["company"])
    company = company[["company", "month", "cents"]]

    # 3. level by level
    regions["share"] = _shares(regions, "company")
    region_months = _split(company, regions[["region", "company", "share"]], "company", "region")
    teams["share"] = _shares(teams, "region")
    team_months = _split(region_months, teams[["team", "region", "share"]], "region", "team")
    people["share"] = _shares(people, "team")
    person_months = _split(team_months, people[["person", "team", "share"]], "team", "person")
    return person_months[["person", "month", "cents"]]


def _shares(children: pd.DataFrame, parent: str) -> np.ndarray:
    """Each child's share of its parent: history over the siblings', ``1 / n`` without history."""
    group = children.groupby(parent, sort=False)
    n = group[parent].transform("size").to_numpy(dtype=np.float64)
    known = children["history"].notna()
    unknown = (~known).groupby(children[parent], sort=False).transform("sum").to_numpy()
    base = children["history"].fillna(0).to_numpy(dtype=np.float64)
    base_sum = group["history"].transform("sum").to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_history = (1 - unknown / n) * base / base_sum
    return np.where((base_sum > 0) & known.to_numpy(), by_history, 1 / n)


def _split(parents: pd.DataFrame, children: pd.DataFrame, parent: str, child: str) -> pd.DataFrame:
    """Every child x month: parent-month x share, floored, leftover cents to the largest remainders."""
    cells = children.merge(parents, on=parent).rename(columns={"cents": "total"})
    cells["exact"] = cells["total"] * cells["share"]
    cells["cents"] = _largest_remainder(cells, [parent, "month"])
    return cells[[child, parent, "month", "cents"]]


def _largest_remainder(cells: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Hamilton rounding of ``exact`` so that each group of ``keys`` sums to its ``total``."""
    floor = np.floor(cells["exact"]).astype(np.int64)
    remainder = cells["exact"] - floor
    group = [cells[k] for k in keys]
    short = cells["total"] - floor.groupby(group, sort=False).transform("sum")
    rank = remainder.groupby(group, sort=False).rank(method="first", ascending=False)
    rounded: pd.Series = floor + (rank <= short).astype(np.int64)
    return rounded
