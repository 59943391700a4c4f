"""Every write to organisations, users and tokens. One function per action; each runs in one
transaction with its audit event.

Verification of an organisation: register (draft) → submit (pending, data locked) → the centre
approves or rejects with a reason → a rejected registration is amended and submitted again. Once
approved, declared data changes only through an OrganisationChange the centre approves; the
approved version stays in force meanwhile.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import credit_code
from accounts.authentication import hash_token
from accounts.models import (
    VERIFIED_FIELDS,
    ApiToken,
    ChangeStatus,
    Organisation,
    OrganisationChange,
    OrganisationKind,
    OrganisationStatus,
    Role,
    User,
    credit_code_problem,
)
from accounts.notifications import notify
from accounts.permissions import can, require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from config.errors import DomainError, IllegalTransition, NotAllowed

# Kinds a visitor may register; centre and regulator organisations are set up by centre staff.
SELF_REGISTRATION_KINDS = (OrganisationKind.TENDERER, OrganisationKind.AGENCY, OrganisationKind.BIDDER)
# Fields the centre needs before it can verify an organisation against its licence.
REQUIRED_FOR_SUBMISSION = ("name", "credit_code", "legal_representative", "address", "contact_phone")
TOKEN_LIFETIME = timedelta(days=90)
TOKEN_PREFIX_LENGTH = 12


def _normalise_name(name: str) -> str:
    # Registered Chinese names use full-width brackets; treat "(中国)" and "（中国）" as one name.
    return " ".join(name.split()).replace("(", "（").replace(")", "）")


def _clean_data(data: dict) -> dict:
    """Check declared data field by field: known fields, strings, lengths, a valid credit code."""
    unknown = set(data) - set(VERIFIED_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))})
    cleaned = {}
    for key, value in data.items():
        field = Organisation._meta.get_field(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise DomainError(_("“%(field)s”应为文字。") % {"field": field.verbose_name})
        value = value.strip()
        if len(value) > field.max_length:
            raise DomainError(
                _("“%(field)s”不能超过%(max)s个字符。") % {"field": field.verbose_name, "max": field.max_length},
                code="too_long",
            )
        cleaned[key] = value
    if "credit_code" in cleaned:
        try:
            cleaned["credit_code"] = credit_code.validate(cleaned["credit_code"])
        except credit_code.CreditCodeError as exc:
            raise DomainError(
                _("统一社会信用代码无效：%(reason)s") % {"reason": credit_code_problem(exc)}, code="credit_code"
            ) from exc
    if "name" in cleaned:
        cleaned["name"] = _normalise_name(cleaned["name"])
        if not cleaned["name"]:
            raise DomainError(_("单位名称不能为空。"), code="name_required")
    return cleaned


def _check_unique(cleaned: dict, *, organisation_pk: int | None = None) -> None:
    """Names and credit codes are unique among organisations and among the changes awaiting
    review, so two pending claims on one name can never both be approved."""
    messages = {
        "name": (_("该单位名称已被其他单位使用。"), "duplicate_name"),
        "credit_code": (_("该统一社会信用代码已被其他单位使用。"), "duplicate_credit_code"),
    }
    for field, (message, code) in messages.items():
        value = cleaned.get(field)
        if not value:
            continue
        taken = Organisation.objects.filter(**{field: value}).exclude(pk=organisation_pk).exists()
        claimed = (
            OrganisationChange.objects.filter(status=ChangeStatus.PENDING, **{f"data__{field}": value})
            .exclude(organisation_id=organisation_pk)
            .exists()
        )
        if taken or claimed:
            raise DomainError(message, code=code)


def _apply(organisation: Organisation, cleaned: dict) -> None:
    for key, value in cleaned.items():
        setattr(organisation, key, value)
    if "credit_code" in cleaned:
        organisation.region_code = cleaned["credit_code"][2:8]


def _reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, code="reason_required")
    return reason


def _new_user(*, username: str, password: str, organisation, role: str, email: str, display_name: str, is_org_admin: bool) -> User:
    """Build, validate and save a user; every problem becomes one clear DomainError."""
    username = (username or "").strip()
    if not username:
        raise DomainError(_("请填写用户名。"), code="username_required")
    if User.objects.filter(username=username).exists():
        raise DomainError(_("用户名已存在。"), code="duplicate_username")
    user = User(
        username=username,
        email=(email or "").strip(),
        organisation=organisation,
        role=role,
        display_name=(display_name or "").strip(),
        is_org_admin=is_org_admin,
    )
    try:
        validate_password(password or "", user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="password") from exc
    user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="user_invalid") from exc
    user.save()
    return user


def _locked(model, pk: int):
    return model.objects.select_for_update().get(pk=pk)


# Organisations ----------------------------------------------------------------------------------

@transaction.atomic
def organisation_register(
    *, by: Actor, kind: str, data: dict, username: str, password: str, email: str = "", display_name: str = ""
) -> Organisation:
    """A new organisation with its first user, who becomes its administrator. It stays a draft
    until it is submitted. Visitors register tenderers, agencies and bidders; centre staff (or the
    platform itself) also set up centre and regulator organisations."""
    if kind not in OrganisationKind.values:
        raise DomainError(_("单位类型无效。"), code="kind")
    if kind not in SELF_REGISTRATION_KINDS and not (by.role == "system" or can(by.user, "accounts.review_organisation")):
        raise DomainError(_("交易中心和监管部门的账户由交易中心开设。"), code="kind")
    cleaned = _clean_data(data)
    if not cleaned.get("name") or not cleaned.get("credit_code"):
        raise DomainError(_("请填写单位名称和统一社会信用代码。"), code="name_required")
    _check_unique(cleaned)
    organisation = Organisation(kind=kind)
    _apply(organisation, cleaned)
    organisation.save()
    user = _new_user(
        username=username, password=password, organisation=organisation, role=kind,
        email=email, display_name=display_name, is_org_admin=True,
    )
    # A visitor registering is recorded as the user it just became.
    actor = by if (by.user_id or by.role == "system") else Actor.from_user(user, ip=by.ip)
    record_event(by=actor, action="organisation.register", obj=organisation, payload={"kind": kind, "data": cleaned, "user": user.username})
    return organisation


@transaction.atomic
def organisation_update(*, by: Actor, organisation: Organisation, data: dict) -> Organisation:
    """Edit a draft or a rejected registration. Locked while pending; after approval use
    `organisation_change_request`."""
    require(by.user, "accounts.edit_organisation", organisation)
    organisation = _locked(Organisation, organisation.pk)
    if organisation.is_locked:
        raise DomainError(_("单位信息审核中或已核验，不能直接修改；已核验单位请提交变更申请。"), code="locked")
    cleaned = _clean_data(data)
    _check_unique(cleaned, organisation_pk=organisation.pk)
    _apply(organisation, cleaned)
    organisation.save()
    record_event(by=by, action="organisation.update", obj=organisation, payload={"data": cleaned})
    return organisation


@transaction.atomic
def organisation_submit(*, by: Actor, organisation: Organisation) -> Organisation:
    """Hand the registration to the centre; its data is locked until the centre decides."""
    require(by.user, "accounts.edit_organisation", organisation)
    organisation = _locked(Organisation, organisation.pk)
    missing = [str(Organisation._meta.get_field(f).verbose_name) for f in REQUIRED_FOR_SUBMISSION if not getattr(organisation, f)]
    if missing and not organisation.is_locked:
        raise DomainError(_("提交审核前请填写：%(fields)s") % {"fields": "、".join(missing)}, code="incomplete")
    organisation.submitted_at = timezone.now()
    return fsm_transition(organisation, "submit", by=by, state_field="status")


@transaction.atomic
def organisation_approve(*, by: Actor, organisation: Organisation) -> Organisation:
    require(by.user, "accounts.review_organisation", organisation)
    organisation = _locked(Organisation, organisation.pk)
    if organisation.status == OrganisationStatus.PENDING:
        _check_unique({"name": organisation.name, "credit_code": organisation.credit_code}, organisation_pk=organisation.pk)
    organisation.reviewed_by_id, organisation.reviewed_at, organisation.review_reason = by.user_id, timezone.now(), ""
    notify(organisations=[organisation], subject=_("单位信息已核验通过"), url=reverse("accounts:my_organisation"))
    return fsm_transition(organisation, "approve", by=by, state_field="status")


@transaction.atomic
def organisation_reject(*, by: Actor, organisation: Organisation, reason: str) -> Organisation:
    require(by.user, "accounts.review_organisation", organisation)
    reason = _reason(reason, _("退回时必须说明理由。"))
    organisation = _locked(Organisation, organisation.pk)
    organisation.reviewed_by_id, organisation.reviewed_at, organisation.review_reason = by.user_id, timezone.now(), reason
    notify(organisations=[organisation], subject=_("单位信息被退回，请修改后重新提交"), body=reason, url=reverse("accounts:my_organisation"))
    return fsm_transition(organisation, "reject", by=by, state_field="status", payload={"reason": reason})


@transaction.atomic
def organisation_suspend(*, by: Actor, organisation: Organisation, reason: str) -> Organisation:
    """While suspended, the organisation's users cannot act anywhere on the platform."""
    require(by.user, "accounts.suspend_organisation", organisation)
    reason = _reason(reason, _("暂停时必须说明理由。"))
    organisation = _locked(Organisation, organisation.pk)
    organisation.status_reason = reason
    notify(organisations=[organisation], subject=_("本单位在平台上的操作权限已被暂停"), body=reason, url=reverse("accounts:my_organisation"))
    return fsm_transition(organisation, "suspend", by=by, state_field="status", payload={"reason": reason})


