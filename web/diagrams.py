"""Charts and diagrams as server-rendered inline SVG: no chart library, nothing fetched, small on a phone.

Every text goes through ``esc`` (these strings are built here, not by Jinja, so they escape themselves);
the result is passed to templates as ``Markup``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from markupsafe import Markup


def esc(text: Any) -> str:
    return escape(str(text), quote=True)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None       # a ratio 0..1 (shown as %) or a count
    note: str = ""


def bar_chart(title: str, bars: Sequence[Bar], *, percent: bool = True, width: int = 320) -> Markup:
    """Horizontal bars, one per row; ``None`` values are drawn as 无数据."""
    row, label_w, pad = 22, 110, 4
    height = row * len(bars) + 26
    top = max([b.value or 0 for b in bars] + [1.0 if percent else 1])
    bar_w = width - label_w - 60
    out = [f'<svg class="chart" role="img" aria-label="{esc(title)}" viewBox="0 0 {width} {height}" '
           f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
           f'<text x="0" y="14" class="t">{esc(title)}</text>']
    for i, b in enumerate(bars):
        y = 22 + i * row
        label = b.label if len(b.label) <= 8 else b.label[:7] + "…"
        out.append(f'<text x="0" y="{y + 14}" class="l"><title>{esc(b.label)}</title>{esc(label)}</text>')
        if b.value is None:
            out.append(f'<text x="{label_w}" y="{y + 14}" class="v">无数据</text>')
            continue
        w = max(1, round(bar_w * (b.value / top))) if top else 1
        text = f"{b.value * 100:.1f}%" if percent else f"{b.value:g}"
        out.append(f'<rect x="{label_w}" y="{y + pad}" width="{w}" height="{row - 2 * pad}" class="b"/>'
                   f'<text x="{label_w + w + 4}" y="{y + 14}" class="v">{esc(text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def workflow_svg(wf: Any) -> Markup:
    """The states top to bottom in declared order; forward transitions on the right, backward on the left."""
    states = list(wf.states.values())
    index = {s.id: i for i, s in enumerate(states)}
    box_w, box_h, gap, left = 150, 30, 26, 150
    height = len(states) * (box_h + gap) + 20
    width = left + box_w + 190
    out = [f'<svg class="wf" role="img" aria-label="工作流程图 {esc(wf.name)}" viewBox="0 0 {width} {height}" '
           f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{esc(wf.name)}</title>'
           '<defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
           'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="ah"/></marker></defs>']
    for i, s in enumerate(states):
        y = 10 + i * (box_h + gap)
        out.append(f'<rect x="{left}" y="{y}" width="{box_w}" height="{box_h}" rx="6" class="st {esc(s.kind)}"/>'
                   f'<text x="{left + box_w / 2}" y="{y + 20}" text-anchor="middle" class="sn">{esc(s.name)}</text>')
    right_lane, left_lane = 0, 0
    for t in wf.transitions:
        if t.to is None or t.to not in index:
            continue
        sources = [s for s in t.sources if s in index] or ([] if "*" not in t.sources else [])
        for src in sources[:3]:
            a, b = index[src], index[t.to]
            ya = 10 + a * (box_h + gap) + box_h / 2
            yb = 10 + b * (box_h + gap) + box_h / 2
            if b >= a:
                right_lane = right_lane % 6 + 1
                x = left + box_w + 12 * right_lane
                path = f"M{left + box_w} {ya} H{x} V{yb} H{left + box_w + 2}"
                lx, anchor = x + 3, "start"
            else:
                left_lane = left_lane % 6 + 1
                x = left - 12 * left_lane
                path = f"M{left} {ya} H{x} V{yb} H{left - 2}"
                lx, anchor = x - 3, "end"
            out.append(f'<path d="{path}" class="tr" marker-end="url(#ah)"><title>{esc(t.name)}</title></path>'
                       f'<text x="{lx}" y="{(ya + yb) / 2 + 4}" text-anchor="{anchor}" class="tl">{esc(t.name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
