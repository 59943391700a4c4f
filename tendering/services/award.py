"""Publicity and award of a lot (R54, R55, L45, L46; docs/publicity-and-award.md).

    evaluating ──(candidate publicity approved by the centre: issued)──▶ publicizing
    publicizing ──(objection raised)──▶ suspended ──(last objection answered)──▶ publicizing
    publicizing ──(period over, no open objection: award decision; result announcement with the
                   award notice and the notices to the others approved: issued)──▶ awarded
    awarded ──(contract registered; due 30 days after the award notice, else flagged)──▶ contracted

Every notice is drafted by the tenderer or its agency and goes out only when centre staff approve
it (or comes back with a reason); approval issues it as a PDF with its SHA-256 and notifies the
organisations concerned. Statutory periods are counted by tendering/periods.py, divided by the
tender's sandbox accelerator.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from bidding.models import Bid, BidStatus
from config.errors import DeadlineError, DomainError, IllegalTransition
from tendering import award_method, periods
from tendering.models import AwardMethod, Lot, LotState, SuspensionKind
from tendering.models_award import (
    AwardDecision,
    CandidatePublicity,
    ContractRegistration,
    Notice,
    NoticeKind,
    NoticeState,
    PublicityObjection,
)
from tendering.money import is_valid_fen
from tendering.notice_pdf import render_pdf
from tendering.services._common import _authorise, _json, _local_text, _lock_lot, _require_aware
from tendering.services.lots import _resume, _suspend

PUBLICITY_DAYS = 3  # R54: at least 3 days
PUBLICITY_DUE_DAYS = 3  # R54: within 3 days of receiving the report
OBJECTION_ANSWER_DAYS = 3  # R54
CONTRACT_DAYS = 30  # L46
MAX_CANDIDATES = 3  # R53
MAX_TEXT = 20_000


# --- helpers -------------------------------------------------------------------------------------


def _body(value: str) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if len(value) > MAX_TEXT:
        raise DomainError(_("内容不能超过 %(limit)s 个字符。") % {"limit": MAX_TEXT}, code="text_too_long")
    return value


def _required(value: str, message) -> str:
    value = _body(value)
    if not value:
        raise DomainError(message, code="text_required")
    return value


def _person(user) -> str:
    if user is None:
        return ""
    name = getattr(user, "display_name", "") or user.get_username()
    organisation = getattr(user, "organisation", None)
    return f"{name}（{organisation.name}）" if organisation is not None else name


def _org(organisation: Organisation) -> dict:
    return {"id": organisation.pk, "name": organisation.name, "credit_code": organisation.credit_code}


def _lot_fields(lot: Lot) -> dict:
    tender = lot.tender
    return {
        "tender": {"id": tender.pk, "code": tender.code, "title": tender.title, "tenderer": tender.tenderer.name,
                   "agency": tender.agency.name if tender.agency_id else ""},
        "lot": {"id": lot.pk, "number": lot.number, "name": lot.name},
    }


def _owners(lot: Lot) -> list[int]:
    return [org_id for org_id in (lot.tender.tenderer_id, lot.tender.agency_id) if org_id]


def _bidder_ids(lot: Lot) -> list[int]:
    """Every organisation that bid for the lot (a replaced version does not count twice)."""
    return sorted(set(Bid.objects.filter(lot=lot).exclude(status=BidStatus.REPLACED).values_list("bidder_id", flat=True)))


def notice_url(notice: Notice) -> str:
    return reverse("tendering:notice", args=[notice.pk])


def award_url(lot: Lot) -> str:
    return reverse("tendering:award", args=[lot.pk])


def _final_report(lot: Lot):
    """The lot's evaluation session, finished, and its final report; refused otherwise."""
    from evaluation.models import EvaluationSession, ReportState, SessionState

    session = EvaluationSession.objects.filter(lot=lot).select_related("drawing").first()
    if session is None or session.state != SessionState.FINISHED:
        raise IllegalTransition(_("评标尚未结束，不能公示中标候选人。"), code="evaluation_not_finished")
    report = session.reports.filter(state=ReportState.FINAL).order_by("-version").first()
    if report is None:
        raise IllegalTransition(_("评标报告尚未定稿（全体评标委员会成员签字或书面提出不同意见后定稿），不能公示中标候选人。"), code="report_not_final")
    return session, report


