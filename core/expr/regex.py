"""The regular-expression subset both Python ``re`` and JavaScript ``RegExp`` run identically.

A pattern is parsed here and re-emitted twice — once for Python (``re.ASCII``, ``$`` as ``\\Z``) and
once for JavaScript (``u`` flag, ``.`` as ``[^\\n]``, ``\\s`` spelled out) — so the places where the
two engines differ are either translated or rejected with a message naming the construct:
lookbehind, named groups, backreferences, inline flags, possessive quantifiers, ``\\A``/``\\Z``,
``\\p{…}``, ``{,n}``, nested sets, and ambiguous unescaped ``{ } ] -``.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

MAX_REPEAT = 1000
MAX_GROUP_NESTING = 20

_PY_SPECIAL = set(".^$*+?{}[]\\|()")
_JS_SYNTAX = set("^$\\.*+?()[]{}|/")
_CLASS_SPECIAL = set("\\]^-[")
_PY_CLASS_ESCAPE = _CLASS_SPECIAL | set("&~|")  # Python warns about doubled &&, ~~, || inside sets
_JS_SPACE = "\\t\\n\\v\\f\\r "
_SIMPLE_ESCAPES = {"n": "\\n", "t": "\\t", "r": "\\r", "f": "\\f", "v": "\\v"}
_HEX = set("0123456789abcdefABCDEF")


class RegexSubsetError(Exception):
    def __init__(self, offset: int, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.offset, self.message, self.message_en = offset, message, message_en


@dataclass(frozen=True)
class Translated:
    python: re.Pattern[str]
    js: str  # full source for ``new RegExp(js, "u")``, anchored


def translate(pattern: str) -> Translated:
    py, js = _Translator(pattern).run()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            compiled = re.compile(py, re.ASCII)
        except (re.error, Warning, RecursionError, OverflowError) as exc:  # a safety net; the subset should not get here
            raise RegexSubsetError(0, f"正则表达式无法编译: {exc}", f"pattern does not compile: {exc}") from None
    return Translated(compiled, f"^(?:{js})$")


def _unsupported(offset: int, zh: str, en: str) -> RegexSubsetError:
    return RegexSubsetError(offset, f"不支持{zh}", f"{en} is not supported")


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.groups = 0

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.p[j] if j < len(self.p) else ""

    def fail(self, zh: str, en: str, offset: int | None = None) -> RegexSubsetError:
        return RegexSubsetError(self.i if offset is None else offset, zh, en)

    def run(self) -> tuple[str, str]:
        py, js = self.alternation(0)
        if self.i < len(self.p):
            raise self.fail("多余的「)」", "unmatched ')'")
        return py, js

    def alternation(self, depth: int) -> tuple[str, str]:
        py_parts, js_parts = [], []
        while True:
            py, js = self.sequence(depth)
            py_parts.append(py)
            js_parts.append(js)
            if self.peek() != "|":
                return "|".join(py_parts), "|".join(js_parts)
            self.i += 1

    def sequence(self, depth: int) -> tuple[str, str]:
        py, js = [], []
        while self.i < len(self.p) and self.peek() not in "|)":
            a, b = self.quantified(depth)
            py.append(a)
            js.append(b)
        return "".join(py), "".join(js)

    def quantified(self, depth: int) -> tuple[str, str]:
        start = self.i
        py, js, repeatable = self.atom(depth)
        quantifier = self.quantifier()
        if quantifier is None:
            return py, js
        if not repeatable:
            raise self.fail("这里不能加重复次数", "nothing (repeatable) to repeat", start)
        if self.peek() == "?":
            quantifier += "?"
            self.i += 1
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.is_quantifier_brace()):
            raise _unsupported(self.i, "连续的重复(如 a*+、a{2}{3})", "a repeated quantifier (possessive or stacked)")
        return py + quantifier, js + quantifier

    def is_quantifier_brace(self) -> bool:
        return re.match(r"\{[0-9]*(,[0-9]*)?\}", self.p[self.i:]) is not None

    def quantifier(self) -> str | None:
        ch = self.peek()
        if ch in ("*", "+", "?") and ch:
            self.i += 1
            return ch
        if ch != "{":
            return None
        m = re.match(r"\{([0-9]*)(,?)([0-9]*)\}", self.p[self.i:])
        if m is None:
            raise self.fail("「{」要写成「\\{」", "escape a literal '{' as '\\{'")
        low, comma, high = m.groups()
        if not low:
            raise _unsupported(self.i, "省略下限的 {,n}(请写 {0,n})", "{,n} without a lower bound (write {0,n})")
        if int(low) > MAX_REPEAT or (high and int(high) > MAX_REPEAT):
            raise self.fail(f"重复次数不能超过 {MAX_REPEAT}", f"repeat counts above {MAX_REPEAT}")
        if high and int(high) < int(low):
            raise self.fail("重复次数的上限小于下限", "repeat upper bound below lower bound")
        self.i += m.end()
        return m.group(0)

    def atom(self, depth: int) -> tuple[str, str, bool]:
        ch = self.peek()
        if ch == "(":
            return self.group(depth)
        if ch == "[":
            py, js = self.char_class()
            return py, js, True
        if ch == "\\":
            return self.escape()
        if ch in ("*", "+", "?"):
            raise self.fail("重复符号前面没有内容", "nothing to repeat")
        if ch == "{":
            if self.is_quantifier_brace():
                raise self.fail("重复符号前面没有内容", "nothing to repeat")
            raise self.fail("「{」要写成「\\{」", "escape a literal '{' as '\\{'")
        if ch in ("}", "]"):
            raise self.fail(f"「{ch}」要写成「\\{ch}」", f"escape a literal {ch!r} as '\\{ch}'")
        self.i += 1
        if ch == ".":
            return ".", "[^\\n]", True
        if ch == "^":
            return "^", "^", False
        if ch == "$":
            return "\\Z", "$", False
        return self.literal(ch)

    @staticmethod
    def literal(ch: str) -> tuple[str, str, bool]:
        return ("\\" + ch if ch in _PY_SPECIAL else ch), ("\\" + ch if ch in _JS_SYNTAX else ch), True

    def group(self, depth: int) -> tuple[str, str, bool]:
        start = self.i
        if depth >= MAX_GROUP_NESTING:
            raise self.fail(f"括号嵌套超过 {MAX_GROUP_NESTING} 层", f"groups nested deeper than {MAX_GROUP_NESTING}")
        self.i += 1
        head, repeatable = "(", True
        if self.peek() == "?":
            two = self.p[self.i:self.i + 3]
            if two.startswith("?:"):
                head = "(?:"
            elif two.startswith("?="):
                head, repeatable = "(?=", False
            elif two.startswith("?!"):
                head, repeatable = "(?!", False
            elif two in ("?<=", "?<!"):
                raise _unsupported(start, "向后查找 (?<= …)", "lookbehind")
            elif two.startswith("?P") or two.startswith("?<"):
                raise _unsupported(start, "命名分组", "a named group")
            elif two.startswith("?#"):
                raise _unsupported(start, "正则内注释 (?# …)", "a comment group")
            elif two.startswith("?>"):
                raise _unsupported(start, "原子分组 (?> …)", "an atomic group")
            elif two.startswith("?("):
                raise _unsupported(start, "条件分组", "a conditional group")
            else:
                raise _unsupported(start, "内联标志 (?i) 等", "inline flags")
            self.i += len(head) - 1
        py, js = self.alternation(depth + 1)
        if self.peek() != ")":
            raise self.fail("缺少「)」", "missing ')'", start)
        self.i += 1
        return head + py + ")", head + js + ")", repeatable

    def escape(self) -> tuple[str, str, bool]:
        start = self.i
        self.i += 1
        ch = self.peek()
        if not ch:
            raise self.fail("正则表达式以「\\」结尾", "pattern ends with '\\'", start)
        self.i += 1
        if ch in "dDwW":
            return "\\" + ch, "\\" + ch, True
        if ch == "s":
            return "\\s", f"[{_JS_SPACE}]", True
        if ch == "S":
            return "\\S", f"[^{_JS_SPACE}]", True
        if ch in "bB":
            return "\\" + ch, "\\" + ch, False
        code = self.code_escape(ch, start)
        if code is not None:
            return code, code, True
        return self.literal(ch)

    def code_escape(self, ch: str, start: int) -> str | None:
        """\\n \\t \\r \\f \\v \\xHH \\uHHHH (already past ch), or None for a literal punctuation escape."""
        if ch in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[ch]
        if ch in ("x", "u"):
            width = 2 if ch == "x" else 4
            hexa = self.p[self.i:self.i + width]
            if len(hexa) != width or not set(hexa) <= _HEX:
                raise self.fail(f"\\{ch} 后面要有 {width} 位十六进制数", f"\\{ch} needs {width} hex digits", start)
            if 0xD800 <= int(hexa, 16) <= 0xDFFF:
                raise _unsupported(start, "代理码位 \\uD800–\\uDFFF", "a surrogate code point")
            self.i += width
            return f"\\{ch}{hexa}"
        if ch.isdigit():
            raise _unsupported(start, f"反向引用或八进制 \\{ch}", f"backreference or octal escape \\{ch}")
        if ch.isascii() and ch.isalpha():
            names = {"A": "\\A", "Z": "\\Z", "z": "\\z", "p": "\\p{…}", "P": "\\P{…}", "k": "\\k<…>",
                     "c": "\\c", "a": "\\a", "N": "\\N{…}", "G": "\\G"}
            shown = names.get(ch, "\\" + ch)
            raise _unsupported(start, f" {shown}", shown)
        return None

    def char_class(self) -> tuple[str, str]:
        start = self.i
        self.i += 1
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        if self.peek() == "]":
            raise self.fail("空的字符类「[]」;字面的「]」要写成「\\]」", "empty set '[]'; escape a literal ']' as '\\]'")
        py, js = ["[^" if negate else "["], ["[^" if negate else "["]
        first = True
        while True:
            ch = self.peek()
            if not ch:
                raise self.fail("字符类缺少「]」", "unterminated set: missing ']'", start)
            if ch == "]":
                self.i += 1
                py.append("]")
                js.append("]")
                return "".join(py), "".join(js)
            if ch == "-" and not first and self.peek(1) != "]":
                raise self.fail("字符类中间的「-」要写成「\\-」", "escape a literal '-' inside a set as '\\-'")
            a_py, a_js, a_char = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                range_at = self.i
                self.i += 1
                b_py, b_js, b_char = self.class_atom()
                if a_char is None or b_char is None:
                    raise self.fail("字符类的范围两端必须是单个字符", "a range must be between single characters", range_at)
                if ord(a_char) > ord(b_char):
                    raise self.fail("字符范围的起点大于终点", "range start is after range end", range_at)
                py.append(f"{a_py}-{b_py}")
                js.append(f"{a_js}-{b_js}")
            else:
                py.append(a_py)
                js.append(a_js)
            first = False

    def class_atom(self) -> tuple[str, str, str | None]:
        """One member of a set → (python, js, the single character it stands for or None)."""
        ch = self.peek()
        start = self.i
        if ch == "[":
            raise self.fail("字符类中的「[」要写成「\\[」", "escape '[' inside a set as '\\['")
        if ch != "\\":
            self.i += 1
            return self.class_literal(ch)
        self.i += 1
        e = self.peek()
        if not e:
            raise self.fail("正则表达式以「\\」结尾", "pattern ends with '\\'", start)
        self.i += 1
        if e in "dDwW":
            return "\\" + e, "\\" + e, None
        if e == "s":
            return "\\s", _JS_SPACE, None
        if e == "S":
            raise _unsupported(start, "字符类中的 \\S", "\\S inside a set")
        if e in "bB":
            raise _unsupported(start, "字符类中的 \\b", "\\b inside a set")
        code = self.code_escape(e, start)
        if code is not None:
            if e in _SIMPLE_ESCAPES:
                char = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}[e]
            else:
                char = chr(int(code[2:], 16))
            return code, code, char
        return self.class_literal(e)

    @staticmethod
    def class_literal(ch: str) -> tuple[str, str, str]:
        return ("\\" + ch if ch in _PY_CLASS_ESCAPE else ch), ("\\" + ch if ch in _CLASS_SPECIAL else ch), ch
