"""Memo keys from an event's attributes: only what an expression actually reads.

Routing conditions, workflow conditions and indicator filters read a handful of event fields. Replaying
100,000 events through five packs is fast because most events share the values of those few fields, so an
answer computed once (with the real engine) is reused for every event with the same values.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from ..events import Event

CLASS_FIELDS = frozenset({"class", "major", "ref_class", "ref_major"})
UNIT_FIELDS = frozenset({"unit", "level", "zone"})
CHANNEL_FIELDS = frozenset({"channel", "ref_channel"})
PLAIN_FIELDS = ("urgency", "people", "reporter_role", "id")
EVENT_NAMES = CLASS_FIELDS | UNIT_FIELDS | CHANNEL_FIELDS | frozenset(PLAIN_FIELDS) | {"reported_at", "hour", "weekday"}


class LocalEvent(NamedTuple):
    """One reference event in one pack's vocabulary (a NamedTuple: built 500,000 times in the bench)."""

    id: str
    event_class: str
    channel: str
    unit: str
    reported_at: datetime
    urgency: str
    people: int
    reporter_role: str
    data: Mapping[str, Any]

    def event(self) -> Event:
        return Event(id=self.id, event_class=self.event_class, channel=self.channel, unit=self.unit,
                     reported_at=self.reported_at, urgency=self.urgency, people=self.people,
                     reporter_role=self.reporter_role, data=MappingProxyType(dict(self.data)))


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def key_function(variables: Iterable[str], extra: frozenset[str] = frozenset()) -> Callable[[LocalEvent], tuple]:
    """A function LocalEvent → tuple of the values ``variables`` depend on. Names in ``extra`` (case fields
    such as ``state``) are the caller's business and ignored here."""
    roots = {v.split(".")[0] for v in variables} - extra
    attrs: list[str] = []
    if roots & CLASS_FIELDS:
        attrs.append("event_class")
    if roots & UNIT_FIELDS:
        attrs.append("unit")
    if roots & CHANNEL_FIELDS:
        attrs.append("channel")
    attrs += [n for n in PLAIN_FIELDS if n in roots]
    getters: list[Callable[[LocalEvent], Any]] = []
    if "reported_at" in roots:
        attrs.append("reported_at")
    else:
        if "hour" in roots:
            getters.append(lambda e: e.reported_at.hour)
        if "weekday" in roots:
            getters.append(lambda e: e.reported_at.isoweekday())
    for name in sorted(roots - EVENT_NAMES - {"route"}):  # form fields: read from data
        getters.append(lambda e, n=name: _hashable(e.data.get(n)))
    if not getters:  # the common case: attrgetter builds the tuple in C
        if not attrs:
            return lambda e: ()
        if len(attrs) == 1:
            one = attrgetter(attrs[0])
            return lambda e: (one(e),)
        return attrgetter(*attrs)
    base = attrgetter(*attrs) if attrs else None
    if base is not None and len(attrs) == 1:
        single = base
        base = lambda e: (single(e),)
    if base is None:
        return lambda e: tuple(g(e) for g in getters)
    return lambda e: base(e) + tuple(g(e) for g in getters)
