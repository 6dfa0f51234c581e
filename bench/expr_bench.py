"""Evaluation speed of a compiled pack condition against a hand-written Python lambda.

    .venv/bin/python bench/expr_bench.py
"""
from __future__ import annotations

import timeit

from wangge.core.expr import compile_expression

SOURCE = "${people} >= 5 and ${category} in ['矛盾纠纷', '群体性事件'] and ${status} != '缓办'"
ENVS = [
    {"people": 6, "category": "矛盾纠纷", "status": "办理中"},   # all three clauses run
    {"people": 8, "category": "群体性事件", "status": "缓办"},
    {"people": 2, "category": "矛盾纠纷", "status": "办理中"},   # stops at the first clause
    {"category": "治安隐患"},                                      # missing variables are null
]


def main() -> None:
    expr = compile_expression(SOURCE)
    test = expr.test

    def baseline(env, _kinds=frozenset({"矛盾纠纷", "群体性事件"})):
        people = env.get("people")
        return (type(people) in (int, float) and people >= 5 and env.get("category") in _kinds
                and env.get("status") != "缓办")

    for env in ENVS:
        assert test(env) == baseline(env), env
    rounds = 200_000

    def run(fn):
        best = min(timeit.repeat(lambda: [fn(e) for e in ENVS], number=rounds // len(ENVS), repeat=5))
        return rounds / best

    compiled_rate, lambda_rate = run(test), run(baseline)
    full = ENVS[0]
    full_rate = rounds / min(timeit.repeat(lambda: test(full), number=rounds, repeat=5))
    print(f"condition: {SOURCE}")
    print(f"compiled expression: {compiled_rate:12,.0f} evaluations/s (mixed inputs)")
    print(f"compiled expression: {full_rate:12,.0f} evaluations/s (all three clauses evaluated)")
    print(f"plain Python lambda: {lambda_rate:12,.0f} evaluations/s (mixed inputs)")
    print(f"ratio: {lambda_rate / compiled_rate:.1f}x slower than hand-written Python")


if __name__ == "__main__":
    main()
