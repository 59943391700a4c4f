"""Reads for the accounts pages and API that span relations."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import ApiToken, ChangeStatus, Organisation, OrganisationChange, OrganisationStatus, User


def organisations_awaiting_review() -> QuerySet[Organisation]:
    """Registrations submitted to the centre, oldest first (first come, first served)."""
    return Organisation.objects.filter(status=OrganisationStatus.PENDING).order_by("submitted_at", "pk")


def changes_awaiting_review() -> QuerySet[OrganisationChange]:
    return OrganisationChange.objects.filter(status=ChangeStatus.PENDING).select_related("organisation", "requested_by").order_by("requested_at", "pk")


def pending_change_of(organisation: Organisation) -> OrganisationChange | None:
    return organisation.changes.filter(status=ChangeStatus.PENDING).select_related("requested_by").first()


def changes_of(organisation: Organisation) -> QuerySet[OrganisationChange]:
    return organisation.changes.select_related("requested_by", "reviewed_by").order_by("-requested_at", "-pk")


def organisations_search(*, q: str = "", status: str = "", kind: str = "") -> QuerySet[Organisation]:
    organisations = Organisation.objects.all()
    if q:
        organisations = organisations.filter(Q(name__icontains=q) | Q(credit_code__icontains=q.upper()))
    if status:
        organisations = organisations.filter(status=status)
    if kind:
        organisations = organisations.filter(kind=kind)
    return organisations.order_by("name")


def users_of(organisation: Organisation | None) -> QuerySet[User]:
    """The users of an organisation; for None, the experts (who belong to none)."""
    if organisation is None:
        return User.objects.filter(organisation__isnull=True, role="expert").order_by("username")
    return organisation.users.order_by("-is_org_admin", "username")


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def active_token_by_prefix(user: User, prefix: str) -> ApiToken | None:
    return ApiToken.objects.filter(user=user, prefix=prefix, revoked_at__isnull=True).select_related("user").first()
