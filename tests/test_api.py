"""The public surface: every exported name resolves, is documented and carries an example."""

from __future__ import annotations

import inspect

import pytest

import targetcascade
import targetcascade.allocation
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

    @pytest.mark.parametrize(
        "name",
        [n for n in targetcascade.testing.__all__ if callable(getattr(targetcascade.testing, n))],
    )
    def test_testing_names_resolve(self, name: str) -> None:
        """The public test helpers resolve and carry an example."""
        obj = getattr(targetcascade.testing, name)
        assert ">>>" in (inspect.getdoc(obj) or "")

    @pytest.mark.parametrize(
        "name",
        [
            n
            for n in targetcascade.allocation.__all__
            if inspect.isclass(getattr(targetcascade.allocation, n))
            or inspect.isfunction(getattr(targetcascade.allocation, n))
        ],
    )
    def test_allocation_callables_have_examples(self, name: str) -> None:
        """Every public strategy, kernel function and registry type has a runnable example."""
        doc = inspect.getdoc(getattr(targetcascade.allocation, name)) or ""
        assert ">>>" in doc, f"{name} has no doctest example"

    def test_py_typed_is_shipped(self) -> None:
        """The package ships py.typed so type checkers read its annotations."""
        from importlib import resources

        assert resources.files("targetcascade").joinpath("py.typed").is_file()