def _candidates(session) -> list[dict]:
    from evaluation.models import BidResult

    results = (BidResult.objects.filter(session=session, candidate_rank__isnull=False, rejected=False)
               .select_related("bid__bidder").order_by("candidate_rank"))
    candidates = [
        {"candidate_rank": r.candidate_rank, "bid": r.bid_id, **{k: v for k, v in _org(r.bid.bidder).items() if k != "id"},
         "organisation": r.bid.bidder_id, "price_fen": r.price_fen, "total": str(r.total) if r.total is not None else ""}
        for r in results if 1 <= r.candidate_rank <= MAX_CANDIDATES
    ]
    if not candidates:
        raise IllegalTransition(_("评标报告没有推荐中标候选人。"), code="no_candidates")
    return candidates


def _notice_pdf(notice: Notice) -> None:
    """Render, store and hash the notice's PDF (at issue)."""
    approved = _("%(person)s，%(time)s") % {"person": _person(notice.approved_by), "time": _local_text(notice.approved_at)}
    drafted = _("%(person)s，%(time)s") % {"person": _person(notice.drafted_by), "time": _local_text(notice.drafted_at)}
    content = render_pdf(kind=notice.kind, kind_label=str(NoticeKind(notice.kind).label), title=notice.title, body=notice.body,
                         fields=notice.fields, drafted=drafted, approved=approved, issued_at=notice.issued_at)
    notice.pdf_sha256 = hashlib.sha256(content).hexdigest()
    notice.pdf.save(f"{notice.pdf_sha256[:16]}.pdf", ContentFile(content), save=False)


def _issue(by: Actor, notice: Notice, now: datetime, extra: dict | None = None) -> Notice:
    notice.approved_by_id, notice.approved_at, notice.issued_at = by.user_id, now, now
    if extra:
        notice.fields = {**notice.fields, **extra}
    _notice_pdf(notice)
    return fsm_transition(notice, "issue", by=by, tender_id=notice.lot.tender_id, payload={
        "kind": notice.kind, "recipient": notice.recipient_id, "pdf_sha256": notice.pdf_sha256,
        "drafted_by": notice.drafted_by_id, "drafted_at": _json(notice.drafted_at), "approved_by": by.user_id,
    })


def _lock_notice(notice: Notice) -> Notice:
    return Notice.objects.select_for_update(of=("self",)).select_related("lot__tender", "drafted_by", "recipient").get(pk=notice.pk)


def _active_notice(lot: Lot, kind: str) -> Notice | None:
    return Notice.objects.filter(lot=lot, kind=kind, bundle__isnull=True).order_by("-pk").first()


# --- candidate publicity (R54) -----------------------------------------------------------------


