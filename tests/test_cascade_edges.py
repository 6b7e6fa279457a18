"""Edge cases of targetcascade.cascade: spec validation at construction, time locks, equality."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from targetcascade import (
    AbsoluteBounds,
    CascadeSpec,
    FiscalCalendar,
    Lock,
    Metric,
    MetricCascade,
    OrgTree,
    RelativeBounds,
    Split,
    cascade,
    check,
)
from targetcascade.allocation import Equal, Even, Seasonal, Webster
from targetcascade.calendar import PeriodLevel
from targetcascade.cascade import _CellLabels, _Labels
from targetcascade.errors import SpecError

DEALS = Metric(name="deals", unit="deal")
CAL = FiscalCalendar(fiscal_year=2027)
MONTHS = [f"FY2027-M{m:02d}" for m in range(1, 13)]
EQUAL = Split(strategy=Equal())


def regions() -> OrgTree:
    """acme over north, east and west."""
    return OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "north", "parent": "acme", "level": "region"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )


def deals(target: object = 120, **kwargs: Any) -> MetricCascade:
    kwargs.setdefault("splits", {"company": EQUAL})
    return MetricCascade(metric=DEALS, target=target, **kwargs)


def one(target: object = 120, **kwargs: Any) -> CascadeSpec:
    return CascadeSpec(metrics=[deals(target, **kwargs)])


class TestSplit:
    def test_hedge_of_minus_one_is_refused(self) -> None:
        """An over-assignment of -100 % would leave the children nothing."""
        with pytest.raises(SpecError, match="over-assignment -1 would leave the children nothing"):
            Split(strategy=Equal(), hedge=-1)

    def test_rounding_must_be_a_divisor_method(self) -> None:
        """rounding='webster' (a string, not Webster()) is refused, naming the value."""
        with pytest.raises(SpecError, match="rounding 'webster' is not a divisor method"):
            Split(strategy=Equal(), rounding="webster")  # type: ignore[arg-type]

    def test_over_long_number_string_is_refused(self) -> None:
        """A hedge string of 300 characters is refused with its length and the limit (203)."""
        with pytest.raises(SpecError, match=r"is 300 characters long .* is 203"):
            Split(strategy=Equal(), hedge="1" * 300)

    def test_hedge_of_a_list_is_not_a_number(self) -> None:
        """A hedge given as a list is refused as not a number."""
        with pytest.raises(
            SpecError, match=re.escape("over-assignment (hedge) [1] is not a number")
        ):
            Split(strategy=Equal(), hedge=[1])

    def test_divisor_split_keeps_a_lock(self) -> None:
        """Webster with east locked at 30 of 120: north and west share 90 as 45 and 45."""
        spec = one(
            mode="org_first",
            splits={"company": Split(strategy=Equal(), rounding=Webster())},
            locks=[Lock(node="east", period="FY2027", value=30)],
        )
        plan = cascade(spec, regions(), CAL)
        got = [plan.quanta(n, "FY2027", "deals") for n in ("north", "east", "west")]
        assert got == [45, 30, 45]
        assert check(plan).ok


class TestBounds:
    def test_relative_floor_above_cap(self) -> None:
        """A relative floor of 2 above a cap of 1 is refused, naming both."""
        with pytest.raises(SpecError, match="relative floor 2 is above the cap 1"):
            RelativeBounds(floor=2, cap=1)

    def test_per_accepts_a_period_level(self) -> None:
        """per=PeriodLevel.MONTH is read as 'month'."""
        assert AbsoluteBounds(floor=1, per=PeriodLevel.MONTH).per == "month"

    def test_per_that_is_no_period(self) -> None:
        """per='decade' is refused as not a period a cascade splits."""
        with pytest.raises(SpecError, match="absolute bounds per 'decade': not a period"):
            AbsoluteBounds(floor=1, per="decade")


class TestMetricCascade:
    def test_metric_must_be_a_metric(self) -> None:
        """metric='deals' (a name, not a Metric) is refused."""
        with pytest.raises(SpecError, match="metric 'deals' is not a Metric"):
            MetricCascade(metric="deals", target=1)  # type: ignore[arg-type]

    def test_splits_of_true(self) -> None:
        """splits=True is refused, described in JSON's words ('true')."""
        with pytest.raises(SpecError, match=r"splits must map names to Split\(\.\.\.\), got true"):
            deals(splits=True)

    def test_splits_of_an_unjsonable_type(self) -> None:
        """splits given as a set is refused, naming the type."""
        with pytest.raises(SpecError, match=r"splits must map names to Split\(\.\.\.\), got set"):
            deals(splits={"company"})

    def test_split_under_a_name_must_be_a_split(self) -> None:
        """splits={'company': 5} is refused, naming the key."""
        with pytest.raises(SpecError, match=re.escape("splits['company'] is 5, not a Split")):
            deals(splits={"company": 5})

    def test_locks_none_is_no_locks(self) -> None:
        """locks=None means no locks."""
        assert deals(locks=None).locks == ()

    def test_locks_must_be_locks(self) -> None:
        """locks given as a string is refused."""
        with pytest.raises(SpecError, match="locks must be a list of Lock"):
            deals(locks="east=30")

    def test_time_must_be_a_time_strategy(self) -> None:
        """time='even' (a name) is refused."""
        with pytest.raises(SpecError, match="'even' is not a time strategy"):
            deals(time="even")

    def test_time_overrides_must_be_a_mapping(self) -> None:
        """time_overrides given as a list is refused."""
        with pytest.raises(SpecError, match=r"time_overrides must map node ids .* got a list"):
            deals(time_overrides=[Even()])

    def test_time_override_must_be_a_time_strategy(self) -> None:
        """A time override that is an org strategy is refused."""
        with pytest.raises(SpecError, match=r"Equal.* is not a time strategy"):
            deals(time_overrides={"east": Equal()})

    def test_time_override_phases_its_node(self) -> None:
        """A node's time override phases its year by its own profile; the others stay even."""
        # org_first, 120 deals in thirds: east's 40 by 1:1:1:2 is 8, 8, 8, 16 a quarter;
        # north's 40 even is 10 a quarter
        spec = one(
            mode="org_first",
            time_overrides={"east": Seasonal(profile=(1, 1, 1, 2))},
        )
        plan = cascade(spec, regions(), CAL)
        quarters = [plan.quanta("east", f"FY2027-Q{q}", "deals") for q in range(1, 5)]
        assert quarters == [8, 8, 8, 16]
        assert [plan.quanta("north", f"FY2027-Q{q}", "deals") for q in range(1, 5)] == [10] * 4
        # each quarter's months share it evenly, the leftover to the earliest: 8 -> 3, 3, 2
        # and 16 -> 6, 5, 5
        months = [plan.quanta("east", m, "deals") for m in MONTHS]
        assert months == [3, 3, 2] * 3 + [6, 5, 5]
        assert check(plan).ok

    def test_time_override_survives_json(self) -> None:
        """A spec with a time override reads back from its JSON equal to itself."""
        spec = one(mode="org_first", time_overrides={"east": Seasonal(profile=(1, 1, 1, 2))})
        again = CascadeSpec.from_json(spec.to_json())
        assert again == spec
        assert hash(again) == hash(spec)
        assert again.metrics[0] == spec.metrics[0]
        assert hash(again.metrics[0]) == hash(spec.metrics[0])

    def test_not_equal_to_other_types(self) -> None:
        """A MetricCascade is not equal to a dict, and a CascadeSpec not to a list."""
        item = deals()
        assert item != item.to_dict()
        assert one() != [item]

    def test_split_for_an_unknown_level(self) -> None:
        """A split for level 'division' that the tree does not have is refused at cascade."""
        spec = one(splits={"company": EQUAL, "division": EQUAL})
        with pytest.raises(SpecError, match="split given for unknown level 'division'"):
            cascade(spec, regions(), CAL)

    def test_override_for_an_unknown_node(self) -> None:
        """An override for node 'south' that is not in the tree is refused, naming it."""
        spec = one(overrides={"south": EQUAL})
        with pytest.raises(SpecError, match="override for unknown node 'south'"):
            cascade(spec, regions(), CAL)

    def test_time_override_for_an_unknown_node(self) -> None:
        """A time override for node 'south' that is not in the tree is refused, naming it."""
        spec = one(time_overrides={"south": Even()})
        with pytest.raises(SpecError, match="override for unknown node 'south'"):
            cascade(spec, regions(), CAL)

    def test_override_with_another_hedge_than_its_level(self) -> None:
        """An override hedging 10 % under a level hedging 0 is refused, naming node and level."""
        spec = one(overrides={"acme": Split(strategy=Equal(), hedge="0.1")})
        with pytest.raises(
            SpecError, match="override for 'acme' over-assigns 1/10 but its level 'company'"
        ):
            cascade(spec, regions(), CAL)


