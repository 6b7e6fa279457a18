"""The ``targetcascade`` command line.

Sub-commands:

* ``targetcascade demo [--seed N]``: generate the seeded synthetic demo company (4 regions, 10
  teams, 60 people with new hires on a ramp and a leaver, two years of monthly history), cascade its
  revenue and new-customer targets (:func:`demo_spec`), and print the tree of annual and quarterly
  targets, the invariant check report and two explanations.
* ``targetcascade check PLAN.json``: load a plan written by :meth:`Plan.to_dict` (as JSON), check every
  invariant and print the report; exit status 1 when a rule is broken, 2 when the file is not a
  valid plan (the message names the file and the path of the bad field in it, e.g.
  ``cells.revenue.values[3][7]``).

Example:
    >>> main(["demo", "--seed", "2027", "--depth", "1"])  # doctest: +ELLIPSIS
    targetcascade demo: Acme Sales, seed 2027, FY2027
    ...
    check: ok: ... cells, no violations
    ...
    0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from targetcascade.allocation import (
    CapacityWeighted,
    Equal,
    Even,
    HistoricalSeasonality,
    Proportional,
    ProportionOfAverages,
)
from targetcascade.cascade import CascadeSpec, Lock, MetricCascade, Split, cascade
from targetcascade.check import check
from targetcascade.errors import SerializationError, TargetCascadeError
from targetcascade.explain import explain
from targetcascade.plan import Plan
from targetcascade.synthetic import SyntheticCompany, demo_company

__all__ = ["demo_spec", "main"]


def demo_spec(company: SyntheticCompany) -> CascadeSpec:
    """The cascade the demo runs on :func:`~targetcascade.synthetic.demo_company`.

    Revenue: last year's actual grown 15 % (rounded to a wan) split over the months by the company's
    historical seasonality, then to regions and teams by historical share (Gross-Sohl proportion of
    averages; teams without history fall back to their capacity), and to people by capacity with a
    ramp for new hires, teams over-assigned by 5 %, and one person's year locked. New customers:
    1,600, phased evenly, split by regional market potential, equally to teams, by capacity to people.

    Args:
        company: The synthetic company.

    Returns:
        The spec.

    Example:
        >>> spec = demo_spec(demo_company())
        >>> [m.metric.name for m in spec.metrics]
        ['revenue', 'new_customers']
    """
    revenue, customers = company.metrics
    last_year = company.history[company.calendar.fiscal_year - 1]
    actual = last_year.value(company.tree.root, last_year.calendar.label, revenue.name)
    assert actual is not None
    wan = Decimal(10_000)
    target = (actual.magnitude * Decimal("1.15") / wan).quantize(Decimal(1)) * wan
    return CascadeSpec(
        metrics=[
            MetricCascade(
                metric=revenue,
                target=f"{target} {revenue.unit_label}",
                time=HistoricalSeasonality(window=2),
                splits={
                    "company": Split(strategy=ProportionOfAverages(window=2)),
                    "region": Split(
                        strategy=ProportionOfAverages(window=2, fallback=CapacityWeighted())
                    ),
                    "team": Split(strategy=CapacityWeighted(), hedge="0.05"),
                },
                locks=[Lock(node="east-1-1", period=company.calendar.label, value="150 wan CNY")],
            ),
            MetricCascade(
                metric=customers,
                target=f"1600 {customers.unit_label}",
                time=Even(),
                splits={
                    "company": Split(strategy=Proportional(attribute="potential")),
                    "region": Split(strategy=Equal()),
                    "team": Split(strategy=CapacityWeighted()),
                },
            ),
        ]
    )


def _demo(args: argparse.Namespace) -> int:
    company = demo_company(seed=args.seed)
    tree = company.tree
    calendar = company.calendar
    spec = demo_spec(company)
    plan = cascade(spec, tree, calendar, history=company.history)
    print(f"targetcascade demo: {tree.node(tree.root).name}, seed {args.seed}, {calendar.label}")
    levels = {
        level: len(tree.nodes_at(level)) for level in tree.levels.names if tree.nodes_at(level)
    }
    print("organisation: " + ", ".join(f"{level} {n}" for level, n in levels.items()))
    print(f"history: {', '.join(f'FY{y}' for y in sorted(company.history))} monthly actuals")
    for item in spec.metrics:
        target = item.metric.format(item.metric.to_quanta(item.target))
        print(f"target: {item.metric.name} {target} ({item.mode.value})")
    print()
    for item in spec.metrics:
        print(f"{calendar.label} {item.metric.name} targets:")
        depth = args.depth if item.metric.name != "revenue" else max(args.depth, 3)
        print(plan.table(item.metric.name, max_depth=depth))
        print()
    report = check(plan)
    print(f"check: {report}")
    for node, period, metric in (
        ("east-1-4", f"{calendar.label}-M07", "revenue"),
        ("south", f"{calendar.label}-M03", "new_customers"),
    ):
        print()
        print(f"explain({node!r}, {period!r}, {metric!r}):")
        print(explain(plan, node, period, metric))
    return 0 if report.ok else 1


def _read_json(path: str) -> Any:
    """The JSON value in ``path``; a file that is not JSON is bad input, not a crash."""
    raw = Path(path).read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"it is not UTF-8 text ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        problem = str(exc)
    except RecursionError:
        problem = "it nests too deeply"
    raise SerializationError(
        f"{path} is not a JSON plan file: {problem}",
        hint="give the path of a file written from json.dumps(plan.to_dict())",
    )


def _check(args: argparse.Namespace) -> int:
    data = _read_json(args.plan)
    try:
        plan = Plan.from_dict(data)
    except TargetCascadeError as exc:
        raise type(exc)(f"{args.plan}: {exc.problem}", hint=exc.hint) from exc
    report = check(plan)
    print(repr(plan))
    print(report.format(limit=args.limit))
    return 0 if report.ok else 1


def _count(text: str) -> int:
    """An argparse type: a whole number >= 0 (argparse turns the error into usage and exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        msg = f"{text!r} is not a whole number >= 0"
        raise argparse.ArgumentTypeError(msg)
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="targetcascade",
        description="Cascade targets through an organisation and a fiscal calendar, exactly.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the seeded synthetic demo company")
    demo.add_argument("--seed", type=int, default=2027, help="seed of the synthetic company")
    demo.add_argument(
        "--depth",
        type=_count,
        default=2,
        help="deepest org level of the new-customer table (revenue shows everyone)",
    )
    demo.set_defaults(run=_demo)
    check_cmd = sub.add_parser("check", help="check the invariants of a plan JSON file")
    check_cmd.add_argument("plan", help="path of a JSON file written from Plan.to_dict()")
    check_cmd.add_argument("--limit", type=_count, default=20, help="violations to list")
    check_cmd.set_defaults(run=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 when a check fails, 2 on bad input.

    Example:
        >>> main(["check", "/nonexistent.json"])
        2
    """
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except TargetCascadeError as exc:
        print(f"targetcascade: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (e.g. `targetcascade demo | head`): stop quietly, like other tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"targetcascade: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":  # pragma: no cover - script use only; python -m runs __main__.py
    sys.exit(main())
