"""Benchmark of the audit chain: `python -m bench.audit [--events N] [--verify-events M]`.

(a) Appends: W writer threads (each its own connection, one transaction per event, the real
    `record_event`) against the same rows inserted plainly into a look-alike table (same columns
    and indexes, no lock, no head lookup, no chaining). Target on PostgreSQL: chained/plain >= 0.5.
(b) Verification: a chain of M events is built quickly (precomputed rows from the real chain
    functions, bulk-inserted; the triggers allow inserts) and checked with the real
    `audit.selectors.verify_chain`, against bare SHA-256 over the same stored body bytes read
    from the database in the same run: reading the same rows (the verifier's own query) is the
    baseline of `ratio` (target >= 0.3); reading only the bodies (`ratio_body_only`) and hashing
    bytes already in memory are reported for information.

Runs on a throwaway database: a temporary SQLite file, or, when DATABASE_URL is set, a
PostgreSQL database `etender_bench` on that server, created and dropped here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "etender_bench"


# ---------------------------------------------------------------- throwaway database
def _pg_admin(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def prepare_database() -> dict:
    """Point the settings at a fresh database before Django starts; return how to drop it."""
    url = os.environ.get("DATABASE_URL")
    if url:
        bench_url = urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DB}"))
        with _pg_admin(url) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = bench_url
        return {"vendor": "postgresql", "url": url}
    data_dir = tempfile.mkdtemp(prefix="etender-bench-")
    os.environ["PLATFORM_DATA_DIR"] = data_dir
    return {"vendor": "sqlite", "dir": data_dir}


def drop_database(place: dict) -> None:
    from django.db import connections

    connections.close_all()
    if place["vendor"] == "postgresql":
        with _pg_admin(place["url"]) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    else:
        import shutil

        shutil.rmtree(place["dir"], ignore_errors=True)


# ---------------------------------------------------------------- (a) appends
def _plain_model():
    """A table with the audit table's columns and indexes, and nothing else (no triggers)."""
    from django.db import models

    from audit.models import AuditEvent

    attrs = {"__module__": __name__, "Meta": type("Meta", (), {"app_label": "bench", "db_table": "bench_plain_event"})}
    for field in AuditEvent._meta.local_fields:
        attrs[field.name] = field.clone()
    return type("PlainEvent", (models.Model,), attrs)


def _actor(n):
    from audit.actor import Actor

    return Actor(user_id=1000 + n, name=f"投标人{n}", role="bidder", organisation_id=n, ip=f"192.0.2.{n + 1}")


def _payload(n, i):
    return {"lot": f"第{n}标段", "round": i, "price_fen": 123_456_700 + i, "note": "远程解密完成"}


def _run_writers(writers: int, each: int, append_one) -> float:
    """Start W threads at once; each appends `each` events, one transaction per event."""
    from django.db import connection

    start = threading.Barrier(writers + 1)
    errors = []

    def work(n):
        try:
            connection.ensure_connection()
            start.wait()
            for i in range(each):
                append_one(n, i)
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"writer failed: {errors[0]}")
    return elapsed


