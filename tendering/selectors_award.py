"""Reads for the publicity and award pages (docs/publicity-and-award.md)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.permissions import is_centre_staff, is_regulator
from tendering.models_award import (
    PUBLIC_NOTICE_KINDS,
    ContractRegistration,
    Notice,
    NoticeState,
    PublicityObjection,
)
from tendering.rules import is_owner


def overdue_contracts(now: datetime | None = None) -> QuerySet[ContractRegistration]:
    """L46: contracts not registered by their due date (30 days after the award notice)."""
    now = now or timezone.now()
    return ContractRegistration.objects.filter(registered_at__isnull=True, due_at__lt=now).select_related("lot__tender")


def is_overdue(contract: ContractRegistration | None, now: datetime | None = None) -> bool:
    return contract is not None and not contract.is_registered and (now or timezone.now()) > contract.due_at


def overdue_objections(now: datetime | None = None) -> QuerySet[PublicityObjection]:
    now = now or timezone.now()
    return PublicityObjection.objects.filter(answered_at__isnull=True, overdue_reported_at__isnull=True, answer_due__lt=now)


def notices_for_review() -> QuerySet[Notice]:
    """The centre's queue: notices awaiting approval (a result announcement carries its notices)."""
    return (Notice.objects.filter(state=NoticeState.PENDING, bundle__isnull=True)
            .select_related("lot__tender", "drafted_by").order_by("drafted_at", "pk"))


def notices_visible_to(user, tender) -> list[Notice]:
    """The tender's notices the user may read (tendering.view_notice): issued publicity and result
    announcements for everyone, a bidder's own notices, every notice for insiders."""
    notices = Notice.objects.filter(lot__tender=tender).select_related("lot", "recipient").order_by("lot__number", "drafted_at", "pk")
    authenticated = user is not None and user.is_authenticated
    if authenticated and (is_owner(user, tender) or is_centre_staff(user) or is_regulator(user)):
        return list(notices)
    visible = Q(state=NoticeState.ISSUED, kind__in=PUBLIC_NOTICE_KINDS)
    if authenticated and user.organisation_id is not None:
        visible |= Q(state=NoticeState.ISSUED, recipient_id=user.organisation_id)
    return list(notices.filter(visible))


def objections_of(user, lot) -> QuerySet[PublicityObjection]:
    """A bidder's own objections to the lot's candidates."""
    if user is None or not user.is_authenticated or user.organisation_id is None:
        return PublicityObjection.objects.none()
    return PublicityObjection.objects.filter(publicity__lot=lot, organisation_id=user.organisation_id)
