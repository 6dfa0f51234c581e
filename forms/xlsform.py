"""XLSForm (ODK / Kobo spreadsheets) ⇄ pack forms, so county staff can design forms in Excel.

Import reads the workbook with pyxform (``parse_file_to_json``) and turns the survey into a pack form
(a plain dict, ready to write as ``forms.yaml``); XPath expressions become the pack's expression language
(:func:`wangge.core.expr.xpath.from_xpath`). Anything the engine cannot run is refused with the sheet and
row it is on. Export writes a form back as survey / choices / settings sheets with openpyxl.

wangge's own field types travel in extra columns XLSForm tools ignore: ``wangge_type`` (id_card, phone,
unit, yes_no, textarea), ``wangge_levels``, ``wangge_key``, ``wangge_ref``, ``wangge_max_length``,
``wangge_min_count``/``wangge_max_count``, and ``wangge_subject`` on the settings sheet.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from wangge.core.expr import ExprError
from wangge.core.expr.nodes import (
    Binary,
    Call,
    ListNode,
    Literal,
    Logical,
    Node,
    Unary,
    Var,
)
from wangge.core.expr.xpath import FUNCTION_MAP, from_xpath
from wangge.core.pack.sections.forms import Choice, Form, FormField

ZH, EN = "中文 (zh)", "English (en)"

_TYPES = {"text": "text", "integer": "integer", "int": "integer", "decimal": "decimal", "date": "date",
          "dateTime": "datetime", "select one": "select_one", "select all that apply": "select_multiple",
          "note": "note", "calculate": "calculate", "hidden": "hidden", "geopoint": "geopoint", "image": "photo",
          "photo": "photo", "file": "file"}
#: Metadata questions ODK fills in by itself; they carry nothing a grid worker enters.
_METADATA = {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username",
             "email", "audit", "start-geopoint"}
_OWN_TYPES = {"id_card", "phone", "unit", "yes_no", "textarea"}
_TRUE = {"yes", "true", "true()", "1"}


class XLSFormError(ValueError):
    """A workbook the importer cannot turn into a form; the message names the sheet and row."""


@dataclass(frozen=True)
class _Rows:
    """Where each question is on the survey sheet (pyxform's JSON has no row numbers)."""

    by_name: dict[str, int]
    sheet: str

    def at(self, name: str) -> str:
        row = self.by_name.get(name)
        return f"{self.sheet} 表第 {row} 行" if row else f"{self.sheet} 表"


# -- import ----------------------------------------------------------------------------------------------

def import_xlsform(path: Path | str) -> dict[str, Any]:
    """The form of an XLSForm workbook, as the dict one ``forms:`` entry of a pack holds."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import parse_file_to_json

    path = Path(path)
    rows = _scan(path)
    try:
        survey = parse_file_to_json(str(path))
    except PyXFormError as exc:
        raise XLSFormError(f"XLSForm 无法读取: {exc}") from None
    settings = _settings(path)
    form_id = _identifier(str(survey.get("id_string") or path.stem))
    lists: dict[str, list[dict]] = {}
    fields = list(_fields(survey.get("children", []), rows, lists, None, in_repeat=False))
    form: dict[str, Any] = {"id": form_id, "version": _version(survey.get("version")),
                            "title": _label(survey.get("title")) or form_id}
    title_en = settings.get("title_en") or ""
    if title_en:
        form["title_en"] = title_en
    form["subject"] = settings.get("wangge_subject") or "event"
    if lists:
        form["choice_lists"] = [{"id": name, "choices": choices} for name, choices in lists.items()]
    form["fields"] = fields
    return form


def _scan(path: Path) -> _Rows:
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = next((ws for ws in wb.worksheets if ws.title.strip().lower() == "survey"), None)
        if sheet is None:
            raise XLSFormError(f'工作簿中没有 "survey" 工作表 ({path.name})')
        header: list[str] = []
        names: dict[str, int] = {}
        depth = 0
        for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if c is None else str(c).strip() for c in row]
            if not header:
                header = cells
                if "type" not in header:
                    raise XLSFormError('survey 表第 1 行缺少 "type" 列')
                continue
            rec = dict(zip(header, cells))
            qtype = rec.get("type", "")
            if qtype.split(" ")[0] in ("range", "rank", "audio", "video", "barcode", "geotrace", "geoshape",
                                       "select_one_from_file", "select_multiple_from_file", "trigger",
                                       "background-audio", "osm", "xml-external", "csv-external", "acknowledge"):
                raise XLSFormError(f'survey 表第 {r} 行: 不支持题型 "{qtype}" — unsupported question type')
            if qtype in ("begin_repeat", "begin repeat"):
                depth += 1
                if depth > 1:
                    raise XLSFormError(f"survey 表第 {r} 行: 不支持嵌套的重复组 (nested repeat)")
            elif qtype in ("end_repeat", "end repeat"):
                depth -= 1
            if rec.get("name"):
                names.setdefault(rec["name"], r)
        return _Rows(names, sheet.title)
    finally:
        wb.close()


def _settings(path: Path) -> dict[str, str]:
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = next((ws for ws in wb.worksheets if ws.title.strip().lower() == "settings"), None)
        if sheet is None:
            return {}
        rows = list(sheet.iter_rows(values_only=True, max_row=2))
        if len(rows) < 2:
            return {}
        return {str(k): str(v) for k, v in zip(rows[0], rows[1]) if k and v is not None}
    finally:
        wb.close()


def _fields(children: list[dict], rows: _Rows, lists: dict, relevant: str | None, *, in_repeat: bool
            ) -> Iterator[dict[str, Any]]:
    for q in children:
        qtype, name = q.get("type", ""), q.get("name", "")
        if qtype == "group":
            if name == "meta" and q.get("control", {}).get("bodyless"):
                continue
            # Groups only arrange questions on the page: flatten them, the group's relevant joined in.
            inner = _expr(q.get("bind", {}).get("relevant"), rows, name, "relevant")
            both = _and(relevant, inner)
            yield from _fields(q.get("children", []), rows, lists, both, in_repeat=in_repeat)
            continue
        if qtype in _METADATA:
            continue
        if qtype == "repeat":
            if in_repeat:
                raise XLSFormError(f"{rows.at(name)}: 不支持嵌套的重复组 (nested repeat)")
            field = _field(q, "repeat", rows, lists, relevant)
            field["fields"] = list(_fields(q.get("children", []), rows, lists, None, in_repeat=True))
            yield field
            continue
        ftype = _TYPES.get(qtype)
        if ftype is None:
            raise XLSFormError(f'{rows.at(name)}: 不支持题型 "{qtype}" — unsupported question type')
        yield _field(q, ftype, rows, lists, relevant)


def _field(q: dict, ftype: str, rows: _Rows, lists: dict, relevant: str | None) -> dict[str, Any]:
    name = q["name"]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise XLSFormError(f'{rows.at(name)}: 字段名 "{name}" 只能用小写字母、数字和下划线,且以字母开头')
    bind, control = q.get("bind", {}), q.get("control", {})
    own = str(q.get("wangge_type") or "").strip()
    if own:
        if own not in _OWN_TYPES:
            raise XLSFormError(f'{rows.at(name)}: wangge_type 列的值 "{own}" 无效,可用: {", ".join(sorted(_OWN_TYPES))}')
        ftype = own
    elif ftype == "text" and "multiline" in str(control.get("appearance", "")):
        ftype = "textarea"
    out: dict[str, Any] = {"id": name}
    if q.get("wangge_ref"):
        # id as well as ref: list entries merge by id, so a county form can override a base form's field
        out = {"id": name, "ref": str(q["wangge_ref"])}
        if out["ref"] != name:
            raise XLSFormError(f'{rows.at(name)}: wangge_ref "{out["ref"]}" 必须与字段名相同')
    out["type"] = ftype
    for key, value in (("label", q.get("label")), ("hint", q.get("hint"))):
        zh, en = _label(value), _label(value, EN)
        if zh:
            out[key] = zh
        if en:
            out[f"{key}_en"] = en
    required = str(bind.get("required", "")).strip()
    if required:
        out["required"] = True if required.lower() in _TRUE else (
            False if required.lower() in ("no", "false", "false()") else _expr(required, rows, name, "required"))
    msg = bind.get("jr:requiredMsg")
    if msg:
        out["required_message"] = _label(msg)
    if q.get("default") not in (None, ""):
        out["default"] = _default(ftype, q["default"])
    if str(bind.get("readonly", "")).strip().lower() in _TRUE:
        out["read_only"] = True
    for key, column in (("constraint", "constraint"), ("relevant", "relevant"), ("calculation", "calculate")):
        src = _expr(bind.get(column), rows, name, column)
        if key == "relevant" and relevant:
            src = _and(relevant, src)
        if src:
            out[key] = src
    cmsg = bind.get("jr:constraintMsg")
    if cmsg:
        out["constraint_message"] = _label(cmsg)
        if _label(cmsg, EN):
            out["constraint_message_en"] = _label(cmsg, EN)
    if ftype in ("select_one", "select_multiple") and q.get("list_name"):
        lists.setdefault(q["list_name"], [_choice(c) for c in q.get("choices", [])])
        out["choices"] = q["list_name"]
        if q.get("choice_filter"):
            out["choice_filter"] = _expr(_choice_columns(q["choice_filter"]), rows, name, "choice_filter")
    if ftype == "select_one" and own == "yes_no":
        out.pop("choices", None)
    if ftype == "unit" and q.get("wangge_levels"):
        out["levels"] = str(q["wangge_levels"]).split()
    if str(q.get("wangge_key", "")).strip().lower() in _TRUE:
        out["key"] = True
    for key in ("max_length", "min_count", "max_count"):
        if q.get(f"wangge_{key}") not in (None, ""):
            out[key] = int(q[f"wangge_{key}"])
    if ftype in ("photo",):
        out.setdefault("accept", "image/*")
    return out


def _and(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return kept[0] if len(kept) == 1 else " and ".join(f"({p})" for p in kept) or None


def _choice(c: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"value": str(c["name"]), "label": _label(c.get("label")) or str(c["name"])}
    en = _label(c.get("label"), EN)
    if en:
        out["label_en"] = en
    for k, v in c.items():
        if k not in ("name", "label", "media") and v not in (None, ""):
            out[k] = v
    return out


def _label(value: Any, lang: str = ZH) -> str:
    """The text in one language: plain text is Chinese; of a language map, the zh (or default) entry."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value if lang == ZH else ""
    for key, text in value.items():
        k = key.lower()
        if (lang == ZH and ("zh" in k or "中文" in k or k == "default")) or (lang == EN and ("(en)" in k or k.startswith("english"))):
            return str(text)
    return next(iter(value.values()), "") if lang == ZH else ""


def _expr(src: Any, rows: _Rows, name: str, column: str) -> str | None:
    if src in (None, ""):
        return None
    try:
        return from_xpath(str(src))
    except ExprError as exc:
        raise XLSFormError(f"{rows.at(name)} {column} 列: {exc}") from None


_BARE = re.compile(r"""('[^']*'|"[^"]*"|\$\{[^}]*\})|\b([A-Za-z_][A-Za-z0-9_-]*)\b(?!\s*\()""")


def _choice_columns(src: str) -> str:
    """XLSForm's choice_filter names choice columns bare (``province=${prov}``); here they are ${choice.x}."""
    keep = {"and", "or", "div", "mod"}
    return _BARE.sub(lambda m: m.group(1) or (m.group(2) if m.group(2) in keep else f"${{choice.{m.group(2)}}}"), src)


def _default(ftype: str, value: Any) -> Any:
    text = str(value)
    if ftype == "integer" and re.fullmatch(r"-?\d+", text):
        return int(text)
    if ftype == "decimal" and re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    if ftype == "yes_no":
        return text.lower() in _TRUE
    return text


def _version(value: Any) -> str:
    text = str(value or "").strip()
    if re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", text):
        return text
    return f"1.0.{int(text)}" if text.isdigit() else "1.0.0"


def _identifier(text: str) -> str:
    ident = re.sub(r"[^a-z0-9_\-]", "_", text.lower()).strip("_-")
    return ident if ident[:1].isalpha() else f"form_{ident}"


# -- export ----------------------------------------------------------------------------------------------

_SURVEY_COLUMNS = ["type", "name", f"label::{ZH}", f"label::{EN}", f"hint::{ZH}", f"hint::{EN}", "required",
                   f"required_message::{ZH}", "relevant", "constraint", f"constraint_message::{ZH}",
                   f"constraint_message::{EN}", "calculation", "default", "read_only", "choice_filter",
                   "appearance", "wangge_type", "wangge_levels", "wangge_key", "wangge_ref", "wangge_max_length",
                   "wangge_min_count", "wangge_max_count"]
_EXPORT_TYPES = {"datetime": "dateTime", "photo": "image", "textarea": "text", "id_card": "text", "phone": "text",
                 "unit": "text"}


def export_xlsform(form: Form, path: Path | str) -> None:
    """Write ``form`` as an XLSForm workbook (survey, choices, settings)."""
    wb = Workbook()
    survey = wb.active
    survey.title = "survey"
    survey.append(_SURVEY_COLUMNS)
    lists: dict[str, tuple[Choice, ...]] = {}
    for f in form.fields:
        if f.type == "repeat":
            survey.append(_row(f, lists, "begin_repeat"))
            for c in f.fields:
                survey.append(_row(c, lists))
            survey.append(_row_end("end_repeat"))
        else:
            survey.append(_row(f, lists))
    attrs = sorted({k for choices in lists.values() for c in choices for k in c.attrs})
    choices_sheet = wb.create_sheet("choices")
    choices_sheet.append(["list_name", "name", f"label::{ZH}", f"label::{EN}", *attrs])
    for list_name, choices in lists.items():
        for c in choices:
            choices_sheet.append([list_name, c.value, c.label, c.label_en or None, *(c.attrs.get(a) for a in attrs)])
    settings = wb.create_sheet("settings")
    settings.append(["form_id", "form_title", "version", "default_language", "title_en", "wangge_subject"])
    settings.append([form.id, form.title, form.version, ZH, form.title_en or None, form.subject])
    wb.save(str(path))


def _row_end(kind: str) -> list[Any]:
    return [kind] + [None] * (len(_SURVEY_COLUMNS) - 1)


def _row(f: FormField, lists: dict[str, tuple[Choice, ...]], kind: str | None = None) -> list[Any]:
    # A plugin's field type exports as the built-in input it is shown with (XLSForm has no such type).
    base = f.widget if f.plugin_type is not None else f.type
    qtype = kind or _EXPORT_TYPES.get(base, base)
    if f.type in ("select_one", "select_multiple"):
        list_name = f.choice_list or f.name
        lists.setdefault(list_name, f.choices)
        qtype = f"{f.type} {list_name}"
    elif f.type == "yes_no":
        lists.setdefault("wangge_yes_no", (Choice("true", "是", "Yes"), Choice("false", "否", "No")))
        qtype = "select_one wangge_yes_no"
    required: Any = None
    if f.required:
        required = "yes"
    elif f.required_if is not None:
        required = to_xpath(f.required_if.expr.tree)
    values = {
        "type": qtype, "name": f.name, f"label::{ZH}": f.label if f.label != f.name or f.type != "calculate" else None,
        f"label::{EN}": f.label_en, f"hint::{ZH}": f.hint, f"hint::{EN}": f.hint_en, "required": required,
        f"required_message::{ZH}": f.required_message,
        "relevant": to_xpath(f.relevant.expr.tree) if f.relevant else None,
        "constraint": to_xpath(f.constraint.expr.tree) if f.constraint else None,
        f"constraint_message::{ZH}": f.constraint_message, f"constraint_message::{EN}": f.constraint_message_en,
        "calculation": to_xpath(f.calculation.expr.tree) if f.calculation else None,
        "default": _export_default(f.default), "read_only": "yes" if f.read_only else None,
        "choice_filter": to_xpath(f.choice_filter.expr.tree, choice_filter=True) if f.choice_filter else None,
        "appearance": "multiline" if f.type == "textarea" else None,
        "wangge_type": f.type if f.type in _OWN_TYPES else None,
        "wangge_levels": " ".join(f.levels) if f.type == "unit" else None,
        "wangge_key": "yes" if f.key else None, "wangge_ref": f.ref, "wangge_max_length": f.max_length,
        "wangge_min_count": f.min_count or None, "wangge_max_count": f.max_count,
    }
    return [values[c] if values[c] not in ("",) else None for c in _SURVEY_COLUMNS]


def _export_default(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


_REVERSE = {ours: theirs for theirs, ours in FUNCTION_MAP.items()}
_REVERSE["len"] = "string-length"
_XOPS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "+": "+", "-": "-", "*": "*",
         "/": "div", "%": "mod"}


def to_xpath(node: Node, *, choice_filter: bool = False) -> str:
    """This language → XLSForm's XPath (fully parenthesised; ``in [..]`` becomes ``or``-ed equalities)."""
    if isinstance(node, Literal):
        v = node.value
        if v is True or v is False:
            return "true()" if v else "false()"
        if v is None:
            return "''"
        if isinstance(v, str):
            return f"'{v}'" if "'" not in v else f'"{v}"'
        return repr(v) if isinstance(v, float) else str(v)
    if isinstance(node, Var):
        if node.name == ".":
            return "."
        if choice_filter and node.name.startswith("choice."):
            return node.name.split(".", 1)[1]
        if "." in node.name:
            raise ExprError(f"无法导出到 XLSForm: 嵌套变量 ${{{node.name}}}", "nested variable", node.column)
        return "${" + node.name + "}"
    if isinstance(node, Unary):
        inner = to_xpath(node.operand, choice_filter=choice_filter)
        return f"not({inner})" if node.op == "not" else f"-({inner})"
    if isinstance(node, Logical):
        return "(" + f" {node.op} ".join(to_xpath(o, choice_filter=choice_filter) for o in node.operands) + ")"
    if isinstance(node, Binary):
        left = to_xpath(node.left, choice_filter=choice_filter)
        if node.op in ("in", "not in") and isinstance(node.right, ListNode):
            ors = " or ".join(f"{left} = {to_xpath(i, choice_filter=choice_filter)}" for i in node.right.items) or "false()"
            return f"({ors})" if node.op == "in" else f"not({ors})"
        if node.op not in _XOPS:
            raise ExprError(f"无法导出到 XLSForm: 运算 {node.op}", f"operator {node.op}", node.column)
        return f"({left} {_XOPS[node.op]} {to_xpath(node.right, choice_filter=choice_filter)})"
    if isinstance(node, Call):
        name = _REVERSE.get(node.name)
        if name is None:
            raise ExprError(f"无法导出到 XLSForm: 函数 {node.name}() 在 XLSForm 中没有对应", f"function {node.name}",
                            node.column)
        return f"{name}(" + ", ".join(to_xpath(a, choice_filter=choice_filter) for a in node.args) + ")"
    raise ExprError("无法导出到 XLSForm: 列表", "list literal", getattr(node, "column", 0))


# -- YAML ------------------------------------------------------------------------------------------------

def dump_forms_yaml(forms: list[dict[str, Any]]) -> str:
    """``forms:`` YAML for a pack, with numeric-looking texts quoted (a choice value "08" stays text)."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, text: str) -> Any:
        looks_numeric = re.fullmatch(r"[-+0-9.eE_:]+|true|false|yes|no|on|off|null|~", text, re.IGNORECASE)
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="'" if looks_numeric else None)

    _Dumper.add_representer(str, _str)
    header = "# yaml-language-server: $schema=../../../docs/pack.schema.json\n# 由 wangge forms import 从 XLSForm 生成\n"
    return header + yaml.dump({"forms": forms}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)
