"""Tests for targetcascade.plan: the exact grid, roll-up, records and lossless serialisation."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetcascade import (
    FiscalCalendar,
    Levels,
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
    LevelOrderError,
    MetricError,
    PlanError,
    QuantumError,
    SerializationError,
    SizeLimitError,
    TargetCascadeError,
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
        with pytest.raises(
            QuantumError, match=r"row 0 \('west', FY2027-M01\): .*revenue's quantum 0.01 CNY"
        ):
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


class TestOrigin:
    def test_names_and_codes(self) -> None:
        """Origins read from their name in any case, their integer code (numpy too), or an Origin."""
        assert Origin.parse(" Locked ") is Origin.LOCKED
        assert Origin.parse(4) is Origin.ACTUAL
        assert Origin.parse(np.uint8(2)) is Origin.LOCKED
        assert Origin.parse(Origin.MANUAL) is Origin.MANUAL

    @pytest.mark.parametrize(
        "value", [None, 1.9, 1.0, True, np.True_, 300, -1, "alocated", b"locked"]
    )
    def test_not_an_origin(self, value: object) -> None:
        """#21.8 / #21.10: None, floats such as 1.9 and bools are refused, not read as ALLOCATED."""
        with pytest.raises(PlanError, match="unknown cell origin"):
            Origin.parse(value)  # type: ignore[arg-type]


class TestHedgeText:
    @pytest.mark.parametrize("hedge", ["1e99999999", "1e-1000", float("inf"), "nan", "5 %"])
    def test_refused_at_once(self, hedge: object) -> None:
        """A hedge with a huge exponent (minutes of Fraction arithmetic), inf or nan is refused."""
        with pytest.raises(PlanError, match=r"over-assignment .* is not a number"):
            Plan.empty(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], hedges={"team": hedge})

    @pytest.mark.parametrize(
        ("hedge", "fraction"),
        [("0.05", Fraction(1, 20)), ("5e-2", Fraction(1, 20)), (" 1/30 ", Fraction(1, 30))],
    )
    def test_plain_numbers_read_exactly(self, hedge: str, fraction: Fraction) -> None:
        """Decimals, small exponents and fractions read exactly."""
        plan = Plan.empty(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], hedges={"team": hedge})
        assert plan.hedge("team") == fraction


class TestPlanFromLeafArrays:
    def test_shape_is_checked(self) -> None:
        """A leaf array of the wrong shape names the expected (leaves, months)."""
        with pytest.raises(PlanError, match=r"expected \(3, 12\)"):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [DEALS], {"deals": np.ones((2, 12), int)}
            )

    def test_fractional_floats_refused(self) -> None:
        """Float arrays must hold whole quanta."""
        with pytest.raises(PlanError, match=r"FY2027-M01: 0\.5 is not a whole number of quanta"):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [DEALS], {"deals": np.full((3, 12), 0.5)}
            )

    def test_week_calendar_rolls_up_the_same(self) -> None:
        """A 4-4-5 calendar has the same 17-period grid; the roll-up is unchanged."""
        cal = FiscalCalendar(fiscal_year=2027, pattern="4-4-5")
        plan = Plan.from_leaf_arrays(tree(), cal, [DEALS], {"deals": np.ones((3, 12), np.int64)})
        assert plan.quanta("acme", "FY2027", "deals") == 36
        assert check(plan).ok


SIGNED = Metric(name="revenue", unit="CNY", non_negative=False)
WHOLE_CNY = Metric(name="revenue", unit="CNY", quantum="1", non_negative=False)
LIMIT_TEXT = "beyond the limit of 90,071,992,547,409.92 CNY"


def wide_tree(leaves: int) -> OrgTree:
    rows: list[dict[str, object]] = [{"id": "acme", "level": "team"}]
    rows += [{"id": f"p{i}", "parent": "acme", "level": "individual"} for i in range(leaves)]
    return OrgTree.from_records(rows, levels=Levels(ranks=(("team",), ("individual",))))


