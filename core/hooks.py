"""Plugin hooks: the stable surface local IT builds on (pluggy, discovered through entry points).

A plugin is a module (or object) with functions marked ``@hookimpl``, registered under the setuptools
entry-point group ``wangge`` — the same mechanism as pytest and Datasette::

    [project.entry-points.wangge]
    pengli_sms = "wangge_pengli_sms"

A pack switches plugins on by entry-point name, with their settings (``plugins:`` in the pack, see
docs/plugins.md). :func:`plugin_manager` builds a fresh :class:`pluggy.PluginManager` on every call — no
global registry — so two packs served by one process never see each other's plugins or settings.

Hooks that talk to the outside world never run inline with intake: senders are called only by the outbox
worker (:mod:`wangge.core.outbox`), and the case observer hook runs under a time limit and only returns
messages to store. A plugin that raises or hangs therefore never loses an event nor blocks intake.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import pluggy

PROJECT = "wangge"
ENTRY_POINT_GROUP = "wangge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

log = logging.getLogger(__name__)

# Plugins shipped with wangge itself (also declared as entry points in pyproject.toml). Builtins are
# loaded whether or not a pack names them, because they only *offer* things (a sender kind, a channel);
# they act for a pack only with that pack's settings.
BUILTINS: Mapping[str, str] = MappingProxyType({
    "webhook": "wangge.plugins.webhook",
    "hotline_12345": "wangge.plugins.hotline_12345",
})


# -- what hooks return ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OutboxMessage:
    """One stored notification as a sender sees it (a row of the ``outbox`` table)."""

    id: str
    tenant: str
    kind: str
    target: str
    payload: Mapping[str, Any]
    case_id: str | None = None
    attempt: int = 1  # 1 for the first try


class Sender(Protocol):
    """Delivers one message; returns normally on success and raises on any failure (then it is retried)."""

    def send(self, message: OutboxMessage) -> None: ...


@dataclass(frozen=True)
class IntakeChannel:
    """An intake adapter: turns a platform's payload into an event dict for :func:`wangge.core.events.parse_event`.

    ``to_event(payload, pack, settings)`` raises ``ValueError`` (or an ``EventError``) with a Chinese message
    for a payload it cannot accept. ``external_id(payload)`` gives the platform's own id, for idempotency.
    """

    id: str
    name: str
    to_event: Callable[[Mapping[str, Any], Any, Mapping[str, Any]], dict[str, Any]]
    external_id: Callable[[Mapping[str, Any]], str] | None = None


@dataclass(frozen=True)
class FieldType:
    """An extra form field type, usable as ``type: <id>`` in a pack that enables the plugin.

    ``parse(raw)`` turns what was sent (text from a browser, or a stored/prefilled value) into the stored
    value, and raises ``ValueError`` with a Chinese message for input it cannot accept — conversion and
    format check in one. ``widget`` is the built-in input the form page shows for it: ``text``,
    ``textarea``, ``integer``, ``decimal``, ``date``, ``datetime``, ``phone`` or ``id_card``. Expressions
    (relevant, constraint …) see the parsed value; the browser sees the text typed.
    """

    id: str
    name: str
    parse: Callable[[Any], Any]
    widget: str = "text"
    summary: str = ""


@dataclass(frozen=True)
class Validator:
    """An extra named validator for form fields, referenced from a field by ``validators: [id]`` (or
    ``validators: [{id: …, <params>}]``): ``check(value, params) -> None | str`` (the error, Chinese).
    It runs on the server after the field's own type check, for a filled-in, relevant field."""

    id: str
    check: Callable[[Any, Mapping[str, Any]], str | None]
    summary: str = ""


@dataclass(frozen=True)
class ExtraIndicator:
    """An indicator a plugin contributes to the packs that enable it: the same declaration as an entry of a
    pack's ``indicators:`` (numerator/denominator ``{fact, where?, count?}`` over case facts), compiled with
    the pack and computed in SQL by ``wangge.core.scoring`` exactly like a declared one. ``denominator`` is
    None only for ``unit: count``. A pack's own indicator with the same id wins (the county overrides).
    """

    id: str
    name: str
    numerator: Mapping[str, Any]
    denominator: Mapping[str, Any] | None = None
    unit: str = "percent"
    name_en: str = ""
    description: str = ""

    def as_entry(self) -> dict[str, Any]:
        """The declaration as a pack's ``indicators:`` entry."""
        entry: dict[str, Any] = {"id": self.id, "name": self.name, "unit": self.unit,
                                 "numerator": dict(self.numerator)}
        if self.denominator is not None:
            entry["denominator"] = dict(self.denominator)
        if self.name_en:
            entry["name_en"] = self.name_en
        if self.description:
            entry["description"] = self.description
        return entry


