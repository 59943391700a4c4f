"""Replication of an evaluation session to a partner platform (docs/cross-region.md, "Replication").

Host. `subscribe(session=..., partner=...)` (called when the partner's venue booking is approved)
creates the Replication of the lot to that partner. `push(replication)` builds the next batch —
the session's description (first batch), the room events not yet sent, in order, and once the
report is final the report (statement, hash, PDF in base64) with every member's signature or
dissent — and queues it through the outbox as a "replication.batch" message. A batch is built
only when the previous one has been delivered, so batches reach the partner strictly in order
and a partner that was down gets them one after the other when it is back (the outbox retries
with backoff, the same idempotency key per batch). Pushes happen at every chronograph tick
(`due`), at once when a batch is delivered (the next one is queued as a job), and on
`push_now(session)`; so the partner lags the room by at most one chronograph tick (5 s) plus
the delivery.

Partner. `apply_batch` (the "replication.batch" handler) checks the batch
(crossregion/replication_protocol.py), stores its items, and appends the batch to this
platform's own audit chain ("crossregion.replicated") in the inbox's transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from audit.services import record_event
from config.errors import DomainError
from crossregion import replication_protocol as rp
from crossregion.identity import own_region, partner_actor
from crossregion.models import (
    OutboundMessage,
    OutboundState,
    Partner,
    ReplicatedAnswer,
    ReplicatedBatch,
    ReplicatedEvent,
    ReplicatedSession,
    Replication,
    ReplicationBatch,
)
from crossregion.services import outbox

logger = logging.getLogger(__name__)
ACTOR_NAME = "crossregion-replication"


# Host ------------------------------------------------------------------------------------------


@transaction.atomic
def subscribe(*, partner: Partner, session=None, lot=None, by: Actor | None = None) -> Replication:
    """The lot's evaluation (of `session`, or of `lot` before its session exists) is replicated to
    `partner` from now on. Idempotent: a second call returns the same Replication."""
    if lot is None:
        if session is None:
            raise ValueError("subscribe needs a session or a lot")
        lot = session.lot
    replication, created = Replication.objects.get_or_create(lot=lot, partner=partner)
    if created:
        record_event(by=by or Actor.system(ACTOR_NAME), action="crossregion.replication_subscribe", obj=replication,
                     tender_id=lot.tender_id, payload={"lot": lot.pk, "partner": partner.region_code})
    return replication


def _session_of(replication: Replication):
    from evaluation.models import EvaluationSession

    return EvaluationSession.objects.filter(lot_id=replication.lot_id).select_related("lot__tender", "drawing").first()


def _at(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""


def _plain(value):
    """A room event's payload as canonical JSON allows it: a float (none is expected) as its text,
    so one odd event cannot stop the replication."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _session_item(session) -> dict:
    panel = [{"seat": m.seat, "kind": m.kind, "venue": m.venue, "specialty": m.specialty}
             for m in session.drawing.members.order_by("seat", "round") if m.serving]
    return {"kind": "session", "title": session.lot.tender.title, "lot_name": str(session.lot.name), "starts_at": _at(session.starts_at),
            "ends_at": _at(session.ends_at), "panel": panel}


def _report_group(report) -> list[dict]:
    """The final report and its answers (signatures with the member's public key; dissents)."""
    from evaluation.models import ReportDissent, ReportSignature

    with report.pdf.open("rb") as handle:
        pdf = handle.read()
    group = [{"kind": "report", "version": report.version, "statement": report.statement, "statement_sha256": report.statement_sha256,
              **rp.pdf_item_fields(pdf), "finalised_at": _at(report.finalised_at)}]
    answers = []
    for signature in ReportSignature.objects.filter(report=report).select_related("member", "key"):
        answers.append({"kind": "signature", "version": report.version, "seat": signature.member.seat, "venue": signature.member.venue,
                        "key_fingerprint": signature.key.fingerprint, "public_jwk": signature.key.public_jwk,
                        "signature": signature.signature, "signed_at": _at(signature.signed_at)})
    for dissent in ReportDissent.objects.filter(report=report).select_related("member"):
        answers.append({"kind": "dissent", "version": report.version, "seat": dissent.member.seat, "venue": dissent.member.venue,
                        "text": dissent.text, "written_at": _at(dissent.written_at)})
    return group + sorted(answers, key=lambda item: item["seat"])


def _final_report(session):
    from evaluation.models import ReportState

    return session.reports.filter(state=ReportState.FINAL).order_by("-version").first()


def _waiting(replication: Replication) -> bool:
    """The last batch sent is not delivered yet (the next one waits for it)."""
    last = replication.batches.order_by("-batch_seq").select_related("message").first()
    return last is not None and last.message.state != OutboundState.DELIVERED


def has_news(replication: Replication, session=None) -> bool:
    session = session or _session_of(replication)
    if session is None:
        return False
    if not replication.session_sent or session.last_seq > replication.last_event_seq:
        return True
    report = _final_report(session)
    return report is not None and report.version != replication.report_version_sent


