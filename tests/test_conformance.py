"""The strategy conformance suite: every registered strategy passes it, broken ones are caught."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
import pytest

from targetcascade.allocation._registry import StrategyBase, StrategyRegistry, default_registry
from targetcascade.allocation.org_strategies import Equal
from targetcascade.allocation.time_strategies import Even
from targetcascade.errors import StrategyError, UnknownNodeError
from targetcascade.synthetic import demo_company
from targetcascade.testing._conformance import CHECKS, CheckResult, check_strategy, children_batch


@pytest.mark.parametrize("name", default_registry().names())
def test_every_registered_strategy_conforms(name):
    """Each registered strategy's example() passes every conformance check."""
    strategy = default_registry().get(name).example()
    results = check_strategy(strategy)
    assert [r.check for r in results] == list(CHECKS)
    assert all(r.passed for r in results), [r for r in results if not r.passed]


# ------------------------------------------------------------------- deliberately broken strategies


@attrs.frozen(kw_only=True)
class _Org(StrategyBase):
    needs_history: ClassVar[bool] = False

    def weights(self, batch: Any) -> np.ndarray:
        return np.ones(batch.shape)


@attrs.frozen(kw_only=True)
class NegativeWeights(_Org):
    name: ClassVar[str] = "negative_weights"

    def weights(self, batch):
        return -np.ones(batch.shape)


@attrs.frozen(kw_only=True)
class WrongShape(_Org):
    name: ClassVar[str] = "wrong_shape"

    def weights(self, batch):
        return np.ones(batch.shape[0])


@attrs.frozen(kw_only=True)
class NotANumber(_Org):
    name: ClassVar[str] = "not_a_number"

    def weights(self, batch):
        out = np.ones(batch.shape)
        out[0, 0] = np.nan
        return out


@attrs.frozen(kw_only=True)
class Nondeterministic(_Org):
    name: ClassVar[str] = "nondeterministic"

    def weights(self, batch):
        return np.random.default_rng().random(batch.shape) + 0.5


@attrs.frozen(kw_only=True)
class OrderDependent(_Org):
    name: ClassVar[str] = "order_dependent"

    def weights(self, batch):
        return np.repeat(np.arange(1.0, batch.shape[0] + 1)[:, None], batch.shape[1], axis=1)


@attrs.frozen(kw_only=True)
class SilentZeros(_Org):
    name: ClassVar[str] = "silent_zeros"

    def weights(self, batch):
        return np.zeros(batch.shape)


@attrs.frozen(kw_only=True)
class SecretHistory(_Org):
    """Reads history without declaring needs_history."""

    name: ClassVar[str] = "secret_history"

    def weights(self, batch):
        scale = 1.0 if batch.history is None else 2.0
        return np.full(batch.shape, scale)


@attrs.define(kw_only=True)
class Mutable(StrategyBase):
    """A mutable attrs class (not frozen)."""

    name: ClassVar[str] = "mutable"
    needs_history: ClassVar[bool] = False
    factor: float = 1.0

    def weights(self, batch):
        return np.full(batch.shape, self.factor)


@attrs.frozen(kw_only=True)
class Unpicklable(_Org):
    name: ClassVar[str] = "unpicklable"
    scale: Any = attrs.field(factory=lambda: lambda x: x)


@attrs.frozen(kw_only=True)
class Tuples(_Org):
    """Its to_dict keeps a tuple, which JSON turns into a list."""

    name: ClassVar[str] = "tuples"
    ramp: tuple[float, ...] = (1.0,)

    def to_dict(self):
        return {"strategy": self.name, "ramp": self.ramp}


@attrs.frozen(kw_only=True)
class Meddler(_Org):
    """Swaps the batch's rows behind its back."""

    name: ClassVar[str] = "meddler"

    def weights(self, batch):
        object.__setattr__(batch, "rows", batch.rows[::-1].copy())
        return np.ones(batch.shape)


@attrs.frozen(kw_only=True)
class LongTime(StrategyBase):
    """A time strategy with 13 months."""

    name: ClassVar[str] = "long_time"
    needs_history: ClassVar[bool] = False

    def profile(self, batch):
        return np.ones((batch.shape[0], 13))


@attrs.frozen(kw_only=True)
class FalselySame(_Org):
    """Declares the same weights in every period, but weighs later periods more."""

    name: ClassVar[str] = "falsely_same"
    same_every_period: ClassVar[bool] = True

    def weights(self, batch):
        return np.ones(batch.shape) * np.arange(1.0, batch.shape[1] + 1)


@attrs.frozen(kw_only=True)
class SameButNotAlone(_Org):
    """Identical columns, but a one-period batch gets other weights than the first column."""

    name: ClassVar[str] = "same_but_not_alone"
    same_every_period: ClassVar[bool] = True

    def weights(self, batch):
        return np.full(batch.shape, float(batch.shape[1]))


@attrs.frozen(kw_only=True)
class Huge(_Org):
    """Weights of 1e308 and 5e307 (finite, valid, and far from 1)."""

    name: ClassVar[str] = "huge"

    def weights(self, batch):
        by_id = np.array([1e308 if len(node) % 2 else 5e307 for node in batch.ids])
        return by_id[:, None] * np.ones(batch.shape)


def registry_with(*classes: type) -> StrategyRegistry:
    registry = StrategyRegistry()
    for cls in classes:
        registry.register(cls)
    return registry


def failed(strategy: Any, **kwargs: Any) -> set[str]:
    registry = registry_with(type(strategy))
    results = check_strategy(strategy, registry=registry, raise_on_failure=False, **kwargs)
    return {r.check for r in results if not r.passed}


