"""The ``pack:`` manifest of the pack being loaded (never merged: a manifest describes one pack)."""
from __future__ import annotations

from datetime import date
from typing import Any

from ..model import Manifest, Source


def compile_manifest(raw: dict[str, Any]) -> Manifest:
    extends = raw.get("extends") if isinstance(raw.get("extends"), dict) else {}
    return Manifest(
        id=raw["id"], name=raw["name"], region=raw["region"], version=raw["version"],
        name_en=raw.get("name_en", ""), extends_id=extends.get("id"), extends_range=extends.get("version", ""),
        effective=as_date(raw.get("effective")),
        reference=bool(raw.get("reference", False)), description=raw.get("description", ""),
        sources=tuple(_source(s) for s in raw.get("sources", []) if isinstance(s, dict)),
    )


def as_date(value: Any) -> date | None:
    """YAML reads 2019-08-01 as a date; a quoted "2019-08-01" stays text. Both mean the same day."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None  # a year or year-month only: kept in the text, not as a day
    return None


def _source(raw: dict[str, Any]) -> Source:
    return Source(id=raw["id"], title=raw["title"], publisher=raw.get("publisher", ""),
                  date=as_date(raw.get("date")),
                  doc_no=raw.get("doc_no"), file=raw.get("file", ""), url=raw.get("url", ""))
