"""Tests for targetcascade.plan: the exact grid, roll-up, records and lossless serialisation."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given

from targetcascade import (
    FiscalCalendar,
    Metric,
    OrgTree,
    Origin,
    Plan,
    PlanKind,
    Rounding,
    check,
    ureg,
)
from targetcascade.errors import (
    MetricError,
    PlanError,
    QuantumError,
    SerializationError,
    UnitMismatchError,
)
from targetcascade.testing import plans

MONTHS = [f"FY2027-M{m:02d}" for m in range(1, 13)]


def tree() -> OrgTree:
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
            {"id": "e1", "parent": "east", "level": "team"},
            {"id": "e2", "parent": "east", "level": "team"},
        ]
    )


REVENUE = Metric(name="revenue", unit="CNY")
DEALS = Metric(name="deals", unit="deal")


def monthly(node: str, metric: str, values: list[object]) -> list[dict[str, object]]:
    return [
        {"node": node, "period": month, "metric": metric, "value": v}
        for month, v in zip(MONTHS, values, strict=True)
    ]


def revenue_plan() -> Plan:
    rows = (
        monthly("e1", "revenue", [f"{m}.01 CNY" for m in range(1, 13)])
        + monthly("e2", "revenue", ["100 CNY"] * 12)
        + monthly("west", "revenue", ["0.5 wan CNY"] * 12)
    )
    return Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [REVENUE], rows)


class TestPlanFromLeafValues:
    def test_roll_up_by_hand(self) -> None:
        """Months roll up to quarters and year, teams to regions to the company, to the cent."""
        plan = revenue_plan()
        # e1: months 1.01 .. 12.01 -> Q1 = 1.01 + 2.01 + 3.01 = 6.03; year = 78 + 0.12 = 78.12
        assert plan.value("e1", "FY2027-Q1", "revenue") == ureg.Quantity(Decimal("6.03"), "CNY")
        assert plan.quanta("e1", "FY2027", "revenue") == 7812
        # east = e1 + e2 = 78.12 + 1200 = 1278.12; acme = east + 12 x 5000 = 61278.12
        assert plan.quanta("east", "FY2027", "revenue") == 127812
        assert plan.value("acme", "FY2027", "revenue").magnitude == Decimal("61278.12")

    def test_origins(self) -> None:
        """Given cells keep the requested origin; derived cells are rolled up."""
        plan = revenue_plan()
        assert plan.origin_of("e1", "FY2027-M03", "revenue") is Origin.MANUAL
        assert plan.origin_of("e1", "FY2027-Q1", "revenue") is Origin.ROLLED_UP
        assert plan.origin_of("acme", "FY2027-M03", "revenue") is Origin.ROLLED_UP
        actuals = Plan.from_leaf_values(
            tree(),
            FiscalCalendar(fiscal_year=2027),
            [DEALS],
            monthly("e1", "deals", [1] * 12)
            + monthly("e2", "deals", [1] * 12)
            + monthly("west", "deals", [1] * 12),
            origin="actual",
            kind="actual",
        )
        assert actuals.origin_of("west", "FY2027-M12", "deals") is Origin.ACTUAL
        assert actuals.kind is PlanKind.ACTUAL

    def test_missing_leaf_month_is_an_error(self) -> None:
        """A leaf without a month's value fails loudly, naming the leaf and month."""
        rows = monthly("e1", "deals", [1] * 12) + monthly("e2", "deals", [1] * 12)
        rows += monthly("west", "deals", [1] * 12)[:-1]
        with pytest.raises(PlanError, match=r"no 'deals' value for leaf 'west' in FY2027-M12"):
            Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], rows)

    def test_inner_node_value_is_refused(self) -> None:
        """Leaf values on an inner node are refused with the row number."""
        rows = [{"node": "east", "period": "FY2027-M01", "metric": "deals", "value": 1}]
        with pytest.raises(PlanError, match=r"row 0: node 'east' is not a leaf"):
            Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], rows)

    def test_quarter_for_leaf_is_refused(self) -> None:
        """Leaf values are monthly; a quarter label is refused."""
        rows = [{"node": "west", "period": "FY2027-Q1", "metric": "deals", "value": 1}]
        with pytest.raises(PlanError, match=r"row 0: period 'FY2027-Q1' is not a month"):
            Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], rows)

    def test_duplicate_cell_is_refused(self) -> None:
        """The same leaf, month and metric twice is an error naming the second row."""
        rows = [*monthly("west", "deals", [1] * 12), monthly("west", "deals", [1] * 12)[3]]
        with pytest.raises(PlanError, match=r"row 12: a second value for node 'west'"):
            Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], rows)

    def test_fraction_of_quantum_is_refused(self) -> None:
        """A value below the quantum raises QuantumError naming the row and metric."""
        rows = [{"node": "west", "period": "FY2027-M01", "metric": "revenue", "value": "0.001 CNY"}]
        with pytest.raises(QuantumError, match=r"row 0: .*revenue's quantum 0.01 CNY"):
            Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [REVENUE], rows)

    def test_wrong_currency_is_refused(self) -> None:
        """A USD value for a CNY metric raises UnitMismatchError."""
        rows = [{"node": "west", "period": "FY2027-M01", "metric": "revenue", "value": "5 USD"}]
        with pytest.raises(UnitMismatchError, match="USD"):
            Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [REVENUE], rows)

    def test_unknown_node_period_metric(self) -> None:
        """Unknown node, period and metric are each named with their row."""
        cal = FiscalCalendar(fiscal_year=2027)
        for key, bad in (("node", "nowhere"), ("period", "FY2031-M01"), ("metric", "profit")):
            row = {"node": "west", "period": "FY2027-M01", "metric": "deals", "value": 1, key: bad}
            with pytest.raises(PlanError, match=rf"row 0: .*{bad}"):
                Plan.from_leaf_values(tree(), cal, [DEALS], [row])

    def test_ratio_values_at_leaves_are_refused(self) -> None:
        """A ratio metric is derived; giving its leaf values is an error."""
        profit = Metric(name="profit", unit="CNY")
        margin = Metric(
            name="margin", unit="percent", rollup="ratio", numerator="profit", denominator="revenue"
        )
        rows = [{"node": "west", "period": "FY2027-M01", "metric": "margin", "value": 5}]
        with pytest.raises(PlanError, match="margin"):
            Plan.from_leaf_values(
                tree(), FiscalCalendar(fiscal_year=2027), [REVENUE, profit, margin], rows
            )


