"""The strategy registry: lookup, serialisation, and plug-ins loaded through real entry points."""

from __future__ import annotations

import importlib
import json
import pickle
import sys
import textwrap
from typing import ClassVar

import attrs
import numpy as np
import pytest

from targetcascade.allocation._registry import (
    ENTRY_POINT_GROUP,
    StrategyBase,
    StrategyPluginWarning,
    StrategyRegistry,
    builtin_strategies,
    default_registry,
    reads_history,
    strategy_kind,
    strategy_to_dict,
    validate_strategy_class,
)
from targetcascade.allocation.org_strategies import (
    AverageOfProportions,
    Blend,
    CapacityWeighted,
    Equal,
    Proportional,
    ProportionOfAverages,
)
from targetcascade.allocation.time_strategies import (
    Even,
    HistoricalSeasonality,
    Seasonal,
    WorkingDays,
)
from targetcascade.errors import SerializationError, StrategyError
from targetcascade.testing._conformance import check_strategy


@attrs.frozen(kw_only=True)
class Doubling(StrategyBase):
    """A local org strategy for registry tests."""

    name: ClassVar[str] = "doubling"
    needs_history: ClassVar[bool] = False
    factor: float = 2.0

    def weights(self, batch):
        return np.full(batch.shape, self.factor)


@attrs.frozen(kw_only=True)
class OtherDoubling(Doubling):
    """Another class claiming the same name."""


class TestStrategyRegistry:
    def test_register_and_get(self):
        """A registered class is found by its name; names() lists it."""
        registry = StrategyRegistry([Equal])
        assert registry.register(Doubling) is Doubling
        assert registry.get("doubling") is Doubling
        assert registry.names() == ("doubling", "equal")
        assert "doubling" in registry
        assert "tripling" not in registry
        assert len(registry) == 2
        assert list(registry) == ["doubling", "equal"]

    def test_register_is_a_decorator(self):
        """register() returns the class, so it decorates a class definition."""
        registry = StrategyRegistry()

        @registry.register
        @attrs.frozen(kw_only=True)
        class Ones(StrategyBase):
            name: ClassVar[str] = "ones"
            needs_history: ClassVar[bool] = False

            def weights(self, batch):
                return np.ones(batch.shape)

        assert registry.get("ones") is Ones

    def test_unknown_name_suggests_close_ones(self):
        """An unknown name is a StrategyError suggesting the close names and listing all."""
        with pytest.raises(StrategyError, match=r"unknown strategy 'capacity' \(did you mean "
                           r"'capacity_weighted'\?\)") as info:  # fmt: skip
            default_registry().get("capacity")
        assert "registered strategies: average_of_proportions" in str(info.value)

    def test_kind_filter(self):
        """names(kind=) lists one kind; get(kind=) refuses the other kind, naming both."""
        registry = default_registry()
        assert registry.names(kind="time") == (
            "even",
            "historical_seasonality",
            "seasonal",
            "working_days",
        )
        assert "equal" in registry.names(kind="org")
        with pytest.raises(StrategyError, match="'even' is a time strategy, but an org strategy"):
            registry.get("even", kind="org")
        with pytest.raises(StrategyError, match="kind='both'"):
            registry.names(kind="both")

    def test_duplicate_name_is_refused(self):
        """Registering another class under a taken name is an error unless replace=True."""
        registry = StrategyRegistry([Doubling])
        registry.register(Doubling)  # the same class again: a no-op
        with pytest.raises(StrategyError, match="'doubling' is already registered by"):
            registry.register(OtherDoubling)
        registry.register(OtherDoubling, replace=True)
        assert registry.get("doubling") is OtherDoubling

    def test_from_dict_rebuilds_nested_strategies(self):
        """from_dict rebuilds fallbacks and blend parts from their own dicts."""
        blend = Blend(parts=((ProportionOfAverages(window=1, fallback=CapacityWeighted()), 0.7),
                             (Proportional(values={"a": 1.0}), 0.3)))  # fmt: skip
        data = json.loads(json.dumps(blend.to_dict()))
        assert default_registry().from_dict(data) == blend

    def test_from_dict_kind(self):
        """from_dict(kind=) refuses a strategy of the other kind."""
        with pytest.raises(StrategyError, match="time strategy"):
            default_registry().from_dict({"strategy": "even"}, kind="org")
        assert default_registry().from_dict({"strategy": "even"}, kind="time") == Even()

    def test_values_mapping_with_a_node_called_strategy(self):
        """A weight mapping with a node named 'strategy' stays a mapping (its value is a number)."""
        strategy = Proportional(values={"strategy": 2.0, "x": 1.0})
        assert default_registry().from_dict(strategy.to_dict()) == strategy

    @pytest.mark.parametrize(
        ("data", "error", "match"),
        [
            (["equal"], SerializationError, "stored as a mapping, got list"),
            ({"window": 2}, SerializationError, "has no 'strategy' name"),
            ({"strategy": "equal", "window": 2}, StrategyError, "'equal' has no parameter 'window'"),
            ({"strategy": "proportion_of_averages", "windw": 2}, StrategyError,
             r"no parameter 'windw' \(did you mean 'window'\?\)"),
            ({"strategy": "seasonal", "profile": [1, 2]}, StrategyError, "has 2 weights"),
            ({"strategy": "blend", "parts": [[{"strategy": "nope"}, 1]]}, StrategyError,
             "unknown strategy 'nope'"),
        ],
    )  # fmt: skip
    def test_from_dict_errors(self, data, error, match):
        """Malformed dicts, unknown parameters and invalid values are errors naming the culprit."""
        with pytest.raises(error, match=match):
            default_registry().from_dict(data)

    def test_repr_lists_names(self):
        """repr shows how many strategies and their names."""
        assert (
            repr(StrategyRegistry([Equal, Even])) == "StrategyRegistry(2 strategies: equal, even)"
        )


