"""XLSForm's XPath subset → this language, for importing XLSForm ``relevant``/``constraint``/
``calculation``/``required`` columns.

    from_xpath("${age} >= 18 and selected(${help}, 'food')")
    → "${age} >= 18 and selected(${help}, 'food')"
    from_xpath("string-length(.) = 11 and not(${x} div 2 > 3)")
    → "string_length(.) == 11 and not ${x} / 2 > 3"

Anything outside the subset (paths, predicates, axes, unions, other functions) raises ExprError naming
the construct at its column; the caller adds sheet and row.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ExprError
from .functions import DEFAULT_FUNCTIONS
from .nodes import Binary, Call, Literal, Logical, Node, Unary, Var
from .printer import unparse

#: XLSForm function → function of this language (``not``, ``true``, ``false`` are handled apart).
FUNCTION_MAP = {
    "selected": "selected", "count-selected": "count_selected", "string-length": "string_length",
    "regex": "regex", "today": "today", "now": "now", "if": "if", "count": "count", "concat": "concat",
    "contains": "contains", "starts-with": "starts_with", "ends-with": "ends_with", "sum": "sum",
    "int": "int", "number": "number", "round": "round", "coalesce": "coalesce", "abs": "abs",
    "min": "min", "max": "max", "date": "date",
}
_OPERATOR_WORDS = {"and", "or", "div", "mod"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # num str var dot name op ( ) , end
    value: object
    column: int


def _fail(construct: str, construct_en: str, column: int, source: str) -> ExprError:
    return ExprError(f"不支持 XLSForm 的{construct}", f"XLSForm {construct_en} is not supported", column, source)


def _tokenize(src: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(src)

    def operand_before() -> bool:
        return bool(out) and (out[-1].kind in ("num", "str", "var", "dot", ")"))

    while i < n:
        ch, col = src[i], i + 1
        if ch.isspace():
            i += 1
            continue
        if ch == "$":
            if src.startswith("${", i) and "}" in src[i:]:
                end = src.index("}", i)
                out.append(_Tok("var", src[i + 2:end], col))
                i = end + 1
                continue
            raise _fail("XPath 变量 $name", "XPath variable $name", col, src)
        if ch in "'\"":
            end = src.find(ch, i + 1)
            if end < 0:
                raise ExprError("字符串没有结束:缺少配对的引号", "unterminated string", col, src)
            out.append(_Tok("str", src[i + 1:end], col))
            i = end + 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and src[i + 1].isdigit()):
            j = i
            while j < n and (src[j].isdigit() or src[j] == "."):
                j += 1
            text = src[i:j]
            if text.count(".") > 1 or not text.isascii():
                raise ExprError(f"数字「{text}」写法错误", f"malformed number {text!r}", col, src)
            out.append(_Tok("num", float(text) if "." in text else int(text), col))
            i = j
            continue
        if ch == ".":
            if src.startswith("..", i):
                raise _fail("上级路径 ..", "parent path '..'", col, src)
            out.append(_Tok("dot", ".", col))
            i += 1
            continue
        if ch.isalpha() or ch == "_":
            j = i
            while j < n and (src[j].isalnum() or src[j] in "_-.:"):
                j += 1
            word = src[i:j]
            if word in _OPERATOR_WORDS and operand_before():
                out.append(_Tok("op", word, col))
            else:
                out.append(_Tok("name", word, col))
            i = j
            continue
        two = src[i:i + 2]
        if two in ("!=", "<=", ">="):
            out.append(_Tok("op", two, col))
            i += 2
            continue
        if ch == "*" and not operand_before():
            raise _fail("通配符 *", "wildcard '*'", col, src)
        if ch in "=<>+-*":
            out.append(_Tok("op", ch, col))
            i += 1
            continue
        if ch in "(),":
            out.append(_Tok(ch, ch, col))
            i += 1
            continue
        named = {"/": ("路径 /", "path '/'"), "[": ("谓词 [...]", "predicate '[...]'"),
                 "]": ("谓词 [...]", "predicate '[...]'"), "|": ("并集 |", "union '|'"),
                 "@": ("属性 @", "attribute '@'")}
        if ch in named:
            raise _fail(*named[ch], col, src)
        raise ExprError(f"无法识别的字符「{ch}」", f"unexpected character {ch!r}", col, src)
    out.append(_Tok("end", None, n + 1))
    return out


# XPath 1.0 precedence, loosest first; equality and relational both become this language's comparisons.
_LEVELS = [{"or"}, {"and"}, {"=", "!="}, {"<", "<=", ">", ">="}, {"+", "-"}, {"*", "div", "mod"}]
_OP_MAP = {"=": "==", "div": "/", "mod": "%"}


class _XPathParser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = _tokenize(src)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.pos]

    def error(self, zh: str, en: str, column: int | None = None) -> ExprError:
        return ExprError(zh, en, self.tok.column if column is None else column, self.src)

    def parse(self) -> Node:
        node = self.level(0)
        if self.tok.kind != "end":
            raise self.error(f"这里不应出现「{self.tok.value}」", f"unexpected {self.tok.value!r}")
        return node

    def level(self, k: int) -> Node:
        if k == len(_LEVELS):
            return self.unary()
        left = self.level(k + 1)
        while self.tok.kind == "op" and self.tok.value in _LEVELS[k]:
            t = self.tok
            self.pos += 1
            right = self.level(k + 1)
            op = str(t.value)
            if op in ("and", "or"):
                operands = left.operands if isinstance(left, Logical) and left.op == op else (left,)
                left = Logical(op, (*operands, right), column=t.column)
            else:
                left = Binary(_OP_MAP.get(op, op), left, right, column=t.column)
        return left

    def unary(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.value == "-":
            self.pos += 1
            self.enter(t.column)
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Literal) and operand.value.__class__ in (int, float):
                return Literal(-operand.value, column=t.column)  # type: ignore[operator]
            return Unary("-", operand, column=t.column)
        return self.primary()

    def enter(self, column: int) -> None:
        self.depth += 1
        if self.depth > 40:
            raise self.error("嵌套太深", "nested too deeply", column)

    def primary(self) -> Node:
        t = self.tok
        self.pos += 1
        if t.kind == "num":
            return Literal(t.value, column=t.column)  # type: ignore[arg-type]
        if t.kind == "str":
            return Literal(t.value, column=t.column)  # type: ignore[arg-type]
        if t.kind == "var":
            return Var(str(t.value), column=t.column)
        if t.kind == "dot":
            return Var(".", column=t.column)
        if t.kind == "(":
            self.enter(t.column)
            node = self.level(0)
            self.depth -= 1
            self.expect(")")
            return node
        if t.kind == "name":
            if self.tok.kind != "(":
                raise _fail(f"路径表达式「{t.value}」(请用 ${{名称}} 引用字段)", f"path expression {t.value!r}",
                            t.column, self.src)
            return self.call(str(t.value), t.column)
        self.pos -= 1
        if t.kind == "end":
            raise self.error("表达式不完整", "incomplete expression")
        raise self.error(f"这里不应出现「{t.value}」", f"unexpected {t.value!r}")

    def expect(self, kind: str) -> None:
        if self.tok.kind != kind:
            raise self.error(f"这里应为「{kind}」", f"expected {kind!r}")
        self.pos += 1

    def call(self, name: str, column: int) -> Node:
        self.pos += 1  # "("
        self.enter(column)
        args: list[Node] = []
        if self.tok.kind != ")":
            while True:
                args.append(self.level(0))
                if self.tok.kind != ",":
                    break
                self.pos += 1
        self.expect(")")
        self.depth -= 1
        if name in ("true", "false") and not args:
            return Literal(name == "true", column=column)
        if name == "not" and len(args) == 1:
            return Unary("not", args[0], column=column)
        target = FUNCTION_MAP.get(name)
        if target is None:
            raise _fail(f"函数 {name}()", f"function {name}()", column, self.src)
        fn = DEFAULT_FUNCTIONS[target]
        if len(args) < fn.min_args or (fn.max_args is not None and len(args) > fn.max_args):
            raise ExprError(f"函数 {name} 的参数个数不对", f"wrong number of arguments for {name}()", column, self.src)
        call = Call(target, tuple(args), column=column)
        if fn.check is not None:
            fn.check(call.args, self.src)
        return call


def from_xpath(src: str) -> str:
    """Translate an XLSForm expression; raises :class:`ExprError` naming any unsupported construct."""
    return unparse(_XPathParser(src).parse())
