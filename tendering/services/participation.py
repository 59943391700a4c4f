"""Taking part in a published tender: registration (获取招标文件), document downloads,
clarifications and their acknowledgements, questions and answers, and invitations (邀请招标).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrganisationKind
from accounts.permissions import require
from audit.actor import Actor
from audit.services import record_event
from config.errors import DeadlineError, DomainError, IllegalTransition, NotAllowed
from tendering import periods
from tendering.models import (
    BidderRegistration,
    Clarification,
    ClarificationAck,
    ClarificationKind,
    DocumentDownload,
    Invitation,
    InvitationStatus,
    LotState,
    Procedure,
    Question,
    Tender,
    TenderDocument,
)
from tendering.services._common import (
    _acting_organisation,
    _authorise,
    _before_deadline,
    _editable,
    _json,
    _local_text,
    _lock_tender,
    _notify_registered,
    _published,
    _registered,
    _require_aware,
    _text,
)


@transaction.atomic
def bidder_register(*, by: Actor, tender: Tender) -> BidderRegistration:
    """获取招标文件: an open tender, any verified bidder during the offer period (R16); an
    invited tender, only the invitees that accepted."""
    require(by.user, "tendering.take_part", tender)
    organisation = _acting_organisation(by)
    tender = _lock_tender(tender)
    _published(tender)
    existing = tender.registrations.filter(organisation=organisation).first()
    if existing:
        return existing
    now = timezone.now()
    if now >= tender.documents_offer_end:
        raise DeadlineError(_("招标文件获取时间已截止。"))
    _before_deadline(tender, now)
    if not tender.lots.filter(state=LotState.PUBLISHED).exists():
        raise DomainError(_("招标活动已暂停，暂不能获取招标文件。"), code="suspended")
    if tender.procedure == Procedure.INVITED and not tender.invitations.filter(organisation=organisation, status=InvitationStatus.ACCEPTED).exists():
        raise NotAllowed(_("本项目为邀请招标，只有接受邀请的投标人可以获取招标文件。"))
    try:
        with transaction.atomic():
            registration = BidderRegistration.objects.create(tender=tender, organisation=organisation, registered_by_id=by.user_id, registered_at=now, ip=by.ip)
    except IntegrityError:  # a colleague registered the organisation at the same moment
        return tender.registrations.get(organisation=organisation)
    record_event(by=by, action="tender.register", obj=registration, tender_id=tender.pk, payload={"organisation": organisation.pk})
    return registration


@transaction.atomic
def document_download(*, by: Actor, document: TenderDocument) -> DocumentDownload:
    """Record who fetched which file, when and from where; the view then streams it."""
    require(by.user, "tendering.download_document", document)
    download = DocumentDownload.objects.create(
        document=document, organisation_id=by.organisation_id, user_id=by.user_id, downloaded_at=timezone.now(), ip=by.ip
    )
    record_event(by=by, action="document.download", obj=document, tender_id=document.tender_id, payload={"download": download.pk, "version": document.version, "sha256": document.sha256})
    return download


@transaction.atomic
def clarification_issue(*, by: Actor, tender: Tender, kind: str, title: str, body: str, affects_bids: bool = True, new_deadline: datetime | None = None) -> Clarification:
    """澄清 / 修改, numbered per tender. One that may affect bids and leaves fewer than 15 days
    postpones the deadline (periods.minimum_deadline_after_amendment); an explicit new deadline
    that leaves fewer is refused."""
    require(by.user, "tendering.manage_tender", tender)
    if kind not in ClarificationKind.values:
        raise DomainError(_("类型无效。"))
    title = _text(title, _("标题不能为空。"))
    body = _text(body, _("内容不能为空。"))
    _require_aware(new_deadline, _("新投标截止时间"))
    tender = _lock_tender(tender)
    _published(tender)
    now = timezone.now()
    _before_deadline(tender, now)
    previous = tender.bid_deadline
    if new_deadline is not None:
        if new_deadline < previous:
            raise DeadlineError(_("新投标截止时间不能早于原投标截止时间。"))
        earliest = periods.minimum_deadline_after_amendment(now, tender.accelerator)
        if affects_bids and new_deadline < earliest:
            raise DeadlineError(_("影响投标文件编制的澄清或修改，距投标截止时间不得少于15日；新截止时间最早为%(earliest)s。") % {"earliest": _local_text(earliest)})
        deadline = new_deadline
    else:
        deadline = periods.deadline_after_amendment(now, previous, affects_bids=affects_bids, accelerator=tender.accelerator)
    number = (tender.clarifications.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    clarification = Clarification.objects.create(
        tender=tender, number=number, kind=kind, title=title, body=body, affects_bids=affects_bids,
        previous_deadline=previous, new_deadline=deadline, issued_by_id=by.user_id, issued_at=now,
    )
    if deadline != previous:
        tender.bid_deadline = deadline
        tender.save(update_fields=["bid_deadline", "updated_at"])
    body_text = body
    if deadline != previous:
        body_text = _("投标截止时间变更为 %(deadline)s。") % {"deadline": _local_text(deadline)} + "\n" + body
    notified = _notify_registered(tender, _("%(kind)s %(number)s：%(title)s") % {"kind": clarification.get_kind_display(), "number": number, "title": title}, body_text)
    record_event(
        by=by, action="clarification.issue", obj=clarification, tender_id=tender.pk,
        payload={"number": number, "kind": kind, "title": title, "affects_bids": affects_bids,
                 "previous_deadline": _json(previous), "new_deadline": _json(deadline), "extended": deadline != previous, "notified": notified},
    )
    return clarification


@transaction.atomic
def clarification_acknowledge(*, by: Actor, clarification: Clarification) -> ClarificationAck:
    """A registered bidder confirms it received the clarification (idempotent: a double click, even
    two at once, gives one acknowledgement, because the tender row is locked first)."""
    require(by.user, "tendering.take_part", clarification.tender)
    organisation = _acting_organisation(by)
    tender = _lock_tender(clarification.tender)
    _published(tender)
    _registered(tender, organisation)
    ack, created = ClarificationAck.objects.get_or_create(
        clarification=clarification, organisation=organisation,
        defaults={"acknowledged_by_id": by.user_id, "acknowledged_at": timezone.now()},
    )
    if not created:
        return ack
    record_event(by=by, action="clarification.acknowledge", obj=clarification, tender_id=clarification.tender_id, payload={"organisation": organisation.pk})
    return ack


@transaction.atomic
def question_ask(*, by: Actor, tender: Tender, text: str) -> Question:
    require(by.user, "tendering.take_part", tender)
    organisation = _acting_organisation(by)
    text = _text(text, _("问题不能为空。"))
    _published(tender)
    _registered(tender, organisation)
    now = timezone.now()
    _before_deadline(tender, now)
    question = Question.objects.create(tender=tender, organisation=organisation, asked_by_id=by.user_id, text=text, asked_at=now)
    record_event(by=by, action="question.ask", obj=question, tender_id=tender.pk, payload={"text": text})
    return question


@transaction.atomic
def question_answer(*, by: Actor, question: Question, answer: str) -> Question:
    """The answer is published to every bidder without naming the asker."""
    require(by.user, "tendering.manage_tender", question.tender)
    answer = _text(answer, _("答复不能为空。"))
    _published(_lock_tender(question.tender))
    question = Question.objects.select_for_update().get(pk=question.pk)
    if question.answered_at is not None:
        raise IllegalTransition(_("该问题已答复。"))
    question.answer, question.answered_by_id, question.answered_at = answer, by.user_id, timezone.now()
    question.save(update_fields=["answer", "answered_by", "answered_at"])
    notified = _notify_registered(question.tender, _("答疑已发布：%(code)s") % {"code": question.tender.code}, answer)
    record_event(by=by, action="question.answer", obj=question, tender_id=question.tender_id, payload={"answer": answer, "notified": notified})
    return question


# Invitations (邀请招标) --------------------------------------------------------------------------

@transaction.atomic
def invitations_set(*, by: Actor, tender: Tender, organisations: list[Organisation], criteria: dict) -> list[Invitation]:
    """Choose the invitees of an invited tender (draft or returned); they are sent at publication."""
    require(by.user, "tendering.manage_tender", tender)
    tender = _lock_tender(tender)
    _editable(tender)
    if tender.procedure != Procedure.INVITED:
        raise DomainError(_("只有邀请招标项目需要选择被邀请人。"))
    chosen = {organisation.pk: organisation for organisation in organisations}
    for organisation in chosen.values():
        if organisation.kind != OrganisationKind.BIDDER or not organisation.can_act:
            raise DomainError(_("“%(name)s”不是已核验的投标人，不能邀请。") % {"name": organisation.name})
    criteria = {str(k): str(v) for k, v in (criteria or {}).items()}
    tender.invitations.exclude(organisation_id__in=chosen).delete()
    invitations = []
    for organisation in chosen.values():
        invitation, created = Invitation.objects.get_or_create(tender=tender, organisation=organisation, defaults={"criteria": criteria})
        if not created and invitation.criteria != criteria:
            invitation.criteria = criteria
            invitation.save(update_fields=["criteria"])
        invitations.append(invitation)
    record_event(by=by, action="invitation.set", obj=tender, tender_id=tender.pk, payload={"organisations": sorted(chosen), "criteria": criteria})
    return invitations


@transaction.atomic
def invitation_reply(*, by: Actor, invitation: Invitation, accept: bool) -> Invitation:
    require(by.user, "tendering.reply_invitation", invitation)
    invitation = Invitation.objects.select_for_update().select_related("tender").get(pk=invitation.pk)
    if invitation.status != InvitationStatus.SENT:
        raise IllegalTransition(_("该投标邀请已回复、已过期或尚未发出。"))
    now = timezone.now()
    deadline = invitation.tender.invitation_reply_deadline
    if deadline is not None and now > deadline:
        raise DeadlineError(_("已超过邀请回复截止时间。"))
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    invitation.replied_by_id, invitation.replied_at = by.user_id, now
    invitation.save(update_fields=["status", "replied_by", "replied_at"])
    record_event(by=by, action="invitation.reply", obj=invitation, tender_id=invitation.tender_id, payload={"from": InvitationStatus.SENT.value, "to": invitation.status})
    return invitation


@transaction.atomic
def invitation_expire(*, by: Actor, invitation: Invitation) -> Invitation:
    """An invitation not answered by its reply deadline lapses (used by the chronograph)."""
    _authorise(by, "tendering.manage_tender", invitation.tender)
    invitation = Invitation.objects.select_for_update().select_related("tender").get(pk=invitation.pk)
    deadline = invitation.tender.invitation_reply_deadline
    if invitation.status != InvitationStatus.SENT:
        raise IllegalTransition(_("该投标邀请不是待回复状态。"))
    if deadline is None or timezone.now() <= deadline:
        raise DeadlineError(_("邀请回复截止时间未到。"))
    invitation.status = InvitationStatus.EXPIRED
    invitation.save(update_fields=["status"])
    record_event(by=by, action="invitation.expire", obj=invitation, tender_id=invitation.tender_id, payload={"from": InvitationStatus.SENT.value, "to": InvitationStatus.EXPIRED.value})
    return invitation
