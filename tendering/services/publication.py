"""Review and publication: the tenderer submits, the centre approves or returns, the tenderer
publishes; everything that keeps a tender from being published is refused at each step.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrganisationKind
from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from config.errors import DomainError
from tendering import periods
from tendering.models import InvitationStatus, Procedure, Tender, TenderDocument, TenderState
from tendering.services._common import _json, _local_text, _lock_tender, _tender_url, _text
from tendering.services.tenders import _scheme_errors

MIN_INVITEES = 3  # 邀请招标: at least three bidders are invited


def _publication_errors(tender: Tender, at: datetime) -> list[str]:
    """Everything that keeps the tender from being published at `at`: L24, R16, R27, the scheme,
    the invitations, the accelerator, the tender documents, parties that may act."""
    errors = []
    if tender.accelerator > 1 and not settings.PLATFORM_SANDBOX:
        errors.append(_("本平台不是沙箱环境，不能使用加速倍数；正式项目的法定期限不可缩短。"))
        return errors
    errors += _party_errors(tender)
    if not TenderDocument.objects.filter(tender=tender, clarification__isnull=True, superseded_by__isnull=True).exists():
        errors.append(_("请先上传招标文件。"))
    lots = list(tender.lots.all())
    if not lots:
        errors.append(_("招标项目至少需要一个标段。"))
    errors += [_("标段%(number)s未设置最高投标限价（R27）。") % {"number": lot.number} for lot in lots if not lot.maximum_price_fen]
    errors += _scheme_errors(tender.evaluation_scheme)
    if tender.bid_deadline is None or tender.documents_offer_end is None:
        errors.append(_("请设置投标截止时间和招标文件获取截止时间。"))
    else:
        errors += _deadline_errors(tender, at)
    if tender.procedure == Procedure.INVITED:
        errors += _invitation_errors(tender, at)
    return errors


def _party_errors(tender: Tender) -> list[str]:
    """The tenderer, and its agency if any, must be verified and not suspended; the agency must
    be the one the project mandates (委托代理)."""
    errors = []
    if not tender.tenderer.can_act:
        errors.append(_("招标人单位未核验或已被暂停。"))
    if tender.agency_id is not None:
        if not tender.agency.can_act:
            errors.append(_("招标代理机构未核验或已被暂停。"))
        if tender.agency_id != tender.project.agency_id:
            errors.append(_("招标代理不是工程项目委托的代理机构。"))
    return errors


def _deadline_errors(tender: Tender, at: datetime) -> list[str]:
    """L24: the bid deadline is at least 20 days after the documents are issued (at publication).
    R16: the documents are on offer for at least 5 days."""
    errors = []
    earliest_deadline = periods.earliest_bid_deadline(at, tender.accelerator)
    if tender.bid_deadline < earliest_deadline:
        errors.append(_("自招标文件发出之日起至投标截止时间不得少于20日（L24）；最早可设为%(earliest)s。") % {"earliest": _local_text(earliest_deadline)})
    earliest_offer_end = periods.earliest_documents_offer_end(at, tender.accelerator)
    if tender.documents_offer_end < earliest_offer_end:
        errors.append(_("招标文件发售期不得少于5日（R16）；获取截止时间最早可设为%(earliest)s。") % {"earliest": _local_text(earliest_offer_end)})
    if tender.documents_offer_end > tender.bid_deadline:
        errors.append(_("招标文件获取截止时间不能晚于投标截止时间。"))
    return errors


def _invitation_errors(tender: Tender, at: datetime) -> list[str]:
    """L17: an invited tender invites at least three verified bidders, who reply by the reply
    deadline (set after publication, not after the bid deadline)."""
    errors = []
    valid = tender.invitations.filter(organisation__status="approved", organisation__kind=OrganisationKind.BIDDER).count()
    if valid < MIN_INVITEES:
        errors.append(_("邀请招标应当向3个以上已核验的投标人发出投标邀请书，当前为%(count)s个。") % {"count": valid})
    reply = tender.invitation_reply_deadline
    if reply is None or reply <= at:
        errors.append(_("请设置晚于发布时间的邀请回复截止时间。"))
    elif tender.bid_deadline is not None and reply > tender.bid_deadline:
        errors.append(_("邀请回复截止时间不能晚于投标截止时间。"))
    return errors


def _refuse_if(errors: list[str]) -> None:
    if errors:
        raise DomainError(" ".join(errors), code="not_publishable")


@transaction.atomic
def tender_submit(*, by: Actor, tender: Tender) -> Tender:
    """Hand the tender to the centre for review; what could already block publication is refused now."""
    require(by.user, "tendering.manage_tender", tender)
    tender = _lock_tender(tender)
    if tender.state not in (TenderState.DRAFT, TenderState.RETURNED):
        return fsm_transition(tender, "submit", by=by, tender_id=tender.pk)  # raises IllegalTransition
    _refuse_if(_publication_errors(tender, timezone.now()))
    tender.submitted_at = timezone.now()
    return fsm_transition(tender, "submit", by=by, tender_id=tender.pk)


@transaction.atomic
def tender_approve(*, by: Actor, tender: Tender) -> Tender:
    require(by.user, "tendering.review_tender", tender)
    tender = _lock_tender(tender)
    tender.reviewed_by_id, tender.reviewed_at, tender.review_reason = by.user_id, timezone.now(), ""
    return fsm_transition(tender, "approve", by=by, tender_id=tender.pk)


@transaction.atomic
def tender_return(*, by: Actor, tender: Tender, reason: str) -> Tender:
    require(by.user, "tendering.review_tender", tender)
    reason = _text(reason, _("退回时必须说明理由。"))
    tender = _lock_tender(tender)
    tender.reviewed_by_id, tender.reviewed_at, tender.review_reason = by.user_id, timezone.now(), reason
    return fsm_transition(tender, "return_for_changes", by=by, tender_id=tender.pk, payload={"reason": reason})


@transaction.atomic
def tender_publish(*, by: Actor, tender: Tender) -> Tender:
    """Publish the approved tender and all its lots; the documents count as issued now. An
    invited tender's invitations are sent now."""
    require(by.user, "tendering.manage_tender", tender)
    tender = _lock_tender(tender)
    if tender.state != TenderState.APPROVED:
        return fsm_transition(tender, "publish", by=by, tender_id=tender.pk)  # raises IllegalTransition
    now = timezone.now()
    _refuse_if(_publication_errors(tender, now))
    tender.published_at = now
    fsm_transition(tender, "publish", by=by, tender_id=tender.pk, payload={"bid_deadline": _json(tender.bid_deadline), "documents_offer_end": _json(tender.documents_offer_end)})
    for lot in tender.lots.select_for_update().order_by("number"):
        lot.state_changed_at = now
        fsm_transition(lot, "publish", by=by, tender_id=tender.pk)
    if tender.procedure == Procedure.INVITED:
        for invitation in tender.invitations.select_related("organisation"):
            invitation.status, invitation.sent_at = InvitationStatus.SENT, now
            invitation.save(update_fields=["status", "sent_at"])
            notify(
                organisations=[invitation.organisation_id],
                subject=_("投标邀请：%(code)s %(title)s") % {"code": tender.code, "title": tender.title},
                body=_("请在 %(deadline)s 前回复是否参加投标。") % {"deadline": _local_text(tender.invitation_reply_deadline)},
                url=_tender_url(tender),
            )
            record_event(by=by, action="invitation.send", obj=invitation, tender_id=tender.pk, payload={"organisation": invitation.organisation_id, "notified": True})
    return tender