@transaction.atomic
def publicity_draft(*, by: Actor, lot: Lot, body: str = "", days: int = PUBLICITY_DAYS) -> Notice:
    """The tenderer or its agency drafts the candidate publicity from the final evaluation report
    (candidates ranked 1..3); it goes out when the centre approves it (`notice_approve`)."""
    require(by.user, "tendering.draft_notice", lot.tender)
    lot = _lock_lot(lot)
    if lot.state != LotState.EVALUATING:
        raise IllegalTransition(_("只有评标中的标段才能起草中标候选人公示（当前：%(state)s）。") % {"state": lot.get_state_display()},
                                code="lot_state")
    if isinstance(days, bool) or not isinstance(days, int) or not PUBLICITY_DAYS <= days <= 30:
        raise DomainError(_("公示期不得少于3日（R54），且不超过30日。"), code="publicity_days")
    session, report = _final_report(lot)
    existing = _active_notice(lot, NoticeKind.CANDIDATE_PUBLICITY)
    if existing is not None:
        raise IllegalTransition(_("该标段已有中标候选人公示（%(state)s）；被退回的请修改后重新提交。") % {"state": existing.get_state_display()},
                                code="already_drafted")
    now = timezone.now()
    fields = {
        **_lot_fields(lot), "days": days, "candidates": _candidates(session),
        "report": {"id": report.pk, "version": report.version, "sha256": report.statement_sha256,
                   "finalised_at": _json(report.finalised_at or report.created_at)},
    }
    notice = Notice.objects.create(
        lot=lot, kind=NoticeKind.CANDIDATE_PUBLICITY, title=_("%(lot)s 中标候选人公示") % {"lot": lot}, body=_body(body),
        fields=fields, drafted_by_id=by.user_id, drafted_at=now,
    )
    record_event(by=by, action="notice.draft", obj=notice, tender_id=lot.tender_id, payload={
        "kind": notice.kind, "days": days, "report": report.pk, "report_sha256": report.statement_sha256,
        "candidates": [c["bid"] for c in fields["candidates"]],
    })
    return notice


def _issue_publicity(by: Actor, notice: Notice, now: datetime) -> None:
    lot = _lock_lot(notice.lot)
    if lot.state != LotState.EVALUATING:
        raise IllegalTransition(_("标段当前为“%(state)s”，不能发布中标候选人公示。") % {"state": lot.get_state_display()}, code="lot_state")
    session, report = _final_report(lot)
    if report.pk != notice.fields["report"]["id"]:
        raise IllegalTransition(_("评标报告已更新，请重新起草公示。"), code="report_changed")
    accelerator = lot.tender.accelerator
    received = report.finalised_at or report.created_at
    due_by = periods.period_end(received, PUBLICITY_DUE_DAYS, accelerator)
    ends_at = periods.period_end(now, notice.fields["days"], accelerator)
    late = now > due_by
    _issue(by, notice, now, extra={"period": {"starts_at": _json(now), "ends_at": _json(ends_at)}, "late": late})
    publicity = CandidatePublicity.objects.create(lot=lot, notice=notice, report=report, report_received_at=received, due_by=due_by,
                                                  late=late, starts_at=now, ends_at=ends_at)
    lot.state_changed_at = now
    fsm_transition(lot, "publicize", by=by, tender_id=lot.tender_id, payload={
        "notice": notice.pk, "starts_at": _json(now), "ends_at": _json(ends_at), "due_by": _json(due_by), "late": late,
    })
    if late:
        record_event(by=by, action="publicity.late", obj=publicity, tender_id=lot.tender_id,
                     payload={"report_received_at": _json(received), "due_by": _json(due_by), "started_at": _json(now)})
    notified = notify(organisations=set(_bidder_ids(lot)) | set(_owners(lot)), subject=_("中标候选人公示：%(lot)s") % {"lot": lot},
                      body=_("公示期至 %(end)s。对评标结果有异议的，请在公示期内通过平台提出。") % {"end": _local_text(ends_at)},
                      url=notice_url(notice))
    record_event(by=by, action="publicity.start", obj=publicity, tender_id=lot.tender_id, payload={"notified": notified})
    # The panel's names and the drawing's seed become public with the candidates (R46). The
    # POOL+DRAWING area provides evaluation.services.drawing.publish_result; called when present.
    try:
        from evaluation.services import drawing as drawing_services
    except ImportError:
        drawing_services = None
    drawing = session.drawing
    if drawing_services is not None and hasattr(drawing_services, "publish_result") and drawing.state == "drawn":
        drawing_services.publish_result(by=by, drawing=drawing)


# --- approval by the centre ---------------------------------------------------------------------


