"""Edge cases of the org and time strategies: bad arguments, missing history, empty years."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from targetcascade.allocation import (
    AverageOfProportions,
    Even,
    HistoricalSeasonality,
    OrgBatch,
    Proportional,
    TimeBatch,
    WorkingDays,
)
from targetcascade.calendar import FiscalCalendar
from targetcascade.errors import StrategyError
from targetcascade.synthetic import SyntheticCompany, demo_company


@pytest.fixture(scope="module")
def company() -> SyntheticCompany:
    return demo_company()


def _regions(company: SyntheticCompany) -> OrgBatch:
    """The four regions under the root (north, east, south, west), the year column."""
    return OrgBatch(
        tree=company.tree,
        calendar=company.calendar,
        metric=company.metrics[0],
        rows=[1, 2, 3, 4],
        offsets=[0, 4],
        parents=[0],
        periods=[0],
    )


def _root_year(company: SyntheticCompany, calendar: FiscalCalendar | None = None) -> TimeBatch:
    return TimeBatch(
        tree=company.tree,
        calendar=calendar or company.calendar,
        metric=company.metrics[0],
        rows=[0],
    )


class _ShortYear(Even):
    """A profile with three months instead of twelve."""

    def profile(self, batch: TimeBatch) -> np.ndarray:
        return np.ones((batch.rows.size, 3))


class _NoMonth(Even):
    """A profile that gives every month zero."""

    def profile(self, batch: TimeBatch) -> np.ndarray:
        return np.zeros(batch.shape)


class TestProportional:
    @pytest.mark.parametrize("key", [1, ""])
    def test_key_that_is_no_node_id_is_refused(self, key: object) -> None:
        """A values key that is no non-empty string is refused, naming the key."""
        with pytest.raises(StrategyError, match=f"values has key {key!r}, not a node id"):
            Proportional(values={key: 2.0})  # type: ignore[dict-item]

    def test_node_given_twice_is_refused(self) -> None:
        """A node given twice in a list of pairs is refused, naming the node."""
        with pytest.raises(StrategyError, match="gives node 'east' twice") as info:
            Proportional(values=[("east", 1.0), ("east", 2.0)])
        assert info.value.node == "east"

    def test_values_for_nodes_outside_the_tree_are_ignored(self, company: SyntheticCompany) -> None:
        """A weight for an id not in the tree does not disturb the others' weights."""
        by_id = {"north": 3, "east": 1, "south": 0, "west": 1, "ghost": 5}
        got = Proportional(values=by_id).weights(_regions(company))
        assert got.ravel().tolist() == [3.0, 1.0, 0.0, 1.0]


class TestAverageOfProportions:
    def test_relative_to_top_without_history_takes_the_fallback(
        self, company: SyntheticCompany
    ) -> None:
        """Shares of the top node's history, with no history at all, fall back to Equal."""
        got = AverageOfProportions(relative_to="top").weights(_regions(company))
        assert got.ravel().tolist() == [1.0, 1.0, 1.0, 1.0]

    def test_shares_relative_to_top_without_the_top_history_are_zero(
        self, company: SyntheticCompany
    ) -> None:
        """Shares of a top node whose history is unknown are 0 for every child (it never sold)."""
        batch = OrgBatch(
            tree=company.tree,
            calendar=company.calendar,
            metric=company.metrics[0],
            rows=[1, 2],
            offsets=[0, 2],
            parents=[0],
            periods=[0],
        )
        history = np.array([[1.0, 3.0, 0.0], [1.0, 1.0, 0.0]])
        assert AverageOfProportions(relative_to="top").shares(history, batch).tolist() == [0.0, 0.0]
        # relative to the parent the same history gives 1/2 and 3/4 over two months: 5 : 3
        assert AverageOfProportions().shares(history, batch).tolist() == [5.0, 3.0]

    def test_relative_to_top_without_history_or_fallback_is_refused(
        self, company: SyntheticCompany
    ) -> None:
        """With no history and no fallback every child is named as lacking history."""
        with pytest.raises(StrategyError, match="'north', 'east', 'south', 'west'"):
            AverageOfProportions(relative_to="top", fallback=None).weights(_regions(company))


class TestHistoricalSeasonality:
    @pytest.mark.parametrize("window", [0, -1, True, 1.5])
    def test_window_that_is_no_positive_year_count_is_refused(self, window: object) -> None:
        """A window of 0, a negative, a bool or a fraction of a year is refused, naming it."""
        with pytest.raises(StrategyError, match=f"window={window!r} is not a positive number"):
            HistoricalSeasonality(window=window)  # type: ignore[arg-type]

    def test_fallback_profile_of_the_wrong_shape_is_refused(
        self, company: SyntheticCompany
    ) -> None:
        """A fallback returning 3 months instead of 12 is refused, naming it and both shapes."""
        with pytest.raises(
            StrategyError, match=r"_ShortYear\(\).*shape \(1, 3\), expected \(1, 12\)"
        ):
            HistoricalSeasonality(fallback=_ShortYear()).profile(_root_year(company))

    def test_fallback_giving_an_all_zero_year_is_refused(self, company: SyntheticCompany) -> None:
        """A node without history whose fallback gives no month anything is refused, named."""
        with pytest.raises(StrategyError, match=r"'acme' have no history.*_NoMonth\(\)"):
            HistoricalSeasonality(fallback=_NoMonth()).profile(_root_year(company))


class TestWorkingDays:
    def test_year_of_holidays_has_no_working_day(self, company: SyntheticCompany) -> None:
        """A calendar whose every day is a holiday is refused by WorkingDays, naming the year."""
        every_day = [dt.date(2027, 1, 1) + dt.timedelta(days=i) for i in range(365)]
        calendar = FiscalCalendar(fiscal_year=2027, holidays=every_day)
        with pytest.raises(StrategyError, match="working_days: FY2027 has no working day"):
            WorkingDays().profile(_root_year(company, calendar))
