"""``fields:`` (the field registry) and ``forms:`` — compiled into immutable form definitions.

A registry field is declared once (e.g. the GB/T 31000 person fields) and used by reference in every
form that needs it: ``- {ref: id_number, required: true}``. A referenced field keeps the registry's
name, so values stored by one form prefill every other form that uses the same field.

Every expression (relevant, constraint, calculation, required-if, choice_filter) is compiled here once,
to Python and to JavaScript; a form that loads has no expression that can fail to compile later.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from ...expr import ExprError, Expression
from ..context import Context, did_you_mean, entries
from ..model import Grid

FIELD_TYPES = ("text", "textarea", "integer", "decimal", "date", "datetime", "select_one", "select_multiple",
               "unit", "yes_no", "phone", "id_card", "geopoint", "photo", "file", "repeat", "note", "hidden",
               "calculate")
CHOICE_TYPES = frozenset({"select_one", "select_multiple"})
#: Types that hold no value a person types in: nothing to require or constrain.
NO_INPUT = frozenset({"note", "calculate"})
SUBJECTS = ("person", "household", "unit", "event")
#: Variable heads that are not fields: ``.`` is the current field, ``choice`` the option being filtered.
_CHOICE_VAR = "choice"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _plugin_hint(ext: Any) -> str:
    enabled = ", ".join(ext.enabled) if ext is not None and ext.enabled else "无"
    return (f";若由插件提供,请确认插件已安装,并在规则包 plugins: 中启用(已启用: {enabled})"
            " — the plugin providing it may not be installed or enabled")


@dataclass(frozen=True)
class Rule:
    """One compiled expression with its source text and its JavaScript (for live checks in the browser)."""

    source: str
    expr: Expression = field(repr=False, compare=False)
    js: str = field(repr=False, compare=False)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    label_en: str = ""
    attrs: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # columns choice_filter may read


@dataclass(frozen=True)
class FormField:
    name: str
    type: str
    label: str
    label_en: str = ""
    hint: str = ""
    hint_en: str = ""
    required: bool = False
    required_if: Rule | None = None
    required_message: str = ""
    default: Any = None
    read_only: bool = False
    constraint: Rule | None = None
    constraint_message: str = ""
    constraint_message_en: str = ""
    relevant: Rule | None = None
    calculation: Rule | None = None
    choices: tuple[Choice, ...] = ()
    choice_list: str = ""  # the form's choice list the choices came from (kept for XLSForm export)
    choice_filter: Rule | None = None
    levels: tuple[str, ...] = ()  # cascading grid levels, top to bottom (type unit)
    fields: tuple[FormField, ...] = ()  # repeat children
    min_count: int = 0
    max_count: int | None = None
    max_length: int | None = None
    accept: str = ""
    key: bool = False
    ref: str | None = None  # the registry field it uses
    #: a field type of an enabled plugin (``wangge.core.hooks.FieldType``) when ``type`` is not built in
    plugin_type: Any = field(default=None, compare=False, repr=False)
    #: named validators of enabled plugins: (``wangge.core.hooks.Validator``, params) in the order written
    validators: tuple[tuple[Any, Mapping[str, Any]], ...] = field(default=(), compare=False, repr=False)

    @property
    def widget(self) -> str:
        """The input the page shows: the type itself, or the built-in widget of a plugin's type."""
        return self.plugin_type.widget if self.plugin_type is not None else self.type

    @property
    def is_repeat(self) -> bool:
        return self.type == "repeat"

    @property
    def takes_input(self) -> bool:
        return self.type not in NO_INPUT

    def choice_label(self, value: Any) -> str:
        return next((c.label for c in self.choices if c.value == value), str(value))