class TestSizeLimit:
    """Every cell of a plan, roll-ups included, stays within 2**53 quanta (#21.2)."""

    def test_leaf_value_beyond_the_limit(self) -> None:
        """1.6e16 CNY in a leaf-month is refused, naming the cell and the limit in CNY."""
        rows = [
            {"node": n, "period": m, "metric": "revenue", "value": "1.6e16 CNY"}
            for n in ("e1", "e2", "west")
            for m in MONTHS
        ]
        with pytest.raises(
            PlanError, match=r"row 0 \('e1', FY2027-M01\): revenue: 1.6e16 CNY"
        ) as c:
            Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], rows)
        assert "size limit of ±90,071,992,547,409.92 CNY" in str(c.value)
        assert isinstance(c.value, SizeLimitError)

    def test_roll_up_beyond_the_limit(self) -> None:
        """Two teams of 1.5 x 2**52 CNY a year make a region of 3 x 2**52: refused, not wrapped."""
        grid = np.full((3, 12), 2**49, dtype=np.int64)  # 12 x 2**49 = 1.5 x 2**52 per leaf
        with pytest.raises(PlanError, match=r"'revenue' rolled up for 'east' in FY2027 is "):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [WHOLE_CNY], {"revenue": grid}
            )

    def test_roll_up_that_int64_would_wrap(self) -> None:
        """1,100 people of about 2**53 CNY a year: the company's year is refused, never wrapped."""
        month = 2**53 // 12  # a year of 9,007,199,254,740,984 CNY each, within the limit
        grid = np.full((1100, 12), month, dtype=np.int64)
        with pytest.raises(
            PlanError, match=r"'revenue' rolled up for 'acme' in FY2027 is "
        ) as caught:
            Plan.from_leaf_arrays(
                wide_tree(1100), FiscalCalendar(fiscal_year=2027), [WHOLE_CNY], {"revenue": grid}
            )
        assert f"{1100 * 12 * month:,} CNY" in str(caught.value)

    def test_year_of_the_repro(self) -> None:
        """Months of 2**53 quanta are each within the limit, but their year is not."""
        grid = np.full((3, 12), 2**53, dtype=np.int64)  # leaves west, e1, e2 in compiled order
        with pytest.raises(PlanError, match=r"rolled up for 'west' in FY2027 is "):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], {"revenue": grid}
            )

    def test_unsigned_beyond_int64(self) -> None:
        """uint64 2**63 + 5 is refused by name, not turned negative."""
        grid = np.zeros((3, 12), dtype=np.uint64)
        grid[1, 2] = 2**63 + 5
        with pytest.raises(
            PlanError, match=r"'revenue' for 'e1' in FY2027-M03: 9223372036854775813"
        ):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], {"revenue": grid}
            )

    def test_float_beyond_int64(self) -> None:
        """Float 1e19 is refused by name, not turned into INT64_MIN."""
        grid = np.zeros((3, 12))
        grid[2, 11] = 1e19
        with pytest.raises(PlanError, match=r"'revenue' for 'e2' in FY2027-M12: 1e\+19"):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], {"revenue": grid}
            )

    def test_float_nan(self) -> None:
        """A NaN quanta count is refused naming its cell."""
        grid = np.zeros((3, 12))
        grid[0, 0] = np.nan
        with pytest.raises(PlanError, match=r"'west' in FY2027-M01: nan is not a number"):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], {"revenue": grid}
            )

    def test_float_within_four_ulps(self) -> None:
        """Floats within 4 ulps of whole quanta are those quanta (0.1 + 0.2 cents x 10 is 3)."""
        grid = np.full((3, 12), (0.1 + 0.2) * 10)
        plan = Plan.from_leaf_arrays(
            tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], {"revenue": grid}
        )
        assert plan.quanta("acme", "FY2027", "revenue") == 3 * 36

    def test_float32_within_four_of_its_own_ulps(self) -> None:
        """A float32 array is read by float32's ulps: 3 plus one float32 ulp is 3 quanta."""
        grid = np.full((3, 12), np.nextafter(np.float32(3), np.float32(4)), dtype=np.float32)
        plan = Plan.from_leaf_arrays(
            tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], {"revenue": grid}
        )
        assert plan.quanta("west", "FY2027-M01", "revenue") == 3

    def test_float_five_ulps_off_is_refused(self) -> None:
        """Five ulps from a whole number of quanta is not representation error: refused by cell."""
        off = 3.0
        for _ in range(5):
            off = float(np.nextafter(off, 4.0))
        grid = np.zeros((3, 12))
        grid[1, 0] = off
        with pytest.raises(
            PlanError, match=r"'e1' in FY2027-M01: 3\.00000000000000[0-9]+ is not a whole"
        ):
            Plan.from_leaf_arrays(
                tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], {"revenue": grid}
            )

    def test_with_values_beyond_the_limit(self) -> None:
        """with_values refuses 1e20 CNY by name instead of a raw OverflowError."""
        cell = {"node": "e1", "period": "FY2027-M01", "metric": "revenue", "value": "1e20 CNY"}
        with pytest.raises(PlanError, match=r"row 0 \('e1', FY2027-M01\): revenue: 1e20 CNY") as c:
            revenue_plan().with_values([cell])
        assert "size limit of ±90,071,992,547,409.92 CNY" in str(c.value)

    def test_from_records_beyond_the_limit(self) -> None:
        """from_records refuses a negative year beyond the limit, naming the cell."""
        cell = {"node": "acme", "period": "FY2027", "metric": "revenue", "value": -(2**53) - 1}
        with pytest.raises(
            PlanError, match=r"row 0 \('acme', FY2027\): revenue: -9007199254740993"
        ):
            Plan.from_records(tree(), FiscalCalendar(fiscal_year=2027), [SIGNED], [cell])

    def test_with_arrays_beyond_the_limit(self) -> None:
        """with_arrays refuses a cell of 2**60 quanta, naming it."""
        plan = revenue_plan()
        grid = plan.grid("revenue").copy()
        grid[3, 7] = 2**60
        with pytest.raises(PlanError, match=r"'revenue' for 'e1' in FY2027-M03 is "):
            plan.with_arrays("revenue", grid, plan.origins[0])

    def test_the_limit_itself_is_accepted(self) -> None:
        """A cell of exactly 2**53 quanta is within the limit."""
        cell = {"node": "acme", "period": "FY2027", "metric": "revenue", "value": 2**53}
        plan = Plan.from_records(tree(), FiscalCalendar(fiscal_year=2027), [WHOLE_CNY], [cell])
        assert plan.quanta("acme", "FY2027", "revenue") == 2**53


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