@dataclass(frozen=True)
class OutboxRequest:
    """A notification a plugin asks to send; stored in the caller's transaction, delivered later."""

    kind: str
    target: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class HookContext:
    """What every hook receives: the pack (or None outside one), the tenant, and each plugin's settings."""

    pack: Any = None
    tenant: str = ""
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))

    def settings_for(self, plugin: str) -> Mapping[str, Any]:
        return self.settings.get(plugin, MappingProxyType({}))

    def enabled(self, plugin: str) -> bool:
        return plugin in self.settings


# -- hook specifications ---------------------------------------------------------------------------
class Specs:
    """The hooks. Every ``wangge_*`` hook but the two lifecycle ones returns a list (pluggy collects them)."""

    @hookspec
    def wangge_intake_channels(self, context: HookContext) -> Iterable[IntakeChannel]:
        """Intake adapters this plugin offers (e.g. the 12345 hotline)."""

    @hookspec
    def wangge_notification_senders(self, context: HookContext) -> Mapping[str, Sender]:
        """``kind → sender``; the outbox delivers each stored message with the sender for its kind."""

    @hookspec
    def wangge_form_field_types(self, context: HookContext) -> Iterable[FieldType]:
        """Extra form field types."""

    @hookspec
    def wangge_form_validators(self, context: HookContext) -> Iterable[Validator]:
        """Extra named validators for form fields."""

    @hookspec
    def wangge_expression_functions(self, context: HookContext) -> Iterable[Any]:
        """Extra :class:`wangge.core.expr.Function` objects for expressions."""

    @hookspec
    def wangge_indicators(self, context: HookContext) -> Iterable[ExtraIndicator]:
        """Extra indicator declarations (computed in SQL like the pack's own)."""

    @hookspec
    def wangge_check_pack(self, context: HookContext) -> Iterable[str]:
        """Problems (in Chinese) with this plugin's settings in ``context.pack``; nothing when all is well."""

    @hookspec
    def wangge_startup(self, app_context: Any) -> None:
        """Called once when an application (the portal, a worker) starts."""

    @hookspec
    def wangge_shutdown(self, app_context: Any) -> None:
        """Called once when it stops."""

    @hookspec
    def wangge_case_event(self, context: HookContext, case: Mapping[str, Any],
                          transition: Mapping[str, Any]) -> Iterable[OutboxRequest] | None:
        """Observe a case change (a ``cases`` row and the ``transitions`` row just written).

        Runs under a time limit in the caller's transaction: do no I/O here; return the notifications to
        send instead, and the outbox stores them with the change and delivers them with retries.
        """


# -- building a plugin manager ---------------------------------------------------------------------
@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    hooks: tuple[str, ...]
    builtin: bool
    version: str = ""


def plugin_manager(enabled: Mapping[str, Mapping[str, Any]] | None = None, *, extra: Iterable[Any] = (),
                   load_entry_points: bool = True, all_installed: bool = False) -> pluggy.PluginManager:
    """A new plugin manager with the builtins, the installed plugins the pack enables, and ``extra``.

    ``enabled`` maps entry-point names to settings (see :func:`enabled_plugins`). A name that is not
    installed is skipped here — ``wangge plugins check`` reports it — because a pack may be checked on a
    machine without the county's plugins. ``extra`` registers plugin objects directly (tests, embedding).
    ``all_installed`` loads every installed plugin (``wangge plugins list``).
    """
    enabled = enabled or {}
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(Specs)
    for name, module in BUILTINS.items():
        pm.register(_import(module), name=name)
    if load_entry_points:
        for ep in installed_entry_points():
            if ep.name in BUILTINS or pm.has_plugin(ep.name):
                continue
            if all_installed or ep.name in enabled:
                try:
                    pm.register(ep.load(), name=ep.name)
                except Exception:  # a broken plugin must not stop the others nor the pack (logged)
                    log.exception("插件 %s 加载失败 (plugin failed to load)", ep.name)
    for n, plugin in enumerate(extra):
        pm.register(plugin, name=getattr(plugin, "__name__", None) or f"extra{n}")
    return pm


def installed_entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _import(module: str) -> Any:
    import importlib

    return importlib.import_module(module)


def enabled_plugins(pack: Any) -> dict[str, Mapping[str, Any]]:
    """``name → settings`` for the plugins a compiled pack enables (empty without a pack)."""
    plugins = getattr(pack, "plugins", None) or {}
    return {name: entry.settings for name, entry in plugins.items() if entry.enabled}


def context_for(pack: Any = None, tenant: str = "") -> HookContext:
    return HookContext(pack=pack, tenant=tenant or (pack.id if pack is not None else ""),
                       settings=MappingProxyType(enabled_plugins(pack)))