@transaction.atomic
def notice_approve(*, by: Actor, notice: Notice) -> Notice:
    """Centre staff approve a pending notice: it is issued at once (PDF, notifications) with the
    lot's transition (publicity: evaluating → publicizing; result: publicizing → awarded)."""
    require(by.user, "tendering.approve_notice", notice)
    notice = _lock_notice(notice)
    if notice.bundle_id is not None:
        raise IllegalTransition(_("通知书随中标结果公告一并审核。"), code="bundled")
    if notice.state != NoticeState.PENDING:
        raise IllegalTransition(_("该公告当前为“%(state)s”，不能审核。") % {"state": notice.get_state_display()}, code="notice_state")
    now = timezone.now()
    if notice.kind == NoticeKind.CANDIDATE_PUBLICITY:
        _issue_publicity(by, notice, now)
    elif notice.kind == NoticeKind.RESULT:
        _issue_result(by, notice, now)
    else:  # pragma: no cover - notices are drafted only by the functions here
        raise IllegalTransition(_("无法审核此类公告。"))
    return notice


@transaction.atomic
def notice_return(*, by: Actor, notice: Notice, reason: str) -> Notice:
    """Centre staff return a pending notice (with its bundle) to the drafter with a reason."""
    require(by.user, "tendering.approve_notice", notice)
    reason = _required(reason, _("退回时必须说明理由。"))
    notice = _lock_notice(notice)
    if notice.bundle_id is not None:
        raise IllegalTransition(_("通知书随中标结果公告一并审核。"), code="bundled")
    if notice.state != NoticeState.PENDING:
        raise IllegalTransition(_("该公告当前为“%(state)s”，不能退回。") % {"state": notice.get_state_display()}, code="notice_state")
    now = timezone.now()
    for item in [notice, *notice.bundled.select_for_update()]:
        item.returned_by_id, item.returned_at, item.return_reason = by.user_id, now, reason
        fsm_transition(item, "return_for_changes", by=by, tender_id=notice.lot.tender_id, payload={"kind": item.kind, "reason": reason})
    notify(organisations=_owners(notice.lot), subject=_("%(kind)s被退回：%(lot)s") % {"kind": notice.get_kind_display(), "lot": notice.lot},
           body=reason, url=award_url(notice.lot))
    return notice


@transaction.atomic
def notice_revise(*, by: Actor, notice: Notice, body: str, award_body: str | None = None, non_award_body: str | None = None) -> Notice:
    """The drafter revises a returned notice (and, for a result announcement, the texts of its
    notices) and submits it again for approval."""
    require(by.user, "tendering.draft_notice", notice.lot.tender)
    notice = _lock_notice(notice)
    if notice.bundle_id is not None:
        raise IllegalTransition(_("请修改中标结果公告，通知书随之重新提交。"), code="bundled")
    if notice.state != NoticeState.RETURNED:
        raise IllegalTransition(_("只有被退回的公告才能修改后重新提交。"), code="notice_state")
    now = timezone.now()
    notice.body = _body(body)
    texts = {NoticeKind.AWARD_NOTICE: award_body, NoticeKind.NON_AWARD_NOTICE: non_award_body}
    for item in [notice, *notice.bundled.select_for_update()]:
        if item.pk != notice.pk and texts.get(item.kind) is not None:
            item.body = _body(texts[item.kind])
        item.drafted_by_id, item.drafted_at = by.user_id, now
        fsm_transition(item, "resubmit", by=by, tender_id=notice.lot.tender_id, payload={"kind": item.kind, "body": item.body})
    return notice


# --- objections during the publicity (R54) -----------------------------------------------------


def _publicity_of(lot: Lot) -> CandidatePublicity:
    publicity = CandidatePublicity.objects.filter(lot=lot).first()
    if publicity is None:
        raise IllegalTransition(_("该标段尚未公示中标候选人。"), code="no_publicity")
    return publicity


def _in_publicity(lot: Lot) -> bool:
    return lot.state == LotState.PUBLICIZING or (lot.state == LotState.SUSPENDED and lot.suspended_from == LotState.PUBLICIZING)


