"""Review findings 11 and 12: a cancelled tender takes no more answers or acknowledgements and the
chronograph stops chasing its objections; one failing chronograph item does not stop the others;
a double-clicked acknowledgement gives one record; bidder actions on a draft answer 404."""

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from config.errors import IllegalTransition
from tendering import chronograph, services
from tendering.models import BidderRegistration, ClarificationAck, LotState, Objection, Question
from tests import factories
from tests.factories import actor


@pytest.fixture
def cancelled_with_pending_items(published, owner):
    bidder = factories.register_bidder(published)
    question = services.question_ask(by=actor(bidder), tender=published, text="工期可否调整？")
    clarification = services.clarification_issue(by=actor(owner), tender=published, kind="clarification", title="澄清1", body="图纸", affects_bids=False)
    objection = services.objection_raise(by=actor(bidder), tender=published, text="异议")
    services.tender_cancel(by=actor(owner), tender=published, reason="项目取消")
    return bidder, question, clarification, objection


@pytest.mark.usefixtures("clock")
def test_a_cancelled_tender_takes_no_answer_or_acknowledgement(cancelled_with_pending_items, owner):
    bidder, question, clarification, _objection = cancelled_with_pending_items
    events = AuditEvent.objects.count()
    with pytest.raises(IllegalTransition):
        services.question_answer(by=actor(owner), question=question, answer="可以")
    with pytest.raises(IllegalTransition):
        services.clarification_acknowledge(by=actor(bidder), clarification=clarification)
    question.refresh_from_db()
    assert question.answered_at is None and not ClarificationAck.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.usefixtures("clock")
def test_the_chronograph_does_not_chase_objections_of_a_cancelled_tender(cancelled_with_pending_items, clock):
    _bidder, _question, _clarification, objection = cancelled_with_pending_items
    clock.set(objection.answer_due + timedelta(days=1))
    assert chronograph.tick() == []
    objection.refresh_from_db()
    assert objection.overdue_reported_at is None and not AuditEvent.objects.filter(action="objection.overdue").exists()


@pytest.mark.usefixtures("clock")
def test_one_failing_item_does_not_stop_the_tick(published, clock, monkeypatch):
    first, second = published.lots.order_by("number")
    real_close = services.lot_close

    def flaky_close(*, by, lot):
        if lot.pk == first.pk:
            raise RuntimeError("disk full")
        return real_close(by=by, lot=lot)

    monkeypatch.setattr(services, "lot_close", flaky_close)
    clock.set(published.bid_deadline)
    done = chronograph.tick()
    assert {"action": "lot.close", "object": str(first), "id": first.pk, "error": "RuntimeError('disk full')"} in done
    assert [d["action"] for d in done if "error" not in d] == ["lot.close", "lot.fail"]
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.state, second.state) == (LotState.PUBLISHED, LotState.FAILED)


@pytest.mark.usefixtures("clock")
def test_acknowledging_twice_gives_one_record(published, owner):
    bidder = factories.register_bidder(published)
    clarification = services.clarification_issue(by=actor(owner), tender=published, kind="clarification", title="澄清1", body="图纸", affects_bids=False)
    first = services.clarification_acknowledge(by=actor(bidder), clarification=clarification)
    again = services.clarification_acknowledge(by=actor(bidder), clarification=clarification)
    assert first.pk == again.pk and ClarificationAck.objects.count() == 1
    assert AuditEvent.objects.filter(action="clarification.acknowledge").count() == 1


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="concurrent writers need PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_click_gives_one_acknowledgement():
    owner = factories.person("tenderer")
    tender = factories.make_tender(owner, state="published")
    bidder = factories.register_bidder(tender)
    clarification = services.clarification_issue(by=actor(owner), tender=tender, kind="clarification", title="澄清1", body="图纸", affects_bids=False)
    barrier, errors = threading.Barrier(2), []

    def click():
        try:
            barrier.wait()
            services.clarification_acknowledge(by=actor(bidder), clarification=clarification)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ClarificationAck.objects.filter(clarification=clarification).count() == 1


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("name", ["tendering:register", "tendering:ask", "tendering:object"])
def test_bidder_actions_on_a_draft_answer_404(client, owner, bidder, name):
    draft = factories.make_tender(owner)
    client.force_login(bidder)
    response = client.post(reverse(name, args=[draft.pk]), {"question-text": "?", "objection-text": "!"})
    assert response.status_code == 404
    assert not BidderRegistration.objects.exists() and not Question.objects.exists() and not Objection.objects.exists()
