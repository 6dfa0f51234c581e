"""JSON Schemas (2020-12) of request and response bodies, referenced by the endpoint metadata."""
from __future__ import annotations

from typing import Any

from wangge.core.events import URGENCIES

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}

EVENT: dict[str, Any] = {
    "type": "object",
    "description": "一次事件上报。class/channel 用本县(区)规则包的编码,或 ref_class/ref_channel 用参考分类。",
    "required": ["id", "unit", "reported_at"],
    "properties": {
        "id": {"type": "string", "description": "上报方的事件编号"},
        "class": {"type": "string", "description": "事件分类 id (规则包 events)"},
        "ref_class": {"type": "string"},
        "channel": {"type": "string", "description": "渠道 id (规则包 channels)"},
        "ref_channel": {"type": "string"},
        "unit": {"type": "string", "description": "网格单元编码"},
        "reported_at": TIME,
        "urgency": {"enum": list(URGENCIES)},
        "people": {"type": "integer", "minimum": 0},
        "reporter": STR, "reporter_role": STR, "title": STR, "description": STR,
        "location": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}],
                     "minItems": 2, "maxItems": 2, "description": "[纬度, 经度]"},
        "external_id": {"type": "string", "description": "外部编号 (如 12345 工单编号);重复上报只生成一个案件"},
        "data": {"type": "object", "description": "表单字段"},
    },
    "additionalProperties": False,
}

INTAKE_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["case_id", "event_id", "duplicate", "state", "level"],
    "properties": {
        "case_id": STR, "event_id": STR, "duplicate": {"type": "boolean"}, "state": STR, "level": STR,
        "handler_unit": NSTR, "lead": NSTR, "due_at": NTIME, "external_id": NSTR,
    },
}

CASE_SUMMARY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "state", "event_class", "unit", "reported_at"],
    "properties": {
        "id": STR, "external_id": NSTR, "state": STR, "state_name": STR, "open": {"type": "boolean"},
        "level": STR, "event_class": STR, "event_class_name": STR, "channel": STR, "unit": STR, "unit_name": STR,
        "handler_unit": NSTR, "lead": NSTR, "lead_name": NSTR, "assist": {"type": "array", "items": STR},
        "priority": {"type": "integer"}, "supervised": {"type": "boolean"}, "reported_at": TIME,
        "due_at": NTIME, "closed_at": NTIME, "title": STR,
    },
}

HISTORY_ENTRY: dict[str, Any] = {
    "type": "object",
    "properties": {"seq": {"type": "integer"}, "at": TIME, "actor": STR, "role": STR, "action": STR,
                   "from_state": NSTR, "to_state": STR, "rule": NSTR, "note": STR, "data": {"type": "object"}},
}

CASE_DETAIL: dict[str, Any] = {
    "type": "object",
    "allOf": [CASE_SUMMARY],
    "properties": {
        "event": {"type": "object"}, "decision": {"type": "object", "description": "流转决定及其推理过程 (trace)"},
        "history": {"type": "array", "items": HISTORY_ENTRY},
        "actions": {"type": "array", "items": {"type": "object"}, "description": "当前状态下可执行的动作"},
        "pack_version": STR,
    },
}

CASE_PAGE: dict[str, Any] = {
    "type": "object",
    "required": ["items", "total", "limit", "offset"],
    "properties": {"items": {"type": "array", "items": CASE_SUMMARY}, "total": {"type": "integer"},
                   "limit": {"type": "integer"}, "offset": {"type": "integer"}, "next_offset": {"type": ["integer", "null"]}},
}

ACTION: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "action": {"type": "string", "description": "工作流动作 id (规则包 workflow.transitions)"},
        "note": {"type": "string", "description": "办理意见"},
        "actor": {"type": "string", "description": "办理人 (默认为令牌名)"},
        "role": {"type": "string", "description": "办理角色:网格角色 id(同时给 unit)或 department:<部门 id>"},
        "unit": {"type": "string", "description": "以网格角色办理时所在的网格单元编码"},
        "data": {"type": "object", "description": "动作表单数据"},
        "expected_seq": {"type": "integer", "description": "乐观锁:调用方看到的最新序号"},
    },
    "additionalProperties": False,
}

FORM_SUMMARY: dict[str, Any] = {
    "type": "object",
    "properties": {"id": STR, "version": STR, "title": STR, "title_en": STR, "subject": STR,
                   "fields": {"type": "integer"}},
}

FORM_SUBMISSION: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {"type": "object", "description": "字段名 → 值"},
        "unit": {"type": "string", "description": "网格单元编码"},
        "submitted_by": {"type": "string"},
    },
    "additionalProperties": False,
}

SUBMISSION_RESULT: dict[str, Any] = {
    "type": "object",
    "properties": {"id": STR, "form_id": STR, "form_version": STR, "submitted_at": TIME, "data": {"type": "object"}},
}

INDICATORS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "unit": STR, "period": STR, "from": TIME, "to": TIME, "engine": STR,
        "indicators": {"type": "array", "items": {"type": "object", "properties": {
            "id": STR, "name": STR, "numerator": {"type": "number"},
            "denominator": {"type": ["number", "null"], "description": "计数类指标没有分母 (null for counts)"},
            "value": {"type": ["number", "null"]}, "unit": STR, "display": STR,
            "definition": {"type": "string", "description": "所用口径,如 结案率 = 结案(closed) / 应结案(due)"}}}},
    },
}

PACK_SUMMARY: dict[str, Any] = {
    "type": "object",
    "properties": {"county": STR, "id": STR, "name": STR, "version": STR, "region": STR, "summary": STR,
                   "levels": {"type": "array"}, "event_classes": {"type": "array"}, "channels": {"type": "array"},
                   "departments": {"type": "array"}, "forms": {"type": "array"}, "indicators": {"type": "array"},
                   "workflow": {"type": ["object", "null"]}},
}
