"""Tests for targetcascade.org: levels, nodes, the tree, its compiled form and its validation."""

from __future__ import annotations

import datetime as dt
import json
import math
import pickle
import sys
from collections import deque
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs
import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetcascade.errors import (
    CycleError,
    DuplicateNodeError,
    InvalidAttributeError,
    InvalidTreeError,
    LevelOrderError,
    MissingExtraError,
    MultipleRootsError,
    SerializationError,
    TargetCascadeError,
    UnknownNodeError,
    UnknownParentError,
)
from targetcascade.org import (
    DEFAULT_LEVELS,
    MAX_LEVEL_RANKS,
    RESERVED_KEYS,
    CompiledTree,
    Levels,
    Node,
    OrgTree,
)
from targetcascade.testing import org_trees

# acme (company)
# ├── west (region, potential 400) ── west-1 (team)
# ├── east (region, potential 600)
# │   ├── east-1 (team) ── bob (individual, fte 0.5, 2027-04-01..2027-09-30), ann (fte 1.0)
# │   └── east-2 (team) ── cy (individual)
# └── gadgets (product_line)
# Rows are deliberately out of tree order: bob comes before his team and before ann.
ROWS: list[dict[str, Any]] = [
    {"id": "acme", "level": "company", "name": "Acme Ltd"},
    {"id": "west", "parent": "acme", "level": "region", "potential": 400.0},
    {"id": "east", "parent": "acme", "level": "region", "potential": 600.0},
    {
        "id": "bob",
        "parent": "east-1",
        "level": "individual",
        "fte": 0.5,
        "start_date": "2027-04-01",
        "end_date": dt.date(2027, 9, 30),
    },
    {"id": "east-1", "parent": "east", "level": "team"},
    {"id": "ann", "parent": "east-1", "level": "individual", "fte": 1.0, "start_date": None},
    {"id": "west-1", "parent": "west", "level": "team"},
    {"id": "gadgets", "parent": "acme", "level": "product_line"},
    {"id": "east-2", "parent": "east", "level": "team"},
    {"id": "cy", "parent": "east-2", "level": "individual", "name": "Cy"},
]


@pytest.fixture
def tree() -> OrgTree:
    return OrgTree.from_records(ROWS)


def with_row(row: dict[str, Any]) -> list[dict[str, Any]]:
    """ROWS plus one more row (it becomes row 10)."""
    return [*ROWS, row]


def team(**changes: Any) -> dict[str, Any]:
    """A valid team row under 'east' with ``changes`` applied (None drops a key)."""
    row: dict[str, Any] = {"id": "x", "parent": "east", "level": "team", **changes}
    return {key: value for key, value in row.items() if value is not None}


INT_KEY_ROW: dict[Any, Any] = {**team(), 5: 1.0}


def reference_bfs(tree: OrgTree) -> list[str]:
    """Breadth-first order computed the slow, obvious way from the records alone."""
    records = tree.to_records()
    children: dict[str | None, list[str]] = {}
    for record in records:
        children.setdefault(record["parent"], []).append(record["id"])
    (root,) = children[None]
    order, queue = [], deque([root])
    while queue:
        node = queue.popleft()
        order.append(node)
        queue.extend(children.get(node, []))
    return order


def sibling_preserving(tree: OrgTree, permutation: list[int]) -> list[dict[str, Any]]:
    """Rows reordered by ``permutation`` but with every parent's children kept in their order."""
    records = tree.to_records()
    slots: dict[str | None, list[int]] = {}
    for position, row in enumerate(permutation):
        slots.setdefault(records[row]["parent"], []).append(position)
    out: list[dict[str, Any]] = [{} for _ in records]
    members: dict[str | None, list[dict[str, Any]]] = {}
    for record in records:
        members.setdefault(record["parent"], []).append(record)
    for parent, positions in slots.items():
        for position, record in zip(sorted(positions), members[parent], strict=True):
            out[position] = record
    return out


