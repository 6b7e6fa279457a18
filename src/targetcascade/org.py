"""The organisation tree: who carries a number, under whom, and with which attributes.

An :class:`OrgTree` is an immutable tree of nodes (company, regions or product lines, teams,
individuals). It is validated once, when it is built, and every defect is its own error naming the
input row and the node id (:mod:`targetcascade.errors`). Re-organisations
(:meth:`OrgTree.add_nodes`, :meth:`OrgTree.remove_subtree`, :meth:`OrgTree.move_subtree`) return new
trees, validated the same way.

Storage is columnar (ids, a parent-index array, level codes, an fte array, start/end dates as
``datetime64[D]``, one float array per free attribute), so a tree of a million people builds in
seconds; :meth:`OrgTree.node` materialises a :class:`Node` value on demand. :attr:`OrgTree.compiled`
is the breadth-first array form the engine works on (children of a parent contiguous), built once
and cached.

Record keys (:meth:`OrgTree.from_records`, :meth:`OrgTree.add_node`) -- these names are reserved:

* ``id`` (required): a non-empty ``str``; an ``int`` is accepted and converted with ``str()``.
* ``parent``: the parent's id; ``None``, ``""`` or a missing key marks the root (exactly one).
* ``level`` (required): one of the tree's declared level names (:class:`Levels`).
* ``name``: display name; defaults to the id.
* ``fte``: full-time equivalents, a finite number >= 0; ``None`` or missing means "not given".
* ``start_date`` / ``end_date``: a :class:`datetime.date` or an ISO ``"YYYY-MM-DD"`` string; a
  :class:`datetime.datetime` is refused (call ``.date()`` first); the end may not precede the start.

Every other key is a free numeric attribute (market potential, quota history, ...): a finite number
>= 0, or ``None`` for "not given". Null is not zero: a missing value stays missing (``NaN`` in the
columnar arrays), it is never read as 0.

Example:
    >>> tree = OrgTree.from_records([
    ...     {"id": "acme", "level": "company"},
    ...     {"id": "east", "parent": "acme", "level": "region", "potential": 600.0},
    ...     {"id": "west", "parent": "acme", "level": "region", "potential": 400.0},
    ...     {"id": "east-1", "parent": "east", "level": "team"},
    ...     {"id": "ann", "parent": "east-1", "level": "individual", "fte": 1.0,
    ...      "start_date": "2027-03-01"},
    ... ])
    >>> tree.children("acme"), tree.path("ann")
    (('east', 'west'), 'acme/east/east-1/ann')
    >>> tree.node("ann").start_date
    datetime.date(2027, 3, 1)
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import numbers
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import attrs
import networkx as nx
import numpy as np
import numpy.typing as npt

from targetcascade.errors import (
    CycleError,
    DuplicateNodeError,
    InvalidAttributeError,
    InvalidTreeError,
    LevelOrderError,
    MissingExtraError,
    MultipleRootsError,
    SerializationError,
    UnknownNodeError,
    UnknownParentError,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_LEVELS",
    "MAX_LEVEL_RANKS",
    "RESERVED_KEYS",
    "CompiledTree",
    "Levels",
    "Node",
    "OrgTree",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DateArray = npt.NDArray[np.datetime64]
BoolArray = npt.NDArray[np.bool_]

#: Record keys with a fixed meaning; every other key of a record is a free numeric attribute.
RESERVED_KEYS: Final = frozenset({"id", "parent", "level", "name", "fte", "start_date", "end_date"})

#: Version of the layout written by :meth:`OrgTree.to_dict`.
SCHEMA_VERSION: Final = 1

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_HINT: Final = "give dates as datetime.date values or ISO 'YYYY-MM-DD' strings"
_NOT_GIVEN: Final = "leave the value out or pass None for 'not given'"
#: Most ranks a :class:`Levels` order may declare. Organisations have a handful of levels; the limit
#: keeps a hostile level order (a plan file declaring 10**5 ranks) from costing time and memory.
MAX_LEVEL_RANKS: Final = 1_000

# difflib over every id is too slow for huge trees; suggestions are a courtesy, skipped beyond this.
_SUGGEST_LIMIT: Final = 100_000
_NONE_TYPE: Final = type(None)


# ----------------------------------------------------------------------------------------- levels


def _to_ranks(value: Iterable[str | Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    if isinstance(value, str):
        msg = f"level ranks must be a sequence of ranks, not the string {value!r}"
        raise LevelOrderError(
            msg,
            hint="write ranks=(('company',), ('region', 'product_line'), ('team',))",
        )
    try:
        return tuple((rank,) if isinstance(rank, str) else tuple(rank) for rank in value)
    except TypeError:  # a rank (or the ranks) that is not a sequence of names
        msg = f"level ranks must be a sequence of level names or of tuples of them, got {value!r}"
        raise LevelOrderError(
            msg, hint="write ranks=(('company',), ('region', 'product_line'), ('team',))"
        ) from None


def _to_skippable(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):  # frozenset("team") would be a set of letters
        return frozenset({value})
    given: object = value  # user input: the annotation is not yet true
    names: list[object] = list(given) if isinstance(given, Iterable) else [given]
    for name in names:
        checked: object = name  # user input: the annotation is not yet true
        if not isinstance(checked, str):
            msg = f"skippable level {name!r} is not a level name"
            raise LevelOrderError(msg, hint="name skippable levels with strings")
    return frozenset(str(name) for name in names)


def _suggest(word: str, candidates: Sequence[str]) -> str:
    if len(candidates) > _SUGGEST_LIMIT:
        return ""
    close = difflib.get_close_matches(word, candidates, n=3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


@attrs.frozen(kw_only=True)
class Levels:
    """The declared order of organisation levels, top to bottom.

    Each rank is a tuple of alternative level names: ``("region", "product_line")`` means a node
    at that rank is a region *or* a product line. A child's rank must be greater than its parent's
    rank, and every rank strictly between them must be skippable. A rank is skippable when *any* of
    its names is in ``skippable``: alternatives are interchangeable, so "a team may skip its region"
    means it may sit under neither a region nor a product line. The root is treated as the child of
    a virtual parent above the first rank: it sits at the first rank unless the ranks above it are
    skippable.

    Args:
        ranks: Level names per rank, top first; a bare string is a rank of one name.
        skippable: Level names whose rank may be skipped between a parent and its child (a bare
            string is one name).

    Raises:
        LevelOrderError: No ranks or more than :data:`MAX_LEVEL_RANKS` (1,000), an empty rank, an
            empty or repeated level name, or a skippable name that is not a declared level.

    Example:
        >>> levels = Levels(ranks=("company", ("region", "product_line"), "team", "individual"),
        ...                 skippable=frozenset({"region"}))
        >>> str(levels)
        'company > region|product_line > team > individual (skippable: region)'
        >>> levels.allows("company", "team"), levels.allows("company", "individual")
        (True, False)
    """

    ranks: tuple[tuple[str, ...], ...] = attrs.field(converter=_to_ranks)
    skippable: frozenset[str] = attrs.field(default=frozenset(), converter=_to_skippable)
    _code_of: dict[str, int] = attrs.field(init=False, eq=False, repr=False)
    _code_rank: IntArray = attrs.field(init=False, eq=False, repr=False)
    _reach: IntArray = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.ranks:
            raise LevelOrderError("a level order needs at least one rank", hint="declare ranks=...")
        if len(self.ranks) > MAX_LEVEL_RANKS:
            msg = (
                f"a level order may declare at most {MAX_LEVEL_RANKS:,} ranks (MAX_LEVEL_RANKS), "
                f"got {len(self.ranks):,}"
            )
            raise LevelOrderError(
                msg,
                hint="declare the organisation's levels (company, region, team, ...), not its nodes",
            )
        code_of: dict[str, int] = {}
        code_rank: list[int] = []
        for rank, names in enumerate(self.ranks):
            if not names:
                msg = f"rank {rank} of the level order is empty"
                raise LevelOrderError(msg, hint="remove it")
            for name in names:
                checked: object = name  # user input: the annotation is not yet true
                if not isinstance(checked, str) or not name:
                    msg = f"level name {name!r} at rank {rank} is not a non-empty string"
                    raise LevelOrderError(
                        msg,
                        hint="name levels with non-empty strings",
                    )
                if name in code_of:
                    msg = f"level {name!r} is declared twice in the level order"
                    raise LevelOrderError(
                        msg,
                        hint="declare each level once",
                    )
                code_of[name] = len(code_rank)
                code_rank.append(rank)
        unknown = sorted(self.skippable - code_of.keys())
        if unknown:
            msg = f"skippable level {unknown[0]!r} is not a declared level"
            raise LevelOrderError(
                msg,
                hint=f"choose skippable levels among {', '.join(code_of)}",
            )
        n_ranks = len(self.ranks)
        skip = np.fromiter(
            (any(name in self.skippable for name in names) for names in self.ranks),
            dtype=np.bool_,
            count=n_ranks,
        )
        # A node of rank c may sit under one of rank p (p = -1: the root's virtual parent) when
        # c > p and every rank strictly between them is skippable, i.e. when c lies in
        # (p, reach[p + 1]], reach[i] being the first rank >= i that is not skippable (the last
        # rank when none is). One entry per rank keeps the order linear in its size.
        stop = np.where(skip, n_ranks - 1, np.arange(n_ranks))
        reach = np.append(np.minimum.accumulate(stop[::-1])[::-1], n_ranks - 1).astype(np.int64)
        reach.flags.writeable = False
        ranks_arr = np.asarray(code_rank, dtype=np.int64)
        ranks_arr.flags.writeable = False
        object.__setattr__(self, "_code_of", code_of)
        object.__setattr__(self, "_code_rank", ranks_arr)
        object.__setattr__(self, "_reach", reach)

    def _allowed(self, parent_rank: IntArray, child_rank: IntArray) -> BoolArray:
        """Whether each child rank may sit under the parent rank beside it (-1: the root)."""
        return (child_rank > parent_rank) & (child_rank <= self._reach[parent_rank + 1])

    def __str__(self) -> str:
        text = " > ".join("|".join(names) for names in self.ranks)
        if self.skippable:
            text += f" (skippable: {', '.join(n for n in self.names if n in self.skippable)})"
        return text

    @property
    def names(self) -> tuple[str, ...]:
        """All level names, top rank first; a node's level code indexes this tuple.

        Example:
            >>> DEFAULT_LEVELS.names
            ('company', 'region', 'product_line', 'team', 'individual')
        """
        return tuple(self._code_of)

    def code(self, name: str) -> int:
        """The index of level ``name`` in :attr:`names`.

        Raises:
            LevelOrderError: ``name`` is not a declared level.

        Example:
            >>> DEFAULT_LEVELS.code("team")
            3
        """
        try:
            return self._code_of[name]
        except (KeyError, TypeError):
            msg = f"unknown level {name!r}{_suggest(str(name), self.names)}"
            raise LevelOrderError(
                msg,
                hint=f"use one of the declared levels: {', '.join(self.names)}",
            ) from None

    def rank(self, name: str) -> int:
        """The rank (0 = top) of level ``name``; alternatives share a rank.

        Raises:
            LevelOrderError: ``name`` is not a declared level.

        Example:
            >>> DEFAULT_LEVELS.rank("region"), DEFAULT_LEVELS.rank("product_line")
            (1, 1)
        """
        return int(self._code_rank[self.code(name)])

    def allows(self, parent: str | None, child: str) -> bool:
        """Whether a node of level ``child`` may sit under one of level ``parent``.

        Args:
            parent: The parent's level, or ``None`` to ask whether ``child`` may be the root.
            child: The child's level.

        Raises:
            LevelOrderError: A level name is not declared.

        Example:
            >>> DEFAULT_LEVELS.allows("region", "team"), DEFAULT_LEVELS.allows("team", "region")
            (True, False)
            >>> DEFAULT_LEVELS.allows(None, "company")
            True
        """
        above = np.asarray([-1 if parent is None else self.rank(parent)], dtype=np.int64)
        below = np.asarray([self.rank(child)], dtype=np.int64)
        return bool(self._allowed(above, below)[0])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` reads it back.

        Example:
            >>> DEFAULT_LEVELS.to_dict()["ranks"][1]
            ['region', 'product_line']
        """
        return {
            "ranks": [list(names) for names in self.ranks],
            "skippable": [name for name in self.names if name in self.skippable],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Levels:
        """Read a level order written by :meth:`to_dict`.

        Raises:
            SerializationError: ``data`` is not a mapping with a ``ranks`` list of lists of strings.
            LevelOrderError: The ranks themselves are invalid.

        Example:
            >>> Levels.from_dict(DEFAULT_LEVELS.to_dict()) == DEFAULT_LEVELS
            True
        """
        given: object = data
        if not isinstance(given, Mapping) or not isinstance(given.get("ranks"), list):
            raise SerializationError(
                "a level order must be a mapping with a 'ranks' list",
                hint="pass the output of Levels.to_dict()",
            )
        ranks = data["ranks"]
        skippable = data.get("skippable", [])
        if not all(isinstance(r, list) for r in ranks) or not isinstance(skippable, list):
            raise SerializationError(
                "'ranks' must be a list of lists of level names and 'skippable' a list",
                hint="pass the output of Levels.to_dict()",
            )
        return cls(ranks=ranks, skippable=skippable)


#: company > region|product_line > team > individual; region / product line and team may be
#: skipped, so a small company (company > individual, or company > team > individual) works as is.
DEFAULT_LEVELS: Final = Levels(
    ranks=(("company",), ("region", "product_line"), ("team",), ("individual",)),
    skippable=frozenset({"region", "product_line", "team"}),
)


# ------------------------------------------------------------------------------------------- node


class _FrozenAttributes(Mapping[str, float]):
    """An immutable, hashable, picklable mapping of attribute name to value."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, float] | Iterable[tuple[str, float]] = ()) -> None:
        self._data: dict[str, float] = dict(data)

    def __getitem__(self, key: str) -> float:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))


def _freeze_attributes(value: Mapping[str, float]) -> Mapping[str, float]:
    return value if isinstance(value, _FrozenAttributes) else _FrozenAttributes(value)


def _check_node(instance: Node, attribute: attrs.Attribute[Any], value: Any) -> None:
    del attribute, value  # the whole node is checked once, after the last field
    where = f"node {instance.id!r}"
    if instance.fte is not None and not (np.isfinite(instance.fte) and instance.fte >= 0):
        msg = f"{where} has fte {instance.fte!r}; fte must be finite and >= 0"
        raise InvalidAttributeError(
            msg,
            node=instance.id,
            hint=f"give fte as a number >= 0, or {_NOT_GIVEN}",
        )
    for what, day in (("start_date", instance.start_date), ("end_date", instance.end_date)):
        if day is not None and (type(day) is not dt.date):
            msg = f"{where} has {what} {day!r}, which is not a datetime.date"
            raise InvalidAttributeError(
                msg,
                node=instance.id,
                hint=_DATE_HINT,
            )
    if (
        instance.start_date is not None
        and instance.end_date is not None
        and instance.end_date < instance.start_date
    ):
        msg = f"{where} ends on {instance.end_date} before it starts on {instance.start_date}"
        raise InvalidAttributeError(
            msg,
            node=instance.id,
            hint="swap the dates or fix the end date",
        )
    for key, number in instance.attributes.items():
        if isinstance(number, bool) or not isinstance(number, numbers.Real):
            msg = f"{where} has non-numeric attribute {key}={number!r}"
            raise InvalidAttributeError(
                msg,
                node=instance.id,
                hint="free attributes are numbers >= 0",
            )
        if not (np.isfinite(number) and number >= 0):
            msg = f"{where} has attribute {key}={number!r}; it must be finite and >= 0"
            raise InvalidAttributeError(
                msg,
                node=instance.id,
                hint=f"give a number >= 0, or {_NOT_GIVEN}",
            )


@attrs.frozen(kw_only=True)
class Node:
    """One node of an :class:`OrgTree`, as a value (made on demand by :meth:`OrgTree.node`).

    Args:
        id: The node's unique id.
        name: Display name.
        level: The node's level (a name from the tree's :class:`Levels`).
        parent: The parent's id; ``None`` for the root.
        fte: Full-time equivalents (>= 0), ``None`` when not given.
        start_date: First day the node is active, ``None`` when not given.
        end_date: Last day the node is active, ``None`` when not given.
        attributes: Free numeric attributes (finite, >= 0) that were given; missing ones are absent.

    Raises:
        InvalidAttributeError: A value breaks the rules above.

    Example:
        >>> node = Node(id="ann", name="Ann", level="individual", parent="east-1", fte=0.5,
        ...             attributes={"potential": 120.0})
        >>> node.attributes["potential"], node.to_record()["fte"]
        (120.0, 0.5)
    """

    id: str
    name: str
    level: str
    parent: str | None
    fte: float | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    attributes: Mapping[str, float] = attrs.field(
        factory=_FrozenAttributes, converter=_freeze_attributes, validator=_check_node
    )

    def to_record(self) -> dict[str, Any]:
        """The node as a record for :meth:`OrgTree.from_records` (only the values that were given).

        Example:
            >>> Node(id="acme", name="Acme", level="company", parent=None).to_record()
            {'id': 'acme', 'parent': None, 'level': 'company', 'name': 'Acme'}
        """
        record: dict[str, Any] = {
            "id": self.id,
            "parent": self.parent,
            "level": self.level,
            "name": self.name,
        }
        if self.fte is not None:
            record["fte"] = self.fte
        if self.start_date is not None:
            record["start_date"] = self.start_date
        if self.end_date is not None:
            record["end_date"] = self.end_date
        record.update(self.attributes)
        return record


# ------------------------------------------------------------------------------------ compiled form


class _IdIndex:
    """Node id -> input row, built on first use.

    For a million nodes this dict costs about as much as the rest of a fast build, and the engine
    never needs it.
    """

    __slots__ = ("_ids", "_rows")

    def __init__(self, ids: tuple[str, ...], rows: dict[str, int] | None = None) -> None:
        self._ids = ids
        self._rows = rows

    def rows(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = dict(zip(self._ids, range(len(self._ids)), strict=True))
        return self._rows


class PositionMap(Mapping[str, int]):
    """Node id -> compiled position, without a second dict: input row, then row -> position."""

    __slots__ = ("_index", "_position_of_row")

    def __init__(self, index: _IdIndex, position_of_row: IntArray) -> None:
        self._index = index
        self._position_of_row = position_of_row

    def __getitem__(self, key: str) -> int:
        return int(self._position_of_row[self._index.rows()[key]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.rows())

    def __len__(self) -> int:
        return len(self._position_of_row)

    def __contains__(self, key: object) -> bool:
        return key in self._index.rows()

    def input_rows(self) -> dict[str, int]:
        """Node id -> input row: the tree's own dict, built once and shared (do not mutate)."""
        return self._index.rows()

    @property
    def has_rows(self) -> bool:
        """Whether the id dict of :meth:`input_rows` has been built already."""
        return self._index._rows is not None

    def position_of_rows(self, rows: IntArray) -> IntArray:
        """Compiled positions of input ``rows``, vectorised."""
        return self._position_of_row[rows]

    def __reduce__(self) -> tuple[Any, ...]:
        # the index is rebuilt on demand after unpickling rather than shipped
        return (PositionMap, (_IdIndex(self._index._ids), self._position_of_row))

    def __repr__(self) -> str:
        return f"<position map of {len(self)} nodes>"


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.flags.writeable = False
    return array


