"""Many writers at once still make one unbroken chain: appends are serialised (PostgreSQL advisory
lock; SQLite's single writer, taken at BEGIN IMMEDIATE)."""

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, transaction

from audit.actor import Actor
from audit.models import AuditEvent
from audit.selectors import verify_chain
from audit.services import record_event
from audit.triggers import TABLE

ROOT = Path(__file__).resolve().parents[2]

THREADS = 8
EACH = 50


def _append_concurrently(threads=THREADS, each=EACH):
    start = threading.Barrier(threads)
    errors = []

    def writer(n):
        actor = Actor(user_id=n, name=f"writer{n}", role="bidder", organisation_id=n, ip=f"192.0.2.{n}")
        try:
            start.wait()
            for i in range(each):
                with transaction.atomic():  # one transaction per event, as a service does
                    record_event(by=actor, action="test.concurrent", payload={"writer": n, "i": i})
        except Exception as error:  # noqa: BLE001 — reported to the main thread below
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not errors, errors
    assert not any(worker.is_alive() for worker in workers)


def _assert_rows_form_one_chain(rows, total):
    assert [row[0] for row in rows] == list(range(1, total + 1))  # no gap, no duplicate
    assert len({row[1] for row in rows}) == total  # no fork: no two events share a predecessor
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, total))
    assert sorted(sum(1 for row in rows if row[3] == n) for n in range(THREADS)) == [total // THREADS] * THREADS


def _assert_one_unbroken_chain(total):
    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "hash", "actor_id"))
    _assert_rows_form_one_chain(rows, total)
    times = list(AuditEvent.objects.order_by("seq").values_list("occurred_at", flat=True))
    assert times == sorted(times)  # the time is taken under the lock, so it follows the chain
    verdict = verify_chain()
    assert (verdict.ok, verdict.count, verdict.head) == (True, total, rows[-1][2])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL pointing at PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_eight_writers_on_postgresql_make_one_chain_of_400():
    _append_concurrently()
    _assert_one_unbroken_chain(THREADS * EACH)



@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite variant")
@pytest.mark.django_db(transaction=True)
def test_eight_writers_on_sqlite_make_one_chain_of_400(tmp_path):
    # The in-memory test database uses SQLite's shared cache, whose table locks fail at once
    # instead of waiting; the platform runs on a file in WAL mode. So copy the migrated schema
    # (with its triggers) into a file and let another process hammer it with 8 threads.
    target = sqlite3.connect(tmp_path / "db.sqlite3")
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PLATFORM_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    run = [sys.executable, "-m", "tests.audit.sqlite_writers", str(THREADS), str(EACH)]
    writers = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert writers.returncode == 0, writers.stderr

    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        rows = db.execute(f"SELECT seq, prev_hash, hash, actor_id FROM {TABLE} ORDER BY seq").fetchall()
    _assert_rows_form_one_chain(rows, THREADS * EACH)
    verify = subprocess.run([sys.executable, "manage.py", "audit_verify"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr
    assert (verify.returncode, verify.stdout.strip(), verify.stderr) == (0, f"OK {THREADS * EACH} events, head {rows[-1][2]}", "")
