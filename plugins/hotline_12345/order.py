"""A 12345 work order (工单) as the hotline platform sends it: fields, keys and per-field checks.

Field names follow the work-order fields of 国办发〔2020〕53号 / 晋政办发〔2020〕55号. Platforms differ
in their keys, so each field is accepted under its Chinese name or a pinyin/English alias (FIELDS below,
the table in docs/plugins.md). Every bad field is reported at once, in Chinese, keyed by the Chinese name.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
REQUEST_TYPES = ("咨询", "投诉", "求助", "建议", "举报")
URGENCY = {"一般": "normal", "普通": "normal", "正常": "normal", "紧急": "urgent", "加急": "urgent",
           "急": "urgent", "特急": "emergency", "特别紧急": "emergency", "突发": "emergency",
           "normal": "normal", "urgent": "urgent", "emergency": "emergency"}
YES = {"是", "true", "1", "yes", "y", "保密"}
NO = {"否", "false", "0", "no", "n", "不保密", ""}
# 110/119/120/122 keep their own platforms (国办发〔2020〕53号): never taken in through 12345.
EMERGENCY_NUMBERS = ("110", "119", "120", "122")
_EMERGENCY = re.compile(r"(?<!\d)(110|119|120|122)(?!\d)")
_PHONE = re.compile(r"^[0-9+\-() ]{3,20}$")


@dataclass(frozen=True)
class FieldSpec:
    name: str            # the Chinese name: the canonical key and how errors name the field
    key: str             # the attribute of WorkOrder, also accepted as the English key
    aliases: tuple[str, ...] = ()
    required: bool = False
    note: str = ""


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("工单编号", "order_no", ("gongdan_bianhao", "gdbh", "orderNo", "order_id"), True, "唯一;重复推送按它去重"),
    FieldSpec("接收时间", "received_at", ("jieshou_shijian", "receivedAt", "accept_time"), True,
              "ISO 8601 或 YYYY-MM-DD HH:MM[:SS],无时区按北京时间"),
    FieldSpec("信息来源", "source", ("xinxi_laiyuan", "channel"), False, "电话、网站、微信、APP……"),
    FieldSpec("来电类别", "call_category", ("laidian_leibie", "callCategory"), False,
              "含 110/119/120/122 的工单拒收"),
    FieldSpec("受理类型", "request_type", ("shouli_leixing", "requestType", "type"), True,
              "咨询/投诉/求助/建议/举报"),
    FieldSpec("联系人", "contact_name", ("lianxiren", "contactName", "contact")),
    FieldSpec("联系电话", "contact_phone", ("lianxi_dianhua", "contactPhone", "phone")),
    FieldSpec("地址", "address", ("dizhi", "addr")),
    FieldSpec("问题描述", "description", ("wenti_miaoshu", "content", "desc"), True),
    FieldSpec("一级分类", "category_1", ("yiji_fenlei", "category1")),
    FieldSpec("二级分类", "category_2", ("erji_fenlei", "category2")),
    FieldSpec("三级分类", "category_3", ("sanji_fenlei", "category3")),
    FieldSpec("四级分类", "category_4", ("siji_fenlei", "category4")),
    FieldSpec("五级分类", "category_5", ("wuji_fenlei", "category5")),
    FieldSpec("紧急程度", "urgency", ("jinji_chengdu", "priority"), False, "一般/紧急/特急"),
    FieldSpec("是否保密", "confidential", ("shifou_baomi", "secret"), False, "是/否;保密时不把联系人写入案件"),
    FieldSpec("承办单位", "handling_unit", ("chengban_danwei", "handlingUnit", "undertaker")),
    FieldSpec("转办意见", "dispatch_note", ("zhuanban_yijian", "dispatchNote", "transfer_opinion")),
    FieldSpec("办结时限", "due_at", ("banjie_shixian", "deadline", "dueAt"), False, "平台要求的办结时间"),
    FieldSpec("办理轨迹", "history", ("banli_guiji", "track", "process")),
    FieldSpec("回退/延期", "return_or_extension", ("回退延期", "huitui_yanqi", "returnOrExtension")),
    FieldSpec("答复", "reply", ("dafu", "answer")),
    FieldSpec("回访满意度", "satisfaction", ("huifang_manyidu", "satisfaction_level")),
)
# A 分类 path may also come whole: a list, or text split by / > ＞ -.
CATEGORY_KEYS = ("分类", "fenlei", "categories")


class OrderError(ValueError):
    """A work order that cannot be taken in; ``errors`` maps each bad field (Chinese name) to a message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__(";".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class WorkOrder:
    order_no: str
    received_at: datetime
    request_type: str
    description: str
    source: str = ""
    call_category: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    address: str = ""
    categories: tuple[str, ...] = ()          # 一级 … 五级分类, top first, blanks dropped
    urgency: str = "normal"
    confidential: bool = False
    handling_unit: str = ""
    dispatch_note: str = ""
    due_at: datetime | None = None
    history: tuple[Any, ...] = ()
    return_or_extension: str = ""
    reply: str = ""
    satisfaction: str = ""
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # keys we do not know

    def as_record(self, *, with_contact: bool = True) -> dict[str, Any]:
        """The order under its Chinese keys (how it is kept in the case's data)."""
        out: dict[str, Any] = {}
        for spec in FIELDS:
            if spec.key.startswith("category_") or (spec.key in ("contact_name", "contact_phone") and not with_contact):
                continue
            value = getattr(self, spec.key)
            if value in ("", None, ()):
                continue
            out[spec.name] = value.isoformat() if isinstance(value, datetime) else (
                list(value) if isinstance(value, tuple) else value)
        if self.categories:
            out["分类"] = list(self.categories)
        return out


def _aliases() -> dict[str, FieldSpec]:
    table: dict[str, FieldSpec] = {}
    for spec in FIELDS:
        for key in (spec.name, spec.key, *spec.aliases):
            table[key.lower()] = spec
    return table


ALIASES: Mapping[str, FieldSpec] = MappingProxyType(_aliases())


def parse_order(raw: Any) -> WorkOrder:
    """Check and normalise one work order; :class:`OrderError` lists every bad field."""
    if not isinstance(raw, Mapping):
        raise OrderError({"工单": "工单必须是 JSON 对象 (a work order must be a JSON object)"})
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    extra: dict[str, Any] = {}
    categories: Any = None
    for key, value in raw.items():
        spec = ALIASES.get(str(key).lower())
        if spec is None:
            if str(key) in CATEGORY_KEYS:
                categories = value
            else:
                extra[str(key)] = value
            continue
        if spec.key in values:
            errors[spec.name] = f"字段重复:{spec.name} 以不同的键名出现了两次 (given twice under different keys)"
        values[spec.key] = value
    for spec in FIELDS:
        if spec.required and _blank(values.get(spec.key)):
            errors[spec.name] = f"缺少必填字段「{spec.name}」(required; also accepted as {spec.key})"
    order_no = _text(values.get("order_no"), "工单编号", errors, limit=100)
    if order_no and not re.fullmatch(r"[0-9A-Za-z_\-.:]+", order_no):
        errors["工单编号"] = f"工单编号「{order_no}」只能包含字母、数字和 _-.: (letters, digits, _-.: only)"
    received_at = _time(values.get("received_at"), "接收时间", errors)
    request_type = _text(values.get("request_type"), "受理类型", errors)
    if request_type and request_type not in REQUEST_TYPES:
        errors["受理类型"] = f"受理类型「{request_type}」无效,应为 {'/'.join(REQUEST_TYPES)} 之一"
    for name, key in (("信息来源", "source"), ("来电类别", "call_category")):
        text = _text(values.get(key), name, errors)
        if text and _EMERGENCY.search(text):
            errors[name] = (f"{_EMERGENCY.search(text).group(1)} 工单不经 12345 受理:110/119/120/122 按国办发〔2020〕53号"
                            "保持独立,请转回对应平台 (emergency numbers stay separate)")
    phone = _text(values.get("contact_phone"), "联系电话", errors)
    if phone and not _PHONE.fullmatch(phone):
        errors["联系电话"] = f"联系电话「{phone}」格式不对:只能包含数字、空格和 +-() (3–20 位)"
    urgency_text = _text(values.get("urgency"), "紧急程度", errors) or "一般"
    urgency = URGENCY.get(urgency_text.lower() if urgency_text.isascii() else urgency_text)
    if urgency is None:
        errors["紧急程度"] = f"紧急程度「{urgency_text}」无效,应为 一般/紧急/特急"
    confidential = _flag(values.get("confidential"), errors)
    due_at = _time(values.get("due_at"), "办结时限", errors) if not _blank(values.get("due_at")) else None
    history = values.get("history") or ()
    if isinstance(history, (str, Mapping)):
        history = (history,)
    if not isinstance(history, (list, tuple)):
        errors["办理轨迹"] = "办理轨迹应为列表或文字 (a list or text)"
        history = ()
    cats = _categories(values, categories, errors)
    texts = {k: _text(values.get(k), n, errors) for n, k in (
        ("联系人", "contact_name"), ("地址", "address"), ("问题描述", "description"), ("承办单位", "handling_unit"),
        ("转办意见", "dispatch_note"), ("回退/延期", "return_or_extension"), ("答复", "reply"),
        ("回访满意度", "satisfaction"))}
    if errors:
        raise OrderError(errors)
    return WorkOrder(order_no=order_no, received_at=received_at, request_type=request_type,
                     source=_text(values.get("source"), "", {}), call_category=_text(values.get("call_category"), "", {}),
                     contact_phone=phone, categories=cats, urgency=urgency or "normal", confidential=confidential,
                     due_at=due_at, history=tuple(history), extra=MappingProxyType(extra), **texts)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, name: str, errors: dict[str, str], limit: int = 4000) -> str:
    if _blank(value):
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        errors[name] = f"「{name}」应为文字 (must be text)"
        return ""
    text = str(value).strip()
    if len(text) > limit:
        errors[name] = f"「{name}」过长(超过 {limit} 字)"
    return text