@dataclass(frozen=True)
class Form:
    id: str
    version: str
    title: str
    subject: str
    fields: tuple[FormField, ...]
    title_en: str = ""
    description: str = ""
    description_en: str = ""
    choice_lists: Mapping[str, tuple[Choice, ...]] = field(default_factory=lambda: _EMPTY)
    source: str = "published"

    @property
    def key_field(self) -> FormField | None:
        """The top-level field whose value identifies the subject (a person's 证件号码), if any."""
        return next((f for f in self.fields if f.key), None)

    def walk(self) -> Iterator[tuple[FormField, FormField | None]]:
        """Every field with the repeat group it belongs to (None at the top level), in form order."""
        for f in self.fields:
            yield f, None
            for child in f.fields:
                yield child, f

    def field(self, name: str) -> FormField | None:
        return next((f for f, _ in self.walk() if f.name == name), None)


def compile_forms(raw_fields: Any, raw_forms: Any, grid: Grid, ctx: Context
                  ) -> tuple[dict[str, FormField], dict[str, Form]]:
    """→ (registry by field id, forms by id). Problems go to ``ctx``; nothing raises for pack mistakes."""
    registry_raw: dict[str, tuple[dict, tuple]] = {}
    seen: dict = {}
    for i, entry in entries(raw_fields):
        path = ("fields", i)
        if isinstance(entry.get("id"), str) and ctx.unique(seen, entry["id"], path, "注册表字段"):
            registry_raw[entry["id"]] = (entry, path)
    compiler = _Compiler(ctx, grid, registry_raw)
    registry: dict[str, FormField] = {}
    for name, (entry, path) in registry_raw.items():
        compiled = compiler.field(entry, path, {}, names=None, in_repeat=None)
        if compiled is not None:
            registry[name] = compiled
    forms: dict[str, Form] = {}
    seen = {}
    for i, entry in entries(raw_forms):
        path = ("forms", i)
        if isinstance(entry.get("id"), str) and ctx.unique(seen, entry["id"], path, "表单"):
            form = compiler.form(entry, path)
            if form is not None:
                forms[form.id] = form
    return registry, forms


