"""Replication of an evaluation session, host and partner in one process (replication_helpers):
batches in order through the outbox and the inbox, the report and every signature verified at the
partner, the partner's own audit chain holding each batch, and the bad batches refused (out of
order, duplicated, tampered: changed item, changed hash chain, forged signature)."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from audit import platform_key
from audit.models import AuditEvent
from crossregion import inbox, protocol
from crossregion import replication_protocol as rp
from crossregion.identity import own_key_id
from crossregion.models import OutboundMessage, ReplicatedAnswer, ReplicatedBatch, ReplicatedEvent, ReplicatedSession
from crossregion.services import outbox, replication
from opening.models import RoomEvent
from tests.crossregion.replication_helpers import OWN, PARTNER, Mixed, as_partner, deliver_all, media, pending, transport  # noqa: F401
from tests.evaluation.world import clock  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def mixed(clock):  # noqa: F811
    return Mixed(clock)


def post(body: dict, *, key: str, sign_key=None) -> tuple[int, dict]:
    """A replication.batch from the host to the partner, signed with the host's platform key as the
    outbox does, received by the partner's inbox."""
    envelope = protocol.build_envelope(type="replication.batch", sender=OWN, recipient=PARTNER, key_id=own_key_id(), body=body,
                                       idempotency_key=key, sent_at=timezone.now())
    raw = protocol.wire(envelope, protocol.sign_envelope(envelope, sign_key or platform_key.private_key()))
    with as_partner():
        return inbox.receive(raw)


def first_batch_body(mixed) -> dict:
    with transaction.atomic():
        batch = replication.push(mixed.replication)
    return batch.message.body


def test_events_then_the_final_report_arrive_in_order_with_verified_signatures(mixed, transport):
    deliver_all()
    replica = ReplicatedSession.objects.get(partner=mixed.host, host_lot=mixed.session.lot_id)
    host_seqs = list(RoomEvent.objects.filter(room=mixed.session.room).order_by("seq").values_list("seq", flat=True))
    assert list(replica.events.values_list("seq", flat=True)) == host_seqs
    assert replica.title == mixed.session.lot.tender.title and [m["venue"] for m in replica.panel].count("away") == 2
    # Events later in the room follow in a later batch.
    mixed.room_event("test.note", {"n": 2})
    report = mixed.finalise(dissent_seat=5)
    deliver_all()
    replica.refresh_from_db()
    host_events = list(RoomEvent.objects.filter(room=mixed.session.room).order_by("seq").values_list("seq", "kind", "payload"))
    assert list(replica.events.values_list("seq", "kind", "payload")) == host_events
    assert [b.batch_seq for b in replica.batches.all()] == list(range(1, replica.last_batch_seq + 1)) and replica.last_batch_seq >= 2
    # The same record: the statement, its hash and the PDF's hash equal at both sides.
    assert replica.report_sha256 == report.statement_sha256 == rp.statement_hash(replica.report_statement)
    with report.pdf.open("rb") as handle:
        assert bytes(replica.report_pdf) == handle.read()
    assert replica.report_pdf_sha256 == report.pdf_sha256 == hashlib.sha256(bytes(replica.report_pdf)).hexdigest()
    answers = {a.seat: a for a in ReplicatedAnswer.objects.filter(session=replica)}
    assert sorted(answers) == [1, 2, 3, 4, 5]
    assert answers[5].response == "dissent" and answers[5].text == "价格评分有异议。"
    assert {answers[s].venue for s in (4,)} == {"away"} and answers[1].venue == "host"
    assert all(answers[s].response == "signed" and answers[s].key_fingerprint for s in (1, 2, 3, 4))
    # The host knows the partner holds the same report hash.
    mixed.replication.refresh_from_db()
    assert mixed.replication.partner_report_sha256 == report.statement_sha256
    assert mixed.replication.partner_last_batch_seq == replica.last_batch_seq
    # Nothing more to send.
    assert replication.due() == [] and replication.push(mixed.replication) is None


def test_the_partner_audit_chain_holds_every_batch_and_still_verifies(mixed, transport):
    mixed.finalise()
    deliver_all()
    replica = ReplicatedSession.objects.get()
    payloads = [json.loads(e.body)["payload"] for e in AuditEvent.objects.filter(action="crossregion.replicated").order_by("seq")]
    batches = list(replica.batches.all())
    assert [p["batch_seq"] for p in payloads] == [b.batch_seq for b in batches]
    for payload, batch in zip(payloads, batches):
        assert payload["body_sha256"] == batch.body_sha256 and payload["item_count"] == batch.item_count
        assert len(payload["items"]) == batch.item_count and all(len(item["sha256"]) == 64 for item in payload["items"])
    body = OutboundMessage.objects.filter(type="replication.batch").order_by("pk").first().body
    assert payloads[0]["items"][0]["sha256"] == rp.item_sha256(body["items"][0])
    assert payloads[-1]["report_sha256"] == replica.report_sha256
    assert AuditEvent.objects.filter(action="crossregion.replication_sent").count() == len(batches)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "OK" in out.getvalue().upper()