class TestValidateStrategyClass:
    def test_refuses_incomplete_classes(self):
        """Classes without a name, needs_history or a method, or instances, are refused."""

        class NoName:
            needs_history = False

            def weights(self, batch):
                return batch

            def to_dict(self):
                return {}

        class NoHistory(NoName):
            name = "x"
            needs_history = None

        class Both(NoName):
            name = "both"

            def profile(self, batch):
                return batch

        with pytest.raises(StrategyError, match="has name=None"):
            validate_strategy_class(NoName)
        with pytest.raises(StrategyError, match="does not declare needs_history"):
            validate_strategy_class(NoHistory)
        with pytest.raises(StrategyError, match="has both weights"):
            validate_strategy_class(Both)
        with pytest.raises(StrategyError, match="only strategy classes"):
            validate_strategy_class(Equal())


class TestStrategyKind:
    def test_declared_and_inferred(self):
        """Built-ins declare their kind; a class without one is told by its method."""
        assert strategy_kind(Equal) == "org"
        assert strategy_kind(Seasonal) == "time"
        assert strategy_kind(Doubling) == "org"

    def test_contradiction_is_refused(self):
        """A declared kind contradicting the method is an error."""

        class Liar(Doubling):
            kind: ClassVar[str] = "time"

        with pytest.raises(StrategyError, match="declares kind='time' but defines weights"):
            strategy_kind(Liar)


class TestReadsHistory:
    def test_nested_strategies_count(self):
        """A blend or fallback holding a history strategy reads history; plain ones do not."""
        assert not reads_history(Equal())
        assert reads_history(AverageOfProportions())
        assert reads_history(Blend(parts=((Equal(), 1), (ProportionOfAverages(), 1))))
        assert not reads_history(Blend(parts=((Equal(), 1), (CapacityWeighted(), 1))))
        assert reads_history(Proportional(attribute="x", fallback=ProportionOfAverages()))
        assert reads_history(HistoricalSeasonality(fallback=WorkingDays()))


class TestStrategyToDict:
    def test_json_safe(self):
        """Tuples become lists and nested strategies dicts; the result survives JSON."""
        data = strategy_to_dict(CapacityWeighted(ramp=(0.5, 1.0)))
        assert data == {"strategy": "capacity_weighted", "ramp": [0.5, 1.0]}
        assert json.loads(json.dumps(data)) == data

    def test_non_json_parameter_is_refused(self):
        """A parameter without a JSON form is a SerializationError naming it."""

        @attrs.frozen(kw_only=True)
        class Odd(Doubling):
            extra: object = attrs.field(factory=object)

        with pytest.raises(SerializationError, match=r"doubling\.extra is a object"):
            strategy_to_dict(Odd())


class TestStrategyBase:
    def test_example_and_to_dict(self):
        """The base gives example() (all defaults) and to_dict()."""
        assert Doubling.example() == Doubling()
        assert Doubling(factor=3).to_dict() == {"strategy": "doubling", "factor": 3}


class TestBuiltinStrategies:
    def test_every_builtin_has_a_unique_name(self):
        """The ten built-ins have distinct names and pass registration checks."""
        names = [validate_strategy_class(cls) for cls in builtin_strategies()]
        assert len(names) == len(set(names)) == 10


class TestDefaultRegistry:
    def test_cached(self):
        """default_registry() is built once per process."""
        assert default_registry() is default_registry()

    def test_holds_the_builtins(self):
        """Every built-in is registered under its name."""
        registry = default_registry()
        for cls in builtin_strategies():
            assert registry.get(cls.name) is cls


# ----------------------------------------------------------------------------------- plug-ins


def install(tmp_path, package: str, source: str, entry_points: str) -> None:
    """Write a package and its dist-info (METADATA, entry_points.txt) into tmp_path."""
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(textwrap.dedent(source))
    info = tmp_path / f"{package}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    importlib.invalidate_caches()


