"""Allocation: the exact apportionment kernel, the strategy protocols, built-in strategies, registry.

Org strategies give each child a weight for splitting its parent's value; time strategies give each
node a monthly profile for phasing its year. The kernel (:func:`apportion`) turns weights into exact
integers of quanta by the largest-remainder rule, keeping locks, floors and caps.

Example:
    >>> import numpy as np
    >>> apportion(np.array([100]), np.array([1.0, 1.0, 1.0]), np.array([0, 3])).tolist()
    [34, 33, 33]
    >>> sorted(default_registry().names(kind="time"))
    ['even', 'historical_seasonality', 'seasonal', 'working_days']
"""

from __future__ import annotations

from targetcascade.allocation._batch import OrgBatch, TimeBatch
from targetcascade.allocation._divisor import Adams, Jefferson, Webster
from targetcascade.allocation._history import History, HistoryTotals
from targetcascade.allocation._kernel import (
    MAX_QUANTA,
    Apportionment,
    ApportionMethod,
    LargestRemainder,
    apportion,
    apportion_detailed,
)
from targetcascade.allocation._matrix import fit_ipf, round_matrix
from targetcascade.allocation._protocol import OrgStrategy, TimeStrategy
from targetcascade.allocation._registry import (
    ENTRY_POINT_GROUP,
    StrategyBase,
    StrategyPluginWarning,
    StrategyRegistry,
    default_registry,
)
from targetcascade.allocation.org_strategies import (
    AverageOfProportions,
    Blend,
    CapacityWeighted,
    Equal,
    HistoricalShare,
    Proportional,
    ProportionOfAverages,
)
from targetcascade.allocation.time_strategies import (
    Even,
    HistoricalSeasonality,
    Seasonal,
    WorkingDays,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "MAX_QUANTA",
    "Adams",
    "ApportionMethod",
    "Apportionment",
    "AverageOfProportions",
    "Blend",
    "CapacityWeighted",
    "Equal",
    "Even",
    "HistoricalSeasonality",
    "HistoricalShare",
    "History",
    "HistoryTotals",
    "Jefferson",
    "LargestRemainder",
    "OrgBatch",
    "OrgStrategy",
    "ProportionOfAverages",
    "Proportional",
    "Seasonal",
    "StrategyBase",
    "StrategyPluginWarning",
    "StrategyRegistry",
    "TimeBatch",
    "TimeStrategy",
    "Webster",
    "WorkingDays",
    "apportion",
    "apportion_detailed",
    "default_registry",
    "fit_ipf",
    "round_matrix",
]
