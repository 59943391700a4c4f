"""Someone with the database owner's rights lifts the triggers and edits the table: `audit_verify`
still refuses the chain and names the first sequence number that no longer fits."""

import io
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F

from audit import triggers
from audit.actor import Actor
from audit.chain import chain_hash
from audit.models import AuditEvent
from audit.services import record_event
from audit.triggers import TABLE

ROOT = Path(__file__).resolve().parents[2]


def _record_five():
    actor = Actor(user_id=1, name="agent", role="agency", organisation_id=9, ip="198.51.100.7")
    with transaction.atomic():
        return [record_event(by=actor, action=f"test.e{i}", tender_id=5, payload={"i": i}) for i in range(1, 6)]


@pytest.fixture
def unguarded():
    """The triggers lifted by hand, as only the database owner could; put back afterwards."""
    triggers.remove(connection)
    yield
    triggers.install(connection)


def _sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _swap_rows(a, b):
    _sql(f"UPDATE {TABLE} SET seq = -1 WHERE seq = %s", [a])
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [a, b])
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = -1", [b])


def _rehash_consistently(seq):
    """A careful forger: edit the body, and fix the row's own hash and columns to match."""
    row = AuditEvent.objects.get(seq=seq)
    body = row.body.replace('"test.e3"', '"test.forged"')
    _sql(f"UPDATE {TABLE} SET body = %s, action = %s, hash = %s WHERE seq = %s",
         [body, "test.forged", chain_hash(row.prev_hash, body), seq])


def _append_forged_row():
    head = AuditEvent.objects.get(seq=5)
    _sql(f"INSERT INTO {TABLE} (seq, occurred_at, actor_name, role, action, object_type, object_id, body, prev_hash, hash)"
         " VALUES (6, %s, 'x', '', 'test.e6', '', '', '{\"seq\":6}', %s, %s)",
         [head.occurred_at, head.hash, "f" * 64])


# SQLite: the same instant, spelt differently ("T" for " "); PostgreSQL: one microsecond later.
_RAW_TIME_TAMPER = {
    "sqlite": f"UPDATE {TABLE} SET occurred_at = replace(occurred_at, ' ', 'T') WHERE seq = 3",
    "postgresql": f"UPDATE {TABLE} SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 3",
}

