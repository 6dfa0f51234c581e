"""The JSON Schema for pack files, and schema problems in the words county staff read."""
from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError, best_match

from .problems import Position, Problem
from .yamlsrc import locate

SCHEMA_FILE = Path(__file__).with_name("schema.yaml")

TYPE_NAMES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否 (true/false)",
              "object": "映射(键: 值)", "array": "列表", "null": "空"}


@cache
def pack_schema() -> dict[str, Any]:
    """The schema as a plain dict (read once; the file ships with wangge)."""
    return yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = pack_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(inline_refs(schema))


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema with every non-recursive ``$ref`` replaced by its definition.

    Resolving a reference costs jsonschema far more than checking what it points to; a pack with
    5,000 units makes ~26,000 of them. Recursive definitions (units within units) keep their ``$ref``.
    """
    defs = schema.get("$defs", {})

    def recursive(name: str) -> bool:
        seen, stack = set(), [defs[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref", "")
                if ref == f"#/$defs/{name}":
                    return True
                target = ref.removeprefix("#/$defs/")
                if target in defs and target not in seen:
                    seen.add(target)
                    stack.append(defs[target])
                stack.extend(v for k, v in node.items() if k != "$ref")
            elif isinstance(node, list):
                stack.extend(node)
        return False

    keep = {name for name in defs if recursive(name)}

    def expand(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            name = ref.removeprefix("#/$defs/")
            if ref.startswith("#/$defs/") and name not in keep and len(node) == 1:
                return expand(defs[name])
            return {k: (v if k == "$defs" else expand(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [expand(v) for v in node]
        return node

    out = expand(schema)
    out["$defs"] = {name: expand(defs[name]) for name in defs}
    return out


def schema_json() -> str:
    return json.dumps(pack_schema(), ensure_ascii=False, indent=2)


def as_json_value(value: Any) -> Any:
    """YAML gives dates and datetimes; the schema speaks JSON, where they are ISO strings."""
    if isinstance(value, dict):
        return {k: as_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_value(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def schema_problems(tree: Any, file: str) -> list[Problem]:
    """Every schema violation in one file's tree, as positioned problems."""
    problems = []
    for error in _validator().iter_errors(as_json_value(tree)):
        error = _most_specific(error)
        path = list(error.absolute_path)
        position = locate(tree, path, Position(file, 1, 1))
        message, hint = describe(error)
        problems.append(Problem("SCHEMA", message, position, hint))
    return problems


def _most_specific(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf failures, the alternative that came closest is the useful message."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        deeper = best_match(error.context)
        if deeper is None or deeper.validator in ("oneOf", "anyOf") and deeper is error:
            break
        error = deeper
    return error


def _where(error: ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"「{path}」" if path else "文件顶层"


def describe(error: ValidationError) -> tuple[str, str]:
    """A Chinese message and a hint for one schema error (English kept in brackets for vendors)."""
    kind, value, where = error.validator, error.validator_value, _where(error)
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(value)
        return f'{where} 缺少必填字段 "{missing}" (missing required field)', f"请添加 {missing}:"
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(error.schema.get("properties", {}))
        return (f'{where} 有未知字段 {", ".join(repr(e) for e in extra)} (unknown field)',
                f"可用字段: {allowed}" if allowed else "")
    if kind == "type":
        expected = value if isinstance(value, list) else [value]
        names = " 或 ".join(TYPE_NAMES.get(t, t) for t in expected)
        hint = ('编码、区划代码等数字样式的文本请加引号,如 "001"' if "string" in expected
                and isinstance(error.instance, (int, float)) else "")
        return f"{where} 类型错误: 应为{names},实际是 {error.instance!r} (wrong type)", hint
    if kind == "enum":
        options = ", ".join(str(v) for v in value)
        return f"{where} 取值 {error.instance!r} 无效 (not allowed)", f"可选值: {options}"
    if kind == "const":
        return f"{where} 取值只能是 {value!r} (must be {value!r})", ""
    if kind == "pattern":
        return f"{where} 格式不符: {error.instance!r} (does not match {value})", _pattern_hint(str(error.absolute_path))
    if kind in ("minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "minProperties",
                "maxProperties"):
        return f"{where} 超出允许范围: {error.instance!r} ({kind} {value})", ""
    if kind == "propertyNames":
        return f"{where} 的键名无效 (invalid key)", error.message
    if kind in ("oneOf", "anyOf"):
        if "count" in str(value) and "total" in str(value):
            return f"{where} 须写 count(每个上级的数量)或 total(总数)之一 (count or total)", ""
        return (f"{where} 写法不符合任何一种允许的形式 (matches none of the allowed forms)",
                error.schema.get("description", ""))
    if kind == "maxProperties" and "generate" in (error.instance or {}):
        return f"{where} 的 generate 块旁不能再写其他字段 (a generate block stands alone)", "把 children 等写进 generate 里面"
    return f"{where} 不符合格式: {error.message}", ""


def _pattern_hint(path: str) -> str:
    if "version" in path:
        return "版本号形如 1.0.0"
    if "region" in path:
        return "GB/T 2260 行政区划代码,6 位数字,需加引号"
    return "id 用小写字母开头,只含小写字母、数字、下划线、连字符"
