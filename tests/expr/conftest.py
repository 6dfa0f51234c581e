from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from wangge.core.expr import JS_RUNTIME

NODE = shutil.which("node")


class NodeRunner:
    """One node process for a whole test module; cases go over stdin in batches."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([NODE, str(Path(__file__).with_name("harness.js"))], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self._send(json.dumps(JS_RUNTIME))
        assert self.proc.stdout.readline().strip() == "ready"

    def _send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def run(self, cases: list[dict]) -> list[dict]:
        self._send(json.dumps(cases, ensure_ascii=True))
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def node():
    if NODE is None:
        pytest.skip("node (Node.js) is not on PATH: the JavaScript parity tests need it")
    runner = NodeRunner()
    yield runner
    runner.close()


def canonical(value):
    """JSON-normalised form for comparing Python and JavaScript results: numbers as floats."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    raise TypeError(type(value))


@pytest.fixture(scope="module")
def parity(node):
    """parity([(expression, env, today, now), ...]) asserts Python and JavaScript agree on each case."""
    def check(cases):
        batch = [{"js": e.to_js(), "env": env, "today": today.isoformat() if today else None,
                  "now": now.isoformat() if now else None} for e, env, today, now in cases]
        answers = node.run(batch)
        failures = []
        for (e, env, today, now), answer in zip(cases, answers):
            py = canonical(e.evaluate(env, today=today, now=now))
            js = answer.get("value", ("<error>", answer.get("error")))
            js = canonical(js) if not isinstance(js, tuple) else js
            if py != js:
                failures.append(f"{e.source!r} env={env!r}: python={py!r} js={js!r} code={e.to_js()}")
        assert not failures, "\n".join(failures[:10])
    return check