class TestPlanFromLeafArrays:
    def test_shape_is_checked(self) -> None:
        """A leaf array of the wrong shape names the expected (leaves, months)."""
        with pytest.raises(PlanError, match=r"expected \(3, 12\)"):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [DEALS], {"deals": np.ones((2, 12), int)}
            )

    def test_fractional_floats_refused(self) -> None:
        """Float arrays must hold whole quanta."""
        with pytest.raises(PlanError, match="not whole numbers of quanta"):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [DEALS], {"deals": np.full((3, 12), 0.5)}
            )

    def test_week_calendar_rolls_up_the_same(self) -> None:
        """A 4-4-5 calendar has the same 17-period grid; the roll-up is unchanged."""
        cal = FiscalCalendar(fiscal_year=2027, pattern="4-4-5")
        plan = Plan.from_leaf_arrays(tree(), cal, [DEALS], {"deals": np.ones((3, 12), np.int64)})
        assert plan.quanta("acme", "FY2027", "deals") == 36
        assert check(plan).ok


class TestPlanEditing:
    def test_with_values_returns_new_plan(self) -> None:
        """Editing returns a new plan and leaves the original unchanged."""
        plan = revenue_plan()
        edited = plan.with_values(
            [{"node": "e2", "period": "FY2027-M01", "metric": "revenue", "value": "1 CNY"}],
            origin="locked",
        )
        assert plan.quanta("e2", "FY2027-M01", "revenue") == 10000
        assert edited.quanta("e2", "FY2027-M01", "revenue") == 100
        assert edited.origin_of("e2", "FY2027-M01", "revenue") is Origin.LOCKED

    def test_none_clears_a_cell(self) -> None:
        """A value of None makes the cell missing, not zero."""
        edited = revenue_plan().with_values(
            [{"node": "e2", "period": "FY2027-M01", "metric": "revenue", "value": None}]
        )
        assert edited.value("e2", "FY2027-M01", "revenue") is None
        assert edited.origin_of("e2", "FY2027-M01", "revenue") is Origin.MISSING

    def test_arrays_are_read_only(self) -> None:
        """The grid cannot be mutated in place."""
        plan = revenue_plan()
        with pytest.raises(ValueError, match="read-only"):
            plan.values[0, 0, 0] = 1

    def test_unknown_metric(self) -> None:
        """Asking for a metric the plan lacks raises MetricError listing the metrics."""
        with pytest.raises(MetricError, match=r"no metric 'profit'.*\['revenue'\]"):
            revenue_plan().value("acme", "FY2027", "profit")

    def test_bad_hedge_level(self) -> None:
        """Over-assignment for a level the tree does not declare is refused."""
        with pytest.raises(PlanError, match="unknown level 'division'"):
            Plan.empty(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], hedges={"division": 0.1})

    def test_hedge_is_exact(self) -> None:
        """A float hedge is read as the decimal it prints as."""
        plan = Plan.empty(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], hedges={"team": 0.05})
        assert plan.hedge("team") == Fraction(1, 20)
        assert plan.hedge("region") == 0

    def test_ratio_needs_parts(self) -> None:
        """A ratio metric without its numerator in the plan is refused."""
        margin = Metric(
            name="margin", unit="percent", rollup="ratio", numerator="profit", denominator="revenue"
        )
        with pytest.raises(PlanError, match="needs sum metric 'profit'"):
            Plan.empty(tree(), FiscalCalendar(fiscal_year=2027), [REVENUE, margin])


