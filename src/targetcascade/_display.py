"""Text and HTML rendering of plans and check reports (private; reached through their methods).

HTML escapes every label with :func:`html.escape`, carries a ``<pre>`` text fallback for front ends
that strip styles, and loads its CSS once with :mod:`importlib.resources`.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from fractions import Fraction
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from targetcascade.check import CheckReport
    from targetcascade.plan import Plan

__all__ = ["plan_html", "plan_table", "report_html"]

_MISSING = "-"


@functools.cache
def _css() -> str:
    return resources.files("targetcascade").joinpath("_static/display.css").read_text("utf-8")


def _percent(value: Fraction) -> str:
    return f"{float(value * 100):.4g} %"


def _hedge_marks(plan: Plan, metric: str) -> dict[str, tuple[str, str]]:
    """Per over-assigned level: the mark shown beside its nodes and the note that explains it."""
    marks: dict[str, tuple[str, str]] = {}
    for level, hedge in plan.hedges.get(metric, {}).items():
        sign = "+" if hedge > 0 else "-"
        mark = f"[{sign}{_percent(abs(hedge))}]"
        note = (
            f"{mark} children sum to {_percent(1 + hedge)} of their {level}: over-assignment "
            f"declared on level {level!r}"
        )
        marks[level] = (mark, note)
    return marks


def _rows(
    plan: Plan, metric: str, periods: Sequence[str] | None, max_depth: int | None
) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows (tree-indented node ids, then one formatted cell per period) and notes.

    A node whose children are over-assigned (a hedge on its level) and shown carries a mark such
    as ``[+5 %]`` after its id, and the notes say what the mark means, so a reader sees why the
    children's rows add up to more than their parent's.
    """
    tree = plan.tree
    compiled = tree.compiled
    chosen = list(periods) if periods is not None else _default_periods(plan)
    columns = [plan.calendar.index(label) for label in chosen]
    k = plan.metric_index(metric)
    m = plan.metrics[k]
    grid = plan.values[k]
    present = plan.origins[k] != 0
    marks = _hedge_marks(plan, metric)
    names = tree.levels.names
    used: dict[str, str] = {}
    rows: list[list[str]] = []
    # depth-first walk in input order, for a readable indented tree
    stack = [tree.root]
    while stack:
        node = stack.pop()
        i = compiled.index(node)
        depth = int(compiled.depth[i])
        if max_depth is not None and depth > max_depth:
            continue
        cells = [
            f"{m.from_quanta(int(grid[i, c])):,}" if present[i, c] else _MISSING for c in columns
        ]
        label = "  " * depth + node
        children = tree.children(node)
        level = names[int(compiled.level_code[i])]
        if level in marks and children and (max_depth is None or depth < max_depth):
            mark, note = marks[level]
            label += f" {mark}"
            used[level] = note
        rows.append([label, *cells])
        stack.extend(reversed(children))
    header = [f"{m.name} ({m.unit_label})", *[plan.calendar.periods[c].label for c in columns]]
    return header, rows, [used[level] for level in sorted(used, key=names.index)]


def _default_periods(plan: Plan) -> list[str]:
    levels = plan.calendar.level_array
    return [
        p.label
        for p, level in zip(plan.calendar.periods, levels.tolist(), strict=True)
        if level <= 1
    ]


def plan_table(
    plan: Plan,
    metric: str,
    *,
    periods: Sequence[str] | None = None,
    max_depth: int | None = None,
) -> str:
    """An aligned text table of one metric: the tree down the side, periods across.

    Args:
        plan: The plan.
        metric: Metric name.
        periods: Period labels to show (default: the year and its quarters).
        max_depth: Hide nodes deeper than this (0 = the root only).

    Returns:
        The table as text; a parent whose shown children are over-assigned carries a mark such as
        ``[+5 %]``, explained in a note line under the table.
    """
    header, rows, notes = _rows(plan, metric, periods, max_depth)
    table = [header, *rows]
    widths = [max(len(row[j]) for row in table) for j in range(len(header))]
    lines = []
    for r, row in enumerate(table):
        first = row[0].ljust(widths[0])
        rest = "  ".join(cell.rjust(widths[j + 1]) for j, cell in enumerate(row[1:]))
        lines.append(f"{first}  {rest}".rstrip())
        if r == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join([*lines, *notes])


def plan_html(plan: Plan, *, max_rows: int = 60) -> str:
    """Notebook HTML for a plan: its repr, then the first metric's table (first ``max_rows`` rows)."""
    escape = html.escape
    summary = escape(repr(plan))
    body = ""
    if plan.metrics:
        header, rows, notes = _rows(plan, plan.metrics[0].name, None, None)
        shown = rows[:max_rows]
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        cells = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in shown
        )
        more = len(rows) - len(shown)
        tail = f"<p>{more:,} more rows</p>" if more > 0 else ""
        tail += "".join(f"<p>{escape(note)}</p>" for note in notes)
        body = f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>{tail}"
    return (
        f"<div class='tc-wrap'><style>{_css()}</style><pre class='tc-fallback'>{summary}</pre>"
        f"<div class='tc-html'><p>{summary}</p>{body}</div></div>"
    )


def report_html(report: CheckReport, *, limit: int = 50) -> str:
    """Notebook HTML for a check report, with a plain-text ``<pre>`` fallback."""
    escape = html.escape
    status = "tc-ok" if report.ok else "tc-bad"
    lines = report.format(limit=limit).splitlines()
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(x))}</td>"
            for x in (v.rule.value, v.node or "", v.period or "", v.metric or "", v.message)
        )
        + "</tr>"
        for v in report.violations[:limit]
    )
    table = (
        "<table><thead><tr><th>rule</th><th>node</th><th>period</th><th>metric</th>"
        f"<th>message</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    text = escape("\n".join(lines))
    return (
        f"<div class='tc-wrap'><style>{_css()}</style><pre class='tc-fallback'>{text}</pre>"
        f"<div class='tc-html'><p class='{status}'>{escape(lines[0])}</p>{table}</div></div>"
    )
