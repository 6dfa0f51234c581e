"""Writing a comparison: DIR/report.json, DIR/report.html, and the summary table printed by the CLI."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .charts import all_charts
from .report import TOP, Report
from .scoring import LIMITS

TEMPLATES = Path(__file__).parent / "templates"
HTML_ROWS = 200


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "jinja"]))


def render_html(report: Report) -> str:
    data = report.to_json()
    models = data["models"]
    ids: list[str] = []
    names: dict[str, str] = {}
    for m in models:
        m["indicator_map"] = {v["id"]: v for v in m["indicators"]}
        for v in m["indicators"]:
            if v["id"] not in names:
                ids.append(v["id"])
                names[v["id"]] = v["name"]
    return _env().get_template("report.html.jinja").render(
        meta=data["meta"], models=models, diff=data["diff"], rows=data["diff"]["events"][:HTML_ROWS],
        charts=all_charts(models), indicator_ids=ids[:6], indicator_names=names, top=TOP, score_note=LIMITS,
        timings=data["timings"], rates_text=yaml.safe_dump(data["meta"].get("rates", {}), allow_unicode=True,
                                                           sort_keys=False, width=100))


def write(report: Report, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "report.json", out / "report.html"
    with open(json_path, "w", encoding="utf-8") as fh:
        json.dump(report.to_json(), fh, ensure_ascii=False, separators=(",", ":"), default=str)
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


def _w(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _w(text))


def summary_table(report: Report) -> str:
    rows: list[list[str]] = [["模式 model", "各层级结案占比 closed by level", "未结 open", "中位/P90 小时",
                              "超期 missed", "升级 esc.", "最忙部门 busiest dept", "网格员人均 per worker"]]
    for m in report.models:
        shares = " ".join(f"{lv['name']}{m['closed_share'][lv['id']] * 100:.0f}%" for lv in m["levels"])
        t = m["time_to_close_hours"]
        dept = m["departments"][0] if m["departments"] else None
        g = m["grid_workers"]
        rows.append([m["label"], shares, f"{m['closed_share']['open'] * 100:.1f}%",
                     f"{t['median']}/{t['p90']}", f"{m['deadline_missed_share'] * 100:.1f}%", str(m["escalated_cases"]),
                     f"{dept['name']} {dept['cases']}" if dept else "—",
                     f"{g['per_worker_mean']}" if g["per_worker_mean"] is not None else "—"])
    widths = [max(_w(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    indicator_lines = []
    for m in report.models:
        parts = [f"{v['name']} {v['value']}{'%' if v['unit'] == 'percent' else ''}"
                 for v in m["indicators"] if v["value"] is not None][:6]
        indicator_lines.append(f"{m['label']}: " + ";".join(parts))
        indicator_lines += [f"    {_scheme_line(s)}" for s in m["scores"]["schemes"]]
    d = report.diff
    return "\n".join(lines + ["", "指标与得分 indicators and scores:"] + ["  " + x for x in indicator_lines] + [
        "", (f"分歧事件: 流转不同 {d['routing_differs']} 件,仅结果不同 {d['outcome_only_differs']} 件 "
             f"(events where routing differs / only the outcome differs)")])


def _scheme_line(s: dict[str, Any]) -> str:
    """One scheme's scores in a line: mean/min/max over its subjects, and the leaders when ranking is on."""
    t = s["total"]
    if not s["subjects"]:
        return f"考核 {s['name']}: 没有考核对象 (no subjects in the replay)"
    line = f"考核 {s['name']}: {s['subjects']} 个{s['subject_name']} 平均 {t['mean']} 分(最低 {t['min']},最高 {t['max']})"
    if s.get("top"):
        line += ";排名前列 " + "、".join(f"{x['rank']}. {x['name']} {x['total']}" for x in s["top"][:3])
    return line


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)
