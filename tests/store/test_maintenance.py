"""What the store runs beside the writers (core/store/db.py): the background task after commits
(``AfterCommits``) runs a moment after commits, on its own thread, and retires when its task says it has
nothing more to do; the writer lock of a SQLite file is held by one process at a time."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

from sqlalchemy import text

from wangge.core.store import open_database
from wangge.core.store.db import AfterCommits, checkpoint_wal


def _wait(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_runs_after_commits_off_the_committing_thread_and_retires(sqlite_url):  # type: ignore[no-untyped-def]
    db = open_database(sqlite_url)
    runs: list[str] = []

    def task(engine) -> bool:  # type: ignore[no-untyped-def]
        runs.append(threading.current_thread().name)
        return len(runs) < 2

    after = AfterCommits(db.engine, task, interval=0.01)
    try:
        time.sleep(0.05)
        assert runs == []                     # nothing committed, nothing run
        after.committed()
        assert _wait(lambda: len(runs) == 1)
        after.committed()
        assert _wait(lambda: len(runs) == 2)
        assert after._thread is not None and _wait(lambda: not after._thread.is_alive())   # retired
        after.committed()
        time.sleep(0.05)
        assert runs == ["wangge-task"] * 2
    finally:
        after.close()
        db.dispose()


def test_sqlite_databases_checkpoint_their_wal_in_the_background(sqlite_url):  # type: ignore[no-untyped-def]
    db = open_database(sqlite_url)
    try:
        assert db.maintenance is not None and db.maintenance.task is checkpoint_wal
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
        for i in range(50):
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": "x" * 2000})
        thread = db.maintenance._thread
        assert thread is not None and thread.name == "wangge-checkpoint_wal" and thread.is_alive()
    finally:
        db.dispose()
    assert not thread.is_alive()


def test_the_writer_lock_of_a_sqlite_file_is_held_by_one_process_at_a_time(sqlite_url):  # type: ignore[no-untyped-def]
    db = open_database(sqlite_url)
    path = db.writer_lock.path
    assert path is not None and path.endswith(".writer-lock")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, path], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert db.writer_lock.acquire(blocking=False) is False
        started = time.monotonic()
        with db.writer_lock.held():             # blocks until the other process lets go (0.3 s)
            assert time.monotonic() - started >= 0.2
    finally:
        holder.wait(timeout=10)
        db.dispose()


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(0.3)
"""
