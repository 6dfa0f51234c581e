"""Inline SVG charts for the comparison report and the portal page: no JavaScript, nothing fetched.

Every text is escaped here (the strings are built outside Jinja); callers mark the result safe.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from math import log10
from typing import Any

PALETTE = ("#1f6feb", "#2da44e", "#bf8700", "#cf222e", "#8250df", "#0a7ea4", "#6e7781")
OPEN_COLOR = "#d0d7de"


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _short(text: str, n: int = 14) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def level_shares(models: Sequence[Mapping[str, Any]], key: str = "closed_share", width: int = 640) -> str:
    """One stacked bar per model: the share of events closed (or routed) at each level, then still open."""
    levels: list[tuple[str, str]] = []
    for m in models:
        for lv in m["levels"]:
            if lv["id"] not in [x for x, _ in levels]:
                levels.append((lv["id"], lv["name"]))
    color = {lv: PALETTE[i % len(PALETTE)] for i, (lv, _) in enumerate(levels)}
    label_w, row, top = 170, 26, 8
    bar_w = width - label_w - 10
    legend_y = top + row * len(models) + 8
    height = legend_y + 22
    title = "各层级结案占比" if key == "closed_share" else "各层级受理占比"
    out = [(f'<svg role="img" aria-label="{title}" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg" class="chart"><title>{title}</title>')]
    for i, m in enumerate(models):
        y = top + i * row
        out.append(f'<text x="0" y="{y + 16}" class="l">{_e(_short(m["label"], 24))}</text>')
        x = float(label_w)
        shares = m[key]
        for lv, _ in levels + [("open", "未结")]:
            share = shares.get(lv, 0.0) or 0.0
            if share <= 0:
                continue
            w = bar_w * share
            fill = OPEN_COLOR if lv == "open" else color[lv]
            out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{fill}">'
                       f'<title>{_e(lv)} {share * 100:.1f}%</title></rect>')
            if w > 34:
                out.append(f'<text x="{x + 3:.1f}" y="{y + 16}" class="in">{share * 100:.0f}%</text>')
            x += w
    x = float(label_w)
    for lv, name in levels + ([("open", "未结")] if key == "closed_share" else []):
        fill = OPEN_COLOR if lv == "open" else color[lv]
        out.append(f'<rect x="{x:.0f}" y="{legend_y}" width="10" height="10" fill="{fill}"/>'
                   f'<text x="{x + 13:.0f}" y="{legend_y + 9}" class="s">{_e(name)}</text>')
        x += 20 + 12 * len(name)
    out.append("</svg>")
    return "".join(out)


TICKS = ((1, "1小时"), (8, "8小时"), (24, "1天"), (168, "1周"), (720, "30天"), (2160, "90天"))


def time_boxes(models: Sequence[Mapping[str, Any]], width: int = 640) -> str:
    """Time to close per model on a log scale: whiskers p10–p90, box p25–p75, a line at the median."""
    label_w, row, top = 170, 28, 8
    plot_w = width - label_w - 16
    values = [v for m in models for v in m["time_to_close_hours"].values() if v]
    lo = 0.25
    hi = max([2160.0] + values) if values and max(values) > 2160 else 2160.0

    def x(h: float | None) -> float:
        h = max(lo, min(hi, h or lo))
        return label_w + plot_w * (log10(h) - log10(lo)) / (log10(hi) - log10(lo))

    height = top + row * len(models) + 26
    title = "结案用时(小时,对数刻度):须线 P10–P90,箱体 P25–P75,竖线为中位数"
    out = [(f'<svg role="img" aria-label="结案用时" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg" class="chart"><title>{_e(title)}</title>')]
    axis_y = top + row * len(models) + 4
    for hours, name in TICKS:
        xx = x(hours)
        out.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{axis_y}" class="grid"/>'
                   f'<text x="{xx:.1f}" y="{axis_y + 14}" text-anchor="middle" class="s">{name}</text>')
    for i, m in enumerate(models):
        q = m["time_to_close_hours"]
        y = top + i * row
        out.append(f'<text x="0" y="{y + 17}" class="l">{_e(_short(m["label"], 24))}</text>')
        if q.get("median") is None:
            out.append(f'<text x="{label_w}" y="{y + 17}" class="s">无结案</text>')
            continue
        mid = y + row / 2
        c = PALETTE[i % len(PALETTE)]
        out.append(f'<line x1="{x(q["p10"]):.1f}" y1="{mid}" x2="{x(q["p90"]):.1f}" y2="{mid}" stroke="{c}"/>'
                   f'<rect x="{x(q["p25"]):.1f}" y="{y + 5}" width="{max(1.0, x(q["p75"]) - x(q["p25"])):.1f}" '
                   f'height="{row - 10}" fill="{c}" fill-opacity="0.35" stroke="{c}"/>'
                   f'<line x1="{x(q["median"]):.1f}" y1="{y + 3}" x2="{x(q["median"]):.1f}" y2="{y + row - 3}" '
                   f'stroke="{c}" stroke-width="3"><title>中位数 {q["median"]} 小时,P90 {q["p90"]} 小时</title></line>')
    out.append("</svg>")
    return "".join(out)


def bars(title: str, items: Sequence[tuple[str, float | None]], percent: bool = True, width: int = 640) -> str:
    label_w, row = 170, 22
    height = 24 + row * len(items)
    top_value = max([v or 0 for _, v in items] + [1e-9])
    plot_w = width - label_w - 70
    out = [(f'<svg role="img" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg" class="chart"><title>{_e(title)}</title>'
            f'<text x="0" y="14" class="t">{_e(title)}</text>')]
    for i, (label, v) in enumerate(items):
        y = 20 + i * row
        out.append(f'<text x="0" y="{y + 14}" class="l">{_e(_short(label, 24))}</text>')
        if v is None:
            out.append(f'<text x="{label_w}" y="{y + 14}" class="s">无数据</text>')
            continue
        w = max(1.0, plot_w * v / top_value)
        text = f"{v * 100:.1f}%" if percent else f"{v:g}"
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" class="s">{_e(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def all_charts(models: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The charts both the HTML report and the portal page show, by name."""
    return {
        "closed": level_shares(models, "closed_share"),
        "routed": level_shares(models, "routed_share"),
        "time": time_boxes(models),
        "missed": bars("超期率(办理期限内未结案)", [(m["label"], m["deadline_missed_share"]) for m in models]),
        "escalated": bars("升级件占比(至少触发一步超期升级)",
                          [(m["label"], m["escalated_cases"] / m["events"] if m["events"] else None) for m in models]),
    }
