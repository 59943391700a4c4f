"""Partners and cooperation agreements (远程异地评标合作框架协议), from centre staff and from partners.

Staff side: add a partner from its metadata (key fingerprint confirmed out of band), draft an
agreement, propose it (signed, sent as agreement.propose), accept a partner's proposal
(countersigned, sent back as agreement.accept), revoke (agreement.revoke). Partner side (called by
crossregion/handlers_agreement.py from the inbox): receive a proposal, a countersignature, a revocation.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from audit import platform_key
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from config.errors import DomainError, IllegalTransition
from crossregion import protocol
from crossregion.identity import own_key_id, own_party, own_region, partner_actor
from crossregion.models import Agreement, AgreementState, Partner
from crossregion.services import outbox

METADATA_PATH = "/.well-known/etender-platform.json"
METADATA_TIMEOUT_SECONDS = 10


# Partners ------------------------------------------------------------------------------------

def fetch_metadata(base_url: str) -> protocol.PlatformMetadata:
    """GET <base_url>/.well-known/etender-platform.json and check it (no database, no transaction)."""
    base_url = (base_url or "").strip().rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise DomainError(_("平台地址须以 http:// 或 https:// 开头。"), code="bad_url")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(base_url + METADATA_PATH, timeout=METADATA_TIMEOUT_SECONDS) as response:
            raw = response.read(64 * 1024)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DomainError(_("无法读取该平台的公开信息：%(error)s") % {"error": getattr(exc, "reason", exc)}, code="metadata_unreachable") from None
    try:
        return protocol.parse_metadata(raw)
    except protocol.ProtocolError as exc:
        raise DomainError(_("该平台的公开信息无效：%(error)s") % {"error": exc.detail}, code="metadata_invalid") from None


@transaction.atomic
def partner_add(*, by: Actor, base_url: str, metadata: protocol.PlatformMetadata, confirmed_key_id: str) -> Partner:
    """Register the platform at `base_url` as a partner. `confirmed_key_id` is the key id the staff
    member saw beside the fingerprint they confirmed; if the metadata now names another key, refuse."""
    require(by.user, "crossregion.manage")
    if confirmed_key_id != metadata.key_id:
        raise DomainError(_("该平台的密钥已变化，请重新核对指纹。"), code="key_changed")
    if metadata.region_code == own_region():
        raise DomainError(_("不能把本平台添加为合作平台。"), code="own_region")
    if Partner.objects.filter(region_code=metadata.region_code).exists():
        raise DomainError(_("地区代码 %(code)s 的平台已是合作平台。") % {"code": metadata.region_code}, code="partner_exists")
    partner = Partner.objects.create(
        region_code=metadata.region_code, name=metadata.region_name, base_url=base_url.strip().rstrip("/"),
        inbox_path=metadata.endpoints["inbox"], federated_login_path=metadata.endpoints["federated_login"],
        public_key=protocol.b64url_encode(metadata.public_key), key_id=metadata.key_id, added_by=by.user,
    )
    record_event(by=by, action="crossregion.partner_add", obj=partner, payload={
        "region_code": partner.region_code, "name": partner.name, "base_url": partner.base_url, "key_id": partner.key_id,
        "fingerprint": partner.fingerprint,
    })
    return partner


# Agreements (staff) --------------------------------------------------------------------------

def _from_document(doc: dict) -> dict:
    return {"valid_from": protocol.parse_time(doc["valid_from"]), "valid_until": protocol.parse_time(doc["valid_until"]), "scope": list(doc["scope"])}


@transaction.atomic
def agreement_draft(*, by: Actor, partner: Partner, scope: list[str], valid_from: datetime, valid_until: datetime, text: str) -> Agreement:
    require(by.user, "crossregion.manage", partner)
    partner_party = {"region_code": partner.region_code, "name": partner.name, "key_id": partner.key_id}
    try:
        doc = protocol.build_agreement(parties=[own_party(), partner_party], scope=scope, valid_from=valid_from,
                                       valid_until=valid_until, text=(text or "").strip())
    except protocol.Malformed as exc:
        raise DomainError(_("协议内容无效：%(error)s") % {"error": exc.detail}, code="agreement_invalid") from None
    if protocol.parse_time(doc["valid_until"]) <= timezone.now():
        raise DomainError(_("失效时间已过。"), code="agreement_expired")
    agreement = Agreement.objects.create(uuid=doc["id"], partner=partner, proposed_by_us=True, document=doc,
                                         created_by=by.user, **_from_document(doc))
    record_event(by=by, action="crossregion.agreement_draft", obj=agreement, payload={
        "agreement": doc["id"], "partner": partner.region_code, "scope": doc["scope"],
        "valid_from": doc["valid_from"], "valid_until": doc["valid_until"],
    })
    return agreement


def _lock(agreement: Agreement) -> Agreement:
    return Agreement.objects.select_for_update().select_related("partner").get(pk=agreement.pk)


def _payload(agreement: Agreement, **extra) -> dict:
    return {"agreement": str(agreement.uuid), "partner": agreement.partner.region_code,
            "sha256": protocol.body_hash(agreement.document), **extra}


@transaction.atomic
def agreement_propose(*, by: Actor, agreement: Agreement) -> Agreement:
    """Sign our draft and send it to the partner (agreement.propose)."""
    agreement = _lock(agreement)
    require(by.user, "crossregion.manage", agreement.partner)
    if not agreement.proposed_by_us:
        raise IllegalTransition(_("只能发出本平台起草的协议。"))
    if agreement.valid_until <= timezone.now():
        raise DomainError(_("失效时间已过。"), code="agreement_expired")
    agreement.own_signature = protocol.sign_agreement(agreement.document, platform_key.private_key())
    agreement.proposed_at = timezone.now()
    fsm_transition(agreement, "propose", by=by, payload=_payload(agreement))
    outbox.send(partner=agreement.partner, type="agreement.propose", idempotency_key=f"agreement:{agreement.uuid}:propose",
                body={"document": agreement.document, "signature": agreement.own_signature, "key_id": own_key_id()})
    return agreement


@transaction.atomic
def agreement_accept(*, by: Actor, agreement: Agreement) -> Agreement:
    """Countersign the partner's proposal and send the countersignature back (agreement.accept)."""
    agreement = _lock(agreement)
    require(by.user, "crossregion.manage", agreement.partner)
    if agreement.proposed_by_us:
        raise IllegalTransition(_("本平台起草的协议须由对方签署。"))
    if agreement.valid_until <= timezone.now():
        raise DomainError(_("失效时间已过。"), code="agreement_expired")
    _check_parties(agreement.document, agreement.partner)
    try:
        protocol.verify_agreement(agreement.document, agreement.partner_signature, agreement.partner.public_raw)
    except protocol.ProtocolError:
        raise DomainError(_("对方签名无法验证。"), code="bad_signature") from None
    agreement.own_signature = protocol.sign_agreement(agreement.document, platform_key.private_key())
    agreement.accepted_at = timezone.now()
    fsm_transition(agreement, "accept", by=by, payload=_payload(agreement))
    outbox.send(partner=agreement.partner, type="agreement.accept", idempotency_key=f"agreement:{agreement.uuid}:accept",
                body={"document": agreement.document, "signature": agreement.own_signature, "key_id": own_key_id()})
    return agreement