@transaction.atomic
def publicity_objection_raise(*, by: Actor, lot: Lot, text: str) -> PublicityObjection:
    """R54: a bidder or another interested party objects to the candidates during the publicity;
    the answer is due within 3 days and the lot is suspended until every objection is answered."""
    require(by.user, "tendering.object_to_publicity", lot)
    text = _required(text, _("异议内容不能为空。"))
    organisation = getattr(by.user, "organisation", None)
    lot = _lock_lot(lot)
    publicity = _publicity_of(lot)
    now = timezone.now()
    if not _in_publicity(lot) or not publicity.starts_at <= now <= publicity.ends_at:
        raise DeadlineError(_("对评标结果的异议应当在中标候选人公示期内提出（%(start)s 至 %(end)s）。") % {
            "start": _local_text(publicity.starts_at), "end": _local_text(publicity.ends_at)}, code="outside_publicity")
    objection = PublicityObjection.objects.create(
        publicity=publicity, organisation=organisation, raised_by_id=by.user_id, text=text, raised_at=now,
        answer_due=periods.period_end(now, OBJECTION_ANSWER_DAYS, lot.tender.accelerator),
    )
    notified = notify(organisations=_owners(lot), subject=_("收到对评标结果的异议：%(lot)s") % {"lot": lot},
                      body=_("请在 %(due)s 前答复；答复前暂停招标投标活动。") % {"due": _local_text(objection.answer_due)}, url=award_url(lot))
    record_event(by=by, action="publicity.objection_raise", obj=objection, tender_id=lot.tender_id,
                 payload={"text": text, "answer_due": _json(objection.answer_due), "notified": notified})
    if lot.state == LotState.PUBLICIZING:
        # The objection suspends the lot by the rule (R54); the platform acts, on the objector's request.
        _suspend(by, lot, _("公示异议处理中（异议%(id)s）") % {"id": objection.pk}, SuspensionKind.PUBLICITY_OBJECTION)
    return objection


@transaction.atomic
def publicity_objection_answer(*, by: Actor, objection: PublicityObjection, answer: str) -> PublicityObjection:
    """The tenderer or its agency answers; when no objection remains open the lot resumes."""
    lot = objection.publicity.lot
    require(by.user, "tendering.decide_award", lot.tender)
    answer = _required(answer, _("答复不能为空。"))
    lot = _lock_lot(lot)
    objection = PublicityObjection.objects.select_for_update().get(pk=objection.pk)
    if not objection.is_open:
        raise IllegalTransition(_("该异议已答复。"), code="already_answered")
    now = timezone.now()
    objection.answer, objection.answered_by_id, objection.answered_at = answer, by.user_id, now
    objection.save(update_fields=["answer", "answered_by", "answered_at"])
    notified = notify(organisations=[objection.organisation_id], subject=_("异议已答复：%(lot)s") % {"lot": lot}, body=answer,
                      url=notice_url(objection.publicity.notice))
    record_event(by=by, action="publicity.objection_answer", obj=objection, tender_id=lot.tender_id,
                 payload={"answer": answer, "late": now > objection.answer_due, "notified": notified})
    still_open = PublicityObjection.objects.filter(publicity=objection.publicity, answered_at__isnull=True).exists()
    if not still_open and lot.state == LotState.SUSPENDED and lot.suspension_kind == SuspensionKind.PUBLICITY_OBJECTION:
        _resume(by, lot, payload={"objections_answered": True})
    return objection


@transaction.atomic
def publicity_objection_report_overdue(*, by: Actor, objection: PublicityObjection) -> PublicityObjection:
    """Record once that an objection's answer is late (the chronograph). It stays open."""
    lot = objection.publicity.lot
    _authorise(by, "tendering.decide_award", lot.tender)
    objection = PublicityObjection.objects.select_for_update().get(pk=objection.pk)
    if not objection.is_open or objection.overdue_reported_at is not None or timezone.now() <= objection.answer_due:
        raise IllegalTransition(_("该异议未逾期或已报告。"), code="not_overdue")
    objection.overdue_reported_at = timezone.now()
    objection.save(update_fields=["overdue_reported_at"])
    record_event(by=by, action="publicity.objection_overdue", obj=objection, tender_id=lot.tender_id,
                 payload={"answer_due": _json(objection.answer_due)})
    return objection