@transaction.atomic
def organisation_restore(*, by: Actor, organisation: Organisation, reason: str) -> Organisation:
    require(by.user, "accounts.suspend_organisation", organisation)
    reason = _reason(reason, _("恢复时必须说明理由。"))
    organisation = _locked(Organisation, organisation.pk)
    organisation.status_reason = ""
    return fsm_transition(organisation, "restore", by=by, state_field="status", payload={"reason": reason})


# Changes to verified data -----------------------------------------------------------------------

@transaction.atomic
def organisation_change_request(*, by: Actor, organisation: Organisation, data: dict) -> OrganisationChange:
    """Propose a change to verified data; the verified version stays in force meanwhile."""
    require(by.user, "accounts.edit_organisation", organisation)
    organisation = _locked(Organisation, organisation.pk)
    if organisation.status not in (OrganisationStatus.APPROVED, OrganisationStatus.SUSPENDED):
        raise DomainError(_("只有已核验的单位需要提交变更申请；请直接修改并提交审核。"), code="not_verified")
    if organisation.changes.filter(status=ChangeStatus.PENDING).exists():
        raise DomainError(_("已有一项变更申请正在审核。"), code="pending_change")
    cleaned = _clean_data(data)
    cleaned = {key: value for key, value in cleaned.items() if getattr(organisation, key) != value}
    if not cleaned:
        raise DomainError(_("没有需要变更的内容。"), code="no_change")
    _check_unique(cleaned, organisation_pk=organisation.pk)
    change = OrganisationChange.objects.create(organisation=organisation, data=cleaned, requested_by_id=by.user_id)
    record_event(by=by, action="organisation.change_request", obj=organisation, payload={"change": change.pk, "data": cleaned})
    return change