class TestLevels:
    def test_default_order(self) -> None:
        """The default is company > region|product_line > team > individual, the middle skippable."""
        assert DEFAULT_LEVELS.names == ("company", "region", "product_line", "team", "individual")
        assert [DEFAULT_LEVELS.rank(n) for n in DEFAULT_LEVELS.names] == [0, 1, 1, 2, 3]
        assert DEFAULT_LEVELS.skippable == frozenset({"region", "product_line", "team"})
        assert str(DEFAULT_LEVELS) == (
            "company > region|product_line > team > individual "
            "(skippable: region, product_line, team)"
        )

    def test_default_skips_the_middle_ranks_only(self) -> None:
        """#12: by default a company holds teams or people directly, but order still holds."""
        assert DEFAULT_LEVELS.allows("company", "team")
        assert DEFAULT_LEVELS.allows("company", "individual")
        assert DEFAULT_LEVELS.allows("region", "individual")
        assert not DEFAULT_LEVELS.allows("region", "product_line")  # alternatives share a rank
        assert not DEFAULT_LEVELS.allows("team", "region")
        assert not DEFAULT_LEVELS.allows("individual", "individual")
        assert DEFAULT_LEVELS.allows(None, "company")
        assert not DEFAULT_LEVELS.allows(None, "region")  # company is not skippable

    def test_allows_only_the_next_rank_without_skips(self) -> None:
        """Without skippable levels a child sits exactly one rank below its parent."""
        strict = Levels(ranks=DEFAULT_LEVELS.ranks)
        assert strict.allows("company", "region")
        assert strict.allows("company", "product_line")
        assert strict.allows("product_line", "team")
        assert not strict.allows("company", "team")
        assert not strict.allows("region", "product_line")  # alternatives share a rank
        assert not strict.allows("team", "region")
        assert strict.allows(None, "company")
        assert not strict.allows(None, "region")

    def test_a_rank_is_skippable_if_any_alternative_is_declared(self) -> None:
        """Declaring region skippable lets a team sit under the company (no region/product line)."""
        levels = Levels(ranks=DEFAULT_LEVELS.ranks, skippable=frozenset({"region"}))
        assert levels.allows("company", "team")
        assert not levels.allows("company", "individual")  # the team rank is not skippable
        both = Levels(ranks=DEFAULT_LEVELS.ranks, skippable=frozenset({"region", "team"}))
        assert both.allows("company", "individual")

    def test_root_may_skip_skippable_top_ranks(self) -> None:
        """A root below the first rank is allowed only when the ranks above it are skippable."""
        levels = Levels(ranks=("company", "team"), skippable=frozenset({"company"}))
        assert levels.allows(None, "team")
        assert not DEFAULT_LEVELS.allows(None, "team")

    def test_bare_strings_are_single_ranks(self) -> None:
        """A bare string in ranks is a rank with one level; as skippable, one level name."""
        levels = Levels(ranks=["a", ("b", "c"), "d"], skippable="b")
        assert levels.ranks == (("a",), ("b", "c"), ("d",))
        assert levels.skippable == frozenset({"b"})

    @pytest.mark.parametrize(
        ("ranks", "skippable"),
        [
            ((), ()),
            ((("a",), ()), ()),
            ((("a",), ("a",)), ()),
            ((("a",), ("",)), ()),
            ((("a",), ("b",)), ("c",)),
            ("company", ()),
        ],
    )
    def test_invalid_declarations_raise(self, ranks: Any, skippable: Any) -> None:
        """Empty orders, empty ranks, repeated or unknown names raise LevelOrderError."""
        with pytest.raises(LevelOrderError):
            Levels(ranks=ranks, skippable=frozenset(skippable))

    @pytest.mark.parametrize(
        ("ranks", "skippable", "message"),
        [
            ([5], (), "level ranks must be a sequence"),
            (5, (), "level ranks must be a sequence"),
            (["a"], [[1]], "skippable level [1] is not a level name"),
            (["a"], [{}], "skippable level {} is not a level name"),
            (["a"], None, "skippable level None is not a level name"),
        ],
    )
    def test_malformed_parts_raise_not_type_error(
        self, ranks: Any, skippable: Any, message: str
    ) -> None:
        """#21: a rank that is not a sequence, or an unhashable skippable name, is a LevelOrderError."""
        with pytest.raises(LevelOrderError) as caught:
            Levels(ranks=ranks, skippable=skippable)
        assert message in str(caught.value)
        if isinstance(ranks, list) and isinstance(skippable, list):
            with pytest.raises(LevelOrderError):
                Levels.from_dict({"ranks": [[r] for r in ranks], "skippable": skippable})

    def test_unknown_level_suggests_a_name(self) -> None:
        """Asking for an unknown level names it and suggests the close match."""
        with pytest.raises(LevelOrderError, match=r"'tema'.*did you mean 'team'"):
            DEFAULT_LEVELS.rank("tema")

    def test_dict_round_trip(self) -> None:
        """to_dict / from_dict round trip, through JSON."""
        levels = Levels(ranks=DEFAULT_LEVELS.ranks, skippable=frozenset({"team"}))
        assert Levels.from_dict(json.loads(json.dumps(levels.to_dict()))) == levels

    @pytest.mark.parametrize(
        "data", [[], {"ranks": "abc"}, {"ranks": ["a"]}, {"ranks": [["a"]], "skippable": "a"}]
    )
    def test_malformed_dict_raises_serialization_error(self, data: Any) -> None:
        """A malformed level-order dict raises SerializationError."""
        with pytest.raises(SerializationError):
            Levels.from_dict(data)

    def test_pickle_and_hash(self) -> None:
        """Levels pickle to an equal value with the same hash and the same behaviour."""
        levels = Levels(ranks=DEFAULT_LEVELS.ranks, skippable=frozenset({"region"}))
        back = pickle.loads(pickle.dumps(levels))
        assert back == levels
        assert hash(back) == hash(levels)
        assert back.allows("company", "team")


def _reference_allows(skip: list[bool], parent: int, child: int) -> bool:
    """The level rule as written: child below parent and every rank between them skippable."""
    return child > parent and all(skip[parent + 1 : child])


@st.composite
def level_orders(draw: st.DrawFn) -> tuple[Levels, list[bool]]:
    n_ranks = draw(st.integers(1, 8))
    widths = draw(st.lists(st.integers(1, 3), min_size=n_ranks, max_size=n_ranks))
    ranks = [tuple(f"r{r}n{i}" for i in range(w)) for r, w in enumerate(widths)]
    names = [name for rank in ranks for name in rank]
    skippable = draw(st.frozensets(st.sampled_from(names)))
    skip = [any(name in skippable for name in rank) for rank in ranks]
    return Levels(ranks=ranks, skippable=skippable), skip


class TestLevelsAtScale:
    """#21.6: the level order is linear in its size and limited at the door."""

    @given(level_orders())
    def test_allows_matches_the_rule_as_written(self, order: tuple[Levels, list[bool]]) -> None:
        """For random level orders, allows() agrees with the rule for every pair and the root."""
        levels, skip = order
        for child in levels.names:
            c = levels.rank(child)
            assert levels.allows(None, child) == _reference_allows(skip, -1, c)
            for parent in levels.names:
                p = levels.rank(parent)
                assert levels.allows(parent, child) == _reference_allows(skip, p, c)

    @given(level_orders(), st.data())
    def test_tree_door_matches_the_rule_as_written(
        self, order: tuple[Levels, list[bool]], data: st.DataObject
    ) -> None:
        """A one-edge tree is built exactly when the rule as written allows its edge."""
        levels, skip = order
        parent = data.draw(st.sampled_from(levels.names))
        child = data.draw(st.sampled_from(levels.names))
        rows = [{"id": "p", "level": parent}, {"id": "c", "parent": "p", "level": child}]
        p, c = levels.rank(parent), levels.rank(child)
        if _reference_allows(skip, -1, p) and _reference_allows(skip, p, c):
            assert len(OrgTree.from_records(rows, levels=levels)) == 2
        else:
            with pytest.raises(LevelOrderError):
                OrgTree.from_records(rows, levels=levels)

    def test_many_skippable_ranks_are_linear(self) -> None:
        """1,000 all-skippable ranks and a chain through every one of them build at once."""
        names = [f"l{i}" for i in range(1_000)]
        levels = Levels(ranks=names, skippable=frozenset(names))
        assert levels.allows(None, "l999")
        assert levels.allows("l0", "l999")
        assert not levels.allows("l999", "l0")
        chain = [{"id": "n0", "level": "l0"}] + [
            {"id": f"n{i}", "parent": f"n{i - 1}", "level": f"l{i}"} for i in range(1, 1_000)
        ]
        assert OrgTree.from_records(chain, levels=levels).depth("n999") == 999

    def test_too_many_ranks_are_refused(self) -> None:
        """More than MAX_LEVEL_RANKS ranks is a LevelOrderError naming the limit, at once."""
        assert MAX_LEVEL_RANKS == 1_000
        with pytest.raises(
            LevelOrderError, match=r"at most 1,000 ranks \(MAX_LEVEL_RANKS\), got 100,000"
        ):
            Levels(ranks=[f"l{i}" for i in range(100_000)])