@attrs.frozen(kw_only=True, eq=False)
class CompiledTree:
    """The array form of an :class:`OrgTree` that the engine works on (read-only numpy arrays).

    Positions are breadth first: the root, then the depth-1 nodes grouped by parent in parent order,
    children in input order within a parent, and so on. So the children of every node are contiguous
    (CSR order), and the nodes at one depth are contiguous too. Equality is identity (compare trees
    through :class:`OrgTree` equality).

    Attributes:
        levels: The tree's level order; ``level_code`` indexes ``levels.names``.
        ids: Node id at each position.
        parent: Position of each node's parent, -1 for the root.
        depth: Depth of each node (root 0).
        child_offsets: Shape ``(n + 1,)``; the children of position ``i`` are the positions
            ``child_offsets[i]:child_offsets[i + 1]``. These ranges tile ``1..n-1`` in order.
        depth_offsets: Nodes at depth ``d`` are the positions
            ``depth_offsets[d]:depth_offsets[d + 1]``.
        level_code: Index of each node's level in ``levels.names``.
        input_order: Input row of the node at each position.
        position: Node id -> position, O(1).
        is_leaf: Whether each node has no children.
        fte: fte per position, ``NaN`` when not given.
        start: Start date per position, ``NaT`` when not given.
        end: End date per position, ``NaT`` when not given.
        attributes: Free attribute name -> float array per position (``NaN`` when not given).

    Example:
        >>> tree = OrgTree.from_arrays(
        ...     ["acme", "east", "west", "west-1", "east-1"], [-1, 0, 0, 2, 1],
        ...     ["company", "region", "region", "team", "team"])
        >>> c = tree.compiled
        >>> c.ids
        ('acme', 'east', 'west', 'east-1', 'west-1')
        >>> c.parent.tolist(), c.child_offsets.tolist(), c.depth_offsets.tolist()
        ([-1, 0, 0, 1, 2], [1, 3, 4, 5, 5, 5], [0, 1, 3, 5])
    """

    levels: Levels
    ids: tuple[str, ...] = attrs.field(repr=False)
    parent: IntArray = attrs.field(repr=False)
    depth: IntArray = attrs.field(repr=False)
    child_offsets: IntArray = attrs.field(repr=False)
    depth_offsets: IntArray = attrs.field(repr=False)
    level_code: IntArray = attrs.field(repr=False)
    input_order: IntArray = attrs.field(repr=False)
    position: Mapping[str, int] = attrs.field(repr=False)
    is_leaf: BoolArray = attrs.field(repr=False)
    fte: FloatArray = attrs.field(repr=False)
    start: DateArray = attrs.field(repr=False)
    end: DateArray = attrs.field(repr=False)
    attributes: Mapping[str, FloatArray] = attrs.field(repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        depth = len(self.depth_offsets) - 2
        return f"CompiledTree(n={len(self)}, depth={depth}, levels='{self.levels}')"

    def index(self, node_id: str) -> int:
        """The position of ``node_id``.

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"])
            >>> tree.compiled.index("east")
            1
        """
        try:
            return self.position[node_id]
        except (KeyError, TypeError):
            raise _unknown_node(node_id, self.ids) from None

    def positions_of(self, node_ids: Sequence[str]) -> IntArray:
        """The positions of many ids in one vectorised pass, -1 for an id not in the tree.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"])
            >>> tree.compiled.positions_of(["east", "west", "acme"]).tolist()
            [1, -1, 0]
        """
        index = self.position
        missing = itertools.repeat(-1)
        if isinstance(index, PositionMap):
            # the tree's own id -> input row dict (built once, cached), then row -> position;
            # map() keeps the per-id lookups in C
            rows = np.fromiter(
                map(index.input_rows().get, node_ids, missing), np.int64, len(node_ids)
            )
            return np.where(rows >= 0, index.position_of_rows(np.maximum(rows, 0)), -1)
        # a compiled tree built by hand around a plain id -> position mapping
        return np.fromiter(map(index.get, node_ids, missing), np.int64, len(node_ids))

    def attribute(self, name: str) -> FloatArray:
        """The free attribute ``name`` per position, ``NaN`` where not given.

        Raises:
            InvalidAttributeError: No node of the tree carries the attribute.

        Example:
            >>> tree = OrgTree.from_records([
            ...     {"id": "acme", "level": "company"},
            ...     {"id": "east", "parent": "acme", "level": "region", "potential": 5.0}])
            >>> tree.compiled.attribute("potential").tolist()
            [nan, 5.0]
        """
        try:
            return self.attributes[name]
        except KeyError:
            known = ", ".join(self.attributes) or "none"
            msg = f"no node carries attribute {name!r}{_suggest(name, list(self.attributes))}"
            raise InvalidAttributeError(
                msg,
                hint=f"attributes given in this tree: {known}",
            ) from None


# ----------------------------------------------------------------------------------------- parsing


@attrs.frozen
class _Rows:
    """How an error names an input row; rows below ``offset`` belong to the tree being extended."""

    ids: Sequence[str]
    offset: int = 0

    def label(self, row: int) -> str:
        if row < self.offset:
            return "in the existing tree"
        return f"row {row - self.offset}"

    def where(self, row: int) -> str:
        if row < len(self.ids):
            return f"node {self.ids[row]!r} ({self.label(row)})"
        return self.label(row)

    def fields(self, row: int) -> dict[str, Any]:
        return {
            "node": self.ids[row] if row < len(self.ids) else None,
            "row": row - self.offset if row >= self.offset else None,
        }


@attrs.define
class _Raw:
    """Input columns before validation: lists (checked value by value) or typed numpy arrays."""

    ids: Sequence[Any] | npt.NDArray[Any]
    parents: Sequence[Any] | IntArray
    levels: Sequence[Any] | IntArray
    names: Sequence[Any] | npt.NDArray[Any] | None = None
    fte: Sequence[Any] | FloatArray | None = None
    start: Sequence[Any] | DateArray | None = None
    end: Sequence[Any] | DateArray | None = None
    # free attribute name -> one value per row
    extras: dict[str, Sequence[Any] | FloatArray] = attrs.Factory(dict)
    # in typed arrays (from_arrays, frames) NaN / NaT mean "not given"; in records they are errors
    nan_missing: bool = False


def _transpose(records: Iterable[Mapping[str, Any]]) -> _Raw:
    """Turn records into columns, one C-level pass per key (no Python loop over the rows)."""
    given: object = records  # user input: the annotation is not yet true
    if not isinstance(given, Iterable) or isinstance(given, str | bytes | Mapping):
        msg = f"records must be an iterable of mappings, one per node, got {type(given).__name__}"
        raise InvalidTreeError(msg, hint="pass a list of dicts with keys id, parent, level, ...")
    rows: list[Any] = records if isinstance(records, list) else list(records)
    kinds = set(map(type, rows))
    for kind in kinds:
        if not issubclass(kind, Mapping):
            row = next(i for i, record in enumerate(rows) if type(record) is kind)
            msg = f"row {row} is a {kind.__name__}, not a mapping"
            raise InvalidTreeError(
                msg,
                row=row,
                hint="pass an iterable of dicts; use OrgTree.from_frame for a DataFrame",
            )

    plain = all(issubclass(kind, dict) for kind in kinds)

    def column(key: str) -> list[Any]:
        if plain:  # the unbound dict.get skips making a bound method per row: 2-3x faster
            return list(map(dict.get, rows, itertools.repeat(key)))
        return list(map(operator.methodcaller("get", key), rows))

    # every key of every row, in order of first appearance, gives the free attributes in order
    all_keys = dict.fromkeys(itertools.chain.from_iterable(rows))
    extra_keys = [key for key in all_keys if key not in RESERVED_KEYS]
    for key in extra_keys:
        key_obj: object = key
        if not isinstance(key_obj, str) or not key:
            row = next(i for i, record in enumerate(rows) if key in record)
            msg = f"row {row} has attribute key {key!r}, which is not a non-empty string"
            raise InvalidAttributeError(msg, row=row, hint="name attributes with non-empty strings")
    return _Raw(
        ids=column("id"),
        parents=column("parent"),
        levels=column("level"),
        names=column("name"),
        fte=column("fte"),
        start=column("start_date"),
        end=column("end_date"),
        extras={key: column(key) for key in extra_keys},
    )


def _parse_ids(raw: Sequence[Any] | npt.NDArray[Any]) -> list[str]:
    values = raw.tolist() if isinstance(raw, np.ndarray) else list(raw)
    if set(map(type, values)) <= {str} and "" not in values:
        return values
    out: list[str] = []
    for row, value in enumerate(values):
        if isinstance(value, str) and value:
            out.append(str(value))
        elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
            out.append(str(int(value)))
        elif value is None or value == "":
            msg = f"row {row} has no id"
            raise InvalidTreeError(msg, row=row, hint="give every row a non-empty 'id'")
        else:
            msg = f"row {row} has id {value!r} of type {type(value).__name__}"
            raise InvalidTreeError(
                msg,
                row=row,
                hint="ids are non-empty strings (integers are converted with str())",
            )
    return out


def _index_ids(ids: list[str], rows: _Rows, *, need_index: bool) -> dict[str, int] | None:
    """Check ids are unique; return the id -> row index when ``need_index`` (a set is cheaper)."""
    if need_index:
        index = dict(zip(ids, range(len(ids)), strict=True))
        if len(index) == len(ids):
            return index
    elif len(set(ids)) == len(ids):
        return None
    first: dict[str, int] = {}
    for row, node_id in enumerate(ids):
        if node_id in first:
            msg = (
                f"node id {node_id!r} appears twice ({rows.label(first[node_id])} and "
                f"{rows.label(row)})"
            )
            raise DuplicateNodeError(
                msg,
                **rows.fields(row),
                hint="give every node a unique id",
            )
        first[node_id] = row
    raise AssertionError("unreachable: a shorter index implies a repeated id")


def _parse_level_codes(raw: Sequence[Any] | IntArray, levels: Levels, rows: _Rows) -> IntArray:
    names = levels.names
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iu":
        codes = raw.astype(np.int64)
        bad = np.flatnonzero((codes < 0) | (codes >= len(names)))
        if bad.size:
            row = rows.offset + int(bad[0])
            msg = (
                f"{rows.where(row)} has level code {int(codes[bad[0]])}, but there are only "
                f"{len(names)} levels"
            )
            raise LevelOrderError(
                msg,
                **rows.fields(row),
                hint=f"level codes index the declared levels {', '.join(names)}",
            )
        return codes
    values = raw.tolist() if isinstance(raw, np.ndarray) else raw
    code_of = levels._code_of
    try:
        found = list(map(code_of.get, values))
    except TypeError:  # an unhashable value; it is not a level either
        found = [code_of.get(v) if isinstance(v, str) else None for v in values]
    as_float = np.array(found, dtype=np.float64)  # None (not a level) becomes NaN
    bad = np.flatnonzero(np.isnan(as_float))
    codes = np.where(np.isnan(as_float), -1, as_float).astype(np.int64)
    if bad.size:
        row = rows.offset + int(bad[0])
        value = values[int(bad[0])]
        if value is None:
            problem = f"{rows.where(row)} has no level"
        else:
            problem = f"{rows.where(row)} has unknown level {value!r}{_suggest(str(value), names)}"
        raise LevelOrderError(
            problem, **rows.fields(row), hint=f"use one of the declared levels: {', '.join(names)}"
        )
    return codes


def _parse_parents(
    raw: Sequence[Any] | IntArray, index: Mapping[str, int], n: int, rows: _Rows
) -> IntArray:
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iu":
        parent = raw.astype(np.int64)
        bad = np.flatnonzero((parent < -1) | (parent >= n))
        if bad.size:
            row = rows.offset + int(bad[0])
            msg = f"{rows.where(row)} has parent index {int(parent[bad[0]])}, outside 0..{n - 1}"
            raise UnknownParentError(
                msg,
                **rows.fields(row),
                hint="parent indices are input row numbers, -1 for the root",
            )
        return parent
    values: list[Any] = raw.tolist() if isinstance(raw, np.ndarray) else list(raw)
    if not set(map(type, values)) <= {str, _NONE_TYPE}:
        for i, value in enumerate(values):
            if value is None or isinstance(value, str):
                continue
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                values[i] = str(int(value))
            else:
                row = rows.offset + i
                msg = f"{rows.where(row)} has parent {value!r} of type {type(value).__name__}"
                raise UnknownParentError(
                    msg,
                    **rows.fields(row),
                    hint="a parent is the id of another row, or None for the root",
                )
    found = np.array(list(map(index.get, values)), dtype=np.float64)  # not found: NaN
    missing_rows = np.flatnonzero(np.isnan(found))
    # "" and None both mean "no parent"; ids are never empty, so "" cannot clash with a real id
    is_root = np.array([not values[i] for i in missing_rows.tolist()], dtype=np.bool_)
    found[missing_rows[is_root]] = -1
    bad = missing_rows[~is_root]
    if bad.size:
        row = rows.offset + int(bad[0])
        missing = values[int(bad[0])]
        msg = (
            f"{rows.where(row)} names parent {missing!r}, which is not in the input"
            f"{_suggest(missing, list(index))}"
        )
        raise UnknownParentError(
            msg,
            **rows.fields(row),
            hint="add the parent row, or fix the parent id",
        )
    return found.astype(np.int64)


def _plain_floats(items: list[Any]) -> FloatArray | None:
    """Python floats, ints and None as a float array (None -> NaN); None if an int overflows."""
    try:
        return np.array(items, dtype=np.float64)
    except OverflowError:
        return None


def _parse_numbers(
    raw: Sequence[Any] | npt.NDArray[Any],
    *,
    what: str,
    rows: _Rows,
    nan_missing: bool,
) -> FloatArray:
    """Numbers >= 0 and finite, ``None`` (or NaN where ``nan_missing``) for "not given"."""
    values: FloatArray
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "fiu":
        values = np.array(raw, dtype=np.float64)
        explicit_nan = np.zeros(0, dtype=np.int64)
    elif isinstance(raw, np.ndarray) and raw.dtype.kind not in "O":
        msg = f"{what} values have dtype {raw.dtype}, not a number type"
        raise InvalidAttributeError(
            msg,
            hint=f"give {what} as numbers >= 0",
        )
    else:
        items: list[Any] = raw.tolist() if isinstance(raw, np.ndarray) else list(raw)
        types = set(map(type, items))
        if types <= {_NONE_TYPE}:
            return np.full(len(items), np.nan)
        fast = _plain_floats(items) if types <= {float, int, _NONE_TYPE} else None
        if fast is not None:
            values = fast
        else:
            values = np.empty(len(items), dtype=np.float64)
            for i, value in enumerate(items):
                if value is None:
                    values[i] = np.nan
                elif isinstance(value, (numbers.Real, Decimal)) and not isinstance(value, bool):
                    try:
                        values[i] = float(value)
                    except OverflowError:  # an int beyond the float range
                        values[i] = np.inf  # reported as not finite below
                    except ValueError:  # a signalling Decimal NaN
                        values[i] = np.nan  # reported as NaN below
                else:
                    row = rows.offset + i
                    msg = f"{rows.where(row)} has non-numeric {what} {value!r}"
                    raise InvalidAttributeError(
                        msg,
                        **rows.fields(row),
                        hint=f"give {what} as a number >= 0, or {_NOT_GIVEN}",
                    )
        nan_rows = np.flatnonzero(np.isnan(values))
        explicit_nan = nan_rows[[items[i] is not None for i in nan_rows.tolist()]]
    if nan_missing:
        explicit_nan = np.zeros(0, dtype=np.int64)
    bad_mask = np.isinf(values) | (values < 0)
    if explicit_nan.size:
        bad_mask[explicit_nan] = True
    bad = np.flatnonzero(bad_mask)
    if bad.size:
        i = int(bad[0])
        row = rows.offset + i
        value = float(values[i])
        reason = (
            "is NaN" if np.isnan(value) else "is not finite" if np.isinf(value) else "is negative"
        )
        msg = f"{rows.where(row)} has {what} {value!r}, which {reason}"
        raise InvalidAttributeError(
            msg,
            **rows.fields(row),
            actual=value,
            hint=f"give {what} as a finite number >= 0, or {_NOT_GIVEN}",
        )
    return values


def _strict_iso(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _parse_date(value: Any, *, what: str, rows: _Rows, row: int) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        msg = f"{rows.where(row)} has {what} {value!r}, a datetime rather than a date"
        raise InvalidAttributeError(
            msg,
            **rows.fields(row),
            hint="pass value.date(), or an ISO 'YYYY-MM-DD' string",
        )
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if _strict_iso(value):
            return dt.date.fromisoformat(value)
        msg = f"{rows.where(row)} has {what} {value!r}, which is not a date 'YYYY-MM-DD'"
        raise InvalidAttributeError(
            msg,
            **rows.fields(row),
            hint=_DATE_HINT,
        )
    msg = f"{rows.where(row)} has {what} {value!r} of type {type(value).__name__}, not a date"
    raise InvalidAttributeError(
        msg,
        **rows.fields(row),
        hint=_DATE_HINT,
    )


def _parse_dates(raw: Sequence[Any] | DateArray, *, what: str, rows: _Rows) -> DateArray:
    if isinstance(raw, np.ndarray) and raw.dtype.kind == "M":
        days = raw.astype("datetime64[D]")
        if np.datetime_data(raw.dtype)[0] not in ("Y", "M", "W", "D"):
            # a finer unit may hide a time of day, which a date cannot carry
            off = np.flatnonzero(~np.isnat(raw) & (days.astype(raw.dtype) != raw))
            if off.size:
                row = rows.offset + int(off[0])
                msg = f"{rows.where(row)} has {what} {raw[off[0]]}, which has a time of day"
                raise InvalidAttributeError(
                    msg,
                    **rows.fields(row),
                    hint=_DATE_HINT,
                )
        return days
    if isinstance(raw, np.ndarray) and raw.dtype.kind not in "OU":
        msg = f"{what} values have dtype {raw.dtype}, not dates"
        raise InvalidAttributeError(msg, hint=_DATE_HINT)
    items: list[Any] = raw.tolist() if isinstance(raw, np.ndarray) else list(raw)
    types = set(map(type, items))
    if types <= {_NONE_TYPE}:
        return np.full(len(items), np.datetime64("NaT"), dtype="datetime64[D]")
    if types <= {dt.date, _NONE_TYPE}:
        return np.array(items, dtype="datetime64[D]")
    if types <= {str, _NONE_TYPE} and all(_strict_iso(v) for v in set(items) - {None}):
        # every distinct string is a strict ISO date (dates repeat, so this is a short loop), and
        # numpy reads those exactly as date.fromisoformat does, in C
        return np.array(items, dtype="datetime64[D]")
    parsed = [
        _parse_date(v, what=what, rows=rows, row=rows.offset + i) for i, v in enumerate(items)
    ]
    return np.array(parsed, dtype="datetime64[D]")


def _parse_names(
    raw: Sequence[Any] | npt.NDArray[Any] | None, ids: list[str], rows: _Rows
) -> list[str]:
    new_ids = ids[rows.offset :]
    if raw is None:
        return new_ids
    values: list[Any] = raw.tolist() if isinstance(raw, np.ndarray) else list(raw)
    types = set(map(type, values))
    if types <= {_NONE_TYPE}:
        return new_ids
    if types <= {str}:
        return values
    if types <= {str, _NONE_TYPE}:
        return [node_id if v is None else v for v, node_id in zip(values, new_ids, strict=True)]
    names: list[str] = []
    for i, (value, node_id) in enumerate(zip(values, new_ids, strict=True)):
        if value is None:
            names.append(node_id)
        elif isinstance(value, str):
            names.append(str(value))
        else:
            row = rows.offset + i
            msg = f"{rows.where(row)} has name {value!r} of type {type(value).__name__}"
            raise InvalidAttributeError(
                msg,
                **rows.fields(row),
                hint="names are strings; leave the name out to use the id",
            )
    return names


def _check_length(what: str, values: Sized, n: int) -> None:
    if len(values) != n:
        msg = f"{what} has {len(values)} values for {n} nodes"
        raise InvalidTreeError(
            msg,
            hint="give one value per node, in the order of the ids",
        )


def _check_structure(levels: Levels, parent: IntArray, level_code: IntArray, rows: _Rows) -> int:
    """Check one root, no cycle, level order; return the root's row."""
    n = len(parent)
    roots = np.flatnonzero(parent == -1)
    if roots.size == 0:
        raise MultipleRootsError(
            "the tree has no root: every row names a parent" if n else "the tree has no nodes",
            hint="give exactly one row no parent (parent None or missing)",
        )
    if roots.size > 1:
        first, second = int(roots[0]), int(roots[1])
        msg = (
            f"{rows.where(second)} has no parent, but {rows.where(first)} is already the root "
            f"({roots.size} rows have no parent)"
        )
        raise MultipleRootsError(
            msg,
            **rows.fields(second),
            hint="give exactly one row no parent; the others need a parent id",
        )
    root = int(roots[0])
    # Pointer doubling: after k rounds up[i] is the 2**k-th ancestor of i (stopping at the root), so
    # every node reachable from the root maps to it after ceil(log2(depth)) + 1 rounds. Nodes that
    # get there hang off a cycle. O(n log depth), no Python loop over nodes.
    up = parent.copy()
    up[root] = root
    for _ in range(max(n, 2).bit_length() + 1):
        nxt = up[up]
        if np.array_equal(nxt, up):
            break
        up = nxt
    unreached = np.flatnonzero(up != root)
    if unreached.size:
        _raise_cycle(int(unreached[0]), parent, rows)
    # Level order: each edge (and the root under its virtual parent) must be allowed.
    child_rank = levels._code_rank[level_code]
    parent_rank = np.where(parent >= 0, child_rank[np.maximum(parent, 0)], -1)
    bad = np.flatnonzero(~levels._allowed(parent_rank, child_rank))
    if bad.size:
        row = int(bad[0])
        level = levels.names[int(level_code[row])]
        if parent[row] < 0:
            problem = (
                f"root {rows.where(row)} has level {level!r}, but a root must be at the top of "
                f"{levels}"
            )
        else:
            above = int(parent[row])
            problem = (
                f"{rows.where(row)} has level {level!r} under {rows.where(above)} of level "
                f"{levels.names[int(level_code[above])]!r}, which breaks the order {levels}"
            )
        raise LevelOrderError(
            problem,
            **rows.fields(row),
            hint="fix the level or the parent; declare skippable levels with Levels(skippable=...)",
        )
    return root


def _raise_cycle(start: int, parent: IntArray, rows: _Rows) -> None:
    seen: dict[int, int] = {}
    row = start
    while row not in seen:  # error path only: walk up until a row repeats
        seen[row] = len(seen)
        row = int(parent[row])
    cycle = list(seen)[seen[row] :]
    first = min(cycle)
    turn = cycle.index(first)
    cycle = cycle[turn:] + cycle[:turn]
    shown = [repr(rows.ids[r]) for r in cycle[:10]] + (["..."] if len(cycle) > 10 else [])
    loop = " -> ".join([*shown, repr(rows.ids[first])])
    msg = (
        f"{rows.where(first)} is in a parent cycle ({loop}), so it cannot be reached from the root"
    )
    raise CycleError(
        msg,
        **rows.fields(first),
        hint="break the cycle by giving one of these nodes a parent outside it",
    )


def _unknown_node(node_id: object, ids: Sequence[str]) -> UnknownNodeError:
    suggestion = _suggest(node_id, ids) if isinstance(node_id, str) else ""
    return UnknownNodeError(
        f"no node {node_id!r} in the tree{suggestion}",
        node=node_id if isinstance(node_id, str) else None,
        hint="check the id (ids are case-sensitive strings)",
    )


def _build(raw: _Raw, levels: Levels, base: OrgTree | None = None) -> OrgTree:
    """Validate raw columns (appended to ``base`` when given) and make the tree."""
    offset = 0 if base is None else len(base)
    new_ids = _parse_ids(raw.ids)  # rows count from 0 also when extending a tree
    m = len(new_ids)
    for what, column in (("parents", raw.parents), ("levels", raw.levels), ("names", raw.names)):
        if column is not None:
            _check_length(what, column, m)
    ids = new_ids if base is None else [*base._ids, *new_ids]
    rows = _Rows(ids, offset)
    parents_are_rows = isinstance(raw.parents, np.ndarray) and raw.parents.dtype.kind in "iu"
    index = _index_ids(ids, rows, need_index=not parents_are_rows)
    level_code = _parse_level_codes(raw.levels, levels, rows)
    parent = _parse_parents(raw.parents, index or {}, len(ids), rows)
    names = _parse_names(raw.names, ids, rows)
    nan_missing = raw.nan_missing
    fte = np.full(m, np.nan)
    if raw.fte is not None:
        _check_length("fte", raw.fte, m)
        fte = _parse_numbers(raw.fte, what="fte", rows=rows, nan_missing=nan_missing)
    start = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")
    end = start.copy()
    if raw.start is not None:
        _check_length("start dates", raw.start, m)
        start = _parse_dates(raw.start, what="start_date", rows=rows)
    if raw.end is not None:
        _check_length("end dates", raw.end, m)
        end = _parse_dates(raw.end, what="end_date", rows=rows)
    backwards = np.flatnonzero(end < start)  # NaT compares False
    if backwards.size:
        row = offset + int(backwards[0])
        msg = (
            f"{rows.where(row)} ends on {end[backwards[0]]} before it starts on "
            f"{start[backwards[0]]}"
        )
        raise InvalidAttributeError(
            msg,
            **rows.fields(row),
            hint="swap the dates or fix the end date",
        )
    attributes: dict[str, FloatArray] = {}
    for key, values in raw.extras.items():
        key_obj: object = key
        if not isinstance(key_obj, str) or not key or key in RESERVED_KEYS:
            msg = f"attribute name {key!r} is reserved or not a non-empty string"
            raise InvalidAttributeError(
                msg,
                hint=f"name free attributes other than {', '.join(sorted(RESERVED_KEYS))}",
            )
        _check_length(f"attribute {key!r}", values, m)
        attributes[key] = _parse_numbers(values, what=key, rows=rows, nan_missing=nan_missing)
    if base is not None:
        parent = np.concatenate([base._parent, parent])
        level_code = np.concatenate([base._level_code, level_code])
        names = [*base._names, *names]
        fte = np.concatenate([base._fte, fte])
        start = np.concatenate([base._start, start])
        end = np.concatenate([base._end, end])
        merged: dict[str, FloatArray] = {}
        for key in [*base._attributes, *(k for k in attributes if k not in base._attributes)]:
            old = base._attributes.get(key, np.full(offset, np.nan))
            merged[key] = np.concatenate([old, attributes.get(key, np.full(m, np.nan))])
        attributes = merged
    root = _check_structure(levels, parent, level_code, rows)
    return OrgTree._trusted(
        levels=levels,
        ids=ids,
        names=names,
        parent=parent,
        level_code=level_code,
        fte=fte,
        start=start,
        end=end,
        attributes=attributes,
        index=index,
        root=root,
    )


# ---------------------------------------------------------------------------------------- OrgTree


class OrgTree:
    """An immutable, validated organisation tree.

    Build it with :meth:`from_records` (also ``OrgTree(records)``), :meth:`from_arrays`,
    :meth:`from_networkx`, :meth:`from_frame` or :meth:`from_dict`. Record keys are described in the
    module docstring (:data:`RESERVED_KEYS`). Checks, in this order, each failing with its own error
    that names the row and the node id: ids present and unique (:class:`DuplicateNodeError`), known
    levels, known parents (:class:`UnknownParentError`), attribute values
    (:class:`InvalidAttributeError`), exactly one root (:class:`MultipleRootsError`), no cycles
    (:class:`CycleError`), the declared level order (:class:`LevelOrderError`).

    Two trees are equal when they have the same levels, the same nodes with the same values and the
    same order of children under every parent; how rows of different parents interleave does not
    matter (as dicts compare equal whatever their insertion order).

    Args:
        records: Node records, one mapping per node.
        levels: The declared level order.

    Example:
        >>> tree = OrgTree([
        ...     {"id": "acme", "level": "company"},
        ...     {"id": "ann", "parent": "east-1", "level": "individual", "fte": 1.0},
        ...     {"id": "east", "parent": "acme", "level": "region"},
        ...     {"id": "east-1", "parent": "east", "level": "team"},
        ... ])
        >>> tree  # doctest: +NORMALIZE_WHITESPACE
        OrgTree(root='acme', nodes=4, levels='company > region|product_line > team > individual
                (skippable: region, product_line, team)')
        >>> tree.ancestors("ann")
        ('east-1', 'east', 'acme')
    """

    __slots__ = (
        "_attributes",
        "_compiled",
        "_end",
        "_fte",
        "_hash",
        "_ids",
        "_index",
        "_level_code",
        "_levels",
        "_names",
        "_parent",
        "_root",
        "_start",
    )

    _levels: Levels
    _ids: tuple[str, ...]
    _names: tuple[str, ...]
    _parent: IntArray
    _level_code: IntArray
    _fte: FloatArray
    _start: DateArray
    _end: DateArray
    _attributes: dict[str, FloatArray]
    _index: _IdIndex
    _root: int
    _compiled: CompiledTree | None
    _hash: int | None

    def __init__(
        self, records: Iterable[Mapping[str, Any]], *, levels: Levels = DEFAULT_LEVELS
    ) -> None:
        built = _build(_transpose(records), levels)
        for slot in OrgTree.__slots__:
            object.__setattr__(self, slot, getattr(built, slot))

    @classmethod
    def _trusted(
        cls,
        *,
        levels: Levels,
        ids: Sequence[str],
        names: Sequence[str],
        parent: IntArray,
        level_code: IntArray,
        fte: FloatArray,
        start: DateArray,
        end: DateArray,
        attributes: Mapping[str, FloatArray],
        index: dict[str, int] | None = None,
        root: int | None = None,
    ) -> OrgTree:
        """Make a tree from columns that are already validated (no checks)."""
        tree = object.__new__(cls)
        ids_t = tuple(ids)
        names_t = tuple(names)
        if names_t == ids_t:
            names_t = ids_t  # share the tuple: names default to ids and cost nothing then
        # all-NaN columns carry nothing; dropping them keeps equality and round trips canonical
        kept = {k: v for k, v in attributes.items() if not bool(np.isnan(v).all())}
        values: dict[str, Any] = {
            "_levels": levels,
            "_ids": ids_t,
            "_names": names_t,
            "_parent": _readonly(np.asarray(parent, dtype=np.int64)),
            "_level_code": _readonly(np.asarray(level_code, dtype=np.int64)),
            "_fte": _readonly(np.asarray(fte, dtype=np.float64)),
            "_start": _readonly(np.asarray(start, dtype="datetime64[D]")),
            "_end": _readonly(np.asarray(end, dtype="datetime64[D]")),
            "_attributes": {k: _readonly(np.asarray(v, dtype=np.float64)) for k, v in kept.items()},
            "_index": _IdIndex(ids_t, index),
            "_root": root if root is not None else int(np.flatnonzero(parent == -1)[0]),
            "_compiled": None,
            "_hash": None,
        }
        for slot, value in values.items():
            object.__setattr__(tree, slot, value)
        return tree

    def __setattr__(self, name: str, value: object) -> None:
        msg = f"OrgTree is immutable; cannot set {name!r}"
        raise AttributeError(msg)

    def __delattr__(self, name: str) -> None:
        msg = f"OrgTree is immutable; cannot delete {name!r}"
        raise AttributeError(msg)

    def __reduce__(self) -> tuple[Any, ...]:
        state = {
            "levels": self._levels,
            "ids": self._ids,
            "names": self._names,
            "parent": self._parent,
            "level_code": self._level_code,
            "fte": self._fte,
            "start": self._start,
            "end": self._end,
            "attributes": self._attributes,
        }
        return (_restore, (state,))

    # ------------------------------------------------------------------------------------ builders

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], *, levels: Levels = DEFAULT_LEVELS
    ) -> OrgTree:
        """Build a tree from one mapping per node; rows may come in any order.

        Args:
            records: Node records (keys in the module docstring); the row index in errors is the
                position in this iterable.
            levels: The declared level order.

        Raises:
            InvalidTreeError: Any defect, as the specific subclass described on :class:`OrgTree`.

        Example:
            >>> tree = OrgTree.from_records([
            ...     {"id": "acme", "level": "company"},
            ...     {"id": "east", "parent": "acme", "level": "region", "fte": 2},
            ... ])
            >>> tree.node("east").fte
            2.0
            >>> OrgTree.from_records([{"id": "acme", "level": "company"},
            ...                       {"id": "acme", "parent": "acme", "level": "region"}])
            Traceback (most recent call last):
            ...
            targetcascade.errors.DuplicateNodeError: node id 'acme' appears twice (row 0 and ...
        """
        return _build(_transpose(records), levels)

    @classmethod
    def from_arrays(
        cls,
        ids: Sequence[str] | npt.NDArray[Any],
        parents: Sequence[Any] | npt.NDArray[Any],
        levels: Sequence[str] | Sequence[int] | npt.NDArray[Any],
        *,
        names: Sequence[str] | npt.NDArray[Any] | None = None,
        fte: Sequence[Any] | npt.NDArray[Any] | None = None,
        start: Sequence[Any] | npt.NDArray[Any] | None = None,
        end: Sequence[Any] | npt.NDArray[Any] | None = None,
        attributes: Mapping[str, Sequence[Any] | npt.NDArray[Any]] | None = None,
        levels_spec: Levels = DEFAULT_LEVELS,
    ) -> OrgTree:
        """Build a tree from columns: the fast path for large organisations.

        In these columns ``NaN`` (numbers) and ``NaT`` (dates) mean "not given". Rows given in
        breadth-first order (the root, then each depth's nodes grouped by parent, as an extract
        sorted by level and parent usually is) compile without copies: :attr:`compiled` then shares
        this tree's columns, about 56 MB less per million nodes.

        Args:
            ids: Node ids (strings), one per row.
            parents: Either integer row indices of each parent (-1 for the root), or parent ids
                (strings, ``None`` for the root).
            levels: Either integer level codes (indices into ``levels_spec.names``) or level names.
            names: Display names; default the ids.
            fte: fte per row (``NaN`` = not given).
            start: Start dates: ``datetime64`` (whole days) or dates / ISO strings / ``None``.
            end: End dates, like ``start``.
            attributes: Free attribute name -> values per row (``NaN`` = not given).
            levels_spec: The declared level order.

        Raises:
            InvalidTreeError: Any defect, as the specific subclass described on :class:`OrgTree`;
                a column of the wrong length raises the base class.

        Example:
            >>> import numpy as np
            >>> tree = OrgTree.from_arrays(
            ...     ["acme", "east", "ann"], np.array([-1, 0, 1]), np.array([0, 1, 4]),
            ...     fte=[np.nan, np.nan, 0.5], levels_spec=Levels(
            ...         ranks=("company", ("region", "product_line"), "team", "individual"),
            ...         skippable=frozenset({"team"})))
            >>> tree.path("ann"), tree.node("ann").level, tree.node("ann").fte
            ('acme/east/ann', 'individual', 0.5)
        """
        raw = _Raw(
            ids=ids,
            parents=_as_array_if_numeric(parents),
            levels=_as_array_if_numeric(levels),
            names=names,
            fte=fte,
            start=start,
            end=end,
            extras=dict(attributes or {}),
            nan_missing=True,
        )
        return _build(raw, levels_spec)

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, *, levels: Levels | None = None) -> OrgTree:
        """Build a tree from a directed graph with edges parent -> child.

        Node keys are the ids; node attributes are the other record keys (``level``, ``name``,
        ``fte``, ``start_date``, ``end_date``, free attributes). Rows are numbered in the graph's
        node order, which is also the input order (children order).

        Args:
            graph: A ``networkx.DiGraph``.
            levels: The level order; by default ``graph.graph["levels"]`` (as written by
                :meth:`to_networkx`) or :data:`DEFAULT_LEVELS`.

        Raises:
            InvalidTreeError: Not a directed graph, a node with two parents, a node attribute named
                ``id`` or ``parent``, or any defect of :meth:`from_records`.

        Example:
            >>> import networkx as nx
            >>> g = nx.DiGraph([("acme", "east")])
            >>> nx.set_node_attributes(g, {"acme": "company", "east": "region"}, "level")
            >>> OrgTree.from_networkx(g).children("acme")
            ('east',)
        """
        if not isinstance(graph, nx.DiGraph):
            msg = f"expected a networkx.DiGraph, got {type(graph).__name__}"
            raise InvalidTreeError(
                msg,
                hint="build a DiGraph with edges parent -> child",
            )
        if levels is None:
            stored = graph.graph.get("levels")
            levels = DEFAULT_LEVELS if stored is None else Levels.from_dict(stored)
        records: list[dict[str, Any]] = []
        for row, (node, data) in enumerate(graph.nodes(data=True)):
            clash = sorted({"id", "parent"} & set(data))
            if clash:
                msg = f"node {node!r} (row {row}) has a node attribute {clash[0]!r}"
                raise InvalidTreeError(
                    msg,
                    node=str(node),
                    row=row,
                    hint="the node key is the id and edges give the parent; drop the attribute",
                )
            parents = list(graph.predecessors(node))
            if len(parents) > 1:
                msg = (
                    f"node {node!r} (row {row}) has {len(parents)} parents: "
                    f"{', '.join(repr(p) for p in parents)}"
                )
                raise InvalidTreeError(
                    msg,
                    node=str(node),
                    row=row,
                    hint="keep exactly one incoming edge (parent -> child) per node",
                )
            records.append({**data, "id": node, "parent": parents[0] if parents else None})
        return _build(_transpose(records), levels)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, levels: Levels = DEFAULT_LEVELS) -> OrgTree:
        """Build a tree from a pandas DataFrame with one row per node (needs the ``pandas`` extra).

        Columns are the record keys; ``id`` may also be the index name. Missing values (``NaN``,
        ``None``, ``NaT``, ``pd.NA``) mean "not given" (for ``parent``: the root). Integer ids are
        converted with ``str()``, also when a missing root parent turned the parent column into
        floats.
        Datetime columns must hold whole days. Rows are numbered by position.

        Args:
            frame: The nodes.
            levels: The declared level order.

        Raises:
            MissingExtraError: pandas is not installed.
            InvalidTreeError: Any defect, as the specific subclass described on :class:`OrgTree`.

        Example:
            >>> import pandas as pd
            >>> frame = pd.DataFrame({"id": ["acme", "east"], "parent": [None, "acme"],
            ...                       "level": ["company", "region"], "potential": [None, 7.0]})
            >>> OrgTree.from_frame(frame).node("east").attributes
            {'potential': 7.0}
        """
        try:
            # pandas is an optional extra, imported only when a frame is read
            import pandas as pd  # noqa: PLC0415
        except ImportError as exc:
            raise MissingExtraError(
                "pandas is needed for OrgTree.from_frame",
                hint="pip install 'targetcascade[pandas]'",
            ) from exc
        if not isinstance(frame, pd.DataFrame):
            msg = f"expected a pandas DataFrame, got {type(frame).__name__}"
            raise InvalidTreeError(
                msg,
                hint="use OrgTree.from_records for an iterable of dicts",
            )
        if "id" not in frame.columns and frame.index.name == "id":
            frame = frame.reset_index()
        columns = list(frame.columns)
        for name in ("id", "level"):
            if name not in columns:
                msg = f"the frame has no {name!r} column"
                raise InvalidTreeError(
                    msg,
                    hint=f"columns found: {', '.join(map(str, columns))}",
                )
        if len(set(columns)) != len(columns):
            raise InvalidTreeError(
                "the frame has repeated column names", hint="give each column a unique name"
            )

        def objects(name: str) -> list[Any] | None:
            if name not in columns:
                return None
            series = frame[name]
            values: list[Any] = series.to_numpy(dtype=object).tolist()
            for i in np.flatnonzero(series.isna().to_numpy()).tolist():
                values[i] = None
            return values

        def numbers_of(name: str) -> list[Any] | FloatArray | None:
            if name not in columns:
                return None
            series = frame[name]
            if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                return series.to_numpy(dtype=np.float64, na_value=np.nan)
            return objects(name)

        def dates_of(name: str) -> list[Any] | DateArray | None:
            if name not in columns:
                return None
            series = frame[name]
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                msg = f"column {name!r} holds time-zone aware timestamps"
                raise InvalidAttributeError(msg, hint=_DATE_HINT)
            if pd.api.types.is_datetime64_dtype(series):
                return series.to_numpy(dtype="datetime64[ns]")
            return objects(name)

        parents = objects("parent")
        if parents is not None:
            # a missing root parent turns an integer parent column into floats: 3.0 means id "3"
            parents = [int(p) if isinstance(p, float) and p.is_integer() else p for p in parents]
        n = len(frame)
        raw = _Raw(
            ids=objects("id") or [],
            parents=parents if parents is not None else [None] * n,
            levels=objects("level") or [],
            names=objects("name"),
            fte=numbers_of("fte"),
            start=dates_of("start_date"),
            end=dates_of("end_date"),
            nan_missing=True,
        )
        for name in columns:
            if name not in RESERVED_KEYS:
                if not isinstance(name, str):
                    msg = f"column {name!r} is not named by a string"
                    raise InvalidAttributeError(
                        msg,
                        hint="name attribute columns with strings",
                    )
                values = numbers_of(name)
                assert values is not None
                raw.extras[name] = values
        return _build(raw, levels)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrgTree:
        """Read a tree written by :meth:`to_dict`.

        Raises:
            SerializationError: Unknown ``schema_version`` or a malformed layout.
            InvalidTreeError: The nodes themselves are invalid.

        Example:
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company"}])
            >>> OrgTree.from_dict(tree.to_dict()) == tree
            True
        """
        if not isinstance(data, Mapping):
            msg = f"expected a mapping, got {type(data).__name__}"
            raise SerializationError(
                msg,
                hint="pass OrgTree.to_dict() output",
            )
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            msg = f"unknown org tree schema_version {version!r}"
            raise SerializationError(
                msg,
                expected=SCHEMA_VERSION,
                actual=version,
                hint=f"this version of targetcascade reads schema_version {SCHEMA_VERSION}",
            )
        nodes = data.get("nodes")
        levels = data.get("levels")
        if not isinstance(nodes, list) or not isinstance(levels, Mapping):
            raise SerializationError(
                "an org tree dict needs a 'levels' mapping and a 'nodes' list",
                hint="pass OrgTree.to_dict() output",
            )
        return _build(_transpose(nodes), Levels.from_dict(levels))

    # ------------------------------------------------------------------------------------- exports

    def to_records(self) -> list[dict[str, Any]]:
        """One record per node in input order, holding only the values that were given.

        :meth:`from_records` reads them back into an equal tree.

        Example:
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company", "name": "Acme"}])
            >>> tree.to_records()
            [{'id': 'acme', 'parent': None, 'level': 'company', 'name': 'Acme'}]
        """
        ids = self._ids
        level_names = self._levels.names
        parents = self._parent.tolist()
        codes = self._level_code.tolist()
        fte = self._fte.tolist()
        starts = self._start.tolist()
        ends = self._end.tolist()
        extras = [(key, values.tolist()) for key, values in self._attributes.items()]
        records: list[dict[str, Any]] = []
        for row, node_id in enumerate(ids):
            parent = parents[row]
            record: dict[str, Any] = {
                "id": node_id,
                "parent": ids[parent] if parent >= 0 else None,
                "level": level_names[codes[row]],
                "name": self._names[row],
            }
            if fte[row] == fte[row]:  # not NaN
                record["fte"] = fte[row]
            if starts[row] is not None:
                record["start_date"] = starts[row]
            if ends[row] is not None:
                record["end_date"] = ends[row]
            for key, values in extras:
                if values[row] == values[row]:
                    record[key] = values[row]
            records.append(record)
        return records

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (dates as ISO strings) with ``"schema_version": 1``.

        Example:
            >>> import json
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company",
            ...                               "start_date": "2027-01-01"}])
            >>> print(json.dumps(tree.to_dict()["nodes"], indent=1))
            [
             {
              "id": "acme",
              "parent": null,
              "level": "company",
              "name": "acme",
              "start_date": "2027-01-01"
             }
            ]
        """
        nodes = self.to_records()
        for record in nodes:
            for key in ("start_date", "end_date"):
                if key in record:
                    record[key] = record[key].isoformat()
        return {"schema_version": SCHEMA_VERSION, "levels": self._levels.to_dict(), "nodes": nodes}

    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph`` with edges parent -> child; :meth:`from_networkx` reads it back.

        Nodes are added in input order and carry the record values that were given (``level``,
        ``name``, ``fte``, dates, free attributes); ``graph.graph["levels"]`` holds the level order.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"])
            >>> g = tree.to_networkx()
            >>> list(g.edges), g.nodes["east"]["level"]
            ([('acme', 'east')], 'region')
        """
        graph = nx.DiGraph(levels=self._levels.to_dict())
        records = self.to_records()
        graph.add_nodes_from(
            (r["id"], {k: v for k, v in r.items() if k not in ("id", "parent")}) for r in records
        )
        graph.add_edges_from((r["parent"], r["id"]) for r in records if r["parent"] is not None)
        return graph

    # ------------------------------------------------------------------------------------- queries

    @property
    def levels(self) -> Levels:
        """The declared level order."""
        return self._levels

    @property
    def root(self) -> str:
        """The root's id.

        Example:
            >>> OrgTree.from_arrays(["east", "acme"], [1, -1], ["region", "company"]).root
            'acme'
        """
        return self._ids[self._root]

    @property
    def ids(self) -> tuple[str, ...]:
        """All node ids in input order."""
        return self._ids

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Names of the free attributes that at least one node carries, in order of appearance.

        Example:
            >>> OrgTree.from_records([{"id": "acme", "level": "company", "potential": 1,
            ...                        "history": None}]).attribute_names
            ('potential',)
        """
        return tuple(self._attributes)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, node_id: object) -> bool:
        return isinstance(node_id, str) and node_id in self._index.rows()

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __repr__(self) -> str:
        return f"OrgTree(root={self.root!r}, nodes={len(self)}, levels='{self._levels}')"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrgTree):
            return NotImplemented
        if self is other:
            return True
        if self._levels != other._levels or len(self) != len(other):
            return False
        if self._attributes.keys() != other._attributes.keys():
            return False
        a, b = self.compiled, other.compiled
        if a.ids != b.ids:
            return False
        a_rows, b_rows = a.input_order.tolist(), b.input_order.tolist()
        if [self._names[r] for r in a_rows] != [other._names[r] for r in b_rows]:
            return False
        return (
            np.array_equal(a.parent, b.parent)
            and np.array_equal(a.level_code, b.level_code)
            and np.array_equal(a.fte, b.fte, equal_nan=True)
            and np.array_equal(a.start.view(np.int64), b.start.view(np.int64))
            and np.array_equal(a.end.view(np.int64), b.end.view(np.int64))
            and all(
                np.array_equal(a.attributes[k], b.attributes[k], equal_nan=True)
                for k in a.attributes
            )
        )

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash((self._levels, self.compiled.ids)))
        assert self._hash is not None
        return self._hash

    def _row(self, node_id: str) -> int:
        try:
            return self._index.rows()[node_id]
        except (KeyError, TypeError):
            raise _unknown_node(node_id, self._ids) from None

    def node(self, node_id: str) -> Node:
        """The node ``node_id`` as a :class:`Node` value.

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree; the message suggests close ids.

        Example:
            >>> tree = OrgTree.from_records([{"id": "acme", "level": "company", "fte": 3}])
            >>> tree.node("acme")
            Node(id='acme', name='acme', level='company', parent=None, fte=3.0, start_date=None,
                 end_date=None, attributes={})
            >>> tree.node("acne")
            Traceback (most recent call last):
            ...
            targetcascade.errors.UnknownNodeError: no node 'acne' in the tree (did you mean ...
        """
        row = self._row(node_id)
        parent = int(self._parent[row])
        fte = float(self._fte[row])
        return Node(
            id=self._ids[row],
            name=self._names[row],
            level=self._levels.names[int(self._level_code[row])],
            parent=self._ids[parent] if parent >= 0 else None,
            fte=None if np.isnan(fte) else fte,
            start_date=self._start[row].item(),
            end_date=self._end[row].item(),
            attributes={
                key: float(values[row])
                for key, values in self._attributes.items()
                if not np.isnan(values[row])
            },
        )

    def parent(self, node_id: str) -> str | None:
        """The parent's id, ``None`` for the root.

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree.

        Example:
            >>> OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"]).parent("east")
            'acme'
        """
        parent = int(self._parent[self._row(node_id)])
        return self._ids[parent] if parent >= 0 else None

    def children(self, node_id: str) -> tuple[str, ...]:
        """The children's ids, in input order.

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "west", "east"], [-1, 0, 0],
            ...                            ["company", "region", "region"])
            >>> tree.children("acme")
            ('west', 'east')
        """
        compiled = self.compiled
        position = compiled.index(node_id)
        offsets = compiled.child_offsets
        return compiled.ids[int(offsets[position]) : int(offsets[position + 1])]

    def ancestors(self, node_id: str) -> tuple[str, ...]:
        """The ancestors' ids, parent first, root last (empty for the root).

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east", "east-1"], [-1, 0, 1],
            ...                            ["company", "region", "team"])
            >>> tree.ancestors("east-1")
            ('east', 'acme')
        """
        out: list[str] = []
        row = int(self._parent[self._row(node_id)])
        while row >= 0:  # depth is bounded by the number of ranks
            out.append(self._ids[row])
            row = int(self._parent[row])
        return tuple(out)

    def _subtree_blocks(self, node_id: str) -> list[tuple[int, int]]:
        """Compiled position ranges of the subtree of ``node_id``, one per depth, node first.

        In breadth-first order the children of a contiguous block of nodes are again contiguous, so
        each depth of a subtree is one range: ``[offsets[a], offsets[b])`` below block ``[a, b)``.
        """
        compiled = self.compiled
        offsets = compiled.child_offsets
        a = compiled.index(node_id)
        b = a + 1
        blocks = [(a, b)]
        while True:
            a, b = int(offsets[a]), int(offsets[b])
            if a == b:
                return blocks
            blocks.append((a, b))

    def descendants(self, node_id: str) -> tuple[str, ...]:
        """All descendants' ids, breadth first (children in input order), without the node itself.

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east", "east-1", "west"], [-1, 0, 1, 0],
            ...                            ["company", "region", "team", "region"])
            >>> tree.descendants("acme")
            ('east', 'west', 'east-1')
        """
        ids = self.compiled.ids
        out: list[str] = []
        for a, b in self._subtree_blocks(node_id)[1:]:
            out.extend(ids[a:b])
        return tuple(out)

    def depth(self, node_id: str) -> int:
        """The number of edges between the root and ``node_id``.

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east"], [-1, 0], ["company", "region"])
            >>> tree.depth("acme"), tree.depth("east")
            (0, 1)
        """
        return len(self.ancestors(node_id))

    def path(self, node_id: str) -> str:
        """The ids from the root down to ``node_id`` joined by ``/``, for display.

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east", "east-1"], [-1, 0, 1],
            ...                            ["company", "region", "team"])
            >>> tree.path("east-1")
            'acme/east/east-1'
        """
        return "/".join([*reversed(self.ancestors(node_id)), node_id])

    def leaves(self) -> tuple[str, ...]:
        """Ids of the nodes without children, in input order (leaves may sit at any level).

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east", "east-1", "west"], [-1, 0, 1, 0],
            ...                            ["company", "region", "team", "region"])
            >>> tree.leaves()
            ('east-1', 'west')
        """
        compiled = self.compiled
        rows = np.sort(compiled.input_order[compiled.is_leaf])
        ids = self._ids
        return tuple(ids[r] for r in rows.tolist())

    def nodes_at(self, level: str) -> tuple[str, ...]:
        """Ids of the nodes of level ``level``, in input order.

        Raises:
            LevelOrderError: ``level`` is not a declared level.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east", "west"], [-1, 0, 0],
            ...                            ["company", "region", "product_line"])
            >>> tree.nodes_at("region"), tree.nodes_at("team")
            (('east',), ())
        """
        code = self._levels.code(level)
        ids = self._ids
        return tuple(ids[r] for r in np.flatnonzero(self._level_code == code).tolist())

    @property
    def compiled(self) -> CompiledTree:
        """The breadth-first array form (:class:`CompiledTree`), built on first use and cached."""
        if self._compiled is None:
            object.__setattr__(self, "_compiled", self._compile())
        assert self._compiled is not None
        return self._compiled

    def _compile(self) -> CompiledTree:
        n = len(self._ids)
        parent = self._parent
        # Children grouped by parent row, input order within a parent (stable sort); root first.
        by_parent = np.argsort(parent, kind="stable")
        n_children = np.bincount(parent[parent >= 0], minlength=n).astype(np.int64)
        row_offsets = np.concatenate([[1], 1 + np.cumsum(n_children)]).astype(np.int64)
        # Breadth first, one vectorised step per depth (depth <= number of ranks).
        frontier = np.array([self._root], dtype=np.int64)
        layers = [frontier]
        while True:
            counts = n_children[frontier]
            total = int(counts.sum())
            if total == 0:
                break
            starts = row_offsets[frontier]
            # positions into by_parent of all children of the frontier, parent after parent
            shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
            frontier = by_parent[shift + np.arange(total, dtype=np.int64)]
            layers.append(frontier)
        order = np.concatenate(layers)
        sizes = np.array([len(layer) for layer in layers], dtype=np.int64)
        depth = np.repeat(np.arange(len(layers), dtype=np.int64), sizes)
        depth_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        counts_pos = n_children[order]
        child_offsets = np.concatenate([[1], 1 + np.cumsum(counts_pos)]).astype(np.int64)
        ids: tuple[str, ...] = self._ids
        level_code, fte, start, end = self._level_code, self._fte, self._start, self._end
        attributes = dict(self._attributes)
        if bool((order == np.arange(n, dtype=np.int64)).all()):
            # Rows already breadth first (as a generated or sorted extract usually is): each
            # per-row column is per position already, so the compiled form shares the tree's
            # read-only arrays and id tuple instead of copying them (about 56 MB per million
            # nodes). The root is row 0, so parent rows are parent positions too.
            parent_pos = parent
            position_of_row = order
        else:
            position_of_row = np.empty(n, dtype=np.int64)
            position_of_row[order] = np.arange(n, dtype=np.int64)
            parent_pos = np.full(n, -1, dtype=np.int64)
            parent_pos[1:] = position_of_row[parent[order[1:]]]
            ids = tuple(ids[r] for r in order.tolist())
            level_code, fte = level_code[order], fte[order]
            start, end = start[order], end[order]
            attributes = {k: v[order] for k, v in attributes.items()}
        return CompiledTree(
            levels=self._levels,
            ids=ids,
            parent=_readonly(parent_pos),
            depth=_readonly(depth),
            child_offsets=_readonly(child_offsets),
            depth_offsets=_readonly(depth_offsets),
            level_code=_readonly(level_code),
            input_order=_readonly(order),
            position=PositionMap(self._index, _readonly(position_of_row)),
            is_leaf=_readonly(counts_pos == 0),
            fte=_readonly(fte),
            start=_readonly(start),
            end=_readonly(end),
            attributes={k: _readonly(v) for k, v in attributes.items()},
        )

    # ------------------------------------------------------------------------------------- re-orgs

    def add_node(self, **record: Any) -> OrgTree:
        """A new tree with one more node (keys as in :meth:`from_records`); this tree is unchanged.

        Raises:
            InvalidTreeError: The new node is invalid; rows in the message count added records.

        Example:
            >>> tree = OrgTree.from_arrays(["acme"], [-1], ["company"])
            >>> bigger = tree.add_node(id="east", parent="acme", level="region")
            >>> len(tree), bigger.children("acme")
            (1, ('east',))
        """
        return self.add_nodes([record])

    def add_nodes(self, records: Iterable[Mapping[str, Any]]) -> OrgTree:
        """A new tree with the ``records`` appended (as the last children of their parents).

        The new records may refer to each other in any order.

        Raises:
            InvalidTreeError: A new node is invalid; rows in the message count the added records.

        Example:
            >>> tree = OrgTree.from_arrays(["acme"], [-1], ["company"])
            >>> tree.add_nodes([{"id": "e1", "parent": "east", "level": "team"},
            ...                 {"id": "east", "parent": "acme", "level": "region"}]).path("e1")
            'acme/east/e1'
        """
        return _build(_transpose(records), self._levels, base=self)

    def remove_subtree(self, node_id: str) -> OrgTree:
        """A new tree without ``node_id`` and its descendants; this tree is unchanged.

        Raises:
            UnknownNodeError: ``node_id`` is not in the tree.
            MultipleRootsError: ``node_id`` is the root (a tree cannot be empty).

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east", "east-1", "west"], [-1, 0, 1, 0],
            ...                            ["company", "region", "team", "region"])
            >>> tree.remove_subtree("east").ids
            ('acme', 'west')
        """
        row = self._row(node_id)
        if row == self._root:
            msg = f"cannot remove the root {node_id!r}: the tree would have no root"
            raise MultipleRootsError(
                msg,
                node=node_id,
                hint="build a new tree instead",
            )
        input_order = self.compiled.input_order
        keep = np.ones(len(self), dtype=np.bool_)
        for a, b in self._subtree_blocks(node_id):
            keep[input_order[a:b]] = False
        return self._take(np.flatnonzero(keep), new_parent_of=None)

    def move_subtree(self, node_id: str, new_parent: str) -> OrgTree:
        """A new tree with ``node_id`` and its subtree moved to be the last child of ``new_parent``.

        Raises:
            UnknownNodeError: Either id is not in the tree.
            CycleError: ``new_parent`` lies in the subtree of ``node_id`` (or is the node itself).
            LevelOrderError: The node's level may not sit under the new parent's level.

        Example:
            >>> tree = OrgTree.from_arrays(["acme", "east", "east-1", "west"], [-1, 0, 1, 0],
            ...                            ["company", "region", "team", "region"])
            >>> moved = tree.move_subtree("east-1", "west")
            >>> moved.path("east-1"), tree.path("east-1")
            ('acme/west/east-1', 'acme/east/east-1')
        """
        row = self._row(node_id)
        target = self._row(new_parent)
        if node_id == new_parent or node_id in self.ancestors(new_parent):
            msg = f"cannot move {node_id!r} under {new_parent!r}, which is inside its own subtree"
            raise CycleError(
                msg,
                node=node_id,
                hint="choose a new parent outside the subtree being moved",
            )
        level = self._levels.names[int(self._level_code[row])]
        target_level = self._levels.names[int(self._level_code[target])]
        if not self._levels.allows(target_level, level):
            msg = (
                f"cannot move {node_id!r} (level {level!r}) under {new_parent!r} (level "
                f"{target_level!r}): that breaks the order {self._levels}"
            )
            raise LevelOrderError(
                msg,
                node=node_id,
                hint="move it under a node of a level above it, or change the level order",
            )
        n = len(self)
        order = np.concatenate(
            [np.arange(row, dtype=np.int64), np.arange(row + 1, n, dtype=np.int64), [row]]
        )
        return self._take(order, new_parent_of=(row, target))

    def _take(self, rows: IntArray, *, new_parent_of: tuple[int, int] | None) -> OrgTree:
        """The tree of ``rows`` (in that order), optionally re-parenting one row; revalidated."""
        n = len(self)
        parent = self._parent.copy()
        if new_parent_of is not None:
            parent[new_parent_of[0]] = new_parent_of[1]
        new_row = np.full(n, -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows), dtype=np.int64)
        old_parent = parent[rows]
        new_parent = np.where(old_parent >= 0, new_row[np.maximum(old_parent, 0)], -1)
        ids = [self._ids[r] for r in rows.tolist()]
        level_code = self._level_code[rows]
        root = _check_structure(self._levels, new_parent, level_code, _Rows(ids))
        return OrgTree._trusted(
            levels=self._levels,
            ids=ids,
            names=[self._names[r] for r in rows.tolist()],
            parent=new_parent,
            level_code=level_code,
            fte=self._fte[rows],
            start=self._start[rows],
            end=self._end[rows],
            attributes={k: v[rows] for k, v in self._attributes.items()},
            root=root,
        )


def _restore(state: dict[str, Any]) -> OrgTree:
    """Unpickle: the columns were validated when the tree was first built."""
    return OrgTree._trusted(**state)


def _as_array_if_numeric(values: Sequence[Any] | npt.NDArray[Any]) -> Sequence[Any] | IntArray:
    """Integer columns (row indices, level codes) become int64 arrays; anything else is kept."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "iu":
            return values.astype(np.int64)
        return values
    items = list(values)
    if items and all(type(v) is int for v in items):
        return np.asarray(items, dtype=np.int64)
    return items
