"""The replication batch format (crossregion/replication_protocol.py, no Django): shape, order,
hash chain, event numbering, report hashes and member signatures, and how items are split."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bidding import keyfile
from crossregion import replication_protocol as rp
from evaluation import report_signing
from evaluation.report_statement import statement_hash

HOST = "441900"


def events(first: int, count: int) -> list[dict]:
    return [{"kind": "event", "seq": n, "type": "note", "payload": {"n": n}, "at": "2026-03-02T01:00:00Z"} for n in range(first, first + count)]


def report_items(*, seats=(1, 2)) -> tuple[list[dict], dict]:
    statement = {"type": "etender-evaluation-report", "results": [{"bid": 1, "total": "90.00"}]}
    digest = statement_hash(statement)
    pdf = b"%PDF-1.4 test"
    items = [{"kind": "report", "version": 1, "statement": statement, "statement_sha256": digest, **rp.pdf_item_fields(pdf),
              "finalised_at": "2026-03-02T02:00:00Z"}]
    keys = {}
    for seat in seats:
        key = keys[seat] = ec.generate_private_key(ec.SECP256R1())
        items.append({"kind": "signature", "version": 1, "seat": seat, "venue": "away" if seat > 1 else "host",
                      "key_fingerprint": keyfile.fingerprint(key.public_key()), "public_jwk": keyfile.public_jwk(key.public_key()),
                      "signature": report_signing.sign(key, digest), "signed_at": "2026-03-02T01:59:00Z"})
    return items, keys


def body(items, *, batch_seq=1, prev=rp.ZERO_HASH, lot=7):
    return rp.build_body(host_region=HOST, lot=lot, batch_seq=batch_seq, prev_batch_sha256=prev, items=items)


def code_of(call) -> str:
    with pytest.raises(rp.ReplicationError) as refused:
        call()
    return refused.value.code


def test_a_well_formed_batch_passes_every_check():
    items, _ = report_items()
    b = body(events(1, 3) + items)
    header = rp.check_shape(b, host_region=HOST)
    assert header == {"host_region": HOST, "lot": 7, "room": "evaluation-7", "batch_seq": 1, "prev_batch_sha256": rp.ZERO_HASH}
    rp.check_order(header, last_batch_seq=0, last_batch_sha256=rp.ZERO_HASH)
    assert rp.check_items(b["items"], last_event_seq=0, known_reports={}) == {1: items[0]["statement_sha256"]}
    assert rp.body_sha256(b) == hashlib.sha256(rp.protocol.canonical_bytes(b)).hexdigest()


@pytest.mark.parametrize("change, code", [
    (lambda b: b.pop("items"), "malformed"),
    (lambda b: b.update(extra=1), "malformed"),
    (lambda b: b["session"].update(room="evaluation-8"), "malformed"),
    (lambda b: b["session"].update(host_region="442000"), "wrong_host"),
    (lambda b: b.update(batch_seq=0), "malformed"),
    (lambda b: b.update(prev_batch_sha256="XYZ"), "malformed"),
    (lambda b: b.update(items=[]), "malformed"),
    (lambda b: b["items"][0].update(secret=1), "malformed"),
    (lambda b: b["items"].append({"kind": "vote"}), "malformed"),
])
def test_malformed_batches_are_refused(change, code):
    b = body(events(1, 2))
    change(b)
    assert code_of(lambda: rp.check_shape(b, host_region=HOST)) == code


def test_order_and_chain():
    header = rp.check_shape(body(events(1, 1), batch_seq=3, prev="a" * 64), host_region=HOST)
    assert code_of(lambda: rp.check_order(header, last_batch_seq=1, last_batch_sha256="a" * 64)) == "out_of_order"
    assert code_of(lambda: rp.check_order(header, last_batch_seq=2, last_batch_sha256="b" * 64)) == "broken_chain"
    rp.check_order(header, last_batch_seq=2, last_batch_sha256="a" * 64)


def test_events_must_continue_the_room_numbering():
    assert code_of(lambda: rp.check_items(events(5, 2), last_event_seq=3, known_reports={})) == "event_gap"
    assert code_of(lambda: rp.check_items(events(4, 1) + events(4, 1), last_event_seq=3, known_reports={})) == "event_gap"
    rp.check_items(events(4, 2), last_event_seq=3, known_reports={})


def test_report_and_signature_forgeries_are_refused():
    items, keys = report_items()
    bad_hash = [dict(items[0], statement={**items[0]["statement"], "results": []})] + items[1:]
    assert code_of(lambda: rp.check_items(bad_hash, last_event_seq=0, known_reports={})) == "bad_report_hash"
    bad_pdf = [dict(items[0], pdf_base64=base64.b64encode(b"other").decode())] + items[1:]
    assert code_of(lambda: rp.check_items(bad_pdf, last_event_seq=0, known_reports={})) == "bad_pdf_hash"
    swapped = items[:1] + [dict(items[1], signature=items[2]["signature"]), items[2]]
    assert code_of(lambda: rp.check_items(swapped, last_event_seq=0, known_reports={})) == "bad_member_signature"
    wrong_fp = items[:1] + [dict(items[1], key_fingerprint="0" * 64)] + items[2:]
    assert code_of(lambda: rp.check_items(wrong_fp, last_event_seq=0, known_reports={})) == "bad_key_fingerprint"
    private_jwk = items[:1] + [dict(items[1], public_jwk={**items[1]["public_jwk"], "d": "AAAA"})] + items[2:]
    assert code_of(lambda: rp.check_items(private_jwk, last_event_seq=0, known_reports={})) == "bad_key"
    assert code_of(lambda: rp.check_items(items[1:], last_event_seq=0, known_reports={})) == "no_report"
    # A signature may come after its report (known from an earlier batch).
    rp.check_items(items[1:], last_event_seq=0, known_reports={1: items[0]["statement_sha256"]})
    twice = items + [items[2]]
    assert code_of(lambda: rp.check_items(twice, last_event_seq=0, known_reports={})) == "malformed"


def test_the_report_final_event_must_name_the_replicated_report():
    items, _ = report_items()
    final = {"kind": "event", "seq": 1, "type": "report.final", "payload": {"sha256": "e" * 64}, "at": "2026-03-02T02:00:00Z"}
    assert code_of(lambda: rp.check_items([final] + items, last_event_seq=0, known_reports={})) == "report_mismatch"
    final["payload"]["sha256"] = items[0]["statement_sha256"]
    rp.check_items([final] + items, last_event_seq=0, known_reports={})


def test_split_keeps_a_report_with_its_answers_and_always_takes_one_entry():
    items, _ = report_items()
    evs = events(1, 4)
    one_event = rp.item_size(evs[0])
    assert rp.split(evs + [items], limit=512 + 4 * one_event) == evs  # the group does not fit: next batch
    assert rp.split(evs + [items]) == evs + items
    assert rp.split(evs, max_items=3) == evs[:3]
    assert rp.split([items], limit=10) == items  # too big alone: still sent (the partner's limit decides)
    assert rp.split([]) == []


def test_idempotency_key_names_the_lot_the_partner_and_the_batch():
    assert rp.idempotency_key(17, 3, "442000") == "replication:17:442000:3"
    rp.protocol.check_idempotency_key(rp.idempotency_key(10**9, 10**6, "442000"))
