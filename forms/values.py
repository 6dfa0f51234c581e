"""Turning what a browser (or an API client) sends into typed values, and the format checks of the
Chinese field types: 居民身份证号 (GB 11643 check digit), phone numbers and geopoints.

Typed values are what expressions see and what is stored: str, int, float, bool, list[str] (multiple
choice), ISO dates 'YYYY-MM-DD' and date-times 'YYYY-MM-DDTHH:MM:SS' (the expression language compares
dates as ISO text), a unit code for a grid cascade, a mapping for an uploaded file, a list of mappings
for a repeat group. A value that cannot be converted stays as the text typed, so the validator reports
it in the field's own words.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


#: Empty answers: a field holding one of these counts as not filled in.
def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


@dataclass(frozen=True)
class Upload:
    """A file as received (the app reads it from the request before validation)."""

    filename: str
    content_type: str
    data: bytes


def _text(value: Any) -> str:
    # NFKC folds full-width digits and letters (a Chinese input method's １２３ → 123).
    return unicodedata.normalize("NFKC", str(value)).strip()


def coerce(ftype: str, value: Any) -> Any:
    """The typed value of one answer; unconvertible input is returned unchanged (as text)."""
    if value is None:
        return None
    if ftype in ("select_multiple",):
        items = value if isinstance(value, (list, tuple)) else str(value).split()
        return [str(v) for v in items if str(v) != ""]
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
        if value is None:
            return None
    if isinstance(value, str) and value.strip() == "" and ftype not in ("text", "textarea"):
        return None
    if ftype in ("text", "textarea"):
        text = str(value).replace("\r\n", "\n")
        return text.strip() or None
    if ftype == "integer":
        return _integer(value)
    if ftype == "decimal":
        return _decimal(value)
    if ftype == "yes_no":
        return _boolean(value)
    if ftype == "date":
        return _date(value)
    if ftype == "datetime":
        return _datetime(value)
    if ftype == "id_card":
        return _text(value).upper().replace(" ", "")
    if ftype == "phone":
        return _phone_text(value)
    if ftype == "geopoint":
        return _geopoint_text(value)
    if ftype in ("select_one", "unit", "hidden"):
        return value if isinstance(value, (int, float, bool)) and ftype == "hidden" else str(value).strip()
    return value


def plugin_value(ftype: Any, value: Any) -> tuple[Any, str | None]:
    """``(value, None)`` for an answer to a field of a plugin's type (``wangge.core.hooks.FieldType``), or
    ``(the text as typed, the plugin's Chinese message)`` when its ``parse`` refuses it."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").strip()
    if is_empty(value):
        return None, None
    try:
        return ftype.parse(value), None
    except ValueError as exc:
        return value, str(exc) or "填写的内容格式不正确"


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value).replace(",", "")
    return int(text) if re.fullmatch(r"[+-]?\d{1,16}", text) else text


def _decimal(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value
    text = _text(value).replace(",", "")
    if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text) and len(text) <= 24:
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("true", "1", "yes", "y", "是", "on"):
        return True
    if text in ("false", "0", "no", "n", "否", "off"):
        return False
    return text


def _date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _text(value).replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            pass
    return text


def _datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    text = _text(value).replace("/", "-")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if m:
        try:
            return datetime(*(int(g or 0) for g in m.groups())).isoformat()
        except ValueError:
            pass
    return text


def _phone_text(value: Any) -> str:
    text = re.sub(r"[\s()（）]", "", _text(value))
    return text.removeprefix("+86")


def _geopoint_text(value: Any) -> Any:
    if isinstance(value, dict) and "lat" in value and "lon" in value:
        value = f'{value["lat"]} {value["lon"]}'
    parts = re.split(r"[\s,]+", _text(value))
    try:
        numbers = [float(p) for p in parts if p]
    except ValueError:
        return _text(value)
    return " ".join(_short(n) for n in numbers)


def _short(n: float) -> str:
    return format(n, ".7f").rstrip("0").rstrip(".") if not n.is_integer() else str(int(n))


# -- format checks: None when valid, else the Chinese message ------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB/T 2260 province-level codes (first two digits); 83 is used by residence permits of Taiwan residents.
_PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                        50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83})


def id_card_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def id_card_problem(value: str, today: date | None = None) -> str | None:
    """Why ``value`` is not a valid 18-digit 居民身份证号 (GB 11643-1999), or None."""
    if len(value) != 18:
        return f"身份证号码应为 18 位,现在是 {len(value)} 位"
    if not (value[:17].isdigit() and value[:17].isascii() and (value[17].isdigit() or value[17] == "X")):
        return "身份证号码前 17 位应为数字,末位为数字或 X"
    if int(value[:2]) not in _PROVINCES:
        return "身份证号码前两位不是有效的省级行政区划代码"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号码中的出生日期无效"
    if born > (today or date.today()) or born.year < 1880:
        return "身份证号码中的出生日期无效"
    if id_card_check_digit(value[:17]) != value[17]:
        return "身份证号码校验位不正确,请核对是否输错"
    return None


_MOBILE = re.compile(r"1[3-9]\d{9}")
_FIXED = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")


def phone_problem(value: str) -> str | None:
    if _MOBILE.fullmatch(value) or _FIXED.fullmatch(value):
        return None
    return "请输入 11 位手机号,或带区号的固定电话(如 0543-3181234)"


def geopoint_problem(value: str) -> str | None:
    parts = value.split(" ")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return "经纬度格式不正确,请写“纬度 经度”,如 37.383 117.973"
    if not 2 <= len(numbers) <= 4:
        return "经纬度格式不正确,请写“纬度 经度”,如 37.383 117.973"
    if not (-90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180):
        return "经纬度超出范围:纬度在 -90 到 90 之间,经度在 -180 到 180 之间"
    return None


def date_problem(value: str) -> str | None:
    if len(value) == 10:
        try:
            date.fromisoformat(value)
            return None
        except ValueError:
            pass
    return "请输入有效日期,如 2024-05-01"


def datetime_problem(value: str) -> str | None:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return "请输入有效的日期和时间,如 2024-05-01 08:30"
    return None if len(value) == 19 else "请输入有效的日期和时间,如 2024-05-01 08:30"


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


def looks_like_image(data: bytes) -> bool:
    """By content, not by the name or type the browser claims."""
    return (data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
            or data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"))
