"""Catalogue rows for the strategy registry's doors (lookups, registration, plug-in classes), the
kernels (``apportion``, ``fit_ipf``, ``round_matrix``), strategy parameters, history, and the
cascade spec's value types (bounds, splits, metric cascades)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, ClassVar

import attrs
import numpy as np
import pandas as pd

from _catalogue import Case
from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Lock,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    RelativeBounds,
    Split,
    cascade,
)
from targetcascade.allocation import (
    Equal,
    HistoricalSeasonality,
    History,
    Proportional,
    WorkingDays,
    apportion,
    fit_ipf,
    round_matrix,
)
from targetcascade.allocation._registry import (
    StrategyBase,
    StrategyRegistry,
    default_registry,
    strategy_to_dict,
    validate_strategy_class,
)
from targetcascade.errors import (
    InfeasibleAllocationError,
    InvalidAttributeError,
    InvalidTreeError,
    PlanError,
    SerializationError,
    SpecError,
    StrategyError,
)

_TREE_ROWS = [
    {"id": "acme", "level": "company"},
    {"id": "east", "parent": "acme", "level": "region"},
    {"id": "west", "parent": "acme", "level": "region"},
]
_DEALS = Metric(name="deals", unit="deal")


def _item(**fields: Any) -> MetricCascade:
    fields.setdefault("splits", {"company": Split(strategy=Equal())})
    return MetricCascade(metric=_DEALS, target=1200, **fields)


def _run(calendar: FiscalCalendar | None = None, **fields: Any) -> object:
    """Cascade 1,200 deals from acme to east and west (equal) with the given fields."""
    spec = CascadeSpec(metrics=[_item(**fields)])
    return cascade(
        spec, OrgTree.from_records(_TREE_ROWS), calendar or FiscalCalendar(fiscal_year=2027)
    )


_FRAME = pd.DataFrame(
    {"id": ["acme", "east"], "parent": [None, "acme"], "level": ["company", "region"]}
)
_UTC_DAYS = pd.to_datetime(["2027-01-01", "2027-02-01"]).tz_localize("UTC")

_TWO = OrgTree.from_records(_TREE_ROWS[:2])
_CAL = FiscalCalendar(fiscal_year=2027)
_REV = Metric(name="rev", unit="CNY")
_N = len(_CAL.periods)


def _plan(**fields: Any) -> Plan:
    """A raw plan of acme and east, deals only, all zero (fields override the arrays)."""
    fields.setdefault("values", np.zeros((1, 2, _N), np.int64))
    fields.setdefault("origins", np.zeros((1, 2, _N), np.uint8))
    return Plan(tree=_TWO, calendar=_CAL, metrics=[_DEALS], **fields)


def _cell(**extra: Any) -> dict[str, Any]:
    return {"node": "east", "period": "FY2027-M01", "metric": "deals", "value": 1, **extra}


@attrs.frozen(kw_only=True)
class _ThreeMonths(StrategyBase):
    """A time strategy returning three months' profile for a twelve-month year."""

    name: ClassVar[str] = "three_months"
    kind: ClassVar[str] = "time"
    needs_history: ClassVar[bool] = False

    def profile(self, batch: Any) -> Any:
        return np.ones((batch.shape[0], 3))


def _history_2026() -> Plan:
    rows = [
        {"node": "east", "period": f"FY2026-M{m:02d}", "metric": "deals", "value": 1}
        for m in range(1, 13)
    ]
    return Plan.from_leaf_values(
        _TWO, FiscalCalendar(fiscal_year=2026), [_DEALS], rows, kind="history"
    )


