"""The tender and lot state machines, transition by transition: every legal one moves the state
and writes one audit event (actor, IP, from, to); every illegal one raises IllegalTransition,
changes nothing and writes nothing."""

import json

import pytest
from django.db import transaction

from audit.models import AuditEvent
from audit.services import fsm_transition
from config.errors import IllegalTransition
from tendering.models import Lot, LotState, Tender, TenderState
from tests import factories

pytestmark = pytest.mark.usefixtures("clock")

TENDER_TABLE = {
    "submit": {TenderState.DRAFT: TenderState.SUBMITTED, TenderState.RETURNED: TenderState.SUBMITTED},
    "approve": {TenderState.SUBMITTED: TenderState.APPROVED},
    "return_for_changes": {TenderState.SUBMITTED: TenderState.RETURNED},
    "publish": {TenderState.APPROVED: TenderState.PUBLISHED},
    "cancel": {s: TenderState.CANCELLED for s in (TenderState.DRAFT, TenderState.SUBMITTED, TenderState.RETURNED, TenderState.APPROVED, TenderState.PUBLISHED)},
}

_ALIVE = (LotState.PUBLISHED, LotState.CLOSED, LotState.OPENING, LotState.EVALUATING, LotState.PUBLICIZING)
LOT_TABLE = {
    "publish": {LotState.DRAFT: LotState.PUBLISHED},
    "close": {LotState.PUBLISHED: LotState.CLOSED},
    "start_opening": {LotState.CLOSED: LotState.OPENING},
    "start_evaluation": {LotState.OPENING: LotState.EVALUATING},
    "publicize": {LotState.EVALUATING: LotState.PUBLICIZING},
    "award": {LotState.PUBLICIZING: LotState.AWARDED},
    "contract": {LotState.AWARDED: LotState.CONTRACTED},
    "fail": {s: LotState.FAILED for s in (LotState.CLOSED, LotState.OPENING, LotState.EVALUATING)},
    "cancel": {s: LotState.CANCELLED for s in (LotState.DRAFT, *_ALIVE, LotState.SUSPENDED)},
    "suspend": {s: LotState.SUSPENDED for s in _ALIVE},
    "resume": {},  # from SUSPENDED back to where it was: tested below
}


def _cases(table, states):
    return [(state, name, table[name].get(state)) for name in table for state in states]


def _last_event():
    return AuditEvent.objects.order_by("-seq").first()


def _run(obj, transition, by, tender_id):
    with transaction.atomic():
        return fsm_transition(obj, transition, by=by, tender_id=tender_id)


@pytest.fixture
def tender(owner):
    return factories.make_tender(owner)


@pytest.mark.parametrize(("source", "transition", "target"), _cases(TENDER_TABLE, TenderState.values))
def test_tender_transition(tender, owner, source, transition, target):
    Tender.objects.filter(pk=tender.pk).update(state=source)
    tender = Tender.objects.get(pk=tender.pk)
    events = AuditEvent.objects.count()
    by = factories.actor(owner, ip="203.0.113.5")
    if target is None:
        with pytest.raises(IllegalTransition):
            _run(tender, transition, by, tender.pk)
        assert Tender.objects.get(pk=tender.pk).state == source
        assert AuditEvent.objects.count() == events
        return
    _run(tender, transition, by, tender.pk)
    assert Tender.objects.get(pk=tender.pk).state == target
    event = _last_event()
    assert AuditEvent.objects.count() == events + 1
    assert (event.action, event.actor_id, event.ip, event.tender_id) == (f"tender.{transition}", owner.pk, "203.0.113.5", tender.pk)
    assert json.loads(event.body)["payload"] == {"from": source, "to": target}


@pytest.mark.parametrize(("source", "transition", "target"), _cases(LOT_TABLE, LotState.values))
def test_lot_transition(tender, owner, source, transition, target):
    lot = tender.lots.get()
    Lot.objects.filter(pk=lot.pk).update(state=source, suspended_from=LotState.CLOSED if source == LotState.SUSPENDED else "")
    lot = Lot.objects.get(pk=lot.pk)
    if transition == "resume" and source == LotState.SUSPENDED:
        target = LotState.CLOSED
    events = AuditEvent.objects.count()
    by = factories.actor(owner, ip="203.0.113.6")
    if target is None:
        with pytest.raises(IllegalTransition):
            _run(lot, transition, by, tender.pk)
        assert Lot.objects.get(pk=lot.pk).state == source
        assert AuditEvent.objects.count() == events
        return
    _run(lot, transition, by, tender.pk)
    assert Lot.objects.get(pk=lot.pk).state == target
    event = _last_event()
    assert AuditEvent.objects.count() == events + 1
    assert (event.action, event.actor_id, event.ip, event.tender_id) == (f"lot.{transition}", owner.pk, "203.0.113.6", tender.pk)
    assert json.loads(event.body)["payload"] == {"from": source, "to": target}


@pytest.mark.parametrize("before", _ALIVE)
def test_suspension_remembers_the_state_and_resumes_to_it(tender, owner, before):
    lot = tender.lots.get()
    Lot.objects.filter(pk=lot.pk).update(state=before)
    lot = Lot.objects.get(pk=lot.pk)
    by = factories.actor(owner)
    _run(lot, "suspend", by, tender.pk)
    lot.refresh_from_db()
    assert (lot.state, lot.suspended_from) == (LotState.SUSPENDED, before)
    _run(lot, "resume", by, tender.pk)
    lot.refresh_from_db()
    assert (lot.state, lot.suspended_from) == (before, "")


def test_the_service_flow_records_every_transition_with_actor_and_ip(owner, centre):
    tender = factories.make_tender(owner, state="published", lots=2)
    events = list(AuditEvent.objects.filter(tender_id=tender.pk, action__in=["tender.submit", "tender.approve", "tender.publish", "lot.publish"]).order_by("seq"))
    assert [e.action for e in events] == ["tender.submit", "tender.approve", "tender.publish", "lot.publish", "lot.publish"]
    assert [e.actor_id for e in events] == [owner.pk, centre.pk, owner.pk, owner.pk, owner.pk]
    assert all(e.ip == factories.IP for e in events)
    assert [json.loads(e.body)["payload"]["to"] for e in events] == ["submitted", "approved", "published", "published", "published"]
