"""Catalogue rows for strategy weights: what a strategy (a plug-in) hands the engine (#12, #21.9)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import attrs
import numpy as np

from _catalogue import Case
from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    Split,
    cascade,
)
from targetcascade.allocation import Equal, HistoricalSeasonality, ProportionOfAverages
from targetcascade.allocation._registry import StrategyBase
from targetcascade.errors import StrategyError

DEALS = Metric(name="deals", unit="deal")


@attrs.frozen(kw_only=True)
class Returns(StrategyBase):
    """A plug-in-like org strategy that returns ``value`` for every weight."""

    name: ClassVar[str] = "returns"
    kind: ClassVar[Literal["org"]] = "org"
    needs_history: ClassVar[bool] = False
    may_return_zero: ClassVar[bool] = False

    value: Any = 1.0

    def weights(self, batch: Any) -> Any:
        return np.full(batch.shape, self.value)


def _cascade_with(value: Any, mode: str = "org_first") -> object:
    tree = OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "a", "parent": "acme", "level": "region"},
            {"id": "b", "parent": "acme", "level": "region"},
        ]
    )
    split = {"company": Split(strategy=Returns(value=value))}
    spec = CascadeSpec(metrics=[MetricCascade(metric=DEALS, target=10, mode=mode, splits=split)])
    return cascade(spec, tree, FiscalCalendar(fiscal_year=2027))


def _without_fallback(time: bool = False) -> object:
    """acme -> a, b, c, d; history for a and b only; a history strategy with fallback=None."""
    records = [{"id": "acme", "level": "company"}]
    tree = OrgTree.from_records(
        records + [{"id": n, "parent": "acme", "level": "region"} for n in "abcd"]
    )
    past = OrgTree.from_records(
        records + [{"id": n, "parent": "acme", "level": "region"} for n in "ab"]
    )
    last = Plan.from_leaf_arrays(
        past,
        FiscalCalendar(fiscal_year=2026),
        [DEALS],
        {"deals": np.array([[1] * 12, [3] * 12])},
        kind="history",
    )
    if time:
        split = Split(strategy=Equal())
        extra: dict[str, Any] = {"time": HistoricalSeasonality(fallback=None)}
    else:
        split = Split(strategy=ProportionOfAverages(fallback=None))
        extra = {}
    item = MetricCascade(
        metric=DEALS, target=120, mode="org_first", splits={"company": split}, **extra
    )
    return cascade(
        CascadeSpec(metrics=[item]), tree, FiscalCalendar(fiscal_year=2027), history=[last]
    )


CASES: list[Case] = [
    Case(
        id="12.9-no-fallback-names-every-member",
        call=_without_fallback,
        error=StrategyError,
        names=("fallback=None", "'c', 'd'", "'deals'", "fallback=Equal()"),
    ),
    Case(
        id="12.9-no-time-fallback-names-every-node",
        call=lambda: _without_fallback(time=True),
        error=StrategyError,
        names=("fallback=None", "'c', 'd'", "fallback=Even()"),
    ),
    Case(
        id="21.9-string-weights",
        call=lambda: _cascade_with("x"),
        error=StrategyError,
        names=("Returns(value='x')", "not numbers", "dtype <U1"),
    ),
    Case(
        id="door-weights-numeric-strings",
        call=lambda: _cascade_with("1.5", mode="time_first"),
        error=StrategyError,
        names=("Returns(value='1.5')", "not numbers"),
    ),
    Case(
        id="door-weights-objects",
        call=lambda: _cascade_with(None, mode="balanced"),
        error=StrategyError,
        names=("Returns(value=None)", "not numbers"),
    ),
    Case(
        id="door-weights-booleans",
        call=lambda: _cascade_with(True),
        error=StrategyError,
        names=("Returns(value=True)", "not numbers", "bool"),
    ),
]
