"""Public test helpers: the strategy conformance suite and hypothesis strategies for the model.

:func:`check_strategy` runs the checks every allocation strategy must pass (plug-in authors: run it on
yours). :func:`org_trees`, :func:`calendars`, :func:`metric_sets` and :func:`plans` generate valid
random inputs for property tests.

Use them to property-test code that builds on targetcascade. They need hypothesis
(``pip install 'targetcascade[testing]'``).

Example:
    >>> from hypothesis import given, settings
    >>> from targetcascade import check
    >>> from targetcascade.testing import plans
    >>> @settings(max_examples=3)
    ... @given(plans())
    ... def test_my_export_keeps_every_cell(plan):
    ...     assert check(plan).ok
    >>> test_my_export_keeps_every_cell()
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401 - probe for the optional dependency
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    from targetcascade.errors import MissingExtraError

    raise MissingExtraError(
        "targetcascade.testing needs hypothesis",
        hint="pip install 'targetcascade[testing]'",
    ) from exc

from targetcascade.testing._calendars import calendars
from targetcascade.testing._conformance import CHECKS, CheckResult, check_strategy, children_batch
from targetcascade.testing._plans import metric_sets, plans
from targetcascade.testing._trees import org_trees

__all__ = [
    "CHECKS",
    "CheckResult",
    "calendars",
    "check_strategy",
    "children_batch",
    "metric_sets",
    "org_trees",
    "plans",
]