@transaction.atomic
def agreement_revoke(*, by: Actor, agreement: Agreement, reason: str) -> Agreement:
    """Revoke (or withdraw, or decline) an agreement; the partner is told unless it never saw it."""
    agreement = _lock(agreement)
    require(by.user, "crossregion.manage", agreement.partner)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写撤销原因。"), code="reason_required")
    known_to_partner = agreement.state != AgreementState.DRAFT
    agreement.revoked_at, agreement.revoked_by_us, agreement.revoke_reason = timezone.now(), True, reason
    fsm_transition(agreement, "revoke", by=by, payload=_payload(agreement, reason=reason))
    if known_to_partner:
        outbox.send(partner=agreement.partner, type="agreement.revoke", idempotency_key=f"agreement:{agreement.uuid}:revoke:{own_region()}",
                    body={"agreement": str(agreement.uuid), "reason": reason})
    return agreement


# Agreements (from the partner, through the inbox) --------------------------------------------

def _check_parties(doc: dict, partner: Partner) -> None:
    parties = {party["region_code"]: party for party in doc["parties"]}
    if set(parties) != {own_region(), partner.region_code}:
        raise DomainError(_("协议当事方不是本平台与发送方。"), code="wrong_parties")
    if parties[own_region()]["key_id"] != own_key_id() or parties[partner.region_code]["key_id"] != partner.key_id:
        raise DomainError(_("协议中的密钥标识与双方当前密钥不一致。"), code="wrong_keys")


