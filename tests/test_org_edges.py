"""Edge cases of targetcascade.org's doors: odd column types, odd frames and odd comparisons."""

from __future__ import annotations

import attrs
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from targetcascade.errors import (
    InvalidAttributeError,
    InvalidTreeError,
    UnknownNodeError,
    UnknownParentError,
)
from targetcascade.org import Levels, Node, OrgTree


def _frame(**extra: object) -> pd.DataFrame:
    columns: dict[object, object] = {
        "id": ["acme", "east"],
        "parent": [None, "acme"],
        "level": ["company", "region"],
    }
    columns.update(extra)
    return pd.DataFrame(columns)


class TestNode:
    def test_attributes_are_not_equal_to_a_non_mapping(self) -> None:
        """A node's attributes compare unequal (not an error) with something that is no mapping."""
        node = Node(
            id="ann", name="Ann", level="individual", parent="east", attributes={"potential": 2.0}
        )
        assert node.attributes == {"potential": 2.0}
        assert node.attributes != 2.0
        assert node.attributes != [("potential", 2.0)]


class TestOrgTree:
    def test_names_given_as_numpy_strings_are_kept(self) -> None:
        """Names given as numpy strings (a str subclass) mixed with None are kept, None means the id."""
        tree = OrgTree.from_arrays(
            ["acme", "east"], [-1, 0], ["company", "region"], names=[np.str_("Acme Inc."), None]
        )
        assert tree.node("acme").name == "Acme Inc."
        assert type(tree.node("acme").name) is str
        assert tree.node("east").name == "east"

    def test_a_name_that_is_no_string_is_refused_beside_numpy_strings(self) -> None:
        """A numeric name among numpy-string names is refused, naming its node."""
        with pytest.raises(InvalidAttributeError, match=r"'east'.*name 7 of type int"):
            OrgTree.from_arrays(
                ["acme", "east"], [-1, 0], ["company", "region"], names=[np.str_("Acme"), 7]
            )

    def test_start_dates_as_a_float_array_are_refused(self) -> None:
        """Start dates passed as a float array are refused, naming the column and the dtype."""
        with pytest.raises(InvalidAttributeError, match=r"start_date values have dtype float64"):
            OrgTree.from_arrays(
                ["acme", "east"], [-1, 0], ["company", "region"], start=np.array([1.0, 2.0])
            )

    def test_float_parent_indices_are_refused(self) -> None:
        """Parent indices given as floats are refused (not truncated), naming the row."""
        with pytest.raises(
            UnknownParentError, match=r"node 'acme' \(row 0\) has parent -1.0 of type float"
        ):
            OrgTree.from_arrays(["acme", "east"], np.array([-1.0, 0.0]), ["company", "region"])

    def test_from_networkx_uses_the_levels_passed(self) -> None:
        """Levels passed to from_networkx override the default ones."""
        levels = Levels(ranks=("division", "unit"))
        graph = nx.DiGraph([("hq", "ops")])
        nx.set_node_attributes(graph, {"hq": "division", "ops": "unit"}, "level")
        tree = OrgTree.from_networkx(graph, levels=levels)
        assert tree.levels == levels
        assert tree.node("ops").level == "unit"

    def test_frame_with_repeated_columns_is_refused(self) -> None:
        """A frame with two columns of the same name is refused."""
        frame = pd.DataFrame(
            [["acme", None, "company", "x"]], columns=["id", "parent", "level", "id"]
        )
        with pytest.raises(InvalidTreeError, match="repeated column names"):
            OrgTree.from_frame(frame)

    def test_frame_text_attribute_is_refused(self) -> None:
        """A text attribute column is refused, naming the first row and its value."""
        with pytest.raises(InvalidAttributeError, match=r"'acme' \(row 0\).*potential 'high'"):
            OrgTree.from_frame(_frame(potential=["high", "low"]))

    def test_frame_object_attribute_of_numbers_is_read(self) -> None:
        """An object column of Python numbers with a gap is read as floats, the gap as missing."""
        tree = OrgTree.from_frame(_frame(potential=pd.Series([3, None], dtype=object)))
        assert tree.node("acme").attributes == {"potential": 3.0}
        assert "potential" not in tree.node("east").attributes

    def test_frame_time_zone_aware_dates_are_refused(self) -> None:
        """Time-zone aware start dates in a frame are refused, naming the column."""
        stamps = pd.to_datetime(["2026-01-01", "2026-02-01"]).tz_localize("UTC")
        with pytest.raises(InvalidAttributeError, match=r"column 'start_date'.*time-zone aware"):
            OrgTree.from_frame(_frame(start_date=stamps))

    def test_frame_column_not_named_by_a_string_is_refused(self) -> None:
        """An attribute column named by a number is refused, naming the column."""
        with pytest.raises(InvalidAttributeError, match="column 3 is not named by a string"):
            OrgTree.from_frame(_frame().assign(x=1.0).rename(columns={"x": 3}))

    def test_trees_of_different_sizes_are_not_equal(self) -> None:
        """Two trees with different node counts compare unequal."""
        small = OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"])
        big = small.add_node(id="west", parent="acme", level="region")
        assert small != big
        assert small == OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"])

    def test_trees_with_different_levels_are_not_equal(self) -> None:
        """Two trees of the same shape but different level definitions compare unequal."""
        one = OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"])
        levels = Levels(ranks=("company", ("region", "channel")))
        other = OrgTree.from_arrays(
            ["acme", "east"], [-1, 0], ["company", "region"], levels_spec=levels
        )
        assert one != other

    def test_unknown_id_in_a_small_tree_suggests_close_ids(self) -> None:
        """An unknown id in a small tree is refused with the closest ids suggested."""
        ids = ["acme", *(f"p{i}" for i in range(1, 100))]
        tree = OrgTree.from_arrays(ids, np.array([-1] + [0] * 99), np.array([0] + [3] * 99))
        with pytest.raises(
            UnknownNodeError, match=r"no node 'p1x' in the tree \(did you mean 'p1'"
        ):
            tree.node("p1x")

    def test_unknown_id_in_a_huge_tree_is_refused_without_suggestions(self) -> None:
        """Above 100,000 ids the unknown id is refused at once, without a (slow) suggestion."""
        n = 100_001
        ids = ["acme", *(f"p{i}" for i in range(1, n))]
        tree = OrgTree.from_arrays(
            ids, np.array([-1] + [0] * (n - 1)), np.array([0] + [3] * (n - 1))
        )
        with pytest.raises(UnknownNodeError) as info:
            tree.node("p1x")
        assert str(info.value).startswith("no node 'p1x' in the tree; check the id")


class TestCompiledTree:
    def test_positions_of_with_a_plain_mapping(self) -> None:
        """A compiled tree built around a plain id -> position dict finds ids, -1 for unknown."""
        compiled = OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"]).compiled
        by_hand = attrs.evolve(compiled, position={"acme": 0, "east": 1})
        assert by_hand.positions_of(["east", "west", "acme"]).tolist() == [1, -1, 0]
        assert by_hand.positions_of([]).tolist() == []
