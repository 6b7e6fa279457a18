"""Hypothesis strategy for organisation trees, for property-testing code that takes an OrgTree.

Re-exported as ``targetcascade.testing.org_trees``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from targetcascade.org import DEFAULT_LEVELS, RESERVED_KEYS, Levels, OrgTree

__all__ = ["org_trees"]

# Ids are a drawn prefix from a small alphabet ("-" and "_" as real ids often have) and a number.
_ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz0123456789-_"
_FIRST_DAY: Final = dt.date(2020, 1, 1)
_LAST_DAY: Final = dt.date(2030, 12, 31)


def org_trees(
    min_nodes: int = 1,
    max_nodes: int = 40,
    levels: Levels = DEFAULT_LEVELS,
    attributes: Sequence[str] = ("potential",),
) -> st.SearchStrategy[OrgTree]:
    """Valid random organisation trees: random shapes, levels, values and row order.

    Each node after the root hangs under a random earlier node whose level admits children, at a
    random level the declared order allows there (so skippable ranks do get skipped), which means
    leaves sit at any level. Each node may carry an ``fte``, a start date, an end date on or after
    it, a display name and a value for each free attribute; any of them may be missing. The rows are
    handed to :meth:`~targetcascade.org.OrgTree.from_records` in a random order, so children often
    come before their parents. Ids are unique short strings. Shrinking goes towards flat trees in
    breadth-first row order with few values.

    Args:
        min_nodes: Smallest tree size (at least 1).
        max_nodes: Largest tree size.
        levels: The level order of the trees.
        attributes: Names of the free numeric attributes nodes may carry (each a finite number
            >= 0 when given).

    Returns:
        A strategy producing valid :class:`~targetcascade.org.OrgTree` values.

    Raises:
        hypothesis.errors.InvalidArgument: Bad sizes, a ``levels`` that is not a
            :class:`~targetcascade.org.Levels`, a reserved or empty attribute name, or ``min_nodes >
            1`` with a level order where no possible root admits a child.

    Example:
        Use it with ``@given`` in a test::

            from hypothesis import given
            from targetcascade.testing import org_trees

            @given(org_trees(max_nodes=20, attributes=("potential", "history")))
            def test_my_weights_cover_every_child(tree):
                for node_id in tree:
                    assert len(my_weights(tree, node_id)) == len(tree.children(node_id))

        >>> isinstance(org_trees(max_nodes=5), st.SearchStrategy)
        True
    """
    sizes: tuple[object, object] = (min_nodes, max_nodes)  # user input: check before trusting
    if not all(isinstance(size, int) for size in sizes):
        msg = f"org_trees needs integer sizes, got min_nodes={min_nodes!r}, max_nodes={max_nodes!r}"
        raise InvalidArgument(msg)
    if not 1 <= min_nodes <= max_nodes:
        msg = f"org_trees needs 1 <= min_nodes <= max_nodes, got {min_nodes} and {max_nodes}"
        raise InvalidArgument(msg)
    if not isinstance(levels, Levels):
        msg = f"org_trees(levels=...) needs a Levels, got {levels!r}"
        raise InvalidArgument(msg)
    names = tuple(attributes)
    for name in names:
        checked: object = name
        if not isinstance(checked, str) or not name or name in RESERVED_KEYS:
            msg = f"org_trees(attributes=...) got {name!r}, not a free attribute name"
            raise InvalidArgument(msg)
    children_of = {
        parent: tuple(child for child in levels.names if levels.allows(parent, child))
        for parent in levels.names
    }
    roots = tuple(level for level in levels.names if levels.allows(None, level))
    if min_nodes > 1:
        roots = tuple(level for level in roots if children_of[level])
        if not roots:
            msg = f"no tree of {min_nodes} nodes fits the level order {levels}"
            raise InvalidArgument(msg)
    return _org_trees(
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        levels=levels,
        attributes=names,
        roots=roots,
        children_of=children_of,
    )


@st.composite
def _org_trees(
    draw: st.DrawFn,
    *,
    min_nodes: int,
    max_nodes: int,
    levels: Levels,
    attributes: tuple[str, ...],
    roots: tuple[str, ...],
    children_of: dict[str, tuple[str, ...]],
) -> OrgTree:
    # The parents are drawn node by node so that shapes shrink well. Levels, and values from small
    # drawn pools (so hypothesis still reaches 0.0, subnormals, leap days...), are spread over the
    # nodes by a seeded random: every draw costs hypothesis overhead, and a draw per value per node
    # made a 40-node tree ten times slower to generate.
    rnd = draw(st.randoms(use_true_random=True))
    root_level = draw(st.sampled_from(roots))
    size = draw(st.integers(min_nodes, max_nodes)) if children_of[root_level] else 1
    node_levels = [root_level]
    parents: list[int] = [-1]
    can_parent: list[int] = [0]  # nodes whose level admits children
    # strategies are made once, not per node: making one costs more than drawing from it
    pick_index = [st.integers(0, k) for k in range(size)]
    for i in range(1, size):
        # shrinks towards index 0: towards the root, so towards flat trees
        parent = can_parent[draw(pick_index[len(can_parent) - 1])]
        parents.append(parent)
        level = rnd.choice(children_of[node_levels[parent]])
        node_levels.append(level)
        if children_of[level]:
            can_parent.append(i)
    prefix = draw(st.text(_ID_ALPHABET, max_size=3))
    ids = [f"{prefix}{i}" for i in range(size)]
    label = draw(st.text(max_size=6))
    ftes = draw(st.lists(st.floats(0, 5), max_size=3))
    days = draw(st.lists(st.dates(_FIRST_DAY, _LAST_DAY), max_size=3))
    amounts = draw(st.lists(st.floats(0, 1e9), max_size=3)) if attributes else []
    records: list[dict[str, Any]] = []
    for i, node_id in enumerate(ids):
        record: dict[str, Any] = {
            "id": node_id,
            "parent": ids[parents[i]] if parents[i] >= 0 else None,
            "level": node_levels[i],
        }
        values: dict[str, Any] = {
            "name": rnd.choice([None, label, f"{label} {i}"]),
            "fte": rnd.choice([None, *ftes]),
            "start_date": rnd.choice([None, *days]),
        }
        start = values["start_date"]
        values["end_date"] = rnd.choice([None, *(d for d in days if start is None or d >= start)])
        values.update({name: rnd.choice([None, *amounts]) for name in attributes})
        # a value not given is sometimes None, sometimes a missing key: both mean "not given"
        record.update(
            (key, value) for key, value in values.items() if value is not None or rnd.random() < 0.3
        )
        records.append(record)
    rnd.shuffle(records)
    return OrgTree.from_records(records, levels=levels)
