"""The public surface: every exported name resolves, is documented and carries an example."""

from __future__ import annotations

import inspect

import pytest

import targetcascade
import targetcascade.testing


class TestPublicApi:
    def test_all_is_sorted(self) -> None:
        """__all__ is hard-coded and sorted, so additions are reviewed."""
        names = [n for n in targetcascade.__all__ if n != "__version__"]
        assert names == sorted(names, key=lambda n: (not n.isupper(), n))

    @pytest.mark.parametrize("name", targetcascade.__all__)
    def test_every_name_resolves(self, name: str) -> None:
        """Each name in __all__ is an attribute of the package."""
        assert hasattr(targetcascade, name)

    @pytest.mark.parametrize(
        "name",
        [
            n
            for n in targetcascade.__all__
            if inspect.isclass(getattr(targetcascade, n))
            or inspect.isfunction(getattr(targetcascade, n))
        ],
    )
    def test_public_callables_have_examples(self, name: str) -> None:
        """Every public class and function has a docstring with a runnable example."""
        doc = inspect.getdoc(getattr(targetcascade, name)) or ""
        assert ">>>" in doc, f"{name} has no doctest example"

    @pytest.mark.parametrize("name", targetcascade.testing.__all__)
    def test_testing_names_resolve(self, name: str) -> None:
        """The public hypothesis strategies resolve and are documented."""
        obj = getattr(targetcascade.testing, name)
        assert ">>>" in (inspect.getdoc(obj) or "") or "Example" in (inspect.getdoc(obj) or "")

    def test_py_typed_is_shipped(self) -> None:
        """The package ships py.typed so type checkers read its annotations."""
        from importlib import resources

        assert resources.files("targetcascade").joinpath("py.typed").is_file()
