"""Loading a pack: read → resolve ``extends`` → schema-check → merge → compile. All or nothing.

>>> pack = PackLoader().load(Path("examples/counties/binzhou-pengli"))   # doctest: +SKIP

Every problem in every file of the pack and its bases is collected before :class:`PackError` is raised,
so county staff fix them in one pass. Loading has no side effects and no global registry: a loader
only caches the files it has read, for the packs it loads.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..hooks import pack_extensions
from ..workcal import CalendarError, WorkCalendar
from .context import Context
from .merge import merge
from .model import Pack, Reference, frozen_map
from .problems import PackError, Position, Problem, display_path
from .resolve import PackIndex, resolve_chain, search_path
from .schema import schema_problems
from .sections.duties import compile_departments, compile_duties
from .sections.events import compile_channels, compile_classification
from .sections.forms import compile_forms
from .sections.grid import compile_grid
from .sections.indicators import compile_indicators
from .sections.manifest import compile_manifest
from .sections.plugins import compile_plugins
from .sections.routing import compile_routing, make_vocabulary
from .sections.scenarios import compile_scenarios
from .sections.scoring import compile_scoring
from .sections.workflow import compile_escalation, compile_workflow
from .source import PackSource, read_pack
from .yamlsrc import YDict

# Sections the engine executes today. A section in the schema but not here is refused, never ignored.
SUPPORTED = frozenset({"pack", "calendar", "grid", "departments", "duties", "events", "channels", "indicators", "fields", "forms",
                       "workflow", "escalation", "plugins", "routing", "scenarios", "scoring"})
SECTION_NAMES = {"fields": "字段注册表", "forms": "表单", "routing": "流转规则", "workflow": "工作流程",
                 "escalation": "超期升级", "scoring": "考核评分", "plugins": "插件", "scenarios": "场景"}


@dataclass
class PackLoader:
    """Loads packs; ``path`` adds folders where bases are looked for (before $WANGGE_PACK_PATH and rulepacks/)."""

    path: tuple[Path, ...] = ()
    _sources: dict[Path, tuple[PackSource, list[Problem]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path = tuple(Path(p) for p in self.path)

    def load(self, location: Path | str) -> Pack:
        location = Path(location)
        problems: list[Problem] = []
        source = self._read(location.resolve(), problems)
        if problems or not _manifest_ok(source, problems):
            # The files that did parse are still schema-checked, so one pass shows every file's mistakes.
            _check_member(source, problems)
            raise PackError(problems)
        index = PackIndex(search_path(location.resolve(), self.path))
        chain = resolve_chain(source, index, lambda p: self._read(p, problems), problems)
        for member in chain:
            _check_member(member, problems)
        if problems:
            raise PackError(problems)
        pack = _compile(chain, problems)
        if problems:
            raise PackError(problems)
        return pack

    def _read(self, path: Path, problems: list[Problem]) -> PackSource:
        if path not in self._sources:
            own: list[Problem] = []
            self._sources[path] = (read_pack(path, own), own)
        source, own = self._sources[path]
        problems.extend(own)
        return source


def load_pack(location: Path | str, path: tuple[Path, ...] = ()) -> Pack:
    """Load one pack (see :class:`PackLoader`)."""
    return PackLoader(tuple(Path(p) for p in path)).load(location)


def _manifest_ok(source: PackSource, problems: list[Problem]) -> bool:
    if "pack" not in source.sections:
        problems.append(Problem("SCHEMA", '规则包缺少清单 "pack:" (missing manifest)',
                                Position(display_path(source.path)), "在 pack.yaml 中写 pack: id/name/region/version"))
        return False
    return True


def _check_member(source: PackSource, problems: list[Problem]) -> None:
    """Schema problems of each file, and sections this engine does not execute yet."""
    for name, tree in source.files:
        problems.extend(schema_problems(tree, name))
    for key in source.sections:
        if key in SECTION_NAMES and key not in SUPPORTED:
            problems.append(Problem(
                "NOT_SUPPORTED", f'该部分尚未支持: "{key}" ({SECTION_NAMES[key]}) — section not supported yet',
                source.sections.key_pos[key], "引擎还不能执行这一部分;请先删除它,以免被误认为已生效"))


def _compile(chain: list[PackSource], problems: list[Problem]) -> Pack:
    leaf = chain[-1]
    merged: Any = YDict()
    for member in chain:
        own = YDict(((k, v) for k, v in member.sections.items() if k != "pack"),
                    pos=member.sections.pos, key_pos=member.sections.key_pos)
        merged = merge(merged, own, problems)
    return compile_pack(leaf.manifest, tuple(f"{m.pack_id}@{m.version}" for m in chain), merged,
                        _reference_tree(chain, problems), problems, root=leaf.path, where=leaf.manifest_position)


def _reference_tree(chain: list[PackSource], problems: list[Problem]) -> Mapping[str, Any] | None:
    """The reference pack's own vocabulary (its unmerged events and channels); None for the reference itself."""
    root, leaf = chain[0], chain[-1]
    if leaf.manifest.get("reference"):
        return None
    if not root.manifest.get("reference"):
        problems.append(Problem(
            "UNMAPPED_CLASS", "规则包没有继承参考分类包,事件分类无法对应到参考分类 (no reference classification)",
            leaf.manifest_position, '请继承全国基础包: extends: {id: cn.base, version: ">=1.0,<2"}'))
        return {"pack": "", "events": {}, "channels": []}
    return YDict((("pack", root.pack_id or ""), ("events", root.sections.get("events")),
                  ("channels", root.sections.get("channels"))), pos=root.sections.pos, key_pos=root.sections.key_pos)