def _time(value: Any, name: str, errors: dict[str, str]) -> datetime:
    fallback = datetime(1970, 1, 1, tzinfo=CHINA)
    if _blank(value):
        return fallback
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("/", "-")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            errors[name] = f"「{name}」时间格式不对:{value}(应为 2026-03-02 09:30:00 或 ISO 8601)"
            return fallback
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _flag(value: Any, errors: dict[str, str]) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    errors["是否保密"] = f"是否保密「{value}」无效,应为 是/否"
    return False


def _categories(values: Mapping[str, Any], whole: Any, errors: dict[str, str]) -> tuple[str, ...]:
    levels = [values.get(f"category_{n}") for n in range(1, 6)]
    if any(not _blank(v) for v in levels):
        names = ("一级分类", "二级分类", "三级分类", "四级分类", "五级分类")
        out = [_text(v, names[n], errors, 100) for n, v in enumerate(levels)]
        # A level below a blank one means the platform skipped a level: keep what was sent, in order.
        return tuple(v for v in out if v)
    if _blank(whole):
        return ()
    if isinstance(whole, str):
        return tuple(p.strip() for p in re.split(r"\s*[/>＞\\]\s*|\s+-\s+", whole) if p.strip())[:5]
    if isinstance(whole, (list, tuple)) and all(isinstance(p, str) for p in whole):
        return tuple(p.strip() for p in whole if p.strip())[:5]
    errors["分类"] = "分类应为文字(如 城市管理/市容环境/暴露垃圾)或文字列表"
    return ()