DEMO_PLUGIN = """
    from typing import ClassVar

    import attrs
    import numpy as np

    from targetcascade.allocation._registry import StrategyBase


    @attrs.frozen(kw_only=True)
    class DemoStrategy(StrategyBase):
        name: ClassVar[str] = "demo_strategy"
        kind: ClassVar[str] = "org"
        needs_history: ClassVar[bool] = False
        scale: float = 2.0

        def weights(self, batch):
            return np.full(batch.shape, float(self.scale))


    @attrs.frozen(kw_only=True)
    class Impostor(DemoStrategy):
        name: ClassVar[str] = "equal"


    NOT_A_CLASS = 42
"""


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """tmp_path on sys.path, with the plug-in modules forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("tc_plugin_demo", "tc_plugin_broken"):
        sys.modules.pop(name, None)


def fresh_registry() -> StrategyRegistry:
    return StrategyRegistry(builtin_strategies(), entry_point_group=ENTRY_POINT_GROUP)


class TestPlugins:
    def test_plugin_loads_through_a_real_entry_point(self, plugin_path):
        """A strategy declared in an installed distribution's entry points is found by name."""
        registry = fresh_registry()  # built before the plug-in is installed: loading is lazy
        install(plugin_path, "tc_plugin_demo", DEMO_PLUGIN,
                "[targetcascade.strategies]\ndemo_strategy = tc_plugin_demo:DemoStrategy\n")  # fmt: skip
        cls = registry.get("demo_strategy")
        assert cls.__module__ == "tc_plugin_demo"
        strategy = registry.from_dict({"strategy": "demo_strategy", "scale": 3.0})
        assert strategy == cls(scale=3.0)
        assert "demo_strategy" in registry.names(kind="org")
        results = check_strategy(strategy, registry=registry)
        assert all(result.passed for result in results)
        assert pickle.loads(pickle.dumps(strategy)) == strategy

    def test_broken_plugin_warns(self, plugin_path):
        """A plug-in whose import fails is skipped with a warning; the built-ins still work."""
        install(plugin_path, "tc_plugin_broken", "raise ImportError('needs shapely')\n",
                "[targetcascade.strategies]\nbroken = tc_plugin_broken:Broken\n")  # fmt: skip
        registry = fresh_registry()
        with pytest.warns(StrategyPluginWarning, match="'broken'.*failed to load.*needs shapely"):
            names = registry.names()
        assert "broken" not in names
        assert registry.get("equal") is Equal

    def test_duplicate_name_warns(self, plugin_path):
        """A plug-in taking a built-in's name is skipped with a warning; the built-in stays."""
        install(plugin_path, "tc_plugin_demo", DEMO_PLUGIN,
                "[targetcascade.strategies]\nequal = tc_plugin_demo:Impostor\n")  # fmt: skip
        registry = fresh_registry()
        with pytest.warns(StrategyPluginWarning, match="name 'equal' is already taken"):
            assert registry.get("equal") is Equal

    def test_invalid_object_warns(self, plugin_path):
        """An entry point naming something that is not a strategy class warns and is skipped."""
        install(plugin_path, "tc_plugin_demo", DEMO_PLUGIN,
                "[targetcascade.strategies]\nnumber = tc_plugin_demo:NOT_A_CLASS\n")  # fmt: skip
        registry = fresh_registry()
        with pytest.warns(StrategyPluginWarning, match="'number'.*only strategy classes"):
            assert "number" not in registry

    def test_entry_point_name_mismatch_warns(self, plugin_path):
        """An entry point named differently from its class's name warns; the class name counts."""
        install(plugin_path, "tc_plugin_demo", DEMO_PLUGIN,
                "[targetcascade.strategies]\ndemo = tc_plugin_demo:DemoStrategy\n")  # fmt: skip
        registry = fresh_registry()
        with pytest.warns(StrategyPluginWarning, match="declares name='demo_strategy'"):
            assert "demo_strategy" in registry
        assert "demo" not in registry

    def test_plugins_load_once(self, plugin_path):
        """Plug-ins are loaded at the first lookup only: a later install is not seen."""
        registry = fresh_registry()
        assert "demo_strategy" not in registry
        install(plugin_path, "tc_plugin_demo", DEMO_PLUGIN,
                "[targetcascade.strategies]\ndemo_strategy = tc_plugin_demo:DemoStrategy\n")  # fmt: skip
        assert "demo_strategy" not in registry
        assert "demo_strategy" in fresh_registry()

    def test_without_group_no_plugins(self, plugin_path):
        """A registry without an entry-point group never loads plug-ins."""
        install(plugin_path, "tc_plugin_demo", DEMO_PLUGIN,
                "[targetcascade.strategies]\ndemo_strategy = tc_plugin_demo:DemoStrategy\n")  # fmt: skip
        assert "demo_strategy" not in StrategyRegistry(builtin_strategies())