class TestPlanRecords:
    def test_to_records_shape(self) -> None:
        """Records carry node, period, metric, Decimal value, unit and origin."""
        records = revenue_plan().to_records()
        assert len(records) == 5 * 17
        first = records[0]
        assert first == {
            "node": "acme",
            "period": "FY2027",
            "metric": "revenue",
            "value": Decimal("61278.12"),
            "unit": "CNY",
            "origin": "rolled_up",
        }

    def test_records_round_trip(self) -> None:
        """from_records(to_records()) rebuilds the same grid and origins."""
        plan = revenue_plan()
        again = Plan.from_records(plan.tree, plan.calendar, plan.metrics, plan.to_records())
        assert again == plan

    def test_unit_mismatch_in_records(self) -> None:
        """A record whose unit differs from the metric's is refused."""
        rows = [
            {"node": "acme", "period": "FY2027", "metric": "revenue", "value": 1, "unit": "USD"}
        ]
        with pytest.raises(PlanError, match="unit 'USD' differs"):
            Plan.from_records(tree(), FiscalCalendar(fiscal_year=2027), [REVENUE], rows)


class TestPlanSerialisation:
    def test_json_round_trip(self) -> None:
        """to_dict survives JSON and from_dict restores an equal plan."""
        plan = revenue_plan()
        again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
        assert again == plan
        assert again.value("acme", "FY2027", "revenue") == plan.value("acme", "FY2027", "revenue")

    def test_unknown_schema(self) -> None:
        """An unknown schema version is refused with a hint."""
        data = revenue_plan().to_dict()
        data["schema_version"] = 2
        with pytest.raises(SerializationError, match="schema version 2"):
            Plan.from_dict(data)

    def test_malformed_cells(self) -> None:
        """A malformed cell block raises SerializationError."""
        data = revenue_plan().to_dict()
        data["cells"]["revenue"]["values"] = [[1, 2]]
        with pytest.raises(SerializationError, match="malformed plan dict"):
            Plan.from_dict(data)

    def test_pickle(self) -> None:
        """Plans pickle and compare equal afterwards."""
        plan = revenue_plan()
        assert pickle.loads(pickle.dumps(plan)) == plan

    def test_repr_and_table(self) -> None:
        """repr is one line; the table aligns the tree with the chosen periods."""
        plan = revenue_plan()
        assert (
            repr(plan)
            == "<Plan target FY2027: 5 nodes x 17 periods x 1 metrics, 85 of 85 cells set>"
        )
        table = plan.table("revenue", periods=["FY2027"], max_depth=1)
        assert table.splitlines() == [
            "revenue (CNY)     FY2027",
            "------------------------",
            "acme           61,278.12",
            "  east          1,278.12",
            "  west         60,000.00",
        ]


