"""Every write to projects, tenders, lots, documents, clarifications, questions, objections and
invitations. One function per action; each runs in one transaction with its audit event, checks
who may act (`tendering/rules.py`) and every statutory rule by server time, whether or not the
chronograph has run.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrganisationKind
from accounts.notifications import notify
from accounts.permissions import require
from audit import platform_key
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from config.errors import DeadlineError, DomainError, IllegalTransition, NotAllowed
from tendering import periods, scheme
from tendering.money import is_valid_fen
from tendering.models import (
    CANCELLABLE_LOT_STATES,
    EDITABLE_TENDER_STATES,
    SUSPENDABLE_LOT_STATES,
    BidderRegistration,
    BidScope,
    Clarification,
    ClarificationAck,
    ClarificationKind,
    CodeSequence,
    DocumentDownload,
    Invitation,
    InvitationStatus,
    Lot,
    LotState,
    Objection,
    Procedure,
    Project,
    Question,
    SuspensionKind,
    Tender,
    TenderDocument,
    TenderState,
)

MIN_INVITEES = 3  # 邀请招标: at least three bidders are invited
TENDER_FIELDS = (
    "title", "procedure", "agency", "announcement", "bid_scope", "bidder_requirements", "bid_deadline",
    "documents_offer_end", "invitation_reply_deadline", "accelerator", "evaluation_scheme",
)
LOT_FIELDS = ("name", "description", "maximum_price_fen")


# Helpers ---------------------------------------------------------------------------------------

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


def _check_accelerator(accelerator) -> int:
    if isinstance(accelerator, bool) or not isinstance(accelerator, int) or not 1 <= accelerator <= periods.MAX_ACCELERATOR:
        raise DomainError(_("加速倍数必须是1至%(max)s之间的整数。") % {"max": periods.MAX_ACCELERATOR})
    if accelerator > 1 and not settings.PLATFORM_SANDBOX:
        raise DomainError(_("本平台不是沙箱环境，不能使用加速倍数；正式项目的法定期限不可缩短。"), code="sandbox_only")
    return accelerator


def _check_lot_data(data: dict) -> dict:
    unknown = set(data) - set(LOT_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))})
    cleaned = dict(data)
    if "name" in cleaned:
        cleaned["name"] = _text(cleaned["name"], _("标段名称不能为空。"))
    if "description" in cleaned:
        cleaned["description"] = (cleaned["description"] or "").strip()
    if "maximum_price_fen" in cleaned:
        price = cleaned["maximum_price_fen"]
        if price is not None and not is_valid_fen(price, allow_zero=False):
            raise DomainError(_("最高投标限价必须是大于0且不超过平台上限的整数（单位：分）。"))
    return cleaned


def _check_tender_fields(fields: dict) -> dict:
    unknown = set(fields) - set(TENDER_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))})
    cleaned = dict(fields)
    if "title" in cleaned:
        cleaned["title"] = _text(cleaned["title"], _("招标项目名称不能为空。"))
    if "procedure" in cleaned and cleaned["procedure"] not in Procedure.values:
        raise DomainError(_("招标方式无效。"))
    if "bid_scope" in cleaned and cleaned["bid_scope"] not in BidScope.values:
        raise DomainError(_("投标范围无效。"))
    if "accelerator" in cleaned:
        _check_accelerator(cleaned["accelerator"])
    if "evaluation_scheme" in cleaned and not isinstance(cleaned["evaluation_scheme"], dict):
        raise DomainError(_("评标办法格式错误。"))
    for name in ("bid_deadline", "documents_offer_end", "invitation_reply_deadline"):
        _require_aware(cleaned.get(name), Tender._meta.get_field(name).verbose_name)
    return cleaned


def _next_code(prefix: str) -> str:
    sequence, _created = CodeSequence.objects.select_for_update().get_or_create(prefix=prefix)
    while True:
        sequence.last += 1
        code = f"{prefix}{sequence.last:04d}"
        if not Tender.objects.filter(code=code).exists():
            sequence.save(update_fields=["last"])
            return code


def _scheme_errors(value) -> list[str]:
    return [_(error.template) % {k: _(v) if isinstance(v, str) else v for k, v in error.params.items()} if error.params else _(error.template) for error in scheme.validate(value)]


# Projects and tenders ----------------------------------------------------------------------------

def _check_mandate(agency: Organisation | None) -> None:
    """委托代理: the agency a tenderer mandates must be a verified, active agency."""
    if agency is not None and (agency.kind != OrganisationKind.AGENCY or not agency.can_act):
        raise DomainError(_("委托代理机构必须是已核验且未被暂停的招标代理机构。"))


@transaction.atomic
def project_create(
    *, by: Actor, tenderer: Organisation, code: str, name: str, location: str = "", approval_number: str = "",
    investment_fen: int | None = None, funding_source: str = "", agency: Organisation | None = None,
) -> Project:
    """A tenderer's own project, optionally mandating an agency (委托代理) to run its tenders."""
    require(by.user, "tendering.create_project", tenderer)
    if tenderer.kind != OrganisationKind.TENDERER or not tenderer.can_act:
        raise DomainError(_("招标人必须是已核验的招标人单位。"))
    _check_mandate(agency)
    code = _text(code, _("项目编号不能为空。"))
    name = _text(name, _("项目名称不能为空。"))
    if investment_fen is not None and not is_valid_fen(investment_fen):
        raise DomainError(_("总投资必须是不超过平台上限的非负整数（单位：分）。"))
    if Project.objects.filter(code=code).exists():
        raise DomainError(_("项目编号已存在。"), code="duplicate")
    project = Project.objects.create(
        tenderer=tenderer, agency=agency, code=code, name=name, location=location.strip(), approval_number=approval_number.strip(),
        investment_fen=investment_fen, funding_source=funding_source.strip(),
    )
    record_event(by=by, action="project.create", obj=project, payload={"code": code, "name": name, "tenderer": tenderer.pk, "agency": agency.pk if agency else None})
    return project