def test_the_next_batch_waits_until_the_previous_one_is_delivered(mixed, transport):
    transport.down = 1
    with transaction.atomic():
        first = replication.push(mixed.replication)
    assert outbox.deliver(first.message.pk) == "pending"
    mixed.room_event()
    assert replication.push(mixed.replication) is None  # batch 1 is in flight
    assert replication.due() == []
    mixed.clock.advance(seconds=5)
    assert outbox.deliver(first.message.pk) == "delivered"
    second = replication.push(mixed.replication)
    assert second.batch_seq == 2 and second.prev_batch_sha256 == first.body_sha256


def test_a_batch_out_of_order_is_refused_and_changes_nothing(mixed, transport):
    body = first_batch_body(mixed)
    skipped = {**body, "batch_seq": 2}
    audit = AuditEvent.objects.count()
    status, answer = post(skipped, key="replication:test:2")
    assert (status, answer["code"]) == (422, "out_of_order")
    assert not ReplicatedSession.objects.exists() and AuditEvent.objects.count() == audit


def test_a_duplicate_batch_is_acknowledged_without_being_applied_twice(mixed, transport):
    body = first_batch_body(mixed)
    status, answer = post(body, key="replication:test:1")
    assert status == 200 and answer["result"]["batch_seq"] == 1
    events = ReplicatedEvent.objects.count()
    appended = AuditEvent.objects.filter(action="crossregion.replicated").count()
    # The same batch again under the same key: the inbox's stored answer.
    again_status, again = post(body, key="replication:test:1")
    assert again_status == 200 and again["result"] == answer["result"]
    # The same batch under another key (resent by a confused host): acknowledged, not applied.
    other_status, other = post(body, key="replication:test:1-again")
    assert other_status == 200 and other["result"]["duplicate"] is True and other["result"]["body_sha256"] == answer["result"]["body_sha256"]
    assert ReplicatedEvent.objects.count() == events and ReplicatedBatch.objects.count() == 1
    assert AuditEvent.objects.filter(action="crossregion.replicated").count() == appended == 1


def test_another_body_for_an_applied_batch_number_is_tampered(mixed, transport):
    body = first_batch_body(mixed)
    assert post(body, key="replication:test:1")[0] == 200
    changed = copy.deepcopy(body)
    changed["items"][-1]["payload"]["forged"] = True
    status, answer = post(changed, key="replication:test:1b")
    assert (status, answer["code"]) == (422, "tampered")
    # Under the batch's own idempotency key the inbox refuses it before the handler.
    status, answer = post(changed, key="replication:test:1")
    assert (status, answer["code"]) == (409, "idempotency_conflict")
    assert ReplicatedBatch.objects.count() == 1


def test_an_item_changed_in_transit_breaks_the_platform_signature(mixed, transport):
    body = first_batch_body(mixed)
    envelope = protocol.build_envelope(type="replication.batch", sender=OWN, recipient=PARTNER, key_id=own_key_id(), body=body,
                                       idempotency_key="replication:test:1", sent_at=mixed.clock())
    signature = protocol.sign_envelope(envelope, platform_key.private_key())
    envelope["body"]["items"][-1]["payload"] = {"forged": True}
    with as_partner():
        status, answer = inbox.receive(protocol.wire(envelope, signature))
    assert (status, answer["code"]) == (401, "bad_signature")
    assert not ReplicatedSession.objects.exists()


def test_a_changed_hash_chain_is_refused(mixed, transport):
    deliver_all()
    mixed.room_event()
    with transaction.atomic():
        body = replication.push(mixed.replication).message.body
    broken = {**body, "prev_batch_sha256": "f" * 64}
    status, answer = post(broken, key="replication:test:chain")
    assert (status, answer["code"]) == (422, "broken_chain")
    assert post(body, key="replication:test:chain-ok")[0] == 200


def test_a_gap_in_the_room_events_is_refused(mixed, transport):
    body = first_batch_body(mixed)
    gap = copy.deepcopy(body)
    del gap["items"][1]  # items[0] is the session, then events 1, 2, ...
    status, answer = post(gap, key="replication:test:gap")
    assert (status, answer["code"]) == (422, "event_gap")


def _report_batch(mixed) -> dict:
    deliver_all()
    mixed.finalise()
    with transaction.atomic():
        return replication.push(mixed.replication).message.body


def _item(body, kind, seat=None):
    return next(i for i in body["items"] if i["kind"] == kind and (seat is None or i["seat"] == seat))


