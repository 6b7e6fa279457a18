"""The strategy protocols: one method each, vectorised over a batch (private module)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from targetcascade.allocation._batch import OrgBatch, TimeBatch

__all__ = ["OrgStrategy", "TimeStrategy"]


@runtime_checkable
class OrgStrategy(Protocol):
    """Gives weights for splitting each parent's value among its children.

    Implementations are small frozen attrs classes whose fields are their parameters. The kernel, not
    the strategy, turns weights into exact integers.

    Class attributes:
        name: Registry name, e.g. ``"historical_share"``.
        needs_history: Whether :meth:`weights` reads ``batch.history``.

    Example:
        >>> from targetcascade.allocation import CapacityWeighted, Even
        >>> isinstance(CapacityWeighted(), OrgStrategy), isinstance(Even(), OrgStrategy)
        (True, False)
    """

    name: ClassVar[str]
    needs_history: ClassVar[bool]

    def weights(self, batch: OrgBatch) -> npt.NDArray[np.float64]:
        """Finite, non-negative weights of shape ``batch.shape`` (rows, periods)."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe ``{"strategy": name, **parameters}``; the registry rebuilds it."""
        ...


@runtime_checkable
class TimeStrategy(Protocol):
    """Gives each node's monthly profile for phasing a year over its months.

    Class attributes:
        name: Registry name, e.g. ``"seasonal"``.
        needs_history: Whether :meth:`profile` reads ``batch.history``.

    Example:
        >>> from targetcascade.allocation import Even, WorkingDays
        >>> isinstance(WorkingDays(), TimeStrategy), Even().name
        (True, 'even')
    """

    name: ClassVar[str]
    needs_history: ClassVar[bool]

    def profile(self, batch: TimeBatch) -> npt.NDArray[np.float64]:
        """Finite, non-negative weights of shape ``batch.shape`` (rows, months)."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe ``{"strategy": name, **parameters}``; the registry rebuilds it."""
        ...
