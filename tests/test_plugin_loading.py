"""A broken plug-in never takes the strategy registry down (issue 21, item 9: loading).

Plug-ins are real distributions written into ``tmp_path`` (a package plus its dist-info with an
``entry_points.txt``), found through ``importlib.metadata`` exactly as installed ones are. Entry
points load in name order, so a broken plug-in named ``a_...`` is loaded before the good ``z_good``.
"""

from __future__ import annotations

import builtins
import importlib
import sys
import textwrap

import pytest

from targetcascade.allocation._registry import (
    ENTRY_POINT_GROUP,
    StrategyPluginWarning,
    StrategyRegistry,
    builtin_strategies,
)
from targetcascade.errors import StrategyError

GOOD = """
    from typing import ClassVar

    import attrs
    import numpy as np

    from targetcascade.allocation._registry import StrategyBase


    @attrs.frozen(kw_only=True)
    class Good(StrategyBase):
        name: ClassVar[str] = "z_good"
        kind: ClassVar[str] = "org"
        needs_history: ClassVar[bool] = False

        def weights(self, batch):
            return np.ones(batch.shape)
"""

_PACKAGES = ("tc_load_good", "tc_load_bad")


def install(root, package: str, source: str, entry_name: str, target: str) -> None:
    """Write a one-module distribution declaring one strategy entry point."""
    (root / package).mkdir()
    (root / package / "__init__.py").write_text(textwrap.dedent(source))
    info = root / f"{package}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n{entry_name} = {package}:{target}\n"
    )
    importlib.invalidate_caches()


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """tmp_path on sys.path with the good plug-in installed; plug-in modules forgotten after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    install(tmp_path, "tc_load_good", GOOD, "z_good", "Good")
    yield tmp_path
    for name in _PACKAGES:
        sys.modules.pop(name, None)


def fresh_registry() -> StrategyRegistry:
    return StrategyRegistry(builtin_strategies(), entry_point_group=ENTRY_POINT_GROUP)


BROKEN_AT_IMPORT = {
    "sys-exit": ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
    "sys-exit-message": ("raise SystemExit('bye')\n", "SystemExit: bye"),
    "runtime-error": ("raise RuntimeError('no licence server')\n", "RuntimeError: no licence"),
    "missing-dependency": ("import tc_no_such_module_anywhere\n", "ModuleNotFoundError"),
}


class TestBrokenPlugins:
    @pytest.mark.parametrize("case", sorted(BROKEN_AT_IMPORT), ids=sorted(BROKEN_AT_IMPORT))
    def test_failure_at_import_warns_and_the_next_plugin_still_loads(self, plugins, case):
        """A plug-in failing at import (even by sys.exit) is skipped with a warning naming it."""
        source, error = BROKEN_AT_IMPORT[case]
        install(plugins, "tc_load_bad", source, "a_bad", "Thing")
        registry = fresh_registry()
        with pytest.warns(StrategyPluginWarning) as caught:
            names = registry.names()
        assert "z_good" in names
        assert "a_bad" not in names
        assert "equal" in names
        (message,) = [str(w.message) for w in caught]
        assert "'a_bad' = 'tc_load_bad:Thing'" in message
        assert error in message

    def test_class_whose_attributes_raise_is_skipped(self, plugins):
        """A plug-in class whose ``name`` raises when read is skipped; the others still load."""
        source = """
            class _Meta(type):
                @property
                def name(cls):
                    raise LookupError("name is computed from a missing file")

            class Thing(metaclass=_Meta):
                pass
        """
        install(plugins, "tc_load_bad", source, "a_bad", "Thing")
        registry = fresh_registry()
        with pytest.warns(StrategyPluginWarning, match=r"'a_bad'.*LookupError: name is computed"):
            assert "z_good" in registry.names()

    def test_keyboard_interrupt_propagates_and_the_next_lookup_finishes_loading(self, plugins):
        """Ctrl-C during plug-in loading stops the lookup; the next lookup loads every plug-in."""
        source = """
            import builtins

            if not getattr(builtins, "_tc_interrupt_once", False):
                builtins._tc_interrupt_once = True
                raise KeyboardInterrupt

            from tc_load_good import Good as _Good

            class Thing(_Good):
                name = "a_interrupting"
        """
        install(plugins, "tc_load_bad", source, "a_interrupting", "Thing")
        registry = fresh_registry()
        try:
            with pytest.raises(KeyboardInterrupt):
                registry.names()
            names = registry.names()
        finally:
            del builtins._tc_interrupt_once  # type: ignore[attr-defined]
        assert {"a_interrupting", "z_good"} <= set(names)

    def test_unknown_name_after_a_broken_plugin_suggests_the_nearest(self, plugins):
        """With a broken plug-in installed, a misspelt name is still refused naming the nearest."""
        install(plugins, "tc_load_bad", "raise SystemExit\n", "a_bad", "Thing")
        registry = fresh_registry()
        with (
            pytest.warns(StrategyPluginWarning, match="a_bad"),
            pytest.raises(StrategyError, match=r"'z_god'.*'z_good'"),
        ):
            registry.get("z_god")


def test_same_class_from_two_entry_points_registers_once_quietly(plugins):
    """A class reached through two entry points (a package on sys.path twice) is one strategy."""
    install(plugins, "tc_load_bad", "from tc_load_good import Good\n", "z_good_again", "Good")
    registry = fresh_registry()
    names = registry.names()  # the suite turns any warning into an error
    assert names.count("z_good") == 1
    assert "z_good_again" not in names
