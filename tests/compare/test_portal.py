"""The portal's comparison page runs the comparison on a seeded stream and stays light (< 200 KB)."""
from __future__ import annotations

import re

from starlette.testclient import TestClient
from wangge.examples import COUNTIES
from wangge.web.app import create_app
from wangge.web.auth import add_user
from wangge.web.deployment import open_deployment

PENGLI, OTHER = "binzhou-pengli", "taiyuan-loufan"


def test_compare_page_shows_the_comparison(tmp_path) -> None:
    deployment = open_deployment([COUNTIES / PENGLI, COUNTIES / OTHER], f"sqlite:///{tmp_path / 'w.sqlite'}",
                                 "c" * 32, tmp_path / "data")
    add_user(deployment.database, deployment.pack(PENGLI), PENGLI, "admin", "correct-horse-9", "admin", None)
    client = TestClient(create_app(deployment), follow_redirects=False)
    page = client.get(f"/{PENGLI}/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post(f"/{PENGLI}/login", data={"csrf": token, "username": "admin",
                                                 "password": "correct-horse-9"}).status_code == 303
    r = client.get(f"/{PENGLI}/compare?m={OTHER}")
    assert r.status_code == 200, r.text[:500]
    html = r.text
    assert "同一批事件上的对比" in html and "各层级结案占比" in html and html.count("<svg") >= 3
    assert "合成数据" in html and "尚未安装" not in html
    assert len(r.content) < 200_000
    assert not re.search(r'(src|href)="(https?:)?//', html)