@pytest.mark.parametrize("forge, code", [
    ("signature", "bad_member_signature"),
    ("statement", "bad_report_hash"),
    ("pdf", "bad_pdf_hash"),
    ("fingerprint", "bad_key_fingerprint"),
    ("final_event", "report_mismatch"),
])
def test_a_forged_report_or_signature_is_refused(mixed, transport, forge, code):
    body = copy.deepcopy(_report_batch(mixed))
    if forge == "signature":  # seat 4 (away) "signed" with another key's signature
        other = _item(body, "signature", 3)
        _item(body, "signature", 4)["signature"] = other["signature"]
    elif forge == "statement":
        _item(body, "report")["statement"]["results"][0]["total"] = "99.99"
    elif forge == "pdf":
        _item(body, "report")["pdf_base64"] = base64.b64encode(b"%PDF-1.4 forged").decode()
    elif forge == "fingerprint":
        _item(body, "signature", 2)["key_fingerprint"] = "0" * 64
    else:
        event = next(i for i in body["items"] if i["kind"] == "event" and i["type"] == "report.final")
        event["payload"]["sha256"] = "e" * 64
    audit = AuditEvent.objects.filter(action="crossregion.replicated").count()
    status, answer = post(body, key=f"replication:test:{forge}")
    assert (status, answer["code"]) == (422, code)
    replica = ReplicatedSession.objects.get()
    assert replica.report_sha256 == "" and not replica.answers.exists()
    assert AuditEvent.objects.filter(action="crossregion.replicated").count() == audit


def test_a_partner_down_catches_up_nothing_lost_nothing_duplicated(mixed, transport):
    transport.down = 4
    with transaction.atomic():
        replication.push(mixed.replication)
    # The room goes on while the partner is down; the report is final meanwhile.
    for n in range(3):
        mixed.room_event("test.note", {"n": n})
    mixed.finalise()
    delays = []
    for _ in range(40):
        for r in replication.due():
            replication.push(r)
        messages = pending()
        if not messages:
            break
        message = messages[0]
        assert len(messages) == 1  # never more than one batch in flight
        if outbox.deliver(message.pk) == "pending":
            message.refresh_from_db()
            delays.append(int((message.next_attempt_at - mixed.clock()).total_seconds()))
            mixed.clock.set(message.next_attempt_at)
    assert delays == [5, 10, 20, 40]  # the outbox's backoff while the partner was down
    replica = ReplicatedSession.objects.get()
    host = list(RoomEvent.objects.filter(room=mixed.session.room).order_by("seq").values_list("seq", "kind"))
    assert list(replica.events.values_list("seq", "kind")) == host
    assert ReplicatedEvent.objects.count() == len(host)
    assert replica.answers.count() == 5 and replica.report_sha256 == mixed.session.reports.get().statement_sha256
    assert transport.statuses.count(503) == 4 and all(s == 200 for s in transport.statuses[4:])
    sent = OutboundMessage.objects.filter(type="replication.batch")
    assert sent.count() == replica.last_batch_seq and set(sent.values_list("state", flat=True)) == {"delivered"}
    assert AuditEvent.objects.filter(action="crossregion.replicated").count() == replica.last_batch_seq


def test_a_lost_answer_is_resent_with_the_same_key_and_applied_once(mixed, transport, monkeypatch):
    with transaction.atomic():
        batch = replication.push(mixed.replication)
    real = outbox.post

    def applied_but_lost(url, data):
        real(url, data)
        return None, b"", "connection reset"

    monkeypatch.setattr(outbox, "post", applied_but_lost)
    assert outbox.deliver(batch.message.pk) == "pending"
    monkeypatch.setattr(outbox, "post", real)
    mixed.clock.advance(seconds=5)
    assert outbox.deliver(batch.message.pk) == "delivered"
    assert ReplicatedBatch.objects.count() == 1
    assert AuditEvent.objects.filter(action="crossregion.replicated").count() == 1


def test_subscribe_is_idempotent_and_the_chronograph_pushes(mixed, transport):
    from tendering import chronograph

    assert replication.subscribe(session=mixed.session, partner=mixed.partner) == mixed.replication
    done = [d for d in chronograph.tick() if d["action"] == "crossregion.replicate"]
    assert [d["id"] for d in done] == [mixed.replication.pk] and "error" not in done[0]
    assert len(pending()) == 1
    assert not [d for d in chronograph.tick() if d["action"] == "crossregion.replicate"]  # waiting for delivery


def test_push_now_builds_the_next_batch(mixed, transport):
    with transaction.atomic():
        batches = replication.push_now(mixed.session)
    assert [b.batch_seq for b in batches] == [1]
    assert batches[0].message.idempotency_key == f"replication:{mixed.session.lot_id}:{PARTNER}:1"


def test_no_batch_without_an_agreement_covering_replication(mixed, transport):
    from config.errors import DomainError

    mixed.partner.agreements.update(scope=["booking"])
    with pytest.raises(DomainError) as refused:
        replication.push(mixed.replication)
    assert refused.value.code == "no_agreement"
    assert not OutboundMessage.objects.exists()


def test_a_delivered_batch_queues_the_job_that_pushes_the_next_one(mixed, transport, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from crossregion import tasks

    with transaction.atomic():
        first = replication.push(mixed.replication)
    mixed.room_event()
    jobs = DBTaskResult.objects.filter(task_path__endswith="replicate").count()
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.deliver(first.message.pk) == "delivered"
    assert DBTaskResult.objects.filter(task_path__endswith="replicate").count() == jobs + 1
    with django_capture_on_commit_callbacks(execute=False):
        assert tasks.replicate.call(mixed.replication.pk) == "batch 2"
        assert tasks.replicate.call(mixed.replication.pk) == "nothing"  # batch 2 in flight: the job is idempotent
    assert tasks.replicate.call(10**9) == "missing"
