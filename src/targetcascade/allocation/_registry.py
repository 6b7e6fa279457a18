"""The strategy registry: built-in strategies by name, plug-ins through entry points (private).

A :class:`StrategyRegistry` maps a strategy's ``name`` to its class, so a strategy written as
``{"strategy": "capacity_weighted", "ramp": [0.5, 1.0]}`` (in a plan file, a JSON spec, a
notebook) can be rebuilt with :meth:`StrategyRegistry.from_dict`. :func:`default_registry` holds the
built-ins and, loaded lazily on the first lookup, every strategy that an installed package declares
in the ``targetcascade.strategies`` entry-point group::

    # pyproject.toml of a plug-in package
    [project.entry-points."targetcascade.strategies"]
    territory_potential = "acme_plugins.strategies:TerritoryPotential"

A plug-in that fails to import, or whose name is already taken, is skipped with a
:class:`StrategyPluginWarning`: one broken package must not break every plan (the rule xarray
applies to its backend plug-ins).

Example:
    >>> registry = default_registry()
    >>> registry.get("equal").__name__
    'Equal'
    >>> registry.from_dict({"strategy": "capacity_weighted", "ramp": [0.5, 1.0]})
    CapacityWeighted(ramp=(0.5, 1.0))
"""

from __future__ import annotations

import difflib
import enum
import functools
import importlib.metadata
import math
import re
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Final, Literal, TypeVar, overload

import attrs
import numpy as np

from targetcascade.allocation._protocol import OrgStrategy, TimeStrategy
from targetcascade.errors import SerializationError, StrategyError

__all__ = [
    "ENTRY_POINT_GROUP",
    "StrategyBase",
    "StrategyPluginWarning",
    "StrategyRegistry",
    "builtin_strategies",
    "default_registry",
    "reads_history",
    "strategy_kind",
    "strategy_to_dict",
    "validate_strategy_class",
]

#: The entry-point group third-party packages declare their strategies in.
ENTRY_POINT_GROUP: Final = "targetcascade.strategies"

Kind = Literal["org", "time"]
_KINDS: Final = ("org", "time")
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_C = TypeVar("_C", bound=type[Any])


class StrategyPluginWarning(RuntimeWarning):
    """A strategy plug-in could not be loaded, or its name was taken; it was skipped.

    Example:
        >>> issubclass(StrategyPluginWarning, RuntimeWarning)
        True
    """


# ------------------------------------------------------------------------------ capabilities


def strategy_kind(cls: type[Any]) -> Kind:
    """Whether a strategy class splits among children (``"org"``) or over months (``"time"``).

    The declared ``kind`` class attribute wins; a class without one is an org strategy if it has a
    ``weights`` method and a time strategy if it has a ``profile`` method.

    Args:
        cls: A strategy class.

    Returns:
        ``"org"`` or ``"time"``.

    Raises:
        StrategyError: If the class declares an unknown kind, has both methods or neither, or
            declares a kind its methods contradict.

    Example:
        >>> from targetcascade.allocation.time_strategies import Even
        >>> strategy_kind(Even)
        'time'
    """
    label = getattr(cls, "__qualname__", repr(cls))
    has_weights = callable(getattr(cls, "weights", None))
    has_profile = callable(getattr(cls, "profile", None))
    if has_weights == has_profile:
        msg = (
            f"strategy class {label} has {'both' if has_weights else 'neither'} weights() "
            f"{'and' if has_weights else 'nor'} profile()"
        )
        raise StrategyError(
            msg,
            hint="an org strategy defines weights(batch), a time strategy profile(batch)",
        )
    inferred: Kind = "org" if has_weights else "time"
    declared = getattr(cls, "kind", inferred)
    if declared not in _KINDS:
        msg = f"strategy class {label} declares kind={declared!r}"
        raise StrategyError(
            msg,
            hint="declare kind: ClassVar[Literal['org', 'time']] as 'org' or 'time'",
        )
    if declared != inferred:
        msg = (
            f"strategy class {label} declares kind={declared!r} but defines "
            f"{'weights' if has_weights else 'profile'}()"
        )
        raise StrategyError(
            msg,
            hint="org strategies define weights(batch), time strategies profile(batch)",
        )
    return inferred


