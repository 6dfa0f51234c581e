"""Indicators and scores (wangge.core.scoring): computed in SQL over ``case_facts``, every point explained.

    values = compute_indicators(db, tenant, pack, parse_period("2026-03"), level="township")
    scores = score(db, tenant, pack, parse_period("2026-03"), "grid")   # Score.lines explain each point

See docs/scoring.md. The cases service writes the facts (``facts.record_step``) in each step's transaction.
"""
from .appeals import Appeal, AppealError, file_appeal, granted_appeals, withdraw_appeal
from .flags import Flag, find_flags
from .indicators import FACT_NAMES, IndicatorValue, compute_indicators, definition
from .inputs import InputError, import_inputs, read_inputs
from .period import Period, PeriodError, current_period, parse_period
from .score import Explanation, Score, ScoringError, schemes_for, score

__all__ = ["FACT_NAMES", "Appeal", "AppealError", "Explanation", "Flag", "IndicatorValue", "InputError", "Period",
           "PeriodError", "Score", "ScoringError", "compute_indicators", "current_period", "definition",
           "file_appeal", "find_flags", "granted_appeals", "import_inputs", "parse_period", "read_inputs",
           "schemes_for", "score", "withdraw_appeal"]
