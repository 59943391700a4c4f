"""A lot at its opening: a published tender (hosted by an agency) with several bidders, each with
its own keys and a real sealed bid (a bid package made by bidding.bidpack, sealed with
bidding.sealing, submitted through the upload services), and a controllable server clock. Shared
by the opening tests; no tests of its own."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bidding import bidpack, keyfile, sealing, services as bidding_services
from bidding.capital_numerals import to_capital
from bidding.models import Bid
from bidding.sealing import header as sealed
from opening.models import OpeningSession
from tendering import chronograph
from tendering.models import TenderState
from tests import factories
from tests.factories import actor, admin_of, person
from tests.tendering.conftest import START, Clock


@dataclass
class Bidder:
    user: object
    decryption: ec.EllipticCurvePrivateKey
    signing: ec.EllipticCurvePrivateKey
    price_fen: int
    sealed: bytes = b""
    package: bytes = b""
    bid: Bid | None = None

    @property
    def organisation(self):
        return self.user.organisation

    def data_key(self) -> bytes:
        header, _ = sealing.read_header(io.BytesIO(self.sealed))
        return sealing.unwrap_data_key(header, self.decryption)


def make_package(*, tender_id: int, lot_id: int, credit_code: str, price_fen: int, documents: dict[str, bytes] | None = None,
                 price_capital: str | None = None) -> bytes:
    documents = documents or {"技术标/施工组织设计.pdf": b"%PDF-1.7 plan", "商务标/报价清单.xlsx": b"PK price list"}
    with tempfile.TemporaryDirectory() as folder:
        for name, content in documents.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        summary = {
            "tender": str(tender_id),
            "lot": str(lot_id),
            "bidder": credit_code,
            "price_fen": price_fen,
            "price_capital": price_capital or to_capital(price_fen),
            "duration_days": 365,
            "quality": "合格",
            "project_manager": {"name": "张工", "certificate": "粤144000000001"},
        }
        out = io.BytesIO()
        bidpack.pack(Path(folder), summary, out)
        return out.getvalue()


def seal_package(package: bytes, *, bidder: Bidder, binding: sealed.Binding, segment_size: int = 1 << 16) -> bytes:
    out = io.BytesIO()
    sealing.seal(io.BytesIO(package), out, recipient_public_key=bidder.decryption.public_key(),
                 signing_private_key=bidder.signing, binding=binding, segment_size=segment_size)
    return out.getvalue()


def submit(bidder: Bidder, lot, sealed_bytes: bytes) -> Bid:
    by = actor(bidder.user)
    length = int.from_bytes(sealed_bytes[10:14], "big")
    prefix = sealed_bytes[: 14 + length + 64]
    upload, _ = bidding_services.bid_upload_create(by=by, lot=lot, size=len(sealed_bytes), header_prefix=prefix)
    for start in range(0, len(sealed_bytes), upload.chunk_size):
        chunk = sealed_bytes[start : start + upload.chunk_size]
        bidding_services.bid_upload_put_chunk(by=by, upload=upload, content_range=f"bytes {start}-{start + len(chunk) - 1}/{len(sealed_bytes)}",
                                              body=io.BytesIO(chunk), declared_length=len(chunk))
    bid, _ = bidding_services.bid_upload_finalise(by=by, upload=upload)
    return bid


class OpeningWorld:
    """`bidders` bidders with sealed bids; `opened()` moves the clock past the deadline and lets the
    chronograph open the room."""

    def __init__(self, clock: Clock, *, bidders: int = 4, prices: list[int] | None = None):
        self.clock = clock
        self.host = person("agency")
        self.tender = factories.make_tender(self.host, state=TenderState.PUBLISHED)
        self.lot = self.tender.lots.get()
        self.tenderer = admin_of(self.tender.tenderer)
        self.centre = factories.centre_reviewer()
        self.regulator = person("regulator")
        prices = prices or [98_765_432_10 + 1_000_00 * n for n in range(bidders)]
        self.bidders: list[Bidder] = []
        for price in prices[:bidders]:
            user = factories.register_bidder(self.tender)
            bidder = Bidder(user, ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1()), price)
            bidding_services.bidder_key_register(by=actor(user), decryption_jwk=keyfile.public_jwk(bidder.decryption.public_key()),
                                                 signing_jwk=keyfile.public_jwk(bidder.signing.public_key()))
            bidder.package = make_package(tender_id=self.tender.pk, lot_id=self.lot.pk, credit_code=user.organisation.credit_code, price_fen=price)
            bidder.sealed = seal_package(bidder.package, bidder=bidder, binding=self.binding(bidder))
            bidder.bid = submit(bidder, self.lot, bidder.sealed)
            self.bidders.append(bidder)

    def binding(self, bidder: Bidder) -> sealed.Binding:
        return sealed.Binding(tender=str(self.tender.pk), lot=str(self.lot.pk), bidder=str(bidder.organisation.pk))

    def opened(self) -> OpeningSession:
        self.clock.set(self.tender.bid_deadline)
        chronograph.tick()
        return OpeningSession.objects.get(lot=self.lot)


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    fake = Clock(START)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def dummy_tasks(settings):
    """Background jobs are recorded but not run (tests that run them use `immediate_tasks`)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world(db, clock, dummy_tasks):
    return OpeningWorld(clock)
