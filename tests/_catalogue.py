"""The catalogue of bad inputs: one row per hostile input, each naming the error users get.

Each ``tests/_catalogue_<door>.py`` module holds a ``CASES`` list of :class:`Case` rows for one group of
doors; ``tests/test_catalogue.py`` runs them all as one parametrised table, so a failure names the row
by its id (``21.3-typo-lcoks``, ``door-metric-name-newline``) and the table is the one list of what the
library refuses.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs


@attrs.frozen(kw_only=True)
class Case:
    """One bad input and the refusal it must meet.

    Attributes:
        id: ``"<issue>.<item>-<what>"`` for a filed repro, ``"door-<door>-<what>"`` for a door's row.
        call: Makes the call that must be refused.
        error: The library exception type expected (a subclass of ``TargetCascadeError``).
        names: Substrings the message must contain: the culprit (node, period, key path, value, limit).
    """

    id: str
    call: Callable[[], object]
    error: type[BaseException]
    names: tuple[str, ...] = ()