class TestRecordIds:
    def test_none_node_does_not_match_the_id_none(self) -> None:
        """#21.10: a record with node None is refused by row, though a node's id is "None"."""
        odd = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "None", "parent": "acme", "level": "region"},
            ]
        )
        rows = [{"node": None, "period": "FY2027", "metric": "deals", "value": 1}]
        with pytest.raises(PlanError, match=r"row 0: node None of type NoneType is not a node id"):
            Plan.from_records(odd, FiscalCalendar(fiscal_year=2027), [DEALS], rows)

    def test_int_node_matches_like_the_tree_door(self) -> None:
        """An int node id matches str(id), as OrgTree.from_records converts int ids."""
        numbered = OrgTree.from_records([{"id": 7, "level": "company"}])
        rows = [{"node": 7, "period": "FY2027", "metric": "deals", "value": 1}]
        plan = Plan.from_records(numbered, FiscalCalendar(fiscal_year=2027), [DEALS], rows)
        assert plan.quanta("7", "FY2027", "deals") == 1

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            ("node", 1.0, "row 0: node 1.0 of type float"),
            ("node", True, "row 0: node True of type bool"),
            ("period", None, "row 0: period None of type NoneType"),
            ("metric", ["deals"], "row 0: unknown metric ['deals']"),
        ],
    )
    def test_non_string_keys_are_refused(self, key: str, value: object, message: str) -> None:
        """Non-string node / period / metric keys are refused naming the row, in every record door."""
        row = {"node": "acme", "period": "FY2027", "metric": "deals", "value": 1, key: value}
        with pytest.raises(PlanError) as caught:
            Plan.from_records(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], [row])
        assert message in str(caught.value)
        with pytest.raises(PlanError):
            Plan.from_leaf_values(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], [row])


