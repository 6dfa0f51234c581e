"""Indicators and scores (wangge.core.scoring): computed in SQL over ``case_facts``, every point explained.

    values = compute_indicators(db, tenant, pack, parse_period("2026-03"), level="township")
    scores = score(db, tenant, pack, parse_period("2026-03"), "grid")   # Score.lines explain each point

The same engine counts rows that were never stored (a comparison's replay) through a ``MemoryCounter``:

    counter = MemoryCounter.from_rows(rows, period, now)
    values = indicator_values(counter, pack, "county")
    scores = score_with(counter, pack, "grid")

See docs/scoring.md. The cases service writes the facts (``facts.record_step``) in each step's transaction.
"""
from .appeals import Appeal, AppealError, file_appeal, granted_appeals, withdraw_appeal
from .counting import FactCounter
from .flags import Flag, find_flags
from .indicators import (
           FACT_NAMES,
           IndicatorValue,
           compute_indicators,
           definition,
           indicator_values,
)
from .inputs import InputError, import_inputs, read_inputs
from .memory import FactRow, MemoryCounter, rows_from_mappings
from .period import Period, PeriodError, current_period, parse_period
from .score import Explanation, Score, ScoringError, schemes_for, score, score_with

__all__ = ["FACT_NAMES", "Appeal", "AppealError", "Explanation", "FactCounter", "FactRow", "Flag", "IndicatorValue",
           "InputError", "MemoryCounter", "Period", "PeriodError", "Score", "ScoringError", "compute_indicators",
           "current_period", "definition", "file_appeal", "find_flags", "granted_appeals", "import_inputs",
           "indicator_values", "parse_period", "read_inputs", "rows_from_mappings", "schemes_for", "score",
           "score_with", "withdraw_appeal"]
