"""The pluggy host: plugin manager, registration-time validation and the registry."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import warnings
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from pidlab import hookspecs
from pidlab.exceptions import PluginLoadWarning, PluginValidationError, UnknownNameError

__all__ = [
    "DEFAULT_PLUGINS",
    "KINDS",
    "PluginEntry",
    "PidlabPluginManager",
    "get_plugin_manager",
    "plugin_manager",
    "reload_plugins",
    "register_plugin",
    "builtin_classes",
    "lookup",
    "names",
]

#: Built-in plugin modules, registered exactly like third-party ones.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "pidlab._measures",
    "pidlab._solvers._native",
    "pidlab._solvers._cvxpy",
    "pidlab._discretizers",
    "pidlab._couplings",
)

ENTRY_POINT_GROUP = "pidlab"
DISABLE_ENV = "PIDLAB_DISABLE_PLUGIN_AUTOLOAD"

#: kind -> (hook name, required callables, required signature parameters of the main method)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, tuple[str, ...]]]] = {
    "measure": ("pidlab_register_measures", ("compute",), ("compute", ("dist", "solver"))),
    "solver": ("pidlab_register_solvers", ("solve", "availability"), ("solve", ("problem",))),
    "discretizer": ("pidlab_register_discretizers", ("fit", "transform"), ("fit", ("X",))),
    "coupling": ("pidlab_register_couplings", ("couple",), ("couple", ("p", "q"))),
}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")


@dataclass(frozen=True)
class PluginEntry:
    """One registered class of one plugin kind."""

    kind: str
    name: str
    cls: type
    plugin: str
    builtin: bool
    aliases: tuple[str, ...] = ()

    def instance(self) -> Any:
        return self.cls()

    def availability(self) -> tuple[bool, str | None]:
        """Whether it can run here (asked on every call, never cached) and why not.

        Asked of any class with an ``availability()`` method (solvers must have one; a
        discretizer needing an optional package has one); other classes are always available.
        """
        if not callable(getattr(self.cls, "availability", None)):
            return True, None
        try:
            av = self.cls().availability()
        except Exception as exc:  # a plugin's own check must not break the listing
            return False, f"availability check failed: {exc!r}"
        return bool(getattr(av, "available", av)), getattr(av, "reason", None)

    @property
    def reference(self) -> str:
        return str(getattr(self.cls, "reference", "") or "")

    @property
    def description(self) -> str:
        doc = getattr(self.cls, "description", "") or (inspect.getdoc(self.cls) or "").split("\n")[0]
        return str(doc)


class PidlabPluginManager(pluggy.PluginManager):
    """A pluggy manager that validates each plugin's classes when the plugin registers."""

    def __init__(self) -> None:
        super().__init__("pidlab")
        self.add_hookspecs(hookspecs)
        self.entries: dict[str, dict[str, PluginEntry]] = {k: {} for k in KINDS}
        self.aliases: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        self.failed: dict[str, str] = {}
        self._builtin_names: set[str] = set()

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` and validate every class it contributes.

        Raises
        ------
        PluginValidationError
            A hook with a wrong signature, a contributed object that is not a well-formed
            class, or a name (or alias) already taken by another plugin. Nothing of the
            plugin stays registered.
        """
        registered = self._pluggy_register(plugin, name or self.get_canonical_name(plugin))
        if registered is None:
            return None
        try:
            self._commit(self._stage(plugin, registered))
        except BaseException:
            self.unregister(plugin)
            raise
        return registered

    def _register_staged(self, plugin: object, name: str) -> list[PluginEntry]:
        """Register ``plugin`` with pluggy and validate its classes without publishing them yet
        (the caller commits them, or unregisters the plugin)."""
        registered = self._pluggy_register(plugin, name)
        if registered is None:
            return []
        try:
            return self._stage(plugin, registered)
        except BaseException:
            super().unregister(plugin)
            raise

    def _pluggy_register(self, plugin: object, name: str) -> str | None:
        """pluggy's registration, its errors turned into :class:`PluginValidationError` naming the plugin."""
        try:
            return super().register(plugin, name)
        except (pluggy.PluginValidationError, ValueError) as exc:  # bad hook / already registered
            raise PluginValidationError(name, str(exc)) from None

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        pname = name or (self.get_name(plugin) if plugin is not None else None)
        out = super().unregister(plugin, name)
        for kind in KINDS:
            for n in [n for n, e in self.entries[kind].items() if e.plugin == pname]:
                del self.entries[kind][n]
            for a in [a for a, n in self.aliases[kind].items() if n not in self.entries[kind]]:
                del self.aliases[kind][a]
        return out

    def _stage(self, plugin: object, pname: str) -> list[PluginEntry]:
        """Validate the classes ``plugin`` contributes and check their names and aliases against
        the registry and each other; returns them unpublished (see :meth:`_commit`)."""
        builtin = pname in self._builtin_names
        staged: list[PluginEntry] = []
        for kind, (hook, required, (method, params)) in KINDS.items():
            for impl in getattr(self.hook, hook).get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                try:
                    classes = impl.function()
                except Exception as exc:
                    raise PluginValidationError(pname, f"hook {hook}() raised {exc!r}") from None
                if classes is None:
                    continue
                if not isinstance(classes, (list, tuple)):
                    raise PluginValidationError(pname, f"hook {hook}() must return a list of classes, got {type(classes).__name__}")
                for cls in classes:
                    staged.append(self._validate(pname, kind, cls, required, method, params, builtin))
        taken: dict[tuple[str, str], str] = {}
        for e in staged:
            for key in (e.name, *e.aliases):
                owner = self._owner(e.kind, key) or taken.get((e.kind, key))
                if owner is not None:
                    raise PluginValidationError(
                        pname,
                        f"{e.kind} name {key!r} is already registered by plugin {owner!r}; "
                        "choose another name (a plugin may never shadow a built-in or another plugin).",
                    )
                taken[(e.kind, key)] = pname
        return staged

    def _commit(self, staged: list[PluginEntry]) -> None:
        for e in staged:
            self.entries[e.kind][e.name] = e
            for a in e.aliases:
                self.aliases[e.kind][a] = e.name

    def _owner(self, kind: str, key: str) -> str | None:
        if key in self.entries[kind]:
            return self.entries[kind][key].plugin
        if key in self.aliases[kind]:
            return self.entries[kind][self.aliases[kind][key]].plugin
        return None

    @staticmethod
    def _validate(
        pname: str, kind: str, cls: object, required: tuple[str, ...], method: str, params: tuple[str, ...], builtin: bool
    ) -> PluginEntry:
        if not inspect.isclass(cls):
            raise PluginValidationError(pname, f"a {kind} must be a class, got {cls!r}")
        qual = f"{kind} class {cls.__qualname__}"
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise PluginValidationError(
                pname, f"{qual} needs a class attribute 'name': a lower-case string such as 'my-measure' (got {name!r})"
            )
        if inspect.isabstract(cls):
            missing = sorted(getattr(cls, "__abstractmethods__", ()))
            raise PluginValidationError(pname, f"{qual} ({name!r}) is abstract; implement {missing}")
        for attr in required:
            if not callable(getattr(cls, attr, None)):
                raise PluginValidationError(pname, f"{qual} ({name!r}) has no method {attr}()")
        try:
            sig = inspect.signature(getattr(cls, method))
        except (TypeError, ValueError):
            sig = None
        if sig is not None:
            accepted = set(sig.parameters)
            has_var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
            missing_params = [p for p in params if p not in accepted and not (has_var_kw and p == "solver")]
            if missing_params:
                raise PluginValidationError(
                    pname, f"{qual} ({name!r}): {method}() must accept parameter(s) {list(params)}; got {sig}"
                )
        aliases = tuple(getattr(cls, "aliases", ()) or ())
        for a in aliases:
            if not isinstance(a, str) or not _NAME_RE.match(a):
                raise PluginValidationError(pname, f"{qual} ({name!r}): alias {a!r} must be a lower-case string")
        if kind == "solver" and not isinstance(getattr(cls, "priority", 100), int):
            raise PluginValidationError(pname, f"{qual} ({name!r}): priority must be an int")
        return PluginEntry(kind=kind, name=name, cls=cls, plugin=pname, builtin=builtin, aliases=aliases)

    def register_builtins(self) -> None:
        for modname in DEFAULT_PLUGINS:
            mod = importlib.import_module(modname)
            self._builtin_names.add(modname)
            self.register(mod, name=modname)

    def load_entrypoint_plugins(self) -> None:
        """Load third-party plugins from the ``pidlab`` entry-point group.

        A plugin that fails to import or validate is skipped with a :class:`PluginLoadWarning`
        and recorded in :attr:`failed` with its reason; the host goes on.

        The result does not depend on the order in which the plugins load: a name or alias (of
        one plugin kind) claimed by two or more of them is refused for ALL of them, each with a
        warning naming the others (a built-in's name or alias is never given up: a plugin
        claiming one is refused alone).
        """
        loaded: list[tuple[Any, object, list[PluginEntry]]] = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if self.has_plugin(ep.name) or ep.name in self.failed:
                continue
            try:
                plugin = ep.load()
                loaded.append((ep, plugin, self._register_staged(plugin, ep.name)))
            except Exception as exc:
                reason = str(exc) if isinstance(exc, PluginValidationError) else f"failed to load: {exc!r}"
                self._refuse_loaded(ep, reason)
        claims: dict[tuple[str, str], dict[str, str]] = {}  # (kind, key) -> {plugin: "name" or "alias"}
        for ep, _plugin, staged in loaded:
            for e in staged:
                for key in (e.name, *e.aliases):
                    claims.setdefault((e.kind, key), {}).setdefault(ep.name, "name" if key == e.name else "alias")
        clashes: dict[str, list[str]] = {}
        for (kind, key), owners in claims.items():
            if len(owners) > 1:
                for o, role in owners.items():
                    others = " and ".join(f"plugin {x!r} (as its {r})" for x, r in owners.items() if x != o)
                    clashes.setdefault(o, []).append(f"{kind} {role} {key!r} is also claimed by {others}")
        for ep, plugin, staged in loaded:
            if ep.name in clashes:
                super().unregister(plugin)
                self._refuse_loaded(ep, str(PluginValidationError(
                    ep.name,
                    "; ".join(clashes[ep.name]) + ". A name or alias claimed by two plugins is refused for both "
                    "(neither is loaded, whatever the load order); uninstall one of them or ask its author to rename it.",
                )))
            else:
                self._commit(staged)

    def _refuse_loaded(self, ep: Any, reason: str) -> None:
        self.failed[ep.name] = reason
        warnings.warn(
            f"pidlab plugin {ep.name!r} ({ep.value}) was not loaded: {reason}",
            PluginLoadWarning,
            stacklevel=3,
        )


def builtin_classes(package: str, specs: tuple[str, ...] | list[str]) -> list[type]:
    """The built-in classes of one plugin package, named ``"module:Class"`` (modules of ``package``).

    Each built-in package (``pidlab._measures``, ``pidlab._discretizers``, ``pidlab._couplings``)
    keeps one such list, its hook list: a new built-in costs its module and one line there.
    """
    out = []
    for spec in specs:
        modname, _, clsname = spec.partition(":")
        out.append(getattr(importlib.import_module(f"{package}.{modname}"), clsname))
    return out


def autoload_disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def get_plugin_manager(*, autoload: bool | None = None) -> PidlabPluginManager:
    """Build a new plugin manager with the built-ins and (unless disabled) third-party plugins.

    ``autoload=None`` follows the ``PIDLAB_DISABLE_PLUGIN_AUTOLOAD`` environment variable.
    """
    pm = PidlabPluginManager()
    pm.register_builtins()
    if autoload is None:
        autoload = not autoload_disabled()
    if autoload:
        pm.load_entrypoint_plugins()
    return pm


_CURRENT: list[PidlabPluginManager] = []


def plugin_manager() -> PidlabPluginManager:
    """The manager the library functions use (built on first use; see :func:`reload_plugins`)."""
    if not _CURRENT:
        _CURRENT.append(get_plugin_manager())
    return _CURRENT[0]


def reload_plugins(*, autoload: bool | None = None) -> PidlabPluginManager:
    """Rebuild the registry, e.g. after installing a plugin package in a running session."""
    _CURRENT.clear()
    _CURRENT.append(get_plugin_manager(autoload=autoload))
    return _CURRENT[0]


def register_plugin(plugin: object, name: str | None = None) -> str | None:
    """Register a plugin object (module or instance with hook implementations) at run time.

    It then appears everywhere, like an installed plugin: listings, the CLI and the widgets.
    """
    return plugin_manager().register(plugin, name=name)


def names(kind: str) -> list[str]:
    pm = plugin_manager()
    entries = list(pm.entries[kind].values())
    if kind == "solver":
        entries.sort(key=lambda e: (getattr(e.cls, "priority", 100), e.name))
    return [e.name for e in entries]


def lookup(kind: str, name: str) -> PluginEntry:
    """Find a registered class by name or alias (case-insensitive)."""
    pm = plugin_manager()
    if not isinstance(name, str):
        raise UnknownNameError(f"a {kind} name must be a string, got {type(name).__name__} ({name!r}).")
    key = name.strip().lower()
    key = pm.aliases[kind].get(key, key)
    if key in pm.entries[kind]:
        return pm.entries[kind][key]
    known = names(kind)
    aliases = sorted(pm.aliases[kind])
    raise UnknownNameError(
        f"unknown {kind} {name!r}; known {kind}s: {', '.join(known)}"
        + (f" (aliases: {', '.join(aliases)})" if aliases else "")
        + ". Third-party ones appear after installing their package (see `pidlab plugins`)."
    )
