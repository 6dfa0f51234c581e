"""Rendering forms to HTML with Jinja2: view objects built here, markup in ``templates/``.

Templates are looked up first in the pack folder's ``templates/`` and then in wangge's own, so a county
overrides one template (say ``base.html`` for its header) without forking. Autoescaping is on for every
template: whatever a person typed is rendered inert.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from wangge.core.pack.model import Grid, Pack
from wangge.core.pack.sections.forms import Form, FormField

from .validate import RawInput, repeat_count

#: Up to this many options a single choice is a radio group (one tap); more become a <select>.
RADIO_MAX = 8


def environment(pack_root: Path | None) -> Environment:
    loaders = []
    if pack_root is not None and (pack_root / "templates").is_dir():
        loaders.append(FileSystemLoader(str(pack_root / "templates")))
    loaders.append(PackageLoader("wangge.forms", "templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class LevelView:
    """One <select> of a grid cascade."""

    level: str
    label: str
    name: str
    id: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class FieldView:
    field: FormField
    path: str  # the input's name: "title", "members.0.full_name"
    value: Any  # what the input shows: text, or a list of chosen values
    errors: tuple[str, ...] = ()
    shown: bool = True
    options: tuple[Option, ...] = ()
    levels: tuple[LevelView, ...] = ()
    items: tuple[tuple[FieldView, ...], ...] = ()  # repeat entries
    kept: str = ""  # signed token of a file uploaded by an earlier attempt
    kept_name: str = ""

    @property
    def id(self) -> str:
        return "f-" + self.path.replace(".", "-")

    @property
    def widget(self) -> str:
        t = self.field.type
        if t == "select_one":
            return "radios" if len(self.field.choices) <= RADIO_MAX else "select"
        return t

    @property
    def described_by(self) -> str:
        ids = [f"{self.id}-hint"] if self.field.hint else []
        if self.errors:
            ids.append(f"{self.id}-error")
        return " ".join(ids)


@dataclass(frozen=True)
class PageBuilder:
    """Builds the field views of one form for one request."""

    pack: Pack
    form: Form
    raw: RawInput
    errors: Mapping[str, Sequence[str]] = field(default_factory=dict)
    relevant: frozenset[str] | None = None  # None: everything shown (first render computes it)
    kept_files: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # path → (token, file name)

    def fields(self) -> list[FieldView]:
        return [self._view(f, f.name) for f in self.form.fields]

    def _view(self, f: FormField, path: str) -> FieldView:
        shown = self.relevant is None or path in self.relevant
        errors = tuple(self.errors.get(path, ()))
        if f.type == "repeat":
            n = max(repeat_count(f, self.raw), f.min_count, 1 if not self.raw else 0)
            items = tuple(tuple(self._view(c, f"{path}.{i}.{c.name}") for c in f.fields) for i in range(n))
            return FieldView(f, path, n, errors, shown, items=items)
        sent = self.raw.get(path)
        if f.type == "select_multiple":
            chosen = [str(v) for v in (sent or [])]
            return FieldView(f, path, chosen, errors, shown,
                             tuple(Option(c.value, c.label, c.value in chosen) for c in f.choices))
        value = _last(sent)
        text = "" if value is None or not isinstance(value, (str, int, float, bool)) else str(value)
        if f.type == "select_one":
            return FieldView(f, path, text, errors, shown, tuple(Option(c.value, c.label, c.value == text) for c in f.choices))
        if f.type == "unit":
            return FieldView(f, path, text, errors, shown, levels=self._levels(f, path))
        if f.type in ("photo", "file"):
            token, name = self.kept_files.get(path, ("", ""))
            return FieldView(f, path, "", errors, shown, kept=token, kept_name=name)
        if f.type == "yes_no":
            text = {"True": "true", "False": "false"}.get(text, text)
        if f.type == "datetime" and len(text) >= 16:
            text = text[:16]  # <input type=datetime-local> takes minutes
        return FieldView(f, path, text, errors, shown)

    def _levels(self, f: FormField, path: str) -> tuple[LevelView, ...]:
        grid: Grid = self.pack.grid
        direct = _last(self.raw.get(path))
        chain: dict[str, str] = {}
        if direct and direct in grid.units:
            chain = {u.level: u.code for u in grid.ancestors(str(direct))}
        out: list[LevelView] = []
        parent: str | None = None
        for i, level in enumerate(f.levels):
            lv = grid.level(level)
            chosen = chain.get(level) or _last(self.raw.get(f"{path}__{level}")) or ""
            if i == 0:
                units = grid.units_at(level)
            elif parent is not None:
                units = tuple(grid.units[c] for c in grid.children.get(parent, ()) if grid.units[c].level == level)
            else:
                units = ()
            options = tuple(Option(u.code, u.name, u.code == chosen) for u in units)
            if not any(o.selected for o in options):
                chosen = ""
            out.append(LevelView(level, lv.name if lv else level, f"{path}__{level}", f"f-{path}-{level}".replace(".", "-"),
                                 options))
            parent = chosen or None
        return tuple(out)


def raw_from_values(form: Form, values: Mapping[str, Any], grid: Grid) -> dict[str, list[Any]]:
    """Typed values (defaults, prefill, a stored submission) as the post that would have sent them."""
    raw: dict[str, list[Any]] = {}
    for f in form.fields:
        _raw_field(f, f.name, values.get(f.name), raw, grid)
    return raw


def _raw_field(f: FormField, path: str, value: Any, raw: dict[str, list[Any]], grid: Grid) -> None:
    if value is None:
        return
    if f.type == "repeat":
        raw[f"{path}__n"] = [str(len(value))]
        for i, item in enumerate(value):
            for c in f.fields:
                _raw_field(c, f"{path}.{i}.{c.name}", item.get(c.name), raw, grid)
    elif f.type == "select_multiple":
        raw[path] = [str(v) for v in value]
    elif f.type == "unit":
        if value in grid.units:
            for u in grid.ancestors(value):
                raw[f"{path}__{u.level}"] = [u.code]
    elif f.type == "yes_no":
        raw[path] = ["true" if value else "false"]
    elif not isinstance(value, dict):
        raw[path] = [str(value)]


def defaults(form: Form) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in form.fields:
        if f.default is not None:
            out[f.name] = f.default
        if f.type == "repeat":
            entry = {c.name: c.default for c in f.fields if c.default is not None}
            if entry:
                out[f.name] = [dict(entry) for _ in range(max(f.min_count, 1))]
    return out


def rules_js(form: Form) -> str:
    """The page's live rules: each field's compiled expressions as real JavaScript functions.

    Served as a file (not inline) so a strict Content-Security-Policy (script-src 'self') holds."""
    parts = []
    for f, parent in form.walk():
        key = f"{parent.name}.*.{f.name}" if parent else f.name
        entries = [f'"t":{json.dumps(f.type)}']
        if f.required:
            entries.append('"req":true')
        for attr, short in (("relevant", "rel"), ("constraint", "con"), ("calculation", "calc"), ("required_if", "reqif"),
                            ("choice_filter", "cf")):
            rule = getattr(f, attr)
            if rule is not None:
                entries.append(f'"{short}":function(v,W){{return {rule.js};}}')
        if f.constraint is not None:
            msg = f.constraint_message or f"填写的内容不符合要求({f.constraint.source})"
            entries.append(f'"msg":{json.dumps(msg, ensure_ascii=True)}')
        if f.choice_filter is not None:
            choices = [{**c.attrs, "value": c.value, "label": c.label} for c in f.choices]
            entries.append(f'"ch":{json.dumps(choices, ensure_ascii=True)}')
        if f.required_message:
            entries.append(f'"rmsg":{json.dumps(f.required_message, ensure_ascii=True)}')
        if f.read_only:
            entries.append('"ro":true')
        parts.append(f"{json.dumps(key, ensure_ascii=True)}:{{{','.join(entries)}}}")
    return "window.WG_RULES={" + ",\n".join(parts) + "};\n"


def _last(values: Any) -> Any:
    if isinstance(values, (list, tuple)):
        return values[-1] if values else None
    return values