@transaction.atomic
def organisation_change_approve(*, by: Actor, change: OrganisationChange) -> Organisation:
    """The change takes effect now, and only now."""
    require(by.user, "accounts.review_organisation", change.organisation)
    change = _locked(OrganisationChange, change.pk)
    if change.status != ChangeStatus.PENDING:
        raise IllegalTransition(_("该变更申请已处理。"))
    organisation = _locked(Organisation, change.organisation_id)
    cleaned = _clean_data(change.data)
    _check_unique(cleaned, organisation_pk=organisation.pk)  # another organisation may have taken it since
    before = {key: getattr(organisation, key) for key in cleaned}
    _apply(organisation, cleaned)
    organisation.save()
    change.reviewed_by_id, change.reviewed_at = by.user_id, timezone.now()
    notify(organisations=[organisation], subject=_("单位信息变更已核验生效"), url=reverse("accounts:my_organisation"))
    fsm_transition(change, "approve", by=by, state_field="status", payload={"organisation": organisation.pk, "before": before, "after": cleaned})
    return organisation


@transaction.atomic
def organisation_change_reject(*, by: Actor, change: OrganisationChange, reason: str) -> OrganisationChange:
    require(by.user, "accounts.review_organisation", change.organisation)
    reason = _reason(reason, _("退回时必须说明理由。"))
    change = _locked(OrganisationChange, change.pk)
    if change.status != ChangeStatus.PENDING:
        raise IllegalTransition(_("该变更申请已处理。"))
    change.reviewed_by_id, change.reviewed_at, change.review_reason = by.user_id, timezone.now(), reason
    notify(organisations=[change.organisation_id], subject=_("单位信息变更被退回"), body=reason, url=reverse("accounts:my_organisation"))
    return fsm_transition(change, "reject", by=by, state_field="status", payload={"organisation": change.organisation_id, "reason": reason})


# Users ------------------------------------------------------------------------------------------

@transaction.atomic
def user_create(
    *, by: Actor, organisation: Organisation | None, username: str, password: str, role: str,
    display_name: str = "", email: str = "", is_org_admin: bool = False,
) -> User:
    """A user's role matches its organisation's kind; experts belong to no organisation."""
    require(by.user, "accounts.manage_users", organisation)
    if role not in Role.values:
        raise DomainError(_("角色无效。"), code="role")
    expected = Role.EXPERT if organisation is None else organisation.kind
    if role != expected:
        raise DomainError(_("角色必须与所属单位类型一致。"), code="role")
    user = _new_user(
        username=username, password=password, organisation=organisation, role=role,
        email=email, display_name=display_name, is_org_admin=is_org_admin and organisation is not None,
    )
    record_event(
        by=by, action="user.create", obj=user,
        payload={"username": user.username, "role": role, "organisation": organisation.pk if organisation else None, "org_admin": user.is_org_admin},
    )
    return user


