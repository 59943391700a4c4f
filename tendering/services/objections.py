"""Objections to the tender documents (R22): raising one suspends the tender, answering the last
resumes it with the time lost given back; the chronograph reports late answers.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from audit.services import record_event
from config.errors import DeadlineError, IllegalTransition
from tendering import periods
from tendering.models import SUSPENDABLE_LOT_STATES, LotState, Objection, SuspensionKind, Tender
from tendering.services._common import (
    _acting_organisation,
    _authorise,
    _json,
    _local_text,
    _lock_tender,
    _notify_registered,
    _published,
    _registered,
    _tender_url,
    _text,
)
from tendering.services.lots import _resume, _suspend


@transaction.atomic
def objection_raise(*, by: Actor, tender: Tender, text: str) -> Objection:
    """R22: a registered bidder objects to the tender documents until 10 days before the deadline;
    the answer is due within 3 days and every lot is suspended until all objections are answered."""
    require(by.user, "tendering.take_part", tender)
    organisation = _acting_organisation(by)
    text = _text(text, _("异议内容不能为空。"))
    tender = _lock_tender(tender)
    _published(tender)
    _registered(tender, organisation)
    now = timezone.now()
    cutoff = periods.objection_cutoff(tender.bid_deadline, tender.accelerator)
    if now > cutoff:
        raise DeadlineError(_("对招标文件的异议应当在投标截止时间10日前提出（截止于%(cutoff)s）。") % {"cutoff": _local_text(cutoff)})
    objection = Objection.objects.create(
        tender=tender, organisation=organisation, raised_by_id=by.user_id, text=text, raised_at=now,
        answer_due=periods.objection_answer_due(now, tender.accelerator),
    )
    owners = [org_id for org_id in (tender.tenderer_id, tender.agency_id) if org_id]
    notified = notify(organisations=owners, subject=_("收到对招标文件的异议：%(code)s") % {"code": tender.code},
                      body=_("请在 %(due)s 前答复。") % {"due": _local_text(objection.answer_due)}, url=_tender_url(tender))
    record_event(by=by, action="objection.raise", obj=objection, tender_id=tender.pk, payload={"text": text, "answer_due": _json(objection.answer_due), "notified": notified})
    reason = _("异议处理中（异议%(id)s）") % {"id": objection.pk}
    # The bidder's objection suspends the tender: the platform acts here, on the rule, not the bidder.
    for lot in tender.lots.filter(state__in=SUSPENDABLE_LOT_STATES):
        _suspend(by, lot, reason, SuspensionKind.OBJECTION)
    return objection


@transaction.atomic
def objection_answer(*, by: Actor, objection: Objection, answer: str) -> Objection:
    """Answer an objection; when none remains open, the lots the objections suspended resume where
    they were, with the time lost given back (`_resume_after_objections`, R22)."""
    require(by.user, "tendering.manage_tender", objection.tender)
    answer = _text(answer, _("答复不能为空。"))
    tender = _lock_tender(objection.tender)
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if not objection.is_open:
        raise IllegalTransition(_("该异议已答复。"))
    objection.answer, objection.answered_by_id, objection.answered_at = answer, by.user_id, timezone.now()
    objection.save(update_fields=["answer", "answered_by", "answered_at"])
    notified = notify(organisations=[objection.organisation_id], subject=_("异议已答复：%(code)s") % {"code": tender.code}, body=answer, url=_tender_url(tender))
    record_event(by=by, action="objection.answer", obj=objection, tender_id=tender.pk, payload={"answer": answer, "late": objection.answered_at > objection.answer_due, "notified": notified})
    if not tender.objections.filter(answered_at__isnull=True).exists():
        _resume_after_objections(by, tender)
    return objection


@transaction.atomic
def objection_report_overdue(*, by: Actor, objection: Objection) -> Objection:
    """Record, once, that an objection's answer is late (R22); the chronograph calls this. The
    objection stays open: only the tenderer's answer resolves it."""
    _authorise(by, "tendering.manage_tender", objection.tender)
    objection = Objection.objects.select_for_update().select_related("tender").get(pk=objection.pk)
    _published(objection.tender)  # a cancelled tender's objections are no longer chased
    if not objection.is_open or objection.overdue_reported_at is not None or timezone.now() <= objection.answer_due:
        raise IllegalTransition(_("该异议未逾期或已报告。"))
    objection.overdue_reported_at = timezone.now()
    objection.save(update_fields=["overdue_reported_at"])
    record_event(by=by, action="objection.overdue", obj=objection, tender_id=objection.tender_id, payload={"answer_due": _json(objection.answer_due)})
    return objection


def _resume_after_objections(by: Actor, tender: Tender) -> None:
    """R22: the tender is suspended while objections to the tender documents await their answer,
    and the bidders get that time back. When the last objection is answered, the lots the
    objections suspended (and only those) resume, and the bid deadline moves out by exactly the
    time they were suspended (from the first objection to now), and a bid deadline that then falls
    on a rest day moves to the next working day (outside the sandbox); the documents offer end
    moves by the same amount if it had not yet passed when the suspension began. The old and new dates go into the audit trail and every registered bidder
    is notified."""
    lots = list(tender.lots.select_for_update().filter(state=LotState.SUSPENDED, suspension_kind=SuspensionKind.OBJECTION).order_by("number"))
    if not lots:
        return
    now = timezone.now()
    started = min(lot.suspended_at or lot.state_changed_at or now for lot in lots)
    suspended_for = max(now - started, timedelta(0))
    dates = {"suspended_at": _json(started), "suspended_seconds": int(suspended_for.total_seconds())}
    for name in ("bid_deadline", "documents_offer_end"):
        old = getattr(tender, name)
        new = old + suspended_for if old is not None and old > started else old
        if name == "bid_deadline" and new is not None and new != old and tender.accelerator == 1:
            new = periods.shift_to_working_day(new).astimezone(old.tzinfo)
        setattr(tender, name, new)
        dates[f"previous_{name}"], dates[name] = _json(old), _json(new)
    tender.save(update_fields=["bid_deadline", "documents_offer_end", "updated_at"])
    for lot in lots:
        _resume(by, lot, payload=dates)
    notified = _notify_registered(
        tender, _("招标活动已恢复：%(code)s") % {"code": tender.code},
        _("异议已全部答复，招标活动恢复。投标截止时间顺延至 %(deadline)s，招标文件获取截止时间为 %(offer_end)s。")
        % {"deadline": _local_text(tender.bid_deadline), "offer_end": _local_text(tender.documents_offer_end)},
    )
    record_event(by=by, action="tender.resume", obj=tender, tender_id=tender.pk, payload={**dates, "lots": [lot.pk for lot in lots], "notified": notified})
