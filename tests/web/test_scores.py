"""The scores page (every point explained, rankings only when the pack enables them), appeals from the case
page, anti-gaming flags, and the dashboard on the scoring engine — over cases opened and closed through the
real cases service, on SQLite and (when configured) PostgreSQL."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from wangge.core.cases import act, open_case
from wangge.core.scoring import compute_indicators, parse_period, score
from wangge.core.workcal import SHANGHAI
from wangge.core.workflow import Actor
from wangge.examples import COUNTIES
from wangge.web.auth import add_user
from wangge.web.deployment import Deployment, open_deployment

from .conftest import OTHER, PASSWORD, PENGLI, Browser, app_of, staff

NO_RANKING = "taiyuan-yangqu"     # scoring.yaml with ranking: {enabled: false}
MARCH = parse_period("2026-03")
MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
DETAILS = re.compile(r'<details class="score" data-subject="([^"]+)" data-total="([^"]+)"[^>]*>(.*?)</details>', re.DOTALL)
POINTS = re.compile(r'data-points="([^"]+)"')


@pytest.fixture
def deployment(database, tmp_path: Path) -> Deployment:  # type: ignore[no-untyped-def]
    """彭李 (ranking on), 阳曲 (schemes, ranking off) and 娄烦 (no scoring:) on the ``database`` fixture."""
    return open_deployment([COUNTIES / PENGLI, COUNTIES / NO_RANKING, COUNTIES / OTHER], database.url, "t" * 32,
                           tmp_path / "data", database=database)


@pytest.fixture
def app(deployment):  # type: ignore[no-untyped-def]
    staff(deployment)
    for county in (NO_RANKING, OTHER):
        add_user(deployment.database, deployment.pack(county), county, "admin", PASSWORD, "admin", None)
    return app_of(deployment)


def worker_grid(deployment: Deployment) -> str:
    """The grid of the ``worker`` user that ``staff`` made (the first grid of the pack)."""
    pack = deployment.pack(PENGLI)
    return next(u.code for u in pack.grid.units.values() if u.level == pack.grid.levels[-1].id)


def open_cases(deployment: Deployment, unit: str, *, closed: int, still_open: int) -> list[str]:
    """Cases reported on 2 March through the cases service; ``closed`` of them closed on the spot the same
    morning by the grid worker who reported them (5 workdays to handle, so due in March). Open ones first."""
    pack = deployment.pack(PENGLI)
    cls = next(c.id for c in pack.events.classes.values() if c.parent and c.time_limit())
    worker = Actor("worker", "grid_worker", unit)
    ids = []
    for i in range(still_open + closed):
        at = MONDAY + timedelta(minutes=i)
        event = {"id": f"t{i}-{unit}", "class": cls, "channel": "grid_patrol", "unit": unit,
                 "reported_at": at.isoformat(), "reporter": "worker", "title": f"测试 {i}"}
        decision = {"event_id": event["id"], "level": "grid", "unit": None, "lead": next(iter(pack.departments)),
                    "assist": [], "notify": [], "time_limit": "5工作日", "due": None, "priority": 0, "state": None,
                    "trace": ["测试"]}
        case = open_case(deployment.database, PENGLI, pack, event, decision, worker, now=at)
        if i >= still_open:
            act(deployment.database, PENGLI, pack, case.id, "close_on_spot", worker, "当场办结", now=at + timedelta(minutes=5))
        ids.append(case.id)
    return ids


def shown_scores(html: str) -> dict[str, tuple[float, list[float], str]]:
    """subject → (total shown, the points of each explanation line, the explanation's HTML)."""
    return {m.group(1): (float(m.group(2)), [float(p) for p in POINTS.findall(m.group(3))], m.group(3))
            for m in DETAILS.finditer(html)}


def grid_total(b: Browser, deployment: Deployment, grid: str) -> float:
    """The total the scores page shows for ``grid`` (narrowed to its community, so it is on the first page)."""
    village = deployment.pack(PENGLI).grid.units[grid].parent
    return shown_scores(b.get(f"/{PENGLI}/scores?period=2026-03&unit={village}").text)[grid][0]


def engine_total(deployment: Deployment, unit: str) -> float:
    got = score(deployment.database, PENGLI, deployment.pack(PENGLI), MARCH, "grid", subjects=[unit])
    return got[0].total


# ---------------------------------------------------------------- the scores page


def test_admin_sees_every_point_explained_and_traced_to_cases(app, deployment):  # type: ignore[no-untyped-def]
    grid = worker_grid(deployment)
    ids = open_cases(deployment, grid, closed=2, still_open=1)
    page = Browser(app).login("admin").get(f"/{PENGLI}/scores?period=2026-03")
    assert page.status_code == 200
    shown = shown_scores(page.text)
    assert len(shown) == 30 and "共 92 个" in page.text      # one page of 30 of the 92 grids, each expandable
    for subject, (total, lines, _) in shown.items():
        assert lines and round(sum(lines), 4) == total, subject  # the explanation adds up to the total shown
    assert "结案率 = 结案(closed) / 应结案(due)" in page.text               # the definitions used
    last = Browser(app).login("admin").get(f"/{PENGLI}/scores?period=2026-03&page=4").text
    assert len(shown_scores(last)) == 2                                   # 92 = 3 × 30 + 2, by rank
    village = deployment.pack(PENGLI).grid.units[grid].parent
    narrowed = shown_scores(Browser(app).login("admin").get(f"/{PENGLI}/scores?period=2026-03&unit={village}").text)
    total, lines, explanation = narrowed[grid]
    assert total == engine_total(deployment, grid) and total < 70.0       # the open case costs points
    assert round(sum(lines), 4) == total and f'href="cases/{ids[0]}"' in explanation   # …and a line names it


def test_grid_worker_sees_only_their_own_unit(app, deployment):  # type: ignore[no-untyped-def]
    grid = worker_grid(deployment)
    open_cases(deployment, grid, closed=1, still_open=1)
    worker = Browser(app).login("worker")
    page = worker.get(f"/{PENGLI}/scores?period=2026-03")
    assert page.status_code == 200 and f'href="/{PENGLI}/scores"' in page.text   # menu link
    assert list(shown_scores(page.text)) == [grid]
    other = next(c for c, u in deployment.pack(PENGLI).grid.units.items() if u.level == "grid" and c != grid)
    assert worker.get(f"/{PENGLI}/scores?unit={other}").status_code == 403
    command = Browser(app).login("command").get(f"/{PENGLI}/scores?period=2026-03")
    assert len(shown_scores(command.text)) == 30 and 'id="flags"' not in command.text   # flags: admins only
    resident = Browser(app).login("resident")
    assert resident.get(f"/{PENGLI}/scores").status_code == 403
    assert f'href="/{PENGLI}/scores"' not in resident.get(f"/{PENGLI}/todo").text


def test_rankings_only_when_the_pack_enables_them(app):  # type: ignore[no-untyped-def]
    on = Browser(app).login("admin").get(f"/{PENGLI}/scores?period=2026-03").text
    assert "排名已由规则包开启" in on and "第 1 名" in on and "按总分从高到低排第 1 名(共 92 个)" in on
    off = Browser(app, NO_RANKING).login("admin").get(f"/{NO_RANKING}/scores?period=2026-03")
    assert off.status_code == 200 and shown_scores(off.text)
    assert "排名未开启" in off.text and "指尖上的形式主义" in off.text
    assert "data-rank" not in off.text and "名(共" not in off.text
    none = Browser(app, OTHER).login("admin").get(f"/{OTHER}/scores")
    assert none.status_code == 200 and 'id="no-scheme"' in none.text and "没有声明考核方案" in none.text


# ---------------------------------------------------------------- appeals


def test_an_appeal_changes_the_recomputed_score_and_is_listed(app, deployment):  # type: ignore[no-untyped-def]
    grid = worker_grid(deployment)
    ids = open_cases(deployment, grid, closed=2, still_open=1)
    admin = Browser(app).login("admin")
    before = grid_total(admin, deployment, grid)
    r = admin.post(f"/{PENGLI}/cases/{ids[0]}/appeals", {"kind": "exclude", "reason": "暴雨停工,不可抗力"})
    assert r.status_code == 303 and r.headers["location"].endswith("#appeals")
    case_page = admin.get(f"/{PENGLI}/cases/{ids[0]}").text
    assert "不计入考核" in case_page and "暴雨停工,不可抗力" in case_page and "admin(政法委管理员)" in case_page
    page = admin.get(f"/{PENGLI}/scores?period=2026-03").text
    after = grid_total(admin, deployment, grid)
    assert after != before and after == engine_total(deployment, grid) == 70.0   # 2 of 2 due closed on time
    assert f'href="/{PENGLI}/cases/{ids[0]}#appeals"' in page and "暴雨停工" in page
    appeal_id = re.search(r'data-appeal="([^"]+)" data-status="granted"', case_page).group(1)
    assert admin.post(f"/{PENGLI}/cases/{ids[0]}/appeals/{appeal_id}/withdraw", {}).status_code == 400   # why?
    r = admin.post(f"/{PENGLI}/cases/{ids[0]}/appeals/{appeal_id}/withdraw", {"reason": "核实后撤销"})
    assert r.status_code == 303
    assert grid_total(admin, deployment, grid) == before
    case_page = admin.get(f"/{PENGLI}/cases/{ids[0]}").text
    assert "已撤回" in case_page and "核实后撤销" in case_page
    rejudge = admin.post(f"/{PENGLI}/cases/{ids[0]}/appeals", {"kind": "rejudge", "reason": "系统时钟错误",
                                                               "add": ["closed", "closed_on_time"]})
    assert rejudge.status_code == 303
    assert grid_total(admin, deployment, grid) == 70.0


def test_appeal_posts_need_csrf_and_an_admin(app, deployment):  # type: ignore[no-untyped-def]
    ids = open_cases(deployment, worker_grid(deployment), closed=0, still_open=1)
    admin = Browser(app).login("admin")
    url = f"/{PENGLI}/cases/{ids[0]}/appeals"
    assert admin.client.post(url, data={"kind": "exclude", "reason": "x"}).status_code == 403
    assert admin.client.post(url, data={"kind": "exclude", "reason": "x", "csrf": "forged"}).status_code == 403
    assert admin.client.post(url + "/nope/withdraw", data={"reason": "x"}).status_code == 403
    assert "不计入考核" not in admin.get(f"/{PENGLI}/cases/{ids[0]}").text   # nothing was recorded
    command = Browser(app).login("command")
    assert command.post(url, {"kind": "exclude", "reason": "x"}).status_code == 403
    assert admin.post(url, {"kind": "rejudge", "reason": "x"}).status_code == 400          # re-judge what?
    assert admin.post(url, {"kind": "exclude", "reason": "  "}).status_code == 400         # why?
    assert admin.post(f"/{PENGLI}/cases/nope/appeals", {"kind": "exclude", "reason": "x"}).status_code == 403


def test_hostile_appeal_reason_is_escaped(app, deployment):  # type: ignore[no-untyped-def]
    ids = open_cases(deployment, worker_grid(deployment), closed=0, still_open=1)
    admin = Browser(app).login("admin")
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert admin.post(f"/{PENGLI}/cases/{ids[0]}/appeals", {"kind": "exclude", "reason": hostile}).status_code == 303
    for path in (f"cases/{ids[0]}", "scores?period=2026-03"):
        html = admin.get(f"/{PENGLI}/{path}").text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, path


# ---------------------------------------------------------------- flags


def test_flags_for_admins_with_their_cases(app, deployment):  # type: ignore[no-untyped-def]
    ids = open_cases(deployment, worker_grid(deployment), closed=2, still_open=0)   # reported and closed by worker
    page = Browser(app).login("admin").get(f"/{PENGLI}/scores?period=2026-03").text
    flags = page[page.index('id="flags"'):]
    assert 'data-flag="self_close"' in flags and "自报自结" in flags
    assert all(f'href="/{PENGLI}/cases/{cid}"' in flags for cid in ids)


# ---------------------------------------------------------------- the dashboard on the engine


def test_dashboard_shows_the_engines_values(app, deployment):  # type: ignore[no-untyped-def]
    grid = worker_grid(deployment)
    open_cases(deployment, grid, closed=2, still_open=1)
    pack = deployment.pack(PENGLI)
    b = Browser(app).login("admin")
    for unit in (pack.grid.roots[0], grid):
        html = b.get(f"/{PENGLI}/dashboard?unit={unit}&period=2026-03").text
        engine = {v.indicator: v for v in compute_indicators(deployment.database, PENGLI, pack, MARCH, [unit])}
        shown = re.search(r'data-indicator="jiean_rate" data-value="([^"]+)"', html).group(1)
        assert shown == engine["jiean_rate"].display() == "66.67%", unit
        assert unescape(engine["jiean_rate"].definition) in unescape(html)   # the definition it used
        assert 'name="period" value="2026-03"' in html
    other_month = b.get(f"/{PENGLI}/dashboard?unit={grid}&period=2026-04").text
    assert 'data-indicator="jiean_rate" data-value="—"' in other_month     # nothing due in April
    assert b.get(f"/{PENGLI}/dashboard?period=March").status_code == 400


def test_scores_and_dashboard_page_weights(app, deployment):  # type: ignore[no-untyped-def]
    open_cases(deployment, worker_grid(deployment), closed=3, still_open=2)
    admin = Browser(app).login("admin")
    for path in ("scores?period=2026-03", "dashboard?period=2026-03"):
        r = admin.get(f"/{PENGLI}/{path}")
        assert r.status_code == 200 and len(r.content) < 200_000, (path, len(r.content))
