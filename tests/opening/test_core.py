"""The opening's main line (opening/services/core.py): the room opens at the deadline with 3 or more
bids, bidders check in, the host starts decryption only with 3 checked in, keys are taken only in
the window and only the right ones, unreleased bids fail as the bidder's doing (E31), and the
opening ends to evaluation or, with too few valid bids, to failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from bidding.models import Bid
from config.errors import DomainError
from opening import services
from opening.models import BidOpening, DecryptionStatus, OpeningSession, RoomEvent, SessionState
from tendering import chronograph
from tendering.models import LotState
from tests.factories import actor

from .world import OpeningWorld, clock, dummy_tasks, world  # noqa: F401

pytestmark = pytest.mark.django_db


def check_in_all(world, session, count=None):
    for bidder in world.bidders[:count]:
        services.opening_check_in(by=actor(bidder.user), session=session)


def test_the_room_opens_at_the_deadline_with_every_bid_in_force(world):
    world.clock.set(world.tender.bid_deadline - timedelta(seconds=1))
    chronograph.tick()
    assert not OpeningSession.objects.exists()
    session = world.opened()
    world.lot.refresh_from_db()
    assert world.lot.state == LotState.OPENING and session.state == SessionState.CHECKIN
    assert session.opened_at == world.tender.bid_deadline
    assert sorted(session.bids.values_list("bid_id", flat=True)) == sorted(b.bid.pk for b in world.bidders)
    assert RoomEvent.objects.get(room=session.room, seq=1).kind == "opened"


def test_fewer_than_three_bids_fail_the_lot_without_an_opening(db, clock, dummy_tasks):  # noqa: F811
    small = OpeningWorld(clock, bidders=2)
    small.clock.set(small.tender.bid_deadline)
    chronograph.tick()
    small.lot.refresh_from_db()
    assert small.lot.state == LotState.FAILED and "L28" in small.lot.state_reason
    assert not OpeningSession.objects.exists()


def test_check_in_is_for_the_bidders_whose_bids_are_opened(world):
    session = world.opened()
    services.opening_check_in(by=actor(world.bidders[0].user), session=session)
    again = services.opening_check_in(by=actor(world.bidders[0].user), session=session)
    assert session.checkins.count() == 1 and again.organisation == world.bidders[0].organisation
    from tests.factories import person

    for outsider in (world.host, world.regulator, person("bidder")):
        with pytest.raises(PermissionDenied):
            services.opening_check_in(by=actor(outsider), session=session)


def test_decryption_starts_only_with_three_checked_in_and_by_the_host(world):
    session = world.opened()
    check_in_all(world, session, 2)
    with pytest.raises(DomainError) as refused:
        services.opening_start_decryption(by=actor(world.host), session=session)
    assert refused.value.code == "too_few_checked_in"
    services.opening_check_in(by=actor(world.bidders[2].user), session=session)
    with pytest.raises(PermissionDenied):
        services.opening_start_decryption(by=actor(world.bidders[0].user), session=session)
    with pytest.raises(PermissionDenied):
        services.opening_start_decryption(by=actor(world.regulator), session=session)
    started = services.opening_start_decryption(by=actor(world.host), session=session, window_minutes=30)
    assert started.state == SessionState.DECRYPTING and started.window_ends_at == world.clock.moment + timedelta(minutes=30)
    event = AuditEvent.objects.filter(action="openingsession.start_decryption").get()
    assert world.bidders[3].organisation.name in event.body  # the absent bidder is recorded


def test_with_fewer_than_three_checked_in_the_host_records_why_and_the_lot_fails(world):
    session = world.opened()
    check_in_all(world, session, 2)
    with pytest.raises(DomainError) as refused:
        services.opening_abort(by=actor(world.host), session=session, reason="")
    assert refused.value.code == "reason_required"
    services.opening_abort(by=actor(world.host), session=session, reason="仅两家投标人签到")
    session.refresh_from_db()
    world.lot.refresh_from_db()
    assert session.state == SessionState.ABORTED and world.lot.state == LotState.FAILED
    assert "仅两家投标人签到" in world.lot.state_reason


def test_the_opening_cannot_be_aborted_when_three_checked_in(world):
    session = world.opened()
    check_in_all(world, session, 3)
    with pytest.raises(DomainError) as refused:
        services.opening_abort(by=actor(world.host), session=session, reason="想结束")
    assert refused.value.code == "enough_checked_in"


def _started(world, checked_in=4):
    session = world.opened()
    check_in_all(world, session, checked_in)
    return services.opening_start_decryption(by=actor(world.host), session=session)


def _opening_of(bidder) -> BidOpening:
    return BidOpening.objects.get(bid=bidder.bid)


def test_a_key_release_before_the_start_is_refused_and_changes_nothing(world):
    session = world.opened()
    check_in_all(world, session)
    bidder = world.bidders[0]
    with pytest.raises(DomainError) as refused:
        services.opening_release_key(by=actor(bidder.user), bid_opening=_opening_of(bidder), data_key=bidder.data_key())
    assert refused.value.code == "opening_not_started"
    assert _opening_of(bidder).status == DecryptionStatus.AWAITING and _opening_of(bidder).data_key is None


def test_keys_are_taken_once_in_the_window_and_only_the_right_ones(world, django_capture_on_commit_callbacks):
    _started(world)
    first, second = world.bidders[:2]
    with pytest.raises(DomainError) as wrong:
        services.opening_release_key(by=actor(first.user), bid_opening=_opening_of(first), data_key=second.data_key())
    assert wrong.value.code == "wrong_key" and _opening_of(first).status == DecryptionStatus.AWAITING
    with pytest.raises(DomainError) as foreign:
        services.opening_release_key(by=actor(first.user), bid_opening=_opening_of(second), data_key=second.data_key())
    assert foreign.value.code == "not_your_bid"
    with django_capture_on_commit_callbacks(execute=True):
        released = services.opening_release_key(by=actor(first.user), bid_opening=_opening_of(first), data_key=first.data_key())
    assert released.status == DecryptionStatus.RELEASED and bytes(released.data_key) == first.data_key()
    with pytest.raises(DomainError) as twice:
        services.opening_release_key(by=actor(first.user), bid_opening=_opening_of(first), data_key=first.data_key())
    assert twice.value.code == "already_released"


def test_after_the_window_keys_are_refused_and_unreleased_bids_count_as_revoked(world):
    session = _started(world)
    late = world.bidders[0]
    world.clock.set(session.window_ends_at)
    with pytest.raises(DomainError) as refused:
        services.opening_release_key(by=actor(late.user), bid_opening=_opening_of(late), data_key=late.data_key())
    assert refused.value.code == "window_closed"
    done = chronograph.tick()
    assert ("opening.close_window", session.pk) in [(d["action"], d["id"]) for d in done]
    for bidder in world.bidders:
        opening = _opening_of(bidder)
        assert (opening.status, opening.failure_side, opening.failure_code) == (DecryptionStatus.FAILED, "bidder", "not_released")
        assert Bid.objects.get(pk=bidder.bid.pk).status == "revoked"
    session.refresh_from_db()
    assert session.state == SessionState.DECRYPTED


def test_the_window_cannot_be_closed_early_while_keys_are_missing(world):
    session = _started(world)
    with pytest.raises(DomainError) as refused:
        services.opening_close_window(by=actor(world.host), session=session)
    assert refused.value.code == "window_open"


def test_with_fewer_than_three_valid_bids_the_host_may_fail_the_lot(world):
    session = _started(world)
    world.clock.set(session.window_ends_at)
    chronograph.tick()
    session.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.opening_fail(by=actor(world.bidders[0].user), session=session, reason="x")
    from tests.opening.records import publish_record

    publish_record(world, session)
    services.opening_fail(by=actor(world.host), session=session, reason="有效投标不足3家")
    world.lot.refresh_from_db()
    assert world.lot.state == LotState.FAILED and world.lot.state_reason == "有效投标不足3家"


def test_room_events_are_numbered_without_gaps(world):
    session = _started(world)
    seqs = list(RoomEvent.objects.filter(room=session.room).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 1 + 4 + 1


def test_the_chronograph_queues_again_a_decryption_whose_job_was_lost(world):
    from opening.services.decryption import STALE_AFTER

    _started(world)
    bidder = world.bidders[0]
    services.opening_release_key(by=actor(bidder.user), bid_opening=_opening_of(bidder), data_key=bidder.data_key())
    assert not any(d["action"] == "opening.resume_decryption" for d in chronograph.tick())
    world.clock.advance(seconds=STALE_AFTER.total_seconds() + 1)
    resumed = [d["id"] for d in chronograph.tick() if d["action"] == "opening.resume_decryption"]
    assert resumed == [_opening_of(bidder).pk]
