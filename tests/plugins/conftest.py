"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) that answers with scripted status codes."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)   # answered in order; 200 once exhausted
    requests: list[Received] = field(default_factory=list)
    body: bytes | None = None                             # the answer's body; default {"ok": …}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state.body or b'{"ok": %s}' % (b"true" if status < 300 else b"false"))

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class _EntryPoint:
    """Stands for an installed distribution's entry point in group ``wangge`` (name → plugin object)."""

    def __init__(self, name: str, plugin: object) -> None:
        self.name, self.value, self.dist, self._plugin = name, f"tests:{name}", None, plugin

    def load(self) -> object:
        return self._plugin


@pytest.fixture
def extension_plugins(monkeypatch):  # type: ignore[no-untyped-def]
    """The test plugins of fixtures/extension_plugins.py, as if installed: every plugin manager built while
    the test runs (pack loading, stored snapshots, the portal) finds them through the entry points."""
    import importlib.util
    from pathlib import Path

    from wangge.core import hooks

    path = Path(__file__).with_name("fixtures") / "extension_plugins.py"
    spec = importlib.util.spec_from_file_location("wangge_test_extension_plugins", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    real = hooks.installed_entry_points
    fakes = [_EntryPoint(name, plugin) for name, plugin in module.PLUGINS.items()]
    monkeypatch.setattr(hooks, "installed_entry_points", lambda: sorted([*real(), *fakes], key=lambda ep: ep.name))
    return module
