"""Stored submissions (table ``submissions``) and prefill from what is already stored.

A submission keeps the form id and version it was filled under, its typed values, and the labels its
choices and grid units had at that moment, so a form (or a grid) changed later never reinterprets it.
"""
from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from wangge.core.pack.model import Pack
from wangge.core.pack.sections.forms import Form
from wangge.core.store import Database
from wangge.core.store.tables import submissions

#: How many earlier submissions of a subject prefill looks through (newest first).
PREFILL_DEPTH = 50


@dataclass(frozen=True)
class Submission:
    id: str
    tenant: str
    pack_id: str
    form_id: str
    form_version: str
    subject_kind: str | None
    subject_key: str | None
    unit_code: str | None
    submitted_by: str
    submitted_at: datetime
    values: Mapping[str, Any]
    labels: Mapping[str, Any]


def display_labels(form: Form, pack: Pack, values: Mapping[str, Any]) -> dict[str, Any]:
    """The text shown for each choice or unit answer, as it reads today (stored with the answer)."""
    labels: dict[str, Any] = {}
    for f in form.fields:
        v = values.get(f.name)
        if v is None:
            continue
        if f.type == "select_one":
            labels[f.name] = f.choice_label(v)
        elif f.type == "select_multiple":
            labels[f.name] = [f.choice_label(x) for x in v]
        elif f.type == "unit" and v in pack.grid.units:
            labels[f.name] = " / ".join(u.name for u in reversed(list(pack.grid.ancestors(v))) if u.level in f.levels)
        elif f.type == "repeat":
            labels[f.name] = [{c.name: (c.choice_label(item[c.name]) if c.type == "select_one" else
                                        [c.choice_label(x) for x in item[c.name]])
                               for c in f.fields if c.type in ("select_one", "select_multiple") and c.name in item}
                              for item in v]
    return labels


@dataclass(frozen=True)
class SubmissionStore:
    database: Database
    tenant: str

    def save(self, pack: Pack, form: Form, values: Mapping[str, Any], *, submitted_by: str = "",
             at: datetime | None = None) -> Submission:
        key_field = form.key_field
        unit_field = next((f for f in form.fields if f.type == "unit"), None)
        row = {
            "tenant": self.tenant, "id": str(uuid.uuid4()), "pack_id": pack.id, "form_id": form.id,
            "form_version": form.version, "subject_kind": form.subject,
            "subject_key": str(values[key_field.name]) if key_field and key_field.name in values else None,
            "unit_code": values.get(unit_field.name) if unit_field else None,
            "submitted_by": submitted_by[:128], "submitted_at": at or datetime.now(UTC),
            "data": {"values": dict(values), "labels": display_labels(form, pack, values)},
        }
        with self.database.engine.begin() as conn:
            conn.execute(submissions.insert().values(**row))
        return _submission(row)

    def get(self, submission_id: str) -> Submission | None:
        query = select(submissions).where(submissions.c.tenant == self.tenant, submissions.c.id == submission_id)
        with self.database.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _submission(dict(row)) if row else None

    def list(self, form_id: str | None = None, limit: int = 100) -> list[Submission]:
        query = select(submissions).where(submissions.c.tenant == self.tenant)
        if form_id is not None:
            query = query.where(submissions.c.form_id == form_id)
        query = query.order_by(submissions.c.submitted_at.desc()).limit(limit)
        with self.database.engine.connect() as conn:
            return [_submission(dict(r)) for r in conn.execute(query).mappings()]

    def prefill(self, form: Form, key: str) -> dict[str, Any]:
        """Latest stored value of each registry field of ``form`` for the subject identified by ``key``
        (e.g. a person's 公民身份号码), from any form about the same kind of subject."""
        wanted = {f.name for f in form.fields if f.ref is not None and f.takes_input and f.type != "repeat"}
        key_field = form.key_field
        if key_field is None or not key or not wanted:
            return {}
        query = (select(submissions.c.data).where(
            submissions.c.tenant == self.tenant, submissions.c.subject_kind == form.subject,
            submissions.c.subject_key == key).order_by(submissions.c.submitted_at.desc()).limit(PREFILL_DEPTH))
        found: dict[str, Any] = {key_field.name: key}
        with self.database.engine.connect() as conn:
            for (data,) in conn.execute(query):
                for name, value in (data or {}).get("values", {}).items():
                    if name in wanted and name not in found:
                        found[name] = value
        return found


def _submission(row: Mapping[str, Any]) -> Submission:
    data = row["data"] or {}
    return Submission(row["id"], row["tenant"], row["pack_id"], row["form_id"], row["form_version"],
                      row["subject_kind"], row["subject_key"], row["unit_code"], row["submitted_by"],
                      row["submitted_at"], data.get("values", {}), data.get("labels", {}))


@dataclass(frozen=True)
class FileStore:
    """Uploaded files on disk, named by their sha256 (the same photo sent twice is stored once)."""

    directory: Path

    def put(self, digest: str, data: bytes) -> Path:
        target = self.directory / digest[:2] / digest
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # write-then-rename: a crash never leaves a half-written file under the final name
            fd, tmp = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        return target

    def path(self, digest: str) -> Path | None:
        target = self.directory / digest[:2] / digest
        return target if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) and target.exists() else None
