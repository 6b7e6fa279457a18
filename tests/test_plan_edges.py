"""Edge cases of targetcascade.plan: refused shapes, hedges, records and plan files."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from targetcascade import FiscalCalendar, Metric, OrgTree, Origin, Plan
from targetcascade.errors import PlanError, SerializationError, SizeLimitError

DEALS = Metric(name="deals", unit="deal")
REVENUE = Metric(name="revenue", unit="CNY")
COST = Metric(name="cost", unit="CNY")
MARGIN = Metric(
    name="margin", unit="percent", rollup="ratio", numerator="cost", denominator="revenue"
)
CAL = FiscalCalendar(fiscal_year=2027)
PERIODS = len(CAL.periods)  # 1 year + 4 quarters + 12 months


def tree() -> OrgTree:
    """acme over east and west."""
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )


def empty(*metrics: Metric, **kwargs: Any) -> Plan:
    return Plan.empty(tree(), CAL, list(metrics or (DEALS,)), **kwargs)


def cell(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"node": "east", "period": "FY2027", "metric": "deals", "value": 3}
    record.update(overrides)
    return record


class TestPlan:
    def test_arrays_of_the_wrong_shape(self) -> None:
        """Arrays for one node fewer than the tree has are refused, naming both shapes."""
        plan = empty()
        with pytest.raises(
            PlanError, match=re.escape(f"(1, 2, {PERIODS}), expected (1, 3, {PERIODS})")
        ):
            Plan(
                tree=plan.tree,
                calendar=CAL,
                metrics=(DEALS,),
                values=np.zeros((1, 2, PERIODS), dtype=np.int64),
                origins=np.zeros((1, 2, PERIODS), dtype=np.uint8),
            )

    def test_origin_code_beyond_the_last(self) -> None:
        """An origin code of 200 is refused, naming the valid range."""
        plan = empty()
        origins = np.zeros((1, 3, PERIODS), dtype=np.uint8)
        origins[0, 1, 0] = 200
        with pytest.raises(PlanError, match=f"origin codes must be 0..{int(max(Origin))}"):
            Plan(
                tree=plan.tree, calendar=CAL, metrics=(DEALS,), values=plan.values, origins=origins
            )

    def test_not_equal_to_another_type(self) -> None:
        """A plan is not equal to its own dict."""
        plan = empty()
        assert plan != plan.to_dict()
        assert plan == Plan.from_dict(plan.to_dict())


class TestHedges:
    def test_hedge_for_an_unknown_metric(self) -> None:
        """A hedge under metric 'revenue' of a deals-only plan is refused, naming it."""
        with pytest.raises(PlanError, match="over-assignment given for unknown metric 'revenue'"):
            empty(hedges={"revenue": {"region": "0.1"}})

    def test_per_metric_hedges_must_be_mappings(self) -> None:
        """{'deals': {...}, 'revenue': 0.1} mixes forms: the plain number under 'revenue' is refused."""
        with pytest.raises(PlanError, match="over-assignment for 'revenue' must map levels"):
            empty(DEALS, REVENUE, hedges={"deals": {"company": "0.1"}, "revenue": "0.1"})

    def test_hedge_of_minus_one(self) -> None:
        """A hedge of -1 for level 'company' is refused: the children would carry nothing."""
        with pytest.raises(PlanError, match="over-assignment -1 for level 'company'"):
            empty(hedges={"company": -1})

    def test_hedge_needs_a_metric_when_there_are_several(self) -> None:
        """plan.hedge('company') on a two-metric plan asks for the metric; with it, it answers."""
        plan = empty(DEALS, REVENUE, hedges={"revenue": {"company": "0.05"}})
        with pytest.raises(PlanError, match="over-assignment is per metric; name the metric"):
            plan.hedge("company")
        assert plan.hedge("company", "revenue") == Fraction(1, 20)
        assert plan.hedge("company", "deals") == 0


class TestFromLeafArrays:
    def test_values_for_an_unknown_metric(self) -> None:
        """Leaf values under 'revenue' for a deals-only plan are refused, naming it."""
        grid = np.zeros((2, 12), dtype=np.int64)
        with pytest.raises(PlanError, match=re.escape("unknown metrics ['revenue']")):
            Plan.from_leaf_arrays(tree(), CAL, [DEALS], {"deals": grid, "revenue": grid})

    def test_values_for_a_ratio_metric(self) -> None:
        """Leaf values for the ratio metric 'margin' are refused: it comes from its parts."""
        grid = np.zeros((2, 12), dtype=np.int64)
        arrays = {"cost": grid, "revenue": grid, "margin": grid}
        with pytest.raises(PlanError, match="metric 'margin' has rollup 'ratio'"):
            Plan.from_leaf_arrays(tree(), CAL, [COST, REVENUE, MARGIN], arrays)

    def test_no_values_for_a_sum_metric(self) -> None:
        """A sum metric without leaf values is refused, naming it."""
        grid = np.zeros((2, 12), dtype=np.int64)
        with pytest.raises(PlanError, match="no leaf values for sum metric 'revenue'"):
            Plan.from_leaf_arrays(tree(), CAL, [DEALS, REVENUE], {"deals": grid})

    def test_values_of_strings(self) -> None:
        """An array of strings is refused, naming the metric and the dtype."""
        grid = np.full((2, 12), "1")
        with pytest.raises(PlanError, match="values for 'deals' must be integers of quanta"):
            Plan.from_leaf_arrays(tree(), CAL, [DEALS], {"deals": grid})

    def test_ratio_metric_comes_from_its_parts(self) -> None:
        """cost 30 and revenue 120 per leaf-month: the margin is 25 %, at the top too."""
        cost = np.full((2, 12), 30, dtype=np.int64)
        revenue = np.full((2, 12), 120, dtype=np.int64)
        plan = Plan.from_leaf_arrays(
            tree(), CAL, [COST, REVENUE, MARGIN], {"cost": cost, "revenue": revenue}
        )
        assert plan.quanta("acme", "FY2027", "margin") == 25
        assert plan.quanta("east", "FY2027-M03", "margin") == 25


class TestWithValues:
    def test_a_cell_given_twice(self) -> None:
        """The same cell in two rows is refused, naming the second row and the cell."""
        with pytest.raises(
            PlanError, match="row 1: a second value for node 'east', FY2027, 'deals'"
        ):
            empty().with_values([cell(), cell(value=4)])

    def test_origin_missing_with_a_value(self) -> None:
        """A value under origin 'missing' is refused, naming the row."""
        with pytest.raises(PlanError, match="row 0: origin 'missing' with a value 3"):
            empty().with_values([cell(origin="missing")])

    def test_a_row_that_is_no_mapping(self) -> None:
        """A row given as a list is refused, naming the row and the type."""
        with pytest.raises(PlanError, match="row 1: expected a mapping, got list"):
            empty().with_values([cell(), ["east", "FY2027", "deals", 3]])  # type: ignore[list-item]

    def test_a_row_with_an_unknown_key(self) -> None:
        """A row with key 'vaule' is refused, naming it."""
        record = cell()
        record["vaule"] = record.pop("value")
        with pytest.raises(PlanError, match=re.escape("row 0: unknown keys ['vaule']")):
            empty().with_values([record])

    def test_a_value_beyond_the_limit(self) -> None:
        """2**53 + 1 deals is refused, naming the row, node, period and the limit."""
        match = re.escape("row 0 ('east', FY2027): deals: 9007199254740993 is outside the size")
        with pytest.raises(SizeLimitError, match=match):
            empty().with_values([cell(value=2**53 + 1)])


class TestWithArrays:
    def test_wrong_shape(self) -> None:
        """A grid of the wrong shape is refused, naming the metric."""
        with pytest.raises(PlanError, match=re.escape("arrays for 'deals' have shapes (2, 17)")):
            empty().with_arrays("deals", np.zeros((2, 17)), np.zeros((2, 17)))

    def test_missing_cells_that_carry_values(self) -> None:
        """A value in a cell marked missing is refused, naming the metric."""
        values = np.zeros((3, PERIODS), dtype=np.int64)
        values[1, 0] = 5
        origins = np.full((3, PERIODS), Origin.MISSING)
        with pytest.raises(PlanError, match="'deals': cells marked missing carry values"):
            empty().with_arrays("deals", values, origins)


class TestFromDict:
    def test_without_cells(self) -> None:
        """A plan file with no 'cells' key is refused, naming the key."""
        data = empty().to_dict()
        del data["cells"]
        with pytest.raises(SerializationError, match="the plan has no 'cells' key"):
            Plan.from_dict(data)

    def test_metrics_not_a_list(self) -> None:
        """'metrics' given as an object is refused, naming its type."""
        data = empty().to_dict()
        data["metrics"] = {"deals": data["metrics"][0]}
        with pytest.raises(SerializationError, match=r"metrics must be a list .* got dict"):
            Plan.from_dict(data)

    def test_cells_not_a_mapping(self) -> None:
        """'cells' given as a list is refused, naming its type."""
        data = empty().to_dict()
        data["cells"] = [data["cells"]["deals"]]
        with pytest.raises(
            SerializationError, match="cells must map metric names to grids, got list"
        ):
            Plan.from_dict(data)

    def test_grid_not_an_object(self) -> None:
        """A metric's grid given as a list is refused, naming 'cells.deals'."""
        data = empty().to_dict()
        data["cells"]["deals"] = [0, 0]
        with pytest.raises(SerializationError, match=re.escape("cells.deals must be an object")):
            Plan.from_dict(data)

    def test_hedges_of_a_metric_not_an_object(self) -> None:
        """'hedges.deals' given as a number is refused, naming the path."""
        data = empty().to_dict()
        data["hedges"] = {"deals": 0.1}
        with pytest.raises(
            SerializationError, match=re.escape("hedges.deals must map level names")
        ):
            Plan.from_dict(data)
