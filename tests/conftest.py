"""Test configuration: hypothesis profiles.

``default`` keeps the local loop fast; ``ci`` (selected when the ``CI`` environment variable is set, as
``.ci/run`` does, or with ``HYPOTHESIS_PROFILE=ci``) runs at least 200 examples per property. ``fuzz``
(``HYPOTHESIS_PROFILE=fuzz``) is a long random search, meant for ``tests/test_fuzz.py`` alone: 20,000
examples per property, not derandomised (see that module's docstring).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=20_000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)
