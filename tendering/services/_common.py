"""Private helpers shared by the tendering services: authorisation for the platform itself, row
locks, values as the audit chain takes them, text and time checks, the states a tender must be in
for an action, and notifying the parties of a tender.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from config.errors import DeadlineError, DomainError, IllegalTransition, NotAllowed
from tendering import periods
from tendering.models import InvitationStatus, Lot, Tender, TenderState


def _authorise(by: Actor, action: str, obj) -> None:
    """The platform itself (chronograph, background jobs: no user) passes; anyone else needs the rule."""
    if by.user is None and by.role == "system":
        return
    require(by.user, action, obj)


def _lock_tender(tender: Tender) -> Tender:
    return Tender.objects.select_for_update().get(pk=tender.pk)


def _lock_lot(lot: Lot) -> Lot:
    return Lot.objects.select_for_update().select_related("tender").get(pk=lot.pk)


def _json(value):
    """A value as the audit chain takes it (no floats, datetimes as ISO strings, objects by pk)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, dict | list):
        # Schemes may hold floats, which the audit chain refuses: record their digest instead.
        return "sha256:" + hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return value


def _text(value: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message)
    return value


def _acting_organisation(by: Actor) -> Organisation:
    organisation = getattr(by.user, "organisation", None)
    if organisation is None or not organisation.can_act:
        raise NotAllowed(_("您的单位未核验或已被暂停，不能办理此业务。"))
    return organisation


def _require_aware(value: datetime | None, label) -> None:
    if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
        raise DomainError(_("“%(field)s”必须是带时区的时间。") % {"field": label})
    if value is not None and not periods.EARLIEST_YEAR <= value.year <= periods.LATEST_YEAR:
        raise DomainError(_("“%(field)s”的年份须在%(first)s年至%(last)s年之间。") % {"field": label, "first": periods.EARLIEST_YEAR, "last": periods.LATEST_YEAR})


def _local_text(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _tender_url(tender: Tender) -> str:
    return reverse("tendering:detail", args=[tender.pk])


def _notify_registered(tender: Tender, subject: str, body: str = "") -> list[int]:
    """Every organisation that obtained the documents (and, for an invited tender, every invitee)."""
    recipients = set(tender.registrations.values_list("organisation_id", flat=True))
    recipients |= set(tender.invitations.exclude(status=InvitationStatus.DRAFT).values_list("organisation_id", flat=True))
    return notify(organisations=recipients, subject=subject, body=body, url=_tender_url(tender))


def _editable(tender: Tender) -> None:
    if not tender.is_editable:
        raise IllegalTransition(_("招标项目已提交审核或已发布，不能修改。"))


def _published(tender: Tender) -> None:
    if tender.state != TenderState.PUBLISHED:
        raise IllegalTransition(_("招标项目未发布或已终止。"))


def _before_deadline(tender: Tender, now: datetime) -> None:
    if tender.bid_deadline is None or now >= tender.bid_deadline:
        raise DeadlineError(_("投标截止时间已过。"))


def _registered(tender: Tender, organisation: Organisation) -> None:
    if not tender.registrations.filter(organisation=organisation).exists():
        raise NotAllowed(_("请先获取招标文件。"))
