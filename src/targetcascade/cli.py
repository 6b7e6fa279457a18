"""The ``targetcascade`` command line.

Sub-commands:

* ``targetcascade demo [--seed N]``: generate the seeded synthetic demo company, build last year's
  plan bottom-up from its people's monthly actuals, print it as a tree table, and print the
  invariant check report.
* ``targetcascade check PLAN.json``: load a plan written by :meth:`Plan.to_dict` (as JSON), check every
  invariant and print the report; exit status 1 when a rule is broken.

Example:
    >>> main(["demo", "--seed", "2027", "--depth", "1"])  # doctest: +ELLIPSIS
    targetcascade demo: Acme Sales, seed 2027
    ...
    check: ok: ... cells, no violations
    0
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from targetcascade.check import check
from targetcascade.errors import TargetCascadeError
from targetcascade.plan import Plan
from targetcascade.synthetic import demo_company

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    company = demo_company(seed=args.seed)
    year = company.calendar.fiscal_year - 1
    actuals = company.history[year]
    tree = company.tree
    print(f"targetcascade demo: {tree.node(tree.root).name}, seed {args.seed}")
    levels = {
        level: len(tree.nodes_at(level)) for level in tree.levels.names if tree.nodes_at(level)
    }
    print("organisation: " + ", ".join(f"{level} {n}" for level, n in levels.items()))
    print(
        f"history: FY{year - 1} and FY{year}, monthly actuals of "
        + ", ".join(m.name for m in company.metrics)
        + f"; built bottom-up from {len(actuals.tree.leaves())} people's months"
    )
    print()
    for metric in company.metrics:
        print(f"FY{year} actual {metric.name}, rolled up from the people's months:")
        print(actuals.table(metric.name, max_depth=args.depth))
        print()
    report = check(actuals)
    print(f"check: {report}")
    return 0 if report.ok else 1


def _check(args: argparse.Namespace) -> int:
    data = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    plan = Plan.from_dict(data)
    report = check(plan)
    print(repr(plan))
    print(report.format(limit=args.limit))
    return 0 if report.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="targetcascade",
        description="Cascade targets through an organisation and a fiscal calendar, exactly.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the seeded synthetic demo company")
    demo.add_argument("--seed", type=int, default=2027, help="seed of the synthetic company")
    demo.add_argument(
        "--depth", type=int, default=2, help="deepest org level to print (0 = company only)"
    )
    demo.set_defaults(run=_demo)
    check_cmd = sub.add_parser("check", help="check the invariants of a plan JSON file")
    check_cmd.add_argument("plan", help="path of a JSON file written from Plan.to_dict()")
    check_cmd.add_argument("--limit", type=int, default=20, help="violations to list")
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
        targetcascade: cannot read /nonexistent.json: ...
        2
    """
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except TargetCascadeError as exc:
        print(f"targetcascade: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"targetcascade: cannot read {exc.filename}: {exc.strerror}")
        return 2
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
