"""The seeded synthetic data the demo, examples and benchmarks use."""

from __future__ import annotations

import numpy as np
import pytest

from targetcascade import FiscalCalendar, Metric
from targetcascade.errors import PlanError
from targetcascade.synthetic import demo_company, large_org, synthetic_history

REVENUE = Metric(name="revenue", unit="CNY")
CUSTOMERS = Metric(name="new_customers", unit="customer")


def test_history_of_one_metric_equals_that_metric_of_both():
    """Asking for revenue alone gives the same revenue as asking for both (same draws)."""
    tree = large_org(500, regions=4, people_per_team=50, seed=3)
    calendar = FiscalCalendar(fiscal_year=2026)
    both = synthetic_history(tree, calendar, (REVENUE, CUSTOMERS), seed=7, level_seed=1)
    alone = synthetic_history(tree, calendar, (REVENUE,), seed=7, level_seed=1)
    customers = synthetic_history(tree, calendar, (CUSTOMERS,), seed=7, level_seed=1)
    assert [m.name for m in alone.metrics] == ["revenue"]
    assert np.array_equal(alone.grid("revenue"), both.grid("revenue"))
    assert np.array_equal(customers.grid("new_customers"), both.grid("new_customers"))
    assert int(alone.grid("revenue")[0, 0]) > 0


def test_history_tree_holds_the_people_present_that_year():
    """Leaves hired after the year are left out, with the teams and regions they leave empty.

    Every node kept has the same parent, level, fte and dates as in the planning tree, the
    compiled layout needs no id dict of the history tree's own, and months before a start or
    after an end hold zero.
    """
    tree = large_org(60, regions=3, people_per_team=4, seed=3)
    calendar = FiscalCalendar(fiscal_year=2023)
    plan = synthetic_history(tree, calendar, (REVENUE,), seed=7, level_seed=1)
    assert not plan.tree.compiled.position.has_rows  # the history tree built no id dict
    year_end = np.datetime64(calendar.end, "D")
    children: dict[str, list[str]] = {}
    for i in tree:
        node = tree.node(i)
        if node.parent is not None:
            children.setdefault(node.parent, []).append(i)

    def present(node_id: str) -> bool:
        node = tree.node(node_id)
        if node_id not in children:
            return node.start_date is None or np.datetime64(node.start_date, "D") <= year_end
        return any(present(c) for c in children[node_id])

    expected = {i for i in tree if present(i)}
    assert 0 < len(expected) < len(tree)  # some people joined after FY2023
    assert set(plan.tree) == expected
    for i in expected:
        assert plan.tree.node(i) == tree.node(i)
    assert plan.tree.children("co") == tuple(c for c in tree.children("co") if c in expected)
    months = [k for k, p in enumerate(calendar.periods) if p.level.name == "MONTH"]
    grid = plan.grid("revenue")
    for i in expected:
        node = tree.node(i)
        if node.level != "individual":
            continue
        row = grid[plan.tree.compiled.index(i)]
        for k in months:
            period = calendar.periods[k]
            outside = (node.start_date is not None and period.end < node.start_date) or (
                node.end_date is not None and period.start > node.end_date
            )
            assert (row[k] == 0) if outside else (row[k] > 0), (i, period)


def test_history_refuses_metrics_it_cannot_generate():
    tree = large_org(200, regions=4, people_per_team=50, seed=3)
    with pytest.raises(PlanError, match="'profit'"):
        synthetic_history(
            tree, FiscalCalendar(fiscal_year=2026), (REVENUE, Metric(name="profit", unit="CNY")),
            seed=1,
        )  # fmt: skip


@pytest.mark.parametrize("seed", [-1, 1.5, True, None, "7"])
def test_seed_must_be_a_whole_number_from_zero(seed: object) -> None:
    """#21.8: a negative or non-integer seed is a PlanError naming it, not numpy's ValueError."""
    with pytest.raises(PlanError, match=r"seed .* is not an integer >= 0"):
        demo_company(seed=seed)  # type: ignore[arg-type]
    with pytest.raises(PlanError, match=r"seed .* is not an integer >= 0"):
        large_org(10, seed=seed)  # type: ignore[arg-type]


def test_numpy_integer_seed() -> None:
    """A numpy integer seed gives the same organisation as the equal Python int."""
    assert large_org(50, regions=2, people_per_team=10, seed=np.int64(3)) == large_org(
        50, regions=2, people_per_team=10, seed=3
    )
