"""The JavaScript side: runtime size, generated code shape, caller functions with JS implementations."""
from __future__ import annotations

from datetime import date

from wangge.core.expr import JS_RUNTIME, Function, FunctionSet, compile_expression


def test_runtime_is_small_and_self_contained():
    assert len(JS_RUNTIME.encode("utf-8")) < 6 * 1024
    assert JS_RUNTIME.startswith("var W =") and "require(" not in JS_RUNTIME and "import " not in JS_RUNTIME


def test_generated_code_shape():
    js = compile_expression("${household.size} >= 5 and not regex(., '\\d+')").to_js()
    assert js == ('(W.ge(W.path(v("household"), ["size"]), 5) && !W.regex(W.n(v(".")), "^(?:\\\\d+)$"))')


def test_caller_functions_run_in_both(parity):
    fns = FunctionSet([
        Function("double", lambda x: x * 2 if isinstance(x, int) else None, 1, 1,
                 js="function (x) { return typeof x === 'number' ? x * 2 : null; }"),
        Function("is_weekend", lambda clock: clock.today.weekday() >= 5, 0, 0, clock=True,
                 js="function (w) { return new Date(w.today() + 'T00:00:00Z').getUTCDay() % 6 === 0; }"),
        Function("either", lambda a, b: bool(a or b), 2, 2, js="function (a, b) { return W.t(a) || W.t(b); }"),
    ])
    cases = [("double(${a}) + 1", {"a": 4}), ("double(${a})", {"a": "x"}), ("is_weekend()", {}),
             ("either(${a}, 0)", {"a": ""}), ("either(${a}, 1) and true", {"a": None})]
    parity([(compile_expression(src, functions=fns), env, day, None)
            for src, env in cases for day in (date(2024, 5, 18), date(2024, 5, 20))])
