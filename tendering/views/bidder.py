"""A verified bidder's actions on an announcement: each POST authorises, calls one service and
redirects back to the announcement (PRG)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from tendering import services
from tendering.forms import ObjectionForm, QuestionForm
from tendering.models import Clarification, Invitation, Tender, TenderDocument
from tendering.views._common import perform


def _back(tender_id: int):
    return redirect("tendering:detail", pk=tender_id)


def _visible(request, pk: int) -> Tender:
    """A tender the user may see (404 otherwise, so a draft's existence is not confirmed)."""
    tender = get_object_or_404(Tender.objects.select_related("project", "tenderer", "agency"), pk=pk)
    if not can(request.user, "tendering.view_tender", tender):
        raise Http404
    return tender


def _taking_part(request, pk: int, action: str = "tendering.take_part") -> Tender:
    """A visible tender on which the user passes `action` (403 otherwise)."""
    tender = _visible(request, pk)
    require(request.user, action, tender)
    return tender


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0]


@login_required
@require_POST
def register(request, pk: int):
    tender = _taking_part(request, pk)
    ok, _registration = perform(request, services.bidder_register, tender=tender)
    if ok:
        messages.success(request, _("已获取招标文件，现在可以下载文件。"))
    return _back(tender.pk)


@login_required
@require_POST
def download(request, pk: int):
    document = get_object_or_404(TenderDocument.objects.select_related("tender"), pk=pk)
    _visible(request, document.tender_id)
    if not can(request.user, "tendering.download_document", document):
        messages.error(request, _("请先获取招标文件，再下载。"))
        return _back(document.tender_id)
    ok, _download = perform(request, services.document_download, document=document)
    if not ok:
        return _back(document.tender_id)
    # The download is recorded (who, when, IP) before a single byte leaves the platform.
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.filename)


@login_required
@require_POST
def acknowledge(request, pk: int):
    clarification = get_object_or_404(Clarification, pk=pk)
    tender = _taking_part(request, clarification.tender_id)
    ok, _ack = perform(request, services.clarification_acknowledge, clarification=clarification)
    if ok:
        messages.success(request, _("已确认收到澄清/修改。"))
    return _back(tender.pk)


@login_required
@require_POST
def ask(request, pk: int):
    tender = _taking_part(request, pk)
    form = QuestionForm(request.POST, prefix="question")
    if not form.is_valid():
        messages.error(request, _first_error(form))
    elif perform(request, services.question_ask, tender=tender, text=form.cleaned_data["text"])[0]:
        messages.success(request, _("问题已提交，答复将公开发布（不显示提问单位）。"))
    return _back(tender.pk)


@login_required
@require_POST
def object_to(request, pk: int):
    tender = _taking_part(request, pk)
    form = ObjectionForm(request.POST, prefix="objection")
    if not form.is_valid():
        messages.error(request, _first_error(form))
    elif perform(request, services.objection_raise, tender=tender, text=form.cleaned_data["text"])[0]:
        messages.success(request, _("异议已提交，招标人应在收到之日起3日内答复。"))
    return _back(tender.pk)


@login_required
@require_POST
def reply_invitation(request, pk: int):
    invitation = get_object_or_404(Invitation.objects.select_related("tender"), pk=pk)
    require(request.user, "tendering.reply_invitation", invitation)
    tender = invitation.tender
    accept = request.POST.get("accept") == "1"
    if perform(request, services.invitation_reply, invitation=invitation, accept=accept)[0]:
        messages.success(request, _("已接受投标邀请。") if accept else _("已谢绝投标邀请。"))
    return _back(tender.pk)
