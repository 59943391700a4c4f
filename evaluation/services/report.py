"""The evaluation report (评标报告, R53) and the members' signing keys. docs/evaluation-report.md.

Experts (and tenderer representatives) register an ECDSA P-256 public key made in their browser
(ExpertKey: one in force per user; a new one revokes the old). Once the session is REPORTING the
chair drafts the report: a statement of everything the evaluation produced
(evaluation/report_statement.py), its SHA-256, the audit head, and a PDF of it. Every serving
member then signs the hash with their key, or writes a dissent instead. When all have, the report
is final (the PDF gets the appendix of signatures and dissents) and the session finishes
(REPORTING → FINISHED). A redraft supersedes a version nobody has answered yet.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from audit.models import AuditEvent
from audit.services import fsm_transition, record_event
from bidding import keyfile
from config.errors import DomainError, IllegalTransition
from evaluation import report_signing
from evaluation.models import (
    EvaluationReport,
    EvaluationSession,
    ExpertKey,
    ReportDissent,
    ReportSignature,
    ReportState,
    SessionState,
)
from evaluation.report_pdf import render_pdf
from evaluation.report_statement import ReportDataError, build_statement, statement_hash
from evaluation.rules import serving_member
from evaluation.selectors_report import (
    active_key,
    answers_of,
    current_report,
    member_name,
    serving_members,
    statement_inputs,
)
from opening.rooms import append_event

MAX_DISSENT = 4000


def report_page_url(session: EvaluationSession) -> str:
    return reverse("evaluation:report", args=[session.lot_id])


def report_pdf_url(session: EvaluationSession) -> str:
    return reverse("evaluation:report_pdf", args=[session.lot_id])


# --- signing keys -------------------------------------------------------------------------------


@transaction.atomic
def expert_key_register(*, by: Actor, public_jwk: dict) -> ExpertKey:
    """Register the acting expert's (or representative's) public signing key: a P-256 JWK. The key
    in force, if any, is revoked (rotation); reports already signed keep their signatures, which
    name the key that made them."""
    require(by.user, "evaluation.expert_keys")
    if isinstance(public_jwk, dict) and "d" in public_jwk:
        raise DomainError(_("这是私钥，不能提交给平台：只登记公钥（JWK 中不能有 d）。私钥只保存在您的密钥文件中。"), code="private_key")
    try:
        public_key = keyfile.public_key_from_jwk(public_jwk)
    except keyfile.KeyFileError:
        raise DomainError(_("公钥无效：应为 P-256（ECDSA）公钥的 JWK。"), code="invalid_key") from None
    fingerprint = keyfile.fingerprint(public_key)
    if ExpertKey.objects.filter(fingerprint=fingerprint).exists():
        raise DomainError(_("该公钥已经登记过，不能再次登记。请创建新的密钥文件。"), code="key_registered")
    now = timezone.now()
    previous = ExpertKey.objects.select_for_update().filter(user=by.user, revoked_at__isnull=True).first()
    if previous is not None:
        previous.revoked_at = now
        previous.save(update_fields=["revoked_at"])
    key = ExpertKey.objects.create(user=by.user, public_jwk=keyfile.public_jwk(public_key), fingerprint=fingerprint, registered_at=now)
    record_event(by=by, action="expertkey.register", obj=key,
                 payload={"fingerprint": fingerprint, "replaces": previous.fingerprint if previous else None})
    return key


# --- the report ---------------------------------------------------------------------------------


def _lock(session: EvaluationSession) -> EvaluationSession:
    return EvaluationSession.objects.select_for_update(of=("self",)).select_related("lot__tender", "drawing").get(pk=session.pk)


def _audit_head() -> tuple[int, str]:
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return (head[0], head[1]) if head else (0, "0" * 64)


def _info(report: EvaluationReport) -> dict:
    return {"version": report.version, "sha256": report.statement_sha256, "pdf_sha256": report.pdf_sha256,
            "audit": {"seq": report.audit_head_seq, "hash": report.audit_head_hash}}


@transaction.atomic
def report_draft(*, by: Actor, session: EvaluationSession) -> EvaluationReport:
    """The chair drafts the report once the ranking is locked (session REPORTING). A version that
    no member has signed or dissented from yet is superseded by the new one; once anyone has
    answered, the report stands."""
    require(by.user, "evaluation.report_draft", session)
    session = _lock(session)
    if session.state != SessionState.REPORTING:
        raise IllegalTransition(_("排序阶段锁定后（评标报告阶段）才能生成评标报告。"), code="not_reporting")
    from evaluation.services.clarification import require_none_open
    from evaluation.services.room import require_lot_evaluating

    require_lot_evaluating(session)
    require_none_open(session, action=_("生成评标报告"))
    previous = current_report(session)
    if previous is not None:
        if previous.state == ReportState.FINAL:
            raise IllegalTransition(_("评标报告已定稿，不能重新生成。"), code="report_final")
        if previous.signatures.exists() or previous.dissents.exists():
            raise IllegalTransition(_("已有成员签署或提出不同意见，评标报告不能再重新生成。"), code="report_answered")
    now = timezone.now()
    version = session.reports.count() + 1
    head = _audit_head()  # before this transaction's own events: every event of the evaluation so far
    chair = serving_member(by.user, session)
    try:
        statement = build_statement(version=version, drafted_at=now, drafted_by={"seat": chair.seat, "name": member_name(chair)},
                                    audit_head=head, **statement_inputs(session))
    except ReportDataError as error:
        reason = _(error.template) % error.params if error.params else _(error.template)
        raise DomainError(_("评标结果不完整，不能生成评标报告：%(reason)s") % {"reason": reason}, code="report_data") from None
    digest = statement_hash(statement)
    pdf = render_pdf(statement, digest)
    if previous is not None:
        previous.state = ReportState.SUPERSEDED
        previous.save(update_fields=["state"])
        record_event(by=by, action="evaluation.report_supersede", obj=previous, tender_id=session.lot.tender_id,
                     payload={"version": previous.version, "sha256": previous.statement_sha256, "by_version": version})
    report = EvaluationReport(session=session, version=version, statement=statement, statement_sha256=digest,
                              pdf_sha256=hashlib.sha256(pdf).hexdigest(), audit_head_seq=head[0], audit_head_hash=head[1], created_at=now)
    report.pdf.save(f"lot-{session.lot_id}-report-v{version}.pdf", ContentFile(pdf), save=False)
    report.save()
    info = _info(report)
    record_event(by=by, action="evaluation.report_draft", obj=report, tender_id=session.lot.tender_id,
                 payload={**info, "superseded": previous.version if previous else None})
    append_event(session, "report.drafted", {**info, "pdf_url": report_pdf_url(session),
                                              "expected": [m.seat for m in serving_members(session)]})
    return report


def _open_report(session: EvaluationSession, report: EvaluationReport) -> EvaluationReport:
    report = EvaluationReport.objects.select_for_update(of=("self",)).get(pk=report.pk)
    if report.session_id != session.pk:
        raise DomainError(_("这份评标报告不属于本次评标。"), code="wrong_session")
    if report.state == ReportState.SUPERSEDED:
        raise IllegalTransition(_("这一版评标报告已被新版本取代，请签署最新版本。"), code="report_superseded")
    if report.state == ReportState.FINAL:
        raise IllegalTransition(_("评标报告已定稿。"), code="report_final")
    return report


def _lot_evaluating(session: EvaluationSession) -> None:
    from evaluation.services.room import require_lot_evaluating

    require_lot_evaluating(session)


def _answering(by: Actor, report: EvaluationReport):
    """Lock the session and the report a member answers (signs or dissents from), and check that
    the report is still open, the lot still under evaluation and the member serving and not yet
    answered. Returns (session, report, member), all locked and current."""
    session = report.session
    require(by.user, "evaluation.report_answer", session)
    session = _lock(session)
    report = _open_report(session, report)
    _lot_evaluating(session)
    member = serving_member(by.user, session)
    if member is None:
        raise DomainError(_("只有本评标委员会的成员签署评标报告。"), code="not_member")
    if report.signatures.filter(member=member).exists() or report.dissents.filter(member=member).exists():
        raise IllegalTransition(_("您已经签署过这份评标报告或提出过不同意见。"), code="already_answered")
    return session, report, member


@transaction.atomic
def report_sign(*, by: Actor, report: EvaluationReport, signature_b64: str) -> ReportSignature:
    """A serving member signs the report: `signature_b64` is the ECDSA P-256 signature of the
    report hash's ASCII hex by the member's registered key (evaluation/report_signing.py)."""
    session, report, member = _answering(by, report)
    key = active_key(by.user)
    if key is None:
        raise DomainError(_("您还没有登记签名公钥：请先在“我的签名密钥”页面创建密钥文件并登记公钥；也可以书面提出不同意见。"),
                          code="no_expert_key")
    if not report_signing.verify(keyfile.public_key_from_jwk(key.public_jwk), report.statement_sha256, signature_b64):
        raise DomainError(
            _("签名无效：这不是您登记的签名密钥（指纹 %(fingerprint)s…）对本评标报告哈希的签名。请用您的密钥文件重新签名。")
            % {"fingerprint": key.fingerprint[:16]},
            code="bad_signature",
        )
    signature = ReportSignature.objects.create(report=report, member=member, key=key,
                                               signature=report_signing.der_b64(report_signing.decode(signature_b64)),
                                               signed_at=timezone.now())
    payload = {"version": report.version, "sha256": report.statement_sha256, "seat": member.seat,
               "key_fingerprint": key.fingerprint, "signature": signature.signature}
    record_event(by=by, action="evaluation.report_sign", obj=report, tender_id=session.lot.tender_id, payload=payload)
    append_event(session, "report.signed", {**payload, "at": signature.signed_at.isoformat()})
    _finalise_if_complete(by, session, report)
    return signature


@transaction.atomic
def report_dissent(*, by: Actor, report: EvaluationReport, text: str) -> ReportDissent:
    """A serving member writes why they disagree, instead of signing (R53)."""
    session, report, member = _answering(by, report)
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise DomainError(_("请写明不同意见的内容和理由。"), code="text_required")
    if len(text) > MAX_DISSENT:
        raise DomainError(_("内容不能超过 %(limit)s 个字符。") % {"limit": MAX_DISSENT}, code="text_too_long")
    dissent = ReportDissent.objects.create(report=report, member=member, text=text, written_at=timezone.now())
    payload = {"version": report.version, "sha256": report.statement_sha256, "seat": member.seat, "text": text}
    record_event(by=by, action="evaluation.report_dissent", obj=report, tender_id=session.lot.tender_id, payload=payload)
    append_event(session, "report.dissent", {**payload, "at": dissent.written_at.isoformat()})
    _finalise_if_complete(by, session, report)
    return dissent


def _finalise_if_complete(by: Actor, session: EvaluationSession, report: EvaluationReport) -> None:
    """Every serving member has signed or dissented: the report is final, its PDF gets the
    appendix, and the session finishes."""
    answers = answers_of(report)
    if any(not a.response for a in answers):
        return
    now = timezone.now()
    pdf = render_pdf(report.statement, report.statement_sha256, answers=answers, finalised_at=now)
    report.pdf.save(f"lot-{session.lot_id}-report-v{report.version}-final.pdf", ContentFile(pdf), save=False)
    report.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    report.state = ReportState.FINAL
    report.finalised_at = now
    report.save(update_fields=["pdf", "pdf_sha256", "state", "finalised_at"])
    summary = {"version": report.version, "sha256": report.statement_sha256, "pdf_sha256": report.pdf_sha256,
               "signed": [a.seat for a in answers if a.response == "signed"],
               "dissent": [a.seat for a in answers if a.response == "dissent"]}
    tender = session.lot.tender
    notified = notify(organisations=[o for o in (tender.tenderer_id, tender.agency_id) if o],
                      subject=_("评标报告已定稿：%(lot)s") % {"lot": session.lot},
                      body=_("评标委员会全体成员已签署评标报告（或书面提出不同意见），可查看并下载评标报告。"), url=report_page_url(session))
    record_event(by=by, action="evaluation.report_final", obj=report, tender_id=tender.pk, payload={**summary, "notified": notified})
    session.finished_at = now
    fsm_transition(session, "finish", by=by, tender_id=tender.pk, payload={"report": report.version, "sha256": report.statement_sha256})
    append_event(session, "report.final", {**summary, "finalised_at": now.isoformat(), "pdf_url": report_pdf_url(session)})
