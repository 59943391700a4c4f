"""The chronograph moves tenders along by the clock: close at the deadline, fail lots with fewer
than 3 bids (L28/R44), expire invitations, report overdue objection answers. Idempotent."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from bidding.models import Bid, BidStatus
from bidding.selectors import count_valid_bids
from config.errors import DeadlineError
from tendering import chronograph, services
from tendering.models import InvitationStatus, LotState, TenderState
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.usefixtures("clock")


def bid(lot, status=BidStatus.RECEIVED, bidder=None):
    return Bid.objects.create(lot=lot, bidder=bidder or factories.make_org("bidder"), status=status, received_at=lot.tender.published_at)


def test_accelerated_sandbox_tender_closes_and_fails_by_the_clock(owner, sandbox, clock):
    # accelerator 1440: one statutory day is one minute.
    tender = factories.make_tender(owner, state="published", lots=2, accelerator=1440, deadline=timedelta(minutes=20), offer=timedelta(minutes=5))
    first, second = tender.lots.order_by("number")
    for _ in range(3):
        bid(first)
    bid(second)
    bid(second, status=BidStatus.WITHDRAWN)
    bid(second, status=BidStatus.REVOKED)
    assert (count_valid_bids(first), count_valid_bids(second)) == (3, 1)
    clock.advance(minutes=19, seconds=59)
    assert chronograph.tick() == []
    clock.advance(seconds=1)
    done = chronograph.tick()
    assert [(d["action"], d["id"]) for d in done] == [("lot.close", first.pk), ("lot.close", second.pk), ("opening.open", first.pk), ("lot.fail", second.pk)]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == LotState.OPENING
    assert second.state == LotState.FAILED and "L28" in second.state_reason and "1个" in second.state_reason
    assert chronograph.tick() == []  # idempotent
    events = AuditEvent.objects.filter(action__in=["lot.close", "lot.fail"])
    assert {(e.actor_name, e.role, e.actor_id) for e in events} == {("chronograph", "system", None)}


def test_lot_with_no_bids_fails(published, clock):
    clock.set(published.bid_deadline)
    chronograph.tick()
    assert set(published.lots.values_list("state", flat=True)) == {LotState.FAILED}


def test_closing_before_the_deadline_is_refused_even_if_asked(published):
    with pytest.raises(DeadlineError):
        services.lot_close(by=factories.SYSTEM, lot=published.lots.first())


def test_suspended_lots_are_not_closed(published, clock):
    objector = factories.register_bidder(published)
    services.objection_raise(by=actor(objector), tender=published, text="x")
    clock.set(published.bid_deadline + timedelta(minutes=1))
    chronograph.tick()
    assert set(published.lots.values_list("state", flat=True)) == {LotState.SUSPENDED}


def test_cancelled_tender_is_left_alone(published, owner, clock):
    services.tender_cancel(by=actor(owner), tender=published, reason="x")
    clock.set(published.bid_deadline + timedelta(days=1))
    assert chronograph.tick() == []


def test_invitations_past_the_reply_deadline_expire(owner, clock):
    tender = factories.make_tender(owner, procedure="invited", state="published")
    accepted = tender.invitations.order_by("pk").first()
    services.invitation_reply(by=actor(factories.admin_of(accepted.organisation)), invitation=accepted, accept=True)
    clock.set(tender.invitation_reply_deadline + timedelta(seconds=1))
    done = chronograph.tick()
    assert [d["action"] for d in done] == ["invitation.expire", "invitation.expire"]
    assert sorted(tender.invitations.values_list("status", flat=True)) == [InvitationStatus.ACCEPTED, InvitationStatus.EXPIRED, InvitationStatus.EXPIRED]
    assert chronograph.tick() == []


def test_overdue_objection_answers_are_reported_once_not_resolved(published, owner, clock):
    objector = factories.register_bidder(published)
    objection = services.objection_raise(by=actor(objector), tender=published, text="x")
    clock.set(objection.answer_due)
    assert chronograph.tick() == []
    clock.advance(seconds=1)
    assert [d["action"] for d in chronograph.tick()] == ["objection.overdue"]
    assert chronograph.tick() == []
    objection.refresh_from_db()
    assert objection.is_open and objection.overdue_reported_at == clock()
    assert set(published.lots.values_list("state", flat=True)) == {LotState.SUSPENDED}
    services.objection_answer(by=actor(owner), objection=objection, answer="迟复")
    assert '"late":true' in AuditEvent.objects.get(action="objection.answer").body


def test_command_runs_one_tick(published, clock, capsys):
    clock.set(published.bid_deadline)
    call_command("chronograph", "--once")
    output = capsys.readouterr().out
    assert output.count("lot.close") == 2 and output.count("lot.fail") == 2
    published.refresh_from_db()
    assert published.state == TenderState.PUBLISHED
