"""Notices from the platform to organisations. `notify` is called by other services inside their
own transaction, so a notice exists exactly when the change it announces committed; the audit
event of that change lists who was notified."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Notification, Organisation
from accounts.permissions import require
from audit.actor import Actor
from audit.services import record_event
from config.errors import NotAllowed


def notify(*, organisations: Iterable[Organisation | int], subject: str, body: str = "", url: str = "") -> list[int]:
    """Queue one notice per organisation; returns the organisation ids, for the audit payload."""
    if not connection.in_atomic_block:
        raise RuntimeError("notify must run inside the transaction of the change it announces")
    ids = sorted({org if isinstance(org, int) else org.pk for org in organisations})
    Notification.objects.bulk_create(
        [Notification(organisation_id=org_id, subject=str(subject)[:200], body=str(body), url=url) for org_id in ids]
    )
    return ids


@transaction.atomic
def notification_mark_read(*, by: Actor, notification: Notification) -> Notification:
    require(by.user, "accounts.read_notifications", notification.organisation)
    if notification.organisation_id != by.organisation_id:
        raise NotAllowed(_("这不是本单位的通知。"))
    if notification.read_at is None:
        notification.read_at, notification.read_by_id = timezone.now(), by.user_id
        notification.save(update_fields=["read_at", "read_by"])
        record_event(by=by, action="notification.read", obj=notification)
    return notification


def inbox(organisation_id: int):
    return Notification.objects.filter(organisation_id=organisation_id)


def unread_count(organisation_id: int | None) -> int:
    if organisation_id is None:
        return 0
    return Notification.objects.filter(organisation_id=organisation_id, read_at__isnull=True).count()
