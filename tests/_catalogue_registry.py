"""Catalogue rows for the strategy registry's doors: lookups, registration and plug-in classes."""

from __future__ import annotations

from _catalogue import Case
from targetcascade.allocation import Equal
from targetcascade.allocation._registry import (
    StrategyRegistry,
    default_registry,
    validate_strategy_class,
)
from targetcascade.errors import SerializationError, StrategyError


class _NoName:
    needs_history = False


CASES: list[Case] = [
    Case(
        id="door-registry-unknown-name-nearest",
        call=lambda: default_registry().get("eqaul"),
        error=StrategyError,
        names=("'eqaul'", "'equal'"),
    ),
    Case(
        id="door-registry-wrong-kind",
        call=lambda: default_registry().from_dict({"strategy": "even"}, kind="org"),
        error=StrategyError,
        names=("'even'", "time strategy", "org strategies"),
    ),
    Case(
        id="door-registry-unknown-parameter",
        call=lambda: default_registry().from_dict({"strategy": "equal", "wieght": 2}),
        error=StrategyError,
        names=("'equal'", "'wieght'"),
    ),
    Case(
        id="door-registry-mapping-without-name",
        call=lambda: default_registry().from_dict({"nam": "equal"}),
        error=SerializationError,
        names=("'strategy'",),
    ),
    Case(
        id="door-registry-register-instance",
        call=lambda: StrategyRegistry().register(Equal()),
        error=StrategyError,
        names=("Equal()", "not an instance"),
    ),
    Case(
        id="door-registry-register-twice",
        call=lambda: StrategyRegistry([Equal]).register(
            type("Other", (Equal,), {"__module__": "plugin"})
        ),
        error=StrategyError,
        names=("'equal'", "already registered"),
    ),
    Case(
        id="21.9-plugin-class-without-name",
        call=lambda: validate_strategy_class(_NoName),
        error=StrategyError,
        names=("_NoName", "name=None"),
    ),
]
