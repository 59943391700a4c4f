"""Lot transitions driven by the clock, the opening and objections: close (截标), fail (流标),
suspend and resume.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actor import Actor
from audit.services import fsm_transition
from config.errors import DeadlineError, IllegalTransition
from tendering.models import Lot, SuspensionKind
from tendering.services._common import _authorise, _json, _lock_lot, _lock_tender, _notify_registered, _text


@transaction.atomic
def lot_close(*, by: Actor, lot: Lot) -> Lot:
    """截标: only once the bid deadline has passed by server time."""
    _authorise(by, "tendering.manage_tender", lot.tender)
    lot = _lock_lot(lot)
    now = timezone.now()
    if lot.tender.bid_deadline is None or now < lot.tender.bid_deadline:
        raise DeadlineError(_("投标截止时间未到，不能截标。"))
    lot.state_changed_at = now
    return fsm_transition(lot, "close", by=by, tender_id=lot.tender_id, payload={"deadline": _json(lot.tender.bid_deadline)})


@transaction.atomic
def lot_fail(*, by: Actor, lot: Lot, reason: str) -> Lot:
    """流标, with the reason recorded (e.g. fewer than 3 bids, L28/R44)."""
    _authorise(by, "tendering.manage_tender", lot.tender)
    reason = _text(reason, _("流标必须说明理由。"))
    lot = _lock_lot(lot)
    lot.state_reason, lot.state_changed_at = reason, timezone.now()
    notified = _notify_registered(lot.tender, _("标段流标：%(lot)s") % {"lot": lot}, reason)
    return fsm_transition(lot, "fail", by=by, tender_id=lot.tender_id, payload={"reason": reason, "notified": notified})


@transaction.atomic
def lot_suspend(*, by: Actor, lot: Lot, reason: str) -> Lot:
    """暂停 by the owner, remembering the state to resume to."""
    _authorise(by, "tendering.manage_tender", lot.tender)
    return _suspend(by, lot, _text(reason, _("暂停必须说明理由。")), SuspensionKind.MANUAL)


@transaction.atomic
def lot_resume(*, by: Actor, lot: Lot) -> Lot:
    """Resume a suspended lot; never while an objection awaits its answer (R22): the last answer
    resumes the lots the objections suspended."""
    _authorise(by, "tendering.manage_tender", lot.tender)
    tender = _lock_tender(lot.tender)
    if tender.objections.filter(answered_at__isnull=True).exists():
        raise IllegalTransition(_("尚有未答复的异议，不能恢复招标活动；答复全部异议后自动恢复。"))
    if _lock_lot(lot).suspension_kind == SuspensionKind.PUBLICITY_OBJECTION:  # R54: only the last answer resumes it
        raise IllegalTransition(_("尚有未答复的公示异议，不能恢复招标活动；答复全部异议后自动恢复。"))
    return _resume(by, lot)


def _suspend(by: Actor, lot: Lot, reason: str, kind: str) -> Lot:
    lot = _lock_lot(lot)
    now = timezone.now()
    lot.state_reason, lot.state_changed_at = reason, now
    lot.suspension_kind, lot.suspended_at = kind, now
    return fsm_transition(lot, "suspend", by=by, tender_id=lot.tender_id, payload={"reason": reason, "kind": kind})


def _resume(by: Actor, lot: Lot, payload: dict | None = None) -> Lot:
    lot = _lock_lot(lot)
    lot.state_reason, lot.state_changed_at = "", timezone.now()
    return fsm_transition(lot, "resume", by=by, tender_id=lot.tender_id, payload=payload)
