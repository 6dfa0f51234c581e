"""A form as a cerberus schema: types, choice lists, lengths, repeat counts and the Chinese formats
(身份证号, phone, geopoint, dates, grid units, files) as custom rules.

What depends on other answers — required-if, relevant, constraint, calculation, choice_filter — is the
expression pass in :mod:`wangge.forms.validate`; cerberus checks each value on its own.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from cerberus import Validator, errors
from wangge.core.pack.model import Grid
from wangge.core.pack.sections.forms import Form, FormField

from . import values as V

MAX_TEXT = 2000
MAX_LONG_TEXT = 20000
MAX_FILE = 10 * 1024 * 1024
_SAFE_INT = 2**53


class FormValidator(Validator):
    """cerberus with wangge's formats. ``grid`` (the pack's grid) and ``today`` come in as config."""

    def _validate_wg_format(self, kind: str, field: str, value: Any) -> None:
        """{'type': 'string', 'allowed': ['id_card', 'phone', 'geopoint', 'date', 'datetime']}"""
        if not isinstance(value, str):
            return
        problem = {
            "id_card": lambda v: V.id_card_problem(v, self._config.get("today")),
            "phone": V.phone_problem, "geopoint": V.geopoint_problem, "date": V.date_problem,
            "datetime": V.datetime_problem,
        }[kind](value)
        if problem:
            self._error(field, problem)

    def _validate_wg_unit(self, levels: list, field: str, value: Any) -> None:
        """{'type': 'list'}"""
        grid: Grid | None = self._config.get("grid")
        if grid is None or not isinstance(value, str):
            return
        unit = grid.units.get(value)
        if unit is None or unit.level not in levels:
            self._error(field, "请选择有效的网格单元")
        elif unit.level != levels[-1]:
            names = [lv.name for lv in grid.levels if lv.id in levels]
            self._error(field, f"请逐级选择到最后一级({names[-1] if names else levels[-1]})")

    def _validate_wg_file(self, accept: str, field: str, value: Any) -> None:
        """{'type': 'string'}"""
        if not isinstance(value, dict):
            return
        if not isinstance(value.get("sha256"), str) or not isinstance(value.get("size"), int):
            self._error(field, "文件上传不完整,请重新选择文件")
        elif value["size"] > MAX_FILE:
            self._error(field, f"文件太大:不能超过 {MAX_FILE // (1024 * 1024)} MB")
        elif accept.startswith("image/") and not value.get("image"):
            self._error(field, "请上传照片(JPEG、PNG、GIF、WebP 或 HEIC 图片)")


def field_rules(f: FormField) -> dict[str, Any]:
    """The cerberus rules of one field's value (None-able: emptiness is the required check's business)."""
    t = f.type
    rules: dict[str, Any] = {"nullable": True}
    if t in ("text", "textarea"):
        rules.update(type="string", maxlength=f.max_length or (MAX_TEXT if t == "text" else MAX_LONG_TEXT))
    elif t == "integer":
        rules.update(type="integer", min=-_SAFE_INT, max=_SAFE_INT)
    elif t == "decimal":
        rules.update(type="number", min=-1e15, max=1e15)
    elif t in ("date", "datetime", "id_card", "phone", "geopoint"):
        rules.update(type="string", wg_format=t)
    elif t == "select_one":
        rules.update(type="string", allowed=[c.value for c in f.choices])
    elif t == "select_multiple":
        rules.update(type="list", allowed=[c.value for c in f.choices])
    elif t == "unit":
        rules.update(type="string", wg_unit=list(f.levels))
    elif t == "yes_no":
        rules.update(type="boolean")
    elif t in ("photo", "file"):
        rules.update(type="dict", wg_file=f.accept or ("image/*" if t == "photo" else ""))
    elif t == "hidden":
        rules.update(type=["string", "integer", "float", "boolean"], maxlength=MAX_TEXT)
    elif t == "repeat":
        item = {c.name: field_rules(c) for c in f.fields if c.type != "note"}
        rules.update(type="list", schema={"type": "dict", "schema": item})
        if f.min_count:
            rules["minlength"] = f.min_count
        if f.max_count:
            rules["maxlength"] = f.max_count
    # calculate: whatever the expression gives; the server computes it, never the client.
    return rules


def form_schema(form: Form) -> dict[str, Any]:
    return {f.name: field_rules(f) for f in form.fields if f.type != "note"}


@dataclass(frozen=True)
class CompiledSchema:
    """A form's cerberus schema, checked once; validators built from it skip re-checking the schema."""

    form: Form
    schema: dict

    @classmethod
    def of(cls, form: Form) -> CompiledSchema:
        schema = form_schema(form)
        FormValidator(schema)  # raises SchemaError now, at startup, rather than on the first submission
        return cls(form, schema)

    def errors(self, document: dict, grid: Grid, today: date) -> Iterator[tuple[str, str]]:
        """(dotted path, Chinese message) for every value cerberus rejects."""
        # A validator per call: cerberus keeps per-validation state on the instance, so sharing one across
        # concurrent requests would mix their errors.
        validator = FormValidator(self.schema, grid=grid, today=today, allow_unknown=False)
        if validator.validate(document):
            return
        for error in _leaves(validator._errors):
            yield ".".join(str(p) for p in error.document_path), message(error)


def _leaves(errs: Any) -> Iterator[Any]:
    for error in errs:
        if error.is_group_error:
            yield from _leaves(error.child_errors)
        else:
            yield error


_TYPE_MESSAGES = {"integer": "请输入整数", "number": "请输入数字", "boolean": "请选择“是”或“否”",
                  "string": "请输入文字", "list": "格式不正确", "dict": "请重新上传文件"}


def message(error: Any) -> str:
    """cerberus's error in the words a grid worker reads."""
    code, c = error.code, error.constraint
    if code == errors.CUSTOM.code:
        return str(error.info[0])
    if code == errors.BAD_TYPE.code:
        expected = c[0] if isinstance(c, list) else c
        return _TYPE_MESSAGES.get(expected, "格式不正确")
    if code in (errors.UNALLOWED_VALUE.code, errors.UNALLOWED_VALUES.code):
        return "请从列表中选择,所选的不是有效选项"
    if code == errors.MAX_LENGTH.code:
        return f"不能超过 {c} 个字" if isinstance(error.value, str) else f"最多填写 {c} 条"
    if code == errors.MIN_LENGTH.code:
        return f"至少填写 {c} 条"
    if code == errors.MIN_VALUE.code:
        return f"不能小于 {c}"
    if code == errors.MAX_VALUE.code:
        return f"不能大于 {c}"
    if code == errors.UNKNOWN_FIELD.code:
        return "表单中没有这一项"
    if code == errors.REQUIRED_FIELD.code:
        return "此项为必填"
    return "填写的内容不符合要求"
