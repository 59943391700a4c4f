"""Helpers and people shared by the bidder-key tests (no tests of its own): fresh P-256 keys as
JWK, one user per role, and a snapshot of everything a refused request must leave unchanged."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from accounts import services as accounts_services
from audit.models import AuditEvent
from bidding import keyfile, services
from bidding.models import BidderKey
from tests import factories
from tests.factories import actor, person

ROLES = ("bidder", "other_bidder", "tenderer", "agency", "centre", "regulator", "expert", "pending_bidder", "suspended_bidder")


def new_jwk(curve=None) -> dict:
    return keyfile.public_jwk(ec.generate_private_key(curve or ec.SECP256R1()).public_key())


def new_pair() -> dict:
    return {"decryption_jwk": new_jwk(), "signing_jwk": new_jwk()}


def register(user, **jwks):
    pair = {**new_pair(), **jwks}
    return services.bidder_key_register(by=actor(user), **pair)


def snapshot() -> tuple:
    """Every key as stored and the audit chain's length: a refusal changes neither."""
    keys = list(BidderKey.objects.order_by("pk").values())
    return keys, AuditEvent.objects.count()


def suspend(organisation):
    accounts_services.organisation_suspend(by=actor(factories.centre_reviewer()), organisation=organisation, reason="涉嫌违规")


@pytest.fixture
def people(db):
    """One user per role in ROLES. `suspended_bidder` registered keys before its suspension."""
    suspended = person("bidder")
    register(suspended)
    suspend(suspended.organisation)
    expert = accounts_services.user_create(
        by=actor(factories.centre_reviewer()), organisation=None, username="expert-keys", password=factories.PASSWORD, role="expert",
    )
    return {
        "bidder": person("bidder"),
        "other_bidder": person("bidder"),
        "tenderer": person("tenderer"),
        "agency": person("agency"),
        "centre": factories.centre_reviewer(),
        "regulator": person("regulator"),
        "expert": expert,
        "pending_bidder": person("bidder", status="pending"),
        "suspended_bidder": factories.admin_of(suspended.organisation),
    }