def compile_pack(manifest: Mapping[str, Any], lineage: tuple[str, ...], merged: Any,
                 reference_tree: Mapping[str, Any] | None, problems: list[Problem], *, root: Path,
                 where: Position) -> Pack:
    """Compile a merged pack. The one compiler for packs read from files and for stored snapshots
    (``Pack.snapshot``, published in ``pack_versions``), so a pinned version behaves exactly as it did."""
    ctx = Context(merged, where, problems)
    # The plugins section first: what the enabled plugins add (expression functions, field types,
    # validators, indicators) is part of the language every other section is compiled in. A stored snapshot
    # holds the same section, so it compiles with the same functions. A new plugin manager per compile.
    plugins = frozen_map(compile_plugins(merged.get("plugins"), ctx))
    enabled = {name: entry.settings for name, entry in plugins.items() if entry.enabled}
    ctx.extensions = pack_extensions(enabled, str(manifest.get("id", "")))
    ctx.functions = ctx.extensions.functions if len(ctx.extensions.functions) else None
    reference = _reference(reference_tree, problems, where) if reference_tree is not None else None
    calendar = _calendar(merged.get("calendar"), ctx)
    grid = compile_grid(merged.get("grid"), ctx)
    levels = [lv.id for lv in grid.levels]
    departments = compile_departments(merged.get("departments"), levels, ctx)
    events = compile_classification(merged.get("events"), ctx, reference)
    channels = compile_channels(merged.get("channels"), ctx, reference)
    if reference is None:
        reference = Reference(str(manifest.get("id", "")), events, frozen_map(channels))
    indicators = frozen_map(compile_indicators(merged.get("indicators"), ctx, ctx.extensions.indicators))
    registry, forms = compile_forms(merged.get("fields"), merged.get("forms"), grid, ctx)
    workflow = compile_workflow(merged.get("workflow"), ctx, grid, departments, merged.get("forms"))
    escalation = compile_escalation(merged.get("escalation"), ctx, grid, departments, workflow)
    snapshot = MappingProxyType({"manifest": manifest, "lineage": list(lineage), "merged": merged,
                                 "reference": reference_tree})
    return Pack(
        manifest=compile_manifest(manifest), lineage=lineage,
        root=root, calendar=calendar, grid=grid, departments=frozen_map(departments),
        duties=compile_duties(merged.get("duties"), levels, departments, ctx),
        events=events, channels=frozen_map(channels), indicators=indicators,
        reference=reference, merged=merged, fields=frozen_map(registry), forms=frozen_map(forms),
        workflow=workflow, escalation=escalation,
        plugins=plugins,
        routing=compile_routing(merged.get("routing"), make_vocabulary(grid, departments, events, channels, reference), ctx,
                                workflow.states if workflow is not None else None),
        scenarios=compile_scenarios(merged.get("scenarios"), ctx), snapshot=snapshot,
        scoring=compile_scoring(merged.get("scoring"), ctx, grid, indicators) if "scoring" in merged else None)


def _reference(tree: Mapping[str, Any], problems: list[Problem], where: Position) -> Reference:
    ctx = Context(tree, where, problems)
    classification = compile_classification(tree.get("events"), ctx, None)
    channels = compile_channels(tree.get("channels"), ctx, None)
    return Reference(str(tree.get("pack", "")), classification, frozen_map(channels))


def _calendar(raw: Any, ctx: Context) -> WorkCalendar:
    try:
        return WorkCalendar.from_spec(raw)
    except CalendarError as exc:
        ctx.problem(exc.code, ("calendar", *exc.path), exc.message, exc.hint)
        return WorkCalendar.from_spec(None)
