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