@given(plans())
def test_dict_round_trip_is_lossless(plan: Plan) -> None:
    """Any plan survives to_dict -> JSON -> from_dict unchanged (values, origins, metrics, tree)."""
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    assert again.to_records() == plan.to_records()


@given(plans())
def test_records_round_trip_is_lossless(plan: Plan) -> None:
    """Any plan survives to_records -> from_records unchanged."""
    again = Plan.from_records(plan.tree, plan.calendar, plan.metrics, plan.to_records())
    assert again == plan


class TestSizeLimit:
    """Amounts beyond 2**53 quanta are refused with the library's error, never OverflowError (#21.5)."""

    def test_record_of_1e20_cny_names_row_and_limit(self) -> None:
        """A leaf value of 1e20 CNY is a QuantumError naming the row, the metric and the limit."""
        rows = monthly("solo", "revenue", ["1e20 CNY", *["1 CNY"] * 11])
        solo = OrgTree.from_records([{"id": "solo", "level": "company"}])
        with pytest.raises(QuantumError) as info:
            Plan.from_leaf_values(solo, FiscalCalendar(fiscal_year=2027), [REVENUE], rows)
        assert "row 0" in str(info.value)
        assert "revenue" in str(info.value)
        assert "90,071,992,547,409.92 CNY" in str(info.value)
        assert (info.value.row, info.value.expected) == (0, 2**53)

    def test_record_of_1e20_cny_in_from_records(self) -> None:
        """from_records refuses it the same way."""
        solo = OrgTree.from_records([{"id": "solo", "level": "company"}])
        rows = [{"node": "solo", "period": "FY2027", "metric": "revenue", "value": "1e20 CNY"}]
        with pytest.raises(QuantumError, match=r"90,071,992,547,409\.92 CNY"):
            Plan.from_records(solo, FiscalCalendar(fiscal_year=2027), [REVENUE], rows)

    @pytest.mark.parametrize(
        ("profit", "cell"),
        [
            # 1e11 CNY a month: year 1.2e12 / 0.12 = 1e13, i.e. 1e15 % = 1e17 quanta (int64 path)
            ("1e11 CNY", "FY2027"),
            # 5e12 CNY a month: year 6e15 cents (within the limit), x 1e4 leaves int64 (exact path)
            ("5e12 CNY", "FY2027"),
        ],
    )
    def test_ratio_beyond_the_limit_names_the_cell(self, profit: str, cell: str) -> None:
        """A margin of 1e15 % in 0.01 % quanta (1e17 > 2**53) is refused naming node and period."""
        solo = OrgTree.from_records([{"id": "solo", "level": "company"}])
        profit_m = Metric(name="profit", unit="CNY")
        margin = Metric(
            name="margin",
            unit="percent",
            rollup="ratio",
            numerator="profit",
            denominator="revenue",
            quantum="0.01",
        )
        rows = monthly("solo", "profit", [profit] * 12) + monthly("solo", "revenue", ["0.01"] * 12)
        with pytest.raises(QuantumError) as info:
            Plan.from_leaf_values(
                solo, FiscalCalendar(fiscal_year=2027), [profit_m, REVENUE, margin], rows
            )
        message = str(info.value)
        assert "margin of 'solo' in FY2027" in message
        assert "90,071,992,547,409.92 percent" in message
        assert "/ 0.12 CNY" in message
        assert info.value.node == "solo"
        assert info.value.period == cell


