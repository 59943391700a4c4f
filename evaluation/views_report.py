"""Pages of the evaluation report: the members' signing keys (/evaluation/keys/), the report of a
lot (/evaluation/lots/<lot_id>/report/) with its PDF, the chair's draft and a member's dissent.
Signing happens in the page (static/js/evaluation/report_sign.js) through the API. Thin: authorise,
call one service, redirect; a refusal shows the service's message and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from audit.actor import Actor
from bidding import keyfile
from config.errors import DomainError
from evaluation.models import EvaluationSession, ExpertKey, ReportState, SessionState
from evaluation.rules import serving_member
from evaluation.selectors_report import active_key, answers_of, current_report
from evaluation.services import report as service


def _key_page_messages() -> dict[str, str]:
    """What static/js/evaluation/report_keys.js says, in the user's language."""
    return {
        "no_webcrypto": _("本浏览器不提供所需的加密功能（WebCrypto，需通过 HTTPS 访问平台），无法在浏览器中创建密钥文件。请使用最新版浏览器。"),
        "passphrase_short": _("口令至少需要 %(min)s 个字符。"),
        "passphrase_mismatch": _("两次输入的口令不一致。"),
        "creating": _("正在生成密钥并加密密钥文件……"),
        "created": _("密钥文件已创建。请下载并妥善保存，然后登记公钥。"),
        "create_error": _("无法创建密钥文件：%(reason)s"),
        "download_first": _("请先下载并保存密钥文件，再登记公钥。"),
        "file_read": _("已读取密钥文件中的签名公钥。请核对指纹，然后登记。"),
        "file_bad": _("这不是有效的密钥文件，或文件已损坏。"),
        "registering": _("正在登记……"),
        "registered": _("签名公钥已登记。"),
        "register_error": _("登记失败：%(reason)s"),
        "rotation_confirm": _("您已有在用的签名公钥。登记新公钥后，原公钥立即撤销。确定吗？"),
    }


def _report_page_messages() -> dict[str, str]:
    """What static/js/evaluation/report_sign.js says."""
    return {
        "choose_file": _("请选择您的密钥文件并输入口令。"),
        "unlocking": _("正在用口令打开密钥文件……"),
        "wrong_passphrase": _("口令不正确。"),
        "file_bad": _("这不是有效的密钥文件，或文件已损坏。"),
        "wrong_key": _("该密钥文件的签名公钥不是您在平台登记的公钥（登记的指纹 %(fingerprint)s）。"),
        "signing": _("正在签名并提交……"),
        "signed": _("已签名。"),
        "refused": _("签名未被接受：%(reason)s"),
        "network": _("网络中断，未能提交，请重试。"),
    }


@login_required
def keys(request):
    """GET /evaluation/keys/: the own report-signing keys; create one in the browser and register it."""
    if not can(request.user, "evaluation.expert_keys"):
        raise PermissionDenied(_("只有评标专家和评标委员会成员登记评标报告签名密钥。"))
    active = active_key(request.user)
    config = {
        "api": reverse("api-evaluation-expert-keys"),
        "file_name_prefix": f"expert-keys-{request.user.get_username()}",
        "min_passphrase_chars": keyfile.MIN_PASSPHRASE_CHARS,
        "active_fingerprint": active.fingerprint if active else "",
        "messages": _key_page_messages(),
    }
    return render(request, "evaluation/report_keys.html", {
        "keys": ExpertKey.objects.filter(user=request.user).order_by("-registered_at"),
        "active": active, "config": config,
    })


def _session(request, lot_id: int) -> EvaluationSession:
    session = get_object_or_404(EvaluationSession.objects.select_related("lot__tender", "drawing"), lot_id=lot_id)
    if not can(request.user, "evaluation.report_view", session):
        raise Http404
    return session


@login_required
def report(request, lot_id: int):
    """GET /evaluation/lots/<lot_id>/report/: the report in force, every member's answer, and what
    the viewer may do (draft, sign, dissent)."""
    session = _session(request, lot_id)
    current = current_report(session)
    member = serving_member(request.user, session)
    answers = answers_of(current) if current else []
    own = next((a for a in answers if member is not None and a.seat == member.seat), None)
    may_answer = current is not None and current.state == ReportState.SIGNING and member is not None and own is not None and not own.response
    key = active_key(request.user) if member is not None else None
    context = {
        "session": session, "lot": session.lot, "report": current, "answers": answers, "member": member,
        "can_draft": can(request.user, "evaluation.report_draft", session) and session.state == SessionState.REPORTING
        and (current is None or (current.state == ReportState.SIGNING and not any(a.response for a in answers))),
        "may_answer": may_answer, "key": key,
    }
    if may_answer:
        context["sign_config"] = {
            "api": reverse("api-evaluation-report-signature", args=[lot_id]), "sha256": current.statement_sha256,
            "version": current.version, "fingerprint": key.fingerprint if key else "", "messages": _report_page_messages(),
        }
    return render(request, "evaluation/report.html", context)


@login_required
def report_pdf(request, lot_id: int):
    """GET /evaluation/lots/<lot_id>/report.pdf: the PDF of the report in force."""
    session = _session(request, lot_id)
    current = current_report(session)
    if current is None or not current.pdf:
        raise Http404
    final = "" if current.state == ReportState.FINAL else "-draft"
    filename = f"evaluation-report-{session.lot.tender.code}-lot{session.lot.number:02d}-v{current.version}{final}.pdf"
    response = FileResponse(current.pdf.open("rb"), content_type="application/pdf", filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def report_draft(request, lot_id: int):
    session = _session(request, lot_id)
    require(request.user, "evaluation.report_draft", session)
    try:
        drafted = service.report_draft(by=Actor.from_request(request), session=session)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("评标报告第 %(version)s 版已生成，请各成员签署。") % {"version": drafted.version})
    return redirect("evaluation:report", lot_id=lot_id)


@login_required
@require_POST
def report_dissent(request, lot_id: int):
    session = _session(request, lot_id)
    current = current_report(session)
    if current is None:
        raise Http404
    try:
        service.report_dissent(by=Actor.from_request(request), report=current, text=request.POST.get("text", ""))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("您的不同意见已记录。"))
    return redirect("evaluation:report", lot_id=lot_id)