@transaction.atomic
def project_mandate(*, by: Actor, project: Project, agency: Organisation | None) -> Project:
    """The tenderer changes (or withdraws) the project's mandated agency. Tenders still being
    drafted follow the mandate; tenders already submitted or published keep the agency they had."""
    require(by.user, "tendering.create_project", project.tenderer)
    project = Project.objects.select_for_update().get(pk=project.pk)
    _check_mandate(agency)
    previous = project.agency_id
    project.agency = agency
    project.save(update_fields=["agency"])
    drafts = list(project.tenders.select_for_update().filter(state__in=EDITABLE_TENDER_STATES).values_list("pk", flat=True))
    Tender.objects.filter(pk__in=drafts).update(agency=agency)
    record_event(by=by, action="project.mandate", obj=project, payload={"from": previous, "to": agency.pk if agency else None, "tenders": drafts})
    return project


def _tender_agency(project: Project, agency: Organisation | None) -> Organisation | None:
    """A tender's agency is its project's mandated agency; naming any other is refused."""
    if agency is not None and agency.pk != project.agency_id:
        raise DomainError(_("招标代理必须是工程项目委托的代理机构。"))
    return project.agency


@transaction.atomic
def tender_create(
    *, by: Actor, project: Project, title: str, procedure: str = Procedure.OPEN, agency: Organisation | None = None,
    announcement: str = "", bid_scope: str = BidScope.SINGLE_LOT, bidder_requirements: str = "",
    bid_deadline: datetime | None = None, documents_offer_end: datetime | None = None,
    invitation_reply_deadline: datetime | None = None, accelerator: int = 1, evaluation_scheme: dict | None = None,
    lots: list[dict],
) -> Tender:
    """A draft tender with its lots numbered 1..n and a code "<region>-<year>-<seq>", by the
    project's tenderer or the agency it mandated; the tender's agency is the project's."""
    require(by.user, "tendering.create_tender", project)
    if not Organisation.objects.get(pk=project.tenderer_id).can_act:  # as stored now, not as cached
        raise NotAllowed(_("招标人单位未核验或已被暂停，不能创建招标项目。"))
    agency = _tender_agency(project, agency)
    fields = _check_tender_fields({
        "title": title, "procedure": procedure, "agency": agency, "announcement": (announcement or "").strip(),
        "bid_scope": bid_scope, "bidder_requirements": (bidder_requirements or "").strip(), "bid_deadline": bid_deadline,
        "documents_offer_end": documents_offer_end, "invitation_reply_deadline": invitation_reply_deadline,
        "accelerator": accelerator, "evaluation_scheme": scheme.default_scheme() if evaluation_scheme is None else evaluation_scheme,
    })
    lot_data = [_check_lot_data({key: value for key, value in lot.items()}) for lot in lots]
    if not lot_data:
        raise DomainError(_("招标项目至少需要一个标段。"))
    for lot in lot_data:
        if "name" not in lot:
            raise DomainError(_("标段名称不能为空。"))
    year = timezone.localtime(timezone.now()).year
    code = _next_code(f"{settings.PLATFORM_REGION_CODE}-{year}-")
    tender = Tender.objects.create(project=project, tenderer=project.tenderer, code=code, created_by_id=by.user_id, **fields)
    for number, lot in enumerate(lot_data, start=1):
        Lot.objects.create(tender=tender, number=number, **lot)
    record_event(
        by=by, action="tender.create", obj=tender, tender_id=tender.pk,
        payload={"code": code, "project": project.pk, **{k: _json(v) for k, v in fields.items()}, "lots": [{k: _json(v) for k, v in lot.items()} for lot in lot_data]},
    )
    return tender


