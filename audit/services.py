"""Appending to the audit chain. Every service calls `record_event` inside its own transaction,
so the change and its record commit or roll back together."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.actor import Actor
from audit.chain import GENESIS_HASH, chain_hash, check_canonical, dumps_canonical
from audit.models import AuditEvent
from config.errors import IllegalTransition

# Arbitrary constant: the key of the PostgreSQL advisory lock that serialises appends.
AUDIT_ADVISORY_LOCK_KEY = 0x45_54_41_55  # "ETAU"

_TABLE = AuditEvent._meta.db_table
_HEAD_SQL = f"SELECT seq, hash FROM {_TABLE} ORDER BY seq DESC LIMIT 1"
# Lock and head in one round trip. They must stay two statements: under READ COMMITTED each
# statement takes its own snapshot, so the second one sees the head the previous holder of the
# lock committed; a single statement's snapshot would predate the lock and could be stale.
_PG_LOCK_THEN_HEAD_SQL = f"SELECT pg_advisory_xact_lock({AUDIT_ADVISORY_LOCK_KEY}); {_HEAD_SQL}"
_INSERT_COLUMNS = (
    "seq", "occurred_at", "actor_id", "actor_name", "role", "organisation_id", "ip", "action", "object_type",
    "object_id", "tender_id", "body", "prev_hash", "hash",
)
_INSERT_SQL = f"INSERT INTO {_TABLE} ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join(['%s'] * 14)})"


def format_time(moment: datetime) -> str:
    """UTC, always six fractional digits: 2026-03-01T01:30:01.234567Z."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _lock_and_read_head() -> tuple[int, str]:
    """Take the chain's append lock, then read its head: (last seq, last hash), or the genesis.

    PostgreSQL: a transaction-scoped advisory lock, released by COMMIT or ROLLBACK. SQLite: the
    connection opens transactions IMMEDIATE (settings), so this transaction already holds the
    database's single write lock.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_LOCK_THEN_HEAD_SQL)
            cursor.nextset()
        else:
            cursor.execute(_HEAD_SQL)
        head = cursor.fetchone()
    return (head[0], head[1]) if head else (0, GENESIS_HASH)


def record_event(
    *,
    by: Actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    tender_id: int | None = None,
    payload: dict | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the change it records (E49).

    Appends are serialised and the lock is held until that transaction ends (a successor must
    see this event's hash, and a rolled-back event must leave no gap). So everything that does
    not depend on the head is prepared before taking the lock; inside it there are only the
    lock-and-head round trip, the sequence number, the time, the body's bytes, one SHA-256 and
    one INSERT. Times therefore never go backwards along the chain.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change it records")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    object_id = str(object_id) if object_id != "" else ""
    body = {
        "v": 1,
        "actor": {"id": by.user_id, "name": by.name, "role": by.role, "org": by.organisation_id},
        "ip": by.ip,
        "action": action,
        "object": {"type": object_type, "id": object_id},
        "tender": tender_id,
        "payload": payload or {},
    }
    check_canonical(body)  # refuse floats and the like before queueing for the lock
    event = AuditEvent(
        actor_id=by.user_id, actor_name=by.name, role=by.role, organisation_id=by.organisation_id, ip=by.ip,
        action=action, object_type=object_type, object_id=object_id, tender_id=tender_id,
    )

    last_seq, prev_hash = _lock_and_read_head()  # ---- the lock is held from here to the end of the transaction
    event.seq = body["seq"] = last_seq + 1
    event.occurred_at = timezone.now()
    body["time"] = format_time(event.occurred_at)
    event.body = dumps_canonical(body)  # already checked; seq and time are an int and a string
    event.prev_hash = prev_hash
    event.hash = chain_hash(prev_hash, event.body)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, [
            event.seq, connection.ops.adapt_datetimefield_value(event.occurred_at), event.actor_id, event.actor_name,
            event.role, event.organisation_id, event.ip, event.action, event.object_type, event.object_id,
            event.tender_id, event.body, event.prev_hash, event.hash,
        ])
    event._state.adding = False
    event._state.db = connection.alias
    return event


def fsm_transition(obj, transition: str, *, by: Actor, tender_id: int | None = None, payload: dict | None = None, state_field: str = "state", **kwargs):
    """Run one django-fsm transition, save, and record it with its actor, IP, source and target.

    Every state change of the platform goes through here, so none escapes the audit trail.
    """
    method = getattr(obj, transition)
    source = getattr(obj, state_field)
    if not can_proceed(method):
        raise IllegalTransition(
            _("不能从“%(state)s”状态执行“%(action)s”。") % {"state": obj.get_state_label(source), "action": transition}
            if hasattr(obj, "get_state_label")
            else _("不能从“%(state)s”状态执行“%(action)s”。") % {"state": source, "action": transition}
        )
    method(**kwargs)
    obj.save()
    record_event(
        by=by,
        action=f"{obj._meta.model_name}.{transition}",
        obj=obj,
        tender_id=tender_id,
        payload={"from": source, "to": getattr(obj, state_field), **(payload or {})},
    )
    return obj


def on_commit(callback) -> None:
    """Broadcast only what committed: the database is the single source of truth."""
    transaction.on_commit(callback)
