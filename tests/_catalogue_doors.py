"""Catalogue rows for the doors of trees, level orders, plan records and plan files (#21.5-#21.10).

The command line's refusals (exit status 2, one line on stderr) are in ``tests/test_cli.py``: they
return a status rather than raise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import networkx as nx
import pandas as pd

from _catalogue import Case
from targetcascade import FiscalCalendar, Metric, OrgTree, Origin, Plan
from targetcascade.errors import (
    CycleError,
    DuplicateNodeError,
    InvalidTreeError,
    LevelOrderError,
    MultipleRootsError,
    PlanError,
    SerializationError,
    UnknownParentError,
)
from targetcascade.org import Levels
from targetcascade.synthetic import demo_company

DEALS = Metric(name="deals", unit="deal")
REVENUE = Metric(name="revenue", unit="CNY")
CALENDAR = FiscalCalendar(fiscal_year=2027)


def _tree() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "None", "parent": "acme", "level": "region"},
        ]
    )


def _plan_file(edit: Callable[[dict[str, Any]], object]) -> Callable[[], Plan]:
    """A call reading a small revenue plan's JSON after ``edit`` tampered with it."""

    def call() -> Plan:
        rows = [
            {"node": n, "period": f"FY2027-M{m:02d}", "metric": "revenue", "value": m}
            for n in ("east", "None")
            for m in range(1, 13)
        ]
        plan = Plan.from_leaf_values(_tree(), CALENDAR, [REVENUE], rows)
        data = json.loads(json.dumps(plan.to_dict()))
        edit(data)
        return Plan.from_dict(data)

    return call


def _cell(part: str, value: object) -> Callable[[dict[str, Any]], object]:
    # File row 1 is 'east' (input order acme, east, None); period 7 is FY2027-M03.
    return lambda data: data["cells"]["revenue"][part][1].__setitem__(7, value)


