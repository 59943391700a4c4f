"""Appending through `record_event` and checking the chain with `audit_verify`."""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.core.management import call_command
from django.db import transaction

from audit.actor import Actor
from audit.chain import GENESIS_HASH, canonical_json, chain_hash
from audit.models import AuditEvent
from audit.selectors import verify_chain
from audit.services import record_event

SYSTEM = Actor.system("chronograph")


def _record(n, **kwargs):
    with transaction.atomic():
        return [record_event(by=SYSTEM, action=f"test.step{i}", **kwargs) for i in range(n)]


@pytest.mark.django_db
def test_events_are_numbered_from_one_and_linked_from_genesis():
    first, second = _record(2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.hash == chain_hash(first.hash, second.body)


@pytest.mark.django_db
def test_event_records_actor_ip_object_and_tender():
    actor = Actor(user_id=7, name="张三", role="agency", organisation_id=3, ip="203.0.113.9")
    with transaction.atomic():
        event = record_event(
            by=actor, action="tender.publish", object_type="tendering.tender", object_id=42, tender_id=42,
            payload={"标段": ["一标段"], "fen": 12_345_600},
        )
    stored = AuditEvent.objects.get(seq=event.seq)
    assert (stored.actor_id, stored.actor_name, stored.role, stored.organisation_id, stored.ip) == (
        7, "张三", "agency", 3, "203.0.113.9")
    assert (stored.action, stored.object_type, stored.object_id, stored.tender_id) == (
        "tender.publish", "tendering.tender", "42", 42)
    assert '"标段":["一标段"]' in stored.body
    assert verify_chain().ok


@pytest.mark.django_db
def test_verify_reports_count_and_head():
    events = _record(3)
    verdict = verify_chain()
    assert (verdict.ok, verdict.count, verdict.head) == (True, 3, events[-1].hash)


@pytest.mark.django_db
def test_audit_verify_command_prints_ok_count_and_head():
    events = _record(3)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().strip() == f"OK 3 events, head {events[-1].hash}"


@pytest.mark.django_db
def test_audit_verify_on_an_empty_chain_is_ok():
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().strip() == f"OK 0 events, head {GENESIS_HASH}"


@pytest.mark.django_db
def test_floats_in_a_payload_are_refused_and_nothing_is_recorded():
    from audit.chain import CanonicalJSONError

    with pytest.raises(CanonicalJSONError, match="floats are not allowed"):
        with transaction.atomic():
            record_event(by=SYSTEM, action="bid.price", payload={"price": 99.5})
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_text_that_is_not_unicode_is_refused_and_nothing_is_recorded():
    from audit.chain import CanonicalJSONError

    with pytest.raises(CanonicalJSONError, match="not valid Unicode"):
        with transaction.atomic():
            record_event(by=Actor.system("job\ud800"), action="test.bad")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_record_event_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event(by=SYSTEM, action="test.orphan")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_event_rolled_back_with_its_change_leaves_no_gap():
    _record(1)

    class ServiceFailed(Exception):
        pass

    with pytest.raises(ServiceFailed):
        with transaction.atomic():
            record_event(by=SYSTEM, action="test.doomed")
            raise ServiceFailed
    _record(1)
    assert list(AuditEvent.objects.values_list("seq", "action")) == [(1, "test.step0"), (2, "test.step0")]
    assert "test.doomed" not in AuditEvent.objects.values_list("action", flat=True)
    assert verify_chain().ok


@pytest.mark.django_db
def test_event_in_a_rolled_back_savepoint_leaves_no_gap():
    with transaction.atomic():
        record_event(by=SYSTEM, action="test.kept")
        try:
            with transaction.atomic():
                record_event(by=SYSTEM, action="test.undone")
                raise ValueError
        except ValueError:
            pass
        record_event(by=SYSTEM, action="test.kept2")
    assert list(AuditEvent.objects.values_list("seq", "action")) == [(1, "test.kept"), (2, "test.kept2")]
    assert verify_chain().ok


@pytest.mark.django_db
def test_returned_event_is_exactly_the_stored_row():
    (event,) = _record(1, object_type="tendering.lot", object_id=3, tender_id=1, payload={"k": "v"})
    stored = AuditEvent.objects.get(seq=event.seq)
    fields = [f.attname for f in AuditEvent._meta.fields]
    assert [getattr(event, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert not event._state.adding


@pytest.mark.django_db
def test_an_event_at_a_whole_second_verifies(monkeypatch):
    # SQLite stores such a time without a fraction; the body always writes six digits.
    from datetime import UTC, datetime

    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 1, 1, 30, 0, tzinfo=UTC))
    (event,) = _record(1)
    assert '"time":"2026-03-01T01:30:00.000000Z"' in event.body
    assert verify_chain().ok


@pytest.mark.django_db
def test_times_never_go_backwards_along_the_chain():
    events = _record(20)
    times = list(AuditEvent.objects.order_by("seq").values_list("occurred_at", flat=True))
    assert times == sorted(times)
    assert len(events) == 20


def column_text(**size):
    return st.text(st.characters(codec="utf-8", exclude_characters="\x00"), **size)  # PostgreSQL text holds no NUL


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(st.text(), json_values, max_size=5), action=column_text(min_size=1, max_size=64),
       name=column_text(max_size=150))
@pytest.mark.django_db
def test_every_recorded_body_is_canonical_json_and_verifies(payload, action, name):
    actor = Actor(user_id=1, name=name, role="bidder", organisation_id=2, ip="2001:db8::1")
    with transaction.atomic():
        event = record_event(by=actor, action=action, payload=payload)
        assert event.body == canonical_json(json.loads(event.body))
        assert json.loads(event.body)["payload"] == payload
        assert verify_chain().ok
        transaction.set_rollback(True)