class TestRecordLimits:
    @pytest.mark.parametrize("value", [2**70, -(2**70), 2**53 + 1])
    def test_value_beyond_max_quanta(self, value: int) -> None:
        """#21.5: a record beyond 2**53 quanta names the row, the metric and the limit in its unit."""
        rows = [{"node": "acme", "period": "FY2027", "metric": "deals", "value": value}]
        with pytest.raises(PlanError) as caught:
            Plan.from_records(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], rows)
        message = str(caught.value)
        assert "row 0 ('acme', FY2027): deals:" in message
        assert "size limit of ±9,007,199,254,740,992 deal (2**53 quanta" in message

    def test_max_quanta_itself_is_accepted(self) -> None:
        """A record of exactly 2**53 quanta is within the limit."""
        rows = [{"node": "acme", "period": "FY2027", "metric": "deals", "value": 2**53}]
        plan = Plan.from_records(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], rows)
        assert plan.quanta("acme", "FY2027", "deals") == 2**53

    @pytest.mark.parametrize("records", [None, 5, "rows", {"node": "acme"}])
    def test_records_not_an_iterable_of_rows(self, records: object) -> None:
        """Records that are not an iterable of mappings are a PlanError, not a TypeError."""
        with pytest.raises(PlanError, match="records must be an iterable of mappings"):
            Plan.from_records(tree(), FiscalCalendar(fiscal_year=2027), [DEALS], records)  # type: ignore[arg-type]


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
        with pytest.raises(SerializationError, match=r"cells\.revenue\.values must be a list of 5"):
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


