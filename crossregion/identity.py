"""This platform's own identity in the protocol: region, key, metadata, and the system actor that
stands for a partner in our audit trail."""

from __future__ import annotations

from django.conf import settings

from audit import platform_key
from audit.actor import Actor
from crossregion import protocol


def own_region() -> str:
    return settings.PLATFORM_REGION_CODE


def own_name() -> str:
    return str(settings.PLATFORM_REGION_NAME)


def own_key_id() -> str:
    return platform_key.platform_key_id()


def own_party() -> dict:
    return {"region_code": own_region(), "name": own_name(), "key_id": own_key_id()}


def metadata() -> dict:
    """The document served at /.well-known/etender-platform.json."""
    return protocol.build_metadata(
        region_code=own_region(), region_name=own_name(), base_url=settings.PLATFORM_BASE_URL,
        public_raw=platform_key.public_key_bytes(),
    )


def sign_document(doc: dict) -> dict:
    """{"document", "signature", "key_id"} signed with this platform's key (protocol.sign_document)."""
    return protocol.sign_document(doc, platform_key.private_key())


def verify_partner_document(signed: dict, partner) -> dict:
    """The document of a partner's signed result, or protocol.Malformed / BadSignature."""
    return protocol.verify_document(signed, partner.public_raw)


def partner_actor(partner) -> Actor:
    """Who acted, in our audit trail, when a partner's signed message changed something here."""
    return Actor.system(f"partner:{partner.region_code}")


OUTBOX_ACTOR_NAME = "crossregion-outbox"
