"""Clarifications during evaluation (澄清, issue 5 item 5) and the abnormally-low-price gate (P21).
docs/evaluation-clarifications.md.

The chair asks a bidder a written question on the panel's behalf, with a deadline, while the
panel is reviewing; the bidder's organisation is notified. A user of the bidder answers in its
workspace before the deadline, with attachments, and signs the answer statement
(evaluation/clarification_statement.py) with its registered signing key; a wrong key or a bad
signature stores nothing. An open clarification whose deadline has passed expires (the
chronograph calls `expire_due`; every deadline is also enforced at request time). Everything is
audited and reaches the evaluation room live (events "clarification.asked", "clarification.answered",
"clarification.expired", "bid.rejected").

A clarification may not change the price or the substance of the bid (P/R: 不得改变投标文件的实质性内容);
the pages say so and the panel reads the answer in that light.

P21: a bid whose price is abnormally low (BidResult.abnormally_low, set by the price stage) may be
rejected only after an "abnormally_low" clarification for it has been answered or has expired
(`may_reject_abnormally_low`, enforced by `reject_bid`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from audit.services import record_event
from bidding import keyfile
from bidding.models import Bid
from bidding.selectors import active_keys
from config.errors import DeadlineError, DomainError, IllegalTransition
from evaluation import clarification_statement as cs
from evaluation.models import (
    BidResult,
    ClarificationAttachment,
    ClarificationStatus,
    EvaluationClarification,
    EvaluationSession,
    SessionState,
)
from evaluation.rules import serving_member
from opening import record_signing
from opening.rooms import append_event

logger = logging.getLogger(__name__)

REASONS = ("general", "abnormally_low")
MAX_QUESTION_CHARS = 4000
MAX_ANSWER_CHARS = 20000
MAX_REASON_CHARS = 2000
MIN_RESPONSE = timedelta(minutes=10)  # a bidder needs time to read, write and sign
MAX_ATTACHMENTS = 10


def max_attachment_bytes() -> int:
    return int(getattr(settings, "EVALUATION_CLARIFICATION_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024))


def max_total_bytes() -> int:
    return int(getattr(settings, "EVALUATION_CLARIFICATION_MAX_TOTAL_BYTES", 50 * 1024 * 1024))


# --- helpers ----------------------------------------------------------------------------------

def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _lock_session(session: EvaluationSession) -> EvaluationSession:
    return EvaluationSession.objects.select_for_update().select_related("lot__tender", "drawing").get(pk=session.pk)


def _lock(clarification: EvaluationClarification) -> EvaluationClarification:
    return (EvaluationClarification.objects.select_for_update(of=("self",))
            .select_related("session__lot__tender", "bid__bidder", "asked_by").get(pk=clarification.pk))


def _reviewing(session: EvaluationSession) -> None:
    if session.state != SessionState.REVIEWING:
        raise IllegalTransition(_("评标委员会只在评审阶段发出澄清（当前：%(state)s）。") % {"state": session.get_state_display()},
                                code="not_reviewing")
    _lot_evaluating(session)
    now = timezone.now()
    if not (session.starts_at <= now <= session.ends_at):
        raise DeadlineError(_("不在评标时间内（%(start)s 至 %(end)s）。") % {"start": _local(session.starts_at), "end": _local(session.ends_at)},
                            code="outside_window")


def _statement_error(error: cs.StatementError) -> DomainError:
    return DomainError(_(error.msgid) % error.params if error.params else _(error.msgid), code="bad_answer")


def attachment_meta(attachment: ClarificationAttachment) -> dict:
    return {"name": attachment.filename, "size": attachment.size, "sha256": attachment.sha256}


def question_payload(c: EvaluationClarification) -> dict:
    return {
        "id": c.pk, "number": c.number, "bid": c.bid_id, "bidder": c.bid.bidder.name, "reason": c.reason,
        "question": c.question, "question_sha256": cs.sha256_text(c.question), "deadline": c.deadline.isoformat(),
        "asked_by": c.asked_by.seat, "asked_at": c.asked_at.isoformat(), "status": c.status,
    }


def _expired(c: EvaluationClarification, now: datetime) -> bool:
    return c.status == ClarificationStatus.OPEN and c.deadline < now


# --- ask ----------------------------------------------------------------------------------------

@transaction.atomic
def clarification_ask(*, by: Actor, session: EvaluationSession, bid: Bid, question: str, deadline: datetime,
                      reason: str = "general") -> EvaluationClarification:
    """The chair sends `bid`'s bidder a written question on the panel's behalf (numbered per session),
    answerable until `deadline`: at least 10 minutes from now and no later than the end of the
    session's window. "abnormally_low" asks for the written explanation of P21."""
    require(by.user, "evaluation.clarification_ask", session)
    session = _lock_session(session)
    _reviewing(session)
    member = serving_member(by.user, session)
    if member is None or member.pk != session.chair_id:  # re-checked under the lock
        raise DomainError(_("只有评标委员会组长可以代表评标委员会发出澄清。"), code="not_chair")
    if bid.lot_id != session.lot_id:
        raise DomainError(_("该投标不属于本标段。"), code="foreign_bid")
    if reason not in REASONS:
        raise DomainError(_("澄清类型无效。"), code="bad_reason")
    question = (question or "").replace("\r\n", "\n").strip()
    if not question:
        raise DomainError(_("请填写澄清问题。"), code="empty_question")
    if len(question) > MAX_QUESTION_CHARS:
        raise DomainError(_("澄清问题过长（最多 %(max)s 个字符）。") % {"max": MAX_QUESTION_CHARS}, code="too_long")
    if deadline is None or timezone.is_naive(deadline):
        raise DomainError(_("请填写答复截止时间。"), code="bad_deadline")
    now = timezone.now()
    if deadline < now + MIN_RESPONSE:
        raise DeadlineError(_("答复截止时间至少应在 %(minutes)s 分钟之后。") % {"minutes": int(MIN_RESPONSE.total_seconds() // 60)},
                            code="deadline_too_soon")
    if deadline > session.ends_at:
        raise DeadlineError(_("答复截止时间不能晚于评标结束时间（%(end)s）。") % {"end": _local(session.ends_at)}, code="deadline_too_late")
    result = BidResult.objects.filter(session=session, bid=bid).first()
    if result is not None and result.rejected:
        raise IllegalTransition(_("该投标已被否决，不再澄清。"), code="bid_rejected")
    number = (EvaluationClarification.objects.filter(session=session).aggregate(n=Max("number"))["n"] or 0) + 1
    clarification = EvaluationClarification.objects.create(
        session=session, bid=bid, number=number, reason=reason, question=question, deadline=deadline, asked_by=member,
        asked_at=now,
    )
    clarification = EvaluationClarification.objects.select_related("bid__bidder", "asked_by").get(pk=clarification.pk)
    notified = notify(
        organisations=[bid.bidder_id],
        subject=_("评标澄清：%(tender)s %(lot)s 第%(number)s号") % {"tender": session.lot.tender.code, "lot": session.lot.name, "number": number},
        body=_("评标委员会请贵单位在 %(deadline)s 前通过平台书面答复澄清问题。澄清不得改变投标价格或投标文件的实质性内容。")
        % {"deadline": _local(deadline)},
        url=reverse("evaluation:clarification_detail", args=[clarification.pk]),
    )
    payload = question_payload(clarification)
    record_event(by=by, action="evaluation.clarification_ask", obj=clarification, tender_id=session.lot.tender_id,
                 payload={**payload, "session": session.pk, "notified": notified})
    append_event(session, "clarification.asked", payload)
    return clarification


# --- answer -------------------------------------------------------------------------------------

def _read(upload) -> tuple[str, int]:
    """SHA-256 and size of an uploaded file, streamed; refused above the size limit."""
    limit = max_attachment_bytes()
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise DomainError(_("附件“%(name)s”超过大小上限（%(limit)s 字节）。") % {"name": upload.name, "limit": limit}, code="too_large")
    digest, size = hashlib.sha256(), 0
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
        if size > limit:
            raise DomainError(_("附件“%(name)s”超过大小上限（%(limit)s 字节）。") % {"name": upload.name, "limit": limit}, code="too_large")
    if size == 0:
        raise DomainError(_("附件“%(name)s”是空文件。") % {"name": upload.name}, code="empty_file")
    return digest.hexdigest(), size


def answer_statement(*, clarification: EvaluationClarification, answer: str, attachments: list[dict]) -> dict:
    """The statement a bidder signs for this answer (attachments as [{"name", "size", "sha256"}])."""
    try:
        return cs.build_statement(session=clarification.session_id, lot=clarification.session.lot_id, number=clarification.number,
                                  bid=clarification.bid_id, question=clarification.question, answer=answer, attachments=attachments)
    except cs.StatementError as error:
        raise _statement_error(error) from None


def _check_answerable(clarification: EvaluationClarification) -> None:
    if clarification.status == ClarificationStatus.ANSWERED:
        raise IllegalTransition(_("该澄清已答复，不能再次答复。"), code="already_answered")
    if clarification.status == ClarificationStatus.EXPIRED or clarification.deadline < timezone.now():
        raise DeadlineError(_("答复截止时间（%(deadline)s）已过，不能再答复。") % {"deadline": _local(clarification.deadline)},
                            code="deadline_passed")
    if clarification.session.state != SessionState.REVIEWING:
        raise IllegalTransition(_("评标委员会的评审已结束，不再接收澄清答复。"), code="not_reviewing")
    _lot_evaluating(clarification.session)


def _lot_evaluating(session: EvaluationSession) -> None:
    from evaluation.services.room import require_lot_evaluating

    require_lot_evaluating(session)


@transaction.atomic
def clarification_answer(*, by: Actor, clarification: EvaluationClarification, answer: str, attachments: list,
                         signature_b64: str) -> EvaluationClarification:
    """A user of the bidder answers before the deadline. `attachments` are uploaded files (name,
    chunks()); `signature_b64` is the bidder's signature of the answer statement's hash by its
    active signing key. Any refusal (late, too large, wrong key, bad signature) stores nothing."""
    require(by.user, "evaluation.clarification_answer", clarification)
    clarification = _lock(clarification)
    _check_answerable(clarification)
    attachments = list(attachments or [])
    if len(attachments) > MAX_ATTACHMENTS:
        raise DomainError(_("附件最多 %(max)s 个。") % {"max": MAX_ATTACHMENTS}, code="too_many_files")
    text = cs.normalise_answer(answer or "")
    if not text:
        raise DomainError(_("请填写答复内容。"), code="empty_answer")
    if len(text) > MAX_ANSWER_CHARS:
        raise DomainError(_("答复内容过长（最多 %(max)s 个字符）。") % {"max": MAX_ANSWER_CHARS}, code="too_long")
    files = []
    for upload in attachments:
        try:
            name = cs.clean_name(upload.name or "")
        except cs.StatementError as error:
            raise _statement_error(error) from None
        digest, size = _read(upload)
        files.append((upload, {"name": name, "size": size, "sha256": digest}))
    if sum(meta["size"] for _upload, meta in files) > max_total_bytes():
        raise DomainError(_("附件总大小超过上限（%(limit)s 字节）。") % {"limit": max_total_bytes()}, code="too_large")
    statement = answer_statement(clarification=clarification, answer=text, attachments=[meta for _upload, meta in files])
    statement_sha256 = cs.statement_hash(statement)
    key = active_keys(clarification.bid.bidder).get("signing")
    if key is None:
        raise DomainError(_("本单位没有在用的签名密钥，不能签名答复。请先登记密钥。"), code="no_signing_key")
    try:
        raw = cs.decode_signature(signature_b64)
    except cs.StatementError as error:
        raise DomainError(_(error.msgid), code="bad_signature") from None
    if not record_signing.verify(keyfile.public_key_from_jwk(key.public_jwk), statement_sha256, raw):
        raise DomainError(
            _("签名无效：这不是本单位登记的签名密钥（指纹 %(fingerprint)s…）对本答复声明哈希 %(sha256)s 的签名。"
              "请确认答复内容和附件与签名时一致，并用本单位的密钥文件重新签名。")
            % {"fingerprint": key.fingerprint[:16], "sha256": statement_sha256},
            code="bad_signature",
        )
    now = timezone.now()
    stored: list[str] = []
    try:
        for upload, meta in files:
            upload.seek(0)
            row = ClarificationAttachment(clarification=clarification, filename=meta["name"], size=meta["size"],
                                          sha256=meta["sha256"], uploaded_at=now)
            row.file.save(meta["name"], upload, save=False)
            stored.append(row.file.name)
            row.save()
        clarification.status = ClarificationStatus.ANSWERED
        clarification.answer, clarification.answered_by, clarification.answered_at = text, by.user, now
        clarification.answer_sha256 = statement_sha256
        clarification.answer_signature = base64.b64encode(raw).decode("ascii")
        clarification.signing_key_fingerprint = key.fingerprint
        clarification.save(update_fields=["status", "answer", "answered_by", "answered_at", "answer_sha256", "answer_signature",
                                          "signing_key_fingerprint"])
        session = clarification.session
        payload = {
            "id": clarification.pk, "number": clarification.number, "bid": clarification.bid_id,
            "bidder": clarification.bid.bidder.name, "reason": clarification.reason, "answer": text,
            "attachments": statement["attachments"], "answer_sha256": statement_sha256,
            "signing_key_fingerprint": key.fingerprint, "answered_at": now.isoformat(),
        }
        record_event(by=by, action="evaluation.clarification_answer", obj=clarification, tender_id=session.lot.tender_id,
                     payload={**payload, "session": session.pk, "signature": clarification.answer_signature})
        append_event(session, "clarification.answered", payload)
    except BaseException:
        for name in stored:
            _delete_quietly(name)
        raise
    return clarification


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # noqa: BLE001 - an orphan file is harmless; never mask the original error
        logger.warning("could not delete %s", name)


def open_clarifications(session: EvaluationSession):
    """The session's clarifications still waiting for an answer and not past their deadline (the
    room may show them, or hold back a stage while the panel waits)."""
    return session.clarifications.filter(status=ClarificationStatus.OPEN, deadline__gte=timezone.now()).order_by("number")


def require_none_open(session: EvaluationSession, *, action: str) -> None:
    """The gate before the panel concludes (ranking lock, rejecting all, drafting the report): a
    clarification past its deadline is expired here (audited, in the caller's transaction) so the
    report records it as expired; one still waiting for its answer refuses `action`, because the
    bidder could no longer answer once the review is over. Call inside the caller's transaction,
    with the session locked."""
    now = timezone.now()
    overdue = session.clarifications.select_for_update(of=("self",)).filter(status=ClarificationStatus.OPEN, deadline__lt=now)
    for c in overdue:
        _expire(Actor.system("chronograph"), EvaluationClarification.objects.select_related("session__lot", "bid__bidder").get(pk=c.pk), now)
    waiting = list(open_clarifications(session))
    if waiting:
        listed = _("、").join(_("第%(number)s号（截止 %(deadline)s）") % {"number": c.number, "deadline": _local(c.deadline)} for c in waiting)
        raise DomainError(_("尚有澄清等待投标人答复：%(list)s。答复或逾期后才能%(action)s。") % {"list": listed, "action": action},
                          code="clarification_open")


# --- expiry -------------------------------------------------------------------------------------

def due(now: datetime):
    """Open clarifications whose deadline has passed."""
    return EvaluationClarification.objects.filter(status=ClarificationStatus.OPEN, deadline__lt=now).order_by("pk")


def _expire(by: Actor, clarification: EvaluationClarification, now: datetime) -> None:
    """Mark a locked, open, overdue clarification expired (audit + room event)."""
    clarification.status = ClarificationStatus.EXPIRED
    clarification.save(update_fields=["status"])
    session = clarification.session
    payload = {"id": clarification.pk, "number": clarification.number, "bid": clarification.bid_id,
               "bidder": clarification.bid.bidder.name, "reason": clarification.reason,
               "deadline": clarification.deadline.isoformat(), "expired_at": now.isoformat()}
    record_event(by=by, action="evaluation.clarification_expire", obj=clarification, tender_id=session.lot.tender_id,
                 payload={**payload, "session": session.pk})
    append_event(session, "clarification.expired", payload)


@transaction.atomic
def clarification_expire(*, by: Actor, clarification: EvaluationClarification, now: datetime | None = None) -> bool:
    """Expire one clarification if it is still open past its deadline; False if nothing to do."""
    now = now or timezone.now()
    clarification = _lock(clarification)
    if not _expired(clarification, now):
        return False
    _expire(by, clarification, now)
    return True


def expire_due(*, now: datetime | None = None) -> int:
    """The chronograph's hook: every open clarification past its deadline becomes EXPIRED, each in
    its own transaction (audit + room event). Idempotent: returns how many it expired."""
    now = now or timezone.now()
    by = Actor.system("chronograph")
    count = 0
    for clarification in due(now):
        try:
            count += clarification_expire(by=by, clarification=clarification, now=now)
        except Exception:  # one broken item must not stop the others
            logger.exception("could not expire clarification %s", clarification.pk)
    return count


# --- P21 gate and rejection ---------------------------------------------------------------------

def may_reject_abnormally_low(session: EvaluationSession, bid: Bid) -> bool:
    """P21: True only if an "abnormally_low" clarification of `bid` in `session` has been answered
    or has expired (an open one past its deadline counts as expired)."""
    now = timezone.now()
    for c in EvaluationClarification.objects.filter(session=session, bid=bid, reason="abnormally_low"):
        if c.status in (ClarificationStatus.ANSWERED, ClarificationStatus.EXPIRED) or _expired(c, now):
            return True
    return False


@transaction.atomic
def reject_bid(*, by: Actor, session: EvaluationSession, bid: Bid, reason: str) -> BidResult:
    """The chair rejects a bid (否决投标) with the panel's reason. A bid whose price is abnormally low
    (BidResult.abnormally_low) or that was asked an abnormally-low clarification is rejected only
    once such a clarification has been answered or has expired (P21)."""
    require(by.user, "evaluation.clarification_ask", session)
    session = _lock_session(session)
    _reviewing(session)
    if bid.lot_id != session.lot_id:
        raise DomainError(_("该投标不属于本标段。"), code="foreign_bid")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写否决理由。"), code="empty_reason")
    if len(reason) > MAX_REASON_CHARS:
        raise DomainError(_("否决理由过长（最多 %(max)s 个字符）。") % {"max": MAX_REASON_CHARS}, code="too_long")
    result = BidResult.objects.select_for_update().filter(session=session, bid=bid).first()
    if result is not None and result.rejected:
        raise IllegalTransition(_("该投标已被否决。"), code="already_rejected")
    asked = EvaluationClarification.objects.filter(session=session, bid=bid, reason="abnormally_low")
    if (result is not None and result.abnormally_low) or asked.exists():
        now = timezone.now()
        for overdue in asked.select_for_update().filter(status=ClarificationStatus.OPEN, deadline__lt=now):
            _expire(Actor.system("chronograph"), EvaluationClarification.objects.select_related("session__lot", "bid__bidder").get(pk=overdue.pk), now)
        if not may_reject_abnormally_low(session, bid):
            pending = asked.filter(status=ClarificationStatus.OPEN).order_by("deadline").first()
            if pending is None:
                raise DomainError(_("该投标报价明显偏低：须先要求投标人书面说明（发出“报价明显偏低”澄清），"
                                    "待其答复或逾期后才能否决（P21）。"), code="clarification_required")
            raise DomainError(_("该投标的报价偏低澄清（第%(number)s号）尚待答复，截止 %(deadline)s；答复或逾期后才能否决（P21）。")
                              % {"number": pending.number, "deadline": _local(pending.deadline)}, code="clarification_open")
    if result is None:
        result = BidResult.objects.create(session=session, bid=bid)
    result.rejected, result.rejection_reason = True, reason
    result.save(update_fields=["rejected", "rejection_reason"])
    payload = {"bid": bid.pk, "bidder": bid.bidder.name, "reason": reason, "abnormally_low": result.abnormally_low,
               "clarifications": list(asked.values_list("number", flat=True))}
    record_event(by=by, action="evaluation.bid_reject", obj=result, tender_id=session.lot.tender_id,
                 payload={**payload, "session": session.pk})
    append_event(session, "bid.rejected", payload)
    return result
