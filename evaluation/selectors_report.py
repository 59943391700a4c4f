"""Reads for the evaluation report: the plain data its statement is built from, the report in
force, and each serving member's answer. docs/evaluation-report.md."""

from __future__ import annotations

from django.conf import settings

from evaluation.models import (
    BidResult,
    EvaluationClarification,
    EvaluationReport,
    EvaluationSession,
    ExpertKey,
    MemberKind,
    MemberStatus,
    PanelMember,
    QualificationVerdict,
    ReportState,
    Score,
    StageReopening,
)
from evaluation.report_pdf import Answer
from opening.models import BidOpening, DecryptionStatus

SERVING = (MemberStatus.DRAWN, MemberStatus.CONFIRMED)


def person_name(user) -> str:
    return (getattr(user, "display_name", "") or user.get_username()) if user is not None else ""


def member_name(member: PanelMember) -> str:
    if member.kind == MemberKind.EXPERT and member.expert_id:
        return member.expert.name
    return person_name(member.user)


def serving_members(session: EvaluationSession) -> list[PanelMember]:
    return list(session.drawing.members.filter(status__in=SERVING).select_related("expert", "user").order_by("seat", "round"))


def current_report(session: EvaluationSession) -> EvaluationReport | None:
    """The report in force: the final one, else the newest version being signed."""
    return session.reports.exclude(state=ReportState.SUPERSEDED).order_by("-version").first()


def active_key(user) -> ExpertKey | None:
    return ExpertKey.objects.filter(user=user, revoked_at__isnull=True).first()


def statement_inputs(session: EvaluationSession) -> dict:
    """Everything build_statement needs from the database except the version, the drafting and
    the audit head, as plain values."""
    lot, tender = session.lot, session.lot.tender
    scheme = tender.evaluation_scheme or {}
    members = list(session.drawing.members.select_related("expert", "user").order_by("seat", "round"))
    seat_of = {m.pk: m.seat for m in members}
    # Verdicts and scores are attributed to serving seats only: a declined or recused member's
    # rows must have been voided (a non-void one makes the statement refuse: seat None).
    serving_seat = {m.pk: m.seat for m in members if m.serving}
    chair_seat = seat_of.get(session.chair_id)
    openings = {o.bid_id: o for o in BidOpening.objects.filter(session__lot=lot, status=DecryptionStatus.OPENED).select_related("bid__bidder")}
    results = list(BidResult.objects.filter(session=session).select_related("bid__bidder"))
    bids = {}
    for o in openings.values():
        bids[o.bid_id] = {"bid": o.bid_id, "bidder_id": o.bid.bidder_id, "bidder_name": o.bid.bidder.name,
                          "credit_code": o.bid.bidder.credit_code, "price_fen": o.price_prevailing_fen}
    for r in results:
        bids.setdefault(r.bid_id, {"bid": r.bid_id, "bidder_id": r.bid.bidder_id, "bidder_name": r.bid.bidder.name,
                                   "credit_code": r.bid.bidder.credit_code, "price_fen": r.price_fen})
    return {
        "platform": {"region_code": settings.PLATFORM_REGION_CODE, "name": settings.PLATFORM_REGION_NAME},
        "tender": {"id": tender.pk, "code": tender.code, "title": tender.title},
        "lot": {"id": lot.pk, "number": lot.number, "name": lot.name},
        "session": {"starts_at": session.starts_at, "ends_at": session.ends_at},
        "criteria": [c for c in scheme.get("criteria", []) if isinstance(c, dict)],
        "price_formula": scheme.get("price_formula") or {},
        "members": [
            {"seat": m.seat, "round": m.round, "kind": m.kind, "specialty": m.specialty, "name": member_name(m),
             "title": m.expert.title if m.expert_id else "", "employer": m.expert.employer_name if m.expert_id else "",
             "status": m.status, "status_reason": m.status_reason, "serving": m.serving, "venue": m.venue,
             "checked_in_at": m.checked_in_at}
            for m in members
        ],
        "chair_seat": chair_seat,
        "bids": list(bids.values()),
        "verdicts": [{"bid": v.bid_id, "criterion": v.criterion, "member": serving_seat.get(v.member_id), "passed": v.passed,
                      "reason": v.reason, "void": v.void} for v in QualificationVerdict.objects.filter(session=session)],
        "scores": [{"bid": s.bid_id, "criterion": s.criterion, "member": serving_seat.get(s.member_id), "value": s.value,
                    "reason": s.reason, "void": s.void} for s in Score.objects.filter(session=session)],
        "results": [{"bid": r.bid_id, "price_fen": r.price_fen, "qualified": r.qualified,
                     "qualification_reasons": r.qualification_reasons, "technical": r.technical, "commercial": r.commercial,
                     "price_score": r.price_score, "deviation_percent": r.deviation_percent, "total": r.total, "rank": r.rank,
                     "candidate_rank": r.candidate_rank, "abnormally_low": r.abnormally_low, "rejected": r.rejected,
                     "rejection_reason": r.rejection_reason} for r in results],
        "benchmark": session.benchmark or {},
        "reopenings": [{"stage": r.stage.kind, "reason": r.reason, "by": seat_of.get(r.by_id), "at": r.at, "snapshot": r.snapshot}
                       for r in StageReopening.objects.filter(stage__session=session).select_related("stage")],
        "clarifications": [
            {"number": c.number, "bid": c.bid_id, "reason": c.reason, "status": c.status, "asked_by": seat_of.get(c.asked_by_id),
             "asked_at": c.asked_at, "deadline": c.deadline, "question": c.question, "answer": c.answer,
             "answered_at": c.answered_at, "answer_sha256": c.answer_sha256, "signing_key_fingerprint": c.signing_key_fingerprint}
            for c in EvaluationClarification.objects.filter(session=session)
        ],
    }


