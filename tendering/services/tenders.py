"""Tenders while they are prepared: create and edit them and their lots, upload the tender
documents, and cancel a tender or one lot.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.permissions import require
from audit import platform_key
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from config.errors import DomainError, IllegalTransition, NotAllowed
from tendering import award_method as award_methods
from tendering import periods, scheme
from tendering.models import (
    CANCELLABLE_LOT_STATES,
    AwardMethod,
    BidScope,
    Clarification,
    CodeSequence,
    Lot,
    LotState,
    Procedure,
    Project,
    Tender,
    TenderDocument,
    TenderState,
)
from tendering.money import is_valid_fen
from tendering.services._common import _editable, _json, _lock_lot, _lock_tender, _notify_registered, _require_aware, _text

TENDER_FIELDS = (
    "title", "procedure", "agency", "announcement", "bid_scope", "bidder_requirements", "bid_deadline",
    "documents_offer_end", "invitation_reply_deadline", "accelerator", "evaluation_scheme", "state_funded", "award_method",
)
LOT_FIELDS = ("name", "description", "maximum_price_fen")


def _check_accelerator(accelerator) -> int:
    if isinstance(accelerator, bool) or not isinstance(accelerator, int) or not 1 <= accelerator <= periods.MAX_ACCELERATOR:
        raise DomainError(_("加速倍数必须是1至%(max)s之间的整数。") % {"max": periods.MAX_ACCELERATOR})
    if accelerator > 1 and not settings.PLATFORM_SANDBOX:
        raise DomainError(_("本平台不是沙箱环境，不能使用加速倍数；正式项目的法定期限不可缩短。"), code="sandbox_only")
    return accelerator


def _check_award_setting(state_funded: bool, method: str) -> None:
    """R55: the award method is fixed in the tender; a state-funded tender awards the first candidate."""
    try:
        award_methods.check_method(method, state_funded=state_funded)
    except award_methods.AwardMethodError as exc:
        raise DomainError(_(exc.template) % exc.params if exc.params else _(exc.template), code="award_method") from None


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
    if "state_funded" in cleaned and not isinstance(cleaned["state_funded"], bool):
        raise DomainError(_("“国有资金占控股或主导地位”必须是是或否。"))
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
    state_funded: bool = True, award_method: str = AwardMethod.FIRST_CANDIDATE, lots: list[dict],
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
        "state_funded": state_funded, "award_method": award_method,
    })
    _check_award_setting(fields["state_funded"], fields["award_method"])
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


@transaction.atomic
def tender_update(*, by: Actor, tender: Tender, **fields) -> Tender:
    """Edit a draft or returned tender (same field names as `tender_create`)."""
    require(by.user, "tendering.manage_tender", tender)
    tender = _lock_tender(tender)
    _editable(tender)
    cleaned = _check_tender_fields(fields)
    if "agency" in cleaned:
        cleaned["agency"] = _tender_agency(tender.project, cleaned["agency"])
    _check_award_setting(cleaned.get("state_funded", tender.state_funded), cleaned.get("award_method", tender.award_method))
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
