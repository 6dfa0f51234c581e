"""Scores for a replayed model: the scoring engine's pure functions when they are installed, else nothing.

The scoring engine (``wangge.core.scoring``, built beside this package) scores stored cases: its
``compute_indicators`` and ``score`` take a database and count ``case_facts`` rows in SQL. A comparison has no
database, and writing 500,000 replayed cases into one to score them would cost more than the whole replay.
So it needs a pure function from indicator values (and fact counts) to points: when the engine exposes
``score_indicators(pack, values)`` this module calls it; until then the report shows the indicators, computed
in memory with the pack's own definitions (``indicators.py``), with a plain note — never an invented score.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..pack.model import Pack
from .indicators import IndicatorValue

NO_ENGINE = ("评分引擎 (wangge.core.scoring) 目前只在案件库上用 SQL 计分,没有可在内存中调用的评分函数;"
             "本报告按规则包声明的同一定义在内存中计算指标,不给出得分 (no in-memory scoring API yet: indicators only)")


def score_model(pack: Pack, values: Sequence[IndicatorValue], facts: Mapping[str, int]) -> dict[str, Any]:
    try:
        scoring = importlib.import_module("wangge.core.scoring")
    except ImportError:
        return {"engine": None, "total": None, "note": NO_ENGINE}
    fn = getattr(scoring, "score_indicators", None)
    if fn is None:
        return {"engine": None, "total": None, "note": NO_ENGINE}
    try:
        result = fn(pack, {v.id: v.value for v in values})
    except Exception as exc:  # noqa: BLE001 - a scoring failure must not lose the comparison
        return {"engine": "wangge.core.scoring", "total": None, "note": f"评分失败: {exc}"}
    if hasattr(result, "to_json"):
        result = result.to_json()
    return {"engine": "wangge.core.scoring", **(result if isinstance(result, Mapping) else {"total": result})}
