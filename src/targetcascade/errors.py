"""The exception hierarchy of targetcascade.

Every error the library raises on purpose derives from :class:`TargetCascadeError`, and each subclass
also inherits the builtin exception it refines, so callers may catch either::

    >>> from targetcascade.errors import DuplicateNodeError, TargetCascadeError
    >>> issubclass(DuplicateNodeError, ValueError) and issubclass(DuplicateNodeError, TargetCascadeError)
    True

Errors carry structured fields (``node``, ``period``, ``metric``, ``row``, ``expected``, ``actual``)
beside their message, and a ``hint`` saying how to fix the input. They pickle, so they survive being
sent between processes (a Dask worker, a ``multiprocessing`` pool).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CalendarError",
    "CheckFailedError",
    "CycleError",
    "DuplicateNodeError",
    "InfeasibleAllocationError",
    "InvalidAttributeError",
    "InvalidTreeError",
    "LevelOrderError",
    "MetricError",
    "MissingExtraError",
    "MultipleRootsError",
    "PeriodError",
    "PlanError",
    "QuantumError",
    "SerializationError",
    "SizeLimitError",
    "SpecError",
    "StrategyError",
    "TargetCascadeError",
    "UnitMismatchError",
    "UnitParseError",
    "UnknownNodeError",
    "UnknownParentError",
]

_FIELDS = ("node", "period", "metric", "row", "expected", "actual", "hint")


class TargetCascadeError(Exception):
    """Root of every error targetcascade raises on purpose.

    Args:
        problem: What is wrong, naming the culprit (node, period, metric or row).
        node: Id of the org node concerned, if any.
        period: Label of the period concerned, if any.
        metric: Name of the metric concerned, if any.
        row: Index (0-based) of the input record concerned, if any.
        expected: The value the rule required, if the error is about a value.
        actual: The value found.
        hint: What the caller can do to fix it; appended to the message.

    Example:
        >>> err = TargetCascadeError("negative fte -1 for node 'bob' (row 3)", node="bob", row=3,
        ...                          hint="give fte as a number >= 0")
        >>> str(err)
        "negative fte -1 for node 'bob' (row 3); give fte as a number >= 0"
        >>> err.node, err.row
        ('bob', 3)
    """

    def __init__(
        self,
        problem: str,
        *,
        node: str | None = None,
        period: str | None = None,
        metric: str | None = None,
        row: int | None = None,
        expected: Any = None,
        actual: Any = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.node = node
        self.period = period
        self.metric = metric
        self.row = row
        self.expected = expected
        self.actual = actual
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        return self.problem if self.hint is None else f"{self.problem}; {self.hint}"

    def __str__(self) -> str:
        # KeyError-derived subclasses would otherwise print the repr of the message.
        return self._message()

    def __reduce__(self) -> tuple[Any, ...]:
        fields = {name: getattr(self, name) for name in _FIELDS}
        return (_rebuild, (type(self), self.problem, fields))


def _rebuild(cls: type[TargetCascadeError], problem: str, fields: dict[str, Any]) -> Any:
    return cls(problem, **fields)


class MissingExtraError(TargetCascadeError, ImportError):
    """An optional dependency is not installed; the message names the extra to install.

    Example:
        >>> raise MissingExtraError("pandas is needed for OrgTree.from_frame",
        ...                         hint="pip install 'targetcascade[pandas]'")
        Traceback (most recent call last):
        ...
        targetcascade.errors.MissingExtraError: pandas is needed ...; pip install 'targetcascade[pandas]'
    """


class UnitParseError(TargetCascadeError, ValueError):
    """A unit or quantity string could not be parsed by the library's registry."""


class UnitMismatchError(TargetCascadeError, TypeError):
    """A quantity has the wrong dimension (CNY where USD is expected, customers where CNY is)."""


class MetricError(TargetCascadeError, ValueError):
    """A metric definition is invalid (bad quantum, ratio without numerator, unknown metric name)."""


class QuantumError(TargetCascadeError, ValueError):
    """A value is not a whole number of its metric's quantum and no rounding was requested."""


class CalendarError(TargetCascadeError, ValueError):
    """A fiscal calendar definition is invalid (start month 13, unknown week pattern, ...)."""


class PeriodError(TargetCascadeError, ValueError):
    """A period label does not parse, or a period or date lies outside the calendar."""


class InvalidTreeError(TargetCascadeError, ValueError):
    """An organisation tree is malformed; subclasses name the specific defect."""


class DuplicateNodeError(InvalidTreeError):
    """Two input rows carry the same node id."""


class UnknownParentError(InvalidTreeError):
    """A row names a parent id that is not in the input."""


class MultipleRootsError(InvalidTreeError):
    """More than one row (or none) has no parent."""


class CycleError(InvalidTreeError):
    """Parent links form a cycle, so some nodes are not reachable from the root."""


class LevelOrderError(InvalidTreeError):
    """A node's level is unknown, or does not come after its parent's level in the declared order."""


class InvalidAttributeError(InvalidTreeError):
    """A node attribute is not a valid value (negative or NaN fte, end date before start date, ...)."""


class UnknownNodeError(TargetCascadeError, KeyError):
    """A node id asked for is not in the tree."""


class PlanError(TargetCascadeError, ValueError):
    """Plan input is inconsistent: unknown metric, duplicate cell, missing leaf value, bad grid shape."""


class SerializationError(TargetCascadeError, ValueError):
    """A serialised object (dict / JSON) has an unknown schema version or a malformed field."""


class StrategyError(TargetCascadeError, ValueError):
    """A strategy was given invalid parameters, or returned invalid weights."""


class SpecError(TargetCascadeError, ValueError):
    """A cascade specification is inconsistent (a level without a split, a lock on a derived cell, ...)."""


class InfeasibleAllocationError(TargetCascadeError, ValueError):
    """The constraints on a split cannot all hold (locks above the parent, floors that cannot fit, ...)."""


class SizeLimitError(QuantumError, PlanError):
    """An amount or a plan cell is beyond ``MAX_QUANTA`` (2**53 quanta) in magnitude.

    One error for the library's one size limit (DESIGN.md), whether an amount is refused at the
    metric's door or a cell, roll-up or hedged total at a plan's: catch it as either parent.

    Example:
        >>> from targetcascade import Metric
        >>> Metric(name="revenue", unit="CNY").to_quanta("1e20 CNY")
        Traceback (most recent call last):
        ...
        targetcascade.errors.SizeLimitError: revenue: 1e20 CNY is outside the size limit of ...
    """


class CheckFailedError(TargetCascadeError, AssertionError):
    """Raised by ``CheckReport.raise_if_failed()`` when a plan breaks one of its invariants."""
