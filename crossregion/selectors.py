"""Reads of the cross-region app."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from crossregion import protocol
from crossregion.identity import own_region
from crossregion.models import Agreement, AgreementState, InboundMessage, OutboundMessage, Partner


def signatures_verify(agreement: Agreement) -> bool:
    """Both signatures verify over the document, under the keys the document names (which are the
    current keys of this platform and of the partner)."""
    from audit import platform_key

    try:
        own_raw = platform_key.public_key_bytes()
        protocol.verify_agreement(agreement.document, agreement.own_signature, own_raw)
        protocol.verify_agreement(agreement.document, agreement.partner_signature, agreement.partner.public_raw)
    except protocol.ProtocolError:
        return False
    key_ids = {party["region_code"]: party["key_id"] for party in agreement.document["parties"]}
    return key_ids.get(own_region()) == protocol.key_id(own_raw) and key_ids.get(agreement.partner.region_code) == agreement.partner.key_id


def is_valid(agreement: Agreement, now: datetime | None = None) -> bool:
    """In force: both platforms signed, not revoked, now within [valid_from, valid_until)."""
    now = now or timezone.now()
    return (
        agreement.state == AgreementState.ACTIVE
        and agreement.valid_from <= now < agreement.valid_until
        and signatures_verify(agreement)
    )


def validity_label(agreement: Agreement, now: datetime | None = None) -> str:
    """"valid", "not_yet", "expired", or the state when not active (for pages)."""
    now = now or timezone.now()
    if agreement.state != AgreementState.ACTIVE:
        return agreement.state
    if now < agreement.valid_from:
        return "not_yet"
    if now >= agreement.valid_until:
        return "expired"
    return "valid" if signatures_verify(agreement) else "bad_signature"


def valid_agreement(partner: Partner, *, area: str | None = None, now: datetime | None = None) -> Agreement | None:
    """The agreement with `partner` in force at `now` whose scope covers `area` (any, if None)."""
    now = now or timezone.now()
    candidates = Agreement.objects.filter(
        partner=partner, state=AgreementState.ACTIVE, valid_from__lte=now, valid_until__gt=now
    ).select_related("partner").order_by("-accepted_at", "-pk")
    for agreement in candidates:
        if (area is None or area in agreement.scope) and signatures_verify(agreement):
            return agreement
    return None


def partners():
    return Partner.objects.all()


def message_log(partner: Partner, limit: int = 100) -> tuple[list[InboundMessage], list[OutboundMessage]]:
    return (list(partner.inbound.all()[:limit]), list(partner.outbound.all()[:limit]))