class TestRoundingOption:
    """The plan builders take Metric.to_quanta's rounding= (default: refuse), for 4-decimal data (#12)."""

    SOLO = OrgTree.from_records([{"id": "solo", "level": "company"}])

    def rows(self) -> list[dict[str, object]]:
        # 11 months of half a cent, then 1234.56 cents
        return monthly("solo", "revenue", ["0.0050 CNY"] * 11 + ["12.3456 CNY"])

    def test_refused_by_default_naming_the_row(self) -> None:
        """Without rounding, 0.0050 CNY is refused at row 0, as before."""
        with pytest.raises(QuantumError, match="row 0"):
            Plan.from_leaf_values(
                self.SOLO, FiscalCalendar(fiscal_year=2027), [REVENUE], self.rows()
            )

    @pytest.mark.parametrize(
        ("rounding", "year"),
        [
            # half a cent: to even 0, half up 1, floor 0, ceiling 1; 1234.56 cents: 1235 / 1234 / 1235
            (Rounding.HALF_EVEN, 1235),
            (Rounding.HALF_UP, 11 + 1235),
            (Rounding.FLOOR, 1234),
            (Rounding.CEILING, 11 + 1235),
        ],
    )
    def test_from_leaf_values_rounds_each_value(self, rounding: Rounding, year: int) -> None:
        """Each leaf-month value is rounded to the cent by the mode, then rolled up exactly."""
        plan = Plan.from_leaf_values(
            self.SOLO, FiscalCalendar(fiscal_year=2027), [REVENUE], self.rows(), rounding=rounding
        )
        assert plan.quanta("solo", "FY2027", "revenue") == year

    def test_from_records_rounds(self) -> None:
        """from_records passes rounding on: 0.125 CNY is 12 cents half to even, 13 half up."""
        rows = [{"node": "solo", "period": "FY2027", "metric": "revenue", "value": "0.125 CNY"}]
        calendar = FiscalCalendar(fiscal_year=2027)
        even = Plan.from_records(self.SOLO, calendar, [REVENUE], rows, rounding=Rounding.HALF_EVEN)
        up = Plan.from_records(self.SOLO, calendar, [REVENUE], rows, rounding=Rounding.HALF_UP)
        assert even.quanta("solo", "FY2027", "revenue") == 12
        assert up.quanta("solo", "FY2027", "revenue") == 13
        with pytest.raises(QuantumError, match="row 0"):
            Plan.from_records(self.SOLO, calendar, [REVENUE], rows)

    @pytest.mark.parametrize(
        ("rounding", "expected"),
        [
            (Rounding.HALF_EVEN, [2, -2, 2, 0, 2**52 + 1]),
            (Rounding.HALF_UP, [3, -3, 2, 1, 2**52 + 1]),
            (Rounding.FLOOR, [2, -3, 1, 0, 2**52 + 1]),
            (Rounding.CEILING, [3, -2, 2, 1, 2**52 + 1]),
        ],
    )
    def test_from_leaf_arrays_rounds_float_quanta(
        self, rounding: Rounding, expected: list[int]
    ) -> None:
        """Float quanta 2.5, -2.5, 1.5, 0.5 round by the mode; a large odd whole float stays."""
        profit = Metric(name="profit", unit="CNY", non_negative=False)
        given = [2.5, -2.5, 1.5, 0.5, float(2**52 + 1)] + [0.0] * 7
        plan = Plan.from_leaf_arrays(
            self.SOLO,
            FiscalCalendar(fiscal_year=2027),
            [profit],
            {"profit": np.array([given])},
            rounding=rounding,
        )
        got = [plan.quanta("solo", month, "profit") for month in MONTHS[:5]]
        assert got == expected

    def test_from_leaf_arrays_refuses_fractions_by_default(self) -> None:
        """Without rounding, 2.5 quanta is refused as before."""
        with pytest.raises(PlanError, match="not whole numbers of quanta"):
            Plan.from_leaf_arrays(
                self.SOLO,
                FiscalCalendar(fiscal_year=2027),
                [REVENUE],
                {"revenue": np.array([[2.5] + [0.0] * 11])},
            )
