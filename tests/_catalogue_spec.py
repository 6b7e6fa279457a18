"""Catalogue rows for the cascade spec's doors: CascadeSpec.from_json, Lock, bounds, Split, MetricCascade."""

from __future__ import annotations

import json
import math
from typing import Any

from _catalogue import Case
from targetcascade import (
    AbsoluteBounds,
    CascadeSpec,
    Lock,
    Metric,
    MetricCascade,
    RelativeBounds,
    Split,
)
from targetcascade.allocation import Equal
from targetcascade.errors import QuantumError, SpecError, StrategyError

REVENUE = Metric(name="revenue", unit="CNY")


def _spec(**tamper: Any) -> str:
    """A one-metric spec's JSON with the first metric cascade's keys changed (None deletes one)."""
    item = MetricCascade(
        metric=REVENUE,
        target="1000 CNY",
        splits={"company": Split(strategy=Equal(), hedge="0.05")},
        locks=[Lock(node="east", period="FY2027", value="700 CNY")],
    )
    data = json.loads(CascadeSpec(metrics=[item]).to_json())
    first = data["metrics"][0]
    for key, value in tamper.items():
        if key == "hegde":
            first["splits"]["company"]["hegde"] = first["splits"]["company"].pop("hedge")
        elif key == "lcoks":
            first["lcoks"] = first.pop("locks")
        elif key == "bounds":
            first["splits"]["company"]["bounds"] = value
        else:
            first[key] = value
    return json.dumps(data)


CASES: list[Case] = [
    Case(
        id="21.3-typo-lcoks",
        call=lambda: CascadeSpec.from_json(_spec(lcoks=True)),
        error=SpecError,
        names=("metrics[0].lcoks", "'locks'"),
    ),
    Case(
        id="21.3-typo-hegde",
        call=lambda: CascadeSpec.from_json(_spec(hegde=True)),
        error=SpecError,
        names=("metrics[0].splits.company.hegde", "'hedge'"),
    ),
    Case(
        id="21.3-splits-list",
        call=lambda: CascadeSpec.from_json(_spec(splits=[{"strategy": {"strategy": "equal"}}])),
        error=SpecError,
        names=("metrics[0].splits", "a list"),
    ),
    Case(
        id="21.3-bounds-string",
        call=lambda: CascadeSpec.from_json(_spec(bounds="cap")),
        error=SpecError,
        names=("metrics[0].splits.company.bounds", "'cap'"),
    ),
    Case(
        id="21.3-spec-not-object",
        call=lambda: CascadeSpec.from_json("[1, 2]"),
        error=SpecError,
        names=("cascade spec", "a list"),
    ),
    Case(
        id="21.4-float-target-off-quantum",
        call=lambda: MetricCascade(metric=REVENUE, target=0.125),
        error=QuantumError,
        names=("target", "0.125", "0.01 CNY"),
    ),
    Case(
        id="21.8-mode-bogus",
        call=lambda: MetricCascade(metric=REVENUE, target=1, mode="bogus"),
        error=SpecError,
        names=("'bogus'", "'time_first'", "'org_first'", "'balanced'"),
    ),
    Case(
        id="21.8-split-bounds-string",
        call=lambda: Split(strategy=Equal(), bounds="cap"),  # type: ignore[arg-type]
        error=SpecError,
        names=("'cap'", "AbsoluteBounds"),
    ),
    Case(
        id="21.8-hedge-infinite",
        call=lambda: Split(strategy=Equal(), hedge=math.inf),
        error=SpecError,
        names=("hedge", "inf"),
    ),
    Case(
        id="21.8-hedge-nan",
        call=lambda: Split(strategy=Equal(), hedge=math.nan),
        error=SpecError,
        names=("hedge", "nan"),
    ),
    Case(
        id="21.8-relative-bound-infinite",
        call=lambda: RelativeBounds(cap=math.inf),
        error=SpecError,
        names=("relative bound", "inf"),
    ),
    Case(
        id="21.8-spec-json-deep",
        call=lambda: CascadeSpec.from_json("[" * 100_000 + "]" * 100_000),
        error=SpecError,
        names=("64", "limit"),
    ),
    Case(
        id="21.6-spec-number-digits",
        call=lambda: RelativeBounds(floor="1e999999999"),
        error=SpecError,
        names=("1e999999999", "100 digits"),
    ),
    Case(
        id="12.rough-bounds-per-quarter",
        call=lambda: AbsoluteBounds(cap="5 CNY", per="quarter"),
        error=SpecError,
        names=("per quarter", "per='month'", "per='year'"),
    ),
    Case(
        id="12.rough-bounds-per-mode",
        call=lambda: MetricCascade(
            metric=REVENUE,
            target=1,
            mode="org_first",
            splits={"company": Split(strategy=Equal(), bounds=AbsoluteBounds(cap=5, per="month"))},
        ),
        error=SpecError,
        names=("per month", "org_first", "mode='time_first'"),
    ),
    Case(
        id="door-spec-json-not-json",
        call=lambda: CascadeSpec.from_json("{nope"),
        error=SpecError,
        names=("not JSON", "line 1 column 2"),
    ),
    Case(
        id="door-spec-json-unknown-strategy",
        call=lambda: CascadeSpec.from_json(_spec(time={"strategy": "evn"})),
        error=StrategyError,
        names=("metrics[0].time", "'evn'", "'even'"),
    ),
    Case(
        id="door-spec-json-target-object",
        call=lambda: CascadeSpec.from_json(_spec(target={"amount": 1})),
        error=SpecError,
        names=("metrics[0]", "target", "amount"),
    ),
    Case(
        id="door-lock-value-none",
        call=lambda: Lock(node="east", period="FY2027", value=None),
        error=SpecError,
        names=("Lock value None", "amount"),
    ),
    Case(
        id="door-lock-node-number",
        call=lambda: Lock(node=7, period="FY2027", value=1),  # type: ignore[arg-type]
        error=SpecError,
        names=("lock node 7",),
    ),
    Case(
        id="door-bounds-absolute-floor-list",
        call=lambda: AbsoluteBounds(floor=[1], per="month"),
        error=SpecError,
        names=("floor [1]", "amount"),
    ),
    Case(
        id="door-bounds-relative-negative",
        call=lambda: RelativeBounds(floor="-0.1"),
        error=SpecError,
        names=("relative floor -1/10", "negative"),
    ),
    Case(
        id="door-split-strategy-text",
        call=lambda: Split(strategy="equal"),  # type: ignore[arg-type]
        error=SpecError,
        names=("'equal'", "org strategy"),
    ),
    Case(
        id="door-metric-cascade-splits-list",
        call=lambda: MetricCascade(metric=REVENUE, target=1, splits=[Split(strategy=Equal())]),  # type: ignore[arg-type]
        error=SpecError,
        names=("splits", "a list"),
    ),
]