def bench_appends(writers: int, events: int) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from audit.chain import canonical_json
    from audit.models import AuditEvent
    from audit.services import _INSERT_SQL, format_time, record_event

    each = max(1, events // writers)
    plain = _plain_model()
    with connection.schema_editor() as editor:
        editor.create_model(plain)
    plain_insert = _INSERT_SQL.replace(AuditEvent._meta.db_table, plain._meta.db_table, 1)
    adapt = connection.ops.adapt_datetimefield_value

    # How long each COMMIT takes: a chained append holds the chain's lock through its COMMIT,
    # so 1 / (commit time) bounds chained throughput whatever the number of writers.
    commits = {"chained": [], "plain": []}

    def chained(n, i):
        with transaction.atomic():
            record_event(by=_actor(n), action="bid.decrypt", object_type="bidding.bid", object_id=n * 100_000 + i,
                         tender_id=n, payload=_payload(n, i))
            committing = time.perf_counter()
        commits["chained"].append(time.perf_counter() - committing)

    def unchained(n, i):
        # The same row, built the same way, but numbered per writer and with an unchained hash.
        by, seq, now = _actor(n), 1 + n + i * writers, timezone.now()
        body = canonical_json({
            "v": 1, "seq": seq, "time": format_time(now),
            "actor": {"id": by.user_id, "name": by.name, "role": by.role, "org": by.organisation_id},
            "ip": by.ip, "action": "bid.decrypt", "object": {"type": "bidding.bid", "id": str(n * 100_000 + i)},
            "tender": n, "payload": _payload(n, i),
        })
        row = [seq, adapt(now), by.user_id, by.name, by.role, by.organisation_id, by.ip, "bid.decrypt", "bidding.bid",
               str(n * 100_000 + i), n, body, "0" * 64, hashlib.sha256(body.encode()).hexdigest()]
        with transaction.atomic():
            with connection.cursor() as cursor:  # the same single INSERT record_event sends
                cursor.execute(plain_insert, row)
            committing = time.perf_counter()
        commits["plain"].append(time.perf_counter() - committing)

    # Warm both paths (connections, statement caches) before timing.
    _run_writers(writers, 5, lambda n, i: unchained(n, 10**6 + i))
    _run_writers(writers, 5, chained)
    for times in commits.values():
        times.clear()
    plain_s = _run_writers(writers, each, unchained)
    chained_s = _run_writers(writers, each, chained)
    total = writers * each
    return {
        "writers": writers,
        "events": total,
        "chained_per_s": round(total / chained_s, 1),
        "plain_per_s": round(total / plain_s, 1),
        "ratio": round(plain_s / chained_s, 3),
        "chained_commit_ms": round(1000 * sum(commits["chained"]) / len(commits["chained"]), 3),
        "plain_commit_ms": round(1000 * sum(commits["plain"]) / len(commits["plain"]), 3),
    }


# ---------------------------------------------------------------- (b) verification
def _synthetic_rows(start_seq: int, prev_hash: str, count: int, batch: int = 10_000):
    """Precomputed chain rows, exactly as `record_event` would store them, in batches."""
    from datetime import UTC, datetime, timedelta

    from audit.chain import canonical_json, chain_hash
    from audit.services import format_time

    base = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    rows = []
    for seq in range(start_seq, start_seq + count):
        n = seq % 97
        when = base + timedelta(microseconds=seq * 1_234_567)
        body = canonical_json({
            "v": 1, "seq": seq, "time": format_time(when),
            "actor": {"id": 1000 + n, "name": f"专家{n}", "role": "expert", "org": n},
            "ip": f"198.51.100.{n}", "action": "evaluation.score", "object": {"type": "evaluation.score", "id": str(seq)},
            "tender": seq // 1000, "payload": {"criterion": "技术方案", "points": seq % 100, "lot": f"第{n % 5}标段"},
        })
        digest = chain_hash(prev_hash, body)
        rows.append((seq, when, 1000 + n, f"专家{n}", "expert", n, f"198.51.100.{n}", "evaluation.score",
                     "evaluation.score", str(seq), seq // 1000, body, prev_hash, digest))
        prev_hash = digest
        if len(rows) == batch:
            yield rows
            rows = []
    if rows:
        yield rows


_INSERT_COLUMNS = ("seq, occurred_at, actor_id, actor_name, role, organisation_id, ip, action, object_type, "
                   "object_id, tender_id, body, prev_hash, hash")


def build_chain(total: int) -> tuple[int, float]:
    """Extend the chain to `total` events; return how many were added and the seconds it took."""
    from django.db import connection, transaction

    from audit.chain import GENESIS_HASH
    from audit.models import AuditEvent

    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first() or (0, GENESIS_HASH)
    missing = max(0, total - head[0])
    table = AuditEvent._meta.db_table
    began = time.perf_counter()
    for rows in _synthetic_rows(head[0] + 1, head[1], missing):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.connection.cursor() as raw, raw.copy(f"COPY {table} ({_INSERT_COLUMNS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders, adapt = ", ".join(["%s"] * 14), connection.ops.adapt_datetimefield_value
                with connection.cursor() as cursor:  # the time stored exactly as the ORM stores it
                    cursor.executemany(f"INSERT INTO {table} ({_INSERT_COLUMNS}) VALUES ({placeholders})",
                                       [(r[0], adapt(r[1]), *r[2:]) for r in rows])
    return missing, time.perf_counter() - began


def _baseline_db_sha256(sql: str, batch_size: int = 10_000) -> tuple[int, float]:
    """Read stored rows page by page with `sql` (the verifier's paging: seq ranges up to the
    current last) and SHA-256 each row's body bytes: the work a verifier cannot avoid, no more."""
    from django.db import connection

    from audit.models import AuditEvent

    sha256, last, count = hashlib.sha256, 0, 0
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(seq) FROM {AuditEvent._meta.db_table}")
        up_to = cursor.fetchone()[0] or 0
    while last < up_to:
        upper = min(last + batch_size, up_to)
        with connection.cursor() as cursor:
            cursor.execute(sql, [last, upper])
            rows = cursor.fetchall()
        for row in rows:
            sha256(row[3].encode()).digest()
        count += len(rows)
        last = upper
    return count, time.perf_counter() - began


def _baseline_memory_sha256(sample: int = 200_000) -> tuple[int, float]:
    from audit.models import AuditEvent

    bodies = [b.encode() for b in AuditEvent.objects.order_by("seq").values_list("body", flat=True)[:sample]]
    sha256 = hashlib.sha256
    began = time.perf_counter()
    for body in bodies:
        sha256(body).digest()
    return len(bodies), time.perf_counter() - began


def _best_of(runs: int, measure):
    """Shortest of a few runs: the machine may be shared, and noise only ever adds time."""
    return min((measure() for _ in range(runs)), key=lambda result: result[-1])


def bench_verify(total: int, runs: int) -> dict:
    from audit.models import AuditEvent
    from audit.selectors import stored_page_sql, verify_chain

    added, build_s = build_chain(total)
    same_rows = stored_page_sql()  # exactly the rows and columns verify_chain reads
    table = AuditEvent._meta.db_table
    body_only = f"SELECT seq, NULL, NULL, body FROM {table} WHERE seq > %s AND seq <= %s ORDER BY seq"

    def timed_verify():
        began = time.perf_counter()
        verdict = verify_chain()
        return verdict, time.perf_counter() - began

    _baseline_db_sha256(same_rows)  # warm the page cache so every pass reads from memory
    verdict, verify_s = _best_of(runs, timed_verify)
    rows_count, rows_s = _best_of(runs, lambda: _baseline_db_sha256(same_rows))
    body_count, body_s = _best_of(runs, lambda: _baseline_db_sha256(body_only))
    mem_count, mem_s = _best_of(runs, _baseline_memory_sha256)
    if not verdict.ok:
        raise SystemExit(f"chain does not verify: seq {verdict.bad_seq}: {verdict.reason}")
    verify_rate = verdict.count / verify_s
    rows_rate, body_rate = rows_count / rows_s, body_count / body_s
    return {
        "events": verdict.count,
        "built": added,
        "build_per_s": round(added / build_s, 1) if added else None,
        "verify_per_s": round(verify_rate, 1),
        "verify_s": round(verify_s, 2),
        "sha256_db_same_rows_per_s": round(rows_rate, 1),
        "ratio": round(verify_rate / rows_rate, 3),
        "sha256_db_body_only_per_s": round(body_rate, 1),
        "ratio_body_only": round(verify_rate / body_rate, 3),
        "sha256_memory_per_s": round(mem_count / mem_s, 1),
        "head": verdict.head,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=4000, help="chained events appended in (a) (default 4000)")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer threads in (a) (default 8)")
    parser.add_argument("--verify-events", type=int, default=1_000_000, help="chain length verified in (b)")
    parser.add_argument("--runs", type=int, default=3, help="timed passes in (b); the best counts (default 3)")
    args = parser.parse_args(argv)

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    place = prepare_database()
    try:
        import django
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        call_command("migrate", "audit", verbosity=0)  # only the audit table and its triggers
        result = {"bench": "audit", "db": connection.vendor, "python": sys.version.split()[0]}
        print(f"[a] {args.writers} writers, {args.events} events ...", file=sys.stderr)
        result["append"] = bench_appends(args.writers, args.events)
        print(f"    {result['append']}", file=sys.stderr)
        print(f"[b] building and verifying a chain of {args.verify_events} events ...", file=sys.stderr)
        result["verify"] = bench_verify(args.verify_events, args.runs)
        print(f"    {result['verify']}", file=sys.stderr)
    finally:
        drop_database(place)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