def _tampered(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = json.loads(json.dumps(revenue_plan().to_dict()))
    edit(data)
    return data


def _set_cell(part: str, value: object) -> Callable[[dict[str, Any]], object]:
    # Node row 3 in the file is 'e1' (input order acme, east, west, e1, e2); period 7 is FY2027-M03.
    return lambda data: data["cells"]["revenue"][part][3].__setitem__(7, value)


CELL = "cells.revenue.values[3][7] (node 'e1', FY2027-M03)"
ORIGIN = "cells.revenue.origins[3][7] (node 'e1', FY2027-M03)"


class TestTamperedPlanFile:
    """#21.7: a hand-edited plan file is read exactly or refused naming the path in the file."""

    @pytest.mark.parametrize(
        ("edit", "names"),
        [
            (_set_cell("values", 1.9), (CELL, "1.9", "not an integer of quanta")),
            (_set_cell("values", 2.0), (CELL, "2.0", "not an integer of quanta")),
            (_set_cell("values", "12"), (CELL, "'12'")),
            (_set_cell("values", True), (CELL, "True")),
            (_set_cell("origins", 0), (CELL, "origin is 'missing'")),
            (_set_cell("values", None), (CELL, "null", "origin is 'manual'")),
            (_set_cell("origins", 300), (ORIGIN, "300")),
            (_set_cell("origins", -1), (ORIGIN, "-1")),
            (_set_cell("origins", 1.0), (ORIGIN, "1.0")),
            (_set_cell("origins", 2**70), (ORIGIN, str(2**70))),
            (
                lambda d: d.__setitem__("hedges", {"revenue": {"team": "1e99999999"}}),
                ("hedges.revenue.team", "'1e99999999'", "exponent of at most 3 digits"),
            ),
            (
                lambda d: d.__setitem__("hedges", {"revenue": {"team": "abc"}}),
                ("hedges.revenue.team", "'abc'"),
            ),
            (
                lambda d: d.__setitem__("hedges", {"revenue": {"team": float("inf")}}),
                ("hedges.revenue.team", "inf"),
            ),
            (
                lambda d: d.__setitem__("hedges", {"revenue": {"team": "-1"}}),
                ("hedges.revenue.team", "above -1"),
            ),
            (lambda d: d.__setitem__("hedges", ["team", "0.05"]), ("hedges must map", "list")),
            (
                lambda d: d.__setitem__("hedges", {"revenue": {"taem": "0.05"}}),
                ("hedges.revenue.'taem'", "'team'"),
            ),
            (lambda d: d.__setitem__("hedges", {"revenu": {}}), ("hedges.'revenu'", "'revenue'")),
            (lambda d: d.__setitem__("kind", "forecast"), ("kind 'forecast'", "'target'")),
            (lambda d: d.__setitem__("celss", {}), ("unknown key 'celss'", "'cells'")),
            (lambda d: d.__setitem__("schema_version", True), ("schema version True",)),
            (lambda d: d.__setitem__("origin_codes", {"missing": 1}), ("origin_codes",)),
            (lambda d: d["cells"].pop("revenue"), ("cells has no grid for metric 'revenue'",)),
            (lambda d: d["cells"]["revenue"].pop("origins"), ("cells.revenue has no 'origins'",)),
            (
                lambda d: d["cells"]["revenue"]["values"].__setitem__(2, [1]),
                ("cells.revenue.values[2] (node 'west')", "17 values"),
            ),
            (lambda d: d["metrics"].__setitem__(0, {"name": "revenue"}), ("metrics[0]:",)),
            (lambda d: d["tree"].__setitem__("nodes", 5), ("tree:",)),
        ],
    )
    def test_tampering_is_refused_by_path(
        self, edit: Callable[[dict[str, Any]], object], names: tuple[str, ...]
    ) -> None:
        """Each tampered field is a SerializationError (or the part's own error) naming its path."""
        data = _tampered(edit)
        with pytest.raises(TargetCascadeError) as caught:
            Plan.from_dict(data)
        for name in names:
            assert name in str(caught.value)

    def test_value_fields_are_serialization_errors(self) -> None:
        """A tampered cell value is a SerializationError carrying node, period and metric."""
        with pytest.raises(SerializationError) as caught:
            Plan.from_dict(_tampered(_set_cell("values", 1.9)))
        err = caught.value
        assert (err.node, err.period, err.metric) == ("e1", "FY2027-M03", "revenue")

    def test_too_many_level_ranks(self) -> None:
        """#21.6: a plan file declaring 20,000 level ranks is refused at the tree's door, at once."""
        data = _tampered(
            lambda d: d["tree"]["levels"].__setitem__("ranks", [[f"l{i}"] for i in range(20_000)])
        )
        with pytest.raises(
            LevelOrderError, match=r"^tree: a level order may declare at most 1,000"
        ):
            Plan.from_dict(data)

    def test_not_a_mapping(self) -> None:
        """A JSON list (or any non-object) as the whole file is refused."""
        with pytest.raises(SerializationError, match="a plan must be a JSON object"):
            Plan.from_dict([1, 2])  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [2**70, 2**53 + 1, -(2**53) - 1, -(2**64)])
    def test_value_beyond_max_quanta(self, value: int) -> None:
        """#21.5: a cell beyond 2**53 quanta names the cell, the metric and the limit in CNY."""
        with pytest.raises(SerializationError) as caught:
            Plan.from_dict(_tampered(_set_cell("values", value)))
        message = str(caught.value)
        assert CELL in message
        assert f"is {value} quanta" in message
        # 2**53 cents = 90,071,992,547,409.92 CNY
        assert (
            "MAX_QUANTA = 2**53 = 9,007,199,254,740,992 quanta (90,071,992,547,409.92 CNY)"
            in message
        )

    def test_max_quanta_itself_is_read(self) -> None:
        """A cell of exactly 2**53 quanta is within the limit and read exactly (check judges it)."""
        plan = Plan.from_dict(_tampered(_set_cell("values", -(2**53))))
        assert plan.quanta("e1", "FY2027-M03", "revenue") == -(2**53)

    def test_string_hedge_and_number_hedge_read_exactly(self) -> None:
        """Hedges written as fraction or decimal strings (or JSON numbers) read exactly."""
        data = _tampered(
            lambda d: d.__setitem__("hedges", {"revenue": {"company": "1/20", "region": 0.1}})
        )
        plan = Plan.from_dict(data)
        assert plan.hedge("company") == Fraction(1, 20)
        assert plan.hedge("region") == Fraction(1, 10)


