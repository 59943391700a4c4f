"""A host (Dongguan, this process) with lots in evaluation whose panels have away seats filled by
the partner (Zhongshan, simulated by tests/crossregion/conftest.py's key), and the away expert's
shadow account signed in the way crossregion/views_federation.py does. Shared by
tests/crossregion/test_federation_*.py; no tests of its own."""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User
from bidding import keyfile
from crossregion import protocol
from crossregion.confinement import SESSION_LOT_KEY
from crossregion.models import FederatedIdentity
from evaluation.models import PanelMember

from .conftest import OWN, PARTNER, ZS_KEY


def away_expert_id() -> str:
    return str(__import__("uuid").uuid4())


def make_away(member: PanelMember, *, expert_id: str | None = None, jwk: dict | None = None) -> PanelMember:
    """Turn a seat of the world's panel into an away seat filled by the partner's assignment (as the
    booking + partner drawing area creates it): no host expert, no user yet, the remote id."""
    member.venue, member.expert, member.user = "away", None, None
    member.remote_region, member.remote_expert_id, member.remote_public_jwk = PARTNER, expert_id or away_expert_id(), jwk or {}
    fields = ["venue", "expert", "user", "remote_region", "remote_expert_id", "remote_public_jwk"]
    member.save(update_fields=fields)
    return member


def signing_key():
    private = ec.generate_private_key(ec.SECP256R1())
    return private, keyfile.public_jwk(private.public_key())


def shadow(partner, expert_id: str | None = None) -> User:
    """A shadow account as the federated sign-in creates it."""
    expert_id = expert_id or away_expert_id()
    user = User(username=f"fed-{partner.region_code}-{secrets.token_hex(8)}", role=Role.EXPERT, display_name="Zhongshan expert")
    user.set_unusable_password()
    user.save()
    FederatedIdentity.objects.create(user=user, partner=partner, remote_expert_id=expert_id)
    return user


def confined_client(user, lot_id: int | None) -> Client:
    """A browser signed in as `user`, confined to `lot_id` (what the federated sign-in stores)."""
    client = Client()
    client.force_login(user)
    if lot_id is not None:
        session = client.session
        session[SESSION_LOT_KEY] = lot_id
        session.save()
    return client


def token(*, sub: str, session, key=ZS_KEY, iss=PARTNER, aud=OWN, issued_at=None, lifetime=300) -> str:
    payload = protocol.build_token_payload(iss=iss, aud=aud, sub=sub, session=session, issued_at=issued_at or timezone.now(),
                                           lifetime=lifetime)
    return protocol.sign_token(payload, key)
