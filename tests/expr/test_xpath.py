"""XLSForm XPath → expression language."""
from __future__ import annotations

import pytest

from wangge.core.expr import ExprError, compile_expression
from wangge.core.expr.xpath import from_xpath

TRANSLATIONS = [
    (".", "."),
    (". > 5", ". > 5"),
    ("${age} >= 18", "${age} >= 18"),
    ("${a} = 'yes'", "${a} == 'yes'"),
    ("${a}!=${b}", "${a} != ${b}"),
    ("${a} < 1 and ${b} <= 2 or ${c} > 3", "${a} < 1 and ${b} <= 2 or ${c} > 3"),
    ("${a} and (${b} or ${c})", "${a} and (${b} or ${c})"),
    ("${a} and ${b} and ${c}", "${a} and ${b} and ${c}"),
    ("not(${a} = 'x')", "not (${a} == 'x')"),
    ("not(${flag})", "not ${flag}"),
    ("selected(${help}, 'food')", "selected(${help}, 'food')"),
    ("count-selected(${help}) >= 2", "count_selected(${help}) >= 2"),
    ("string-length(.) = 11", "string_length(.) == 11"),
    ("regex(., '^1[3-9]\\d{9}$')", "regex(., '^1[3-9]\\d{9}$')"),
    ("today()", "today()"),
    ("if(${a} > 1, 'big', 'small')", "if(${a} > 1, 'big', 'small')"),
    ("count(${members}) > 0", "count(${members}) > 0"),
    ("${a} div 2 + ${b} mod 3 * 4", "${a} / 2 + ${b} % 3 * 4"),
    ("${a} - -1", "${a} - -1"),
    ("-(${a})", "-${a}"),
    ("2 * (${a} + 1)", "2 * (${a} + 1)"),
    ("${a} - (${b} - ${c})", "${a} - (${b} - ${c})"),
    ("\"it's\"", "'it\\'s'"),
    ("1.5 + .5", "1.5 + 0.5"),
    ("true() or false()", "true or false"),
    ("${a}=${b}=${c}", "(${a} == ${b}) == ${c}"),
    ("${a} < ${b} = true()", "(${a} < ${b}) == true"),
    ("starts-with(${id}, '37') and contains(${n}, '张')", "starts_with(${id}, '37') and contains(${n}, '张')"),
    ("concat(${a}, '-', ${b})", "concat(${a}, '-', ${b})"),
    ("round(${x} div 3, 2)", "round(${x} / 3, 2)"),
    ("coalesce(${a}, 0) + int(${b}) + number('1')", "coalesce(${a}, 0) + int(${b}) + number('1')"),
    ("${div} div ${mod}", "${div} / ${mod}"),
]


@pytest.mark.parametrize("xpath, expected", TRANSLATIONS, ids=[t[0] for t in TRANSLATIONS])
def test_translation(xpath, expected):
    result = from_xpath(xpath)
    assert result == expected
    compile_expression(result)


def test_translation_evaluates():
    e = compile_expression(from_xpath("${age} >= 18 and selected(${help}, 'food') and string-length(.) = 11"))
    assert e.test({"age": 20, "help": ["food", "water"], ".": "13812345678"})
    assert not e.test({"age": 17, "help": ["food"], ".": "13812345678"})


@pytest.mark.parametrize("xpath, column, construct", [
    ("/data/age > 18", 1, "路径 /"),
    ("../age > 18", 1, "上级路径"),
    ("${a}[1] = 2", 5, "谓词"),
    ("${a} | ${b}", 6, "并集"),
    ("@id = 1", 1, "属性"),
    ("$x = 1", 1, "XPath 变量"),
    ("age > 18", 1, "路径表达式「age」"),
    ("jr:choice-name(${a}, '${a}')", 1, "函数 jr:choice-name()"),
    ("position() = 1", 1, "函数 position()"),
    ("indexed-repeat(${a}, ${r}, 1)", 1, "函数 indexed-repeat()"),
    ("format-date(today(), '%Y')", 1, "函数 format-date()"),
    ("pulldata('a', 'b', 'c', 'd')", 1, "函数 pulldata()"),
    ("* > 1", 1, "通配符"),
    ("regex(., '(?<=a)')", 10, "向后查找"),
    ("string-length(., 1)", 1, "参数个数"),
    ("${a} = 'x", 8, "字符串没有结束"),
    ("${a} = ", 8, "表达式不完整"),
    ("1 # 2", 3, "无法识别"),
])
def test_unsupported(xpath, column, construct):
    with pytest.raises(ExprError) as info:
        from_xpath(xpath)
    assert construct in info.value.message and info.value.column == column, str(info.value)