class TestTableShowsOverAssignment:
    """#12: a table whose children add up to more than their parent says why."""

    @staticmethod
    def hedged() -> Plan:
        small = OrgTree.from_records(
            [
                {"id": "acme", "level": "company"},
                {"id": "a", "parent": "acme", "level": "region"},
                {"id": "b", "parent": "acme", "level": "region"},
            ]
        )
        cells = [("acme", 100), ("a", 55), ("b", 55)]
        rows = [{"node": n, "period": "FY2027", "metric": "deals", "value": v} for n, v in cells]
        return Plan.from_records(
            small, FiscalCalendar(fiscal_year=2027), [DEALS], rows, hedges={"company": "0.1"}
        )

    def test_marked_parent_and_note(self) -> None:
        """100 deals over-assigned by 10 %: children 55 + 55 = 110, the parent marked, a note says so."""
        plan = self.hedged()
        assert plan.table("deals", periods=["FY2027"]).splitlines() == [
            "deals (deal)  FY2027",
            "--------------------",
            "acme [+10 %]     100",
            "  a               55",
            "  b               55",
            (
                "[+10 %] children sum to 110 % of their company: over-assignment declared on "
                "level 'company'"
            ),
        ]

    def test_no_mark_when_children_are_hidden(self) -> None:
        """With the children cut off by max_depth there is nothing to explain."""
        assert self.hedged().table("deals", periods=["FY2027"], max_depth=0).splitlines() == [
            "deals (deal)  FY2027",
            "--------------------",
            "acme             100",
        ]

    def test_html_carries_the_note(self) -> None:
        """The notebook view shows the same mark and note."""
        html = self.hedged()._repr_html_()
        assert "acme [+10 %]" in html
        assert "children sum to 110 % of their company" in html


@given(plans())
def test_dict_round_trip_is_lossless(plan: Plan) -> None:
    """Any plan survives to_dict -> JSON -> from_dict unchanged (values, origins, metrics, tree)."""
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    assert again.to_records() == plan.to_records()


@given(plans(), st.data())
def test_dict_round_trip_keeps_hedges_and_kind(plan: Plan, data: st.DataObject) -> None:
    """Any hedges (exact fractions above -1, per metric and level) and kind survive the JSON file."""
    levels = list(plan.tree.levels.names)
    fractions = st.fractions(min_value=Fraction(-99, 100), max_value=10, max_denominator=10**9)
    hedges = {
        metric.name: data.draw(st.dictionaries(st.sampled_from(levels), fractions, max_size=3))
        for metric in plan.metrics
    }
    kind = data.draw(st.sampled_from(list(PlanKind)))
    hedged = attrs.evolve(plan, hedges=hedges, kind=kind)
    again = Plan.from_dict(json.loads(json.dumps(hedged.to_dict())))
    assert again == hedged
    assert again.hedges == hedged.hedges


@given(plans())
def test_records_round_trip_is_lossless(plan: Plan) -> None:
    """Any plan survives to_records -> from_records unchanged."""
    again = Plan.from_records(plan.tree, plan.calendar, plan.metrics, plan.to_records())
    assert again == plan


class TestSizeLimitOfAmounts:
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
        assert "'margin' for 'solo' in FY2027" in message
        assert "90,071,992,547,409.92 percent" in message
        assert "profit / revenue" in message
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
        with pytest.raises(PlanError, match="not a whole number of quanta"):
            Plan.from_leaf_arrays(
                self.SOLO,
                FiscalCalendar(fiscal_year=2027),
                [REVENUE],
                {"revenue": np.array([[2.5] + [0.0] * 11])},
            )
