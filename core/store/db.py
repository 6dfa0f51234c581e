"""Opening the database: SQLite (embedded default) or PostgreSQL, migrated to the current schema."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

try:
    import fcntl
except ImportError:   # Windows: one process per SQLite file, or waits in SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_URL = "sqlite:///wangge.sqlite"


# Frames (pages) a committing connection lets the WAL grow to before it checkpoints itself. The
# checkpoint task (:func:`checkpoint_wal`) normally checkpoints long before; this is the backstop if it cannot.
WAL_BACKSTOP_PAGES = 20_000

# Seconds between WAL checkpoints while commits go on (see checkpoint_wal).
CHECKPOINT_INTERVAL = 0.01

# The tables opening a case writes; the ones whose young statistics :func:`analyze_young_tables` renews.
CASE_TABLES = ("cases", "transitions", "deadlines", "case_facts", "outbox")
# Rows in ``cases`` from which its statistics describe the table well enough to keep (see analyze_young_tables):
# foreign-key plans go wrong only on an empty table's statistics, and each look costs the database a count
# (looking once a second until 10,000 rows put a slow batch into every second of the intake bench).
GROWN_ROWS = 1_000
# Rows a young ``cases`` table must hold before it is worth analysing.
YOUNG_ROWS = 200


@dataclass
class AfterCommits:
    """Runs ``task(engine)`` on a thread of its own, a moment (``interval``) after commits, never inside one.

    Started by the first commit (a listener on the engine's ``commit`` event); the thread waits while nothing
    commits. ``task`` returns False when it has nothing more to do, which retires the thread. Stops with
    :meth:`close` (``Database.dispose``)."""

    engine: Engine
    task: Callable[[Engine], bool]
    interval: float
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)
    _stop: bool = field(default=False, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def committed(self, _conn: Any = None) -> None:
        """A transaction committed (cheap; called on every commit)."""
        self._wake.set()
        if self._thread is None and not self._stop:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=f"wangge-{self.task.__name__}",
                                                    daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait()
            if self._stop:
                return
            time.sleep(self.interval)   # let commits accumulate: one pass serves all of them
            self._wake.clear()
            try:
                if not self.task(self.engine):
                    self._stop = True
            except Exception:  # noqa: BLE001 — a failed pass is retried after the next commit
                continue

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


def checkpoint_wal(engine: Engine) -> bool:
    """SQLite: a PASSIVE checkpoint of the WAL, run by :class:`AfterCommits` every ``CHECKPOINT_INTERVAL``
    while commits go on.

    With SQLite's automatic checkpoint (every 1,000 WAL pages) the committing request copies the WAL into
    the database and fsyncs both: on intake that was 2.3 ms of every 8th group commit, 54 µs per case out
    of a 230 µs write, on the event loop (bench/intake.py). SQLite's documentation suggests this instead:
    a PASSIVE checkpoint in another thread runs beside readers and the writer, mostly in C without the GIL.

    Why so often: under steady writes the WAL can only start over when a checkpoint has caught up just
    before a transaction begins, so it mostly grows to the ``WAL_BACKSTOP_PAGES`` backstop, where the
    committing request checkpoints what is left and fsyncs every WAL page written since the last pass.
    Frequent passes leave little for that request. Intake p99 with two workers (bench/intake.py) was
    24–34 ms with passes 0.1 s apart, 16–28 ms at 0.02 s, and 12–22 ms at 0.01 s (most runs 12–14 ms)."""
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()
    return True


KNOWN_ROWS = text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)")
# Counted, not taken from the stats collector: a backend reports its inserts up to 10 s late once idle.
LIVE_ROWS = text("SELECT count(*) FROM (SELECT 1 FROM cases LIMIT :cap) AS young")


def analyze_young_tables(engine: Engine, *, grown: int = GROWN_ROWS, young: int = YOUNG_ROWS) -> bool:
    """PostgreSQL: ANALYZE the case tables while they are young and their statistics are stale.

    Why: PostgreSQL plans the foreign-key check of each row written into transitions, deadlines and
    case_facts once per connection, with the statistics of the moment. Planned while ``cases`` was empty,
    it looks the case up through ``(tenant, unit_code, reported_at)`` with only ``tenant`` as the key: a
    scan of the whole county that grows with every case (measured: a 16-case batch went from 8 to 94 ms
    over the first 10,000 cases). Autovacuum would analyze and replan, but only on its next round (a
    minute by default) and not at all where it is off. Analysing renews every connection's plans. Returns
    False (retire) once ``cases`` has statistics for ``grown`` rows: plans made from them stay right
    as the table grows, and autovacuum keeps them from there."""
    with engine.connect() as conn:
        known = conn.execute(KNOWN_ROWS, {"table": "cases"}).scalar_one()
        if known >= grown:
            return False
        live = conn.execute(LIVE_ROWS, {"cap": grown}).scalar_one()
        if live >= young and known < live / 2:
            conn.execute(text("ANALYZE " + ", ".join(CASE_TABLES)))
            conn.commit()
            # Not the tables' owner: PostgreSQL skips them with a warning; asking again would not help.
            return conn.execute(KNOWN_ROWS, {"table": "cases"}).scalar_one() >= 0
    return True


@dataclass
class WriterLock:
    """One batch writer at a time across the processes that share a SQLite file (``wangge serve --workers``).

    Why: SQLite lets one transaction write at a time, and a process that finds the file locked sleeps in
    SQLite's busy handler (1, 2, 5, 10 … ms) before trying again. With two intake workers each sat idle
    28% of the time (bench/intake.py: 72% CPU per process). Waiting on a lock file with ``flock`` instead
    hands the turn over the moment the holder lets go. Within a process it is an ordinary thread lock;
    without a file (PostgreSQL, in-memory SQLite, or no ``fcntl``) only that."""

    path: str | None = None
    _threads: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _fd: int | None = field(default=None, repr=False)

    def acquire(self, blocking: bool = True) -> bool:
        """Take the turn; with ``blocking=False`` return False at once if another thread or process has it."""
        if not self._threads.acquire(blocking):
            return False
        if self.path is None or fcntl is None:
            return True
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def close(self) -> None:
        with self._threads:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


@dataclass(frozen=True)
class Database:
    url: str
    engine: Engine
    maintenance: AfterCommits | None = None   # the dialect's background task after commits
    writer_lock: WriterLock = field(default_factory=WriterLock)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        if self.maintenance is not None:
            self.maintenance.close()
        self.writer_lock.close()
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


def json_text(value: Any) -> str:
    """The text of a JSON column's value, as every engine here writes it (also used to pass whole rows to
    PostgreSQL as JSON: core/cases/service.py, RecordsetInsert, must produce the same column text)."""
    # orjson: ~5x faster than json.dumps on the JSON columns every case change writes; keeps Chinese as is.
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


JSON_OPTIONS = {"json_serializer": json_text, "json_deserializer": orjson.loads}


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
    maintenance, lock = None, WriterLock()
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        maintenance = AfterCommits(engine, checkpoint_wal, interval=CHECKPOINT_INTERVAL)
        lock = WriterLock(f"{engine.url.database}.writer-lock")
    elif engine.dialect.name == "postgresql":
        maintenance = AfterCommits(engine, analyze_young_tables, interval=1.0)
    if maintenance is not None:
        event.listen(engine, "commit", maintenance.committed)
    return Database(url, engine, maintenance, lock)
