"""Reading the audit chain: verification streams rows, so a chain of millions fits in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

from django.db import connection
from django.utils.dateparse import parse_datetime

from audit.chain import StoredEvent, Verdict, verify_events
from audit.models import AuditEvent
from audit.services import format_time

_COLUMNS = "seq, prev_hash, hash, body, occurred_at, actor_id, actor_name, role, organisation_id, ip, action, object_type, object_id, tender_id"


def iter_stored_events(batch_size: int = 5000) -> Iterator[StoredEvent]:
    """Rows in sequence order, fetched in keyset pages (no long-lived server cursor needed)."""
    table = AuditEvent._meta.db_table
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {table} WHERE seq > %s ORDER BY seq LIMIT %s", [last, batch_size]
            )
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            occurred_at = row[4]
            if isinstance(occurred_at, str):  # SQLite hands back text from a raw cursor
                occurred_at = parse_datetime(occurred_at)
            if occurred_at.tzinfo is None:
                occurred_at = occurred_at.replace(tzinfo=UTC)
            yield StoredEvent(
                seq=row[0],
                prev_hash=row[1],
                hash=row[2],
                body=row[3],
                columns={
                    "time": format_time(occurred_at),
                    "actor_id": row[5],
                    "actor_name": row[6],
                    "role": row[7],
                    "organisation_id": row[8],
                    "ip": row[9],
                    "action": row[10],
                    "object_type": row[11],
                    "object_id": row[12],
                    "tender_id": row[13],
                },
            )
        last = rows[-1][0]


def verify_chain() -> Verdict:
    return verify_events(iter_stored_events())


def tender_timeline(tender_id: int):
    return AuditEvent.objects.filter(tender_id=tender_id).order_by("seq")