def validate_strategy_class(cls: object) -> str:
    """Check that ``cls`` can be registered as a strategy, and return its name.

    Args:
        cls: The candidate class.

    Returns:
        Its declared ``name``.

    Raises:
        StrategyError: It is not a class, lacks ``name``, ``needs_history`` or ``to_dict``, has a
            non-bool ``may_return_zero``, or its kind is unclear (see :func:`strategy_kind`).

    Example:
        >>> from targetcascade.allocation.org_strategies import Equal
        >>> validate_strategy_class(Equal)
        'equal'
        >>> validate_strategy_class(Equal())
        Traceback (most recent call last):
        ...
        targetcascade.errors.StrategyError: only strategy classes can be registered, got Equal(); ...
    """
    if not isinstance(cls, type):
        msg = f"only strategy classes can be registered, got {cls!r}"
        raise StrategyError(
            msg,
            hint="register the class, not an instance",
        )
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        msg = f"strategy class {cls.__qualname__} has name={name!r}"
        raise StrategyError(
            msg,
            hint="declare name: ClassVar[str] = 'my_strategy' (letters, digits, '_', '.', '-')",
        )
    if not isinstance(getattr(cls, "needs_history", None), bool):
        msg = f"strategy class {cls.__qualname__} ({name!r}) does not declare needs_history"
        raise StrategyError(
            msg,
            hint="declare needs_history: ClassVar[bool] = False (True if it reads history)",
        )
    if not isinstance(getattr(cls, "may_return_zero", False), bool):
        msg = f"strategy class {cls.__qualname__} ({name!r}) declares a non-bool may_return_zero"
        raise StrategyError(
            msg,
            hint="declare may_return_zero: ClassVar[bool]",
        )
    if not callable(getattr(cls, "to_dict", None)):
        msg = f"strategy class {cls.__qualname__} ({name!r}) has no to_dict()"
        raise StrategyError(
            msg,
            hint="subclass StrategyBase, or return strategy_to_dict(self) from to_dict()",
        )
    strategy_kind(cls)
    return name


