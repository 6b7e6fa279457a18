"""Tables with two fixed margins: fitting (IPF) and integer rounding that keeps both (private).

A region x product-line target matrix, or a child x month table, must match its row totals and its
column totals at once. :func:`fit_ipf` scales a seed table to both margins by iterative
proportional fitting; :func:`round_matrix` turns a table whose margins are integers into an integer
table with every cell the floor or the ceiling of its value and both margins exact. Such a rounding
always exists (Bacharach, "Matrix rounding problems", Management Science 12(9), 1966): the
fractional parts form a feasible flow, so an integral one exists. With three or more fixed margins
it may not, and nothing here pretends otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import networkx as nx
import numpy as np
import numpy.typing as npt

from targetcascade.errors import InfeasibleAllocationError

__all__ = ["fit_ipf", "round_matrix"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_COST_SCALE: Final = 2**30  # fractional parts become integer costs (network simplex wants integers)


def _label(labels: Sequence[str] | None, index: int, kind: str) -> str:
    return f"{kind} {labels[index]!r}" if labels is not None else f"{kind} {index}"


def _shown(amount: Callable[[int], str] | None, value: float, bare: str | None = None) -> str:
    """An amount for a message: formatted to the nearest quantum, else ``bare`` or the number."""
    if amount is None:
        return str(value) if bare is None else bare
    return amount(round(value))


def _float_matrix(value: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2:
        raise InfeasibleAllocationError(
            f"{name} must be a 2-D table, got shape {array.shape}",
            hint="pass one row per row label and one column per column label",
        )
    bad = ~np.isfinite(array)
    if bad.any():
        r, c = (int(x) for x in np.argwhere(bad)[0])
        raise InfeasibleAllocationError(
            f"{name} cell ({r}, {c}) is {array[r, c]!r}; cells must be finite",
            row=r,
            actual=float(array[r, c]),
            hint="replace missing cells by 0 or drop the row",
        )
    return array


def _margin(value: npt.ArrayLike, size: int, name: str, *, integer: bool) -> npt.NDArray[Any]:
    array = np.asarray(value)
    if array.shape != (size,):
        raise InfeasibleAllocationError(
            f"{name} must have shape ({size},), got {array.shape}",
            hint="give one total per row / column of the table",
        )
    if integer:
        if not np.issubdtype(array.dtype, np.integer):
            raise InfeasibleAllocationError(
                f"{name} must be integers (quanta), got dtype {array.dtype}",
                hint="round the margins to whole quanta first (apportion does that exactly)",
            )
        return array.astype(np.int64)
    array = array.astype(np.float64)
    bad = ~(np.isfinite(array) & (array >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InfeasibleAllocationError(
            f"{name}[{i}] is {array[i]!r}; margins must be finite and >= 0",
            row=i,
            actual=float(array[i]),
            hint="fix the margin",
        )
    return array


def fit_ipf(
    seed: npt.ArrayLike,
    row_totals: npt.ArrayLike,
    col_totals: npt.ArrayLike,
    *,
    tol: float = 1e-10,
    max_iter: int = 1000,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    amount: Callable[[int], str] | None = None,
) -> FloatArray:
    """Scale ``seed`` to the given row and column totals by iterative proportional fitting.

    Rows and columns are rescaled in turn (RAS; Deming & Stephan, "On a least squares adjustment
    of a sampled frequency table when the expected marginal totals are known", Ann. Math. Statist.
    11(4), 1940, doi:10.1214/aoms/1177731829). The result keeps the seed's zero cells and its
    cross-product ratios, and is the table closest to the seed in Kullback-Leibler divergence that
    has the margins.

    Args:
        seed: Non-negative table ``(rows, cols)``, e.g. last year's actuals.
        row_totals: Target row sums ``(rows,)``, ``>= 0``.
        col_totals: Target column sums ``(cols,)``, ``>= 0``; same grand total as the rows.
        tol: Stop when every row and column sum is within ``tol`` times the grand total (at least
            ``tol``) of its target.
        max_iter: Give up after this many row-and-column sweeps.
        row_labels: Names of the rows, for error messages.
        col_labels: Names of the columns, for error messages.
        amount: Formats an amount of quanta for error messages (e.g. ``Metric.format``); by
            default amounts are shown bare (the fit is unit-free).

    Returns:
        The fitted float table.

    Raises:
        InfeasibleAllocationError: Negative or non-finite input, grand totals that differ, a row or
            column whose seed is all zero under a positive total, or margins that the seed's zero
            pattern cannot reach (no convergence); the message names the row or column.

    Example:
        >>> fit_ipf([[1.0, 1.0], [1.0, 3.0]], [4.0, 6.0], [5.0, 5.0]).round(4).tolist()
        [[2.6411, 1.3589], [2.3589, 3.6411]]
    """
    x = _float_matrix(seed, "seed").copy()
    n_rows, n_cols = x.shape
    rows = _margin(row_totals, n_rows, "row_totals", integer=False)
    cols = _margin(col_totals, n_cols, "col_totals", integer=False)
    if (x < 0).any():
        r, c = (int(v) for v in np.argwhere(x < 0)[0])
        raise InfeasibleAllocationError(
            f"seed cell ({_label(row_labels, r, 'row')}, {_label(col_labels, c, 'column')}) is "
            f"negative ({x[r, c]})",
            row=r,
            actual=float(x[r, c]),
            hint="IPF needs a non-negative seed",
        )
    grand = float(rows.sum())
    scale = max(grand, 1.0)
    if abs(grand - float(cols.sum())) > tol * scale:
        raise InfeasibleAllocationError(
            f"row totals sum to {_shown(amount, grand)} but column totals to "
            f"{_shown(amount, float(cols.sum()))}",
            expected=grand,
            actual=float(cols.sum()),
            hint="the two margins must share one grand total",
        )
    _check_support(x.sum(axis=1), rows, row_labels, "row", amount)
    _check_support(x.sum(axis=0), cols, col_labels, "column", amount)
    for _ in range(max_iter):
        row_sum = x.sum(axis=1)
        x *= np.divide(rows, row_sum, out=np.zeros(n_rows), where=row_sum > 0)[:, None]
        col_sum = x.sum(axis=0)
        x *= np.divide(cols, col_sum, out=np.zeros(n_cols), where=col_sum > 0)[None, :]
        row_gap = np.abs(x.sum(axis=1) - rows)
        if row_gap.max(initial=0.0) <= tol * scale:
            return x
    r = int(np.argmax(row_gap))
    raise InfeasibleAllocationError(
        f"IPF did not reach the margins in {max_iter} sweeps; {_label(row_labels, r, 'row')} is "
        f"still off by {_shown(amount, float(row_gap[r]), f'{row_gap[r]:.6g}')}",
        row=r,
        expected=float(rows[r]),
        actual=float(x[r].sum()),
        hint="the seed's zero cells may make these margins unreachable; seed those cells with a "
        "small positive value or change the margins",
    )


def _check_support(
    sums: FloatArray,
    totals: FloatArray,
    labels: Sequence[str] | None,
    kind: str,
    amount: Callable[[int], str] | None = None,
) -> None:
    dead = (sums == 0) & (totals > 0)
    if dead.any():
        i = int(np.flatnonzero(dead)[0])
        raise InfeasibleAllocationError(
            f"{_label(labels, i, kind)} of the seed is all zero but its total is "
            f"{_shown(amount, float(totals[i]))}",
            row=i if kind == "row" else None,
            expected=float(totals[i]),
            actual=0.0,
            hint=f"give that {kind} a positive seed cell or a zero total",
        )


def round_matrix(
    table: npt.ArrayLike,
    row_totals: npt.ArrayLike,
    col_totals: npt.ArrayLike,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    amount: Callable[[int], str] | None = None,
) -> IntArray:
    """Round a table to integers keeping its integer row and column totals exactly.

    Every cell becomes the floor or the ceiling of its value (controlled rounding; Cox & Ernst,
    "Controlled rounding", INFOR 20(4), 1982). The floors are taken at once; which fractional cells
    round up is a flow problem: source -> row (the quanta the row still needs) -> fractional cell
    (capacity 1) -> column (the quanta it still needs) -> sink. Among the roundings that keep both
    margins, the one closest to the table is chosen: the cells rounded up have the largest total
    fractional part (fractions compared to 2**-30). Ties between equally close roundings are
    broken by networkx's minimum-cost flow on a graph built row by row, so the same input always
    gives the same output.

    Args:
        table: Float table ``(rows, cols)``, e.g. the output of :func:`fit_ipf`.
        row_totals: Integer row sums ``(rows,)``.
        col_totals: Integer column sums ``(cols,)``; same grand total as the rows.
        row_labels: Names of the rows, for error messages.
        col_labels: Names of the columns, for error messages.
        amount: Formats an amount of quanta for error messages (e.g. ``Metric.format``); by
            default amounts are shown bare (the rounding is unit-free).

    Returns:
        The int64 table.

    Raises:
        InfeasibleAllocationError: The grand totals differ, or a row or column total cannot be
            reached by rounding its cells up or down (it lies outside the sum of their floors and
            ceilings, or the rows and columns cannot agree); the message names it.

    Example:
        >>> round_matrix([[0.5, 0.5], [0.5, 0.5]], [1, 1], [1, 1]).tolist()
        [[1, 0], [0, 1]]
        >>> t = [[1.2, 2.3, 0.5], [0.8, 1.7, 2.5]]
        >>> round_matrix(t, [4, 5], [2, 4, 3]).tolist()
        [[1, 2, 1], [1, 2, 2]]
    """
    x = _float_matrix(table, "table")
    n_rows, n_cols = x.shape
    rows = _margin(row_totals, n_rows, "row_totals", integer=True)
    cols = _margin(col_totals, n_cols, "col_totals", integer=True)
    if int(rows.sum()) != int(cols.sum()):
        raise InfeasibleAllocationError(
            f"row totals sum to {_shown(amount, int(rows.sum()))} but column totals to "
            f"{_shown(amount, int(cols.sum()))}",
            expected=int(rows.sum()),
            actual=int(cols.sum()),
            hint="the two margins must share one grand total",
        )
    floors_f = np.floor(x)
    fractional = x > floors_f
    floors = floors_f.astype(np.int64)
    row_need = rows - floors.sum(axis=1)
    col_need = cols - floors.sum(axis=0)
    _check_need(row_need, fractional.sum(axis=1), row_labels, "row", amount)
    _check_need(col_need, fractional.sum(axis=0), col_labels, "column", amount)
    need = int(row_need.sum())
    if need == 0:
        return floors
    graph = nx.DiGraph()
    graph.add_node("source")
    for r in range(n_rows):
        if row_need[r] > 0:
            graph.add_edge("source", ("row", r), capacity=int(row_need[r]), weight=0)
    cells = np.argwhere(fractional & (row_need > 0)[:, None] & (col_need > 0)[None, :])
    costs = -np.floor((x - floors_f) * _COST_SCALE).astype(np.int64)
    for r, c in cells.tolist():
        graph.add_edge(("row", r), ("col", c), capacity=1, weight=int(costs[r, c]))
    for c in range(n_cols):
        if col_need[c] > 0:
            graph.add_edge(("col", c), "sink", capacity=int(col_need[c]), weight=0)
    graph.add_node("sink")
    flow = nx.max_flow_min_cost(graph, "source", "sink")
    moved = sum(flow["source"].values())
    if moved < need:
        short = [r for r in range(n_rows) if flow["source"].get(("row", r), 0) < row_need[r]]
        names = ", ".join(_label(row_labels, r, "row") for r in short[:5])
        raise InfeasibleAllocationError(
            f"no rounding keeps both margins: {names} cannot place all their quanta in columns "
            f"that still need some ({_short(amount, need - moved)})",
            row=short[0],
            expected=need,
            actual=moved,
            hint="the margins are not consistent with the table; refit it (fit_ipf) to these "
            "margins first",
        )
    result = floors.copy()
    for r, c in cells.tolist():
        result[r, c] += flow[("row", r)].get(("col", c), 0)
    return result


def _short(amount: Callable[[int], str] | None, quanta: int) -> str:
    return f"{quanta} quanta short" if amount is None else f"{amount(quanta)} short"


def _check_need(
    need: IntArray,
    room: npt.NDArray[np.int_],
    labels: Sequence[str] | None,
    kind: str,
    amount: Callable[[int], str] | None = None,
) -> None:
    low = need < 0
    high = need > room
    if low.any() or high.any():
        i = int(np.flatnonzero(low | high)[0])
        what = (
            f"its total is {_shown(amount, -int(need[i]))} below the sum of its cells rounded down"
            if need[i] < 0
            else f"its total needs {int(need[i])} cells rounded up but only {int(room[i])} "
            "cells have a fractional part"
        )
        raise InfeasibleAllocationError(
            f"{_label(labels, i, kind)}: {what}",
            row=i if kind == "row" else None,
            expected=int(need[i]),
            actual=int(room[i]),
            hint="the margins must lie between the sums of the floors and of the ceilings of the "
            "table; refit the table to these margins first (fit_ipf)",
        )
