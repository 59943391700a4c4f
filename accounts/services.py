"""Every write to organisations, users and tokens. One function per action; each runs in one
transaction with its audit event."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
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
    OrganisationStatus,
    Role,
    User,
)
from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from config.errors import DomainError


def _clean_data(data: dict, *, exclude_pk: int | None = None) -> dict:
    unknown = set(data) - set(VERIFIED_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))})
    cleaned = {key: (value.strip() if isinstance(value, str) else value) for key, value in data.items()}
    if "credit_code" in cleaned:
        try:
            cleaned["credit_code"] = credit_code.validate(cleaned["credit_code"])
        except credit_code.CreditCodeError as exc:
            raise DomainError(_("统一社会信用代码无效：%(reason)s") % {"reason": exc}, code="credit_code") from exc
        if Organisation.objects.filter(credit_code=cleaned["credit_code"]).exclude(pk=exclude_pk).exists():
            raise DomainError(_("该统一社会信用代码已被其他单位使用。"), code="duplicate")
    if "name" in cleaned:
        if not cleaned["name"]:
            raise DomainError(_("单位名称不能为空。"))
        if Organisation.objects.filter(name=cleaned["name"]).exclude(pk=exclude_pk).exists():
            raise DomainError(_("该单位名称已被其他单位使用。"), code="duplicate")
    return cleaned


@transaction.atomic
def organisation_register(*, by: Actor, kind: str, data: dict, username: str, password: str, email: str = "", display_name: str = "") -> Organisation:
    """A new organisation with its first user; it stays a draft until it is submitted."""
    if kind not in dict(Organisation._meta.get_field("kind").choices):
        raise DomainError(_("单位类型无效。"))
    cleaned = _clean_data(data)
    for field in ("name", "credit_code"):
        if not cleaned.get(field):
            raise DomainError(_("请填写单位名称和统一社会信用代码。"))
    if User.objects.filter(username=username).exists():
        raise DomainError(_("用户名已存在。"), code="duplicate")
    organisation = Organisation.objects.create(kind=kind, **cleaned)
    user = User.objects.create_user(username=username, password=password, email=email, organisation=organisation, role=kind, display_name=display_name)
    record_event(by=by, action="organisation.register", obj=organisation, payload={"kind": kind, "data": cleaned, "user": user.username})
    return organisation


def _locked(organisation_id: int) -> Organisation:
    return Organisation.objects.select_for_update().get(pk=organisation_id)


@transaction.atomic
def organisation_update(*, by: Actor, organisation: Organisation, data: dict) -> Organisation:
    """Edit a draft or a rejected registration. Locked while pending; after approval use
    `organisation_change_request`."""
    require(by.user, "accounts.edit_organisation", organisation)
    organisation = _locked(organisation.pk)
    if organisation.is_locked:
        raise DomainError(_("单位信息审核中或已核验，不能直接修改；已核验单位请提交变更申请。"), code="locked")
    cleaned = _clean_data(data, exclude_pk=organisation.pk)
    for key, value in cleaned.items():
        setattr(organisation, key, value)
    organisation.save()
    record_event(by=by, action="organisation.update", obj=organisation, payload={"data": cleaned})
    return organisation


@transaction.atomic
def organisation_submit(*, by: Actor, organisation: Organisation) -> Organisation:
    require(by.user, "accounts.edit_organisation", organisation)
    organisation = _locked(organisation.pk)
    organisation.submitted_at = timezone.now()
    return fsm_transition(organisation, "submit", by=by, state_field="status")


@transaction.atomic
def organisation_approve(*, by: Actor, organisation: Organisation) -> Organisation:
    require(by.user, "accounts.review_organisation", organisation)
    organisation = _locked(organisation.pk)
    organisation.reviewed_by_id, organisation.reviewed_at, organisation.review_reason = by.user_id, timezone.now(), ""
    return fsm_transition(organisation, "approve", by=by, state_field="status")


@transaction.atomic
def organisation_reject(*, by: Actor, organisation: Organisation, reason: str) -> Organisation:
    require(by.user, "accounts.review_organisation", organisation)
    if not reason.strip():
        raise DomainError(_("退回时必须说明理由。"))
    organisation = _locked(organisation.pk)
    organisation.reviewed_by_id, organisation.reviewed_at, organisation.review_reason = by.user_id, timezone.now(), reason.strip()
    return fsm_transition(organisation, "reject", by=by, state_field="status", payload={"reason": reason.strip()})


@transaction.atomic
def organisation_suspend(*, by: Actor, organisation: Organisation, reason: str) -> Organisation:
    require(by.user, "accounts.review_organisation", organisation)
    if not reason.strip():
        raise DomainError(_("暂停时必须说明理由。"))
    organisation = _locked(organisation.pk)
    organisation.status_reason = reason.strip()
    return fsm_transition(organisation, "suspend", by=by, state_field="status", payload={"reason": reason.strip()})


@transaction.atomic
def organisation_restore(*, by: Actor, organisation: Organisation) -> Organisation:
    require(by.user, "accounts.review_organisation", organisation)
    organisation = _locked(organisation.pk)
    organisation.status_reason = ""
    return fsm_transition(organisation, "restore", by=by, state_field="status")


@transaction.atomic
def organisation_change_request(*, by: Actor, organisation: Organisation, data: dict) -> OrganisationChange:
    """Propose a change to verified data; the verified version stays in force meanwhile."""
    require(by.user, "accounts.edit_organisation", organisation)
    organisation = _locked(organisation.pk)
    if organisation.status not in (OrganisationStatus.APPROVED, OrganisationStatus.SUSPENDED):
        raise DomainError(_("只有已核验的单位需要提交变更申请；请直接修改并提交审核。"))
    if organisation.changes.filter(status=ChangeStatus.PENDING).exists():
        raise DomainError(_("已有一项变更申请正在审核。"), code="pending_change")
    cleaned = _clean_data(data, exclude_pk=organisation.pk)
    cleaned = {key: value for key, value in cleaned.items() if getattr(organisation, key) != value}
    if not cleaned:
        raise DomainError(_("没有需要变更的内容。"))
    change = OrganisationChange.objects.create(organisation=organisation, data=cleaned, requested_by_id=by.user_id)
    record_event(by=by, action="organisation.change_request", obj=organisation, payload={"change": change.pk, "data": cleaned})
    return change


@transaction.atomic
def organisation_change_approve(*, by: Actor, change: OrganisationChange) -> Organisation:
    require(by.user, "accounts.review_organisation", change.organisation)
    change = OrganisationChange.objects.select_for_update().get(pk=change.pk)
    if change.status != ChangeStatus.PENDING:
        raise DomainError(_("该变更申请已处理。"))
    organisation = _locked(change.organisation_id)
    cleaned = _clean_data(change.data, exclude_pk=organisation.pk)  # uniqueness may have changed since
    before = {key: getattr(organisation, key) for key in cleaned}
    for key, value in cleaned.items():
        setattr(organisation, key, value)
    organisation.reviewed_by_id, organisation.reviewed_at = by.user_id, timezone.now()
    organisation.save()
    change.status, change.reviewed_by_id, change.reviewed_at = ChangeStatus.APPROVED, by.user_id, organisation.reviewed_at
    change.save()
    record_event(by=by, action="organisation.change_approve", obj=organisation, payload={"change": change.pk, "before": before, "after": cleaned})
    return organisation


@transaction.atomic
def organisation_change_reject(*, by: Actor, change: OrganisationChange, reason: str) -> OrganisationChange:
    require(by.user, "accounts.review_organisation", change.organisation)
    if not reason.strip():
        raise DomainError(_("退回时必须说明理由。"))
    change = OrganisationChange.objects.select_for_update().get(pk=change.pk)
    if change.status != ChangeStatus.PENDING:
        raise DomainError(_("该变更申请已处理。"))
    change.status, change.reviewed_by_id, change.reviewed_at, change.review_reason = ChangeStatus.REJECTED, by.user_id, timezone.now(), reason.strip()
    change.save()
    record_event(by=by, action="organisation.change_reject", obj=change.organisation, payload={"change": change.pk, "reason": reason.strip()})
    return change


@transaction.atomic
def user_create(*, by: Actor, organisation: Organisation | None, username: str, password: str, role: str, display_name: str = "", email: str = "") -> User:
    if role not in Role.values:
        raise DomainError(_("角色无效。"))
    if User.objects.filter(username=username).exists():
        raise DomainError(_("用户名已存在。"), code="duplicate")
    user = User(username=username, email=email, organisation=organisation, role=role, display_name=display_name)
    user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise DomainError("; ".join(exc.messages)) from exc
    user.save()
    record_event(by=by, action="user.create", obj=user, payload={"username": username, "role": role, "organisation": organisation.pk if organisation else None})
    return user


@transaction.atomic
def api_token_create(*, by: Actor, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Returns the token and its secret; the secret is never stored and cannot be shown again."""
    secret = "etp_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name or "api", prefix=secret[:12], key_hash=hash_token(secret), expires_at=expires_at)
    record_event(by=by, action="api_token.create", obj=token, payload={"user": user.pk, "name": token.name, "prefix": token.prefix})
    return token, secret


@transaction.atomic
def api_token_revoke(*, by: Actor, token: ApiToken) -> ApiToken:
    if token.user_id != by.user_id:
        raise DomainError(_("只能吊销自己的令牌。"), code="not_allowed")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(by=by, action="api_token.revoke", obj=token, payload={"prefix": token.prefix})
    return token
