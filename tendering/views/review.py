"""The trading centre's review queue: submitted tenders are approved or returned with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import require
from tendering import selectors, services
from tendering.forms import ReasonForm
from tendering.views._common import perform, tender_for, with_yuan


@login_required
def queue(request):
    require(request.user, "tendering.review_tender")
    tenders = selectors.tenders_for_review().select_related("project", "tenderer", "agency")
    return render(request, "tendering/review/queue.html", {"tenders": tenders})


@login_required
def review(request, pk: int):
    tender = tender_for(request, pk, "tendering.review_tender")
    return render(request, "tendering/review/detail.html", {
        "tender": tender,
        "lots": with_yuan(tender.lots.all()),
        "documents": selectors.current_documents(tender),
        "invitations": tender.invitations.select_related("organisation"),
        "return_form": ReasonForm(),
    })


@login_required
@require_POST
def approve(request, pk: int):
    tender = tender_for(request, pk, "tendering.review_tender")
    if perform(request, services.tender_approve, tender=tender)[0]:
        messages.success(request, _("已审核通过 %(code)s，招标人可以发布公告。") % {"code": tender.code})
        return redirect("tendering:review_queue")
    return redirect("tendering:review", pk=tender.pk)


@login_required
@require_POST
def return_for_changes(request, pk: int):
    tender = tender_for(request, pk, "tendering.review_tender")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("退回时必须说明理由。"))
    elif perform(request, services.tender_return, tender=tender, reason=form.cleaned_data["reason"])[0]:
        messages.success(request, _("已退回 %(code)s。") % {"code": tender.code})
        return redirect("tendering:review_queue")
    return redirect("tendering:review", pk=tender.pk)
