"""The database itself refuses to change or remove audit events (E49), whatever path the write
takes: the ORM, raw SQL, or (on PostgreSQL) TRUNCATE. Runs on SQLite, and on PostgreSQL when
DATABASE_URL is set."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.actor import Actor
from audit.models import AuditEvent
from audit.selectors import verify_chain
from audit.services import record_event
from audit.triggers import MESSAGE, TABLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    with transaction.atomic():
        return [record_event(by=Actor.system("test"), action=f"test.e{i}", payload={"i": i}) for i in range(3)]


def _refused(write):
    """Run one write in its own savepoint (PostgreSQL aborts the transaction on error)."""
    with pytest.raises(DatabaseError, match=MESSAGE):
        with transaction.atomic():
            write()


def _unchanged(events):
    assert list(AuditEvent.objects.values_list("seq", "action", "hash")) == [(e.seq, e.action, e.hash) for e in events]
    assert verify_chain().ok


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_orm_update_of_a_queryset_is_refused(events):
    _refused(lambda: AuditEvent.objects.filter(seq=2).update(action="tender.forged"))
    _unchanged(events)


def test_orm_save_of_a_changed_instance_is_refused(events):
    event = AuditEvent.objects.get(seq=2)
    event.actor_name = "someone else"
    _refused(event.save)
    _unchanged(events)


def test_orm_delete_is_refused(events):
    _refused(lambda: AuditEvent.objects.get(seq=2).delete())
    _refused(lambda: AuditEvent.objects.all().delete())
    _unchanged(events)


def test_raw_sql_update_is_refused(events):
    _refused(lambda: _raw(f"UPDATE {TABLE} SET body = %s WHERE seq = %s", ["{}", 2]))
    _unchanged(events)


def test_raw_sql_delete_is_refused(events):
    _refused(lambda: _raw(f"DELETE FROM {TABLE} WHERE seq = %s", [3]))
    _refused(lambda: _raw(f"DELETE FROM {TABLE}"))
    _unchanged(events)


def test_inserting_further_events_stays_allowed(events):
    with transaction.atomic():
        record_event(by=Actor.system("test"), action="test.after")
    assert verify_chain().count == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists only on PostgreSQL (needs DATABASE_URL)")
def test_truncate_is_refused_on_postgresql(events):
    _refused(lambda: _raw(f"TRUNCATE {TABLE}"))
    _refused(lambda: _raw(f"TRUNCATE {TABLE} CASCADE"))
    _unchanged(events)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL pointing at PostgreSQL")
def test_postgresql_refusal_names_the_operation(events):
    with pytest.raises(DatabaseError, match=r"append-only \(UPDATE refused\)"):
        with transaction.atomic():
            _raw(f"UPDATE {TABLE} SET ip = '10.0.0.1'")


def test_triggers_are_installed_by_the_migrations():
    if connection.vendor == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal"
    with connection.cursor() as cursor:
        cursor.execute(sql, [TABLE])
        names = {row[0] for row in cursor.fetchall()}
    expected = {"audit_no_update", "audit_no_delete"} if connection.vendor == "sqlite" else {
        "audit_no_update_delete", "audit_no_truncate"}
    assert names == expected
