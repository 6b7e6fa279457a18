"""Hypothesis strategies for metrics and coherent plans (re-exported by ``targetcascade.testing``)."""

from __future__ import annotations

from typing import Final

import numpy as np
from hypothesis import strategies as st

from targetcascade.calendar import FiscalCalendar
from targetcascade.metric import Metric
from targetcascade.org import OrgTree
from targetcascade.plan import Origin, Plan
from targetcascade.testing._calendars import calendars
from targetcascade.testing._trees import org_trees

__all__ = ["metric_sets", "plans"]

_REVENUE_QUANTA: Final = ("0.01", "1", "1000")


@st.composite
def metric_sets(draw: st.DrawFn, *, ratios: bool = True) -> tuple[Metric, ...]:
    """A tuple of metrics: revenue (CNY, random quantum), a count, and maybe profit with a margin ratio.

    Args:
        draw: Supplied by hypothesis.
        ratios: Whether a ``profit`` metric (may be negative) and a ``margin`` ratio may be drawn.

    Returns:
        The metrics, unique by name.

    Example:
        >>> from hypothesis import given
        >>> @given(metric_sets())
        ... def test_names_unique(metrics):
        ...     assert len({m.name for m in metrics}) == len(metrics)
        >>> test_names_unique()
    """
    metrics = [Metric(name="revenue", unit="CNY", quantum=draw(st.sampled_from(_REVENUE_QUANTA)))]
    if draw(st.booleans()):
        metrics.append(Metric(name="deals", unit=draw(st.sampled_from(["deal", "customer"]))))
    if ratios and draw(st.booleans()):
        metrics.append(Metric(name="profit", unit="CNY", non_negative=False))
        metrics.append(
            Metric(
                name="margin",
                unit="percent",
                rollup="ratio",
                numerator="profit",
                denominator="revenue",
                quantum=draw(st.sampled_from(["0.01", "0.1", "1"])),
                non_negative=False,
            )
        )
    return tuple(metrics)


@st.composite
def plans(
    draw: st.DrawFn,
    *,
    trees: st.SearchStrategy[OrgTree] | None = None,
    calendars_: st.SearchStrategy[FiscalCalendar] | None = None,
    metrics: st.SearchStrategy[tuple[Metric, ...]] | None = None,
    max_quanta: int = 10**9,
) -> Plan:
    """Coherent plans: random leaf-month values rolled up, so :func:`targetcascade.check` is ok.

    Leaf values are drawn from a seeded numpy generator (one drawn seed), from 0 to ``max_quanta``;
    a ``profit`` metric, if drawn, may be negative.

    Args:
        draw: Supplied by hypothesis.
        trees: Strategy for the tree (default :func:`org_trees`).
        calendars_: Strategy for the calendar (default :func:`calendars`).
        metrics: Strategy for the metrics (default :func:`metric_sets`).
        max_quanta: Largest leaf-month value.

    Returns:
        The plan.

    Example:
        >>> from hypothesis import given, settings
        >>> from targetcascade import check
        >>> @settings(max_examples=5)
        ... @given(plans())
        ... def test_coherent(plan):
        ...     assert check(plan).ok
        >>> test_coherent()
    """
    tree = draw(trees if trees is not None else org_trees())
    calendar = draw(calendars_ if calendars_ is not None else calendars())
    chosen = draw(metrics if metrics is not None else metric_sets())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    leaves = int(tree.compiled.is_leaf.sum())
    months = int((calendar.level_array == calendar.level_array.max()).sum())
    leaf_values = {}
    for metric in chosen:
        if metric.rollup.value != "sum":
            continue
        low = -max_quanta if not metric.non_negative else 0
        leaf_values[metric.name] = rng.integers(
            low, max_quanta, size=(leaves, months), endpoint=True
        )
    return Plan.from_leaf_arrays(tree, calendar, chosen, leaf_values, origin=Origin.ALLOCATED)
