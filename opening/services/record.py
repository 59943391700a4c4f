"""Objections at the opening (异议, E29) and the opening record (开标记录表). docs/opening-record.md.

Objections: the host opens the objection period once decryption has started and closes it once
every objection has an answer; while it is open a bidder of the opening raises objections and the
host answers each once. Everything is recorded (audit) and shown live (room events).

The record: once decryption has ended the host drafts it: a statement of everything the opening
produced (opening/record_statement.py), its SHA-256, the audit head covering the opening, and a
PDF of it. Each bidder present (checked in) signs the hash with its registered signing key or
writes why it disagrees, once. The host publishes it when every bidder present has answered, or
after the answer deadline (`respond_by`, the published record names who did not answer).
Reopening the objection period withdraws an unpublished draft; the host drafts again after
closing it. The opening ends (finish or fail) only with a published record.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from accounts.permissions import can, require
from audit.actor import Actor
from audit.models import AuditEvent
from audit.services import fsm_transition, record_event
from bidding import keyfile
from bidding.selectors import active_keys
from config.errors import DomainError, IllegalTransition
from opening import record_signing
from opening.models import (
    CheckIn,
    OpeningObjection,
    OpeningRecord,
    OpeningSession,
    RecordConfirmation,
    RecordResponse,
    SessionState,
)
from opening.record_pdf import Answer, render_pdf
from opening.record_statement import build_statement, person_name
from opening.rooms import append_event

MAX_TEXT = 2000
MAX_UNANSWERED_PER_BIDDER = 5
DEFAULT_RESPONSE_MINUTES = 30
MIN_RESPONSE_MINUTES, MAX_RESPONSE_MINUTES = 5, 240
OBJECTION_STATES = (SessionState.DECRYPTING, SessionState.DECRYPTED, SessionState.RECORD)


def _lock(session: OpeningSession) -> OpeningSession:
    return OpeningSession.objects.select_for_update(of=("self",)).select_related("lot__tender").get(pk=session.pk)


def _text(value: str, *, required_message: str) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise DomainError(required_message, code="text_required")
    if len(text) > MAX_TEXT:
        raise DomainError(_("内容不能超过 %(limit)s 个字符。") % {"limit": MAX_TEXT}, code="text_too_long")
    return text


def record_pdf_url(session: OpeningSession) -> str:
    return reverse("opening:record_pdf", args=[session.lot_id])


def current_record(session: OpeningSession) -> OpeningRecord | None:
    """The record version in force: the published one, else the draft awaiting answers."""
    return session.records.filter(superseded_at__isnull=True).order_by("-version").first()


def published_record(session: OpeningSession) -> OpeningRecord | None:
    return session.records.filter(published_at__isnull=False).first()


def expected_responders(session: OpeningSession) -> list[CheckIn]:
    """The bidders present: those who checked in answer the record."""
    return list(CheckIn.objects.filter(session=session).select_related("organisation").order_by("checked_in_at", "pk"))


# --- objections ---------------------------------------------------------------------------------


def _check_objection_phase(session: OpeningSession) -> None:
    if session.state not in OBJECTION_STATES:
        raise IllegalTransition(_("异议期只能在开始解密后、开标记录表公布前开放。"), code="objections_not_allowed")
    if published_record(session) is not None:
        raise IllegalTransition(_("开标记录表已公布，异议期不能再开放。"), code="record_published")


@transaction.atomic
def opening_objections_open(*, by: Actor, session: OpeningSession) -> OpeningSession:
    """The host opens the objection period (E29). An unpublished draft record is withdrawn: the
    objections that follow must be in the record, so the host drafts it again afterwards."""
    require(by.user, "opening.host", session)
    session = _lock(session)
    _check_objection_phase(session)
    if session.objections_open:
        raise IllegalTransition(_("异议期已经开放。"), code="objections_already_open")
    now = timezone.now()
    session.objections_open = True
    session.objections_opened_at = now
    session.objections_closed_at = None
    session.save(update_fields=["objections_open", "objections_opened_at", "objections_closed_at"])
    draft = current_record(session)
    record_event(by=by, action="opening.objections_open", obj=session, tender_id=session.lot.tender_id,
                 payload={"withdrawn_record": draft.version if draft else None})
    if draft is not None:
        _supersede(by, session, draft, reason="objections_reopened")
    append_event(session, "objections_opened", {"opened_at": now.isoformat()})
    return session


@transaction.atomic
def opening_objections_close(*, by: Actor, session: OpeningSession) -> OpeningSession:
    """The host closes the objection period; every objection must have been answered."""
    require(by.user, "opening.host", session)
    session = _lock(session)
    if not session.objections_open:
        raise IllegalTransition(_("异议期没有开放。"), code="objections_not_open")
    unanswered = session.objections.filter(answered_at__isnull=True).count()
    if unanswered:
        raise DomainError(_("还有 %(count)s 条异议未答复，答复后才能关闭异议期。") % {"count": unanswered}, code="unanswered_objections")
    now = timezone.now()
    session.objections_open = False
    session.objections_closed_at = now
    session.save(update_fields=["objections_open", "objections_closed_at"])
    count = session.objections.count()
    record_event(by=by, action="opening.objections_close", obj=session, tender_id=session.lot.tender_id, payload={"objections": count})
    append_event(session, "objections_closed", {"closed_at": now.isoformat(), "count": count})
    return session


@transaction.atomic
def opening_objection_raise(*, by: Actor, session: OpeningSession, text: str) -> OpeningObjection:
    """A bidder of the opening raises an objection while the period is open (E29)."""
    require(by.user, "opening.participate", session)
    session = _lock(session)
    if not session.objections_open:
        raise IllegalTransition(_("异议期未开放或已关闭，现在不能提出异议。"), code="objections_closed")
    text = _text(text, required_message=_("请写明异议内容。"))
    organisation = by.user.organisation
    pending = session.objections.filter(organisation=organisation, answered_at__isnull=True).count()
    if pending >= MAX_UNANSWERED_PER_BIDDER:
        raise DomainError(_("本单位已有 %(count)s 条异议等待答复，请等主持人答复后再提出。") % {"count": pending}, code="too_many_pending")
    objection = OpeningObjection.objects.create(session=session, organisation=organisation, raised_by=by.user, text=text,
                                                raised_at=timezone.now())
    record_event(by=by, action="opening.objection_raise", obj=objection, tender_id=session.lot.tender_id,
                 payload={"objection": objection.pk, "organisation": organisation.pk, "text": text})
    append_event(session, "objection_raised", {
        "id": objection.pk, "organisation": organisation.pk, "bidder": organisation.name, "raised_by": person_name(by.user),
        "text": text, "raised_at": objection.raised_at.isoformat(),
    })
    return objection


@transaction.atomic
def opening_objection_answer(*, by: Actor, objection: OpeningObjection, text: str) -> OpeningObjection:
    """The host answers an objection, once."""
    session = objection.session
    require(by.user, "opening.host", session)
    session = _lock(session)
    objection = OpeningObjection.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=objection.pk)
    if objection.answered_at is not None:
        raise IllegalTransition(_("该异议已经答复过。"), code="already_answered")
    _check_objection_phase(session)
    objection.answer = _text(text, required_message=_("请写明答复内容。"))
    objection.answered_by = by.user
    objection.answered_at = timezone.now()
    objection.save(update_fields=["answer", "answered_by", "answered_at"])
    record_event(by=by, action="opening.objection_answer", obj=objection, tender_id=session.lot.tender_id,
                 payload={"objection": objection.pk, "answer": objection.answer})
    append_event(session, "objection_answered", {
        "id": objection.pk, "organisation": objection.organisation_id, "bidder": objection.organisation.name,
        "answer": objection.answer, "answered_by": person_name(by.user), "answered_at": objection.answered_at.isoformat(),
    })
    return objection


# --- the record ---------------------------------------------------------------------------------


def _audit_head() -> tuple[int, str]:
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return (head[0], head[1]) if head else (0, "0" * 64)


def _store(name: str, content: bytes) -> str:
    return storages["bids"].save(name, ContentFile(content))


def _supersede(by: Actor, session: OpeningSession, record: OpeningRecord, *, reason: str) -> None:
    record.superseded_at = timezone.now()
    record.superseded_reason = reason
    record.save(update_fields=["superseded_at", "superseded_reason"])
    record_event(by=by, action="opening.record_supersede", obj=record, tender_id=session.lot.tender_id,
                 payload={"version": record.version, "sha256": record.statement_sha256, "reason": reason})
    append_event(session, "record_superseded", {"version": record.version, "reason": reason})


@transaction.atomic
def opening_record_draft(*, by: Actor, session: OpeningSession, response_minutes: int | None = None) -> OpeningRecord:
    """The host drafts the opening record once decryption has ended and the objection period is
    closed; the bidders present then have `response_minutes` (default 30) to answer."""
    require(by.user, "opening.host", session)
    session = _lock(session)
    if session.state not in (SessionState.DECRYPTED, SessionState.RECORD):
        raise IllegalTransition(_("解密结束后才能生成开标记录表。"), code="decryption_not_ended")
    if current_record(session) is not None:
        raise IllegalTransition(_("开标记录表已经生成。"), code="record_exists")
    if session.objections_open:
        raise IllegalTransition(_("异议期尚未关闭：请答复全部异议并关闭异议期后再生成开标记录表。"), code="objections_open")
    minutes = DEFAULT_RESPONSE_MINUTES if response_minutes is None else response_minutes
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not MIN_RESPONSE_MINUTES <= minutes <= MAX_RESPONSE_MINUTES:
        raise DomainError(_("确认期限应为 %(min)s 至 %(max)s 分钟。") % {"min": MIN_RESPONSE_MINUTES, "max": MAX_RESPONSE_MINUTES},
                          code="bad_response_minutes")
    now = timezone.now()
    version = session.records.count() + 1
    head = _audit_head()  # before this transaction's own events: every event of the opening so far
    statement = build_statement(session, version=version, drafted_by=by.user, drafted_at=now, audit_head=head)
    digest = record_signing.statement_hash(statement)
    pdf = render_pdf(statement, digest)
    record = OpeningRecord.objects.create(
        session=session, version=version, statement_json=record_signing.statement_text(statement), statement_sha256=digest,
        audit_seq=head[0], audit_hash=head[1], drafted_at=now, drafted_by=by.user, respond_by=now + timedelta(minutes=minutes),
        pdf_name=_store(f"opening-records/lot-{session.lot_id}/record-v{version}.pdf", pdf), pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    info = {"version": version, "sha256": digest, "audit": {"seq": head[0], "hash": head[1]}, "pdf_sha256": record.pdf_sha256}
    if session.state == SessionState.DECRYPTED:
        fsm_transition(session, "draft_record", by=by, tender_id=session.lot.tender_id, payload=info)
    record_event(by=by, action="opening.record_draft", obj=record, tender_id=session.lot.tender_id, payload=info)
    present = expected_responders(session)
    append_event(session, "record_drafted", {
        **info, "respond_by": record.respond_by.isoformat(), "pdf_url": record_pdf_url(session),
        "expected": [{"organisation": c.organisation_id, "name": c.organisation.name} for c in present],
    })
    notify(organisations=[c.organisation_id for c in present], subject=_("开标记录表待确认：%(lot)s") % {"lot": session.lot},
           body=_("请在开标室核对开标记录表，用本单位的签名密钥签名确认，或书面提出不同意见。"), url=reverse("opening:room", args=[session.lot_id]))
    return record


def _open_draft(session: OpeningSession) -> OpeningRecord:
    record = current_record(session)
    if record is None or session.state != SessionState.RECORD:
        raise IllegalTransition(_("开标记录表尚未生成（或已作废待重新生成）。"), code="no_record")
    if record.published_at is not None:
        raise IllegalTransition(_("开标记录表已公布。"), code="record_published")
    return record


def _responder(by: Actor, session: OpeningSession, record: OpeningRecord):
    organisation = by.user.organisation
    if not CheckIn.objects.filter(session=session, organisation=organisation).exists():
        raise DomainError(_("只有签到在场的投标人确认开标记录表。"), code="not_checked_in")
    if record.confirmations.filter(organisation=organisation).exists():
        raise IllegalTransition(_("本单位已经对这份开标记录表签名确认或提出过不同意见。"), code="already_responded")
    return organisation


def _responded(by: Actor, session: OpeningSession, confirmation: RecordConfirmation, payload: dict) -> None:
    record = confirmation.record
    confirmed = confirmation.response == RecordResponse.CONFIRMED
    kind = "record_confirmed" if confirmed else "record_disagreed"
    record_event(by=by, action="opening.record_confirm" if confirmed else "opening.record_disagree", obj=record,
                 tender_id=session.lot.tender_id,
                 payload={"version": record.version, "sha256": record.statement_sha256, "organisation": confirmation.organisation_id,
                          **payload})
    append_event(session, kind, {
        "version": record.version, "organisation": confirmation.organisation_id, "bidder": confirmation.organisation.name,
        "at": confirmation.created_at.isoformat(), **payload,
    })


@transaction.atomic
def opening_record_confirm(*, by: Actor, session: OpeningSession, signature: bytes) -> RecordConfirmation:
    """A bidder present confirms the record: `signature` (raw r ‖ s) of the record hash by its
    registered signing key (opening/record_signing.py)."""
    require(by.user, "opening.participate", session)
    session = _lock(session)
    record = _open_draft(session)
    organisation = _responder(by, session, record)
    key = active_keys(organisation).get("signing")
    if key is None:
        raise DomainError(_("本单位没有在用的签名密钥，不能签名确认；可以书面提出不同意见。"), code="no_signing_key")
    if not record_signing.verify(keyfile.public_key_from_jwk(key.public_jwk), record.statement_sha256, bytes(signature)):
        raise DomainError(
            _("签名无效：这不是本单位登记的签名密钥（指纹 %(fingerprint)s…）对本开标记录表哈希的签名。请用本单位的密钥文件重新签名。")
            % {"fingerprint": key.fingerprint[:16]},
            code="bad_signature",
        )
    confirmation = RecordConfirmation.objects.create(
        record=record, organisation=organisation, user=by.user, response=RecordResponse.CONFIRMED, key=key,
        key_fingerprint=key.fingerprint, signature=bytes(signature).hex(), created_at=timezone.now(),
    )
    _responded(by, session, confirmation, {"key_fingerprint": key.fingerprint, "signature": confirmation.signature})
    return confirmation


@transaction.atomic
def opening_record_disagree(*, by: Actor, session: OpeningSession, text: str) -> RecordConfirmation:
    """A bidder present records in writing that it disagrees with the record, and why."""
    require(by.user, "opening.participate", session)
    session = _lock(session)
    record = _open_draft(session)
    organisation = _responder(by, session, record)
    text = _text(text, required_message=_("请写明不同意见的内容。"))
    confirmation = RecordConfirmation.objects.create(
        record=record, organisation=organisation, user=by.user, response=RecordResponse.DISAGREED, text=text, created_at=timezone.now(),
    )
    _responded(by, session, confirmation, {"text": text})
    return confirmation


def answers_of(record: OpeningRecord) -> list[Answer]:
    """Every bidder present, in check-in order, with its answer (or none)."""
    given = {c.organisation_id: c for c in record.confirmations.all()}
    answers = []
    for checkin in expected_responders(record.session):
        org, answer = checkin.organisation, given.get(checkin.organisation_id)
        if answer is None:
            answers.append(Answer(bidder=org.name, credit_code=org.credit_code, response=""))
        else:
            answers.append(Answer(bidder=org.name, credit_code=org.credit_code, response=answer.response, at=answer.created_at,
                                  key_fingerprint=answer.key_fingerprint, signature=answer.signature, text=answer.text))
    return answers


@transaction.atomic
def opening_record_publish(*, by: Actor, session: OpeningSession) -> OpeningRecord:
    """The host publishes the record once every bidder present has confirmed or disagreed, or,
    failing that, after the answer deadline; the published record lists who did not answer."""
    require(by.user, "opening.host", session)
    session = _lock(session)
    record = _open_draft(session)
    answers = answers_of(record)
    silent = [a.bidder for a in answers if not a.response]
    now = timezone.now()
    if silent and now < record.respond_by:
        raise DomainError(
            _("%(names)s 尚未签名确认或提出不同意见；全部答复后，或在 %(time)s 之后，才能公布开标记录表。")
            % {"names": "、".join(silent), "time": timezone.localtime(record.respond_by).strftime("%Y-%m-%d %H:%M")},
            code="responses_missing",
        )
    pdf = render_pdf(record.statement, record.statement_sha256, answers=answers, published_at=now, published_by=person_name(by.user))
    record.published_at = now
    record.published_by = by.user
    record.published_pdf_name = _store(f"opening-records/lot-{session.lot_id}/record-v{record.version}-published.pdf", pdf)
    record.published_pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    record.save(update_fields=["published_at", "published_by", "published_pdf_name", "published_pdf_sha256"])
    summary = {
        "version": record.version, "sha256": record.statement_sha256, "pdf_sha256": record.published_pdf_sha256,
        "confirmed": sum(1 for a in answers if a.response == RecordResponse.CONFIRMED),
        "disagreed": sum(1 for a in answers if a.response == RecordResponse.DISAGREED),
        "no_response": silent,
    }
    bidders = list(session.bids.values_list("bid__bidder_id", flat=True))
    notified = notify(organisations=bidders, subject=_("开标记录表已公布：%(lot)s") % {"lot": session.lot},
                      body=_("开标记录表已公布，可下载 PDF 核对，其中附有各投标人的签名。"), url=record_pdf_url(session))
    record_event(by=by, action="opening.record_publish", obj=record, tender_id=session.lot.tender_id,
                 payload={**summary, "notified": notified})
    append_event(session, "record_published", {**summary, "published_at": now.isoformat(), "pdf_url": record_pdf_url(session)})
    return record


def record_ready_to_end(session) -> str | None:
    """Why the opening cannot end yet because of its record, or None: the opening ends (finish or
    fail) only once its record is published."""
    if published_record(session) is None:
        return _("开标记录表尚未公布：请生成开标记录表，待在场投标人确认后公布，再结束开标。")
    return None


# --- the room's snapshot --------------------------------------------------------------------------


def snapshot_part(session: OpeningSession, user) -> dict:
    """The record's part of the room snapshot (opening/selectors.py room_snapshot, key "record"):
    the version in force, its hash and deadline, each bidder present with its answer, and what the
    viewer may do. The objections themselves are in the snapshot's "objections"."""
    record = current_record(session)
    is_host = can(user, "opening.host", session)
    present = expected_responders(session)
    own = getattr(user, "organisation_id", None)
    own_present = can(user, "opening.participate", session) and any(c.organisation_id == own for c in present)
    part = {
        "version": None, "status": "none", "sha256": "", "audit": None, "drafted_at": None, "respond_by": None,
        "published_at": None, "pdf_url": "", "answers": [],
        "superseded": session.records.filter(superseded_at__isnull=False).count(),
        "viewer": {"must_answer": False, "answered": ""},
        "can_draft": is_host and record is None and session.state in (SessionState.DECRYPTED, SessionState.RECORD)
        and not session.objections_open,
        "can_publish": False,
    }
    if record is None:
        return part
    given = {c.organisation_id: c for c in record.confirmations.all()}
    answers = []
    for checkin in present:
        answer = given.get(checkin.organisation_id)
        answers.append({
            "organisation": checkin.organisation_id, "name": checkin.organisation.name,
            "response": answer.response if answer else "", "at": answer.created_at.isoformat() if answer else None,
            "key_fingerprint": answer.key_fingerprint if answer else "", "signature": answer.signature if answer else "",
            "text": answer.text if answer else "",
        })
    published = record.published_at is not None
    everyone = all(a["response"] for a in answers)
    own_answer = given.get(own).response if own in given else ""
    part.update({
        "version": record.version, "status": "published" if published else "draft", "sha256": record.statement_sha256,
        "audit": {"seq": record.audit_seq, "hash": record.audit_hash}, "drafted_at": record.drafted_at.isoformat(),
        "respond_by": record.respond_by.isoformat(), "published_at": record.published_at.isoformat() if published else None,
        "pdf_url": record_pdf_url(session), "answers": answers,
        "viewer": {"must_answer": own_present and not published and not own_answer, "answered": own_answer},
        "can_publish": is_host and not published and (everyone or timezone.now() >= record.respond_by),
    })
    return part