class TestNode:
    def test_node_values(self, tree: OrgTree) -> None:
        """node() materialises every given value and leaves missing ones as None / absent."""
        bob = tree.node("bob")
        assert bob == Node(
            id="bob",
            name="bob",
            level="individual",
            parent="east-1",
            fte=0.5,
            start_date=dt.date(2027, 4, 1),
            end_date=dt.date(2027, 9, 30),
        )
        assert tree.node("acme").name == "Acme Ltd"
        assert tree.node("acme").parent is None
        assert tree.node("east").attributes == {"potential": 600.0}
        assert tree.node("ann").start_date is None
        assert tree.node("ann").attributes == {}

    def test_node_is_hashable_and_pickles(self, tree: OrgTree) -> None:
        """Nodes are hashable values that survive pickling."""
        east = tree.node("east")
        assert pickle.loads(pickle.dumps(east)) == east
        assert hash(pickle.loads(pickle.dumps(east))) == hash(east)
        with pytest.raises(TypeError):
            east.attributes["potential"] = 1.0  # type: ignore[index]

    @pytest.mark.parametrize(
        "changes",
        [
            {"fte": -0.5},
            {"fte": math.nan},
            {"start_date": dt.datetime(2027, 1, 1)},
            {"start_date": dt.date(2027, 2, 1), "end_date": dt.date(2027, 1, 31)},
            {"attributes": {"potential": -1.0}},
            {"attributes": {"potential": "high"}},
        ],
    )
    def test_invalid_values_raise(self, changes: dict[str, Any]) -> None:
        """A Node refuses negative or NaN fte, datetimes, backwards dates and bad attributes."""
        with pytest.raises(InvalidAttributeError, match="'x'"):
            Node(id="x", name="x", level="team", parent="p", **changes)

    def test_to_record_round_trips(self, tree: OrgTree) -> None:
        """A node's record rebuilds the same node."""
        records = [tree.node(i).to_record() for i in tree]
        assert OrgTree.from_records(records) == tree


