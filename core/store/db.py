"""Opening the database: SQLite (embedded default) or PostgreSQL, migrated to the current schema."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_URL = "sqlite:///wangge.sqlite"


# Frames (pages) a committing connection lets the WAL grow to before it checkpoints itself. The
# :class:`Checkpointer` thread normally checkpoints long before; this is the backstop if it cannot.
WAL_BACKSTOP_PAGES = 20_000


@dataclass
class Checkpointer:
    """Checkpoints a SQLite WAL from a thread of its own, a moment after commits, instead of inside them.

    With SQLite's automatic checkpoint (every 1,000 WAL pages) the committing request copies the WAL into
    the database and fsyncs both: on intake that was 2.3 ms of every 8th group commit, 54 µs per case out
    of a 230 µs write, on the event loop (bench/intake.py). SQLite's documentation suggests this instead:
    a PASSIVE checkpoint in another thread runs beside readers and the writer, mostly in C without the GIL,
    and one pass every ``interval`` also writes each hot page (index right edges) once rather than per
    checkpoint. Started by the first commit; stops with :meth:`close` (``Database.dispose``)."""

    engine: Engine
    interval: float = 0.1
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)
    _stop: bool = field(default=False, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def committed(self, _conn: Any = None) -> None:
        """A transaction committed: checkpoint within ``interval`` (cheap; called on every commit)."""
        self._wake.set()
        if self._thread is None and not self._stop:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="wangge-wal-checkpoint", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait()
            if self._stop:
                return
            time.sleep(self.interval)   # let commits accumulate: one pass writes each page once
            self._wake.clear()
            try:
                raw = self.engine.raw_connection()
                try:
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    raw.close()
            except Exception:  # noqa: BLE001 — a failed pass is retried after the next commit; the backstop remains
                continue

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


@dataclass(frozen=True)
class Database:
    url: str
    engine: Engine
    checkpointer: Checkpointer | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers run beside the writer; NORMAL sync is durable across app crashes in WAL mode.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _json_text(value: Any) -> str:
    # orjson: ~5x faster than json.dumps on the JSON columns every case change writes; keeps Chinese as is.
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


JSON_OPTIONS = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False}, **JSON_OPTIONS)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **JSON_OPTIONS)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; safe to run from several processes)."""
    command.upgrade(alembic_config(engine), "head")


def open_database(url: str = DEFAULT_URL, *, upgrade: bool = True) -> Database:
    engine = create(url)
    if upgrade:
        migrate(engine)
    checkpointer = None
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        checkpointer = Checkpointer(engine)
        event.listen(engine, "commit", checkpointer.committed)
    return Database(url, engine, checkpointer)
