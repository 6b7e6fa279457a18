"""Every row of the bad-input catalogue is refused with the library's own error, naming the culprit."""

from __future__ import annotations

import importlib
import pathlib

import pytest

from _catalogue import Case
from targetcascade.errors import TargetCascadeError


def _cases() -> list[Case]:
    here = pathlib.Path(__file__).parent
    cases: list[Case] = []
    for path in sorted(here.glob("_catalogue_*.py")):
        cases.extend(importlib.import_module(path.stem).CASES)
    return cases


CASES = _cases()


def test_ids_are_unique() -> None:
    """Each catalogue row has its own id, so a failure names one row."""
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_by_name(case: Case) -> None:
    """The call raises the declared library error and its message names the culprit."""
    assert issubclass(case.error, TargetCascadeError)
    with pytest.raises(case.error) as caught:
        case.call()
    message = str(caught.value)
    for name in case.names:
        assert name in message, f"{case.id}: {name!r} not in {message!r}"
