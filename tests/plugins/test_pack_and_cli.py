"""The ``plugins:`` pack section, ``wangge plugins list|check`` and ``wangge outbox deliver``."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wangge.core import hooks
from wangge.core.pack.loader import PackLoader
from wangge.core.pack.problems import PackError
from wangge.core.plugin_cli import outbox_group, plugins

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).with_name("fixtures")
SEARCH = (ROOT / "examples" / "counties", FIXTURES)


def load(name: str):
    return PackLoader(SEARCH).load(FIXTURES / name)


def test_a_pack_enables_plugins_by_name_and_extends_merge_their_settings():
    pack = load("unknown-plugin")
    assert set(pack.plugins) == {"hotline_12345", "webhook", "county_gis_sync"}   # unknown name: no load error
    assert not pack.plugins["webhook"].enabled
    settings = hooks.enabled_plugins(pack)
    assert set(settings) == {"hotline_12345", "county_gis_sync"}
    assert settings["hotline_12345"]["default_unit"] == "999"                 # the child's value …
    assert settings["hotline_12345"]["secret_env"] == "WANGGE_TEST_12345_SECRET"  # … over the base's others
    pm = hooks.plugin_manager(settings)
    assert not pm.has_plugin("county_gis_sync")


def test_a_malformed_plugins_section_is_a_schema_error(tmp_path):
    (tmp_path / "pack.yaml").write_text(
        'pack: {id: cn.test.bad, name: 坏, region: "371602", version: 1.0.0, extends: {id: cn.base}}\n'
        "plugins:\n  - {name: hotline_12345}\n", encoding="utf-8")
    with pytest.raises(PackError) as err:
        PackLoader().load(tmp_path)
    assert any(p.code == "SCHEMA" and "pack.yaml:3" in str(p) for p in err.value.problems)


def test_plugins_check_reports_missing_plugins_and_bad_settings():
    args = ["check", str(FIXTURES / "unknown-plugin"), *[a for p in SEARCH for a in ("--path", str(p))]]
    result = CliRunner().invoke(plugins, args)
    assert result.exit_code == 1
    assert "county_gis_sync: 未安装" in result.output
    assert "default_unit「999」不存在" in result.output
    assert "webhook: 已停用" in result.output
    ok = CliRunner().invoke(plugins, ["check", str(FIXTURES / "pengli-12345"), "--path", str(SEARCH[0])])
    assert ok.exit_code == 0, ok.output
    assert "ok  hotline_12345" in ok.output


def test_outbox_deliver_runs_one_pass(tmp_path, receiver, monkeypatch):
    from wangge.core.outbox import enqueue, messages
    from wangge.core.store import open_database

    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    db = open_database(url)
    with db.engine.begin() as conn:
        enqueue(conn, "cn.test.pengli12345", "webhook", receiver.url + "/h", {"a": 1})
    result = CliRunner().invoke(outbox_group, ["deliver", "--db", url, "--pack", str(FIXTURES / "pengli-12345"),
                                               "--path", str(SEARCH[0])])
    assert result.exit_code == 0, result.output
    assert "sent 1, retrying 0, dead 0" in result.output
    assert [m.status for m in messages(db, "cn.test.pengli12345")] == ["sent"]
    db.dispose()


def test_the_wangge_command_lists_the_builtin_plugins():
    out = subprocess.run([str(Path(sys.executable).with_name("wangge")), "plugins", "list"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "hotline_12345" in out and "webhook" in out and "wangge_notification_senders" in out


def test_the_pack_in_the_plugins_doc_loads_and_its_settings_check(tmp_path, monkeypatch):
    import re

    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml title=pack-with-plugins.yaml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "pack.yaml").write_text(block, encoding="utf-8")
    pack = PackLoader(SEARCH).load(tmp_path)
    monkeypatch.setenv("WANGGE_12345_SECRET", "x")
    monkeypatch.setenv("WANGGE_WEBHOOK_SECRET", "y")
    pm = hooks.plugin_manager(hooks.enabled_plugins(pack))
    context = hooks.context_for(pack)
    problems = hooks.check_pack(pm, context)
    assert problems == []
    assert set(hooks.senders(pm, context)) == {"webhook", "hotline_reply"}
    assert "hotline_12345" in hooks.intake_channels(pm, context)
