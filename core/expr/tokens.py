"""Tokenizer: source text → tokens with 1-based columns.

Hand-written rather than lark: the grammar is a dozen rules, and a hand-written scanner lets every
mistake county staff actually make (Chinese punctuation, ``&&``, ``True``, ``${ name }``) get its own
Chinese message at the exact column, which a generated lexer would report as an anonymous
"unexpected character".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ExprError

NUM, STR, VAR, DOT, NAME, OP, LPAREN, RPAREN, LBRACK, RBRACK, COMMA, EOF = (
    "number", "string", "variable", "dot", "name", "operator", "(", ")", "[", "]", ",", "end")

#: Integers beyond this magnitude are stored as floats so Python and JavaScript agree exactly.
SAFE_INT = 2**53

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
_DIGITS = "0123456789"

# Characters a Chinese input method produces where ASCII is meant.
_FULLWIDTH = {
    "（": "(", "）": ")", "【": "[", "】": "]", "［": "[", "］": "]", "，": ",", "‘": "'", "’": "'",
    "“": '"', "”": '"', "＝": "=", "＜": "<", "＞": ">", "！": "!", "＋": "+", "－": "-", "＊": "*",
    "／": "/", "％": "%", "＄": "$", "｛": "{", "｝": "}", "。": ".", "．": ".", "、": ",", "；": ";",
    **{chr(0xFF10 + d): str(d) for d in range(10)},
}


@dataclass(frozen=True)
class Token:
    kind: str
    value: Any
    column: int


def is_name_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch in _DIGITS


def _err(zh: str, en: str, column: int, source: str) -> ExprError:
    return ExprError(zh, en, column, source)


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        col = i + 1
        if ch.isspace():
            i += 1
        elif ch in _DIGITS:
            i = _number(source, i, tokens)
        elif ch in "'\"":
            i = _string(source, i, tokens)
        elif ch == "$":
            i = _variable(source, i, tokens)
        elif ch == ".":
            if i + 1 < n and source[i + 1] in _DIGITS:
                raise _err("小数前面要写 0,例如 0.5", "write a leading zero, e.g. 0.5", col, source)
            tokens.append(Token(DOT, ".", col))
            i += 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and is_name_char(source[j]):
                j += 1
            if j < n and source[j] == "-" and j + 1 < n and source[j + 1].isalpha():
                k = j + 1
                while k < n and (is_name_char(source[k]) or source[k] == "-"):
                    k += 1
                if k < n and source[k] == "(":
                    dashed = source[i:k]
                    raise _err(f"函数名要用下划线:请写成 {dashed.replace('-', '_')}",
                               f"function names use underscores: write {dashed.replace('-', '_')}", col, source)
            tokens.append(Token(NAME, source[i:j], col))
            i = j
        elif ch in "()[],":
            tokens.append(Token({"(": LPAREN, ")": RPAREN, "[": LBRACK, "]": RBRACK, ",": COMMA}[ch], ch, col))
            i += 1
        else:
            i = _operator(source, i, tokens)
    tokens.append(Token(EOF, None, n + 1))
    return tokens


def _operator(source: str, i: int, tokens: list[Token]) -> int:
    ch, col = source[i], i + 1
    two = source[i:i + 2]
    if two in ("==", "!=", "<=", ">="):
        tokens.append(Token(OP, two, col))
        return i + 2
    if two == "<>":
        raise _err("「不等于」请写成 !=", "write != for 'not equal'", col, source)
    if two == "&&":
        raise _err("「并且」请写成 and", "write and instead of &&", col, source)
    if two == "||":
        raise _err("「或者」请写成 or", "write or instead of ||", col, source)
    if ch == "=":
        # A lone = is accepted as ==: Excel and XLSForm users write it, and there is no assignment to confuse it with.
        tokens.append(Token(OP, "==", col))
        return i + 1
    if ch == "!":
        raise _err("「非」请写成 not", "write not instead of !", col, source)
    if ch in "+-*/%<>":
        tokens.append(Token(OP, ch, col))
        return i + 1
    if ch in _FULLWIDTH:
        raise _err(f"这里用了中文标点「{ch}」,请改为英文「{_FULLWIDTH[ch]}」",
                   f"full-width character {ch!r}: use {_FULLWIDTH[ch]!r}", col, source)
    raise _err(f"无法识别的字符「{ch}」", f"unexpected character {ch!r}", col, source)


def _number(source: str, i: int, tokens: list[Token]) -> int:
    start, n = i, len(source)
    while i < n and source[i] in _DIGITS:
        i += 1
    is_float = False
    if i < n and source[i] == "." and i + 1 < n and source[i + 1] in _DIGITS:
        is_float = True
        i += 1
        while i < n and source[i] in _DIGITS:
            i += 1
    elif i < n and source[i] == ".":
        raise _err("小数点后面要有数字", "a decimal point must be followed by digits", i + 1, source)
    if i < n and (is_name_char(source[i]) or source[i] in "$'\""):
        raise _err("数字后面不能紧跟字母或其他内容,中间是否漏了运算符?",
                   "a number cannot be followed directly by a name; is an operator missing?", i + 1, source)
    text = source[start:i]
    value: int | float
    if is_float:
        value = float(text)
    else:
        value = int(text) if len(text) < 30 else float(text)
        if abs(value) > SAFE_INT:
            value = float(value)
    if value in (float("inf"), float("-inf")):
        raise _err("数字太大", "number too large", start + 1, source)
    tokens.append(Token(NUM, value, start + 1))
    return i


def _string(source: str, i: int, tokens: list[Token]) -> int:
    quote, start, n = source[i], i, len(source)
    out: list[str] = []
    i += 1
    while i < n:
        ch = source[i]
        if ch == quote:
            tokens.append(Token(STR, "".join(out), start + 1))
            return i + 1
        if ch == "\\" and i + 1 < n and source[i + 1] in _ESCAPES:
            out.append(_ESCAPES[source[i + 1]])
            i += 2
            continue
        # Any other backslash stays as written, so regex patterns such as '\d{11}' need no doubling.
        out.append(ch)
        i += 1
    raise _err("字符串没有结束:缺少配对的引号", "unterminated string: missing closing quote", start + 1, source)


def _variable(source: str, i: int, tokens: list[Token]) -> int:
    col, n = i + 1, len(source)
    if i + 1 >= n or source[i + 1] != "{":
        raise _err("变量要写成 ${名称}", "variables are written ${name}", col, source)
    end = source.find("}", i + 2)
    if end < 0:
        raise _err("变量没有结束:缺少「}」", "unterminated variable: missing '}'", col, source)
    name = source[i + 2:end]
    if not name:
        raise _err("变量名不能为空", "empty variable name", col, source)
    if name != name.strip():
        raise _err("变量名前后不能有空格", "no spaces inside ${...}", col, source)
    for part in name.split("."):
        if not part or not all(is_name_char(c) or c == "-" for c in part) or part[0] == "-":
            raise _err(f"变量名「{name}」不合法:只能用文字、数字、下划线,用点分隔层级",
                       f"invalid variable name {name!r}: letters, digits, _ and dots between parts", col, source)
    tokens.append(Token(VAR, name, col))
    return end + 1
