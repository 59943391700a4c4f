"""The owner's actions on one tender: documents, invitees, review, publication, clarifications,
answers and cancellation. Each POST authorises, calls one service and redirects (PRG)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can
from tendering import selectors, services
from tendering.forms import (
    AnswerForm, CandidateFilterForm, ClarificationForm, DocumentUploadForm, InviteesForm, ReasonForm,
)
from tendering.models import Objection, Question
from tendering.views._common import perform, tender_for


def _manage(tender):
    return redirect("tendering:manage", pk=tender.pk)


def shanghai(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


@login_required
def documents(request, pk: int):
    tender = tender_for(request, pk, "tendering.manage_tender")
    form = DocumentUploadForm(request.POST or None, request.FILES or None, tender=tender)
    if request.method == "POST" and form.is_valid():
        ok, document = perform(request, services.tender_document_upload, form=form, tender=tender, **form.cleaned_data)
        if ok:
            messages.success(request, _("已上传《%(title)s》第 %(version)s 版，SHA-256：%(sha)s") % {
                "title": document.title, "version": document.version, "sha": document.sha256})
            return redirect("tendering:documents", pk=tender.pk)
    history = tender.documents.select_related("lot", "clarification").order_by("title", "-version")
    return render(request, "tendering/workspace/documents.html", {"tender": tender, "form": form, "history": history})


@login_required
def invitees(request, pk: int):
    """邀请招标: pick at least three verified bidders by qualification, region or name."""
    tender = tender_for(request, pk, "tendering.manage_tender")
    filters = CandidateFilterForm(request.GET if request.method == "GET" else request.POST)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    candidates = selectors.invitation_candidates(**criteria)
    invited = list(tender.invitations.values_list("organisation_id", flat=True))
    if request.method == "POST":
        # Anyone already chosen under earlier criteria stays choosable.
        form = InviteesForm(request.POST, candidates=selectors.invitation_candidates())
        if form.is_valid():
            ok, _invitations = perform(request, services.invitations_set, form=form, tender=tender,
                                       organisations=list(form.cleaned_data["organisations"]), criteria=criteria)
            if ok:
                count = len(form.cleaned_data["organisations"])
                messages.success(request, _("已确定 %(count)s 家受邀投标人。") % {"count": count})
                return _manage(tender)
    else:
        form = InviteesForm(candidates=candidates, initial={"organisations": invited})
    return render(request, "tendering/workspace/invitees.html",
                  {"tender": tender, "filters": filters, "form": form, "candidates": candidates, "invited": invited})


@login_required
@require_POST
def submit(request, pk: int):
    tender = tender_for(request, pk, "tendering.manage_tender")
    if perform(request, services.tender_submit, tender=tender)[0]:
        messages.success(request, _("已提交交易中心审核。"))
    return _manage(tender)


@login_required
@require_POST
def publish(request, pk: int):
    tender = tender_for(request, pk, "tendering.manage_tender")
    if perform(request, services.tender_publish, tender=tender)[0]:
        tender.refresh_from_db()
        messages.success(request, _("招标公告已发布，投标截止时间 %(deadline)s。") % {"deadline": shanghai(tender.bid_deadline)})
    return _manage(tender)


@login_required
def clarification_new(request, pk: int):
    tender = tender_for(request, pk, "tendering.manage_tender")
    form = ClarificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, clarification = perform(request, services.clarification_issue, form=form, tender=tender,
                                    **form.cleaned_data)
        if ok:
            messages.success(request, _("已发布%(kind)s，投标截止时间为 %(deadline)s。") % {
                "kind": clarification.get_kind_display(), "deadline": shanghai(clarification.new_deadline)})
            return _manage(tender)
    return render(request, "tendering/workspace/clarification_form.html", {"tender": tender, "form": form})


def answer_prefix(item) -> str:
    """One answer form per question or objection on the manage page, each with its own ids."""
    return f"{item._meta.model_name}-{item.pk}"


def _answer(request, item, service, **kwargs):
    tender = tender_for(request, item.tender_id, "tendering.manage_tender")
    form = AnswerForm(request.POST, prefix=answer_prefix(item))
    if not form.is_valid():
        messages.error(request, _("请填写答复内容。"))
    elif perform(request, service, answer=form.cleaned_data["answer"], **kwargs)[0]:
        messages.success(request, _("已答复。"))
    return _manage(tender)


@login_required
@require_POST
def question_answer(request, pk: int):
    question = get_object_or_404(Question, pk=pk)
    return _answer(request, question, services.question_answer, question=question)


@login_required
@require_POST
def objection_answer(request, pk: int):
    objection = get_object_or_404(Objection, pk=pk)
    return _answer(request, objection, services.objection_answer, objection=objection)


@login_required
def cancel(request, pk: int):
    tender = tender_for(request, pk, "tendering.cancel_tender")
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if perform(request, services.tender_cancel, form=form, tender=tender, reason=form.cleaned_data["reason"])[0]:
            messages.success(request, _("招标项目已终止。"))
            if can(request.user, "tendering.manage_tender", tender):
                return _manage(tender)
            return redirect("tendering:detail", pk=tender.pk)  # the centre, which has no workspace page
    owner = can(request.user, "tendering.manage_tender", tender)
    back = reverse("tendering:manage" if owner else "tendering:detail", args=[tender.pk])
    return render(request, "tendering/workspace/cancel.html", {"tender": tender, "form": form, "back": back})
