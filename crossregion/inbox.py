"""The inbox: every check of docs/cross-region.md, in order, then the handler in one transaction.

Each refusal is {"ok": false, "code", "detail"} with its HTTP status and changes nothing:

    malformed 400 · too_large 413 · wrong_recipient 400 · unknown_sender 401 · unknown_key 401 ·
    bad_signature 401 · stale 401 · replayed 409 · no_agreement 403 · idempotency_conflict 409 ·
    unknown_type 400 · (a handler's refusal) 422 with the handler's code

A repeated idempotency key with the same type and body returns the stored response (200) and does
not act again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record_event
from config.errors import DomainError
from crossregion import handlers, protocol
from crossregion.identity import own_region, partner_actor
from crossregion.models import InboundMessage, Partner
from crossregion.selectors import valid_agreement

logger = logging.getLogger(__name__)


def refuse(code: str, status: int, detail: str):
    return protocol.ProtocolError(detail, code=code, status=status)


def _seen(partner: Partner, envelope: dict) -> tuple[int, dict] | None:
    """The answer to a nonce or idempotency key already seen from `partner`, else None."""
    if InboundMessage.objects.filter(partner=partner, nonce=envelope["nonce"]).exists():
        raise refuse("replayed", 409, f"nonce {envelope['nonce']} already received from {partner.region_code}")
    earlier = InboundMessage.objects.filter(partner=partner, idempotency_key=envelope["idempotency_key"]).first()
    if earlier is None:
        return None
    if earlier.type == envelope["type"] and earlier.body_hash == protocol.body_hash(envelope["body"]):
        return 200, earlier.response
    raise refuse("idempotency_conflict", 409, f"idempotency_key {envelope['idempotency_key']} was used for another message")


def receive(raw: bytes, *, now: datetime | None = None) -> tuple[int, dict]:
    """(HTTP status, JSON answer) for one request body."""
    now = now or timezone.now()
    try:
        return _receive(raw, now)
    except protocol.ProtocolError as exc:
        logger.info("cross-region inbox refused a message: %s %s", exc.code, exc.detail)
        return exc.status, exc.as_response()
    except DomainError as exc:
        return 422, {"ok": False, "code": exc.code, "detail": str(exc.message)}


def _receive(raw: bytes, now: datetime) -> tuple[int, dict]:
    envelope, signature = protocol.parse_wire(raw)
    if len(raw) > protocol.size_limit(envelope["type"]):
        raise protocol.TooLarge(f"{len(raw)} bytes; the limit for {envelope['type']} is {protocol.size_limit(envelope['type'])}")
    if envelope["to"] != own_region():
        raise refuse("wrong_recipient", 400, f"addressed to {envelope['to']}; this platform is {own_region()}")
    partner = Partner.objects.filter(region_code=envelope["from"]).first()
    if partner is None:
        raise refuse("unknown_sender", 401, f"{envelope['from']} is not a partner of this platform")
    if envelope["key_id"] != partner.key_id:
        raise refuse("unknown_key", 401, f"key {envelope['key_id']} is not the registered key of {partner.region_code}")
    protocol.verify_envelope(envelope, signature, partner.public_raw)
    protocol.check_fresh(envelope, now)
    area = protocol.area_of(envelope["type"])
    agreement = None
    if area != "agreement":
        agreement = valid_agreement(partner, area=area, now=now)
        if agreement is None:
            raise refuse("no_agreement", 403, f"no valid agreement with {partner.region_code} covers {area}")
    answer = _seen(partner, envelope)
    if answer is not None:
        return answer
    handler = handlers.handler_for(envelope["type"])
    if handler is None:
        raise refuse("unknown_type", 400, f"this platform does not handle {envelope['type']}")
    try:
        return 200, _act(partner, envelope, signature, agreement, handler, now)
    except IntegrityError:
        # The same nonce or idempotency key committed meanwhile by a concurrent request.
        answer = _seen(partner, envelope)
        if answer is not None:
            return answer
        raise


@transaction.atomic
def _act(partner, envelope, signature, agreement, handler, now) -> dict:
    message = InboundMessage.objects.create(
        partner=partner, type=envelope["type"], nonce=envelope["nonce"], idempotency_key=envelope["idempotency_key"],
        sent_at=protocol.parse_time(envelope["sent_at"]), received_at=now, envelope=envelope, signature=signature,
        body_hash=protocol.body_hash(envelope["body"]), agreement=agreement,
    )
    result = handler(partner=partner, envelope=envelope, message=message)
    response = {"ok": True, "result": result if result is not None else {}}
    protocol.canonical_bytes(response)
    message.response = response
    message.save(update_fields=["response"])
    record_event(by=partner_actor(partner), action="crossregion.message_received", obj=message, payload={
        "type": envelope["type"], "from": partner.region_code, "nonce": envelope["nonce"],
        "idempotency_key": envelope["idempotency_key"], "sent_at": envelope["sent_at"], "body_sha256": message.body_hash,
        "agreement": str(agreement.uuid) if agreement else None,
    })
    return response