class TestCheckStrategy:
    @pytest.mark.parametrize(
        ("strategy", "check"),
        [
            (NegativeWeights(), "non_negative"),
            (WrongShape(), "shape"),
            (NotANumber(), "finite"),
            (Nondeterministic(), "deterministic"),
            (OrderDependent(), "permutation_equivariant"),
            (SilentZeros(), "all_zero_handled"),
            (SilentZeros(), "single_child"),
            (SecretHistory(), "history_declared"),
            (Mutable(), "immutable"),
            (Unpicklable(), "picklable"),
            (Tuples(), "serialisation_round_trip"),
            (LongTime(), "shape"),
            (FalselySame(), "same_every_period"),
        ],
        ids=lambda value: value if isinstance(value, str) else type(value).__name__,
    )
    def test_broken_strategy_is_caught(self, strategy, check):
        """Each kind of breakage fails its named check."""
        assert check in failed(strategy)

    def test_only_the_broken_property_fails(self):
        """Negative weights fail non_negative (and the zero checks), not shape or determinism."""
        found = failed(NegativeWeights())
        assert "non_negative" in found
        assert not found & {"declared", "immutable", "shape", "finite", "deterministic",
                            "picklable", "serialisation_round_trip"}  # fmt: skip

    def test_same_every_period_needs_the_cut_batch_to_agree(self):
        """Equal columns are not enough: the engine weighs a batch cut to its first period."""
        company = demo_company()
        batch = children_batch(
            company.tree, company.calendar, company.metrics[0], ["north"],
            periods=["FY2027-M01", "FY2027-M02"],
        )  # fmt: skip
        assert "same_every_period" in failed(SameButNotAlone(), batches=[batch])
        assert "same_every_period" not in failed(Equal(), batches=[batch])

    def test_meddling_with_the_batch_is_caught(self):
        """A strategy that changes its batch fails inputs_untouched (checked on own batches)."""
        company = demo_company()
        batch = children_batch(company.tree, company.calendar, company.metrics[0], ["north"])
        assert "inputs_untouched" in failed(Meddler(), batches=[batch])

    def test_unregistered_strategy_fails_round_trip(self):
        """A strategy its registry does not know fails the serialisation round trip."""
        results = check_strategy(
            NegativeWeights(), registry=StrategyRegistry([Equal]), raise_on_failure=False
        )
        detail = {r.check: r.detail for r in results}["serialisation_round_trip"]
        assert "unknown strategy 'negative_weights'" in detail

    def test_raises_naming_every_failed_check(self):
        """By default a failure raises StrategyError listing the failed checks and why."""
        with pytest.raises(
            StrategyError, match=r"fails \d+ of 17 conformance checks \(.*shape"
        ) as info:
            check_strategy(WrongShape(), registry=registry_with(WrongShape))
        assert "expected (4, 1)" in str(info.value)

    def test_scale_invariance_is_checked_on_the_kernel(self, monkeypatch):
        """Without the kernel's exact rescaling, weights of 1e308 split unevenly: scale_invariant fails."""
        from targetcascade.allocation import _kernel

        assert "scale_invariant" not in failed(Huge())
        monkeypatch.setattr(_kernel, "rescaled", lambda weights, offsets: weights)
        assert "scale_invariant" in failed(Huge())

    def test_returns_results_in_check_order(self):
        """Results come one per check, in CHECKS order, as CheckResult values."""
        results = check_strategy(Even())
        assert [r.check for r in results] == list(CHECKS)
        assert results[0] == CheckResult(check="declared", passed=True, detail="")

    def test_own_batches(self):
        """Given batches replace the built-in ones; a batch of the other kind is refused."""
        company = demo_company()
        batch = children_batch(company.tree, company.calendar, company.metrics[0], ["east"],
                               periods=["FY2027-Q1"])  # fmt: skip
        assert all(r.passed for r in check_strategy(Equal(), batches=[batch]))
        with pytest.raises(StrategyError, match="batches\\[0\\] is a OrgBatch, not an TimeBatch"):
            check_strategy(Even(), batches=[batch])

    def test_kind_must_be_known(self):
        """A bad kind, or an object with neither weights nor profile, is refused outright."""
        with pytest.raises(StrategyError, match="kind='space'"):
            check_strategy(Equal(), kind="space")
        with pytest.raises(StrategyError, match="neither weights"):
            check_strategy(object())

    def test_checked_as_the_other_kind(self):
        """Checking an org strategy as a time strategy fails 'declared' and the batch checks."""
        found = failed(Equal(), kind="time")
        assert {"declared", "shape"} <= found


class TestChildrenBatch:
    def test_children_of_parents_in_tree_order(self):
        """Rows are the parents' children, grouped per parent, months by default."""
        company = demo_company()
        batch = children_batch(company.tree, company.calendar, company.metrics[0],
                               ["west", "north"])  # fmt: skip
        assert batch.ids == ("west-1", "west-2", "north-1", "north-2", "north-3")
        assert batch.offsets.tolist() == [0, 2, 5]
        assert batch.shape == (5, 12)

    def test_refuses_leaves_and_unknown_ids(self):
        """A parent without children, or an unknown id, is an error naming it."""
        company = demo_company()
        args = (company.tree, company.calendar, company.metrics[0])
        with pytest.raises(StrategyError, match="'north-1-1' has no children"):
            children_batch(*args, ["north", "north-1-1"])
        with pytest.raises(UnknownNodeError, match="nowhere"):
            children_batch(*args, ["nowhere"])
