"""Every table of wangge. Each carries the county (tenant) id as the leading part of its primary key and
of every index, so a province can distribute the schema by county (e.g. Citus, distribution column
``tenant``) without a migration, and one county's queries never touch another's rows."""
from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, ForeignKeyConstraint, Index, Integer,
                        MetaData, String, Table, Text)

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
})

TENANT = 64  # length of a tenant id: a pack id or a short county slug


def tenant_column() -> Column:
    return Column("tenant", String(TENANT), primary_key=True, nullable=False)


# One row per published pack version: cases pin the version they were routed under.
pack_versions = Table(
    "pack_versions", metadata,
    tenant_column(),
    Column("pack_id", String(128), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("published_by", String(128), nullable=False, default=""),
    Column("content", JSON, nullable=False),
)

# Form submissions, stored with the form id and version they were filled under.
submissions = Table(
    "submissions", metadata,
    tenant_column(),
    Column("id", String(36), primary_key=True),
    Column("pack_id", String(128), nullable=False),
    Column("form_id", String(128), nullable=False),
    Column("form_version", String(64), nullable=False),
    Column("subject_kind", String(32), nullable=True),
    Column("subject_key", String(128), nullable=True),
    Column("unit_code", String(64), nullable=True),
    Column("submitted_by", String(128), nullable=False, default=""),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("data", JSON, nullable=False),
    Index(None, "tenant", "form_id", "submitted_at"),
    Index(None, "tenant", "subject_kind", "subject_key", "submitted_at"),
)

cases = Table(
    "cases", metadata,
    tenant_column(),
    Column("id", String(36), primary_key=True),
    Column("pack_id", String(128), nullable=False),
    Column("pack_version", String(32), nullable=False),
    Column("external_id", String(128), nullable=True),   # e.g. 12345 工单编号, for idempotent intake
    Column("channel", String(64), nullable=False),
    Column("event_class", String(64), nullable=False),
    Column("ref_class", String(64), nullable=False),     # the reference class, for cross-model comparison
    Column("unit_code", String(64), nullable=False),     # where the event happened
    Column("zone", String(4), nullable=True),
    Column("state", String(64), nullable=False),
    Column("level", String(64), nullable=False),         # the level now handling the case
    Column("handler_unit", String(64), nullable=True),
    Column("lead", String(128), nullable=True),          # 主办
    Column("assist", JSON, nullable=False, default=list),   # 协办
    Column("priority", Integer, nullable=False, default=0),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("reported_by", String(128), nullable=False, default=""),
    Column("event", JSON, nullable=False),               # the event as reported
    Column("decision", JSON, nullable=False),            # the routing decision with its trace
    Column("seq", Integer, nullable=False, default=0),   # last transition number (optimistic concurrency)
    Column("supervised", Boolean, nullable=False, default=False),  # 督办: marked by an escalation rule
    Column("vars", JSON, nullable=False, default=dict),  # workflow counters: returns, reworks, extensions, summons …
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Index(None, "tenant", "state", "level"),
    Index(None, "tenant", "due_at"),                     # overdue lists
    Index(None, "tenant", "unit_code", "reported_at"),
    Index(None, "tenant", "event_class", "reported_at"),
    Index(None, "tenant", "external_id", unique=True),
)

# Append-only history: who did what, when, under which rule and pack version.
transitions = Table(
    "transitions", metadata,
    tenant_column(),
    Column("case_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("role", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("from_state", String(64), nullable=True),
    Column("to_state", String(64), nullable=False),
    Column("rule", String(128), nullable=True),
    Column("pack_version", String(32), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("data", JSON, nullable=False, default=dict),
    ForeignKeyConstraint(["tenant", "case_id"], ["cases.tenant", "cases.id"]),
    Index(None, "tenant", "at"),
)

# Deadlines as rows with an indexed due time: escalation workers claim the due ones.
deadlines = Table(
    "deadlines", metadata,
    tenant_column(),
    Column("case_id", String(36), primary_key=True),
    Column("kind", String(96), primary_key=True),        # e.g. handle, summons:<dept>, return
    Column("due_at", DateTime(timezone=True), nullable=False),   # when the next escalation step fires
    Column("deadline_at", DateTime(timezone=True), nullable=False),  # the deadline itself (超期 from here)
    Column("stage", Integer, nullable=False, default=0),  # escalation steps already applied
    Column("state", String(64), nullable=True),           # the case state when the deadline was set
    Column("done", Boolean, nullable=False, default=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    ForeignKeyConstraint(["tenant", "case_id"], ["cases.tenant", "cases.id"]),
    Index(None, "tenant", "done", "due_at"),
)

# Notifications and plugin deliveries go through the outbox, never inline.
outbox = Table(
    "outbox", metadata,
    tenant_column(),
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=True),
    Column("kind", String(64), nullable=False),          # notify, webhook, hotline_reply …
    Column("target", String(256), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(64), nullable=True),     # the worker running the current attempt (0002)
    Column("sent_at", DateTime(timezone=True), nullable=True),   # when it was delivered (0002)
    Index(None, "tenant", "status", "next_at"),
)

# Portal users of one county (tenant): a role bound to a unit; scope is that unit and everything below it.
# ``role`` is a grid role id from the pack, ``dept:<department id>``, ``admin`` (政法委) or ``resident``.
users = Table(
    "users", metadata,
    tenant_column(),
    Column("username", String(64), primary_key=True),
    Column("display_name", String(128), nullable=False, default=""),
    Column("password_hash", String(256), nullable=False),  # scrypt$n$r$p$salt$hash (hex)
    Column("role", String(128), nullable=False),
    Column("unit_code", String(64), nullable=True),        # None: the whole county (admin)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

# API tokens (used by web/api/): only the sha256 of the token is stored.
api_tokens = Table(
    "api_tokens", metadata,
    tenant_column(),
    Column("id", String(36), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("scopes", JSON, nullable=False, default=list),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Index(None, "tenant", "token_hash", unique=True),
)

# Who did what outside the case history: logins, user changes, pack publications.
audit_log = Table(
    "audit_log", metadata,
    tenant_column(),
    Column("id", String(36), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
    Index(None, "tenant", "at"),
)

# Indicator facts, one row per fact recorded on a case (core/scoring/facts.py, written by the cases service in
# the transaction of the step). Denormalised (unit, class, channel, reporter …) so indicators aggregate this one
# table with a covering index and never join the wide ``cases`` rows. ``seq`` is the transition number;
# seq 0 is the derived 应结案 row: ``at`` = the handle deadline, ``closed_at`` = when the case closed.
case_facts = Table(
    "case_facts", metadata,
    tenant_column(),
    Column("case_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("fact", String(32), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("unit_code", String(64), nullable=False),     # where the event happened
    Column("handler_unit", String(64), nullable=True),
    Column("lead", String(128), nullable=True),          # 主办 at the time of the fact
    Column("actor", String(128), nullable=True),         # who took the step
    Column("reporter", String(128), nullable=True),
    Column("event_class", String(64), nullable=True),
    Column("ref_class", String(64), nullable=True),
    Column("channel", String(64), nullable=True),
    Column("zone", String(4), nullable=True),
    Column("reported_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),   # on the 应结案 row only
    ForeignKeyConstraint(["tenant", "case_id"], ["cases.tenant", "cases.id"]),
    Index(None, "tenant", "fact", "at", "unit_code", "case_id"),   # covering: per-unit counts of one period
    Index(None, "tenant", "fact", "lead", "at"),                    # department (条) subjects
)

# 申诉: an appealed case excluded from indicators and scores, or re-judged (facts added/removed), with who/when/why.
appeals = Table(
    "appeals", metadata,
    tenant_column(),
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),          # exclude | rejudge
    Column("add_facts", JSON, nullable=False, default=list),
    Column("remove_facts", JSON, nullable=False, default=list),
    Column("status", String(16), nullable=False, default="granted"),   # granted | withdrawn
    Column("by", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Index(None, "tenant", "case_id"),
)

# Score inputs from outside the case history: third-party satisfaction surveys (第三方满意度) and the ratings
# one side gives the other in 条块双向考核, per period, subject and rater.
score_inputs = Table(
    "score_inputs", metadata,
    tenant_column(),
    Column("period", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),        # satisfaction | rating
    Column("subject", String(128), primary_key=True),    # unit code or department id
    Column("rater", String(128), primary_key=True),      # survey body, or the rating unit/department
    Column("value", Float, nullable=False),              # the score as surveyed (its scale is in the pack)
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("imported_by", String(128), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
)
