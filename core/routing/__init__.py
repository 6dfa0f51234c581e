"""Routing: a pack's decision tables compiled to an indexed fast path, and cross-event patterns.

>>> router = Router.from_pack(pack)                      # doctest: +SKIP
>>> router.decide(event).to_json()                       # doctest: +SKIP
"""
from .decision import Decision, RoutingError, TraceStep
from .router import Router

__all__ = ["Decision", "Router", "RoutingError", "TraceStep"]