def _nested(value: Any) -> Iterator[Any]:
    """The strategies inside a parameter value (a fallback, the pairs of a blend, ...)."""
    if _is_strategy(value):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _nested(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _nested(item)


def _with_parts(strategy: Any) -> Iterator[Any]:
    """``strategy`` and every strategy among its parameters (attrs fields), depth first."""
    yield strategy
    if attrs.has(type(strategy)):
        for field in attrs.fields(type(strategy)):
            for inner in _nested(getattr(strategy, field.name)):
                yield from _with_parts(inner)


def _declares(strategy: Any, flag: str) -> bool:
    """Whether the class of ``strategy`` sets the boolean class attribute ``flag``."""
    return bool(getattr(type(strategy), flag, False))


def same_every_period(strategy: Any) -> bool:
    """Whether an org strategy's weights are the same in every period column of any batch.

    A class promises it by declaring ``same_every_period: ClassVar[bool] = True`` (the conformance
    check ``same_every_period`` holds it to that); a composite also needs every strategy among its
    parameters to declare it. The engine then weighs one column and reuses it for the others, which
    saves a (children x 12) pass per level. Undeclared means "may differ by period", always safe.

    Args:
        strategy: A strategy instance.

    Returns:
        True if the weights never depend on ``batch.periods``.

    Example:
        >>> from targetcascade.allocation.org_strategies import (
        ...     CapacityWeighted, Equal, ProportionOfAverages)
        >>> same_every_period(ProportionOfAverages(fallback=Equal()))
        True
        >>> same_every_period(ProportionOfAverages(fallback=CapacityWeighted()))
        False
    """
    return all(_declares(s, "same_every_period") for s in _with_parts(strategy))


def reads_history(strategy: Any) -> bool:
    """Whether ``strategy`` or any strategy among its parameters declares ``needs_history``.

    ``needs_history`` is a class attribute, so a composite class (a blend, a strategy with a
    fallback) declares only its own need; this looks through the parameters (attrs fields) of the
    instance for nested strategies. The engine asks this before it decides whether history is
    required.

    Args:
        strategy: A strategy instance.

    Returns:
        True if some strategy in it reads ``batch.history``.

    Example:
        >>> from targetcascade.allocation.org_strategies import Blend, Equal, ProportionOfAverages
        >>> reads_history(Blend(parts=((Equal(), 1.0),)))
        False
        >>> reads_history(Blend(parts=((Equal(), 1.0), (ProportionOfAverages(), 1.0))))
        True
    """
    return any(_declares(s, "needs_history") for s in _with_parts(strategy))


# ------------------------------------------------------------------------------ serialisation


def _is_strategy(value: object) -> bool:
    return isinstance(value, OrgStrategy | TimeStrategy) and not isinstance(value, type)


def _encode(value: Any, where: str) -> Any:
    if _is_strategy(value):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return _encode(value.value, where)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            msg = f"{where} is {value!r}, which JSON cannot hold"
            raise SerializationError(msg)
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    msg = f"{where} is a {type(value).__name__}, which has no JSON form"
    raise SerializationError(
        msg,
        hint="strategy parameters are numbers, strings, None, tuples, mappings or strategies",
    )


def strategy_to_dict(strategy: Any) -> dict[str, Any]:
    """``{"strategy": name, **parameters}`` with every parameter made JSON-safe.

    Parameters are the strategy's attrs fields; nested strategies become their own dicts, tuples
    become lists, enums their values. :meth:`StrategyRegistry.from_dict` reverses it.

    Args:
        strategy: An attrs strategy instance.

    Returns:
        The dict.

    Raises:
        SerializationError: If a parameter has no JSON form (a NaN, an arbitrary object).

    Example:
        >>> from targetcascade.allocation.org_strategies import ProportionOfAverages
        >>> strategy_to_dict(ProportionOfAverages(window=2))
        {'strategy': 'proportion_of_averages', 'window': 2, 'fallback': {'strategy': 'equal'}}
    """
    cls = type(strategy)
    out: dict[str, Any] = {"strategy": cls.name}
    for field in attrs.fields(cls):
        if field.init:
            out[field.alias] = _encode(getattr(strategy, field.name), f"{cls.name}.{field.alias}")
    return out


class StrategyBase:
    """Optional base class for strategies: :meth:`to_dict` and :meth:`example` for free.

    Subclass it together with ``@attrs.frozen(kw_only=True)``; the built-in strategies do. The
    class still has to declare ``name``, ``needs_history`` (and, best, ``kind`` and
    ``may_return_zero``) and define ``weights`` or ``profile``.

    Example:
        >>> import attrs, numpy as np
        >>> from typing import ClassVar
        >>> @attrs.frozen(kw_only=True)
        ... class Flat(StrategyBase):
        ...     name: ClassVar[str] = "flat"
        ...     needs_history: ClassVar[bool] = False
        ...     def profile(self, batch):
        ...         return np.ones(batch.shape)
        >>> Flat().to_dict(), Flat.example()
        ({'strategy': 'flat'}, Flat())
    """

    __slots__ = ()

    name: ClassVar[str]
    #: Whether a valid batch can get an all-zero segment column (org) or row (time) back. The
    #: kernel refuses such weights under a non-zero parent, so declaring it is a promise to users.
    may_return_zero: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe ``{"strategy": name, **parameters}``; the registry rebuilds it.

        Example:
            >>> from targetcascade.allocation.time_strategies import Seasonal
            >>> Seasonal(profile=(1, 1, 1, 2)).to_dict()
            {'strategy': 'seasonal', 'profile': [1.0, 1.0, 1.0, 2.0]}
        """
        return strategy_to_dict(self)

    @classmethod
    def example(cls) -> Any:
        """A representative instance, used by the conformance tests (default: all defaults).

        Example:
            >>> from targetcascade.allocation.org_strategies import Equal
            >>> Equal.example()
            Equal()
        """
        return cls()


# ------------------------------------------------------------------------------ the registry


def suggest_name(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


class StrategyRegistry:
    """Strategy classes by name, with optional lazy loading of entry-point plug-ins.

    Args:
        strategies: Classes to register now, in order.
        entry_point_group: If given, the entry-point group whose strategies are loaded (once) at
            the first lookup; names already registered win, and clashes or failures warn.

    Raises:
        StrategyError: If a class given in ``strategies`` is not a valid strategy class or repeats
            a name.

    Example:
        >>> from targetcascade.allocation.org_strategies import Equal
        >>> registry = StrategyRegistry([Equal])
        >>> "equal" in registry, registry.names()
        (True, ('equal',))
        >>> registry.get("eqaul")
        Traceback (most recent call last):
        ...
        targetcascade.errors.StrategyError: unknown strategy 'eqaul' (did you mean 'equal'?); ...
    """

    def __init__(
        self, strategies: Iterable[type[Any]] = (), *, entry_point_group: str | None = None
    ) -> None:
        self._classes: dict[str, type[Any]] = {}
        self._sources: dict[str, str] = {}
        self._group = entry_point_group
        self._loaded = entry_point_group is None
        self._lock = threading.Lock()
        for cls in strategies:
            self.register(cls)

    def __repr__(self) -> str:
        self._load_plugins()
        return f"StrategyRegistry({len(self._classes)} strategies: {', '.join(self.names())})"

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._classes)

    # ------------------------------------------------------------------ registration

    def register(self, cls: _C, *, replace: bool = False) -> _C:
        """Register a strategy class under its ``name``; usable as a decorator.

        Args:
            cls: The class: declares ``name`` (str) and ``needs_history`` (bool), defines
                ``weights`` (org) or ``profile`` (time) and ``to_dict``.
            replace: Allow replacing another class registered under the same name.

        Returns:
            ``cls`` unchanged.

        Raises:
            StrategyError: If ``cls`` is not a valid strategy class, or the name is taken by
                another class and ``replace`` is false.

        Example:
            >>> import attrs, numpy as np
            >>> from typing import ClassVar
            >>> registry = StrategyRegistry()
            >>> @registry.register
            ... @attrs.frozen(kw_only=True)
            ... class Ones(StrategyBase):
            ...     name: ClassVar[str] = "ones"
            ...     needs_history: ClassVar[bool] = False
            ...     def weights(self, batch):
            ...         return np.ones(batch.shape)
            >>> registry.from_dict({"strategy": "ones"})
            Ones()
        """
        name = validate_strategy_class(cls)
        existing = self._classes.get(name)
        if existing is not None and existing is not cls and not replace:
            msg = (
                f"strategy name {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__} ({self._sources[name]})"
            )
            raise StrategyError(
                msg,
                hint="give the new class another name, or register(..., replace=True)",
            )
        self._classes[name] = cls
        self._sources[name] = "registered"
        return cls

    def _load_plugins(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            assert self._group is not None
            # sorted so that which of two clashing plug-ins wins does not depend on install order
            found = sorted(
                importlib.metadata.entry_points(group=self._group),
                key=lambda ep: (ep.name, ep.value),
            )
            try:
                for entry_point in found:
                    self._add_plugin(entry_point)
            except BaseException:
                # only an interrupt gets here (see _add_plugin): the next lookup finishes the
                # loading instead of working on with the plug-ins after this one missing
                self._loaded = False
                raise

    def _add_plugin(self, entry_point: importlib.metadata.EntryPoint) -> None:
        source = f"plug-in {entry_point.name!r} = {entry_point.value!r}"
        try:
            cls = entry_point.load()
        # A broken plug-in must not break the library, nor stop the plug-ins after it loading:
        # SystemExit too (a sys.exit() at import is a plug-in bug, not the host program asking to
        # stop). KeyboardInterrupt and the other BaseExceptions (GeneratorExit, asyncio's
        # CancelledError) are the user or the runtime stopping the work, and propagate.
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            warnings.warn(
                f"strategy {source} failed to load and is skipped: {type(exc).__name__}: {exc}",
                StrategyPluginWarning,
                stacklevel=4,
            )
            return
        try:
            name = validate_strategy_class(cls)
        # a plug-in's own class attributes may raise anything when read (a property, __getattr__)
        except Exception as exc:  # noqa: BLE001
            detail = str(exc) if isinstance(exc, StrategyError) else f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"strategy {source} is skipped: {detail}", StrategyPluginWarning, stacklevel=4
            )
            return
        existing = self._classes.get(name)
        if existing is cls:
            return  # the same class reached twice (e.g. the distribution is on sys.path twice)
        if existing is not None:
            warnings.warn(
                f"strategy {source} is skipped: the name {name!r} is already taken by "
                f"{existing.__module__}.{existing.__qualname__} ({self._sources[name]})",
                StrategyPluginWarning,
                stacklevel=4,
            )
            return
        if name != entry_point.name:
            warnings.warn(
                f"strategy {source} declares name={name!r}; it is registered as {name!r}",
                StrategyPluginWarning,
                stacklevel=4,
            )
        self._classes[name] = cls
        self._sources[name] = source

    # ------------------------------------------------------------------ lookup

    def names(self, *, kind: Kind | None = None) -> tuple[str, ...]:
        """The registered names, sorted; only org or only time strategies if ``kind`` is given.

        Args:
            kind: ``"org"``, ``"time"`` or None for both.

        Returns:
            The names.

        Example:
            >>> default_registry().names(kind="time")
            ('even', 'historical_seasonality', 'seasonal', 'working_days')
        """
        self._load_plugins()
        _check_kind(kind)
        return tuple(
            sorted(
                name
                for name, cls in self._classes.items()
                if kind is None or strategy_kind(cls) == kind
            )
        )

    def get(self, name: str, *, kind: Kind | None = None) -> type[Any]:
        """The class registered under ``name``.

        Args:
            name: The strategy's name.
            kind: If given, the class must be of this kind.

        Returns:
            The class.

        Raises:
            StrategyError: The name is unknown (close names are suggested) or of the other kind.

        Example:
            >>> default_registry().get("seasonal").__name__
            'Seasonal'
            >>> default_registry().get("seasonal", kind="org")
            Traceback (most recent call last):
            ...
            targetcascade.errors.StrategyError: strategy 'seasonal' is a time strategy, ...
        """
        self._load_plugins()
        _check_kind(kind)
        checked: object = name  # user input: a non-string name is simply unknown
        cls = self._classes.get(name) if isinstance(checked, str) else None
        if cls is None:
            msg = f"unknown strategy {name!r}{suggest_name(str(name), self._classes)}"
            raise StrategyError(
                msg,
                hint=f"registered strategies: {', '.join(self.names(kind=kind))}",
            )
        found = strategy_kind(cls)
        if kind is not None and found != kind:
            msg = (
                f"strategy {name!r} is a {found} strategy, but a{'n' if kind == 'org' else ''} "
                f"{kind} strategy is needed here"
            )
            raise StrategyError(
                msg,
                hint=f"{kind} strategies: {', '.join(self.names(kind=kind))}",
            )
        return cls

    @overload
    def from_dict(self, data: Mapping[str, Any], *, kind: Literal["org"]) -> OrgStrategy: ...

    @overload
    def from_dict(self, data: Mapping[str, Any], *, kind: Literal["time"]) -> TimeStrategy: ...

    @overload
    def from_dict(
        self, data: Mapping[str, Any], *, kind: None = None
    ) -> OrgStrategy | TimeStrategy: ...

    def from_dict(
        self, data: Mapping[str, Any], *, kind: Kind | None = None
    ) -> OrgStrategy | TimeStrategy:
        """Rebuild a strategy from ``{"strategy": name, **parameters}`` (its ``to_dict()``).

        Nested dicts with a ``"strategy"`` name (a fallback, the parts of a blend) are rebuilt
        too; lists become tuples.

        Args:
            data: The dict.
            kind: If given, the strategy must be of this kind.

        Returns:
            The strategy.

        Raises:
            SerializationError: ``data`` is not a mapping with a ``"strategy"`` name.
            StrategyError: The name is unknown, a parameter is unknown, or a value is invalid.

        Example:
            >>> registry = default_registry()
            >>> registry.from_dict({"strategy": "proportional", "attribute": "potential",
            ...                     "fallback": {"strategy": "equal"}})
            Proportional(attribute='potential', values=None, fallback=Equal())
            >>> registry.from_dict({"strategy": "equal", "window": 2})
            Traceback (most recent call last):
            ...
            targetcascade.errors.StrategyError: strategy 'equal' has no parameter 'window'; ...
        """
        if not isinstance(data, Mapping):
            msg = f"a strategy is stored as a mapping, got {type(data).__name__}"
            raise SerializationError(
                msg,
                hint='write it as {"strategy": "equal"}',
            )
        name = data.get("strategy")
        if not isinstance(name, str):
            msg = f"strategy mapping {dict(data)!r} has no 'strategy' name"
            raise SerializationError(
                msg,
                hint='name the strategy: {"strategy": "equal", ...}',
            )
        cls = self.get(name, kind=kind)
        params = {key: self._decode(value) for key, value in data.items() if key != "strategy"}
        if attrs.has(cls):
            known = [f.alias for f in attrs.fields(cls) if f.init]
            for key in params:
                if key not in known:
                    msg = f"strategy {name!r} has no parameter {key!r}{suggest_name(key, known)}"
                    raise StrategyError(
                        msg,
                        hint=f"its parameters: {', '.join(known) or 'none'}",
                    )
        try:
            strategy = cls(**params)
        except StrategyError:
            raise
        except (TypeError, ValueError) as exc:
            msg = f"strategy {name!r} could not be built from {dict(data)!r}: {exc}"
            raise StrategyError(
                msg,
                hint="check the parameters against the strategy's documentation",
            ) from exc
        return strategy  # type: ignore[no-any-return]

    def _decode(self, value: Any) -> Any:
        # A mapping is a nested strategy when its "strategy" key holds a name; an explicit weight
        # mapping that happens to contain a node called "strategy" holds a number there.
        if isinstance(value, Mapping):
            if isinstance(value.get("strategy"), str):
                return self.from_dict(value)
            return {key: self._decode(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return tuple(self._decode(item) for item in value)
        return value


def _check_kind(kind: object) -> None:
    if kind is not None and kind not in _KINDS:
        msg = f"kind={kind!r} is not a strategy kind"
        raise StrategyError(msg, hint="use 'org' or 'time'")


def builtin_strategies() -> tuple[type[Any], ...]:
    """The classes of the built-in strategies, org strategies first.

    Returns:
        The classes.

    Example:
        >>> [cls.name for cls in builtin_strategies()][:3]
        ['equal', 'proportional', 'capacity_weighted']
    """
    # imported here: the strategy modules import this one for StrategyBase
    from targetcascade.allocation import org_strategies, time_strategies  # noqa: PLC0415

    return (
        org_strategies.Equal,
        org_strategies.Proportional,
        org_strategies.CapacityWeighted,
        org_strategies.ProportionOfAverages,
        org_strategies.AverageOfProportions,
        org_strategies.Blend,
        time_strategies.Even,
        time_strategies.Seasonal,
        time_strategies.HistoricalSeasonality,
        time_strategies.WorkingDays,
    )


@functools.cache
def default_registry() -> StrategyRegistry:
    """The shared registry: built-ins plus the ``targetcascade.strategies`` entry points (cached).

    Plug-ins are loaded at the first lookup, once per process; build a
    ``StrategyRegistry(builtin_strategies(), entry_point_group=ENTRY_POINT_GROUP)`` to load them
    afresh.

    Returns:
        The registry.

    Example:
        >>> default_registry() is default_registry()
        True
        >>> default_registry().names(kind="org")
        ('average_of_proportions', 'blend', 'capacity_weighted', 'equal',
         'proportion_of_averages', 'proportional')
    """
    return StrategyRegistry(builtin_strategies(), entry_point_group=ENTRY_POINT_GROUP)
