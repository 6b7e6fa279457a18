"""targetcascade: cascade annual targets through an organisation tree and a fiscal calendar, exactly.

The public API lives here; modules whose names start with ``_`` are implementation detail.

Example:
    >>> import targetcascade as tc
    >>> tc.parse_quantity("1.2 yi CNY")
    <Quantity(120000000, 'CNY')>
    >>> tc.FiscalCalendar(fiscal_year=2027).label
    'FY2027'
"""

from __future__ import annotations

from targetcascade import errors
from targetcascade.allocation import History
from targetcascade.calendar import (
    FiscalCalendar,
    Pattern,
    Period,
    PeriodLevel,
    WeekRule,
    YearNaming,
)
from targetcascade.cascade import (
    AbsoluteBounds,
    CascadeSpec,
    Lock,
    MetricCascade,
    Mode,
    RelativeBounds,
    Split,
    cascade,
)
from targetcascade.check import CheckReport, Rule, Violation, check
from targetcascade.errors import TargetCascadeError
from targetcascade.explain import Explanation, Step, explain
from targetcascade.metric import Direction, Metric, Rollup, Rounding
from targetcascade.org import DEFAULT_LEVELS, CompiledTree, Levels, Node, OrgTree
from targetcascade.plan import Fallback, Origin, Plan, PlanKind, Provenance, Source
from targetcascade.units import (
    as_quantity,
    define_count_unit,
    define_currency,
    parse_quantity,
    parse_unit,
    ureg,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "DEFAULT_LEVELS",
    "AbsoluteBounds",
    "CascadeSpec",
    "CheckReport",
    "CompiledTree",
    "Direction",
    "Explanation",
    "Fallback",
    "FiscalCalendar",
    "History",
    "Levels",
    "Lock",
    "Metric",
    "MetricCascade",
    "Mode",
    "Node",
    "OrgTree",
    "Origin",
    "Pattern",
    "Period",
    "PeriodLevel",
    "Plan",
    "PlanKind",
    "Provenance",
    "RelativeBounds",
    "Rollup",
    "Rounding",
    "Rule",
    "Source",
    "Split",
    "Step",
    "TargetCascadeError",
    "Violation",
    "WeekRule",
    "YearNaming",
    "__version__",
    "as_quantity",
    "cascade",
    "check",
    "define_count_unit",
    "define_currency",
    "errors",
    "explain",
    "parse_quantity",
    "parse_unit",
    "ureg",
]
