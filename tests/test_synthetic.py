"""The seeded synthetic data the demo, examples and benchmarks use."""

from __future__ import annotations

import numpy as np
import pytest

from targetcascade import FiscalCalendar, Metric
from targetcascade.errors import PlanError
from targetcascade.synthetic import large_org, synthetic_history

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


def test_history_refuses_metrics_it_cannot_generate():
    tree = large_org(200, regions=4, people_per_team=50, seed=3)
    with pytest.raises(PlanError, match="'profit'"):
        synthetic_history(
            tree, FiscalCalendar(fiscal_year=2026), (REVENUE, Metric(name="profit", unit="CNY")),
            seed=1,
        )  # fmt: skip
