"""The web routes over real HTTP: CSRF, no-JS repeats and cascades, uploads, escaping, overrides, size."""
from __future__ import annotations

import re

from wangge.core.pack.loader import load_pack

from .conftest import VALID, csrf, post_data, write_pack

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_post_without_a_valid_csrf_token_is_refused(packs, app_for):
    pack = packs["binzhou-pengli"]
    client = app_for(pack)
    url = f"/{pack.id}/event_report"
    data = post_data(pack, "event_report", VALID["event_report"])
    assert client.post(url, data={**data, "_csrf": "forged"}).status_code == 403
    token = csrf(client, url)
    client.cookies.clear()
    assert client.post(url, data={**data, "_csrf": token}).status_code == 403


def test_hostile_input_is_rendered_inert(packs, app_for):
    pack = packs["binzhou-pengli"]
    client = app_for(pack)
    url = f"/{pack.id}/event_report"
    token = csrf(client, url)
    evil = '"><script>alert(1)</script>'
    res = client.post(url, data={"title": evil, "description": evil, "_csrf": token, "_action": "submit"})
    assert res.status_code == 422 and "<script>alert(1)" not in res.text and "&lt;script&gt;alert(1)" in res.text
    assert "script-src 'self'" in res.headers["content-security-policy"]


def test_repeat_entries_are_added_and_removed_without_javascript(packs, app_for):
    pack = packs["taiyuan-wanbailin"]
    client = app_for(pack)
    url = f"/{pack.id}/ruhu_dengji"
    token = csrf(client, url)
    data = {"members__n": "1", "members.0.full_name": "甲", "_csrf": token}
    page = client.post(url, data={**data, "_action": "add:members"})
    assert page.status_code == 200 and 'name="members.1.full_name"' in page.text and "此项为必填" not in page.text
    page = client.post(url, data={"members__n": "3", "members.0.full_name": "甲", "members.1.full_name": "乙",
                                  "members.2.full_name": "丙", "_csrf": token, "_action": "remove:members.1"})
    assert 'value="甲"' in page.text and 'value="丙"' in page.text and 'value="乙"' not in page.text
    assert 'name="members.2.full_name"' not in page.text


def test_cascade_updates_without_javascript_and_units_endpoint(packs, app_for):
    pack = packs["taiyuan-gujiao"]
    client = app_for(pack)
    url = f"/{pack.id}/event_report"
    township = pack.grid.units_at("township")[0]
    villages = pack.grid.children[township.code]
    token = csrf(client, url)
    page = client.post(url, data={"grid_unit__township": township.code, "_csrf": token, "_action": "refresh"})
    first = pack.grid.units[villages[0]]
    assert f'<option value="{first.code}">{first.name}</option>' in page.text
    units = client.get(f"/{pack.id}/units", params={"parent": township.code}).json()
    assert [u["code"] for u in units] == list(villages)


def test_skip_logic_on_the_server_render(packs, app_for):
    pack = packs["binzhou-pengli"]
    page = app_for(pack).get(f"/{pack.id}/event_report").text
    assert re.search(r'data-name="handling" data-type="textarea" hidden', page)
    assert re.search(r'data-name="urgent_note" data-type="note" hidden', page)


def test_photo_is_stored_and_kept_across_a_failed_attempt(tmp_path, database, app_for):
    pack = load_pack(write_pack(tmp_path / "p", {"forms.yaml": """
forms:
  - id: f
    title: 照片
    fields:
      - {ref: photos, required: true}
      - {id: t, type: text, label: 说明, required: true}
"""}))
    client = app_for(pack)
    url = f"/{pack.id}/f"
    token = csrf(client, url)
    bad = client.post(url, data={"_csrf": token, "_action": "submit"}, files={"photos": ("a.txt", b"hello", "image/png")})
    assert "请上传照片" in bad.text
    first = client.post(url, data={"_csrf": token, "_action": "submit"}, files={"photos": ("a.png", PNG, "image/png")})
    assert first.status_code == 422 and "已上传:a.png" in first.text
    kept = re.search(r'name="photos__kept" value="([^"]+)"', first.text)[1]
    ok = client.post(url, data={"_csrf": token, "_action": "submit", "t": "x", "photos__kept": kept}, follow_redirects=False)
    assert ok.status_code == 303
    assert list((tmp_path / "uploads").rglob("*"))
    forged = client.post(url, data={"_csrf": token, "_action": "submit", "t": "x", "photos__kept": kept + "x"})
    assert forged.status_code == 422


def test_a_pack_overrides_templates_without_forking(tmp_path, app_for):
    root = write_pack(tmp_path / "p", {})
    (root / "templates").mkdir()
    (root / "templates" / "base.html").write_text(
        "<!doctype html><html lang=\"zh-CN\"><body><header>某县综治中心</header>{% block main %}{% endblock %}</body></html>",
        encoding="utf-8")
    pack = load_pack(root)
    page = app_for(pack).get(f"/{pack.id}/event_report").text
    assert "某县综治中心" in page and "<h1>事件上报表</h1>" in page


def test_form_page_with_assets_stays_under_60_kb(packs, app_for):
    pack = packs["taiyuan-wanbailin"]
    client = app_for(pack)
    page = client.get(f"/{pack.id}/ruhu_dengji")
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page.text)
    total = len(page.content) + sum(len(client.get(a).content) for a in assets)
    assert len(assets) == 4 and total < 60 * 1024, total
