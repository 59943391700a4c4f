"""Pages of the expert pool, the drawings and the expert's own seats (我的评标). Thin: authorise
with the rules, read with selectors_pool, write through one service per POST (PRG)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from audit.actor import Actor
from config.errors import DomainError
from evaluation import forms_pool as forms
from evaluation import selectors_pool as selectors
from evaluation.models import Drawing, DrawingState, Expert, ExpertConflict, ExpertUnavailability, PanelMember
from evaluation.services import drawing as drawing_services
from evaluation.services import pool as services
from tendering.models import Lot


def perform(request, service, /, *, form=None, **kwargs):
    """Call one service as the requesting user; a DomainError becomes a form or page error."""
    try:
        return True, service(by=Actor.from_request(request), **kwargs)
    except DomainError as exc:
        if form is not None:
            form.add_error(None, str(exc.message))
        else:
            messages.error(request, str(exc.message))
        return False, None


def _expert_data(cleaned: dict) -> dict:
    return {name: cleaned.get(name) for name in services.EXPERT_FIELDS}


def _password_page(request, expert, username, password):
    """The one-time password, shown once: never cached, never stored in clear."""
    response = render(request, "evaluation/pool/password.html", {"expert": expert, "username": username, "password": password})
    response["Cache-Control"] = "no-store"
    return response


# The pool ---------------------------------------------------------------------------------------

@login_required
def pool(request):
    require(request.user, "evaluation.view_pool")
    filters = forms.PoolFilterForm(request.GET or {"active": "1"})
    criteria = filters.cleaned_data if filters.is_valid() else {"active": "1"}
    rows = selectors.experts(specialty=criteria.get("specialty", ""), active=criteria.get("active", ""), q=criteria.get("q", ""))
    for expert in rows:
        expert.specialty_text = selectors.specialty_labels(expert.specialties)
    return render(request, "evaluation/pool/list.html", {
        "filters": filters, "experts": rows, "may_manage": can(request.user, "evaluation.manage_pool"),
    })


@never_cache
@login_required
def expert_new(request):
    require(request.user, "evaluation.manage_pool")
    form = forms.ExpertCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        link_user = None
        if data["account"] == "link":
            link_user = forms.expert_user(data["username"])
            if link_user is None:
                form.add_error("username", _("没有这个评标专家账号。"))
        if not form.errors:
            ok, result = perform(request, services.expert_create, form=form, data=_expert_data(data), conflicts=data["conflicts"],
                                 username=data["username"] if data["account"] == "new" else "", link_user=link_user)
            if ok:
                expert, password = result
                messages.success(request, _("已将 %(name)s 加入专家库。") % {"name": expert.name})
                if password:
                    return _password_page(request, expert, expert.user.username, password)
                return redirect("evaluation:expert_detail", pk=expert.pk)
    return render(request, "evaluation/pool/expert_form.html", {"form": form, "expert": None})


@never_cache
@login_required
def expert_detail(request, pk: int):
    require(request.user, "evaluation.view_pool")
    expert = get_object_or_404(Expert.objects.select_related("user"), pk=pk)
    may_manage = can(request.user, "evaluation.manage_pool")
    initial = {name: getattr(expert, name) for name in services.EXPERT_FIELDS}
    form = forms.ExpertForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require(request.user, "evaluation.manage_pool")
        if form.is_valid():
            ok, _expert = perform(request, services.expert_update, form=form, expert=expert, data=_expert_data(form.cleaned_data))
            if ok:
                messages.success(request, _("已保存。"))
                return redirect("evaluation:expert_detail", pk=expert.pk)
    expert.specialty_text = selectors.specialty_labels(expert.specialties)
    return render(request, "evaluation/pool/expert_detail.html", {
        "expert": expert, "form": form if may_manage else None, "may_manage": may_manage,
        "conflicts": expert.conflicts.all(), "periods": expert.unavailability.all(),
        "conflict_form": forms.ConflictForm(), "period_form": forms.UnavailabilityForm(), "account_form": forms.AccountForm(),
        "seats": expert.seats.select_related("drawing__lot__tender").order_by("-drawing__session_starts_at"),
    })


@login_required
@require_POST
def expert_active(request, pk: int):
    expert = get_object_or_404(Expert, pk=pk)
    active = request.POST.get("active") == "1"
    if perform(request, services.expert_set_active, expert=expert, active=active)[0]:
        messages.success(request, _("已恢复入库。") if active else _("已出库，今后不会被抽取。"))
    return redirect("evaluation:expert_detail", pk=expert.pk)


@never_cache
@login_required
@require_POST
def expert_account(request, pk: int):
    expert = get_object_or_404(Expert, pk=pk)
    require(request.user, "evaluation.manage_pool")
    form = forms.AccountForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写用户名。"))
        return redirect("evaluation:expert_detail", pk=expert.pk)
    username = form.cleaned_data["username"]
    if form.cleaned_data["account"] == "link":
        user = forms.expert_user(username)
        if user is None:
            messages.error(request, _("没有这个评标专家账号。"))
        elif perform(request, services.expert_account_link, expert=expert, user=user)[0]:
            messages.success(request, _("已关联账号 %(name)s。") % {"name": user.username})
        return redirect("evaluation:expert_detail", pk=expert.pk)
    ok, password = perform(request, services.expert_account_create, expert=expert, username=username)
    if not ok:
        return redirect("evaluation:expert_detail", pk=expert.pk)
    return _password_page(request, expert, username, password)


@login_required
@require_POST
def conflict_add(request, pk: int):
    expert = get_object_or_404(Expert, pk=pk)
    require(request.user, "evaluation.manage_pool")
    form = forms.ConflictForm(request.POST)
    if form.is_valid() and perform(request, services.conflict_add, expert=expert, **form.cleaned_data)[0]:
        messages.success(request, _("已登记回避单位。"))
    elif not form.is_valid():
        messages.error(request, _("请填写回避单位的统一社会信用代码。"))
    return redirect("evaluation:expert_detail", pk=expert.pk)


@login_required
@require_POST
def conflict_remove(request, pk: int):
    conflict = get_object_or_404(ExpertConflict, pk=pk)
    if perform(request, services.conflict_remove, conflict=conflict)[0]:
        messages.success(request, _("已删除回避单位。"))
    return redirect("evaluation:expert_detail", pk=conflict.expert_id)


@login_required
@require_POST
def unavailability_add(request, pk: int):
    expert = get_object_or_404(Expert, pk=pk)
    require(request.user, "evaluation.manage_pool")
    form = forms.UnavailabilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    elif perform(request, services.unavailability_add, expert=expert, **form.cleaned_data)[0]:
        messages.success(request, _("已登记不可参评时段。"))
    return redirect("evaluation:expert_detail", pk=expert.pk)


@login_required
@require_POST
def unavailability_remove(request, pk: int):
    period = get_object_or_404(ExpertUnavailability, pk=pk)
    if perform(request, services.unavailability_remove, period=period)[0]:
        messages.success(request, _("已删除不可参评时段。"))
    return redirect("evaluation:expert_detail", pk=period.expert_id)


@login_required
def pool_import(request):
    require(request.user, "evaluation.manage_pool")
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read(services.MAX_IMPORT_BYTES + 1)
        try:
            result = services.experts_import_csv(by=Actor.from_request(request), content=content, filename=upload.name)
        except services.ImportRefused as refused:
            problems = refused.problems
            form.add_error(None, str(refused.message))
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("已导入 %(count)s 名专家。") % {"count": len(result.created)})
            return redirect("evaluation:pool")
    return render(request, "evaluation/pool/import.html", {"form": form, "problems": problems, "columns": services.CSV_COLUMNS})


# Drawings ---------------------------------------------------------------------------------------

@login_required
def drawings(request):
    """评标专家抽取: lots whose panel can be drawn, with their drawings."""
    require(request.user, "evaluation.view_pool")
    return render(request, "evaluation/pool/drawings.html", {
        "lots": selectors.drawable_lots(), "may_request": can(request.user, "evaluation.request_drawing"),
    })


@login_required
def drawing_new(request, lot_id: int):
    lot = get_object_or_404(Lot.objects.select_related("tender__tenderer", "tender__agency"), pk=lot_id)
    require(request.user, "evaluation.request_drawing", lot)
    form = forms.DrawingRequestForm(request.POST or None, lot=lot)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        representatives = list(data["tenderer_representatives"])
        ok, drawing = perform(request, drawing_services.drawing_request, form=form, lot=lot, session_starts_at=data["session_starts_at"],
                              session_ends_at=data["session_ends_at"], slots=data["slots"],
                              tenderer_representatives=len(representatives), representatives=representatives,
                              away_seats=data["away_seats"])
        if ok:
            messages.success(request, _("抽取申请已登记，种子承诺已记入审计日志。"))
            return redirect("evaluation:drawing_detail", pk=drawing.pk)
    return render(request, "evaluation/pool/drawing_form.html", {"lot": lot, "tender": lot.tender, "form": form})


@login_required
def drawing_detail(request, pk: int):
    drawing = get_object_or_404(Drawing.objects.select_related("lot__tender", "requested_by"), pk=pk)
    require(request.user, "evaluation.view_drawing", drawing)
    names = can(request.user, "evaluation.see_panel_names", drawing)
    rows = selectors.panel_rows(drawing, request.user)
    insider = can(request.user, "evaluation.view_pool") or can(request.user, "tendering.manage_tender", drawing.lot.tender)
    if not insider and not names:
        rows = [row for row in rows if row["mine"]]  # an expert sees only their own seat
    may_run = can(request.user, "evaluation.request_drawing", drawing.lot)
    if may_run and drawing.state == DrawingState.DRAWN:
        from accounts.models import Role, User

        seated = drawing.members.values_list("user_id", flat=True)
        candidates = list(User.objects.filter(organisation_id=drawing.lot.tender.tenderer_id, role=Role.TENDERER, is_active=True)
                          .exclude(pk__in=seated).order_by("pk"))
        for row in rows:
            member = row["member"]
            vacant = member.kind == "representative" and not member.serving and member.replaced_by_id is None
            row["representatives"] = candidates if vacant else None
    return render(request, "evaluation/pool/drawing_detail.html", {
        "drawing": drawing, "lot": drawing.lot, "tender": drawing.lot.tender, "rows": rows, "names": names, "insider": insider,
        "summary": selectors.drawing_summary(drawing), "may_run": can(request.user, "evaluation.request_drawing", drawing.lot),
        "may_publish": can(request.user, "evaluation.publish_drawing", drawing), "states": DrawingState,
    })


@login_required
@require_POST
def drawing_run(request, pk: int):
    drawing = get_object_or_404(Drawing, pk=pk)
    if perform(request, drawing_services.drawing_run, drawing=drawing)[0]:
        messages.success(request, _("已抽取。评标委员会名单在结果公布前仅交易中心可见。"))
    return redirect("evaluation:drawing_detail", pk=drawing.pk)


@login_required
@require_POST
def drawing_publish(request, pk: int):
    drawing = get_object_or_404(Drawing, pk=pk)
    if perform(request, drawing_services.publish_result, drawing=drawing)[0]:
        messages.success(request, _("抽取结果已公布，种子已公开。"))
    return redirect("evaluation:drawing_detail", pk=drawing.pk)


# 我的评标 ---------------------------------------------------------------------------------------

@login_required
def my_seats(request):
    seats = list(selectors.my_seats(request.user))
    for seat in seats:
        seat.label = selectors.member_label(seat, request.user)
        seat.may_answer = seat.status == "drawn" and seat.drawing.state == DrawingState.DRAWN
    return render(request, "evaluation/pool/my_seats.html", {"seats": seats, "reason_form": forms.ReasonForm()})


@login_required
@require_POST
def seat_confirm(request, pk: int):
    member = get_object_or_404(PanelMember, pk=pk)
    if perform(request, drawing_services.member_confirm, member=member)[0]:
        messages.success(request, _("已确认参加评标。"))
    return redirect("evaluation:my_seats")


@login_required
@require_POST
def seat_decline(request, pk: int):
    member = get_object_or_404(PanelMember, pk=pk)
    require(request.user, "evaluation.answer_seat", member)
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请写明不能参加的原因。"))
    elif perform(request, drawing_services.replace_member, member=member, status="declined", reason=form.cleaned_data["reason"])[0]:
        messages.success(request, _("已登记不参加本次评标，平台已从专家库中补抽。"))
    return redirect("evaluation:my_seats")


@login_required
@require_POST
def member_replace(request, pk: int):
    """Centre staff register a decline (by phone) or a recusal for a member, and the replacement is drawn."""
    member = get_object_or_404(PanelMember.objects.select_related("drawing__lot"), pk=pk)
    require(request.user, "evaluation.request_drawing", member.drawing.lot)
    form = forms.ReasonForm(request.POST)
    status = request.POST.get("status", "declined")
    if not form.is_valid():
        messages.error(request, _("请写明原因。"))
    else:
        ok, substitute = perform(request, drawing_services.replace_member, member=member, status=status, reason=form.cleaned_data["reason"])
        if ok:
            messages.success(request, _("已补抽替补专家。") if substitute else _("已登记；请招标人另行指定招标人代表。"))
    return redirect("evaluation:drawing_detail", pk=member.drawing_id)


@login_required
@require_POST
def representative_name(request, pk: int):
    """Centre staff register the representative the tenderer names for a seat left by a
    representative who declined or recused."""
    from accounts.models import User

    member = get_object_or_404(PanelMember.objects.select_related("drawing__lot__tender"), pk=pk)
    require(request.user, "evaluation.request_drawing", member.drawing.lot)
    user = User.objects.filter(pk=request.POST.get("user") or 0, organisation_id=member.drawing.lot.tender.tenderer_id).first() \
        if str(request.POST.get("user", "")).isdigit() else None
    if user is None:
        messages.error(request, _("请选择招标人单位的一名用户。"))
    elif perform(request, drawing_services.representative_name, member=member, user=user)[0]:
        messages.success(request, _("已登记替补招标人代表。"))
    return redirect("evaluation:drawing_detail", pk=member.drawing_id)