def answers_of(report: EvaluationReport) -> list[Answer]:
    """Every serving member, by seat, with its signature, dissent or nothing yet."""
    signatures = {s.member_id: s for s in report.signatures.select_related("key")}
    dissents = {d.member_id: d for d in report.dissents.all()}
    answers = []
    for member in serving_members(report.session):
        signature, dissent = signatures.get(member.pk), dissents.get(member.pk)
        if signature is not None:
            answers.append(Answer(seat=member.seat, name=member_name(member), response="signed", at=signature.signed_at,
                                  key_fingerprint=signature.key.fingerprint, signature=signature.signature))
        elif dissent is not None:
            answers.append(Answer(seat=member.seat, name=member_name(member), response="dissent", at=dissent.written_at, text=dissent.text))
        else:
            answers.append(Answer(seat=member.seat, name=member_name(member), response=""))
    return answers


def snapshot_part(session: EvaluationSession, user) -> dict:
    """The report's part of the evaluation room's snapshot: the version in force, its state and
    hash, the page and PDF, each serving member's answer, and what the viewer may do."""
    from django.urls import reverse

    from accounts.permissions import can
    from evaluation.models import SessionState
    from evaluation.rules import serving_member

    report = current_report(session)
    member = serving_member(user, session)
    part = {
        "version": None, "state": "none", "sha256": "", "pdf_sha256": "", "answers": [],
        "page_url": reverse("evaluation:report", args=[session.lot_id]), "pdf_url": "",
        "viewer": {"must_answer": False, "answered": ""},
        "can_draft": can(user, "evaluation.report_draft", session) and session.state == SessionState.REPORTING,
    }
    if report is None:
        return part
    answers = answers_of(report)
    own = next((a for a in answers if member is not None and a.seat == member.seat), None)
    part.update({
        "version": report.version, "state": report.state, "sha256": report.statement_sha256, "pdf_sha256": report.pdf_sha256,
        "pdf_url": reverse("evaluation:report_pdf", args=[session.lot_id]),
        "answers": [{"seat": a.seat, "response": a.response, "at": a.at.isoformat() if a.at else None} for a in answers],
        "viewer": {"must_answer": report.state == ReportState.SIGNING and own is not None and not own.response,
                   "answered": own.response if own else ""},
        "can_draft": part["can_draft"] and report.state == ReportState.SIGNING and not any(a.response for a in answers),
    })
    return part
