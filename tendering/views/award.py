"""Publicity and award pages (docs/publicity-and-award.md): the lot's workspace for the tenderer or
agency (read-only for centre staff and regulators), the centre's approval queue, a notice's page
(public or its recipient's) with the objection form during the publicity, and its PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from tendering import selectors_award, services
from tendering.forms import ReasonForm
from tendering.forms_award import (
    AnswerForm,
    ContractForm,
    DecisionForm,
    NoticeBodyForm,
    ObjectionTextForm,
    PublicityDraftForm,
    ResultDraftForm,
)
from tendering.models import Lot, LotState
from tendering.models_award import (
    AwardDecision,
    CandidatePublicity,
    ContractRegistration,
    Notice,
    NoticeKind,
    NoticeState,
    PublicityObjection,
)
from tendering.views._common import perform, yuan


def _lot(pk: int, user, action: str) -> Lot:
    lot = get_object_or_404(Lot.objects.select_related("tender__tenderer", "tender__agency"), pk=pk)
    require(user, action, lot.tender)
    return lot


def _form_error(request, form) -> None:
    errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
    messages.error(request, "；".join(errors))


def _evaluation(lot):
    from evaluation.models import EvaluationSession, ReportState

    session = EvaluationSession.objects.filter(lot=lot).first()
    report = session.reports.filter(state=ReportState.FINAL).order_by("-version").first() if session else None
    return session, report


@login_required
def award(request, pk: int):
    """The lot's publicity and award workspace."""
    lot = _lot(pk, request.user, "tendering.view_award")
    session, report = _evaluation(lot)
    publicity = CandidatePublicity.objects.filter(lot=lot).select_related("notice").first()
    decision = AwardDecision.objects.filter(lot=lot).select_related("winner", "decided_by").first()
    contract = ContractRegistration.objects.filter(lot=lot).select_related("award_notice").first()
    notices = list(Notice.objects.filter(lot=lot, bundle__isnull=True).prefetch_related("bundled__recipient")
                   .select_related("drafted_by", "approved_by", "returned_by"))
    objections = list(publicity.objections.select_related("organisation") if publicity else [])
    can_act = can(request.user, "tendering.draft_notice", lot.tender)
    for notice in notices:
        notice.revise_form = NoticeBodyForm(prefix=f"notice-{notice.pk}", initial={"body": notice.body})
    for objection in objections:
        objection.answer_form = AnswerForm(prefix=f"objection-{objection.pk}")
    now = timezone.now()
    in_publicity = lot.state == LotState.PUBLICIZING or (lot.state == LotState.SUSPENDED and lot.suspended_from == LotState.PUBLICIZING)
    return render(request, "tendering/award/lot.html", {
        "lot": lot, "tender": lot.tender, "session": session, "report": report, "publicity": publicity, "decision": decision,
        "contract": contract, "contract_overdue": selectors_award.is_overdue(contract, now),
        "contract_amount_yuan": yuan(contract.amount_fen) if contract and contract.amount_fen else "",
        "decision_price_yuan": yuan(decision.price_fen) if decision else "", "notices": notices, "objections": objections,
        "can_act": can_act, "now": now, "in_publicity": in_publicity,
        "publicity_over": publicity is not None and now >= publicity.ends_at,
        "publicity_form": PublicityDraftForm(), "decision_form": DecisionForm(), "result_form": ResultDraftForm(),
        "contract_form": ContractForm(),
        "has_publicity_notice": any(n.kind == NoticeKind.CANDIDATE_PUBLICITY for n in notices),
        "has_result_notice": any(n.kind == NoticeKind.RESULT for n in notices),
    })


@login_required
@require_POST
def publicity_draft(request, pk: int):
    lot = _lot(pk, request.user, "tendering.draft_notice")
    form = PublicityDraftForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
    elif perform(request, services.publicity_draft, lot=lot, days=form.cleaned_data["days"], body=form.cleaned_data["body"])[0]:
        messages.success(request, _("中标候选人公示已提交交易中心审核。"))
    return redirect("tendering:award", pk=lot.pk)


@login_required
@require_POST
def notice_revise(request, pk: int):
    notice = get_object_or_404(Notice.objects.select_related("lot__tender"), pk=pk)
    require(request.user, "tendering.draft_notice", notice.lot.tender)
    form = NoticeBodyForm(request.POST, prefix=f"notice-{notice.pk}")
    if not form.is_valid():
        _form_error(request, form)
    elif perform(request, services.notice_revise, notice=notice, body=form.cleaned_data["body"])[0]:
        messages.success(request, _("已修改并重新提交交易中心审核。"))
    return redirect("tendering:award", pk=notice.lot_id)


@login_required
@require_POST
def decide(request, pk: int):
    lot = _lot(pk, request.user, "tendering.decide_award")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
    elif perform(request, services.award_decide, lot=lot, votes=form.cleaned_data["votes"], finalists=form.cleaned_data["finalists"] or 2,
                 reason=form.cleaned_data["reason"])[0]:
        messages.success(request, _("定标结果已记录。"))
    return redirect("tendering:award", pk=lot.pk)