@transaction.atomic
def push(replication: Replication, *, now: datetime | None = None) -> ReplicationBatch | None:
    """Build and queue the next batch, or None: nothing new, no session yet, or the previous batch
    not delivered yet. Idempotent and safe to run concurrently (the Replication row is locked)."""
    from opening.models import RoomEvent

    replication = Replication.objects.select_for_update().select_related("partner", "lot").get(pk=replication.pk)
    if _waiting(replication):
        return None
    session = _session_of(replication)
    if session is None or not has_news(replication, session):
        return None
    entries: list = []
    if not replication.session_sent:
        entries.append(_session_item(session))
    for event in RoomEvent.objects.filter(room=session.room, seq__gt=replication.last_event_seq).order_by("seq")[: rp.MAX_BATCH_ITEMS]:
        entries.append({"kind": "event", "seq": event.seq, "type": event.kind, "payload": _plain(event.payload), "at": _at(event.created_at)})
    report = _final_report(session)
    if report is not None and report.version != replication.report_version_sent:
        entries.append(_report_group(report))
    items = rp.split(entries)
    if not items:
        return None
    batch_seq = replication.last_batch_seq + 1
    body = rp.build_body(host_region=own_region(), lot=replication.lot_id, batch_seq=batch_seq,
                         prev_batch_sha256=replication.last_batch_sha256, items=items)
    digest = rp.body_sha256(body)
    message = outbox.send(partner=replication.partner, type=rp.MESSAGE_TYPE, body=body,
                          idempotency_key=rp.idempotency_key(replication.lot_id, batch_seq, replication.partner.region_code))
    # Due now by the services' clock (the model's default is bound to the real one).
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=now or timezone.now())
    message.refresh_from_db()
    batch = ReplicationBatch.objects.create(replication=replication, batch_seq=batch_seq, body_sha256=digest,
                                            prev_batch_sha256=replication.last_batch_sha256, item_count=len(items), message=message,
                                            created_at=now or timezone.now())
    events = [item["seq"] for item in items if item["kind"] == "event"]
    replication.last_batch_seq, replication.last_batch_sha256 = batch_seq, digest
    replication.last_event_seq = events[-1] if events else replication.last_event_seq
    replication.session_sent = True
    sent_report = next((item for item in items if item["kind"] == "report"), None)
    if sent_report is not None:
        replication.report_version_sent, replication.report_sha256_sent = sent_report["version"], sent_report["statement_sha256"]
    replication.save(update_fields=["last_batch_seq", "last_batch_sha256", "last_event_seq", "session_sent", "report_version_sent",
                                    "report_sha256_sent"])
    record_event(by=Actor.system(ACTOR_NAME), action="crossregion.replication_sent", obj=replication, tender_id=replication.lot.tender_id,
                 payload={"partner": replication.partner.region_code, "lot": replication.lot_id, "batch_seq": batch_seq,
                          "body_sha256": digest, "prev_batch_sha256": batch.prev_batch_sha256, "item_count": len(items),
                          "last_event_seq": replication.last_event_seq, "report_sha256": sent_report["statement_sha256"] if sent_report else None})
    return batch


def push_now(session) -> list[ReplicationBatch]:
    """Build the next batch of every replication of `session`'s lot now (e.g. right after the report
    is final); each is queued for delivery after commit."""
    batches = []
    for replication in Replication.objects.filter(lot_id=session.lot_id).order_by("pk"):
        batch = push(replication)
        if batch is not None:
            batches.append(batch)
    return batches


def due(now: datetime | None = None) -> list[Replication]:
    """Replications with something new and nothing in flight (the chronograph pushes them)."""
    out = []
    for replication in Replication.objects.select_related("partner").order_by("pk"):
        session = _session_of(replication)
        if session is not None and has_news(replication, session) and not _waiting(replication):
            out.append(replication)
    return out


def enqueue_push(replication_id: int) -> None:
    from crossregion import tasks

    tasks.replicate.enqueue(replication_id)


def batch_delivered(*, message, result: dict | None) -> None:
    """The partner applied a batch (outbox delivery hook): note its answer and queue the next push."""
    batch = ReplicationBatch.objects.filter(message=message).select_related("replication").first()
    if batch is None:
        return
    result = result or {}
    batch.delivered_at = timezone.now()
    batch.save(update_fields=["delivered_at"])
    replication = Replication.objects.select_for_update().get(pk=batch.replication_id)
    if result.get("body_sha256") != batch.body_sha256:
        logger.warning("partner %s acknowledged batch %s of lot %s with body hash %s, not %s", replication.partner_id, batch.batch_seq,
                       replication.lot_id, result.get("body_sha256"), batch.body_sha256)
    replication.partner_last_batch_seq = max(replication.partner_last_batch_seq, batch.batch_seq)
    if isinstance(result.get("report_sha256"), str):
        replication.partner_report_sha256 = result["report_sha256"]
    replication.save(update_fields=["partner_last_batch_seq", "partner_report_sha256"])
    transaction.on_commit(lambda pk=replication.pk: enqueue_push(pk))


# Partner ---------------------------------------------------------------------------------------


def _refuse(error: rp.ReplicationError):
    return DomainError(error.detail, code=error.code)


