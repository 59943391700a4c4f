"""Objections suspend the tender (R22), and the bidders get the time back: when the last answer
comes, the lots the objections suspended resume and the bid deadline (and a documents offer end
not yet passed) move out by the time suspended. The owner cannot resume while an objection is open,
and an answer never resumes a lot the owner suspended for another reason."""

import json
from datetime import timedelta

import pytest

from accounts.models import Notification
from audit.models import AuditEvent
from config.errors import IllegalTransition
from tendering import chronograph, services
from tendering.models import LotState, SuspensionKind
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.usefixtures("clock")


def payload(event) -> dict:
    return json.loads(event.body)["payload"]


def lot_states(tender):
    return list(tender.lots.order_by("number").values_list("state", flat=True))


def test_suspended_time_is_given_back_to_the_bidders(published, owner, clock):
    """Probe of the review: objection on day 5, answered on day 25, original deadline day 30."""
    deadline, offer_end = published.bid_deadline, published.documents_offer_end
    objector = factories.register_bidder(published)
    clock.advance(days=5)
    objection = services.objection_raise(by=actor(objector), tender=published, text="资格条件排斥潜在投标人")
    assert set(published.lots.values_list("suspension_kind", flat=True)) == {SuspensionKind.OBJECTION}
    clock.advance(days=20)
    services.objection_answer(by=actor(owner), objection=objection, answer="已修改。")

    published.refresh_from_db()
    assert published.bid_deadline == deadline + timedelta(days=20)
    assert published.documents_offer_end == offer_end + timedelta(days=20)
    assert lot_states(published) == [LotState.PUBLISHED, LotState.PUBLISHED]
    assert set(published.lots.values_list("suspension_kind", "suspended_at")) == {("", None)}
    event = payload(AuditEvent.objects.get(action="tender.resume"))
    assert event["previous_bid_deadline"] == deadline.isoformat()
    assert event["bid_deadline"] == published.bid_deadline.isoformat()
    assert event["suspended_seconds"] == 20 * 86400
    assert event["notified"] == [objector.organisation_id]
    resumed = AuditEvent.objects.filter(action="lot.resume")
    assert resumed.count() == 2 and all(payload(e)["bid_deadline"] == published.bid_deadline.isoformat() for e in resumed)
    assert Notification.objects.filter(organisation=objector.organisation, subject__startswith="招标活动已恢复").exists()

    services.bidder_register(by=actor(factories.person("bidder")), tender=published)  # day 25: offer period extended too
    clock.set(deadline + timedelta(days=1))  # past the old deadline: the chronograph leaves the lots open
    assert chronograph.tick() == []
    assert lot_states(published) == [LotState.PUBLISHED, LotState.PUBLISHED]


def test_an_offer_end_already_passed_at_suspension_stays(published, owner, clock):
    offer_end = published.documents_offer_end
    objector = factories.register_bidder(published)
    clock.set(offer_end + timedelta(days=2))
    objection = services.objection_raise(by=actor(objector), tender=published, text="评分标准不明确")
    clock.advance(days=3)
    services.objection_answer(by=actor(owner), objection=objection, answer="见澄清1。")
    published.refresh_from_db()
    assert published.documents_offer_end == offer_end


def test_owner_cannot_resume_while_an_objection_is_open(published, owner):
    objector = factories.register_bidder(published)
    services.objection_raise(by=actor(objector), tender=published, text="异议")
    lot = published.lots.order_by("number").first()
    with pytest.raises(IllegalTransition, match="未答复的异议"):
        services.lot_resume(by=actor(owner), lot=lot)
    assert lot_states(published) == [LotState.SUSPENDED, LotState.SUSPENDED]
    assert not AuditEvent.objects.filter(action="lot.resume").exists()


def test_the_last_answer_resumes_only_the_lots_the_objections_suspended(published, owner):
    manual, other = published.lots.order_by("number")
    services.lot_suspend(by=actor(owner), lot=manual, reason="标段范围调整")
    objector = factories.register_bidder(published)
    objection = services.objection_raise(by=actor(objector), tender=published, text="异议")
    services.objection_answer(by=actor(owner), objection=objection, answer="答复")
    manual.refresh_from_db(), other.refresh_from_db()
    assert (manual.state, manual.suspension_kind) == (LotState.SUSPENDED, SuspensionKind.MANUAL)
    assert other.state == LotState.PUBLISHED
    services.lot_resume(by=actor(owner), lot=manual)  # no objection open: the owner resumes its own
    manual.refresh_from_db()
    assert manual.state == LotState.PUBLISHED


def test_a_moved_deadline_that_falls_on_a_rest_day_moves_to_the_next_working_day(published, owner, clock):
    """The bid deadline (Wednesday 2026-04-01 09:00) moved out by 3 days would fall on Saturday
    2026-04-04, the eve of Tomb-Sweeping Day; the period ends on the next working day instead,
    Tuesday 2026-04-07 (4-6 April are rest days)."""
    from tendering.periods import SHANGHAI

    objector = factories.register_bidder(published)
    objection = services.objection_raise(by=actor(objector), tender=published, text="资格条件不合理")
    clock.advance(days=3)
    services.objection_answer(by=actor(owner), objection=objection, answer="已澄清。")
    published.refresh_from_db()
    local = published.bid_deadline.astimezone(SHANGHAI)
    assert (local.date().isoformat(), local.hour) == ("2026-04-07", 9)