class TestLock:
    def test_month_lock_on_a_leaf_in_org_first(self) -> None:
        """org_first: a leaf's month lock is kept and its quarter's other months share the rest."""
        # 120 deals in thirds: east's 40 is 10 a quarter; M01 locked at 10 leaves M02 and M03
        # nothing; each other quarter's 10 goes 4, 3, 3 (the tied leftover to the earliest month)
        spec = one(mode="org_first", locks=[Lock(node="east", period="FY2027-M01", value=10)])
        plan = cascade(spec, regions(), CAL)
        assert [plan.quanta("east", m, "deals") for m in MONTHS] == [10, 0, 0] + [4, 3, 3] * 3
        assert check(plan).ok

    def test_month_lock_splits_the_rest_of_its_quarter(self) -> None:
        """A month lock's quarter leftover, tied between two months, goes to the earlier one."""
        # 240 deals in thirds: east's 80 is 20 a quarter; M01 locked at 15 leaves 5 for M02, M03
        spec = one(240, mode="org_first", locks=[Lock(node="east", period="FY2027-M01", value=15)])
        plan = cascade(spec, regions(), CAL)
        got = [plan.quanta("east", m, "deals") for m in MONTHS]
        # the other quarters' 20 go 7, 7, 6
        assert got == [15, 3, 2] + [7, 7, 6] * 3
        assert check(plan).ok