# a year whose only weekday not in the weekend (Sunday) is a holiday every week
_NO_WORKING_DAY = FiscalCalendar(
    fiscal_year=2027,
    weekend=[0, 1, 2, 3, 4, 5],
    holidays=[dt.date(2027, 1, 3) + dt.timedelta(weeks=i) for i in range(53)],
)


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
    Case(
        id="door-relative-bounds-negative-floor",
        call=lambda: RelativeBounds(floor="-0.1"),
        error=SpecError,
        names=("relative floor", "-1/10", "negative"),
    ),
    Case(
        id="door-relative-bounds-floor-above-cap",
        call=lambda: RelativeBounds(floor="2", cap="1.5"),
        error=SpecError,
        names=("floor 2", "cap 3/2"),
    ),
    Case(
        id="door-split-dict-unknown-bounds-type",
        call=lambda: Split.from_dict(
            {"strategy": {"strategy": "equal"}, "bounds": {"type": "pct"}}
        ),
        error=SpecError,
        names=("bounds.type", "'pct'", "'absolute'", "'relative'"),
    ),
    Case(
        id="door-split-dict-unknown-rounding",
        call=lambda: Split.from_dict({"strategy": {"strategy": "equal"}, "rounding": "banker"}),
        error=SpecError,
        names=("rounding", "'banker'", "webster"),
    ),
    Case(
        id="door-split-strategy-name-string",
        call=lambda: Split(strategy="equal"),
        error=SpecError,
        names=("'equal'", "not an org strategy", "Equal()"),
    ),
    Case(
        id="door-split-rounding-string",
        call=lambda: Split(strategy=Equal(), rounding="webster"),
        error=SpecError,
        names=("'webster'", "Webster()"),
    ),
    Case(
        id="door-split-hedge-minus-one",
        call=lambda: Split(strategy=Equal(), hedge=-1),
        error=SpecError,
        names=("-1", "nothing"),
    ),
    Case(
        id="door-metric-cascade-org-strategy-as-time",
        call=lambda: _item(time=Equal()),
        error=SpecError,
        names=("Equal()", "not a time strategy"),
    ),
    Case(
        id="door-metric-cascade-org-strategy-as-time-override",
        call=lambda: _item(time_overrides={"east": Equal()}),
        error=SpecError,
        names=("Equal()", "not a time strategy"),
    ),
    Case(
        id="door-spec-metric-twice",
        call=lambda: CascadeSpec(metrics=[_item(), _item()]),
        error=SpecError,
        names=("'deals'", "twice"),
    ),
    Case(
        id="door-cascade-split-for-unknown-level",
        call=lambda: _run(
            splits={"company": Split(strategy=Equal()), "regoin": Split(strategy=Equal())}
        ),
        error=SpecError,
        names=("'deals'", "'regoin'", "'region'"),
    ),
    Case(
        id="door-cascade-override-for-unknown-node",
        call=lambda: _run(overrides={"esat": Split(strategy=Equal())}),
        error=SpecError,
        names=("'esat'",),
    ),
    Case(
        id="door-cascade-override-hedge-differs-from-level",
        call=lambda: _run(
            splits={"company": Split(strategy=Equal(), hedge="0.1")},
            overrides={"acme": Split(strategy=Equal(), hedge="0.2")},
        ),
        error=SpecError,
        names=("'acme'", "1/5", "'company'", "1/10"),
    ),
    Case(
        id="door-cascade-balanced-month-lock",
        call=lambda: _run(mode="balanced", locks=[Lock(node="east", period="FY2027-M01", value=5)]),
        error=SpecError,
        names=("balanced", "annual locks"),
    ),
    Case(
        id="door-cascade-working-days-without-a-working-day",
        call=lambda: _run(calendar=_NO_WORKING_DAY, time=WorkingDays()),
        error=StrategyError,
        names=("working_days", "FY2027", "no working day"),
    ),
    Case(
        id="door-apportion-string-weights",
        call=lambda: apportion([[10]], np.array([["a"], ["b"]]), [0, 2]),
        error=StrategyError,
        names=("numbers", "<U1"),
    ),
    Case(
        id="door-apportion-totals-wrong-shape",
        call=lambda: apportion([[10, 5]], [[1.0], [1.0]], [0, 2]),
        error=InfeasibleAllocationError,
        names=("totals", "(1, 1)", "(1, 2)"),
    ),
    Case(
        id="door-apportion-child-labels-count",
        call=lambda: apportion([[10]], [[1.0], [1.0]], [0, 2], child_labels=["a"]),
        error=InfeasibleAllocationError,
        names=("child_labels", "1 entries", "expected 2"),
    ),
    Case(
        id="door-apportion-lock-mask-not-bool",
        call=lambda: apportion(
            [[10]], [[1.0], [1.0]], [0, 2], locked=[[1], [0]], lock_mask=[[1], [0]]
        ),
        error=InfeasibleAllocationError,
        names=("lock_mask", "bool", "int64"),
    ),
    Case(
        id="door-apportion-uint64-total-beyond-int64",
        call=lambda: apportion(np.array([[2**63 + 5]], dtype=np.uint64), [[1.0], [1.0]], [0, 2]),
        error=InfeasibleAllocationError,
        names=("totals", "int64"),
    ),
    Case(
        id="door-history-not-a-plan",
        call=lambda: History(plans=[5]),
        error=PlanError,
        names=("Plan", "int"),
    ),
    Case(
        id="door-history-target-plan",
        call=lambda: History(plans=[_run()]),
        error=PlanError,
        names=("FY2027", "'target'", "'history'"),
    ),
    Case(
        id="door-historical-seasonality-window-zero",
        call=lambda: HistoricalSeasonality(window=0),
        error=StrategyError,
        names=("window=0", "positive"),
    ),
    Case(
        id="door-proportional-empty-node-key",
        call=lambda: Proportional(values={"": 1}),
        error=StrategyError,
        names=("''", "node id"),
    ),
    Case(
        id="door-proportional-node-twice",
        call=lambda: Proportional(values=[("a", 1), ("a", 2)]),
        error=StrategyError,
        names=("'a'", "twice"),
    ),
    Case(
        id="door-tree-frame-repeated-column",
        call=lambda: OrgTree.from_frame(pd.concat([_FRAME, _FRAME[["level"]]], axis=1)),
        error=InvalidTreeError,
        names=("repeated column names",),
    ),
    Case(
        id="door-tree-frame-time-zone-dates",
        call=lambda: OrgTree.from_frame(_FRAME.assign(start_date=_UTC_DAYS)),
        error=InvalidAttributeError,
        names=("'start_date'", "time-zone"),
    ),
    Case(
        id="door-tree-frame-column-not-a-string",
        call=lambda: OrgTree.from_frame(_FRAME.assign(x=[1, 2]).rename(columns={"x": 5})),
        error=InvalidAttributeError,
        names=("column 5", "string"),
    ),
    Case(
        id="door-plan-arrays-wrong-shape",
        call=lambda: _plan(
            values=np.zeros((1, 2, 3), np.int64), origins=np.zeros((1, 2, 3), np.uint8)
        ),
        error=PlanError,
        names=("(1, 2, 3)", "(1, 2, 17)"),
    ),
    Case(
        id="door-plan-origin-code-unknown",
        call=lambda: _plan(origins=np.full((1, 2, _N), 200, np.uint8)),
        error=PlanError,
        names=("origin",),
    ),
    Case(
        id="door-plan-hedge-for-unknown-metric",
        call=lambda: _plan(hedges={"dael": {"company": "0.1"}}),
        error=PlanError,
        names=("'dael'", "'deals'"),
    ),
    Case(
        id="door-plan-hedge-minus-one",
        call=lambda: _plan(hedges={"deals": {"company": "-1"}}),
        error=PlanError,
        names=("-1", "'company'"),
    ),
    Case(
        id="door-plan-leaf-arrays-unknown-metric",
        call=lambda: Plan.from_leaf_arrays(_TWO, _CAL, [_DEALS], {"dael": np.zeros((1, 12))}),
        error=PlanError,
        names=("'dael'",),
    ),
    Case(
        id="door-plan-leaf-arrays-missing-metric",
        call=lambda: Plan.from_leaf_arrays(
            _TWO, _CAL, [_DEALS, _REV], {"deals": np.zeros((1, 12))}
        ),
        error=PlanError,
        names=("'rev'",),
    ),
    Case(
        id="door-plan-leaf-arrays-bool",
        call=lambda: Plan.from_leaf_arrays(_TWO, _CAL, [_DEALS], {"deals": np.ones((1, 12), bool)}),
        error=PlanError,
        names=("'deals'", "bool"),
    ),
    Case(
        id="door-with-values-cell-twice",
        call=lambda: _plan().with_values([_cell(), _cell()]),
        error=PlanError,
        names=("row 1", "'east'", "FY2027-M01"),
    ),
    Case(
        id="door-with-values-row-not-a-mapping",
        call=lambda: _plan().with_values([5]),
        error=PlanError,
        names=("row 0", "int"),
    ),
    Case(
        id="door-with-values-unknown-key",
        call=lambda: _plan().with_values([_cell(vlaue=2)]),
        error=PlanError,
        names=("row 0", "'vlaue'"),
    ),
    Case(
        id="door-with-arrays-wrong-shape",
        call=lambda: _plan().with_arrays("deals", np.zeros((2, 3)), np.zeros((2, 3))),
        error=PlanError,
        names=("'deals'", "(2, 3)", "(2, 17)"),
    ),
    Case(
        id="door-with-arrays-values-in-missing-cells",
        call=lambda: _plan().with_arrays("deals", np.ones((2, _N)), np.zeros((2, _N))),
        error=PlanError,
        names=("'deals'", "missing"),
    ),
    Case(
        id="door-plan-hedge-without-metric-of-two",
        call=lambda: Plan.empty(_TWO, _CAL, [_DEALS, _REV]).hedge("company"),
        error=PlanError,
        names=("'deals'", "'rev'"),
    ),
    Case(
        id="door-history-year-twice",
        call=lambda: History(plans=[_history_2026(), _history_2026()]),
        error=PlanError,
        names=("2026", "repeats"),
    ),
    Case(
        id="door-cascade-time-profile-wrong-shape",
        call=lambda: _run(time=_ThreeMonths()),
        error=StrategyError,
        names=("_ThreeMonths()", "(1, 3)", "(1, 12)"),
    ),
]
