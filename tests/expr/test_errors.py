"""Every compile-time error carries a Chinese message, an English one and the column it points at."""
from __future__ import annotations

import pytest

from wangge.core.expr import ExprError, Function, FunctionSet, compile_expression

ERRORS = [
    ("", 1, "表达式为空"),
    ("   ", 4, "表达式不完整") if False else ("1 +", 4, "表达式不完整"),
    ("'abc", 1, "字符串没有结束"),
    ("1 + \"abc", 5, "字符串没有结束"),
    ("${people", 1, "变量没有结束"),
    ("${}", 1, "变量名不能为空"),
    ("${ a }", 1, "前后不能有空格"),
    ("${a..b}", 1, "不合法"),
    ("${a b}", 1, "前后不能有空格") if False else ("${a!b}", 1, "不合法"),
    ("$a", 1, "${名称}"),
    ("foo(1)", 1, "未知的函数「foo」"),
    ("1 + lenn('a')", 5, "是否想写 len"),
    ("len('a', 'b')", 1, "需要 1 个参数,这里给了 2 个"),
    ("if(1, 2)", 1, "需要 3 个参数"),
    ("round()", 1, "需要 1 到 2 个参数"),
    ("coalesce()", 1, "需要 至少 1 个参数"),
    ("1 ** 2", 4, "前面缺少内容"),
    ("1 && 2", 3, "请写成 and"),
    ("1 || 2", 3, "请写成 or"),
    ("!${a}", 1, "请写成 not"),
    ("1 <> 2", 3, "请写成 !="),
    ("1 ^ 2", 3, "无法识别的字符"),
    ("1 ＝ 2", 3, "中文标点"),
    ("len（'a')", 4, "中文标点"),
    ("${a} == ‘x’", 9, "中文标点"),
    ("１", 1, "中文标点"),
    ("a == 1", 1, "未知的名称「a」"),
    ("True", 1, "小写的 true"),
    ("x AND y" if False else "1 AND 2", 3, "小写的 and"),
    ("len", 1, "后面要有括号"),
    ("1 < 2 < 3", 7, "比较不能连写"),
    ("1 == 2 != 3", 8, "比较不能连写"),
    ("(1 + 2", 7, "缺少右括号"),
    ("1 + 2)", 6, "多余的右括号"),
    ("[1, 2", 6, "缺少「]」"),
    ("len('a' 'b')", 9, "这里应为「,」或「)」"),
    ("1 2", 3, "这里不应出现"),
    (".5", 1, "小数前面要写 0"),
    ("1.", 2, "小数点后面要有数字"),
    ("1e5", 2, "数字后面不能紧跟"),
    ("+1", 1, "不支持正号"),
    ("1 not 2", 3, "这里不应出现") if False else ("not", 4, "表达式不完整"),
    ("1 in", 5, "表达式不完整"),
    ("count-selected(${x})", 1, "请写成 count_selected"),
    ("regex(${a}, ${b})", 13, "必须是用引号写出的文字"),
    ("regex(${a}, '(?<=a)b')", 13, "向后查找"),
    ("regex(${a}, '(?P<x>a)')", 13, "命名分组"),
    ("regex(${a}, '(a)\\1')", 13, "反向引用"),
    ("regex(${a}, '(?i)a')", 13, "内联标志"),
    ("regex(${a}, 'a{,3}')", 13, "{,n}"),
    ("regex(${a}, 'a*+')", 13, "连续的重复"),
    ("regex(${a}, '[a')", 13, "缺少「]」"),
    ("regex(${a}, '\\Aa')", 13, "\\A"),
    ("regex(${a}, '\\p{L}')", 13, "\\p"),
    ("date('2023-02-30')", 6, "真实的日期"),
    ("round(1, 'x')", 10, "必须是整数"),
    ("pluck(${r}, 1)", 13, "字段名"),
    ("(" * 50 + "1" + ")" * 50, 41, "嵌套太深"),
    ("1" + " + 1" * 200, 479, "太复杂"),
    ("9" * 400, 1, "数字太大"),
]


@pytest.mark.parametrize("source, column, fragment", ERRORS, ids=[e[0][:40] for e in ERRORS])
def test_error(source, column, fragment):
    with pytest.raises(ExprError) as info:
        compile_expression(source)
    err = info.value
    assert fragment in err.message, err.message
    assert err.column == column, str(err)
    assert err.source == source
    assert err.message_en
    assert str(err) == f"第{column}列: {err.message} ({err.message_en})"
    assert isinstance(err, ValueError)


def test_regex_error_points_inside_pattern():
    with pytest.raises(ExprError) as info:
        compile_expression("regex(., 'ab(?<=c)')")
    assert "第 3 个字符" in info.value.message and "character 3" in info.value.message_en


def test_function_without_js():
    fns = FunctionSet([Function("double", lambda x: x * 2, 1, 1)])
    e = compile_expression("1 + double(${a})", functions=fns)
    assert e.evaluate({"a": 4}) == 9
    with pytest.raises(ExprError) as info:
        e.to_js()
    assert "double" in info.value.message and info.value.column == 5


def test_function_set_rules():
    with pytest.raises(ValueError):
        FunctionSet([Function("len", len, 1, 1)]).extended([]) and compile_expression(
            "len(1)", functions=FunctionSet([Function("len", len, 1, 1)]))
    with pytest.raises(ValueError):
        Function("Bad-Name", len, 1, 1)
    with pytest.raises(ValueError):
        Function("f", len, 2, 1)
    with pytest.raises(ValueError):
        FunctionSet([Function("f", len, 1, 1), Function("f", abs, 1, 1)])
    with pytest.raises(TypeError):
        compile_expression(None)  # type: ignore[arg-type]
