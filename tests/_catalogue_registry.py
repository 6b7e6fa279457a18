"""Catalogue rows for the strategy registry's doors (lookups, registration, plug-in classes) and
for the two-margin kernel (``fit_ipf``, ``round_matrix``)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs

from _catalogue import Case
from targetcascade.allocation import Equal, fit_ipf, round_matrix
from targetcascade.allocation._registry import (
    StrategyBase,
    StrategyRegistry,
    default_registry,
    strategy_to_dict,
    validate_strategy_class,
)
from targetcascade.errors import InfeasibleAllocationError, SerializationError, StrategyError


class _NoName:
    needs_history = False


class _Bare:
    """A plug-in class written without StrategyBase, each row below breaking one declaration."""

    name = "bare"
    needs_history = False

    def weights(self, batch: object) -> None:
        del batch

    def to_dict(self) -> dict[str, str]:
        return {"strategy": self.name}


_KindBogus = type("_KindBogus", (_Bare,), {"kind": "space"})
_ZeroNotBool = type("_ZeroNotBool", (_Bare,), {"may_return_zero": "no"})
_NoToDict = type("_NoToDict", (_Bare,), {"to_dict": None})
_NoMethod = type("_NoMethod", (), {"name": "nomethod", "needs_history": False,
                                   "to_dict": _Bare.to_dict})  # fmt: skip


@attrs.frozen(kw_only=True)
class _Param(StrategyBase):
    name: ClassVar[str] = "param"
    needs_history: ClassVar[bool] = False
    v: Any = None

    def weights(self, batch: object) -> None:
        del batch


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
    Case(
        id="door-matrix-seed-not-2d",
        call=lambda: fit_ipf([1.0, 2.0], [3.0], [3.0]),
        error=InfeasibleAllocationError,
        names=("seed", "2-D", "(2,)"),
    ),
    Case(
        id="door-matrix-seed-nan-cell",
        call=lambda: fit_ipf([[1.0, math.nan]], [3.0], [1.0, 2.0]),
        error=InfeasibleAllocationError,
        names=("seed cell (0, 1)", "nan", "finite"),
    ),
    Case(
        id="door-matrix-margin-wrong-length",
        call=lambda: fit_ipf([[1.0, 1.0]], [1.0, 1.0], [1.0, 1.0]),
        error=InfeasibleAllocationError,
        names=("row_totals", "(1,)", "(2,)"),
    ),
    Case(
        id="door-matrix-negative-margin",
        call=lambda: fit_ipf([[1.0], [1.0]], [2.0, -1.0], [1.0]),
        error=InfeasibleAllocationError,
        names=("row_totals[1]", "-1.0", ">= 0"),
    ),
    Case(
        id="door-matrix-negative-seed-cell-named",
        call=lambda: fit_ipf(
            [[1.0, -2.0]], [3.0], [1.0, 2.0], row_labels=["east"], col_labels=["M01", "M02"]
        ),
        error=InfeasibleAllocationError,
        names=("row 'east'", "column 'M02'", "negative"),
    ),
    Case(
        id="door-matrix-round-float-margins",
        call=lambda: round_matrix([[0.5, 0.5]], [1.0], [0.5, 0.5]),
        error=InfeasibleAllocationError,
        names=("row_totals", "integers"),
    ),
    Case(
        id="door-registry-class-kind-unknown",
        call=lambda: validate_strategy_class(_KindBogus),
        error=StrategyError,
        names=("_KindBogus", "kind='space'"),
    ),
    Case(
        id="door-registry-class-may-return-zero-not-bool",
        call=lambda: validate_strategy_class(_ZeroNotBool),
        error=StrategyError,
        names=("_ZeroNotBool", "may_return_zero"),
    ),
    Case(
        id="door-registry-class-without-to-dict",
        call=lambda: validate_strategy_class(_NoToDict),
        error=StrategyError,
        names=("_NoToDict", "to_dict()"),
    ),
    Case(
        id="door-registry-class-without-weights-or-profile",
        call=lambda: validate_strategy_class(_NoMethod),
        error=StrategyError,
        names=("_NoMethod", "profile()"),
    ),
    Case(
        id="door-registry-parameter-nan-to-json",
        call=lambda: strategy_to_dict(_Param(v=math.nan)),
        error=SerializationError,
        names=("param.v", "nan", "JSON"),
    ),
    Case(
        id="door-registry-parameter-nested-inf-to-json",
        call=lambda: strategy_to_dict(_Param(v={"k": math.inf})),
        error=SerializationError,
        names=("param.v['k']", "inf"),
    ),
    Case(
        id="door-registry-parameter-object-to-json",
        call=lambda: strategy_to_dict(_Param(v=object())),
        error=SerializationError,
        names=("param.v", "object", "no JSON form"),
    ),
    Case(
        id="door-registry-from-dict-not-a-mapping",
        call=lambda: default_registry().from_dict(["equal"]),
        error=SerializationError,
        names=("mapping", "list"),
    ),
]