TAMPERS = {
    "body changed": (lambda: _sql(f"UPDATE {TABLE} SET body = replace(body, '\"i\":3', '\"i\":33') WHERE seq = 3"),
                     3, "hash does not match the stored body"),
    "action column changed": (lambda: AuditEvent.objects.filter(seq=3).update(action="tender.award"),
                              3, "column 'action' differs"),
    "ip column changed": (lambda: AuditEvent.objects.filter(seq=3).update(ip="10.0.0.1"), 3, "column 'ip' differs"),
    "time column changed": (lambda: AuditEvent.objects.filter(seq=3).update(occurred_at=F("occurred_at") - timedelta(hours=1)),
                            3, "column 'time' differs"),
    "time column rewritten in raw SQL": (lambda: _sql(_RAW_TIME_TAMPER[connection.vendor]), 3, "column 'time' differs"),
    "middle row deleted": (lambda: _sql(f"DELETE FROM {TABLE} WHERE seq = 3"), 3, "sequence gap: expected 3, found 4"),
    "two rows swapped": (lambda: _swap_rows(3, 4), 3, "previous hash does not match"),
    "prev_hash changed": (lambda: _sql(f"UPDATE {TABLE} SET prev_hash = %s WHERE seq = 3", ["0" * 64]),
                          3, "previous hash does not match"),
    "row rehashed after edit": (lambda: _rehash_consistently(3), 4, "previous hash does not match"),
    "forged row appended": (_append_forged_row, 6, "hash does not match the stored body"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", TAMPERS)
def test_audit_verify_names_the_first_tampered_sequence_number(name, unguarded):
    tamper, bad_seq, reason = TAMPERS[name]
    _record_five()
    assert _verify()[0] == 0
    tamper()
    code, out, err = _verify()
    assert code == 1
    assert out == ""
    assert err.startswith(f"FAIL at seq {bad_seq}: {reason}")
    assert f"({bad_seq - 1} events verified before it)" in err


def _subprocess_env(tmp_path):
    """Reach the test database from another process."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
        env["DATABASE_URL"] = f"postgres://{auth}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"
    else:
        # The SQLite test database lives in memory: hand the other process a copy of it.
        tmp_path.mkdir(parents=True)
        target = sqlite3.connect(tmp_path / "db.sqlite3")
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        env["PLATFORM_DATA_DIR"] = str(tmp_path)
    return env


def _manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.django_db(transaction=True)
def test_audit_verify_from_the_command_line_exits_1_and_names_the_row(tmp_path, unguarded):
    events = _record_five()
    ok = _manage(_subprocess_env(tmp_path / "before"), "audit_verify")
    assert (ok.returncode, ok.stdout.strip()) == (0, f"OK 5 events, head {events[-1].hash}")

    _sql(f"DELETE FROM {TABLE} WHERE seq = 2")
    failed = _manage(_subprocess_env(tmp_path / "after"), "audit_verify")
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "FAIL at seq 2: sequence gap: expected 2, found 3" in failed.stderr


@pytest.mark.django_db
def test_a_chain_cut_short_is_caught_with_a_head_seen_before(unguarded):
    events = _record_five()
    out = io.StringIO()
    call_command("audit_verify", "--expect-head", events[3].hash, stdout=out)
    assert out.getvalue().strip() == f"OK 5 events, head {events[-1].hash}"

    _sql(f"DELETE FROM {TABLE} WHERE seq >= 4")
    assert _verify()[0] == 0  # the chain alone cannot tell that its tail is gone
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("audit_verify", "--expect-head", events[3].hash, stderr=err)
    assert exit_.value.code == 1
    assert err.getvalue().startswith(
        f"FAIL at the end of the chain: expected head {events[3].hash} is not on the chain (cut short?)")


def _insert_copy_of(seq, new_seq):
    _sql(f"INSERT INTO {TABLE} (seq, occurred_at, actor_id, actor_name, role, organisation_id, ip, action, object_type,"
         f" object_id, tender_id, body, prev_hash, hash) SELECT %s, occurred_at, actor_id, actor_name, role,"
         f" organisation_id, ip, action, object_type, object_id, tender_id, body, prev_hash, %s FROM {TABLE}"
         f" WHERE seq = %s", [new_seq, "e" * 64, seq])


@pytest.mark.django_db
def test_a_row_numbered_below_one_is_reported_even_though_inserts_are_allowed():
    _record_five()
    _insert_copy_of(2, -1)
    code, _out, err = _verify()
    assert code == 1
    assert err.startswith("FAIL at seq -1: row outside the chain")


@pytest.mark.django_db
def test_a_row_far_beyond_the_head_is_a_gap_found_without_walking_empty_pages():
    _record_five()
    _insert_copy_of(2, 10**15)
    code, _out, err = _verify()
    assert code == 1
    assert err.startswith(f"FAIL at seq 6: sequence gap: expected 6, found {10**15}")


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 2, 3, 10_000])
def test_paging_neither_skips_nor_repeats_rows_around_holes(batch_size, unguarded):
    from audit.chain import verify_events
    from audit.selectors import iter_stored_events

    _record_five()
    _sql(f"DELETE FROM {TABLE} WHERE seq IN (2, 3)")
    assert [event.seq for event in iter_stored_events(batch_size=batch_size)] == [1, 4, 5]
    verdict = verify_events(iter_stored_events(batch_size=batch_size))
    assert (verdict.bad_seq, verdict.reason) == (2, "sequence gap: expected 2, found 4")
