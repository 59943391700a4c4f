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


def partner_actor(partner) -> Actor:
    """Who acted, in our audit trail, when a partner's signed message changed something here."""
    return Actor.system(f"partner:{partner.region_code}")


OUTBOX_ACTOR_NAME = "crossregion-outbox"