def _document(body: dict) -> dict:
    try:
        return protocol.validate_agreement(body.get("document"))
    except protocol.Malformed as exc:
        raise DomainError(exc.detail, code="agreement_invalid") from None


def _verify_partner_signature(doc: dict, body: dict, partner: Partner) -> str:
    signature = body.get("signature")
    if body.get("key_id") != partner.key_id:
        raise DomainError(_("签名密钥不是对方的登记密钥。"), code="unknown_key")
    try:
        protocol.verify_agreement(doc, signature, partner.public_raw)
    except protocol.ProtocolError:
        raise DomainError(_("对方签名无法验证。"), code="bad_signature") from None
    return signature


def agreement_received(*, partner: Partner, body: dict) -> dict:
    """agreement.propose: store the partner's signed proposal for our centre staff to accept."""
    doc = _document(body)
    _check_parties(doc, partner)
    signature = _verify_partner_signature(doc, body, partner)
    if Agreement.objects.filter(uuid=doc["id"]).exists():
        raise DomainError(_("协议 %(id)s 已存在。") % {"id": doc["id"]}, code="agreement_exists")
    agreement = Agreement.objects.create(
        uuid=doc["id"], partner=partner, proposed_by_us=False, state=AgreementState.PROPOSED, document=doc,
        partner_signature=signature, proposed_at=timezone.now(), **_from_document(doc),
    )
    record_event(by=partner_actor(partner), action="crossregion.agreement_received", obj=agreement, payload=_payload(agreement))
    return {"agreement": doc["id"], "state": agreement.state}


def agreement_countersigned(*, partner: Partner, body: dict) -> dict:
    """agreement.accept: the partner countersigned our proposal; both signatures now stored."""
    doc = _document(body)
    agreement = Agreement.objects.select_for_update().filter(uuid=doc["id"], partner=partner).first()
    if agreement is None or not agreement.proposed_by_us:
        raise DomainError(_("没有本平台向对方发出的协议 %(id)s。") % {"id": doc["id"]}, code="agreement_unknown")
    if protocol.canonical_bytes(doc) != protocol.canonical_bytes(agreement.document):
        raise DomainError(_("对方签署的文本与本平台发出的不一致。"), code="document_mismatch")
    signature = _verify_partner_signature(doc, body, partner)
    if agreement.state != AgreementState.PROPOSED:
        raise IllegalTransition(_("协议当前状态为“%(state)s”，不能签署。") % {"state": agreement.get_state_display()})
    agreement.partner_signature, agreement.accepted_at = signature, timezone.now()
    fsm_transition(agreement, "accept", by=partner_actor(partner), payload=_payload(agreement))
    return {"agreement": doc["id"], "state": agreement.state}


def agreement_revoked(*, partner: Partner, body: dict) -> dict:
    """agreement.revoke: the partner revoked (or withdrew, or declined) an agreement with us."""
    try:
        agreement_id = str(uuid.UUID(str(body.get("agreement"))))
    except ValueError:
        raise DomainError("agreement: not a UUID", code="malformed") from None
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError(_("请填写撤销原因。"), code="reason_required")
    agreement = Agreement.objects.select_for_update().filter(uuid=agreement_id, partner=partner).first()
    if agreement is None:
        raise DomainError(_("没有与对方的协议 %(id)s。") % {"id": agreement_id}, code="agreement_unknown")
    if agreement.state != AgreementState.REVOKED:
        agreement.revoked_at, agreement.revoked_by_us, agreement.revoke_reason = timezone.now(), False, reason.strip()
        fsm_transition(agreement, "revoke", by=partner_actor(partner), payload=_payload(agreement, reason=reason.strip()))
    return {"agreement": agreement_id, "state": agreement.state}
