"""Server-side validation of one submission, whatever the browser did.

    outcome = Validation.of(form, pack.grid).run(raw)
    outcome.ok, outcome.values, outcome.errors["members.0.id_number"]

1. every answer becomes a typed value (:mod:`wangge.forms.values`);
2. in form order, a field that is not relevant is cleared (as XLSForm does), calculations are computed
   by the server (a browser's value for them is ignored), read-only fields keep their default;
3. cerberus checks each value's type and format (:mod:`wangge.forms.schema`);
4. the expression checks: required / required-if, constraint, choice_filter.

Errors are Chinese, per field, keyed by the field's dotted path (``members.0.id_number``).
"""
from __future__ import annotations

import hashlib
import logging
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from wangge.core.pack.model import Grid
from wangge.core.pack.sections.forms import Form, FormField

from . import values as V
from .schema import CompiledSchema

log = logging.getLogger(__name__)
TZ = ZoneInfo("Asia/Shanghai")  # grid workers' wall clock: "today" is the county's today
RawInput = Mapping[str, Sequence[Any]]  # a form post: name → the values sent under that name
REQUIRED = "此项为必填"


def local_now() -> datetime:
    return datetime.now(TZ).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Outcome:
    values: Mapping[str, Any]
    errors: Mapping[str, tuple[str, ...]]
    #: dotted paths of the fields shown (relevant); the others were cleared
    relevant: frozenset[str] = frozenset()
    #: uploaded bytes by sha256, for the caller to store once the submission is accepted
    files: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        return not self.errors


def repeat_count(f: FormField, raw: RawInput) -> int:
    """How many entries of a repeat the post holds (a hidden ``name__n`` counts empty entries too)."""
    declared = _first(raw.get(f"{f.name}__n"))
    try:
        n = int(declared) if declared not in (None, "") else 0
    except (TypeError, ValueError):
        n = 0
    prefix = f"{f.name}."
    for key in raw:
        if key.startswith(prefix):
            head = key[len(prefix):].split(".", 1)[0]
            if head.isdigit():
                n = max(n, int(head) + 1)
    return min(n, 500)  # a post cannot make the server build unbounded lists


def _first(values: Sequence[Any] | None) -> Any:
    if not values:
        return None
    return values[-1] if isinstance(values, (list, tuple)) else values


