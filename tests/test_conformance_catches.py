"""The conformance suite catches each kind of broken strategy, naming the check and why.

Each strategy below breaks one rule; the check named for that rule must fail with a detail that
says what is wrong, and the checks for rules it keeps must pass.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
import pytest

from targetcascade.allocation._registry import StrategyBase, StrategyRegistry
from targetcascade.testing import check_strategy


@attrs.frozen(kw_only=True)
class AsList(StrategyBase):
    name: ClassVar[str] = "as_list"
    needs_history: ClassVar[bool] = False

    def weights(self, batch: Any) -> Any:
        return np.ones(batch.shape).tolist()


@attrs.frozen(kw_only=True)
class Float32(StrategyBase):
    name: ClassVar[str] = "float32"
    needs_history: ClassVar[bool] = False

    def weights(self, batch: Any) -> Any:
        return np.ones(batch.shape, dtype=np.float32)


@attrs.frozen(kw_only=True)
class ByPosition(StrategyBase):
    """Weights 1, 2, 3, ... by row: a child's weight depends on where it is listed."""

    name: ClassVar[str] = "by_position"
    needs_history: ClassVar[bool] = False

    def weights(self, batch: Any) -> Any:
        rows, periods = batch.shape
        return np.repeat(np.arange(1.0, rows + 1.0)[:, None], periods, axis=1)


@attrs.frozen(kw_only=True)
class ClaimsFlatButIsNot(StrategyBase):
    """Declares the same weights in every period, but weighs later periods more."""

    name: ClassVar[str] = "claims_flat"
    needs_history: ClassVar[bool] = False
    same_every_period: ClassVar[bool] = True

    def weights(self, batch: Any) -> Any:
        rows, periods = batch.shape
        return np.tile(np.arange(1.0, periods + 1.0), (rows, 1))


@attrs.frozen(kw_only=True)
class BadRepr(StrategyBase):
    name: ClassVar[str] = "bad_repr"
    needs_history: ClassVar[bool] = False

    def weights(self, batch: Any) -> Any:
        return np.ones(batch.shape)

    def __repr__(self) -> str:
        return "Something()"


@attrs.frozen(kw_only=True)
class WrongName(StrategyBase):
    name: ClassVar[str] = "wrong_name"
    needs_history: ClassVar[bool] = False

    def weights(self, batch: Any) -> Any:
        return np.ones(batch.shape)

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": "another"}


class NotAttrs:
    name = "not_attrs"
    needs_history = False

    def weights(self, batch: Any) -> Any:
        return np.ones(batch.shape)

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.name}


@attrs.frozen(kw_only=True, eq=False)
class EqualsOnlyItself(StrategyBase):
    """Compared by identity: a copy of it is not equal to it."""

    name: ClassVar[str] = "equals_only_itself"
    needs_history: ClassVar[bool] = False

    def weights(self, batch: Any) -> Any:
        return np.ones(batch.shape)


ALL = (
    AsList,
    Float32,
    ByPosition,
    ClaimsFlatButIsNot,
    BadRepr,
    WrongName,
    NotAttrs,
    EqualsOnlyItself,
)

# strategy class -> {check that must fail: words its detail must contain}
EXPECTED = {
    AsList: {"shape": "not a numpy array", "single_child": "not a numpy array"},
    Float32: {"shape": "float32, not float64", "zero_parent": "float32"},
    ByPosition: {"permutation_equivariant": "reversing the children changed"},
    ClaimsFlatButIsNot: {"same_every_period": "declares same_every_period"},
    BadRepr: {"repr": "'Something()' does not start with 'BadRepr('"},
    WrongName: {"serialisation_round_trip": "{'strategy': 'another'}"},
    NotAttrs: {"immutable": "not an attrs class"},
    EqualsOnlyItself: {"immutable": "a copy is not equal to the original"},
}
# checks each of them keeps (none of them is broken there)
KEPT = ("declared", "finite", "non_negative", "history_declared")


def registry() -> StrategyRegistry:
    reg = StrategyRegistry()
    for cls in ALL:
        reg.register(cls)
    return reg


@pytest.mark.parametrize("cls", ALL, ids=[cls.__name__ for cls in ALL])
def test_the_broken_rule_is_named(cls):
    """The check for the broken rule fails with a telling detail; the kept rules pass."""
    results = check_strategy(cls(), kind="org", registry=registry(), raise_on_failure=False)
    failed = {r.check: r.detail for r in results if not r.passed}
    for check, words in EXPECTED[cls].items():
        assert check in failed, f"{check} passed for {cls.__name__}"
        assert words in failed[check]
    for check in KEPT:
        assert check not in failed, f"{check}: {failed.get(check)}"


def test_failure_raises_naming_every_failed_check():
    """By default a failing strategy raises a StrategyError listing the failed checks."""
    from targetcascade.errors import StrategyError

    with pytest.raises(StrategyError, match=r"fails 1 of \d+ conformance checks \(repr\)"):
        check_strategy(BadRepr(), kind="org", registry=registry())


@attrs.frozen(kw_only=True)
class SilentMonths(StrategyBase):
    """A time strategy giving every node an all-zero profile: nothing to phase by."""

    name: ClassVar[str] = "silent_months"
    kind: ClassVar[str] = "time"
    needs_history: ClassVar[bool] = False

    def profile(self, batch: Any) -> Any:
        return np.zeros(batch.shape)


def test_all_zero_time_profile_is_named():
    """A time profile of all zeros fails all_zero_handled, naming the first node it hit."""
    reg = StrategyRegistry()
    reg.register(SilentMonths)
    results = check_strategy(SilentMonths(), kind="time", registry=reg, raise_on_failure=False)
    failed = {r.check: r.detail for r in results if not r.passed}
    assert "got an all-zero profile" in failed["all_zero_handled"]
    assert "shape" not in failed