def describe(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Each registered plugin with the hooks it implements (for ``wangge plugins list``)."""
    from importlib.metadata import PackageNotFoundError, version

    dists = {ep.name: ep for ep in installed_entry_points()}
    out = []
    for name, plugin in pm.list_name_plugin():
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        ep = dists.get(name)
        ver = ""
        if ep is not None and ep.dist is not None:
            ver = ep.dist.version
        elif name in BUILTINS:
            try:
                ver = version("wangge")
            except PackageNotFoundError:
                pass
        out.append(PluginInfo(name, getattr(plugin, "__name__", type(plugin).__name__), hooks,
                              name in BUILTINS, ver))
    return sorted(out, key=lambda p: (not p.builtin, p.name))


# -- calling hooks safely --------------------------------------------------------------------------
def senders(pm: pluggy.PluginManager, context: HookContext) -> dict[str, Sender]:
    """``kind → sender`` from every plugin; a plugin that fails here only loses its own senders (logged)."""
    out: dict[str, Sender] = {}
    for result in _each(pm, "wangge_notification_senders", context=context):
        out.update(result)
    return out


def intake_channels(pm: pluggy.PluginManager, context: HookContext, *,
                    enabled_only: bool = False) -> dict[str, IntakeChannel]:
    """``id → channel``. ``enabled_only``: only the channels of plugins ``context``'s pack enables."""
    return {c.id: c for result in _each(pm, "wangge_intake_channels", _only(context, enabled_only), context=context)
            for c in result}


def intake_channel_plugins(pm: pluggy.PluginManager, context: HookContext, *,
                           enabled_only: bool = True) -> dict[str, tuple[str, IntakeChannel]]:
    """``id → (plugin name, channel)``: who offers each channel (the portal passes that plugin's settings)."""
    out: dict[str, tuple[str, IntakeChannel]] = {}
    for name, result in _each_named(pm, "wangge_intake_channels", _only(context, enabled_only), context=context):
        for channel in result:
            out[channel.id] = (name, channel)
    return out


def field_types(pm: pluggy.PluginManager, context: HookContext, *,
                enabled_only: bool = False) -> dict[str, FieldType]:
    return {t.id: t for result in _each(pm, "wangge_form_field_types", _only(context, enabled_only), context=context)
            for t in result}


def validators(pm: pluggy.PluginManager, context: HookContext, *,
               enabled_only: bool = False) -> dict[str, Validator]:
    return {v.id: v for result in _each(pm, "wangge_form_validators", _only(context, enabled_only), context=context)
            for v in result}


def indicators(pm: pluggy.PluginManager, context: HookContext, *,
               enabled_only: bool = False) -> dict[str, ExtraIndicator]:
    return {i.id: i for result in _each(pm, "wangge_indicators", _only(context, enabled_only), context=context)
            for i in result}


def expression_functions(pm: pluggy.PluginManager, context: HookContext, *, enabled_only: bool = False) -> Any:
    """A :class:`wangge.core.expr.FunctionSet` of the plugins' functions, to pass to ``compile_expression``."""
    from .expr import FunctionSet

    return FunctionSet([fn for result in _each(pm, "wangge_expression_functions", _only(context, enabled_only),
                                               context=context) for fn in result])


@dataclass(frozen=True)
class PackExtensions:
    """What the plugins a pack enables add to its language: expression functions, form field types and
    validators, indicator declarations. Built by the pack loader (:func:`pack_extensions`) and compiled
    into the pack, so the forms engine, the routers and scoring need no plugin manager of their own."""

    functions: Any  # wangge.core.expr.FunctionSet (the plugins' functions only; defaults are always there)
    field_types: Mapping[str, FieldType]
    validators: Mapping[str, Validator]
    indicators: Mapping[str, ExtraIndicator]
    enabled: tuple[str, ...] = ()


def pack_extensions(enabled: Mapping[str, Mapping[str, Any]], tenant: str = "", *,
                    extra: Iterable[Any] = ()) -> PackExtensions:
    """The extensions of the plugins ``enabled`` (name → settings) switches on — and only theirs: a plugin
    installed but not enabled by the pack adds nothing. A new plugin manager per call (no global state).
    During loading ``context.pack`` is None (the pack is what is being compiled)."""
    from .expr import FunctionSet

    if not enabled:
        return PackExtensions(FunctionSet(), MappingProxyType({}), MappingProxyType({}), MappingProxyType({}))
    pm = plugin_manager(enabled, extra=extra)
    context = HookContext(None, tenant, MappingProxyType(dict(enabled)))
    return PackExtensions(expression_functions(pm, context, enabled_only=True),
                          MappingProxyType(field_types(pm, context, enabled_only=True)),
                          MappingProxyType(validators(pm, context, enabled_only=True)),
                          MappingProxyType(indicators(pm, context, enabled_only=True)), tuple(enabled))


def check_pack(pm: pluggy.PluginManager, context: HookContext) -> list[tuple[str, str]]:
    """``(plugin, problem)`` for every enabled plugin's settings; a plugin that raises is itself a problem."""
    problems: list[tuple[str, str]] = []
    for impl in pm.hook.wangge_check_pack.get_hookimpls():
        try:
            problems += [(impl.plugin_name, str(p)) for p in impl.function(context) or ()]
        except Exception as exc:
            problems.append((impl.plugin_name, f"检查设置时出错 (check failed): {type(exc).__name__}: {exc}"))
    return problems


def _only(context: HookContext, enabled_only: bool) -> frozenset[str] | None:
    return frozenset(context.settings) if enabled_only else None


def _each(pm: pluggy.PluginManager, hook: str, only: frozenset[str] | None = None, **kwargs: Any) -> list[Any]:
    """Call every implementation on its own, so one plugin's exception does not hide the others' results.
    ``only``: just the plugins of these names (those a pack enables)."""
    return [result for _, result in _each_named(pm, hook, only, **kwargs)]


def _each_named(pm: pluggy.PluginManager, hook: str, only: frozenset[str] | None = None,
                **kwargs: Any) -> list[tuple[str, Any]]:
    results = []
    for impl in getattr(pm.hook, hook).get_hookimpls():
        if only is not None and impl.plugin_name not in only:
            continue
        try:
            result = impl.function(*[kwargs[a] for a in impl.argnames])
        except Exception:
            log.exception("插件 %s 的 %s 出错 (hook failed)", impl.plugin_name, hook)
            continue
        if result is not None:
            results.append((impl.plugin_name, result))
    return results


@dataclass(frozen=True)
class ObserverResult:
    requests: tuple[tuple[str, OutboxRequest], ...]  # (plugin name, request)
    errors: tuple[tuple[str, str], ...]               # (plugin name, what went wrong)


def case_event(pm: pluggy.PluginManager, context: HookContext, case: Mapping[str, Any],
               transition: Mapping[str, Any], *, timeout: float = 2.0) -> ObserverResult:
    """Run every ``wangge_case_event`` observer under ``timeout`` seconds each; never raises.

    An observer that raises or overruns is recorded in ``errors`` and skipped: the case change it observes
    is already decided and must be stored whatever the plugin does. Observers run in daemon threads, so a
    hung one is abandoned (Python cannot kill a thread) rather than waited for.
    """
    requests: list[tuple[str, OutboxRequest]] = []
    errors: list[tuple[str, str]] = []
    case, transition = MappingProxyType(dict(case)), MappingProxyType(dict(transition))
    for impl in pm.hook.wangge_case_event.get_hookimpls():
        args = {"context": context, "case": case, "transition": transition}
        ok, value = run_with_timeout(lambda: impl.function(*[args[a] for a in impl.argnames]), timeout)
        if not ok:
            errors.append((impl.plugin_name, value))
            log.warning("插件 %s 的 wangge_case_event 失败: %s", impl.plugin_name, value)
            continue
        for request in value or ():
            if isinstance(request, OutboxRequest):
                requests.append((impl.plugin_name, request))
            else:
                errors.append((impl.plugin_name, f"返回值不是 OutboxRequest: {request!r}"))
    return ObserverResult(tuple(requests), tuple(errors))


def run_with_timeout(fn: Callable[[], Any], timeout: float) -> tuple[bool, Any]:
    """``(True, result)``, or ``(False, error text)`` when ``fn`` raised or took longer than ``timeout``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # reported to the caller, never lost in the thread
            box["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=target, name="wangge-plugin-call", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return False, f"超时 (timed out after {timeout:g} s)"
    if "error" in box:
        return False, box["error"]
    return True, box.get("result")


def startup(pm: pluggy.PluginManager, app_context: Any) -> list[tuple[str, str]]:
    """Call every ``wangge_startup``; returns the plugins that failed (they do not stop the application)."""
    return _lifecycle(pm, "wangge_startup", app_context)


def shutdown(pm: pluggy.PluginManager, app_context: Any) -> list[tuple[str, str]]:
    return _lifecycle(pm, "wangge_shutdown", app_context)


def _lifecycle(pm: pluggy.PluginManager, hook: str, app_context: Any) -> list[tuple[str, str]]:
    failed = []
    for impl in getattr(pm.hook, hook).get_hookimpls():
        try:
            impl.function(*[app_context for _ in impl.argnames])
        except Exception as exc:
            log.exception("插件 %s 的 %s 出错", impl.plugin_name, hook)
            failed.append((impl.plugin_name, f"{type(exc).__name__}: {exc}"))
    return failed
