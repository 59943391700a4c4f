"""Appending to the audit chain. Every service calls `record_event` inside its own transaction,
so the change and its record commit or roll back together."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.actor import Actor
from audit.chain import GENESIS_HASH, canonical_json, chain_hash
from audit.models import AuditEvent
from config.errors import IllegalTransition

# Arbitrary constant: the key of the PostgreSQL advisory lock that serialises appends.
AUDIT_ADVISORY_LOCK_KEY = 0x45_54_41_55  # "ETAU"


def format_time(moment: datetime) -> str:
    """UTC, always six fractional digits: 2026-03-01T01:30:01.234567Z."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _lock_chain_head() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_ADVISORY_LOCK_KEY])
    # SQLite: the connection opens transactions IMMEDIATE (settings), so this transaction already
    # holds the database's single write lock.


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
    """Append one event. Must run inside the transaction of the change it records."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change it records")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    _lock_chain_head()
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    occurred_at = timezone.now()
    body = {
        "v": 1,
        "seq": seq,
        "time": format_time(occurred_at),
        "actor": {"id": by.user_id, "name": by.name, "role": by.role, "org": by.organisation_id},
        "ip": by.ip,
        "action": action,
        "object": {"type": object_type, "id": str(object_id) if object_id != "" else ""},
        "tender": tender_id,
        "payload": payload or {},
    }
    text = canonical_json(body)
    return AuditEvent.objects.create(
        seq=seq,
        occurred_at=occurred_at,
        actor_id=by.user_id,
        actor_name=by.name,
        role=by.role,
        organisation_id=by.organisation_id,
        ip=by.ip,
        action=action,
        object_type=object_type,
        object_id=body["object"]["id"],
        tender_id=tender_id,
        body=text,
        prev_hash=prev_hash,
        hash=chain_hash(prev_hash, text),
    )


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
