"""Pages of clarifications during evaluation (澄清). Thin: authorise with the rules, call one service,
redirect after a successful POST; a refused request shows the service's message and changes nothing.

Bidder workspace: /evaluation/clarifications/ (its organisation's clarifications) and
/evaluation/clarifications/<id>/ (read, answer with attachments, sign in the browser:
static/js/evaluation/clarification_sign.js). Panel: /evaluation/lots/<lot_id>/clarifications/
(every clarification of the session with its answer; the chair's ask and reject forms).
A clarification another bidder was asked answers 404: its existence is not confirmed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import can, has_role, require
from audit.actor import Actor
from bidding.models import Bid
from bidding.selectors import active_keys
from config.errors import DomainError
from evaluation.forms_clarification import AskForm, RejectForm
from evaluation.models import (
    BidResult,
    ClarificationAttachment,
    ClarificationStatus,
    EvaluationClarification,
    EvaluationSession,
)
from evaluation.services import clarification as services
from tendering.models import Lot


def _own(request, pk: int) -> EvaluationClarification:
    clarification = get_object_or_404(EvaluationClarification.objects.select_related("session__lot__tender", "bid__bidder"), pk=pk)
    if not can(request.user, "evaluation.clarification_view", clarification):
        raise Http404
    return clarification


def sign_messages() -> dict[str, str]:
    """What clarification_sign.js says, in the user's language (%(name)s placeholders)."""
    return {
        "no_webcrypto": _("本浏览器不提供所需的加密功能（WebCrypto，需通过 HTTPS 访问平台），无法在浏览器中签名。请使用最新版浏览器，或使用投标工具。"),
        "need_key_file": _("请选择本单位的投标密钥文件并输入口令。"),
        "need_answer": _("请填写答复内容。"),
        "hashing": _("正在计算附件的 SHA-256……"),
        "statement": _("正在向平台取得答复声明……"),
        "opening_key": _("正在用口令打开密钥文件……"),
        "wrong_passphrase": _("口令错误。"),
        "key_file_bad": _("密钥文件无法使用：%(reason)s"),
        "wrong_key": _("该密钥文件的签名密钥（指纹 %(fingerprint)s…）不是本单位当前登记的签名密钥。"),
        "signing": _("正在签名答复声明 %(sha256)s……"),
        "submitting": _("已签名，正在提交……"),
        "failed": _("未能提交：%(reason)s"),
    }


@login_required
def bidder_list(request):
    if not has_role(request.user, "bidder") or request.user.organisation_id is None:
        raise PermissionDenied(_("只有投标人查看本单位收到的评标澄清。"))
    clarifications = (EvaluationClarification.objects.filter(bid__bidder_id=request.user.organisation_id)
                      .select_related("session__lot__tender", "bid").order_by("-asked_at"))
    return render(request, "evaluation/clarification_list.html", {"clarifications": clarifications})


@login_required
def bidder_detail(request, pk: int):
    clarification = _own(request, pk)
    if request.method == "POST":
        try:
            services.clarification_answer(
                by=Actor.from_request(request), clarification=clarification, answer=request.POST.get("answer", ""),
                attachments=request.FILES.getlist("attachments"), signature_b64=request.POST.get("signature", ""),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("答复已签名提交，评标委员会已收到。"))
            return redirect("evaluation:clarification_detail", pk=clarification.pk)
        clarification.refresh_from_db()
    can_answer = (clarification.status == ClarificationStatus.OPEN and clarification.deadline >= timezone.now()
                  and can(request.user, "evaluation.clarification_answer", clarification))
    key = active_keys(clarification.bid.bidder).get("signing")
    return render(request, "evaluation/clarification_detail.html", {
        "clarification": clarification,
        "can_answer": can_answer,
        "signing_fingerprint": key.fingerprint if key else "",
        "max_attachments": services.MAX_ATTACHMENTS,
        "max_attachment_bytes": services.max_attachment_bytes(),
        "answer_text": request.POST.get("answer", "") if request.method == "POST" else "",
        "sign_page": {
            "statement_url": reverse("api-evaluation-clarification-statement", args=[clarification.pk]),
            "fingerprint": key.fingerprint if key else "",
            "max_attachments": services.MAX_ATTACHMENTS,
            "max_attachment_bytes": services.max_attachment_bytes(),
            "messages": sign_messages(),
        },
    })


@login_required
def attachment_download(request, pk: int):
    attachment = get_object_or_404(ClarificationAttachment.objects.select_related("clarification__session", "clarification__bid"), pk=pk)
    clarification = attachment.clarification
    if not (can(request.user, "evaluation.clarification_view", clarification)
            or can(request.user, "evaluation.clarification_panel", clarification.session)):
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename)


def _session(request, lot_id: int) -> EvaluationSession:
    lot = get_object_or_404(Lot, pk=lot_id)
    session = EvaluationSession.objects.filter(lot=lot).select_related("lot__tender", "chair").first()
    if session is None or not can(request.user, "evaluation.clarification_panel", session):
        raise Http404
    return session


def _bids(session: EvaluationSession) -> list[Bid]:
    from opening.models import BidOpening, DecryptionStatus

    ids = BidOpening.objects.filter(bid__lot_id=session.lot_id, status=DecryptionStatus.OPENED).values("bid_id")
    return list(Bid.objects.filter(pk__in=ids).select_related("bidder").order_by("pk"))


@login_required
def panel(request, lot_id: int):
    session = _session(request, lot_id)
    bids = _bids(session)
    is_chair = can(request.user, "evaluation.clarification_ask", session)
    ask_form, reject_form = AskForm(bids=bids), RejectForm(bids=bids)
    if request.method == "POST":
        require(request.user, "evaluation.clarification_ask", session)
        action = request.POST.get("action")
        by = Actor.from_request(request)
        if action == "ask":
            ask_form = AskForm(request.POST, bids=bids)
            if ask_form.is_valid():
                data = ask_form.cleaned_data
                try:
                    c = services.clarification_ask(by=by, session=session, bid=data["bid"], question=data["question"],
                                                   deadline=data["deadline"], reason=data["reason"])
                except DomainError as error:
                    messages.error(request, error.message)
                else:
                    messages.success(request, _("第%(number)s号澄清已发给投标人。") % {"number": c.number})
                    return redirect("evaluation:lot_clarifications", lot_id=lot_id)
        elif action == "reject":
            reject_form = RejectForm(request.POST, bids=bids)
            if reject_form.is_valid():
                try:
                    services.reject_bid(by=by, session=session, bid=reject_form.cleaned_data["bid"],
                                        reason=reject_form.cleaned_data["reason"])
                except DomainError as error:
                    messages.error(request, error.message)
                else:
                    messages.success(request, _("已否决该投标。"))
                    return redirect("evaluation:lot_clarifications", lot_id=lot_id)
        else:
            messages.error(request, _("未知的操作。"))
    clarifications = session.clarifications.select_related("bid__bidder", "asked_by").prefetch_related("attachments")
    results = {r.bid_id: r for r in BidResult.objects.filter(session=session)}
    rows = [{"bid": bid, "result": results.get(bid.pk), "may_reject": services.may_reject_abnormally_low(session, bid)} for bid in bids]
    return render(request, "evaluation/clarification_panel.html", {
        "session": session, "lot": session.lot, "clarifications": clarifications, "is_chair": is_chair,
        "ask_form": ask_form, "reject_form": reject_form, "rows": rows,
    })
