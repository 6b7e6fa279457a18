"""explain() on balanced and rolled-up cells, and the JSON form of an explanation."""

from __future__ import annotations

import json

import pytest

from targetcascade import (
    CascadeSpec,
    FiscalCalendar,
    Metric,
    MetricCascade,
    OrgTree,
    Split,
    cascade,
    explain,
)
from targetcascade.allocation import Proportional

RECORDS = [
    {"id": "acme", "level": "company"},
    {"id": "east", "parent": "acme", "level": "region", "w": 1},
    {"id": "west", "parent": "acme", "level": "region", "w": 3},
]


def plan_in(mode: str):
    """1,200 deals, east : west = 1 : 3, phased evenly: east 300 a year, 25 a month."""
    spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=Metric(name="deals", unit="deal"),
                target=1200,
                mode=mode,
                splits={"company": Split(strategy=Proportional(attribute="w"))},
            )
        ]
    )
    return cascade(spec, OrgTree.from_records(RECORDS), FiscalCalendar(fiscal_year=2027))


class TestBalancedStep:
    def test_month_says_it_was_balanced_between_both_margins(self):
        """A balanced month names the child's year and the parent's month it was fitted to."""
        step = explain(plan_in("balanced"), "east", "FY2027-M01", "deals").steps[0]
        assert step.source == "balanced"
        assert (step.node, step.period, step.value) == ("east", "FY2027-M01", 25)
        assert (step.from_node, step.from_period) == ("acme", "FY2027-M01")
        assert "balanced to 25.00" in step.sentence
        assert "both margins exact" in step.sentence

    def test_to_dict_is_json_safe(self):
        """to_dict() writes numbers as strings and tuples as lists, so json.dumps takes it."""
        data = explain(plan_in("balanced"), "east", "FY2027-Q1", "deals").to_dict()
        assert json.loads(json.dumps(data)) == data
        step = data["steps"][0]
        assert step["value"] == "75"  # three months of 25
        assert step["source"] == "rolled_up"
        assert step["parts"] == ["FY2027-M01", "FY2027-M02", "FY2027-M03"]
        assert data["metric"] == "deals"
        assert data["unit"] == "deal"


class TestRolledUpFromChildren:
    @pytest.mark.parametrize(("month", "east", "west"), [("FY2027-M01", 25, 75)])
    def test_org_first_parent_month_lists_its_children(self, month, east, west):
        """In org_first mode a parent's month is the sum of its children's, and says so."""
        step = explain(plan_in("org_first"), "acme", month, "deals").steps[0]
        assert step.source == "rolled_up"
        assert step.parts == ("east", "west")
        assert step.value == east + west
        assert f"east {east} deal + west {west} deal" in step.sentence
