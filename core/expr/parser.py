"""Recursive-descent parser: tokens → syntax tree, with the precedence of docs/expressions.md.

    or  <  and  <  not  <  comparisons (== != < <= > >= in, not in; not chainable)
        <  + -  <  * / %  <  unary -  <  literals, ${variables}, calls, (…), […]
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping

from .errors import ExprError
from .nodes import ADDITIVE, COMPARISONS, MULTIPLICATIVE, Binary, Call, ListNode, Literal, Logical, Node, Unary, Var
from .tokens import (COMMA, DOT, EOF, LBRACK, LPAREN, NAME, NUM, OP, RBRACK, RPAREN, STR, VAR, Token,
                     tokenize)

#: Bounds that keep every recursive pass (parser, compilers, evaluation) far from Python's stack limit.
MAX_NESTING = 40
MAX_DEPTH = 120

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_CONSTANTS = {"true": True, "false": False, "null": None}
_HINTS = {
    "true": "true", "false": "false", "null": "null", "none": "null", "nil": "null",
    "and": "and", "or": "or", "not": "not", "in": "in",
}

def parse(source: str, arities: Mapping[str, tuple[int, int | None]]) -> Node:
    return _Parser(source, arities).parse()

class _Parser:
    def __init__(self, source: str, arities: Mapping[str, tuple[int, int | None]]) -> None:
        self.source = source
        self.arities = arities
        self.tokens = tokenize(source)
        self.pos = 0
        self.nesting = 0

    # -- helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        t = self.tokens[self.pos]
        self.pos += 1
        return t

    def error(self, zh: str, en: str, column: int) -> ExprError:
        return ExprError(zh, en, column, self.source)

    def is_word(self, word: str, offset: int = 0) -> bool:
        t = self.tokens[min(self.pos + offset, len(self.tokens) - 1)]
        return t.kind == NAME and t.value == word

    def expect(self, kind: str, zh: str, en: str) -> Token:
        if self.tok.kind != kind:
            raise self.unexpected(zh, en)
        return self.advance()

    def unexpected(self, zh_wanted: str = "", en_wanted: str = "") -> ExprError:
        t = self.tok
        if t.kind == NAME and t.value.lower() in KEYWORDS and t.value not in KEYWORDS:
            return self.error(f"「{t.value}」请写成小写的 {t.value.lower()}", f"write {t.value.lower()!r} in lower case",
                              t.column)
        if t.kind == EOF:
            zh, en = "表达式不完整", "incomplete expression"
        else:
            shown = t.value if t.kind != STR else repr(t.value)
            if t.kind == VAR:
                shown = "${" + t.value + "}"
            zh, en = f"这里不应出现「{shown}」", f"unexpected {shown!r}"
        if zh_wanted:
            zh, en = f"{zh},{zh_wanted}", f"{en}; {en_wanted}"
        return self.error(zh, en, t.column)

    def check_depth(self, node: Node) -> Node:
        if node.depth > MAX_DEPTH:
            raise self.error(f"表达式太复杂(超过 {MAX_DEPTH} 层),请拆分",
                             f"expression too deeply nested (over {MAX_DEPTH} levels)", node.column)
        return node

    def enter(self, column: int) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"括号或嵌套太深(超过 {MAX_NESTING} 层)",
                             f"nesting deeper than {MAX_NESTING} levels", column)

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.tok.kind == EOF:
            raise self.error("表达式为空", "empty expression", 1)
        node = self.expression()
        if self.tok.kind != EOF:
            if self.tok.kind == RPAREN:
                raise self.error("多余的右括号「)」", "unmatched ')'", self.tok.column)
            raise self.unexpected("前面是否漏了 and / or 或运算符?", "is an operator missing before it?")
        return node

    def expression(self) -> Node:
        return self.logical("or", self.conjunction)

    def conjunction(self) -> Node:
        return self.logical("and", self.negation)

    def logical(self, word: str, operand) -> Node:
        first = operand()
        if not self.is_word(word):
            return first
        column, operands = self.tok.column, [first]
        while self.is_word(word):
            self.advance()
            operands.append(operand())
        return self.check_depth(Logical(word, tuple(operands), column=column))

    def negation(self) -> Node:
        if self.is_word("not") and not self.is_word("in", 1):
            column = self.advance().column
            self.enter(column)
            operand = self.negation()
            self.nesting -= 1
            return self.check_depth(Unary("not", operand, column=column))
        return self.comparison()

    def comparison_op(self) -> tuple[str, int] | None:
        t = self.tok
        if t.kind == OP and t.value in COMPARISONS:
            return t.value, t.column
        if self.is_word("in"):
            return "in", t.column
        if self.is_word("not") and self.is_word("in", 1):
            return "not in", t.column
        return None

    def comparison(self) -> Node:
        left = self.additive()
        found = self.comparison_op()
        if found is None:
            return left
        op, column = found
        self.advance()
        if op == "not in":
            self.advance()
        right = self.additive()
        if self.comparison_op() is not None:
            raise self.error("比较不能连写,请用 and 连接,例如 ${a} < ${b} and ${b} < ${c}",
                             "comparisons cannot be chained; join them with and", self.tok.column)
        return self.check_depth(Binary(op, left, right, column=column))

    def additive(self) -> Node:
        return self.binary(ADDITIVE, self.multiplicative)

    def multiplicative(self) -> Node:
        return self.binary(MULTIPLICATIVE, self.unary)

    def binary(self, ops: frozenset[str], operand) -> Node:
        left = operand()
        while self.tok.kind == OP and self.tok.value in ops:
            t = self.advance()
            left = self.check_depth(Binary(t.value, left, operand(), column=t.column))
        return left

    def unary(self) -> Node:
        if self.tok.kind == OP and self.tok.value == "-":
            column = self.advance().column
            if self.tok.kind == NUM:
                # Folded here so that "-5" is one literal in the tree (and prints back as "-5").
                return Literal(-self.advance().value, column=column)
            self.enter(column)
            operand = self.unary()
            self.nesting -= 1
            return self.check_depth(Unary("-", operand, column=column))
        if self.tok.kind == OP and self.tok.value == "+":
            raise self.error("不支持正号「+」", "unary + is not supported", self.tok.column)
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        if t.kind in (NUM, STR):
            self.advance()
            return Literal(t.value, column=t.column)
        if t.kind == VAR:
            self.advance()
            return Var(t.value, column=t.column)
        if t.kind == DOT:
            self.advance()
            return Var(".", column=t.column)
        if t.kind == LPAREN:
            self.advance()
            self.enter(t.column)
            node = self.expression()
            self.nesting -= 1
            if self.tok.kind != RPAREN:
                raise self.error("缺少右括号「)」", "missing ')'", self.tok.column) if self.tok.kind == EOF \
                    else self.unexpected("这里应为「)」", "expected ')'")
            self.advance()
            return node
        if t.kind == LBRACK:
            self.advance()
            self.enter(t.column)
            items = self.arguments(RBRACK, "]")
            self.nesting -= 1
            return self.check_depth(ListNode(items, column=t.column))
        if t.kind == NAME:
            return self.name()
        if t.kind == OP and t.value in COMPARISONS | ADDITIVE | MULTIPLICATIVE:
            raise self.error(f"运算符「{t.value}」前面缺少内容", f"operator {t.value!r} is missing its left side",
                             t.column)
        raise self.unexpected()

    def name(self) -> Node:
        t = self.advance()
        word: str = t.value
        if word in _CONSTANTS:
            return Literal(_CONSTANTS[word], column=t.column)
        if word in KEYWORDS:
            self.pos -= 1
            raise self.unexpected()
        if self.tok.kind != LPAREN:
            hint = _HINTS.get(word.lower())
            if hint:
                raise self.error(f"「{word}」请写成小写的 {hint}", f"write {hint!r} in lower case", t.column)
            if word in self.arities:
                raise self.error(f"函数 {word} 后面要有括号,例如 {word}(...)",
                                 f"function {word} must be called with parentheses", t.column)
            raise self.error(f"未知的名称「{word}」:变量要写成 ${{{word}}},文字要加引号 '{word}'",
                             f"unknown name {word!r}: write a variable as ${{{word}}} or text in quotes",
                             t.column)
        if word not in self.arities:
            close = difflib.get_close_matches(word, list(self.arities), n=1)
            zh_hint = f",是否想写 {close[0]}?" if close else ""
            en_hint = f"; did you mean {close[0]}?" if close else ""
            raise self.error(f"未知的函数「{word}」{zh_hint}", f"unknown function {word!r}{en_hint}", t.column)
        open_paren = self.advance()
        self.enter(open_paren.column)
        args = self.arguments(RPAREN, ")")
        self.nesting -= 1
        low, high = self.arities[word]
        if len(args) < low or (high is not None and len(args) > high):
            want = (f"{low}" if low == high else f"{low} 到 {high}" if high is not None else f"至少 {low}")
            want_en = (f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}")
            raise self.error(f"函数 {word} 需要 {want} 个参数,这里给了 {len(args)} 个",
                             f"function {word} takes {want_en} argument(s), {len(args)} given", t.column)
        return self.check_depth(Call(word, args, column=t.column))

    def arguments(self, closing: str, closing_text: str) -> tuple[Node, ...]:
        items: list[Node] = []
        if self.tok.kind == closing:
            self.advance()
            return ()
        while True:
            items.append(self.expression())
            if self.tok.kind == COMMA:
                self.advance()
                continue
            if self.tok.kind == closing:
                self.advance()
                return tuple(items)
            if self.tok.kind == EOF:
                raise self.error(f"缺少「{closing_text}」", f"missing {closing_text!r}", self.tok.column)
            raise self.unexpected(f"这里应为「,」或「{closing_text}」", f"expected ',' or {closing_text!r}")
