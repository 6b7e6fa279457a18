"""Edge cases of targetcascade.explain: children held at a bound next to one that took the rest."""

from __future__ import annotations

from targetcascade import (
    AbsoluteBounds,
    CascadeSpec,
    FiscalCalendar,
    Lock,
    Metric,
    MetricCascade,
    OrgTree,
    Plan,
    Split,
    cascade,
    explain,
)
from targetcascade.allocation import Proportional

DEALS = Metric(name="deals", unit="deal")


def bounded_plan() -> Plan:
    """100 deals, north locked at 20, weights east 1 and west 0, every region floor 30 cap 50:
    west gets 0 by weight and is raised to its floor 30; east takes the 100 - 20 - 30 = 50 left,
    which is also its cap."""
    tree = OrgTree.from_records(
        [
            {"id": "acme", "level": "company"},
            {"id": "north", "parent": "acme", "level": "region"},
            {"id": "east", "parent": "acme", "level": "region"},
            {"id": "west", "parent": "acme", "level": "region"},
        ]
    )
    split = Split(
        strategy=Proportional(values={"north": 0, "east": 1, "west": 0}),
        bounds=AbsoluteBounds(floor=30, cap=50, per="year"),
    )
    spec = CascadeSpec(
        metrics=[
            MetricCascade(
                metric=DEALS,
                target=100,
                mode="org_first",
                locks=[Lock(node="north", period="FY2027", value=20)],
                splits={"company": split},
            )
        ]
    )
    return cascade(spec, tree, FiscalCalendar(fiscal_year=2027))


class TestExplain:
    def test_the_only_weighted_child_took_the_rest_by_its_share(self) -> None:
        """east's 50 is all that was left after the lock and west's floor: 100 % of it, no bound."""
        step = explain(bounded_plan(), "east", "FY2027", "deals").steps[0]
        assert step.sentence == (
            "east FY2027 50 deal = (acme FY2027 100 deal - 20 deal locked - 30 deal held) "
            "x 100.00 % (proportional: weight 1 of 1) + 0 deal rounding"
        )
        assert step.bound is None

    def test_a_child_of_no_weight_is_held_by_its_floor(self) -> None:
        """A weight-0 child raised to its floor is explained by the floor, not as 0 % + rounding."""
        # regression: west was explained as 0.00 % of the rest plus 30 deal of rounding
        step = explain(bounded_plan(), "west", "FY2027", "deals").steps[0]
        assert step.bound == "floor"
        assert step.rounding is None
        assert step.sentence.startswith("west FY2027 30 deal = its floor, which held it")