@transaction.atomic
def user_set_active(*, by: Actor, user: User, active: bool) -> User:
    """Disable a user who left (their tokens stop working too) or enable them again."""
    require(by.user, "accounts.manage_users", user.organisation)
    if user.pk == by.user_id:
        raise DomainError(_("不能停用或启用自己的账户。"), code="self")
    user = _locked(User, user.pk)
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        record_event(by=by, action="user.activate" if active else "user.deactivate", obj=user, payload={"username": user.username})
    return user


# API tokens -------------------------------------------------------------------------------------

@transaction.atomic
def api_token_create(*, by: Actor, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Returns the token and its secret; only the secret's SHA-256 is stored, so it cannot be
    shown again. Tokens expire after TOKEN_LIFETIME unless an earlier time is given."""
    require(by.user, "accounts.manage_tokens", user)
    if not user.is_active:
        raise DomainError(_("用户已停用。"), code="inactive")
    name = (name or "").strip() or "api"
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise DomainError(_("令牌名称不能超过100个字符。"), code="too_long")
    now = timezone.now()
    if expires_at is None:
        expires_at = now + TOKEN_LIFETIME
    if expires_at <= now:
        raise DomainError(_("过期时间必须晚于现在。"), code="expires_at")
    secret = "etp_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:TOKEN_PREFIX_LENGTH], key_hash=hash_token(secret), expires_at=expires_at)
    record_event(by=by, action="api_token.create", obj=token, payload={"user": user.pk, "name": token.name, "prefix": token.prefix})
    return token, secret


@transaction.atomic
def api_token_revoke(*, by: Actor, token: ApiToken) -> ApiToken:
    """Revoking twice is harmless: the token stays revoked at the first time."""
    require(by.user, "accounts.manage_tokens", token.user)
    token = _locked(ApiToken, token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(by=by, action="api_token.revoke", obj=token, payload={"prefix": token.prefix})
    return token


# The first centre -------------------------------------------------------------------------------

@transaction.atomic
def centre_bootstrap(
    *, by: Actor, name: str, credit_code: str, username: str, password: str, legal_representative: str = "",
    address: str = "", contact_phone: str = "", display_name: str = "", email: str = "",
) -> Organisation:
    """The platform's first trading centre and its administrator, verified at once: centre staff
    verify every other organisation, and before this there are none. Only the platform itself
    (`manage.py create_centre`) does it, and only while no centre exists. Its registration,
    submission and approval are recorded like any other, the approval marked as the bootstrap (E49)."""
    if by.role != "system":
        raise NotAllowed(_("只有平台初始化命令可以开设首个交易中心。"))
    _refuse_if_a_centre_exists()
    data = {
        "name": name, "credit_code": credit_code, "legal_representative": legal_representative,
        "address": address, "contact_phone": contact_phone,
    }
    organisation = organisation_register(
        by=by, kind=OrganisationKind.CENTRE, data=data, username=username, password=password,
        email=email, display_name=display_name,
    )
    # Registering appended to the audit chain, whose lock we now hold until commit: a second
    # bootstrap running at the same moment has committed before us, or waits and then sees ours.
    _refuse_if_a_centre_exists(besides=organisation)
    now = timezone.now()
    organisation.submitted_at = now
    fsm_transition(organisation, "submit", by=by, state_field="status", payload={"bootstrap": True})
    organisation.reviewed_at = now
    return fsm_transition(organisation, "approve", by=by, state_field="status", payload={"bootstrap": True})


def _refuse_if_a_centre_exists(*, besides: Organisation | None = None) -> None:
    centres = Organisation.objects.filter(kind=OrganisationKind.CENTRE)
    if besides is not None:
        centres = centres.exclude(pk=besides.pk)
    existing = centres.order_by("pk").first()
    if existing is not None:
        raise DomainError(
            _("平台已有交易中心“%(name)s”；其他单位由交易中心审核开设。") % {"name": existing.name}, code="centre_exists"
        )


# Sign-in ----------------------------------------------------------------------------------------

@transaction.atomic
def user_sign_in_record(*, by: Actor, username: str, succeeded: bool) -> None:
    """Every sign-in through the sign-in page, successful or not, with the name typed and the
    client's IP (E49). A failed attempt has no user: `by` is the anonymous visitor, and the name
    typed is kept so repeated guessing at one account shows in the trail."""
    record_event(
        by=by, action="user.login" if succeeded else "user.login_failed",
        object_type=User._meta.label_lower, object_id=by.user_id or "",
        payload={"username": (username or "")[: User._meta.get_field("username").max_length]},
    )
