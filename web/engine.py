"""Engine objects (routing decisions, scoring schemes, dataclasses) as plain data for the portal's templates."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> Any:
    """Any engine object (dataclass, mapping, tuple) as plain JSON-like data for templates and storage."""
    if hasattr(value, "to_json"):
        return plain(value.to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def decision_view(decision: Any) -> dict[str, Any] | None:
    """A decision as ``{"summary": {...}, "trace": [...]}`` whatever its exact shape."""
    if decision is None:
        return None
    data = plain(decision)
    if not isinstance(data, dict):
        return {"summary": {"decision": data}, "trace": []}
    trace = data.pop("trace", []) or []
    return {"summary": data, "trace": trace if isinstance(trace, list) else [trace]}