# --- award decision (R55, 评定分离) -------------------------------------------------------------


def _method_error(exc: award_method.AwardMethodError) -> DomainError:
    message = _(exc.template) % exc.params if exc.params else _(exc.template)
    return DomainError(message, code="award_method")


@transaction.atomic
def award_decide(*, by: Actor, lot: Lot, votes: list[dict] | None = None, finalists: int = 2, reason: str = "") -> AwardDecision:
    """定标 after the publicity, with no objection open: by the tender's method among the publicised
    candidates. State-funded: the first candidate (R55). Otherwise the award committee's votes
    (`votes`: [{"voter": name, "candidate_rank": n}]) decide directly, or pick `finalists` among
    whom a lot is drawn (seed recorded so anyone can re-draw it)."""
    require(by.user, "tendering.decide_award", lot.tender)
    lot = _lock_lot(lot)
    tender = lot.tender
    publicity = _publicity_of(lot)
    if lot.state != LotState.PUBLICIZING:
        raise IllegalTransition(_("标段当前为“%(state)s”，不能定标。") % {"state": lot.get_state_display()}, code="lot_state")
    now = timezone.now()
    if now < publicity.ends_at:
        raise DeadlineError(_("公示期至 %(end)s 结束，公示期满后才能定标。") % {"end": _local_text(publicity.ends_at)}, code="publicity_running")
    if publicity.objections.filter(answered_at__isnull=True).exists():
        raise IllegalTransition(_("尚有未答复的异议，不能定标。"), code="objection_open")
    if AwardDecision.objects.filter(lot=lot).exists():
        raise IllegalTransition(_("该标段已经定标。"), code="already_decided")
    if isinstance(finalists, bool) or not isinstance(finalists, int) or not 1 <= finalists <= MAX_CANDIDATES:
        raise DomainError(_("进入抽签的候选人数应为1至3。"), code="finalists")
    candidates = publicity.notice.fields["candidates"]
    by_rank = {c["candidate_rank"]: c for c in candidates}
    try:
        parsed = [award_method.Vote(voter=str(v.get("voter", "")), candidate_rank=int(v.get("candidate_rank")))
                  for v in (votes or [])]
    except (TypeError, ValueError, AttributeError):
        raise DomainError(_("投票记录格式错误：每一票须写明投票人和所投候选人排序。"), code="votes_format") from None
    seed = secrets.token_bytes(32) if tender.award_method == AwardMethod.VOTE_THEN_LOT else None
    try:
        outcome = award_method.decide(tender.award_method, state_funded=tender.state_funded, candidates=by_rank, votes=parsed,
                                      finalists=finalists, seed=seed)
    except award_method.AwardMethodError as exc:
        raise _method_error(exc) from None
    chosen = by_rank[outcome.winner_rank]
    lot_drawing = {}
    if seed is not None:
        lot_drawing = {"seed_hex": seed.hex(), "seed_sha256": hashlib.sha256(seed).hexdigest(), "finalists": list(outcome.finalists),
                       "index": outcome.lot_index, "algorithm": award_method.LOT_ALGORITHM}
    decision = AwardDecision.objects.create(
        lot=lot, method=tender.award_method, state_funded=tender.state_funded, candidates=candidates,
        winner_bid_id=chosen["bid"], winner_id=chosen["organisation"], price_fen=chosen["price_fen"],
        votes=[{"voter": v.voter.strip(), "candidate_rank": v.candidate_rank} for v in parsed],
        tally={str(rank): n for rank, n in outcome.tally.items()}, lot_drawing=lot_drawing, reason=_body(reason),
        decided_by_id=by.user_id, decided_at=now,
    )
    record_event(by=by, action="award.decide", obj=decision, tender_id=tender.pk, payload={
        "method": decision.method, "state_funded": decision.state_funded, "winner_bid": chosen["bid"],
        "winner": chosen["organisation"], "candidate_rank": outcome.winner_rank, "votes": decision.votes, "tally": decision.tally,
        "lot_drawing": lot_drawing,
    })
    return decision


