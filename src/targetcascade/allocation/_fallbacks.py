"""Which members took their strategy's fallback, as the engine collects them (private module).

A strategy's one method returns weights only. The members whose weight came from a declared
fallback are reported on the side: while the engine runs a strategy inside :func:`collecting`,
:func:`report` (called by the fallback rule of the built-in strategies) appends their rows to the
engine's list. Outside :func:`collecting` (a strategy called directly) reports go nowhere. The list
lives in a context variable, so engines in different threads or tasks keep their own.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = ["Reported", "collecting", "report"]

#: (compiled positions of the members, reason, strategy name), in the order reported.
Reported = list[tuple[npt.NDArray[np.int64], str, str]]

_SINK: contextvars.ContextVar[Reported | None] = contextvars.ContextVar(
    "targetcascade_fallbacks", default=None
)


@contextlib.contextmanager
def collecting() -> Iterator[Reported]:
    """Collect the fallbacks reported inside the block.

    Example:
        >>> with collecting() as found:
        ...     report(np.array([3, 4]), "no history", "proportion_of_averages")
        >>> [(rows.tolist(), reason) for rows, reason, _ in found]
        [([3, 4], 'no history')]
    """
    found: Reported = []
    token = _SINK.set(found)
    try:
        yield found
    finally:
        _SINK.reset(token)


def report(rows: npt.NDArray[np.int64], reason: str, strategy: str) -> None:
    """Report members (compiled positions) that took ``strategy``'s fallback, and why.

    Example:
        >>> report(np.array([1]), "no value", "proportional")   # not collecting: a no-op
    """
    sink = _SINK.get()
    if sink is not None and rows.size:
        sink.append((np.array(rows, dtype=np.int64), reason, strategy))
