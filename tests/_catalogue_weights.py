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
    Split,
    cascade,
)
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


CASES: list[Case] = [
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
