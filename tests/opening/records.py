"""Shortcuts for the record tests: an opening whose decryption has ended, without the decryption
worker (the BidOpening rows are filled in as the worker would), and a published record. Shared by
tests/opening/test_record.py and test_objections.py; other opening tests may use `publish_record`
to end an opening."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from bidding.capital_numerals import to_capital
from opening import record_signing, services
from opening.models import BidOpening, DecryptionStatus, FailureSide, OpeningSession
from tests.factories import actor

FAILURE_DETAIL = "解密后的投标文件哈希与密封头不符"


def started(world, checked_in: int = 4) -> OpeningSession:
    session = world.opened()
    for bidder in world.bidders[:checked_in]:
        services.opening_check_in(by=actor(bidder.user), session=session)
    return services.opening_start_decryption(by=actor(world.host), session=session)


def opening_of(bidder) -> BidOpening:
    return BidOpening.objects.get(bid=bidder.bid)


def read_prices(world, *, failed: int | None = None, mismatch: int | None = None) -> None:
    """Fill in each bid as the decryption worker does after reading bid.json: bidder `failed`
    (index) failed for a reason not on its side, bidder `mismatch` wrote words that differ from
    its figures (P19)."""
    now = timezone.now()
    for index, bidder in enumerate(world.bidders):
        opening = opening_of(bidder)
        if index == failed:
            opening.status = DecryptionStatus.FAILED
            opening.failure_side = FailureSide.OTHER
            opening.failure_code = "plaintext_hash"
            opening.failure_detail = FAILURE_DETAIL
        else:
            words_fen = bidder.price_fen + 100_00 if index == mismatch else bidder.price_fen
            opening.status = DecryptionStatus.OPENED
            opening.price_fen = bidder.price_fen
            opening.price_in_words = to_capital(words_fen)
            opening.price_in_words_fen = words_fen
            opening.price_mismatch = words_fen != bidder.price_fen
            opening.duration_days = 365
            opening.quality = "合格"
            opening.project_manager = f"项目经理{index + 1}"
            opening.project_manager_certificate = f"粤14400000000{index + 1}"
            opening.read_at = now
            opening.decrypted_at = now
        opening.save()


def end_decryption(session: OpeningSession) -> OpeningSession:
    with transaction.atomic():
        locked = OpeningSession.objects.select_for_update().select_related("lot__tender").get(pk=session.pk)
        assert services.maybe_end_decryption(by=Actor.system("test"), session=locked)
    session.refresh_from_db()
    return session


def decrypted(world, *, checked_in: int = 4, failed: int | None = None, mismatch: int | None = None) -> OpeningSession:
    session = started(world, checked_in)
    read_prices(world, failed=failed, mismatch=mismatch)
    return end_decryption(session)


def publish_record(world, session: OpeningSession):
    """Draft the record, let every bidder present sign it with its own key, publish it."""
    record = services.opening_record_draft(by=actor(world.host), session=session)
    present = set(session.checkins.values_list("organisation_id", flat=True))
    for bidder in world.bidders:
        if bidder.organisation.pk in present:
            signature = record_signing.sign(bidder.signing, record.statement_sha256)
            services.opening_record_confirm(by=actor(bidder.user), session=session, signature=signature)
    return services.opening_record_publish(by=actor(world.host), session=session)
