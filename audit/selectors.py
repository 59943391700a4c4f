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
    "object_type, object_id, tender_id FROM {table} WHERE seq > %s AND seq <= %s ORDER BY seq"
)
# PostgreSQL renders the body's own spelling (UTC, six fractional digits) exactly.
_PG_TIME = """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
# SQLite keeps Django's text, "2026-03-01 01:30:01.234567" (UTC; no fraction when it is zero):
# re-spelt here, nothing parsed. Any other text comes back as stored, differs from the body and
# is reported.
_SQLITE_TIME = """CASE WHEN substr(occurred_at, 11, 1) <> ' ' THEN occurred_at
 WHEN length(occurred_at) = 26 THEN substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || 'Z'
 WHEN length(occurred_at) = 19 THEN substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || '.000000Z'
 ELSE occurred_at END"""


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
    """The query for one page of stored events (parameters: after seq, up to seq)."""
    time_sql = {"postgresql": _PG_TIME, "sqlite": _SQLITE_TIME}.get(connection.vendor, "occurred_at")
    return _SELECT.format(time=time_sql, table=AuditEvent._meta.db_table)


def _scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def iter_stored_events(*, up_to: int | None = None, batch_size: int = 10_000) -> Iterator[StoredEvent]:
    """Rows 1..up_to (default: the current last) in sequence order, in pages of seq ranges.

    Ranges rather than `LIMIT`: right after a bulk load PostgreSQL's statistics may be stale and
    a `LIMIT` page can be planned as a full scan plus sort, every page. A range over the primary
    key is an index range scan either way. Nothing is held open between pages.
    This feeds the verifier a million rows per run, so it builds as few objects as it can.
    """
    table = AuditEvent._meta.db_table
    if up_to is None:
        up_to = _scalar(f"SELECT max(seq) FROM {table}")[0] or 0
    text_time, sql = connection.vendor in ("postgresql", "sqlite"), stored_page_sql()
    new = tuple.__new__
    last = 0
    while last < up_to:
        upper = min(last + batch_size, up_to)
        with connection.cursor() as cursor:
            cursor.execute(sql, [last, upper])
            rows = cursor.fetchall()
        if not rows:  # a hole in the chain: skip to the next stored row, the verifier names the gap
            following = _scalar(f"SELECT min(seq) FROM {table} WHERE seq > %s AND seq <= %s", [upper, up_to])[0]
            if following is None:
                return
            last = following - 1
            continue
        if text_time:
            for row in rows:
                yield new(StoredEvent, (row[0], row[1], row[2], row[3], row[4:]))
        else:
            for row in rows:
                yield new(StoredEvent, (row[0], row[1], row[2], row[3], (stored_time(row[4]), *row[5:])))
        last = upper


def verify_chain(*, expect_head: str | None = None) -> Verdict:
    """Check every stored event against the chain rules (audit.chain.verify_events).

    Checks the chain as it stands when called: events appended meanwhile are left for next time.
    A row numbered below 1 is not on the chain at all, and is reported too.
    """
    lowest, highest = _scalar(f"SELECT min(seq), max(seq) FROM {AuditEvent._meta.db_table}")
    verdict = verify_events(iter_stored_events(up_to=highest or 0), expect_head=expect_head)
    if verdict.ok and lowest is not None and lowest < 1:
        return Verdict(False, verdict.count, verdict.head, lowest, "row outside the chain (sequence numbers start at 1)")
    return verdict


def tender_timeline(tender_id: int):
    return AuditEvent.objects.filter(tender_id=tender_id).order_by("seq")
