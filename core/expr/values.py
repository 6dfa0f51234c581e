"""Python semantics of values and operators; core/expr/runtime.js is the JavaScript twin of this module.

Values are JSON-like: None (null), bool, int, float, str, list (or tuple) and mappings. The rules are
total (no operator raises) and chosen so that JavaScript can reproduce them bit for bit:

* numbers are int or float; bool is never a number (``true == 1`` is false);
* an integer result beyond ±2**53 becomes a float and a non-finite result becomes null, because
  JavaScript has only doubles;
* arithmetic on anything but two numbers, division or remainder by zero → null;
* ``==`` is deep and type-strict; ordering compares two numbers or two strings (by code point),
  anything else is false.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .tokens import SAFE_INT

NoneType = type(None)
NUMBER_TYPES = frozenset({int, float})
SEQUENCE_TYPES = (list, tuple)
#: Types read from the environment as they are; anything else goes through normalise().
PLAIN_TYPES = frozenset({NoneType, bool, int, float, str, list, tuple, dict})


def normalise(x: Any) -> Any:
    """Bring a host value into the value domain (dates become ISO strings, Decimals numbers …)."""
    if isinstance(x, datetime):
        return x.replace(tzinfo=None, microsecond=0).isoformat()
    if isinstance(x, date):
        return x.isoformat()
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, str):
        return str.__str__(x)
    if isinstance(x, int):
        return number_result(int(x))
    if isinstance(x, (float, Decimal)):
        return number_result(float(x))
    if isinstance(x, Mapping):
        return x
    if isinstance(x, (list, tuple, set, frozenset)):
        return list(x)
    return x


def number_result(x: int | float) -> int | float | None:
    if type(x) is int:
        if -SAFE_INT <= x <= SAFE_INT:
            return x
        try:
            return float(x)
        except OverflowError:
            return None
    return x if math.isfinite(x) else None


def is_number(x: Any) -> bool:
    return x.__class__ in NUMBER_TYPES


def truthy(x: Any) -> bool:
    if x is None or x is False:
        return False
    if x is True:
        return True
    cls = x.__class__
    if cls is int:
        return x != 0
    if cls is float:
        return x != 0 and x == x
    if cls is str or cls is list or cls is tuple or isinstance(x, Mapping):
        return len(x) > 0
    return True


def eq(a: Any, b: Any) -> bool:
    ca, cb = a.__class__, b.__class__
    if ca is str or cb is str:
        return ca is cb and a == b
    if a is None or b is None:
        return a is b
    if ca is bool or cb is bool:
        return ca is cb and a == b
    if ca in NUMBER_TYPES:
        return cb in NUMBER_TYPES and a == b
    if ca in SEQUENCE_TYPES:
        return cb in SEQUENCE_TYPES and len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping):
        return (isinstance(b, Mapping) and len(a) == len(b)
                and all(k in b and eq(v, b[k]) for k, v in a.items()))
    if cb in NUMBER_TYPES or cb in SEQUENCE_TYPES or isinstance(b, Mapping):
        return False
    return a == b


def _ordered(a: Any, b: Any) -> bool:
    ca, cb = a.__class__, b.__class__
    return (ca in NUMBER_TYPES and cb in NUMBER_TYPES) or (ca is str and cb is str)


def lt(a: Any, b: Any) -> bool:
    return _ordered(a, b) and a < b


def le(a: Any, b: Any) -> bool:
    return _ordered(a, b) and a <= b


def gt(a: Any, b: Any) -> bool:
    return _ordered(a, b) and a > b


def ge(a: Any, b: Any) -> bool:
    return _ordered(a, b) and a >= b


def member(x: Any, container: Any) -> bool:
    """``x in container``: element of a list, or substring of a string."""
    cls = container.__class__
    if cls is str:
        return x.__class__ is str and x in container
    if cls in SEQUENCE_TYPES:
        return any(eq(x, item) for item in container)
    return False


def add(a: Any, b: Any) -> Any:
    if a.__class__ in NUMBER_TYPES and b.__class__ in NUMBER_TYPES:
        return number_result(a + b)
    return None


def sub(a: Any, b: Any) -> Any:
    if a.__class__ in NUMBER_TYPES and b.__class__ in NUMBER_TYPES:
        return number_result(a - b)
    return None


def mul(a: Any, b: Any) -> Any:
    if a.__class__ in NUMBER_TYPES and b.__class__ in NUMBER_TYPES:
        try:
            return number_result(a * b)
        except OverflowError:
            return None
    return None


def div(a: Any, b: Any) -> Any:
    if a.__class__ in NUMBER_TYPES and b.__class__ in NUMBER_TYPES and b != 0:
        try:
            return number_result(a / b)
        except OverflowError:
            return None
    return None


def mod(a: Any, b: Any) -> Any:
    """Floored remainder (sign of the divisor, like Python): ``-7 % 3 == 2``."""
    if a.__class__ in NUMBER_TYPES and b.__class__ in NUMBER_TYPES and b != 0:
        try:
            return number_result(a % b)
        except OverflowError:
            return None
    return None


def neg(a: Any) -> Any:
    return -a if a.__class__ in NUMBER_TYPES else None


# -- conversions -----------------------------------------------------------------------------------
_NUMBER_TEXT = re.compile(r"[ \t\n\r]*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[ \t\n\r]*")


def parse_number(text: str) -> int | float | None:
    m = _NUMBER_TEXT.fullmatch(text)
    if m is None:
        return None
    core = m.group(1)
    if "." in core or "e" in core or "E" in core:
        return number_result(float(core))
    try:
        return number_result(int(core))
    except ValueError:  # beyond Python's int-from-text digit limit; as JavaScript, it is infinite
        return None


def shortest_digits(x: int | float) -> tuple[str, int]:
    """(digits, point) with abs(x) == 0.digits × 10**point and no trailing zeros; digits of 0 is "0".

    Python's repr and JavaScript's Number#toString both give the shortest round-tripping digits, so
    formatting and rounding built on this agree between the two.
    """
    if x == 0:
        return "0", 1
    text = str(abs(x)) if type(x) is int else repr(abs(x))
    _, digit_tuple, exponent = Decimal(text).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    stripped = len(digit_tuple) - len(digits) if digits else 0
    return digits, len(digits) + exponent + stripped


def number_text(x: int | float) -> str:
    """The number as JavaScript's String(x) writes it (``3.0`` → ``"3"``, ``1e21`` → ``"1e+21"``)."""
    if type(x) is int:
        return str(x)
    if x == 0:
        return "0"
    digits, n = shortest_digits(x)
    k = len(digits)
    sign = "-" if x < 0 else ""
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def to_text(x: Any) -> str:
    if x is None:
        return ""
    if x is True:
        return "true"
    if x is False:
        return "false"
    cls = x.__class__
    if cls is str:
        return x
    if cls in NUMBER_TYPES:
        return number_text(x)
    if cls in SEQUENCE_TYPES:
        return " ".join(to_text(item) for item in x)
    return ""


def round_half_away(x: int | float, places: int) -> int | float | None:
    """Round to ``places`` decimals, halves away from zero (2.5 → 3, -2.5 → -3), on the shortest
    decimal digits of x — so round(2.675, 2) is 2.68 as written, not 2.67 as binary floats would say."""
    places = max(-400, min(400, places))
    digits, point = shortest_digits(x)
    keep = point + places
    if keep >= len(digits):
        return x if places > 0 or type(x) is int else number_result(int(x))
    if keep < 0:
        kept = 0
    else:
        kept = int(digits[:keep] or "0") + (digits[keep] >= "5")
    negative = x < 0
    if places <= 0:
        value: int | float | None = number_result(kept * 10 ** (-places))
        return -value if negative and value is not None else value
    result = float(f"{kept}e-{places}")
    return (-result if negative else result) + 0.0


# -- dates -------------------------------------------------------------------------------------------
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def parse_date(x: Any) -> date | None:
    """The calendar date at the start of an ISO date or date-time string, else None."""
    if x.__class__ is not str or len(x) < 10 or (len(x) > 10 and x[10] not in "T "):
        return None
    m = _ISO_DATE.fullmatch(x[:10])
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
