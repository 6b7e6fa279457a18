"""Every bad input of the foundation, its error type, and a message that names the culprit.

Each case is (id, callable raising, expected error type, substrings the message must contain). The
substrings are the culprit: the row, node id, period label, metric name or unit the user must fix.
"""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Callable
from typing import Any

import networkx as nx
import pytest

from targetcascade import FiscalCalendar, Metric, OrgTree, Plan, as_quantity, parse_quantity, ureg
from targetcascade import errors as E  # noqa: N812 - short alias keeps the case table readable

ROOT = {"id": "acme", "level": "company"}


def rec(**kw: Any) -> dict[str, Any]:
    return kw


def org(*rows: dict[str, Any]) -> Callable[[], object]:
    return lambda: OrgTree.from_records([ROOT, *rows])


def small_plan() -> Plan:
    tree = OrgTree.from_records([ROOT, rec(id="east", parent="acme", level="region")])
    return Plan.empty(tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")])


def cyclic_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_node("acme", level="company")
    g.add_node("a", level="region")
    g.add_node("b", level="team")
    g.add_edges_from([("acme", "a"), ("a", "b"), ("b", "a")])
    return g


CASES: list[tuple[str, Callable[[], object], type[Exception], tuple[str, ...]]] = [
    # units
    (
        "currency sum",
        lambda: ureg.Quantity(1, "CNY") + ureg.Quantity(1, "USD"),
        E.UnitMismatchError,
        ("CNY", "USD"),
    ),
    (
        "count vs currency",
        lambda: as_quantity("3 customers", "CNY"),
        E.UnitMismatchError,
        ("customer", "CNY"),
    ),
    ("unknown unit", lambda: parse_quantity("5 florins"), E.UnitParseError, ("florins",)),
    ("no number", lambda: parse_quantity("CNY"), E.UnitParseError, ("CNY",)),
    # metrics
    (
        "zero quantum",
        lambda: Metric(name="revenue", unit="CNY", quantum=0),
        E.MetricError,
        ("revenue", "quantum"),
    ),
    (
        "ratio without parts",
        lambda: Metric(name="margin", unit="percent", rollup="ratio"),
        E.MetricError,
        ("margin", "numerator"),
    ),
    (
        "ratio with unit",
        lambda: Metric(name="margin", unit="CNY", rollup="ratio", numerator="p", denominator="r"),
        E.MetricError,
        ("margin", "dimensionless"),
    ),
    (
        "bad metric name",
        lambda: Metric(name="my revenue", unit="CNY"),
        E.MetricError,
        ("my revenue",),
    ),
    (
        "unknown rollup",
        lambda: Metric(name="x", unit="CNY", rollup="average"),
        ValueError,
        ("average",),
    ),
    (
        "not whole quanta",
        lambda: Metric(name="revenue", unit="CNY").to_quanta("0.001 CNY"),
        E.QuantumError,
        ("revenue", "0.001", "0.01"),
    ),
    (
        "nan value",
        lambda: Metric(name="revenue", unit="CNY").to_quanta(float("nan")),
        E.QuantumError,
        ("revenue", "nan"),
    ),
    (
        "wrong unit value",
        lambda: Metric(name="revenue", unit="CNY").to_quanta("3 USD"),
        E.UnitMismatchError,
        ("USD",),
    ),
    # calendar
    (
        "start month 13",
        lambda: FiscalCalendar(fiscal_year=2027, start_month=13),
        E.CalendarError,
        ("13",),
    ),
    (
        "unknown pattern",
        lambda: FiscalCalendar(fiscal_year=2027, pattern="3-3-6"),
        E.CalendarError,
        ("3-3-6",),
    ),
    (
        "bad label",
        lambda: FiscalCalendar(fiscal_year=2027).period("2027Q3"),
        E.PeriodError,
        ("2027Q3",),
    ),
    (
        "other year",
        lambda: FiscalCalendar(fiscal_year=2027).period("FY2028-Q1"),
        E.PeriodError,
        ("FY2028-Q1",),
    ),
    (
        "month 13",
        lambda: FiscalCalendar(fiscal_year=2027).period("FY2027-M13"),
        E.PeriodError,
        ("FY2027-M13",),
    ),
    (
        "date outside",
        lambda: FiscalCalendar(fiscal_year=2027).period_of(dt.date(2029, 1, 1)),
        E.PeriodError,
        ("2029-01-01",),
    ),
    # org tree
    (
        "duplicate id",
        org(
            rec(id="east", parent="acme", level="region"),
            rec(id="east", parent="acme", level="region"),
        ),
        E.DuplicateNodeError,
        ("east", "row 2"),
    ),
    (
        "unknown parent",
        org(rec(id="east", parent="acmee", level="region")),
        E.UnknownParentError,
        ("acmee", "row 1"),
    ),
    ("second root", org(rec(id="other", level="company")), E.MultipleRootsError, ("other",)),
    (
        "no root",
        lambda: OrgTree.from_records(
            [rec(id="a", parent="b", level="region"), rec(id="b", parent="a", level="team")]
        ),
        E.InvalidTreeError,
        (),
    ),
    ("cycle", lambda: OrgTree.from_networkx(cyclic_graph()), E.InvalidTreeError, ()),
    (
        "level order",
        org(rec(id="t", parent="acme", level="team"), rec(id="r", parent="t", level="region")),
        E.LevelOrderError,
        ("r", "region", "team"),
    ),
    (
        "unknown level",
        org(rec(id="x", parent="acme", level="division")),
        E.LevelOrderError,
        ("division",),
    ),
    (
        "negative fte",
        org(rec(id="east", parent="acme", level="region", fte=-1)),
        E.InvalidAttributeError,
        ("east", "fte"),
    ),
    (
        "nan attribute",
        org(rec(id="east", parent="acme", level="region", potential=float("nan"))),
        E.InvalidAttributeError,
        ("east", "potential"),
    ),
    (
        "negative attribute",
        org(rec(id="east", parent="acme", level="region", potential=-2)),
        E.InvalidAttributeError,
        ("east", "potential"),
    ),
    (
        "end before start",
        org(
            rec(
                id="east",
                parent="acme",
                level="region",
                start_date="2027-05-01",
                end_date="2027-04-01",
            )
        ),
        E.InvalidAttributeError,
        ("east", "2027-04-01"),
    ),
    (
        "bad date",
        org(rec(id="east", parent="acme", level="region", start_date="May 1st")),
        E.InvalidAttributeError,
        ("east", "May 1st"),
    ),
    (
        "unknown node query",
        lambda: OrgTree.from_records([ROOT]).node("acne"),
        E.UnknownNodeError,
        ("acne",),
    ),
    # plan
    (
        "plan unknown node",
        lambda: small_plan().with_values(
            [{"node": "west", "period": "FY2027", "metric": "deals", "value": 1}]
        ),
        E.PlanError,
        ("row 0", "west"),
    ),
    (
        "plan unknown period",
        lambda: small_plan().with_values(
            [{"node": "east", "period": "FY2027-Q5", "metric": "deals", "value": 1}]
        ),
        E.PlanError,
        ("row 0", "FY2027-Q5"),
    ),
    (
        "plan unknown metric",
        lambda: small_plan().with_values(
            [{"node": "east", "period": "FY2027", "metric": "revenue", "value": 1}]
        ),
        E.PlanError,
        ("row 0", "revenue"),
    ),
    (
        "plan fractional deal",
        lambda: small_plan().with_values(
            [{"node": "east", "period": "FY2027", "metric": "deals", "value": "1.5 deal"}]
        ),
        E.QuantumError,
        ("row 0", "deals", "1.5"),
    ),
    (
        "plan missing key",
        lambda: small_plan().with_values([{"node": "east", "metric": "deals"}]),
        E.PlanError,
        ("row 0", "period"),
    ),
    ("plan schema", lambda: Plan.from_dict({"schema_version": 0}), E.SerializationError, ("0",)),
    (
        "plan duplicate metric",
        lambda: Plan.empty(
            small_plan().tree,
            FiscalCalendar(fiscal_year=2027),
            [Metric(name="deals", unit="deal"), Metric(name="deals", unit="deal")],
        ),
        E.PlanError,
        ("deals",),
    ),
]


@pytest.mark.parametrize(("case", "action", "error", "culprits"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_named_error(
    case: str, action: Callable[[], object], error: type[Exception], culprits: tuple[str, ...]
) -> None:
    """Each bad input raises its library error, naming what to fix."""
    with pytest.raises(error) as info:
        action()
    assert isinstance(info.value, E.TargetCascadeError), f"{case}: not a library error"
    message = str(info.value)
    for culprit in culprits:
        assert culprit in message, f"{case}: {culprit!r} not in {message!r}"


@pytest.mark.parametrize(("case", "action", "error", "culprits"), CASES, ids=[c[0] for c in CASES])
def test_errors_pickle(
    case: str, action: Callable[[], object], error: type[Exception], culprits: tuple[str, ...]
) -> None:
    """Every raised error survives pickling with its message and fields."""
    with pytest.raises(error) as info:
        action()
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is type(info.value)
    assert str(again) == str(info.value)
    assert isinstance(again, E.TargetCascadeError)
    assert (again.node, again.row, again.metric) == (
        info.value.node,
        info.value.row,
        info.value.metric,
    )


class TestHierarchy:
    @pytest.mark.parametrize(
        ("error", "builtin"),
        [
            (E.UnitMismatchError, TypeError),
            (E.UnitParseError, ValueError),
            (E.QuantumError, ValueError),
            (E.InvalidTreeError, ValueError),
            (E.CycleError, E.InvalidTreeError),
            (E.UnknownNodeError, KeyError),
            (E.MissingExtraError, ImportError),
            (E.CheckFailedError, AssertionError),
            (E.PeriodError, ValueError),
        ],
    )
    def test_subclasses_refine_builtins(
        self, error: type[Exception], builtin: type[Exception]
    ) -> None:
        """Each library error can be caught as the builtin it refines and as TargetCascadeError."""
        assert issubclass(error, builtin)
        assert issubclass(error, E.TargetCascadeError)

    def test_key_error_prints_plainly(self) -> None:
        """UnknownNodeError prints its message, not a quoted repr as KeyError would."""
        err = E.UnknownNodeError("node 'x' is not in the tree", node="x")
        assert str(err) == "node 'x' is not in the tree"

    def test_fields_and_hint(self) -> None:
        """Structured fields are kept and the hint is appended to the message."""
        err = E.PlanError(
            "row 3: bad",
            row=3,
            node="a",
            period="FY2027",
            metric="m",
            expected=1,
            actual=2,
            hint="fix it",
        )
        assert str(err) == "row 3: bad; fix it"
        assert (err.row, err.node, err.period, err.metric, err.expected, err.actual) == (
            3,
            "a",
            "FY2027",
            "m",
            1,
            2,
        )