# --- result announcement, award notice and notices to the others (L45) ------------------------


@transaction.atomic
def result_draft(*, by: Actor, lot: Lot, body: str = "", award_body: str = "", non_award_body: str = "") -> Notice:
    """The result announcement with the award notice to the winner and a notice to every other
    bidder, drafted together; the centre approves or returns them together."""
    require(by.user, "tendering.draft_notice", lot.tender)
    lot = _lock_lot(lot)
    if lot.state != LotState.PUBLICIZING:
        raise IllegalTransition(_("标段当前为“%(state)s”，不能起草中标结果公告。") % {"state": lot.get_state_display()}, code="lot_state")
    decision = AwardDecision.objects.filter(lot=lot).select_related("winner").first()
    if decision is None:
        raise IllegalTransition(_("尚未定标，不能起草中标结果公告。"), code="not_decided")
    if _active_notice(lot, NoticeKind.RESULT) is not None:
        raise IllegalTransition(_("该标段已有中标结果公告；被退回的请修改后重新提交。"), code="already_drafted")
    now = timezone.now()
    winner = next(c for c in decision.candidates if c["bid"] == decision.winner_bid_id)
    common = {**_lot_fields(lot), "winner": winner, "method": decision.method,
              "method_label": str(AwardMethod(decision.method).label),
              "decision": {"id": decision.pk, "decided_at": _json(decision.decided_at), "tally": decision.tally,
                           "lot_drawing": decision.lot_drawing}}
    head = Notice.objects.create(lot=lot, kind=NoticeKind.RESULT, title=_("%(lot)s 中标结果公告") % {"lot": lot}, body=_body(body),
                                 fields=common, drafted_by_id=by.user_id, drafted_at=now)
    Notice.objects.create(lot=lot, kind=NoticeKind.AWARD_NOTICE, bundle=head, recipient=decision.winner,
                          title=_("%(lot)s 中标通知书") % {"lot": lot}, body=_body(award_body),
                          fields={**common, "recipient": _org(decision.winner)}, drafted_by_id=by.user_id, drafted_at=now)
    others = Organisation.objects.filter(pk__in=_bidder_ids(lot)).exclude(pk=decision.winner_id).order_by("pk")
    for organisation in others:
        Notice.objects.create(lot=lot, kind=NoticeKind.NON_AWARD_NOTICE, bundle=head, recipient=organisation,
                              title=_("%(lot)s 中标结果通知书") % {"lot": lot}, body=_body(non_award_body),
                              fields={**common, "recipient": _org(organisation)}, drafted_by_id=by.user_id, drafted_at=now)
    record_event(by=by, action="notice.draft", obj=head, tender_id=lot.tender_id, payload={
        "kind": head.kind, "decision": decision.pk, "winner": decision.winner_id, "others": [o.pk for o in others],
    })
    return head


def _issue_result(by: Actor, head: Notice, now: datetime) -> None:
    lot = _lock_lot(head.lot)
    if lot.state != LotState.PUBLICIZING:
        raise IllegalTransition(_("标段当前为“%(state)s”，不能发布中标结果。") % {"state": lot.get_state_display()}, code="lot_state")
    due_at = periods.period_end(now, CONTRACT_DAYS, lot.tender.accelerator)
    _issue(by, head, now)
    award_notice = None
    for notice in head.bundled.select_for_update(of=("self",)).select_related("recipient", "drafted_by").order_by("pk"):
        extra = {"contract_due_at": _json(due_at)} if notice.kind == NoticeKind.AWARD_NOTICE else None
        _issue(by, notice, now, extra=extra)
        if notice.kind == NoticeKind.AWARD_NOTICE:
            award_notice = notice
            notify(organisations=[notice.recipient_id], subject=_("中标通知书：%(lot)s") % {"lot": lot},
                   body=_("你单位被确定为中标人。请于 %(due)s 前与招标人订立书面合同（L46）。") % {"due": _local_text(due_at)},
                   url=notice_url(notice))
        else:
            notify(organisations=[notice.recipient_id], subject=_("中标结果通知书：%(lot)s") % {"lot": lot},
                   body=_("该标段已确定中标人，你单位未中标。"), url=notice_url(notice))
    contract = ContractRegistration.objects.create(lot=lot, award_notice=award_notice, due_at=due_at)
    lot.state_changed_at = now
    fsm_transition(lot, "award", by=by, tender_id=lot.tender_id, payload={
        "notice": head.pk, "award_notice": award_notice.pk, "winner": award_notice.recipient_id, "contract_due_at": _json(due_at),
    })
    notify(organisations=_owners(lot), subject=_("中标结果已发布：%(lot)s") % {"lot": lot},
           body=_("请于 %(due)s 前与中标人签订合同并在平台登记。") % {"due": _local_text(due_at)}, url=award_url(lot))
    record_event(by=by, action="contract.due", obj=contract, tender_id=lot.tender_id, payload={"due_at": _json(due_at)})