@dataclass(frozen=True)
class Validation:
    form: Form
    grid: Grid
    schema: CompiledSchema

    @classmethod
    def of(cls, form: Form, grid: Grid) -> Validation:
        return cls(form, grid, CompiledSchema.of(form))

    def run(self, raw: RawInput, *, now: datetime | None = None) -> Outcome:
        now = now or local_now()
        files: dict[str, bytes] = {}
        unconverted: dict[str, str] = {}  # path → a plugin field type's message for text it could not parse
        values = self._typed(self.form.fields, raw, "", files, unconverted)
        relevant = self._settle(values, now)
        errors: dict[str, list[str]] = {}
        for path, msg in self.schema.errors(_storable(values), self.grid, now.date()):
            errors.setdefault(path, []).append(msg)
        self._plugin_checks(values, relevant, errors, unconverted)
        self._expression_checks(values, relevant, errors, now)
        return Outcome(_storable(values), MappingProxyType({k: tuple(v) for k, v in errors.items()}),
                       frozenset(relevant), MappingProxyType(files))

    # -- 1. typed values ----------------------------------------------------------------------------
    def _typed(self, fields: Sequence[FormField], raw: RawInput, prefix: str, files: dict,
               unconverted: dict[str, str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        unconverted = {} if unconverted is None else unconverted
        for f in fields:
            name = prefix + f.name
            if f.type == "note":
                continue
            if f.plugin_type is not None:
                out[f.name], problem = V.plugin_value(f.plugin_type, raw.get(name))
                if problem is not None:
                    unconverted[name] = problem
            elif f.type == "repeat":
                out[f.name] = [self._typed(f.fields, raw, f"{name}.{i}.", files, unconverted)
                               for i in range(repeat_count(f, raw))]
            elif f.type == "unit":
                out[f.name] = self._unit(f, raw, name)
            elif f.type in ("photo", "file"):
                out[f.name] = _file(_first(raw.get(name)), files)
            elif f.type == "select_multiple":
                sent = raw.get(name)
                out[f.name] = V.coerce(f.type, list(sent) if isinstance(sent, (list, tuple)) else sent)
            else:
                out[f.name] = V.coerce(f.type, _first(raw.get(name)))
        return out

    def _unit(self, f: FormField, raw: RawInput, name: str) -> str | None:
        """The deepest unit chosen along a consistent path of the cascade (or the code sent directly)."""
        direct = _first(raw.get(name))
        if direct not in (None, ""):
            return str(direct).strip()
        chosen: str | None = None
        for level in f.levels:
            code = _first(raw.get(f"{name}__{level}"))
            unit = self.grid.units.get(str(code)) if code else None
            if unit is None or unit.level != level or (chosen is not None and unit.parent != chosen):
                break
            chosen = unit.code
        return chosen

    # -- 2. relevance, calculations, read-only --------------------------------------------------------
    def _settle(self, values: dict[str, Any], now: datetime) -> set[str]:
        relevant: set[str] = set()
        for _ in range(2):  # a second pass settles calculations that read fields further down the form
            relevant = set()
            for f in self.form.fields:
                self._settle_field(f, values, values, f.name, relevant, now)
                if f.type == "repeat" and f.name in relevant:
                    for i, item in enumerate(values.get(f.name) or []):
                        for c in f.fields:
                            self._settle_field(c, item, ChainMap(item, values), f"{f.name}.{i}.{c.name}", relevant, now)
        return relevant

    def _settle_field(self, f: FormField, scope: dict, env: Mapping[str, Any], path: str, relevant: set[str],
                      now: datetime) -> None:
        if f.relevant is not None and not f.relevant.expr.test(env, today=now.date(), now=now):
            if f.type != "note":
                scope[f.name] = [] if f.type == "repeat" else None
            return
        relevant.add(path)
        if f.type == "note":
            return
        if f.calculation is not None and (f.type == "calculate" or f.read_only or V.is_empty(scope.get(f.name))):
            scope[f.name] = f.calculation.expr.evaluate(env, today=now.date(), now=now)
        elif f.read_only:
            scope[f.name] = V.coerce(f.type, f.default)

    # -- 3b. plugins' field types and validators -------------------------------------------------------
    def _plugin_checks(self, values: dict, relevant: set[str], errors: dict[str, list[str]],
                       unconverted: Mapping[str, str]) -> None:
        for f in self.form.fields:
            self._plugin_check(f, values.get(f.name), f.name, relevant, errors, unconverted)
            if f.type == "repeat" and f.name in relevant:
                for i, item in enumerate(values.get(f.name) or []):
                    for c in f.fields:
                        self._plugin_check(c, item.get(c.name), f"{f.name}.{i}.{c.name}", relevant, errors, unconverted)

    @staticmethod
    def _plugin_check(f: FormField, value: Any, path: str, relevant: set[str], errors: dict[str, list[str]],
                      unconverted: Mapping[str, str]) -> None:
        if path not in relevant or path in errors or V.is_empty(value):
            return
        if f.plugin_type is not None and path in unconverted and value is not None:
            errors.setdefault(path, []).append(unconverted[path])
            return
        for validator, params in f.validators:
            try:
                problem = validator.check(value, params)
            except Exception:  # noqa: BLE001 — a broken plugin must not stop the submission (logged)
                log.exception("校验器 %s 出错 (validator failed)", validator.id)
                continue
            if problem:
                errors.setdefault(path, []).append(str(problem))
                return

    # -- 4. expression checks -----------------------------------------------------------------------
    def _expression_checks(self, values: dict, relevant: set[str], errors: dict[str, list[str]],
                           now: datetime) -> None:
        for f in self.form.fields:
            self._check(f, values.get(f.name), values, f.name, relevant, errors, now)
            if f.type == "repeat" and f.name in relevant:
                for i, item in enumerate(values.get(f.name) or []):
                    env = ChainMap(item, values)
                    for c in f.fields:
                        self._check(c, item.get(c.name), env, f"{f.name}.{i}.{c.name}", relevant, errors, now)

    def _check(self, f: FormField, value: Any, env: Mapping[str, Any], path: str, relevant: set[str],
               errors: dict[str, list[str]], now: datetime) -> None:
        if path not in relevant or not f.takes_input or path in errors:
            return
        here = ChainMap({".": value}, env)
        clock = {"today": now.date(), "now": now}
        if V.is_empty(value):
            if f.type == "repeat" and f.min_count:
                errors.setdefault(path, []).append(f"至少填写 {f.min_count} 条")
            elif f.required or (f.required_if is not None and f.required_if.expr.test(here, **clock)):
                errors.setdefault(path, []).append(f.required_message or REQUIRED)
            return
        if f.choice_filter is not None:
            offered = {c.value for c in f.choices
                       if f.choice_filter.expr.test(ChainMap({"choice": {"value": c.value, "label": c.label,
                                                                         **c.attrs}}, here), **clock)}
            chosen = value if isinstance(value, list) else [value]
            if any(v not in offered for v in chosen):
                errors.setdefault(path, []).append("所选的不在当前可选范围内,请重新选择")
                return
        if f.constraint is not None and not f.constraint.expr.test(here, **clock):
            errors.setdefault(path, []).append(f.constraint_message or f"填写的内容不符合要求({f.constraint.source})")


def _file(value: Any, files: dict[str, bytes]) -> Any:
    if isinstance(value, V.Upload):
        if not value.data:
            return None  # a file input left empty still posts an empty part
        digest = hashlib.sha256(value.data).hexdigest()
        files[digest] = value.data
        return {"name": value.filename[-200:], "content_type": value.content_type[:100], "size": len(value.data),
                "sha256": digest, "image": V.looks_like_image(value.data)}
    if isinstance(value, dict):
        return value  # a file kept from an earlier attempt (the app verified its signature)
    return None if V.is_empty(value) else value


def _storable(values: dict[str, Any]) -> dict[str, Any]:
    """Only answered fields are kept: an empty answer and a missing one mean the same."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, list) and v and isinstance(v[0], dict) and "sha256" not in v[0]:
            out[k] = [_storable(item) for item in v]
        elif not V.is_empty(v):
            out[k] = v
    return out