class TestCompiledTree:
    def test_hand_checked_layout(self, tree: OrgTree) -> None:
        """Breadth-first positions, parents, depths and CSR offsets of the hand-drawn tree."""
        c = tree.compiled
        assert c.ids == (
            "acme", "west", "east", "gadgets", "west-1", "east-1", "east-2", "bob", "ann", "cy",
        )  # fmt: skip
        assert c.parent.tolist() == [-1, 0, 0, 0, 1, 2, 2, 5, 5, 6]
        assert c.depth.tolist() == [0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
        assert c.child_offsets.tolist() == [1, 4, 5, 7, 7, 7, 9, 10, 10, 10, 10]
        assert c.depth_offsets.tolist() == [0, 1, 4, 7, 10]
        assert c.input_order.tolist() == [0, 1, 2, 7, 6, 4, 8, 3, 5, 9]
        assert c.is_leaf.tolist() == [
            False,
            False,
            False,
            True,
            True,
            False,
            False,
            True,
            True,
            True,
        ]
        assert [tree.levels.names[k] for k in c.level_code.tolist()] == [
            "company", "region", "region", "product_line", "team", "team", "team",
            "individual", "individual", "individual",
        ]  # fmt: skip
        assert c.position["bob"] == 7
        assert c.index("cy") == 9
        assert len(c) == 10

    def test_values_follow_positions(self, tree: OrgTree) -> None:
        """fte, dates and attributes are given per position; NaN / NaT where not given."""
        c = tree.compiled
        assert np.isnan(c.fte[0])
        assert c.fte[7] == 0.5  # bob
        assert c.fte[8] == 1.0  # ann
        assert c.start[7] == np.datetime64("2027-04-01")
        assert c.end[7] == np.datetime64("2027-09-30")
        assert np.isnat(c.start[8])
        assert c.attribute("potential")[[1, 2]].tolist() == [400.0, 600.0]
        assert np.isnan(c.attribute("potential")[0])

    def test_cached_and_read_only(self, tree: OrgTree) -> None:
        """The compiled form is built once and its arrays cannot be written."""
        assert tree.compiled is tree.compiled
        with pytest.raises(ValueError, match="read-only"):
            tree.compiled.parent[1] = 5
        with pytest.raises(ValueError, match="read-only"):
            tree.compiled.fte[0] = 1.0

    @given(org_trees(max_nodes=30, attributes=("potential", "quota")))
    def test_rows_in_breadth_first_order_compile_to_the_tree_columns(self, tree: OrgTree) -> None:
        """A tree whose rows are already breadth first compiles to the same layout and values.

        Its compiled form then holds the tree's own read-only columns rather than copies.
        """
        c = tree.compiled
        names = tree.levels.names
        again = OrgTree.from_arrays(
            list(c.ids),
            c.parent,
            [names[k] for k in c.level_code.tolist()],
            names=[tree.node(i).name for i in c.ids],
            fte=c.fte,
            start=c.start,
            end=c.end,
            attributes=dict(c.attributes),
            levels_spec=tree.levels,
        )
        assert again == tree
        d = again.compiled
        assert d.ids == c.ids
        assert d.input_order.tolist() == list(range(len(tree)))
        for field in ("parent", "depth", "child_offsets", "depth_offsets", "level_code", "is_leaf"):
            assert np.array_equal(getattr(d, field), getattr(c, field)), field
        for field in ("fte", "start", "end"):
            assert np.array_equal(getattr(d, field), getattr(c, field), equal_nan=True), field
        assert d.attributes.keys() == c.attributes.keys()
        for key, values in c.attributes.items():
            assert np.array_equal(d.attributes[key], values, equal_nan=True), key
        assert [d.position[i] for i in c.ids] == list(range(len(tree)))
        # shared with the tree's columns (no per-position copies), and still read-only
        assert d.ids is again.ids
        assert np.shares_memory(d.parent, again._parent)
        assert np.shares_memory(d.fte, again._fte)
        for array in (d.parent, d.level_code, d.fte, d.start, d.end, d.input_order):
            assert not array.flags.writeable

    def test_unknown_attribute_and_node(self, tree: OrgTree) -> None:
        """Asking for an attribute no node has, or an unknown id, raises a library error."""
        with pytest.raises(InvalidAttributeError, match=r"'potentail'.*'potential'"):
            tree.compiled.attribute("potentail")
        with pytest.raises(UnknownNodeError, match="'bobb'"):
            tree.compiled.index("bobb")

    def test_pickles(self, tree: OrgTree) -> None:
        """A compiled tree pickles with its arrays and position map."""
        back = pickle.loads(pickle.dumps(tree.compiled))
        assert isinstance(back, CompiledTree)
        assert back.ids == tree.compiled.ids
        assert back.position["cy"] == 9
        assert np.array_equal(back.child_offsets, tree.compiled.child_offsets)

    @given(org_trees(max_nodes=40))
    def test_invariants(self, tree: OrgTree) -> None:
        """CSR children contiguous, offsets tile 1..n-1, depth = parent depth + 1, BFS order."""
        c = tree.compiled
        n = len(tree)
        parent, offsets, depth = c.parent, c.child_offsets, c.depth
        assert list(c.ids) == reference_bfs(tree)
        assert parent[0] == -1
        assert offsets[0] == 1
        assert offsets[n] == n
        counts = np.diff(offsets)
        assert np.all(counts >= 0)
        # the ranges offsets[p]:offsets[p+1] tile 1..n-1 and hold exactly the children of p
        assert np.array_equal(np.repeat(np.arange(n), counts), parent[1:])
        assert np.array_equal(c.is_leaf, counts == 0)
        same_parent = np.diff(parent[1:]) == 0
        assert np.all(np.diff(c.input_order[1:])[same_parent] > 0)  # children in input order
        assert np.all(depth[1:] == depth[parent[1:]] + 1)
        assert np.all(np.diff(depth) >= 0)
        assert np.array_equal(np.sort(c.input_order), np.arange(n))
        sizes = np.diff(c.depth_offsets)
        assert np.array_equal(np.repeat(np.arange(len(sizes)), sizes), depth)
        records = tree.to_records()
        assert [tree.ids[r] for r in c.input_order] == list(c.ids)
        assert [c.position[i] for i in c.ids] == list(range(n))
        assert [records[r]["level"] for r in c.input_order] == [
            tree.levels.names[k] for k in c.level_code
        ]
        expected_fte = [records[r].get("fte", math.nan) for r in c.input_order]
        assert np.array_equal(c.fte, expected_fte, equal_nan=True)


class TestOrgTree:
    # ------------------------------------------------------------------------------ queries

    def test_queries_on_a_hand_built_tree(self, tree: OrgTree) -> None:
        """root, parent, children (input order), ancestors, descendants, leaves, levels, paths."""
        assert tree.root == "acme"
        assert len(tree) == 10
        assert "bob" in tree
        assert "zed" not in tree
        assert 3 not in tree
        assert list(tree) == [r["id"] for r in ROWS]
        assert tree.parent("bob") == "east-1"
        assert tree.parent("acme") is None
        assert tree.children("acme") == ("west", "east", "gadgets")
        assert tree.children("east-1") == ("bob", "ann")
        assert tree.children("cy") == ()
        assert tree.ancestors("bob") == ("east-1", "east", "acme")
        assert tree.ancestors("acme") == ()
        assert tree.descendants("east") == ("east-1", "east-2", "bob", "ann", "cy")
        assert tree.descendants("acme") == (
            "west", "east", "gadgets", "west-1", "east-1", "east-2", "bob", "ann", "cy",
        )  # fmt: skip
        assert tree.descendants("gadgets") == ()
        assert tree.leaves() == ("bob", "ann", "west-1", "gadgets", "cy")
        assert tree.nodes_at("individual") == ("bob", "ann", "cy")
        assert tree.nodes_at("region") == ("west", "east")
        assert tree.nodes_at("product_line") == ("gadgets",)
        assert tree.path("bob") == "acme/east/east-1/bob"
        assert tree.path("acme") == "acme"
        assert tree.depth("bob") == 3
        assert tree.depth("acme") == 0
        assert tree.attribute_names == ("potential",)

    @pytest.mark.parametrize(
        "query", ["node", "parent", "children", "ancestors", "descendants", "path", "depth"]
    )
    def test_unknown_id_raises_with_suggestion(self, tree: OrgTree, query: str) -> None:
        """Every query names an unknown id and suggests close ones."""
        with pytest.raises(UnknownNodeError, match=r"'east-3'.*did you mean") as info:
            getattr(tree, query)("east-3")
        assert info.value.node == "east-3"
        assert isinstance(info.value, KeyError)

    def test_nodes_at_unknown_level(self, tree: OrgTree) -> None:
        """nodes_at refuses a level that is not declared."""
        with pytest.raises(LevelOrderError, match="'regions'"):
            tree.nodes_at("regions")

    def test_constructor_is_from_records(self) -> None:
        """OrgTree(records) builds the same tree as from_records, also from a generator."""
        assert OrgTree(ROWS) == OrgTree.from_records(r for r in ROWS)

    def test_int_ids_become_strings(self) -> None:
        """Integer ids and parents are converted with str()."""
        tree = OrgTree.from_records(
            [{"id": 1, "level": "company"}, {"id": 2, "parent": 1, "level": "region"}]
        )
        assert tree.children("1") == ("2",)

    def test_any_mapping_and_number_type(self) -> None:
        """Records may be any Mapping; numbers may be ints, numpy numbers or Decimals."""
        rows = [
            MappingProxyType({"id": "a", "level": "company", "fte": Decimal("1.5")}),
            MappingProxyType({"id": "b", "parent": "a", "level": "region", "fte": np.float32(2)}),
        ]
        tree = OrgTree.from_records(rows)
        assert tree.node("a").fte == 1.5
        assert tree.node("b").fte == 2.0

    def test_huge_int_is_not_finite(self) -> None:
        """An integer beyond the float range is refused as not finite."""
        with pytest.raises(InvalidAttributeError, match=r"'x' \(row 10\).*not finite"):
            OrgTree.from_records(with_row(team(potential=10**400)))

    def test_empty_parent_string_marks_the_root(self) -> None:
        """parent "" means no parent, like None or a missing key."""
        assert OrgTree.from_records([{"id": "a", "parent": "", "level": "company"}]).root == "a"

    def test_skippable_levels(self) -> None:
        """A declared skippable rank may be skipped; the same tree fails where it is not declared."""
        rows = [
            {"id": "acme", "level": "company"},
            {"id": "t", "parent": "acme", "level": "team"},
            {"id": "p", "parent": "t", "level": "individual"},
        ]
        levels = Levels(ranks=DEFAULT_LEVELS.ranks, skippable=frozenset({"product_line"}))
        assert OrgTree.from_records(rows, levels=levels).path("p") == "acme/t/p"
        with pytest.raises(LevelOrderError, match=r"'t' \(row 1\)"):
            OrgTree.from_records(rows, levels=Levels(ranks=DEFAULT_LEVELS.ranks))

    def test_small_company_with_default_levels(self) -> None:
        """#12: company > individual and company > team > individual build with the defaults."""
        people = [
            {"id": "acme", "level": "company"},
            {"id": "ann", "parent": "acme", "level": "individual"},
            {"id": "bob", "parent": "acme", "level": "individual"},
        ]
        assert OrgTree.from_records(people).children("acme") == ("ann", "bob")
        teams = [
            {"id": "acme", "level": "company"},
            {"id": "t", "parent": "acme", "level": "team"},
            {"id": "ann", "parent": "t", "level": "individual"},
        ]
        assert OrgTree.from_records(teams).path("ann") == "acme/t/ann"

    # ------------------------------------------------------------------------------ validation

    @pytest.mark.parametrize(
        ("row", "error", "node"),
        [
            (team(id="east", parent="acme", level="region"), DuplicateNodeError, "east"),
            (team(parent="eats"), UnknownParentError, "x"),
            (team(parent=None, level="company"), MultipleRootsError, "x"),
            (team(parent="x"), CycleError, "x"),
            (team(parent="east-1"), LevelOrderError, "x"),
            (team(level="tema"), LevelOrderError, "x"),
            (team(level=None), LevelOrderError, "x"),
            (team(parent="cy", level="individual"), LevelOrderError, "x"),
            (team(fte=-1), InvalidAttributeError, "x"),
            (team(fte=math.nan), InvalidAttributeError, "x"),
            (team(fte=math.inf), InvalidAttributeError, "x"),
            (team(fte="1.5"), InvalidAttributeError, "x"),
            (team(fte=True), InvalidAttributeError, "x"),
            (team(potential=-3), InvalidAttributeError, "x"),
            (team(potential=math.nan), InvalidAttributeError, "x"),
            (team(potential="big"), InvalidAttributeError, "x"),
            (team(start_date="2027-05-01", end_date="2027-04-30"), InvalidAttributeError, "x"),
            (team(start_date="2027-02-30"), InvalidAttributeError, "x"),
            (team(start_date="2027-02"), InvalidAttributeError, "x"),
            (team(start_date="1/2/2027"), InvalidAttributeError, "x"),
            (team(end_date=20270101), InvalidAttributeError, "x"),
            (team(start_date=dt.datetime(2027, 1, 1)), InvalidAttributeError, "x"),
            (team(name=7), InvalidAttributeError, "x"),
            (team(id=None), InvalidTreeError, None),
            (team(id=""), InvalidTreeError, None),
            (team(id=1.5), InvalidTreeError, None),
            (team(parent=["east"]), UnknownParentError, "x"),
            (INT_KEY_ROW, InvalidAttributeError, None),
        ],
    )
    def test_each_bad_row_raises_its_error_naming_row_and_id(
        self, row: dict[str, Any], error: type[Exception], node: str | None
    ) -> None:
        """A bad row raises its own error type; the message names row 10 and the node id."""
        with pytest.raises(error) as info:
            OrgTree.from_records(with_row(row))
        assert type(info.value) is error
        assert info.value.row == 10  # type: ignore[attr-defined]
        assert "row 10" in str(info.value)
        assert info.value.node == node  # type: ignore[attr-defined]
        if node is not None:
            assert f"'{node}'" in str(info.value)
        assert info.value.hint  # type: ignore[attr-defined]

    @pytest.mark.parametrize("records", [None, 5, "acme", {"id": "acme", "level": "company"}])
    def test_records_not_an_iterable_of_rows(self, records: Any) -> None:
        """#21: records that are not an iterable of mappings are an InvalidTreeError, not a TypeError."""
        with pytest.raises(InvalidTreeError, match="records must be an iterable of mappings"):
            OrgTree.from_records(records)

    def test_duplicate_names_both_rows(self) -> None:
        """A duplicate id names the first and the second row."""
        with pytest.raises(DuplicateNodeError, match=r"'east' appears twice \(row 2 and row 10\)"):
            OrgTree.from_records(with_row({"id": "east", "parent": "acme", "level": "region"}))

    def test_second_root_names_both_roots(self) -> None:
        """A second root names itself and the first root."""
        with pytest.raises(MultipleRootsError, match=r"'x' \(row 10\).*'acme' \(row 0\)"):
            OrgTree.from_records(with_row({"id": "x", "level": "company"}))

    def test_no_root(self) -> None:
        """A tree where every row has a parent has no root."""
        rows = [
            {"id": "a", "parent": "b", "level": "company"},
            {"id": "b", "parent": "a", "level": "company"},
        ]
        with pytest.raises(MultipleRootsError, match="no root"):
            OrgTree.from_records(rows)

    def test_empty_input(self) -> None:
        """An empty input has no root."""
        with pytest.raises(MultipleRootsError, match="no nodes"):
            OrgTree.from_records([])

    def test_cycle_names_its_members(self) -> None:
        """A cycle off the root names its members in parent order."""
        rows = with_row({"id": "x", "parent": "y", "level": "team"})
        rows.append({"id": "y", "parent": "z", "level": "team"})
        rows.append({"id": "z", "parent": "x", "level": "team"})
        rows.append({"id": "w", "parent": "z", "level": "individual"})  # hangs off the cycle
        with pytest.raises(CycleError, match=r"'x' \(row 10\).*'x' -> 'y' -> 'z' -> 'x'"):
            OrgTree.from_records(rows)

    def test_not_a_mapping(self) -> None:
        """A row that is not a mapping names its row."""
        with pytest.raises(InvalidTreeError, match="row 1 is a tuple"):
            OrgTree.from_records([{"id": "a", "level": "company"}, ("b", "a")])  # type: ignore[list-item]

    def test_errors_are_library_and_builtin_errors(self) -> None:
        """Tree errors are TargetCascadeError and ValueError, so either can be caught."""
        with pytest.raises(ValueError, match="appears twice") as info:
            OrgTree.from_records(with_row({"id": "acme", "parent": "acme", "level": "company"}))
        assert isinstance(info.value, TargetCascadeError)

    # ------------------------------------------------------------------------------ from_arrays

    def test_from_arrays_with_row_indices_and_codes(self) -> None:
        """Integer parents are row indices (-1 root) and integer levels index levels.names."""
        tree = OrgTree.from_arrays(
            np.array(["east", "acme", "ann", "e1"]),
            np.array([1, -1, 3, 0]),
            np.array([1, 0, 4, 3]),
            fte=np.array([np.nan, np.nan, 0.5, np.nan]),
            start=np.array(["NaT", "NaT", "2027-01-01", "NaT"], dtype="datetime64[D]"),
            attributes={"potential": [5.0, np.nan, np.nan, np.nan]},
        )
        assert tree.root == "acme"
        assert tree.path("ann") == "acme/east/e1/ann"
        assert tree.node("ann").fte == 0.5
        assert tree.node("e1").fte is None
        assert tree.node("ann").start_date == dt.date(2027, 1, 1)
        assert tree.node("east").attributes == {"potential": 5.0}

    def test_from_arrays_with_ids_and_names(self) -> None:
        """Parents may be ids (None for the root) and levels names, as in records."""
        a = OrgTree.from_arrays(["acme", "east"], [None, "acme"], ["company", "region"])
        b = OrgTree.from_records([ROWS[0], {"id": "east", "parent": "acme", "level": "region"}])
        assert a.children("acme") == b.children("acme") == ("east",)

    def test_from_arrays_accepts_whole_day_timestamps(self) -> None:
        """datetime64 in a finer unit is accepted when it holds whole days only."""
        stamps = np.array(["NaT", "2027-03-01T00:00"], dtype="datetime64[ns]")
        tree = OrgTree.from_arrays(["a", "b"], [-1, 0], [0, 1], end=stamps)
        assert tree.node("b").end_date == dt.date(2027, 3, 1)

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"parents": [-1, 5]}, UnknownParentError, r"'b' \(row 1\).*index 5"),
            ({"parents": [-1, -1]}, MultipleRootsError, r"'b' \(row 1\)"),
            ({"parents": [1, 0]}, MultipleRootsError, "no root"),
            ({"levels": [0, 9]}, LevelOrderError, r"'b' \(row 1\).*code 9"),
            ({"levels": [0, 0]}, LevelOrderError, r"'b' \(row 1\)"),
            ({"fte": [0.0, -1.0]}, InvalidAttributeError, r"'b' \(row 1\).*negative"),
            ({"fte": [np.inf, 1.0]}, InvalidAttributeError, r"'a' \(row 0\).*not finite"),
            ({"fte": np.array(["1", "2"])}, InvalidAttributeError, "not a number"),
            ({"fte": [1.0]}, InvalidTreeError, "1 values for 2 nodes"),
            ({"start": np.array(["NaT", "2027-01-01T10"], dtype="datetime64[h]")},
             InvalidAttributeError, "time of day"),
            ({"attributes": {"fte": [1.0, 1.0]}}, InvalidAttributeError, "reserved"),
            ({"attributes": {"potential": [1.0, -2.0]}},
             InvalidAttributeError, r"'b' \(row 1\).*potential"),
            ({"ids": ["a", "a"]}, DuplicateNodeError, "row 0 and row 1"),
        ],
    )  # fmt: skip
    def test_from_arrays_validates(
        self, kwargs: dict[str, Any], error: type[Exception], match: str
    ) -> None:
        """from_arrays runs the same checks as from_records, naming row and id."""
        args: dict[str, Any] = {"ids": ["a", "b"], "parents": [-1, 0], "levels": [0, 1]}
        args.update(kwargs)
        ids, parents, levels = args.pop("ids"), args.pop("parents"), args.pop("levels")
        with pytest.raises(error, match=match):
            OrgTree.from_arrays(ids, parents, levels, **args)

    def test_from_arrays_copies_its_inputs(self) -> None:
        """Changing the caller's arrays afterwards does not change the tree."""
        fte = np.array([1.0, 2.0])
        tree = OrgTree.from_arrays(["a", "b"], np.array([-1, 0]), np.array([0, 1]), fte=fte)
        fte[1] = 99.0
        assert tree.node("b").fte == 2.0

    def test_from_arrays_matches_from_records(self) -> None:
        """A larger company -> region -> team -> individual shape built both ways is equal."""
        ids = ["co"] + [f"r{i}" for i in range(3)] + [f"t{i}" for i in range(6)]
        ids += [f"p{i}" for i in range(30)]
        parents = [-1, 0, 0, 0] + [1 + i // 2 for i in range(6)] + [4 + i // 5 for i in range(30)]
        levels = [0, 1, 1, 1] + [3] * 6 + [4] * 30
        a = OrgTree.from_arrays(ids, np.array(parents), np.array(levels))
        records = [
            {"id": i, "parent": ids[p] if p >= 0 else None, "level": DEFAULT_LEVELS.names[lv]}
            for i, p, lv in zip(ids, parents, levels, strict=True)
        ]
        assert a == OrgTree.from_records(records)
        assert a.children("t5") == ("p25", "p26", "p27", "p28", "p29")

    # ------------------------------------------------------------------------------ networkx

    def test_networkx_export(self, tree: OrgTree) -> None:
        """to_networkx has the edges parent -> child and the given values as node attributes."""
        g = tree.to_networkx()
        assert isinstance(g, nx.DiGraph)
        assert set(g.edges) == {
            ("acme", "west"), ("acme", "east"), ("acme", "gadgets"), ("west", "west-1"),
            ("east", "east-1"), ("east", "east-2"), ("east-1", "bob"), ("east-1", "ann"),
            ("east-2", "cy"),
        }  # fmt: skip
        assert g.nodes["bob"]["fte"] == 0.5
        assert g.nodes["bob"]["start_date"] == dt.date(2027, 4, 1)
        assert g.nodes["east"]["potential"] == 600.0
        assert "fte" not in g.nodes["acme"]
        assert nx.is_arborescence(g)

    def test_from_networkx_errors(self) -> None:
        """Two parents, an 'id' or 'parent' node attribute, or an undirected graph are refused."""
        g = nx.DiGraph([("a", "c"), ("b", "c")])
        nx.set_node_attributes(g, "team", "level")
        with pytest.raises(InvalidTreeError, match=r"'c' \(row 1\) has 2 parents"):
            OrgTree.from_networkx(g)
        h = nx.DiGraph()
        h.add_node("a", level="company", parent="x")
        with pytest.raises(InvalidTreeError, match="'parent'"):
            OrgTree.from_networkx(h)
        with pytest.raises(InvalidTreeError, match="DiGraph"):
            OrgTree.from_networkx(nx.Graph([("a", "b")]))

    def test_from_networkx_cycle(self) -> None:
        """A cycle in the graph is a CycleError."""
        g = nx.DiGraph([("acme", "e"), ("x", "y"), ("y", "x")])
        nx.set_node_attributes(
            g, {"acme": "company", "e": "region", "x": "team", "y": "team"}, "level"
        )
        with pytest.raises(CycleError, match="'x' -> 'y' -> 'x'"):
            OrgTree.from_networkx(g)

    # ------------------------------------------------------------------------------ round trips

    def test_records_keep_only_given_values(self, tree: OrgTree) -> None:
        """to_records holds exactly the values that were given, in input order."""
        records = tree.to_records()
        assert records[0] == {"id": "acme", "parent": None, "level": "company", "name": "Acme Ltd"}
        assert records[3] == {
            "id": "bob",
            "parent": "east-1",
            "level": "individual",
            "name": "bob",
            "fte": 0.5,
            "start_date": dt.date(2027, 4, 1),
            "end_date": dt.date(2027, 9, 30),
        }
        assert records[5] == {
            "id": "ann", "parent": "east-1", "level": "individual", "name": "ann", "fte": 1.0,
        }  # fmt: skip

    def test_dict_is_json_safe_and_versioned(self, tree: OrgTree) -> None:
        """to_dict is JSON-safe, has schema_version 1 and reads back equal."""
        data = json.loads(json.dumps(tree.to_dict()))
        assert data["schema_version"] == 1
        assert data["nodes"][3]["start_date"] == "2027-04-01"
        assert OrgTree.from_dict(data) == tree

    @pytest.mark.parametrize(
        "data",
        [
            [],
            {"schema_version": 2, "levels": DEFAULT_LEVELS.to_dict(), "nodes": []},
            {"levels": DEFAULT_LEVELS.to_dict(), "nodes": []},
            {"schema_version": 1, "levels": DEFAULT_LEVELS.to_dict(), "nodes": {}},
            {"schema_version": 1, "nodes": []},
        ],
    )
    def test_from_dict_rejects_malformed(self, data: Any) -> None:
        """Unknown schema versions and malformed layouts raise SerializationError."""
        with pytest.raises(SerializationError):
            OrgTree.from_dict(data)

    @given(org_trees(max_nodes=20))
    def test_round_trips(self, tree: OrgTree) -> None:
        """Records, JSON dicts, networkx graphs and pickles all read back into an equal tree."""
        assert OrgTree.from_records(tree.to_records(), levels=tree.levels).to_records() == (
            tree.to_records()
        )
        assert OrgTree.from_dict(json.loads(json.dumps(tree.to_dict()))) == tree
        assert OrgTree.from_networkx(tree.to_networkx()) == tree
        back = pickle.loads(pickle.dumps(tree))
        assert back == tree
        assert back.to_records() == tree.to_records()
        assert hash(back) == hash(tree)

    @given(
        org_trees(
            levels=Levels(ranks=DEFAULT_LEVELS.ranks, skippable=frozenset({"region", "team"})),
            attributes=("potential", "history"),
            max_nodes=20,
        )
    )
    def test_round_trips_with_skips(self, tree: OrgTree) -> None:
        """Trees that skip declared levels round-trip with their level order."""
        assert OrgTree.from_dict(json.loads(json.dumps(tree.to_dict()))) == tree
        assert OrgTree.from_networkx(tree.to_networkx()).levels == tree.levels

    # ------------------------------------------------------------------------------ equality

    def test_equality_is_by_content(self, tree: OrgTree) -> None:
        """Equal content is equal (and hashes equal); a changed value or sibling order is not."""
        assert tree == OrgTree.from_records([dict(r) for r in ROWS])
        assert hash(tree) == hash(OrgTree.from_records(ROWS))
        changed = [dict(r) for r in ROWS]
        changed[5]["fte"] = 0.75
        assert tree != OrgTree.from_records(changed)
        swapped = [dict(r) for r in ROWS]
        swapped[3], swapped[5] = swapped[5], swapped[3]  # ann before bob: sibling order changes
        assert tree != OrgTree.from_records(swapped)
        renamed = [dict(r) for r in ROWS]
        renamed[9]["name"] = "Cyrus"
        assert tree != OrgTree.from_records(renamed)
        assert tree != "acme"

    def test_all_missing_attribute_is_no_attribute(self) -> None:
        """An attribute given as None everywhere is the same as not mentioning it."""
        a = OrgTree.from_records([{"id": "a", "level": "company", "potential": None}])
        assert a == OrgTree.from_records([{"id": "a", "level": "company"}])
        assert a.attribute_names == ()

    @given(org_trees(max_nodes=20), st.randoms(use_true_random=True))
    def test_shuffled_rows_give_the_same_content(self, tree: OrgTree, rnd: Any) -> None:
        """Shuffling rows keeps every node; keeping sibling order too gives an equal tree."""
        records = tree.to_records()
        permutation = list(range(len(records)))
        rnd.shuffle(permutation)
        shuffled = OrgTree.from_records([records[i] for i in permutation], levels=tree.levels)
        assert {i: shuffled.node(i) for i in shuffled} == {i: tree.node(i) for i in tree}
        assert all(set(shuffled.children(i)) == set(tree.children(i)) for i in tree)
        regrouped = OrgTree.from_records(sibling_preserving(tree, permutation), levels=tree.levels)
        assert regrouped == tree
        assert hash(regrouped) == hash(tree)

    def test_immutable(self, tree: OrgTree) -> None:
        """A tree cannot be changed in place."""
        with pytest.raises(AttributeError, match="immutable"):
            tree._root = 3
        with pytest.raises(AttributeError, match="immutable"):
            del tree._ids
        with pytest.raises(AttributeError):
            tree.root = "x"  # type: ignore[misc]

    def test_repr(self, tree: OrgTree) -> None:
        """repr is one short line."""
        assert repr(tree) == (
            "OrgTree(root='acme', nodes=10, levels='company > region|product_line > team > "
            "individual (skippable: region, product_line, team)')"
        )

    # ------------------------------------------------------------------------------ re-orgs

    def test_add_node(self, tree: OrgTree) -> None:
        """add_node returns a new tree with the node as its parent's last child."""
        before = tree.to_records()
        bigger = tree.add_node(id="dee", parent="east-2", level="individual", fte=1.0, potential=3)
        assert bigger.children("east-2") == ("cy", "dee")
        assert bigger.node("dee").attributes == {"potential": 3.0}
        assert len(bigger) == 11
        assert tree.to_records() == before
        assert "dee" not in tree

    def test_add_nodes_validates_and_counts_added_rows(self, tree: OrgTree) -> None:
        """Errors in added records name the row among the added records."""
        with pytest.raises(DuplicateNodeError, match=r"in the existing tree and row 1") as info:
            tree.add_nodes(
                [
                    {"id": "new", "parent": "east", "level": "team"},
                    {"id": "cy", "parent": "new", "level": "individual"},
                ]
            )
        assert info.value.row == 1
        with pytest.raises(UnknownParentError, match=r"'z' \(row 0\) names parent 'nope'"):
            tree.add_node(id="z", parent="nope", level="team")
        with pytest.raises(MultipleRootsError, match=r"'z' \(row 0\).*'acme' \(in the existing"):
            tree.add_node(id="z", level="company")
        with pytest.raises(LevelOrderError, match=r"'z' \(row 0\)"):
            tree.add_node(id="z", parent="cy", level="individual")
        with pytest.raises(InvalidAttributeError, match=r"'z' \(row 0\).*fte"):
            tree.add_node(id="z", parent="east", level="team", fte=-2)

    def test_add_nodes_in_any_order_with_new_attributes(self, tree: OrgTree) -> None:
        """Added records may refer to each other in any order and bring new attributes."""
        bigger = tree.add_nodes(
            [
                {"id": "n2", "parent": "n1", "level": "individual", "history": 5.0},
                {"id": "n1", "parent": "west", "level": "team"},
            ]
        )
        assert bigger.path("n2") == "acme/west/n1/n2"
        assert bigger.attribute_names == ("potential", "history")
        assert bigger.node("n2").attributes == {"history": 5.0}
        assert bigger.node("east").attributes == {"potential": 600.0}

    def test_remove_subtree(self, tree: OrgTree) -> None:
        """remove_subtree drops the node and its descendants and keeps the rest in order."""
        smaller = tree.remove_subtree("east")
        assert smaller.ids == ("acme", "west", "west-1", "gadgets")
        assert smaller.children("acme") == ("west", "gadgets")
        assert "bob" in tree
        assert len(tree) == 10
        assert smaller.node("west").attributes == {"potential": 400.0}
        assert tree.remove_subtree("cy").children("east-2") == ()

    def test_remove_root_or_unknown(self, tree: OrgTree) -> None:
        """The root cannot be removed; an unknown id raises UnknownNodeError."""
        with pytest.raises(MultipleRootsError, match="'acme'"):
            tree.remove_subtree("acme")
        with pytest.raises(UnknownNodeError):
            tree.remove_subtree("nobody")

    def test_move_subtree(self, tree: OrgTree) -> None:
        """move_subtree re-parents the node as the last child and carries its subtree along."""
        moved = tree.move_subtree("east-1", "west")
        assert moved.children("west") == ("west-1", "east-1")
        assert moved.children("east") == ("east-2",)
        assert moved.path("bob") == "acme/west/east-1/bob"
        assert moved.children("east-1") == ("bob", "ann")
        assert tree.path("bob") == "acme/east/east-1/bob"
        assert tree.move_subtree("east-1", "gadgets").parent("east-1") == "gadgets"

    def test_move_subtree_refusals(self, tree: OrgTree) -> None:
        """Moving under itself or a descendant is a cycle; a wrong level breaks the order."""
        with pytest.raises(CycleError, match="'east'"):
            tree.move_subtree("east", "bob")
        with pytest.raises(CycleError):
            tree.move_subtree("east", "east")
        with pytest.raises(CycleError):
            tree.move_subtree("acme", "east")
        with pytest.raises(LevelOrderError, match=r"'east-1'.*'west-1'"):
            tree.move_subtree("east-1", "west-1")
        with pytest.raises(UnknownNodeError):
            tree.move_subtree("east-1", "north")

    @given(org_trees(min_nodes=2, max_nodes=20), st.data())
    def test_reorgs_keep_validity_and_do_not_mutate(
        self, tree: OrgTree, data: st.DataObject
    ) -> None:
        """Random re-orgs give valid trees with the expected shape and leave the original alone."""
        before = tree.to_records()
        levels = tree.levels
        level_of = {r["id"]: r["level"] for r in before}
        parent_of = {r["id"]: r["parent"] for r in before}
        node = data.draw(st.sampled_from([i for i in tree if i != tree.root]))
        subtree = {node, *tree.descendants(node)}

        smaller = tree.remove_subtree(node)
        assert set(smaller) == set(tree) - subtree
        assert all(smaller.parent(i) == parent_of[i] for i in smaller)
        assert list(smaller.compiled.ids) == reference_bfs(smaller)

        targets = [
            i for i in tree if i not in subtree and levels.allows(level_of[i], level_of[node])
        ]
        if targets:
            target = data.draw(st.sampled_from(targets))
            moved = tree.move_subtree(node, target)
            assert moved.children(target)[-1] == node
            assert {r["id"]: r["parent"] for r in moved.to_records()} == {
                **parent_of,
                node: target,
            }
            assert set(moved.descendants(node)) == subtree - {node}
            assert moved.node(node) == attrs.evolve(tree.node(node), parent=target)

        parent, child_level = data.draw(
            st.sampled_from(
                [(i, lv) for i in tree for lv in levels.names if levels.allows(level_of[i], lv)]
            )
        )
        # generated ids are a prefix of at most 3 characters and a number, so this one is new
        bigger = tree.add_node(id="added-node", parent=parent, level=child_level, fte=1.0)
        assert bigger.children(parent)[-1] == "added-node"
        assert bigger.node("added-node").fte == 1.0
        assert len(bigger) == len(tree) + 1
        assert tree.to_records() == before

    # ------------------------------------------------------------------------------ pandas

    def test_from_frame(self) -> None:
        """A DataFrame reads like records: NA is 'not given', int ids become strings."""
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(
            {
                "id": [10, 20, 30],
                "parent": [None, 10, 20],  # pandas makes this float: nan, 10.0, 20.0
                "level": ["company", "region", "team"],
                "fte": [None, None, 2.0],
                "start_date": pd.to_datetime([None, "2027-01-01", None]),
                "end_date": [None, None, dt.date(2027, 6, 30)],
                "potential": [1.0, None, 3.0],
            }
        )
        tree = OrgTree.from_frame(frame)
        assert tree.path("30") == "10/20/30"
        assert tree.node("30").fte == 2.0
        assert tree.node("20").fte is None
        assert tree.node("20").start_date == dt.date(2027, 1, 1)
        assert tree.node("30").end_date == dt.date(2027, 6, 30)
        assert tree.node("10").attributes == {"potential": 1.0}
        assert tree.node("20").attributes == {}
        assert OrgTree.from_frame(frame.set_index("id")) == tree

    def test_from_frame_errors_name_the_row(self) -> None:
        """Frame rows are checked like records, numbered by position."""
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(
            {
                "id": ["a", "b"],
                "parent": [None, "a"],
                "level": ["company", "region"],
                "fte": [1.0, -1.0],
            }
        )
        with pytest.raises(InvalidAttributeError, match=r"'b' \(row 1\).*negative"):
            OrgTree.from_frame(frame)
        stamps = pd.DataFrame(
            {"id": ["a"], "level": ["company"], "start_date": pd.to_datetime(["2027-01-01 09:30"])}
        )
        with pytest.raises(InvalidAttributeError, match="time of day"):
            OrgTree.from_frame(stamps)
        with pytest.raises(InvalidTreeError, match="'level'"):
            OrgTree.from_frame(pd.DataFrame({"id": ["a"]}))
        with pytest.raises(InvalidTreeError, match="DataFrame"):
            OrgTree.from_frame(ROWS)  # type: ignore[arg-type]

    def test_from_frame_without_pandas(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without pandas, from_frame says which extra to install."""
        monkeypatch.setitem(sys.modules, "pandas", None)
        with pytest.raises(MissingExtraError, match=r"pip install 'targetcascade\[pandas\]'"):
            OrgTree.from_frame(object())  # type: ignore[arg-type]


class TestOrgTrees:
    @given(org_trees(min_nodes=3, max_nodes=8, attributes=("a", "b")))
    def test_sizes_and_attributes(self, tree: OrgTree) -> None:
        """Generated trees respect the size bounds and only carry the named attributes."""
        assert 3 <= len(tree) <= 8
        assert set(tree.attribute_names) <= {"a", "b"}

    def test_bad_arguments(self) -> None:
        """Impossible or malformed arguments are refused when the strategy is made."""
        from hypothesis.errors import InvalidArgument

        with pytest.raises(InvalidArgument):
            org_trees(min_nodes=0)
        with pytest.raises(InvalidArgument):
            org_trees(min_nodes=5, max_nodes=4)
        with pytest.raises(InvalidArgument):
            org_trees(attributes=("fte",))
        with pytest.raises(InvalidArgument):
            org_trees(min_nodes=2, levels=Levels(ranks=("solo",)))

    @given(org_trees(max_nodes=1, levels=Levels(ranks=("solo",))))
    def test_single_level_order(self, tree: OrgTree) -> None:
        """A one-level order gives one-node trees."""
        assert len(tree) == 1
        assert RESERVED_KEYS.isdisjoint(tree.attribute_names)