@transaction.atomic
def apply_batch(*, partner: Partner, body: dict, message) -> dict:
    """Apply one batch from `partner` (the host), or refuse it with a DomainError (nothing kept):
    out_of_order, tampered (another body for a batch number already applied), broken_chain,
    event_gap, bad_report_hash, bad_pdf_hash, report_mismatch, bad_key, bad_key_fingerprint,
    bad_member_signature, no_report, wrong_host, malformed. A batch already applied with the same
    body is acknowledged again without being applied twice."""
    try:
        header = rp.check_shape(body, host_region=partner.region_code)
    except rp.ReplicationError as error:
        raise _refuse(error) from None
    digest = rp.body_sha256(body)
    replica = ReplicatedSession.objects.select_for_update().filter(partner=partner, host_lot=header["lot"]).first()
    if replica is not None and header["batch_seq"] <= replica.last_batch_seq:
        applied = replica.batches.get(batch_seq=header["batch_seq"])
        if applied.body_sha256 == digest:
            return {**applied.result, "duplicate": True}
        raise DomainError(f"batch {header['batch_seq']} was applied with body {applied.body_sha256[:16]}…; this one is {digest[:16]}…",
                          code="tampered")
    last_seq = replica.last_batch_seq if replica else 0
    last_sha = replica.last_batch_sha256 if replica else rp.ZERO_HASH
    known = {replica.report_version: replica.report_sha256} if replica and replica.report_version else {}
    try:
        rp.check_order(header, last_batch_seq=last_seq, last_batch_sha256=last_sha)
        reports = rp.check_items(body["items"], last_event_seq=replica.last_event_seq if replica else 0, known_reports=known)
    except rp.ReplicationError as error:
        raise _refuse(error) from None
    now = timezone.now()
    if replica is None:
        replica = ReplicatedSession.objects.create(partner=partner, host_lot=header["lot"], room=header["room"], created_at=now)
    batch_seq = header["batch_seq"]
    events, answers, hashes = [], [], []
    for item in body["items"]:
        sha = rp.item_sha256(item)
        entry = {"kind": item["kind"], "sha256": sha}
        if item["kind"] == "session":
            replica.title, replica.lot_name = item["title"][:300], item["lot_name"][:300]
            replica.starts_at, replica.ends_at, replica.panel = item["starts_at"][:40], item["ends_at"][:40], item["panel"]
        elif item["kind"] == "event":
            entry["seq"] = item["seq"]
            events.append(ReplicatedEvent(session=replica, seq=item["seq"], kind=item["type"][:64], payload=item["payload"], at=item["at"][:40],
                                          batch_seq=batch_seq, sha256=sha))
            replica.last_event_seq = item["seq"]
        elif item["kind"] == "report":
            entry["version"] = item["version"]
            replica.report_version, replica.report_statement = item["version"], item["statement"]
            replica.report_sha256, replica.report_pdf_sha256 = item["statement_sha256"], item["pdf_sha256"]
            replica.report_pdf, replica.report_finalised_at = rp.pdf_bytes(item), item["finalised_at"][:40]
        else:
            entry["seat"] = item["seat"]
            signed = item["kind"] == "signature"
            answers.append(ReplicatedAnswer(
                session=replica, report_version=item["version"], seat=item["seat"], venue=item["venue"][:16],
                response="signed" if signed else "dissent", key_fingerprint=item["key_fingerprint"] if signed else "",
                public_jwk=item["public_jwk"] if signed else None, signature=item["signature"] if signed else "",
                text="" if signed else item["text"], at=item["signed_at" if signed else "written_at"][:40], batch_seq=batch_seq,
            ))
        hashes.append(entry)
    if answers and ReplicatedAnswer.objects.filter(session=replica, report_version__in={a.report_version for a in answers},
                                                   seat__in={a.seat for a in answers}).exists():
        raise DomainError("a seat's answer to the report was already replicated", code="tampered")
    ReplicatedEvent.objects.bulk_create(events)
    ReplicatedAnswer.objects.bulk_create(answers)
    replica.last_batch_seq, replica.last_batch_sha256, replica.updated_at = batch_seq, digest, now
    replica.save()
    result = {"lot": header["lot"], "batch_seq": batch_seq, "body_sha256": digest, "item_count": len(body["items"]),
              "last_event_seq": replica.last_event_seq, "report_sha256": replica.report_sha256 or None}
    ReplicatedBatch.objects.create(session=replica, batch_seq=batch_seq, body_sha256=digest, prev_batch_sha256=header["prev_batch_sha256"],
                                   item_count=len(body["items"]), message=message, result=result, received_at=now)
    record_event(by=partner_actor(partner), action="crossregion.replicated", obj=replica, payload={
        "host_region": partner.region_code, "lot": header["lot"], "room": header["room"], "batch_seq": batch_seq,
        "body_sha256": digest, "prev_batch_sha256": header["prev_batch_sha256"], "item_count": len(body["items"]), "items": hashes,
        "report_sha256": reports.get(replica.report_version) if replica.report_version else None,
    })
    return result
