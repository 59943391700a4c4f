"""A published tender with a registered bidder holding registered keys, a controllable server clock,
API clients per role, and helpers that seal and upload: shared by the sealed-bid upload tests."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from rest_framework.test import APIClient

from accounts.services import api_token_create
from audit.actor import Actor
from bidding import keyfile, sealing, services
from bidding.models import Bid, BidUpload
from bidding.sealing import header as sealed
from tendering.models import TenderState
from tests import factories
from tests.factories import actor, person
from tests.tendering.conftest import START, Clock

UPLOADS = "/api/v1/bid-uploads/"
UA = "etender-bid-tool/1 (tests)"


@dataclass
class Keys:
    decryption: ec.EllipticCurvePrivateKey
    signing: ec.EllipticCurvePrivateKey


def new_keys() -> Keys:
    return Keys(ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1()))


def register_keys(user, keys: Keys):
    return services.bidder_key_register(
        by=actor(user), decryption_jwk=keyfile.public_jwk(keys.decryption.public_key()), signing_jwk=keyfile.public_jwk(keys.signing.public_key())
    )


def seal_bytes(plaintext: bytes, *, keys: Keys, binding: sealed.Binding, segment_size: int = 1024, signer=None, recipient=None) -> bytes:
    out = io.BytesIO()
    sealing.seal(
        io.BytesIO(plaintext),
        out,
        recipient_public_key=(recipient or keys.decryption).public_key(),
        signing_private_key=signer or keys.signing,
        binding=binding,
        segment_size=segment_size,
    )
    return out.getvalue()


def prefix_of(data: bytes) -> bytes:
    length = int.from_bytes(data[10:14], "big")
    return data[: sealed.PREAMBLE_SIZE + length + sealed.SIGNATURE_SIZE]


def api_for(user) -> APIClient:
    client = APIClient(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=UA)
    _, secret = api_token_create(by=Actor.from_user(user), user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


class World:
    def __init__(self, clock: Clock, owner_role: str = "tenderer"):
        self.clock = clock
        self.owner = person(owner_role)
        self.tender = factories.make_tender(self.owner, state=TenderState.PUBLISHED, lots=2)
        self.lot, self.other_lot = list(self.tender.lots.order_by("number"))
        self.bidder = factories.register_bidder(self.tender)
        self.keys = new_keys()
        register_keys(self.bidder, self.keys)
        self.client = api_for(self.bidder)

    def binding(self, lot=None, bidder=None) -> sealed.Binding:
        lot = lot or self.lot
        return sealed.Binding(tender=str(lot.tender_id), lot=str(lot.pk), bidder=str((bidder or self.bidder.organisation).pk))

    def seal(self, plaintext: bytes | None = None, **kwargs) -> bytes:
        kwargs.setdefault("keys", self.keys)
        kwargs.setdefault("binding", self.binding())
        return seal_bytes(plaintext if plaintext is not None else os.urandom(5000), **kwargs)

    def create(self, data: bytes, *, client=None, lot=None, size: int | None = None, prefix: bytes | None = None):
        import base64

        return (client or self.client).post(
            UPLOADS,
            {"lot": (lot or self.lot).pk, "size": len(data) if size is None else size, "header": base64.b64encode(prefix or prefix_of(data)).decode()},
            format="json",
        )

    def put(self, upload_id, data: bytes, start: int, end: int, *, client=None, total: int | None = None, body: bytes | None = None):
        return (client or self.client).put(
            f"{UPLOADS}{upload_id}/",
            data=data[start:end] if body is None else body,
            content_type="application/octet-stream",
            HTTP_CONTENT_RANGE=f"bytes {start}-{end - 1}/{len(data) if total is None else total}",
        )

    def finalise(self, upload_id, *, client=None):
        return (client or self.client).post(f"{UPLOADS}{upload_id}/finalise/")

    def send_all(self, data: bytes, *, client=None) -> str:
        created = self.create(data, client=client)
        assert created.status_code == 201, created.json()
        upload_id, chunk = created.json()["id"], created.json()["chunk_size"]
        for start in range(0, len(data), chunk):
            response = self.put(upload_id, data, start, min(start + chunk, len(data)), client=client)
            assert response.status_code == 200, response.json()
        return upload_id

    def submit(self, data: bytes | None = None, **kwargs) -> dict:
        upload_id = self.send_all(data if data is not None else self.seal(), **kwargs)
        response = self.finalise(upload_id)
        assert response.status_code == 201, response.json()
        return response.json()

    def in_force(self):
        return Bid.objects.filter(lot=self.lot, bidder=self.bidder.organisation, status="received").first()

    def state(self) -> tuple:
        """What a refusal must leave as it was: the bids and the accepted uploads."""
        return (
            list(Bid.objects.order_by("pk").values_list("pk", "status", "version", "sha256")),
            list(BidUpload.objects.filter(status="accepted").order_by("pk").values_list("pk", "bid_id")),
        )


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    fake = Clock(START)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def world(db, clock, settings):
    settings.PLATFORM_BID_CHUNK_BYTES = 4096
    return World(clock)
