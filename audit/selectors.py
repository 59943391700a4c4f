"""Reading the audit chain: verification streams rows, so a chain of millions fits in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

from django.db import connection
from django.utils.dateparse import parse_datetime

from audit.chain import StoredEvent, Verdict, verify_events
from audit.models import AuditEvent

# After the chain fields, the columns in the order of audit.chain.COLUMNS; {time} is the stored
# time rendered as text by the database, which is much cheaper than building datetimes.
_SELECT = (
    "SELECT seq, prev_hash, hash, body, {time}, actor_id, actor_name, role, organisation_id, ip, action, "
    "object_type, object_id, tender_id FROM {table} WHERE seq > %s ORDER BY seq LIMIT %s"
)
# PostgreSQL renders the body's own spelling (UTC, six fractional digits) exactly.
_PG_TIME = """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
# SQLite keeps Django's text, "2026-03-01 01:30:01.234567" (UTC; no fraction when it is zero).
_SQLITE_TIME = "CAST(occurred_at AS TEXT)"


def stored_time(value) -> str:
    """A stored occurred_at spelt as the body spells it (see audit.services.format_time).

    Text that is not a date comes back unchanged, so it differs from the body and is reported.
    """
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def stored_page_sql() -> str:
    """The query for one page of stored events (parameters: after seq, page size)."""
    time_sql = {"postgresql": _PG_TIME, "sqlite": _SQLITE_TIME}.get(connection.vendor, "occurred_at")
    return _SELECT.format(time=time_sql, table=AuditEvent._meta.db_table)


def iter_stored_events(batch_size: int = 10_000) -> Iterator[StoredEvent]:
    """Rows in sequence order, fetched in keyset pages (no long-lived server cursor needed).

    This feeds the verifier a million rows per run, so it builds as few objects as it can.
    """
    vendor, sql = connection.vendor, stored_page_sql()
    new = tuple.__new__
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [last, batch_size])
            rows = cursor.fetchall()
        if not rows:
            return
        if vendor == "postgresql":
            for row in rows:
                yield new(StoredEvent, (row[0], row[1], row[2], row[3], row[4:]))
        else:
            for row in rows:
                text = row[4]
                if type(text) is str and len(text) == 26 and text[10] == " ":
                    text = f"{text[:10]}T{text[11:]}Z"  # the usual spelling: a re-spelling, nothing parsed
                else:
                    text = stored_time(text)
                yield new(StoredEvent, (row[0], row[1], row[2], row[3], (text, *row[5:])))
        last = rows[-1][0]


def verify_chain(*, expect_head: str | None = None) -> Verdict:
    """Check every stored event against the chain rules (audit.chain.verify_events)."""
    return verify_events(iter_stored_events(), expect_head=expect_head)


def tender_timeline(tender_id: int):
    return AuditEvent.objects.filter(tender_id=tender_id).order_by("seq")