@login_required
@require_POST
def result_draft(request, pk: int):
    lot = _lot(pk, request.user, "tendering.draft_notice")
    form = ResultDraftForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
    elif perform(request, services.result_draft, lot=lot, **form.cleaned_data)[0]:
        messages.success(request, _("中标结果公告及通知书已提交交易中心审核。"))
    return redirect("tendering:award", pk=lot.pk)


@login_required
@require_POST
def objection_answer(request, pk: int):
    objection = get_object_or_404(PublicityObjection.objects.select_related("publicity__lot__tender"), pk=pk)
    lot = objection.publicity.lot
    require(request.user, "tendering.decide_award", lot.tender)
    form = AnswerForm(request.POST, prefix=f"objection-{objection.pk}")
    if not form.is_valid():
        _form_error(request, form)
    elif perform(request, services.publicity_objection_answer, objection=objection, answer=form.cleaned_data["answer"])[0]:
        messages.success(request, _("异议已答复。"))
    return redirect("tendering:award", pk=lot.pk)


@login_required
@require_POST
def contract_register(request, pk: int):
    lot = _lot(pk, request.user, "tendering.decide_award")
    form = ContractForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
    elif perform(request, services.contract_register, lot=lot, signed_at=form.cleaned_data["signed_at"],
                 amount_fen=form.cleaned_data["amount_fen"])[0]:
        messages.success(request, _("合同已登记。"))
    return redirect("tendering:award", pk=lot.pk)


# --- the centre -----------------------------------------------------------------------------------


@login_required
def notice_queue(request):
    require(request.user, "tendering.approve_notice")
    return render(request, "tendering/award/queue.html", {"notices": selectors_award.notices_for_review()})


def _notice(request, pk: int) -> Notice:
    notice = get_object_or_404(Notice.objects.select_related("lot__tender", "recipient", "drafted_by", "approved_by"), pk=pk)
    if not can(request.user, "tendering.view_notice", notice):
        raise Http404
    return notice


@login_required
@require_POST
def notice_approve(request, pk: int):
    notice = _notice(request, pk)
    require(request.user, "tendering.approve_notice", notice)
    if perform(request, services.notice_approve, notice=notice)[0]:
        messages.success(request, _("已审核通过并发出：%(notice)s") % {"notice": notice.title})
        return redirect("tendering:notice_queue")
    return redirect("tendering:notice", pk=notice.pk)


@login_required
@require_POST
def notice_return(request, pk: int):
    notice = _notice(request, pk)
    require(request.user, "tendering.approve_notice", notice)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("退回时必须说明理由。"))
    elif perform(request, services.notice_return, notice=notice, reason=form.cleaned_data["reason"])[0]:
        messages.success(request, _("已退回：%(notice)s") % {"notice": notice.title})
        return redirect("tendering:notice_queue")
    return redirect("tendering:notice", pk=notice.pk)


# --- everyone who may read the notice ---------------------------------------------------------


def notice(request, pk: int):
    """A notice: public once issued (publicity, result), else its recipient's and the insiders'."""
    notice = _notice(request, pk)
    user = request.user
    publicity = CandidatePublicity.objects.filter(notice=notice).first()
    now = timezone.now()
    lot = notice.lot
    in_publicity = publicity is not None and publicity.starts_at <= now <= publicity.ends_at and (
        lot.state == LotState.PUBLICIZING or (lot.state == LotState.SUSPENDED and lot.suspended_from == LotState.PUBLICIZING))
    candidates = [{**c, "price_yuan": yuan(c.get("price_fen"))} for c in notice.fields.get("candidates", [])]
    winner = notice.fields.get("winner")
    return render(request, "tendering/award/notice.html", {
        "notice": notice, "lot": lot, "tender": lot.tender, "publicity": publicity, "candidates": candidates,
        "winner": winner, "winner_price_yuan": yuan(winner.get("price_fen")) if winner else "",
        "bundled": list(notice.bundled.select_related("recipient")) if can(user, "tendering.view_award", lot.tender) else [],
        "can_object": in_publicity and can(user, "tendering.object_to_publicity", lot),
        "objection_form": ObjectionTextForm(), "my_objections": selectors_award.objections_of(user, lot) if publicity else [],
        "can_review": notice.state == NoticeState.PENDING and notice.bundle_id is None and can(user, "tendering.approve_notice", notice),
        "return_form": ReasonForm(), "can_manage": can(user, "tendering.view_award", lot.tender),
    })


def notice_pdf(request, pk: int):
    notice = _notice(request, pk)
    if not notice.pdf:
        raise Http404
    filename = f"{notice.lot.tender.code}-{notice.lot.number:02d}-{notice.kind}-{notice.pk}.pdf"
    return FileResponse(notice.pdf.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf")


@login_required
@require_POST
def objection_raise(request, pk: int):
    """A bidder or interested party objects to the candidates during the publicity (R54)."""
    lot = get_object_or_404(Lot.objects.select_related("tender"), pk=pk)
    require(request.user, "tendering.object_to_publicity", lot)
    publicity = get_object_or_404(CandidatePublicity, lot=lot)
    form = ObjectionTextForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
    elif perform(request, services.publicity_objection_raise, lot=lot, text=form.cleaned_data["text"])[0]:
        messages.success(request, _("异议已提交，招标人应在3日内答复；答复前暂停招标投标活动。"))
    return redirect("tendering:notice", pk=publicity.notice_id)
