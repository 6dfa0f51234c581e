"""Comparing pilot models on the same events (docs/compare.md).

>>> scenario = generate(pack, n=2000, seed=1)                       # doctest: +SKIP
>>> report = compare_packs([pack_a, pack_b], scenario.events)        # doctest: +SKIP
>>> report.to_json()["models"][0]["closed_share"]                    # doctest: +SKIP
"""
from .rates import Rates, load_rates
from .report import Report, compare_packs
from .scenario import Scenario, generate, read_jsonl, write_jsonl
from .vocab import ComparabilityError, RefEvent, Translator, check_comparable

__all__ = ["ComparabilityError", "Rates", "RefEvent", "Report", "Scenario", "Translator", "check_comparable",
           "compare_packs", "generate", "load_rates", "read_jsonl", "write_jsonl"]
