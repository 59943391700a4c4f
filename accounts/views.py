"""Accounts pages. Thin: parse the form, authorise with the permission rules, call one service,
redirect after a successful POST; a refused request shows the service's message."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import forms, selectors, services
from accounts.models import ApiToken, Organisation, OrganisationChange, OrganisationKind, OrganisationStatus, User
from accounts.permissions import can, require
from audit.actor import Actor
from config.errors import DomainError

# Which form field a service's refusal belongs to, so the message appears next to it.
FIELD_FOR_CODE = {
    "credit_code": "credit_code",
    "duplicate_credit_code": "credit_code",
    "duplicate_name": "name",
    "name_required": "name",
    "duplicate_username": "username",
    "username_required": "username",
    "password": "password1",
}


def _show_refusal(form, exc: DomainError) -> None:
    field = FIELD_FOR_CODE.get(exc.code)
    form.add_error(field if field in form.fields else None, str(exc.message))


def _back(request, exc: DomainError, to: str, *args):
    messages.error(request, str(exc.message))
    return redirect(to, *args)


# Registration and the organisation's own page ---------------------------------------------------

def register(request):
    if not can(request.user, "accounts.register_organisation"):
        return redirect("accounts:my_organisation")
    form = forms.RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organisation = services.organisation_register(
                by=Actor.from_request(request), kind=data["kind"], data=form.organisation_data(),
                username=data["username"], password=data["password1"], email=data["email"], display_name=data["display_name"],
            )
        except DomainError as exc:
            _show_refusal(form, exc)
        else:
            login(request, organisation.users.get(), backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("注册成功。请核对单位信息后提交交易中心审核。"))
            return redirect("accounts:my_organisation")
    return render(request, "accounts/register.html", {"form": form})


def _my_organisation_page(request, organisation, *, edit_form=None, change_form=None, status=200):
    can_edit = can(request.user, "accounts.edit_organisation", organisation)
    pending_change = selectors.pending_change_of(organisation)
    initial = forms.OrganisationForm.initial_from(organisation)
    editable = can_edit and not organisation.is_locked
    may_request_change = can_edit and organisation.status in (OrganisationStatus.APPROVED, OrganisationStatus.SUSPENDED) and not pending_change
    context = {
        "organisation": organisation,
        "can_edit": can_edit,
        "edit_form": (edit_form or forms.OrganisationForm(initial=initial)) if editable else None,
        "change_form": (change_form or forms.OrganisationForm(initial=initial)) if may_request_change else None,
        "pending_change": pending_change,
        "changes": selectors.changes_of(organisation)[:10],
    }
    return render(request, "accounts/my_organisation.html", context, status=status)


def _own_organisation(request) -> Organisation:
    organisation = request.user.organisation
    require(request.user, "accounts.view_organisation", organisation)
    return organisation


@login_required
def my_organisation(request):
    return _my_organisation_page(request, _own_organisation(request))


@login_required
@require_POST
def organisation_edit(request):
    organisation = _own_organisation(request)
    form = forms.OrganisationForm(request.POST)
    if form.is_valid():
        try:
            services.organisation_update(by=Actor.from_request(request), organisation=organisation, data=form.organisation_data())
        except DomainError as exc:
            _show_refusal(form, exc)
        else:
            messages.success(request, _("单位信息已保存。"))
            return redirect("accounts:my_organisation")
    organisation.refresh_from_db()
    return _my_organisation_page(request, organisation, edit_form=form)


@login_required
@require_POST
def organisation_submit(request):
    organisation = _own_organisation(request)
    try:
        services.organisation_submit(by=Actor.from_request(request), organisation=organisation)
    except DomainError as exc:
        return _back(request, exc, "accounts:my_organisation")
    messages.success(request, _("已提交交易中心审核；审核期间单位信息不能修改。"))
    return redirect("accounts:my_organisation")


@login_required
@require_POST
def organisation_change(request):
    organisation = _own_organisation(request)
    form = forms.OrganisationForm(request.POST)
    if form.is_valid():
        try:
            services.organisation_change_request(by=Actor.from_request(request), organisation=organisation, data=form.organisation_data())
        except DomainError as exc:
            _show_refusal(form, exc)
        else:
            messages.success(request, _("变更申请已提交；审核通过前，原核验信息继续有效。"))
            return redirect("accounts:my_organisation")
    return _my_organisation_page(request, organisation, change_form=form)


# Centre staff: review, suspend, restore ---------------------------------------------------------

@login_required
def review_queue(request):
    require(request.user, "accounts.review_organisation")
    context = {"organisations": selectors.organisations_awaiting_review(), "changes": selectors.changes_awaiting_review()}
    return render(request, "accounts/review_queue.html", context)


@login_required
def organisation_list(request):
    require(request.user, "accounts.list_organisations")
    q, status, kind = request.GET.get("q", "").strip(), request.GET.get("status", ""), request.GET.get("kind", "")
    context = {
        "organisations": selectors.organisations_search(q=q, status=status, kind=kind)[:200],
        "q": q, "status": status, "kind": kind,
        "statuses": OrganisationStatus.choices, "kinds": OrganisationKind.choices,
    }
    return render(request, "accounts/organisation_list.html", context)


@login_required
def organisation_detail(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    require(request.user, "accounts.view_organisation", organisation)
    context = {
        "organisation": organisation,
        "pending_change": selectors.pending_change_of(organisation),
        "changes": selectors.changes_of(organisation)[:20],
        "can_review": can(request.user, "accounts.review_organisation", organisation),
        "can_suspend": can(request.user, "accounts.suspend_organisation", organisation),
        "reason_form": forms.ReasonForm(),
    }
    return render(request, "accounts/organisation_detail.html", context)


def _reason(request) -> str:
    return request.POST.get("reason", "")


@login_required
@require_POST
def organisation_decide(request, pk: int, decision: str):
    """approve / reject / suspend / restore: one service each, the reason where it needs one."""
    organisation = get_object_or_404(Organisation, pk=pk)
    by = Actor.from_request(request)
    actions = {
        "approve": (lambda: services.organisation_approve(by=by, organisation=organisation), _("已核验通过。")),
        "reject": (lambda: services.organisation_reject(by=by, organisation=organisation, reason=_reason(request)), _("已退回。")),
        "suspend": (lambda: services.organisation_suspend(by=by, organisation=organisation, reason=_reason(request)), _("已暂停该单位。")),
        "restore": (lambda: services.organisation_restore(by=by, organisation=organisation, reason=_reason(request)), _("已恢复该单位。")),
    }
    action, done = actions[decision]
    try:
        action()
    except DomainError as exc:
        return _back(request, exc, "accounts:organisation_detail", pk)
    messages.success(request, done)
    return redirect("accounts:organisation_detail", pk)


@login_required
@require_POST
def change_decide(request, pk: int, decision: str):
    change = get_object_or_404(OrganisationChange.objects.select_related("organisation"), pk=pk)
    by = Actor.from_request(request)
    try:
        if decision == "approve":
            services.organisation_change_approve(by=by, change=change)
        else:
            services.organisation_change_reject(by=by, change=change, reason=_reason(request))
    except DomainError as exc:
        return _back(request, exc, "accounts:organisation_detail", change.organisation_id)
    messages.success(request, _("变更已生效。") if decision == "approve" else _("变更申请已退回。"))
    return redirect("accounts:organisation_detail", change.organisation_id)


# Users of an organisation -----------------------------------------------------------------------

@login_required
def organisation_users(request, pk: int | None = None):
    organisation = get_object_or_404(Organisation, pk=pk) if pk else request.user.organisation
    require(request.user, "accounts.view_users", organisation)
    if organisation is None:
        require(request.user, "accounts.manage_users", None)  # experts: centre staff only
    may_manage = can(request.user, "accounts.manage_users", organisation)
    form = forms.UserCreateForm(request.POST or None)
    if request.method == "POST":
        require(request.user, "accounts.manage_users", organisation)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.user_create(
                    by=Actor.from_request(request), organisation=organisation, username=data["username"],
                    password=data["password1"], role=organisation.kind, display_name=data["display_name"],
                    email=data["email"], is_org_admin=data["is_org_admin"],
                )
            except DomainError as exc:
                _show_refusal(form, exc)
            else:
                messages.success(request, _("已添加用户 %(name)s。") % {"name": user.username})
                return redirect(request.path)
    context = {"organisation": organisation, "users": selectors.users_of(organisation), "form": form if may_manage else None, "may_manage": may_manage}
    return render(request, "accounts/users.html", context)


@login_required
@require_POST
def user_set_active(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(by=Actor.from_request(request), user=user, active=active)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已启用 %(name)s。") % {"name": user.username} if active else _("已停用 %(name)s。") % {"name": user.username})
    if user.organisation_id and user.organisation_id != request.user.organisation_id:
        return redirect("accounts:organisation_users_of", user.organisation_id)
    return redirect("accounts:organisation_users")


# API tokens -------------------------------------------------------------------------------------

@login_required
def tokens(request):
    require(request.user, "accounts.manage_tokens", request.user)
    form = forms.TokenCreateForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.api_token_create(
                by=Actor.from_request(request), user=request.user, name=form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
            )
        except DomainError as exc:
            _show_refusal(form, exc)
        else:
            # Shown in this response only: the secret is not stored and is never shown again.
            form = forms.TokenCreateForm()
    context = {"form": form, "secret": secret, "tokens": selectors.tokens_of(request.user), "now": timezone.now()}
    response = render(request, "accounts/tokens.html", context)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(by=Actor.from_request(request), token=token)
    messages.success(request, _("令牌 %(prefix)s 已吊销。") % {"prefix": token.prefix})
    return redirect("accounts:tokens")