def _set(key: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda data: data.__setitem__(key, value)


CELL = "cells.revenue.values[1][7] (node 'east', FY2027-M03)"
ORIGIN = "cells.revenue.origins[1][7] (node 'east', FY2027-M03)"


def _graph_two_parents() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_node("acme", level="company")
    graph.add_node("x", level="company")
    graph.add_node("east", level="region")
    graph.add_edges_from([("acme", "east"), ("x", "east")])
    return graph


def _graph_cycle() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_node("acme", level="company")
    graph.add_node("a", level="region")
    graph.add_node("b", level="team")
    graph.add_edges_from([("a", "b"), ("b", "a")])
    return graph


CASES: list[Case] = [
    # ---------------------------------------------------------------- #21.7 tampered plan files
    Case(
        id="21.7-plan-file-value-1.9",
        call=_plan_file(_cell("values", 1.9)),
        error=SerializationError,
        names=(CELL, "1.9", "not an integer of quanta"),
    ),
    Case(
        id="21.7-plan-file-value-string-12",
        call=_plan_file(_cell("values", "12")),
        error=SerializationError,
        names=(CELL, "'12'"),
    ),
    Case(
        id="21.7-plan-file-value-true",
        call=_plan_file(_cell("values", True)),
        error=SerializationError,
        names=(CELL, "True"),
    ),
    Case(
        id="21.7-plan-file-value-under-missing",
        call=_plan_file(_cell("origins", 0)),
        error=SerializationError,
        names=(CELL, "origin is 'missing'"),
    ),
    Case(
        id="21.7-plan-file-null-under-manual",
        call=_plan_file(_cell("values", None)),
        error=SerializationError,
        names=(CELL, "null", "origin is 'manual'"),
    ),
    Case(
        id="21.7-plan-file-origin-300",
        call=_plan_file(_cell("origins", 300)),
        error=SerializationError,
        names=(ORIGIN, "300"),
    ),
    Case(
        id="21.7-plan-file-origin-minus-1",
        call=_plan_file(_cell("origins", -1)),
        error=SerializationError,
        names=(ORIGIN, "-1"),
    ),
    Case(
        id="21.7-plan-file-hedge-abc",
        call=_plan_file(_set("hedges", {"revenue": {"region": "abc"}})),
        error=SerializationError,
        names=("hedges.revenue.region", "'abc'"),
    ),
    Case(
        id="door-plan-file-hedge-huge-exponent",
        call=_plan_file(_set("hedges", {"revenue": {"region": "1e99999999"}})),
        error=SerializationError,
        names=("hedges.revenue.region", "exponent of at most 3 digits"),
    ),
    Case(
        id="21.7-plan-file-hedges-list",
        call=_plan_file(_set("hedges", ["region", "0.05"])),
        error=SerializationError,
        names=("hedges must map", "list"),
    ),
    Case(
        id="21.7-plan-file-unknown-kind",
        call=_plan_file(_set("kind", "forecast")),
        error=SerializationError,
        names=("kind 'forecast'", "'target'"),
    ),
    Case(
        id="21.7-plan-file-json-list",
        call=lambda: Plan.from_dict(json.loads("[1, 2]")),
        error=SerializationError,
        names=("a plan must be a JSON object", "list"),
    ),
    # ---------------------------------------------------------------- #21.5 beyond the size limit
    Case(
        id="21.5-plan-file-2-70",
        call=_plan_file(_cell("values", 2**70)),
        error=SerializationError,
        names=(CELL, "MAX_QUANTA = 2**53", "90,071,992,547,409.92 CNY"),
    ),
    # ---------------------------------------------------------------- #21.6 level ranks
    Case(
        id="21.6-levels-100000-ranks",
        call=lambda: Levels(ranks=[f"l{i}" for i in range(100_000)]),
        error=LevelOrderError,
        names=("at most 1,000 ranks", "MAX_LEVEL_RANKS", "100,000"),
    ),
    Case(
        id="21.6-plan-file-20000-ranks",
        call=_plan_file(
            lambda d: d["tree"]["levels"].__setitem__("ranks", [[f"l{i}"] for i in range(20_000)])
        ),
        error=LevelOrderError,
        names=("tree:", "MAX_LEVEL_RANKS", "20,000"),
    ),
    # ---------------------------------------------------------------- #21.8 / #21.10 lax reading
    Case(
        id="21.8-origin-parse-none",
        call=lambda: Origin.parse(None),  # type: ignore[arg-type]
        error=PlanError,
        names=("unknown cell origin None", "locked"),
    ),
    Case(
        id="21.10-origin-parse-1.9",
        call=lambda: Origin.parse(1.9),  # type: ignore[arg-type]
        error=PlanError,
        names=("unknown cell origin 1.9",),
    ),
    Case(
        id="21.10-origin-parse-true",
        call=lambda: Origin.parse(True),
        error=PlanError,
        names=("unknown cell origin True",),
    ),
    Case(
        id="21.10-record-node-none",
        call=lambda: Plan.from_records(
            _tree(),
            CALENDAR,
            [DEALS],
            [{"node": None, "period": "FY2027", "metric": "deals", "value": 1}],
        ),
        error=PlanError,
        names=("row 0", "node None"),
    ),
    Case(
        id="21.8-demo-seed-minus-1",
        call=lambda: demo_company(seed=-1),
        error=PlanError,
        names=("seed -1", ">= 0"),
    ),
    # ---------------------------------------------------------------- one bad input per door
    Case(
        id="door-org-from-records-duplicate-id",
        call=lambda: OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "acme", "parent": "acme", "level": "region"},
            ]
        ),
        error=DuplicateNodeError,
        names=("'acme'", "row 0 and row 1"),
    ),
    Case(
        id="door-org-from-records-unknown-parent",
        call=lambda: OrgTree.from_records(
            [{"id": "acme", "level": "company"}, {"id": "e", "parent": "aceme", "level": "region"}]
        ),
        error=UnknownParentError,
        names=("'aceme'", "row 1"),
    ),
    Case(
        id="door-org-from-records-level-above-parent",
        call=lambda: OrgTree.from_records(
            [{"id": "acme", "level": "company"}, {"id": "t", "parent": "acme", "level": "company"}]
        ),
        error=LevelOrderError,
        names=("'t' (row 1)", "'company'"),
    ),
    Case(
        id="door-org-from-records-not-rows",
        call=lambda: OrgTree.from_records(None),  # type: ignore[arg-type]
        error=InvalidTreeError,
        names=("records must be an iterable of mappings", "NoneType"),
    ),
    Case(
        id="door-org-from-frame-two-roots",
        call=lambda: OrgTree.from_frame(
            pd.DataFrame(
                {"id": ["a", "b"], "level": ["company", "company"], "parent": [None, None]}
            )
        ),
        error=MultipleRootsError,
        names=("'b' (row 1)", "'a' (row 0)"),
    ),
    Case(
        id="door-org-from-dict-unknown-level",
        call=lambda: OrgTree.from_dict(
            {
                "schema_version": 1,
                "levels": {"ranks": [["company"]]},
                "nodes": [{"id": "a", "level": "boss"}],
            }
        ),
        error=LevelOrderError,
        names=("'boss'", "row 0"),
    ),
    Case(
        id="door-org-from-networkx-two-parents",
        call=lambda: OrgTree.from_networkx(_graph_two_parents()),
        error=InvalidTreeError,
        names=("'east'", "2 parents", "'acme'", "'x'"),
    ),
    Case(
        id="door-org-from-networkx-cycle",
        call=lambda: OrgTree.from_networkx(_graph_cycle()),
        error=CycleError,
        names=("cycle",),
    ),
    Case(
        id="door-levels-empty-rank",
        call=lambda: Levels(ranks=[("company",), ()]),
        error=LevelOrderError,
        names=("rank 1", "empty"),
    ),
    Case(
        id="door-levels-unknown-skippable",
        call=lambda: Levels(ranks=["company", "team"], skippable="taem"),
        error=LevelOrderError,
        names=("'taem'", "company, team"),
    ),
    Case(
        id="door-levels-from-dict-unhashable-skippable",
        call=lambda: Levels.from_dict({"ranks": [["company"], ["team"]], "skippable": [["team"]]}),
        error=LevelOrderError,
        names=("skippable level ['team']",),
    ),
    Case(
        id="door-levels-from-dict-not-a-mapping",
        call=lambda: Levels.from_dict([["company"]]),  # type: ignore[arg-type]
        error=SerializationError,
        names=("'ranks' list",),
    ),
    Case(
        id="door-plan-from-records-unknown-node",
        call=lambda: Plan.from_records(
            _tree(),
            CALENDAR,
            [DEALS],
            [{"node": "eats", "period": "FY2027", "metric": "deals", "value": 1}],
        ),
        error=PlanError,
        names=("row 0", "'eats'"),
    ),
    Case(
        id="door-plan-from-records-period-not-a-label",
        call=lambda: Plan.from_records(
            _tree(),
            CALENDAR,
            [DEALS],
            [{"node": "east", "period": 2027, "metric": "deals", "value": 1}],
        ),
        error=PlanError,
        names=("row 0", "period 2027"),
    ),
    Case(
        id="21.5-plan-from-records-2-70",
        call=lambda: Plan.from_records(
            _tree(),
            CALENDAR,
            [DEALS],
            [{"node": "east", "period": "FY2027", "metric": "deals", "value": 2**70}],
        ),
        error=PlanError,
        names=("row 0", "'east'", "deals", "9,007,199,254,740,992 deal"),
    ),
    Case(
        id="door-plan-from-records-not-rows",
        call=lambda: Plan.from_records(_tree(), CALENDAR, [DEALS], None),  # type: ignore[arg-type]
        error=PlanError,
        names=("records must be an iterable of mappings", "NoneType"),
    ),
    Case(
        id="door-plan-from-dict-missing-grid",
        call=_plan_file(lambda d: d["cells"].pop("revenue")),
        error=SerializationError,
        names=("cells has no grid for metric 'revenue'",),
    ),
    Case(
        id="door-plan-from-dict-unknown-key",
        call=_plan_file(_set("hegdes", {})),
        error=SerializationError,
        names=("'hegdes'", "'hedges'"),
    ),
    Case(
        id="door-plan-from-dict-bad-tree",
        call=_plan_file(lambda d: d["tree"]["nodes"][1].__setitem__("parent", "nowhere")),
        error=UnknownParentError,
        names=("tree:", "'nowhere'"),
    ),
]