class TestCascadeSpec:
    def test_metrics_must_be_metric_cascades(self) -> None:
        """metrics given as a string is refused."""
        with pytest.raises(SpecError, match="metrics must be a list of MetricCascade"):
            CascadeSpec(metrics="deals")

    def test_a_metric_cascaded_twice(self) -> None:
        """The same metric twice is refused, naming it."""
        with pytest.raises(SpecError, match=re.escape("metrics ['deals'] are cascaded twice")):
            CascadeSpec(metrics=[deals(), deals(60)])

    def test_from_json_reads_utf8_bytes(self) -> None:
        """JSON given as UTF-8 bytes reads the same as text."""
        spec = one()
        assert CascadeSpec.from_json(spec.to_json().encode("utf-8")) == spec

    def test_from_json_refuses_bytes_that_are_not_utf8(self) -> None:
        """Latin-1 bytes are refused as not UTF-8."""
        with pytest.raises(SpecError, match="not UTF-8 text"):
            CascadeSpec.from_json('{"metrics": [], "note": "\xe9"}'.encode("latin-1"))

    def test_from_json_refuses_a_dict(self) -> None:
        """A dict (not text) is refused, pointing at from_dict."""
        with pytest.raises(SpecError, match="a cascade spec is JSON text, got dict"):
            CascadeSpec.from_json({"metrics": []})  # type: ignore[arg-type]


class TestLabels:
    def test_node_labels_slice_like_a_list(self) -> None:
        """Labels of positions [3, 1] (west, north) slice as a list does, prefix included."""
        labels = _Labels(regions(), np.array([3, 1]), prefix="child ")
        assert labels[:] == ["child west", "child north"]
        assert labels[1:] == ["child north"]
        assert list(labels) == ["child west", "child north"]

    def test_cell_labels_are_node_major(self) -> None:
        """north and west x M01 and M02 read node by node; a slice equals indexing one by one."""
        labels = _CellLabels(regions(), CAL, np.array([1, 3]), np.array([5, 6]))
        expected = ["north FY2027-M01", "north FY2027-M02", "west FY2027-M01", "west FY2027-M02"]
        assert len(labels) == 4
        assert [labels[i] for i in range(4)] == expected
        assert labels[1:3] == expected[1:3]
        assert labels[::-1] == expected[::-1]
