"""The tenderer's and agency's workspace: its tenders by state, creating and editing a tender,
and the page from which a tender is managed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import OrganisationKind
from accounts.permissions import can, require
from tendering import selectors, services
from tendering.forms import (
    AnswerForm,
    DocumentUploadForm,
    LotForm,
    LotFormSet,
    ProjectChoiceForm,
    ProjectForm,
    ProjectMandateForm,
    TenderForm,
    fen_to_yuan,
)
from tendering.models import Lot, Project, TenderState
from tendering.views._common import perform, tender_for, with_yuan
from tendering.views.workspace_actions import answer_prefix

try:  # the evaluation scheme module may not exist yet; the form then starts empty
    from tendering.scheme import default_scheme
except ImportError:  # pragma: no cover - depends on what the domain side has built
    default_scheme = None


def _projects_for(user):
    # A tenderer picks among its own projects; an agency among the projects that mandate it.
    projects = Project.objects.select_related("tenderer", "agency")
    if user.role == OrganisationKind.AGENCY:
        return projects.filter(agency_id=user.organisation_id)
    return projects.filter(tenderer_id=user.organisation_id)


def _project_form(user, data=None):
    """Only a tenderer creates projects; an agency sees none to create."""
    return ProjectForm(data) if can(user, "tendering.create_project") else None


def _mandate_form(user, data=None):
    if not can(user, "tendering.create_project"):
        return None
    return ProjectMandateForm(data, projects=Project.objects.filter(tenderer_id=user.organisation_id))


def _choice_page(request, *, form, choice, mandate=None):
    context = {"form": form, "choice": choice, "mandate": mandate or _mandate_form(request.user)}
    return render(request, "tendering/workspace/project_choice.html", context)


@login_required
@require_POST
def project_mandate(request):
    """委托代理: the tenderer names (or withdraws) the agency of one of its projects."""
    require(request.user, "tendering.create_project")
    mandate = _mandate_form(request.user, request.POST)
    if mandate.is_valid():
        ok, project = perform(request, services.project_mandate, form=mandate, **mandate.cleaned_data)
        if ok:
            messages.success(request, _("已更新工程项目 %(code)s 的委托代理机构。") % {"code": project.code})
            return redirect("tendering:tender_new")
    choice = ProjectChoiceForm(projects=_projects_for(request.user))
    return _choice_page(request, form=_project_form(request.user), choice=choice, mandate=mandate)


@login_required
def tender_list(request):
    require(request.user, "tendering.create_tender")
    tenders = selectors.tenders_for_workspace(request.user).select_related("project").prefetch_related("lots")
    state = request.GET.get("state", "")
    counts = {value: 0 for value in TenderState.values}
    for value in tenders.values_list("state", flat=True):
        counts[value] += 1
    if state in TenderState.values:
        tenders = tenders.filter(state=state)
    tabs = [(value, label, counts[value]) for value, label in TenderState.choices]
    return render(request, "tendering/workspace/list.html", {"tenders": tenders, "tabs": tabs, "state": state})


@login_required
def project_new(request):
    require(request.user, "tendering.create_project")
    form = _project_form(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, project = perform(request, services.project_create, form=form, tenderer=request.user.organisation, **form.cleaned_data)
        if ok:
            messages.success(request, _("工程项目已创建。"))
            return redirect(f"{reverse('tendering:tender_new')}?project={project.pk}")
    choice = ProjectChoiceForm(projects=_projects_for(request.user))
    return _choice_page(request, form=form, choice=choice)


def _initial_scheme():
    return default_scheme() if default_scheme else {}


@login_required
def tender_new(request):
    require(request.user, "tendering.create_tender")
    projects = _projects_for(request.user)
    choice = ProjectChoiceForm(request.GET or None, projects=projects)
    if not choice.is_valid():
        return _choice_page(request, form=_project_form(request.user), choice=choice)
    project = choice.cleaned_data["project"]
    initial = {"evaluation_scheme": _initial_scheme(), "accelerator": 1}
    form = TenderForm(request.POST or None, initial=initial)
    lots = LotFormSet(request.POST or None, prefix="lots")
    if request.method == "POST" and form.is_valid() and lots.is_valid():
        fields = form.service_fields()
        ok, tender = perform(request, services.tender_create, form=form, project=project, lots=lots.lots(), **fields)
        if ok:
            messages.success(request, _("招标项目 %(code)s 已创建（草稿）。") % {"code": tender.code})
            return redirect("tendering:manage", pk=tender.pk)
    return render(request, "tendering/workspace/tender_form.html", {"form": form, "lots": lots, "project": project})


@login_required
def tender_edit(request, pk: int):
    tender = tender_for(request, pk, "tendering.manage_tender")
    if not tender.is_editable:
        messages.error(request, _("只有草稿或已退回的招标项目可以修改。"))
        return redirect("tendering:manage", pk=tender.pk)
    initial = {name: getattr(tender, name) for name in TenderForm.base_fields}
    form = TenderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ok, _tender = perform(request, services.tender_update, form=form, tender=tender, **form.service_fields())
        if ok:
            messages.success(request, _("已保存。"))
            return redirect("tendering:manage", pk=tender.pk)
    context = {"form": form, "tender": tender, "project": tender.project}
    return render(request, "tendering/workspace/tender_form.html", context)


@login_required
@require_POST
def lot_add(request, pk: int):
    tender = tender_for(request, pk, "tendering.manage_tender")
    form = LotForm(request.POST, prefix="new-lot")
    if not form.is_valid():
        messages.error(request, _("标段信息有误：%(errors)s") % {"errors": _errors_text(form)})
    elif perform(request, services.lot_add, tender=tender, **form.cleaned_data)[0]:
        messages.success(request, _("已添加标段。"))
    return redirect("tendering:manage", pk=tender.pk)


@login_required
@require_POST
def lot_edit(request, pk: int):
    lot = get_object_or_404(Lot, pk=pk)
    tender = tender_for(request, lot.tender_id, "tendering.manage_tender")
    form = LotForm(request.POST, prefix=f"lot-{lot.pk}")
    if not form.is_valid():
        messages.error(request, _("标段信息有误：%(errors)s") % {"errors": _errors_text(form)})
    elif perform(request, services.lot_update, lot=lot, **form.cleaned_data)[0]:
        messages.success(request, _("已保存标段。"))
    return redirect("tendering:manage", pk=tender.pk)


def _errors_text(form) -> str:
    return "；".join(str(error) for errors in form.errors.values() for error in errors)


@login_required
def manage(request, pk: int):
    """Everything about one of the organisation's tenders, with the actions its state allows."""
    tender = tender_for(request, pk, "tendering.manage_tender")
    lots = with_yuan(tender.lots.all())
    if tender.is_editable:
        for lot in lots:
            initial = {"name": lot.name, "description": lot.description,
                       "maximum_price_fen": fen_to_yuan(lot.maximum_price_fen)}
            lot.form = LotForm(prefix=f"lot-{lot.pk}", initial=initial)
    # L22/E21: who acknowledged a clarification says who registered; shown only after the opening.
    clarifications = list(tender.clarifications.all())
    acks = selectors.acknowledgements_visible_to(request.user, tender).select_related("organisation")
    acks = list(acks.order_by("acknowledged_at"))
    for clarification in clarifications:
        clarification.visible_acks = [ack for ack in acks if ack.clarification_id == clarification.pk]
    questions = list(tender.questions.all())
    objections = list(selectors.objections_visible_to(request.user, tender))
    for item in (*questions, *objections):
        item.answer_form = AnswerForm(prefix=answer_prefix(item))
    context = {
        "tender": tender,
        "lots": lots,
        "new_lot_form": LotForm(prefix="new-lot"),
        "documents": tender.documents.select_related("lot", "clarification").order_by("title", "-version"),
        "upload_form": DocumentUploadForm(tender=tender),
        "clarifications": clarifications,
        "questions": questions,
        "objections": objections,
        "can_view_registrations": can(request.user, "tendering.view_registrations", tender),
        "registrations": selectors.registrations_visible_to(request.user, tender).select_related("organisation"),
        "downloads": selectors.downloads_visible_to(request.user, tender).select_related("document", "organisation"),
        "invitations": tender.invitations.select_related("organisation"),
    }
    return render(request, "tendering/workspace/manage.html", context)