# --- contract (L46) ----------------------------------------------------------------------------


@transaction.atomic
def contract_register(*, by: Actor, lot: Lot, signed_at: datetime, amount_fen: int) -> ContractRegistration:
    """Register the signed contract (awarded → contracted). Registered after the 30 days it is
    still recorded, as late."""
    require(by.user, "tendering.decide_award", lot.tender)
    lot = _lock_lot(lot)
    if lot.state != LotState.AWARDED:
        raise IllegalTransition(_("标段当前为“%(state)s”，不能登记合同。") % {"state": lot.get_state_display()}, code="lot_state")
    contract = ContractRegistration.objects.select_for_update(of=("self",)).select_related("award_notice").get(lot=lot)
    _require_aware(signed_at, _("合同签订时间"))
    if signed_at is None:
        raise DomainError(_("请填写合同签订时间。"), code="signed_at_required")
    now = timezone.now()
    if signed_at < contract.award_notice.issued_at or signed_at > now:
        raise DomainError(_("合同签订时间应在中标通知书发出之后、当前时间之前。"), code="signed_at")
    if not is_valid_fen(amount_fen, allow_zero=False):
        raise DomainError(_("合同金额必须是大于0的整数（单位：分）。"), code="amount")
    contract.signed_at, contract.amount_fen, contract.registered_by_id, contract.registered_at = signed_at, amount_fen, by.user_id, now
    contract.save(update_fields=["signed_at", "amount_fen", "registered_by", "registered_at"])
    late = signed_at > contract.due_at
    lot.state_changed_at = now
    fsm_transition(lot, "contract", by=by, tender_id=lot.tender_id, payload={
        "contract": contract.pk, "signed_at": _json(signed_at), "amount_fen": amount_fen, "due_at": _json(contract.due_at), "late": late,
    })
    return contract


@transaction.atomic
def contract_flag_overdue(*, by: Actor, contract: ContractRegistration) -> ContractRegistration:
    """L46: a contract not registered 30 days after the award notice is flagged, once (the
    chronograph), with an audit event; the owners are told."""
    _authorise(by, "tendering.decide_award", contract.lot.tender)
    contract = ContractRegistration.objects.select_for_update(of=("self",)).select_related("lot__tender").get(pk=contract.pk)
    if contract.is_registered or contract.overdue_flagged_at is not None or timezone.now() <= contract.due_at:
        raise IllegalTransition(_("合同未逾期、已登记或已标记逾期。"), code="not_overdue")
    contract.overdue_flagged_at = timezone.now()
    contract.save(update_fields=["overdue_flagged_at"])
    lot = contract.lot
    notified = notify(organisations=_owners(lot), subject=_("合同签订逾期：%(lot)s") % {"lot": lot},
                      body=_("中标通知书发出已满30日（期限 %(due)s），尚未登记合同（L46）。") % {"due": _local_text(contract.due_at)},
                      url=award_url(lot))
    record_event(by=by, action="contract.overdue", obj=contract, tender_id=lot.tender_id,
                 payload={"due_at": _json(contract.due_at), "notified": notified})
    return contract
