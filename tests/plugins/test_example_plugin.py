"""The example county plugin is a real pip package: built as a wheel, installed, found by its entry point.

Honest and fast: the wheel is built from a copy of plugins/examples/wangge-pengli-sms with the venv's own
setuptools (no build isolation, no network) and installed with ``pip install --no-deps --target`` into a
temporary folder put on sys.path — the same metadata path importlib uses for any installed plugin.
"""
from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from wangge.core import hooks
from wangge.core.expr import compile_expression
from wangge.core.outbox import SENT, deliver_due, enqueue, messages

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "plugins" / "examples" / "wangge-pengli-sms"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("pengli-sms")
    src = work / "src"
    shutil.copytree(SOURCE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(src)],
                   check=True, cwd=work, timeout=120)
    [wheel] = (work / "dist").glob("wangge_pengli_sms-0.1.0-*.whl")
    site = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)], check=True,
                   timeout=120)
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        for name in [m for m in sys.modules if m.startswith("wangge_pengli_sms")]:
            del sys.modules[name]
        importlib.invalidate_caches()


def test_the_installed_package_is_found_by_its_entry_point(installed):
    [ep] = [ep for ep in entry_points(group="wangge") if ep.name == "pengli_sms"]
    assert ep.value == "wangge_pengli_sms" and ep.dist.version == "0.1.0"
    assert str(installed) in str(ep.load().__file__)


def test_a_pack_enables_it_by_name_and_only_then(installed):
    assert not hooks.plugin_manager({}).has_plugin("pengli_sms")
    pm = hooks.plugin_manager({"pengli_sms": {"gateway_url": "http://127.0.0.1:9/sms"}})
    assert pm.has_plugin("pengli_sms")
    info = {p.name: p for p in hooks.describe(pm)}["pengli_sms"]
    assert not info.builtin and info.version == "0.1.0"
    assert {"wangge_notification_senders", "wangge_expression_functions", "wangge_case_event"} <= set(info.hooks)


def test_its_expression_function_and_sender_work(installed, database, receiver):
    settings = {"pengli_sms": {"gateway_url": receiver.url + "/sms", "leaders": ["13800000001"]}}
    pm = hooks.plugin_manager(settings)
    context = hooks.HookContext(tenant="cn.sd.binzhou.pengli", settings=settings)
    functions = hooks.expression_functions(pm, context)
    expr = compile_expression("pengli_community(${unit}) == 3", functions)
    assert expr.test({"unit": "37160200800305"}) and not expr.test({"unit": "371602008"})
    observed = hooks.case_event(pm, context, {"id": "c1", "unit_code": "371602008003",
                                              "event": {"urgency": "emergency", "title": "燃气泄漏"}},
                                {"action": "open", "seq": 1})
    [(plugin, request)] = observed.requests
    assert plugin == "pengli_sms" and request.kind == "sms" and "燃气泄漏" in request.payload["text"]
    receiver.body = b'{"code": 1, "msg": "blacklisted"}'
    with database.engine.begin() as conn:
        enqueue(conn, "t", request.kind, request.target, request.payload, "c1")
    senders = hooks.senders(pm, context)
    report = deliver_due(database, senders, datetime.now(timezone.utc), tenant="t")
    # The gateway refused the text (code ≠ 0): an error the outbox retries, not a success.
    assert report.retrying == 1 and "短信网关拒绝" in report.outcomes[0].error
    receiver.body = b'{"code": 0}'
    report = deliver_due(database, senders, datetime.now(timezone.utc) + timedelta(hours=2), tenant="t")
    assert report.sent == 1 and [m.status for m in messages(database, "t")] == [SENT]
    assert [r.path for r in receiver.requests] == ["/sms", "/sms"]
    assert "【彭李街道】突发事件" in receiver.requests[0].body.decode()


def test_a_pack_enabling_it_uses_its_function_in_form_rules(installed, tmp_path):
    from wangge.core.pack.loader import PackLoader
    from wangge.core.pack.problems import PackError

    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    block = text.split("```yaml title=pack-enabling-extensions.yaml\n", 1)[1].split("```", 1)[0]
    head = ('pack: {id: cn.test.pengli_sms, name: 短信测试, region: "371602008", version: 1.0.0,\n'
            '       extends: {id: cn.sd.binzhou.pengli, version: ">=1.0,<2"}}\n')
    (tmp_path / "pack.yaml").write_text(head + block, encoding="utf-8")
    pack = PackLoader((ROOT / "examples" / "counties",)).load(tmp_path)
    rule = pack.forms["zoufang"].field("note").relevant
    assert rule.expr.test({"grid_unit": "37160200800301"}) and not rule.expr.test({"grid_unit": "37160200800101"})
    assert "371602008" in rule.js                                  # the plugin's JavaScript, for the browser
    (tmp_path / "pack.yaml").write_text(head + block.replace("id: pengli_sms", "id: pengli_sms\n    enabled: false"),
                                        encoding="utf-8")
    with pytest.raises(PackError) as err:
        PackLoader((ROOT / "examples" / "counties",)).load(tmp_path)
    assert "pengli_community" in str(err.value)