@dataclass
class _Compiler:
    ctx: Context
    grid: Grid
    registry: dict[str, tuple[dict, tuple]]

    # -- forms --------------------------------------------------------------------------------------
    def form(self, entry: dict, path: tuple) -> Form | None:
        what = f'表单 "{entry["id"]}"'
        title = self.ctx.require(entry, "title", path, what)
        lists = self._choice_lists(entry.get("choice_lists"), (*path, "choice_lists"))
        resolved = self._resolve_all(entry.get("fields"), (*path, "fields"))
        if not resolved:
            self.ctx.problem("SCHEMA", path, f'{what} 没有任何字段 (a form needs fields)', "在 fields: 下列出字段")
            return None
        names = self._names(resolved)
        fields = []
        seen: dict = {}  # field names are unique across the whole form, repeat children included
        for raw, fpath, origins in resolved:
            compiled = self.field(raw, fpath, origins, names=names, in_repeat=None, lists=lists, seen=seen)
            if compiled is not None:
                fields.append(compiled)
        keys = [f.name for f in fields if f.key]
        if len(keys) > 1:
            self.ctx.problem("BAD_FIELD", path, f'{what} 有多个主体标识字段 (key): {", ".join(keys)}',
                             "只保留一个 key: true 的字段(如证件号码)")
        return Form(entry["id"], str(entry.get("version") or "1.0.0"), title or entry["id"],
                    entry.get("subject", "event"), tuple(fields), entry.get("title_en", ""),
                    entry.get("description", ""), entry.get("description_en", ""),
                    MappingProxyType(lists), entry.get("source", "published"))

    def _choice_lists(self, raw: Any, path: tuple) -> dict[str, tuple[Choice, ...]]:
        lists: dict[str, tuple[Choice, ...]] = {}
        seen: dict = {}
        for i, entry in entries(raw):
            if self.ctx.unique(seen, entry["id"], (*path, i), "选项列表"):
                lists[entry["id"]] = self._choices(entry.get("choices"), (*path, i, "choices"))
        return lists

    def _resolve_all(self, raw: Any, path: tuple) -> list[tuple[dict, tuple, dict]]:
        out = []
        for i, entry in entries(raw):
            resolved = self._resolve(entry, (*path, i))
            if resolved is not None:
                out.append(resolved)
        return out

    def _resolve(self, entry: dict, path: tuple) -> tuple[dict, tuple, dict] | None:
        """A form field with its registry field merged under it, and where each key was written."""
        ref = entry.get("ref")
        if ref is None:
            if not entry.get("id"):
                self.ctx.problem("SCHEMA", path, '字段缺少 "id"(或用 ref 引用注册表字段) (field needs id or ref)',
                                 "写 id: 字段名,或 ref: 注册表字段")
                return None
            return dict(entry), path, {}
        if ref not in self.registry:
            self.ctx.problem("UNKNOWN_FIELD", (*path, "ref"), f'引用了注册表中不存在的字段 "{ref}"',
                             did_you_mean(ref, list(self.registry)))
            return None
        if entry.get("id") not in (None, ref):
            self.ctx.problem("BAD_FIELD", (*path, "id"),
                             f'引用注册表字段时字段名必须与 ref 相同: "{entry["id"]}" ≠ "{ref}"',
                             "同一字段在各表单中同名,已采集的值才能预填;删去 id 或改为与 ref 相同")
        base, base_path = self.registry[ref]
        merged = {k: v for k, v in base.items() if k not in ("source", "remove")}
        origins = {k: (*base_path, k) for k in merged}
        merged.update({k: v for k, v in entry.items() if k != "ref"})
        origins = {k: p for k, p in origins.items() if k not in entry}
        merged["id"], merged["ref"] = ref, ref
        return merged, path, origins

    @staticmethod
    def _names(resolved: list[tuple[dict, tuple, dict]]) -> dict[str, tuple]:
        names: dict[str, tuple] = {}
        for raw, fpath, _ in resolved:
            names.setdefault(raw["id"], fpath)
            if raw.get("type") == "repeat":
                for i, child in entries(raw.get("fields")):
                    name = child.get("id") or child.get("ref")
                    if isinstance(name, str):
                        names.setdefault(name, (*fpath, "fields", i))
        return names

    # -- fields ---------------------------------------------------------------------------------------
    def field(self, raw: dict, path: tuple, origins: dict, *, names: dict[str, tuple] | None,
              in_repeat: dict[str, tuple] | None, lists: dict | None = None,
              seen: dict | None = None) -> FormField | None:
        """Compile one field. ``names`` are the form's field names (None for a registry field, whose
        expressions can only be checked inside the forms that use it)."""
        lists = lists or {}
        def at(key: str) -> tuple:  # where a key was written: the form entry, or the registry field it uses
            return origins.get(key, (*path, key))

        name = raw["id"]
        what = f'字段 "{name}"'
        if seen is not None and not self.ctx.unique(seen, name, path, "字段名"):
            return None
        ftype = raw.get("type")
        if ftype is None:
            self.ctx.problem("SCHEMA", path, f'{what} 缺少必填字段 "type" (missing type)',
                             "可用类型: " + ", ".join(FIELD_TYPES))
            return None
        plugin_type = None
        if ftype not in FIELD_TYPES:
            plugin_type = self._plugin_type(ftype, at("type"), what)
            if plugin_type is None:
                return None
        validators = self._validators(raw.get("validators"), at("validators"), what)
        label = raw.get("label") or ""
        if not label and ftype not in ("hidden", "calculate"):
            self.ctx.problem("SCHEMA", path, f'{what} 缺少标签 "label" (missing label)', "写 label: 中文标签")
        required, required_if = raw.get("required", False), None
        exprs = {}
        scope = None if names is None else {**names, **(in_repeat or {})}
        for key in ("relevant", "constraint", "calculation", "choice_filter"):
            if raw.get(key):
                exprs[key] = self._rule(raw[key], at(key), scope, key == "choice_filter")
        if isinstance(required, str):
            required_if = self._rule(required, at("required"), scope, False)
            required = False
        if ftype == "calculate" and not raw.get("calculation"):
            self.ctx.problem("BAD_FIELD", path, f'{what} 是计算字段,需要 calculation 表达式', "写 calculation: ...")
        if raw.get("choice_filter") and ftype not in CHOICE_TYPES:
            self.ctx.problem("BAD_FIELD", at("choice_filter"), f'{what} 不是选择题,不能写 choice_filter', "")
        choices: tuple[Choice, ...] = ()
        choice_list = ""
        if ftype in CHOICE_TYPES:
            choices, choice_list = self._field_choices(raw, at, lists, what, path)
        levels: tuple[str, ...] = ()
        if ftype == "unit":
            levels = self._levels(raw.get("levels"), at("levels"), what)
        children: tuple[FormField, ...] = ()
        if ftype == "repeat":
            if in_repeat is not None:
                self.ctx.problem("BAD_FIELD", path, f'{what}: 重复组不能嵌套在重复组中 (nested repeats)', "")
                return None
            children = self._repeat_children(raw, path, names, lists, what, seen)
        elif raw.get("fields"):
            self.ctx.problem("BAD_FIELD", at("fields"), f'{what} 不是重复组 (repeat),不能有子字段', "")
        return FormField(
            name=name, type=ftype, label=label or name, label_en=raw.get("label_en", ""), hint=raw.get("hint", ""),
            hint_en=raw.get("hint_en", ""), required=bool(required) and ftype not in NO_INPUT,
            required_if=required_if, required_message=raw.get("required_message", ""), default=raw.get("default"),
            read_only=bool(raw.get("read_only", False)), constraint=exprs.get("constraint"),
            constraint_message=raw.get("constraint_message", ""),
            constraint_message_en=raw.get("constraint_message_en", ""), relevant=exprs.get("relevant"),
            calculation=exprs.get("calculation"), choices=choices, choice_list=choice_list,
            choice_filter=exprs.get("choice_filter"), levels=levels, fields=children,
            min_count=int(raw.get("min_count", 0)), max_count=raw.get("max_count"),
            max_length=raw.get("max_length"), accept=raw.get("accept", ""), key=bool(raw.get("key", False)),
            ref=raw.get("ref"), plugin_type=plugin_type, validators=validators)

    def _plugin_type(self, ftype: Any, path: tuple, what: str) -> Any:
        ext = self.ctx.extensions
        found = ext.field_types.get(ftype) if ext is not None else None
        if found is None:
            offered = list(FIELD_TYPES) + (list(ext.field_types) if ext is not None else [])
            self.ctx.problem("UNKNOWN_TYPE", path, f'{what} 的类型 "{ftype}" 不存在 (unknown field type)',
                             did_you_mean(str(ftype), offered) + _plugin_hint(ext))
        return found

    def _validators(self, raw: Any, path: tuple, what: str) -> tuple[tuple[Any, Mapping[str, Any]], ...]:
        ext = self.ctx.extensions
        out = []
        for i, item in enumerate(raw or ()):
            name = item.get("id") if isinstance(item, dict) else item
            params = MappingProxyType({k: v for k, v in item.items() if k != "id"}) if isinstance(item, dict) else _EMPTY
            found = ext.validators.get(name) if ext is not None else None
            if found is None:
                self.ctx.problem("UNKNOWN_VALIDATOR", (*path, i), f'{what} 引用了不存在的校验器 "{name}" (unknown validator)',
                                 did_you_mean(str(name), list(ext.validators) if ext is not None else []) + _plugin_hint(ext))
                continue
            out.append((found, params))
        return tuple(out)

    def _field_choices(self, raw: dict, at: Any, lists: dict, what: str, path: tuple
                       ) -> tuple[tuple[Choice, ...], str]:
        spec = raw.get("choices")
        if spec is None:
            self.ctx.problem("BAD_FIELD", path, f'{what} 是选择题,缺少选项 "choices"', "写 choices: 选项列表或列表 id")
            return (), ""
        if isinstance(spec, str):
            if spec not in lists:
                self.ctx.problem("UNKNOWN_CHOICES", at("choices"), f'{what} 引用了不存在的选项列表 "{spec}"',
                                 did_you_mean(spec, list(lists)))
                return (), ""
            return lists[spec], spec
        return self._choices(spec, at("choices")), ""

    def _choices(self, raw: Any, path: tuple) -> tuple[Choice, ...]:
        out, seen = [], {}
        for i, c in enumerate(raw or ()):
            if not isinstance(c, dict) or c.get("value") is None:
                continue
            value = str(c["value"])
            if self.ctx.unique(seen, value, (*path, i), "选项值"):
                attrs = {k: v for k, v in c.items() if k not in ("value", "label", "label_en", "remove")}
                out.append(Choice(value, str(c.get("label") or value), c.get("label_en", ""), MappingProxyType(attrs)))
        if not out:
            self.ctx.problem("BAD_FIELD", path, "选项列表为空 (no choices)", "至少写一个 {value: ..., label: ...}")
        return tuple(out)

    def _levels(self, raw: Any, path: tuple, what: str) -> tuple[str, ...]:
        known = [lv.id for lv in self.grid.levels]
        if not raw:
            return tuple(known)
        levels = tuple(raw)
        for i, lv in enumerate(levels):
            if lv not in known:
                self.ctx.problem("UNKNOWN_LEVEL", (*path, i), f'{what} 引用了未声明的层级 "{lv}"', did_you_mean(lv, known))
                return ()
        depths = [known.index(lv) for lv in levels]
        if any(b != a + 1 for a, b in pairwise(depths)):
            self.ctx.problem("LEVEL_ORDER", path, f'{what} 的层级必须从上到下、逐级相连: {", ".join(levels)}',
                             "按网格层级顺序写: " + ", ".join(known))
        return levels

    def _repeat_children(self, raw: dict, path: tuple, names: dict | None, lists: dict, what: str,
                         seen: dict | None) -> tuple[FormField, ...]:
        resolved = self._resolve_all(raw.get("fields"), (*path, "fields"))
        if not resolved:
            self.ctx.problem("BAD_FIELD", path, f'{what} 是重复组,需要子字段 "fields"', "")
            return ()
        siblings = {r["id"]: p for r, p, _ in resolved}
        out = []
        seen = {} if seen is None else seen
        for child, cpath, origins in resolved:
            compiled = self.field(child, cpath, origins, names=names, in_repeat=siblings, lists=lists, seen=seen)
            if compiled is not None:
                out.append(compiled)
        return tuple(out)

    def _rule(self, source: Any, path: tuple, scope: dict | None, choice_filter: bool) -> Rule | None:
        source = str(source)
        try:
            expr = self.ctx.expression(source)
            # Form rules also run in the browser: a plugin function without a JavaScript implementation is
            # refused here (and only here — routing, workflow and scoring evaluate on the server).
            js = expr.to_js()
        except ExprError as exc:
            self.ctx.problem("BAD_EXPRESSION", path, f"表达式错误: {exc}", f"表达式: {source}{self.ctx.plugin_hint(exc)}")
            return None
        if scope is not None:
            for var in sorted(expr.variables):
                head = var.split(".")[0]
                if var == "." or head in scope or (choice_filter and head == _CHOICE_VAR):
                    continue
                self.ctx.problem("UNKNOWN_FIELD", path, f'表达式引用了表单中不存在的字段 "${{{var}}}"',
                                 did_you_mean(head, list(scope)))
        return Rule(source, expr, js)
