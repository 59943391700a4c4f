"""A lot in evaluation, built fast: a published tender whose lot is moved straight to
`evaluating` with N bids already opened (prices read), an expert pool with sign-in accounts and
signing keys, and (`seated`) a panel drawn and its session created. The opening itself is tested
in tests/opening; here only its outcome matters. Shared by the evaluation tests; no tests of its own.

    world = EvaluationWorld(clock, bidders=4)
    session = world.seated(experts=5)          # a 5-member panel of drawn experts, session in check-in
"""

from __future__ import annotations

import itertools
import secrets
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from accounts.models import User
from audit.actor import Actor
from bidding import keyfile, services as bidding_services
from bidding.capital_numerals import to_capital
from bidding.models import Bid
from evaluation.models import Drawing, DrawingState, EvaluationSession, Expert, MemberKind, PanelMember
from evaluation.services.session import create_session
from opening.models import BidOpening, DecryptionStatus, OpeningSession, SessionState as OpeningState
from tendering.models import Lot, LotState, TenderState
from tests import factories
from tests.factories import PASSWORD, actor, admin_of, person
from tests.tendering.conftest import START, Clock

SYSTEM = Actor.system("tests")
_serial = itertools.count(1)


class WorldBidder:
    def __init__(self, user, signing, price_fen, bid):
        self.user, self.signing, self.price_fen, self.bid = user, signing, price_fen, bid

    @property
    def organisation(self):
        return self.user.organisation


def make_expert(*, specialties=("A08",), employer_credit_code: str = "", name: str | None = None, with_user: bool = True) -> Expert:
    number = next(_serial)
    user = None
    if with_user:
        user = User.objects.create_user(username=f"expert{number}-{secrets.token_hex(2)}", password=PASSWORD, role="expert",
                                        display_name=name or f"专家{number}")
    return Expert.objects.create(
        user=user, name=name or f"专家{number}", certificate_number=f"GD-EXP-{number:05d}-{secrets.token_hex(2)}",
        specialties=list(specialties), title="高级工程师", years_of_practice=10 + number % 20,
        employer_name=f"某设计院{number}", employer_credit_code=employer_credit_code,
    )


class EvaluationWorld:
    def __init__(self, clock: Clock, *, bidders: int = 4, prices: list[int] | None = None):
        self.clock = clock
        self.host = person("agency")
        self.tender = factories.make_tender(self.host, state=TenderState.PUBLISHED)
        self.lot = self.tender.lots.get()
        self.tenderer = admin_of(self.tender.tenderer)
        self.centre = factories.centre_reviewer()
        self.regulator = person("regulator")
        prices = prices or [90_000_000 + 1_000_000 * n for n in range(bidders)]
        registered = [factories.register_bidder(self.tender) for _ in prices[:bidders]]
        self.clock.set(self.tender.bid_deadline + timedelta(minutes=1))
        opening = OpeningSession.objects.create(lot=self.lot, state=OpeningState.FINISHED, opened_at=self.tender.bid_deadline,
                                                finished_at=timezone.now())
        self.bidders: list[WorldBidder] = []
        for user, price in zip(registered, prices):
            signing = ec.generate_private_key(ec.SECP256R1())
            decryption = ec.generate_private_key(ec.SECP256R1())
            bidding_services.bidder_key_register(by=actor(user), decryption_jwk=keyfile.public_jwk(decryption.public_key()),
                                                 signing_jwk=keyfile.public_jwk(signing.public_key()))
            bid = Bid.objects.create(lot=self.lot, bidder=user.organisation, received_at=self.tender.bid_deadline - timedelta(days=1),
                                     submitted_by=user, size=1024, sha256="0" * 64, ciphertext_sha256="1" * 64)
            BidOpening.objects.create(session=opening, bid=bid, status=DecryptionStatus.OPENED, price_fen=price,
                                      price_in_words=to_capital(price), price_in_words_fen=price, duration_days=365,
                                      quality="合格", project_manager="张工", project_manager_certificate=f"粤144{next(_serial):09d}",
                                      read_at=timezone.now())
            self.bidders.append(WorldBidder(user, signing, price, bid))
        Lot.objects.filter(pk=self.lot.pk).update(state=LotState.EVALUATING)
        self.lot.refresh_from_db()
        self.opening = opening

    def pool(self, count: int, *, specialties=("A08",)) -> list[Expert]:
        return [make_expert(specialties=specialties) for _ in range(count)]

    def seated(self, *, experts: int = 5, representatives: int = 0, starts_in: timedelta = timedelta(0),
               length: timedelta = timedelta(hours=8)) -> EvaluationSession:
        """A panel of `experts` drawn experts (plus tenderer representatives), written directly (the
        drawing itself is tested in test_drawing*.py), and the lot's session in check-in."""
        starts = timezone.now() + starts_in
        seed = secrets.token_bytes(32)
        drawing = Drawing.objects.create(
            lot=self.lot, state=DrawingState.DRAWN, session_starts_at=starts, session_ends_at=starts + length,
            slots=[{"specialty": "A08", "count": experts}], tenderer_representatives=representatives,
            seed_commitment=__import__("hashlib").sha256(seed).hexdigest(), seed_hex=seed.hex(),
            requested_by=self.centre, requested_at=timezone.now(), drawn_at=timezone.now(),
        )
        self.experts = self.pool(experts)
        self.members = []
        for seat, expert in enumerate(self.experts, start=1):
            self.members.append(PanelMember.objects.create(drawing=drawing, kind=MemberKind.EXPERT, expert=expert, user=expert.user,
                                                           specialty="A08", seat=seat))
        for n in range(representatives):
            user = factories.make_user(self.tender.tenderer)
            self.members.append(PanelMember.objects.create(drawing=drawing, kind=MemberKind.REPRESENTATIVE, user=user,
                                                           seat=experts + n + 1))
        self.session = create_session(by=SYSTEM, drawing=drawing)
        return self.session

    def spare_expert(self, **kwargs) -> Expert:
        return make_expert(**kwargs)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(START)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def eval_world(db, clock):
    return EvaluationWorld(clock)