def _editable(tender: Tender) -> None:
    if not tender.is_editable:
        raise IllegalTransition(_("招标项目已提交审核或已发布，不能修改。"))


@transaction.atomic
def tender_update(*, by: Actor, tender: Tender, **fields) -> Tender:
    """Edit a draft or returned tender (same field names as `tender_create`)."""
    require(by.user, "tendering.manage_tender", tender)
    tender = _lock_tender(tender)
    _editable(tender)
    cleaned = _check_tender_fields(fields)
    if "agency" in cleaned:
        cleaned["agency"] = _tender_agency(tender.project, cleaned["agency"])
    changed = {key: value for key, value in cleaned.items() if getattr(tender, key) != value}
    for key, value in changed.items():
        setattr(tender, key, value)
    tender.save()
    record_event(by=by, action="tender.update", obj=tender, tender_id=tender.pk, payload={k: _json(v) for k, v in changed.items()})
    return tender


@transaction.atomic
def lot_add(*, by: Actor, tender: Tender, name: str, description: str = "", maximum_price_fen: int | None) -> Lot:
    require(by.user, "tendering.manage_tender", tender)
    tender = _lock_tender(tender)
    _editable(tender)
    data = _check_lot_data({"name": name, "description": description, "maximum_price_fen": maximum_price_fen})
    number = (tender.lots.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    lot = Lot.objects.create(tender=tender, number=number, **data)
    record_event(by=by, action="lot.add", obj=lot, tender_id=tender.pk, payload={"number": number, **data})
    return lot


@transaction.atomic
def lot_update(*, by: Actor, lot: Lot, **fields) -> Lot:
    require(by.user, "tendering.manage_tender", lot.tender)
    _lock_tender(lot.tender)
    lot = _lock_lot(lot)
    _editable(lot.tender)
    data = _check_lot_data(fields)
    changed = {key: value for key, value in data.items() if getattr(lot, key) != value}
    for key, value in changed.items():
        setattr(lot, key, value)
    lot.save()
    record_event(by=by, action="lot.update", obj=lot, tender_id=lot.tender_id, payload=changed)
    return lot


# Documents ---------------------------------------------------------------------------------------

@transaction.atomic
def tender_document_upload(*, by: Actor, tender: Tender, title: str, uploaded_file, lot: Lot | None = None, clarification: Clarification | None = None) -> TenderDocument:
    """Store a file of the tender documents, hashed while streamed and signed by the platform.
    The same title again is its next version. After publication, files come only with a
    clarification or amendment."""
    require(by.user, "tendering.manage_tender", tender)
    tender = _lock_tender(tender)
    title = _text(title, _("文件名称不能为空。"))
    if clarification is not None and clarification.tender_id != tender.pk:
        raise DomainError(_("澄清文件不属于该招标项目。"))
    if lot is not None and lot.tender_id != tender.pk:
        raise DomainError(_("标段不属于该招标项目。"))
    if not tender.is_editable and not (tender.state == TenderState.PUBLISHED and clarification is not None):
        raise IllegalTransition(_("招标文件发布后只能随澄清或修改上传新文件。"))
    limit = settings.PLATFORM_MAX_DOCUMENT_BYTES
    declared = getattr(uploaded_file, "size", None)
    if declared is not None and declared > limit:
        raise DomainError(_("文件超过大小上限（%(limit)s 字节）。") % {"limit": limit}, code="too_large")
    digest, size = hashlib.sha256(), 0
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
        size += len(chunk)
        if size > limit:
            raise DomainError(_("文件超过大小上限（%(limit)s 字节）。") % {"limit": limit}, code="too_large")
    if size == 0:
        raise DomainError(_("文件为空。"))
    sha256 = digest.hexdigest()
    previous = TenderDocument.objects.filter(tender=tender, title=title).order_by("-version").first()
    version = previous.version + 1 if previous else 1
    document = TenderDocument(
        tender=tender, lot=lot, clarification=clarification, title=title, version=version, size=size, sha256=sha256,
        filename=os.path.basename(uploaded_file.name or title)[:255], uploaded_by_id=by.user_id,
    )
    statement = platform_key.document_statement(tender_code=tender.code, title=title, version=version, size=size, sha256=sha256)
    document.signature, document.signing_key_id = platform_key.sign(statement), platform_key.platform_key_id()
    uploaded_file.seek(0)
    document.file.save(document.filename, uploaded_file, save=False)
    document.save()
    if previous:
        TenderDocument.objects.filter(tender=tender, title=title, superseded_by__isnull=True).exclude(pk=document.pk).update(superseded_by=document)
    record_event(
        by=by, action="document.upload", obj=document, tender_id=tender.pk,
        payload={"title": title, "version": version, "size": size, "sha256": sha256, "signature": document.signature,
                 "key_id": document.signing_key_id, "lot": lot.pk if lot else None, "clarification": clarification.pk if clarification else None},
    )
    return document


@transaction.atomic
def document_download(*, by: Actor, document: TenderDocument) -> DocumentDownload:
    """Record who fetched which file, when and from where; the view then streams it."""
    require(by.user, "tendering.download_document", document)
    download = DocumentDownload.objects.create(
        document=document, organisation_id=by.organisation_id, user_id=by.user_id, downloaded_at=timezone.now(), ip=by.ip
    )
    record_event(by=by, action="document.download", obj=document, tender_id=document.tender_id, payload={"download": download.pk, "version": document.version, "sha256": document.sha256})
    return download


# Review and publication --------------------------------------------------------------------------

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


def _local_text(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


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


def _tender_url(tender: Tender) -> str:
    return reverse("tendering:detail", args=[tender.pk])


def _notify_registered(tender: Tender, subject: str, body: str = "") -> list[int]:
    """Every organisation that obtained the documents (and, for an invited tender, every invitee)."""
    recipients = set(tender.registrations.values_list("organisation_id", flat=True))
    recipients |= set(tender.invitations.exclude(status=InvitationStatus.DRAFT).values_list("organisation_id", flat=True))
    return notify(organisations=recipients, subject=subject, body=body, url=_tender_url(tender))


# Cancellation ------------------------------------------------------------------------------------

FINAL_LOT_STATES = (LotState.AWARDED, LotState.CONTRACTED, LotState.FAILED, LotState.CANCELLED)


@transaction.atomic
def tender_cancel(*, by: Actor, tender: Tender, reason: str) -> Tender:
    """终止: with a reason, from any state before award; lots already awarded, contracted or
    failed keep their state."""
    require(by.user, "tendering.cancel_tender", tender)
    reason = _text(reason, _("终止招标必须说明理由。"))
    tender = _lock_tender(tender)
    lots = list(tender.lots.select_for_update().order_by("number"))
    if lots and all(lot.state in FINAL_LOT_STATES for lot in lots) and any(lot.state in (LotState.AWARDED, LotState.CONTRACTED) for lot in lots):
        raise IllegalTransition(_("已定标的招标项目不能终止。"))
    now = timezone.now()
    tender.cancelled_reason, tender.cancelled_at = reason, now
    notified = _notify_registered(tender, _("招标项目已终止：%(code)s") % {"code": tender.code}, reason)
    fsm_transition(tender, "cancel", by=by, tender_id=tender.pk, payload={"reason": reason, "notified": notified})
    for lot in lots:
        if lot.state in CANCELLABLE_LOT_STATES:
            lot.state_reason, lot.state_changed_at = reason, now
            fsm_transition(lot, "cancel", by=by, tender_id=tender.pk, payload={"reason": reason})
    return tender


@transaction.atomic
def lot_cancel(*, by: Actor, lot: Lot, reason: str) -> Lot:
    """Cancel one lot; when no lot of the tender remains alive, the tender is cancelled too."""
    require(by.user, "tendering.cancel_tender", lot.tender)
    reason = _text(reason, _("终止标段必须说明理由。"))
    tender = _lock_tender(lot.tender)
    lot = _lock_lot(lot)
    lot.state_reason, lot.state_changed_at = reason, timezone.now()
    fsm_transition(lot, "cancel", by=by, tender_id=tender.pk, payload={"reason": reason})
    if tender.state != TenderState.CANCELLED and not tender.lots.exclude(state=LotState.CANCELLED).exists():
        tender.cancelled_reason, tender.cancelled_at = reason, timezone.now()
        fsm_transition(tender, "cancel", by=by, tender_id=tender.pk, payload={"reason": reason, "last_lot": lot.pk})
    return lot


# Lot transitions driven by the clock, the opening and objections ---------------------------------

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


def _resume_after_objections(by: Actor, tender: Tender) -> None:
    """R22: the tender is suspended while objections to the tender documents await their answer,
    and the bidders get that time back. When the last objection is answered, the lots the
    objections suspended (and only those) resume, and the bid deadline moves out by exactly the
    time they were suspended (from the first objection to now, calendar time, no working-day
    shift); the documents offer end moves by the same amount if it had not yet passed when the
    suspension began. The old and new dates go into the audit trail and every registered bidder
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


# Taking part: registration, clarifications, questions, objections -------------------------------

def _published(tender: Tender) -> None:
    if tender.state != TenderState.PUBLISHED:
        raise IllegalTransition(_("招标项目未发布或已终止。"))


def _before_deadline(tender: Tender, now: datetime) -> None:
    if tender.bid_deadline is None or now >= tender.bid_deadline:
        raise DeadlineError(_("投标截止时间已过。"))


def _registered(tender: Tender, organisation: Organisation) -> None:
    if not tender.registrations.filter(organisation=organisation).exists():
        raise NotAllowed(_("请先获取招标文件。"))


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
