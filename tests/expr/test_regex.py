"""The regex subset: translated patterns match the same strings in Python and JavaScript."""
from __future__ import annotations

import pytest

from wangge.core.expr import ExprError, compile_expression

PATTERNS = [
    r"1[3-9]\d{9}", r"^1[3-9]\d{9}$", r"\d{17}[\dXx]", r"[一-龥]{2,4}", r".", r"a.c", r"\s+", r"\S+", r"\w+",
    r"\W", r"[^a]", r"[^\s]+", r"[\s,]+", r"(?:ab)+", r"(a|b)*c", r"a{2,}", r"a{1,3}?", r"(?=a)\w+", r"(?!b)\w",
    r"\bword\b", r"a\.b", r"a\-b", r"[a\-z]", r"[-a]", r"[a-]", r"\x41", r"\u4e00", r"[\u4e00-\u9fa5]+",
    r"a\/b", r"a/b", r"(|a)b", r"", r"a$", r"^$", r"[\]\[]", r"\t", r"[&&]", r"\{\}", r"\\d", r"a\sb",
    r"[.]", r"^(0|[1-9][0-9]*)$", r"[😀-😂]",
]
INPUTS = ["", "a", "ab", "abc", "aac", "13812345678", "1381234567", "1\n", "a\n", "张三", "张三丰之", "😀", "😁x",
          "a b", "a\u00a0b", "a\u2028b", "a\u3000b", "٣٤", "37010219900101123X", "a.b", "a-b", "A", "一",
          "[]", "&", "{}", "\\d", "\t", "word", "a/b", "b", "aaa", "0", "012", "\ufeff", "a\rc", "a\u2029c"]


def test_patterns_agree_with_javascript(parity):
    cases = [(compile_expression(f"regex(${{s}}, {pattern!r})"), {"s": s}, None, None)
             for pattern in PATTERNS for s in INPUTS]
    parity(cases)


@pytest.mark.parametrize("pattern, text, expected", [
    (r"1[3-9]\d{9}", "13812345678", True), (r"1[3-9]\d{9}", "138123456789", False),
    (r"a$", "a\n", False), (r".", "\n", False), (r"\d", "٣", False), (r"\s", "\u3000", False),
    (r"\w", "张", False), (r"[一-龥]+", "网格", True), (r"(?:a|b)+", "abba", True), (r"", "", True),
])
def test_python_matches(pattern, text, expected):
    assert compile_expression(f"regex(${{s}}, {pattern!r})").test({"s": text}) is expected


@pytest.mark.parametrize("pattern", [
    "(?<=a)b", "(?<!a)b", "(?P<n>a)", "(?<n>a)", "(?P=n)", r"(a)\1", r"\0", "(?i)a", "(?#c)", "(?>a)",
    "(?(1)a|b)", "a{,2}", "a**", "a++", "a?+", "a{2}{3}", "*a", "{2}", "a{", "a}", "]", "[]", "[a", "[[a]]",
    "[a-b-c]", "[z-a]", r"[\d-z]", r"\A", r"\Z", r"\z", r"\p{L}", r"\k<a>", r"\cA", r"\uD800", r"\x4", "\\",
    "(a", "a)", "^*", "$+", r"\b+", "(?=a)*", r"[\S]", r"[\b]", "a{1001}", "a{3,2}", "(" * 25 + ")" * 25,
])
def test_rejected(pattern):
    with pytest.raises(ExprError) as info:
        compile_expression(f"regex(., {pattern!r})")
    assert info.value.column == 10
