"""The inbox: every refusal of docs/cross-region.md, in order, with its code and status, changing
nothing; an accepted message acted on once, stored with its response and audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from config.errors import DomainError
from crossregion import handlers, protocol
from crossregion.models import AgreementState, InboundMessage

from .conftest import INBOX, OTHER_KEY, PARTNER, ZS_KEY, envelope, post, signed_agreement

pytestmark = pytest.mark.django_db


def refused(response, status, code):
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["ok"] is False and answer["code"] == code and answer["detail"]
    return answer


@pytest.fixture
def unchanged(db):
    """Asserts after the test that no message was stored and no audit event written."""
    events = AuditEvent.objects.count()
    yield
    assert InboundMessage.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_an_accepted_message_is_acted_on_stored_and_audited(client, agreement, echo):
    env = envelope(body={"seats": 2})
    response = post(client, env)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "result": {"echo": {"seats": 2}, "calls": 1}}
    message = InboundMessage.objects.get()
    assert (message.partner.region_code, message.type, message.nonce, message.agreement) == (PARTNER, "booking.test_echo", env["nonce"], agreement)
    assert message.response == response.json() and message.body_hash == protocol.body_hash({"seats": 2})
    event = AuditEvent.objects.get(action="crossregion.message_received")
    assert event.actor_name == f"partner:{PARTNER}" and event.role == "system"
    assert event.object_id == str(message.pk)


# In the order of the checks ------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"envelope": {"format": "etender-message/1"}}', b'{"envelope": 1, "signature": "x"}'])
def test_malformed_requests_are_refused(client, agreement, echo, unchanged, raw):
    refused(post(client, {}, raw=raw), 400, "malformed")


def test_a_float_in_the_body_is_malformed(client, agreement, echo, unchanged):
    env = envelope()
    raw = protocol.wire(env, protocol.sign_envelope(env, OTHER_KEY)).replace(b'"body":{"n":1}', b'"body":{"n":1.5}')
    refused(post(client, env, raw=raw), 400, "malformed")


def test_a_request_that_is_not_json_content_is_malformed(client, agreement, echo, unchanged):
    refused(post(client, envelope(), content_type="text/plain"), 400, "malformed")


def test_only_post(client, db):
    assert client.get(INBOX).status_code == 405


def test_a_message_over_one_mebibyte_is_too_large(client, agreement, echo, unchanged):
    refused(post(client, envelope(body={"blob": "x" * (1024 * 1024)})), 413, "too_large")


def test_a_message_for_another_region_is_refused(client, agreement, echo, unchanged):
    refused(post(client, envelope(recipient="440300")), 400, "wrong_recipient")


def test_a_sender_that_is_not_a_partner_is_refused(client, agreement, echo, unchanged):
    refused(post(client, envelope(sender="440300", key_id=protocol.key_id(protocol.public_raw_of(OTHER_KEY))), key=OTHER_KEY), 401, "unknown_sender")


def test_a_key_that_is_not_the_partners_is_refused(client, agreement, echo, unchanged):
    other = protocol.public_raw_of(OTHER_KEY)
    refused(post(client, envelope(key_id=protocol.key_id(other)), key=OTHER_KEY), 401, "unknown_key")


def test_a_signature_by_another_key_is_refused(client, agreement, echo, unchanged):
    refused(post(client, envelope(), key=OTHER_KEY), 401, "bad_signature")


def test_a_tampered_message_is_refused(client, agreement, echo, unchanged):
    env = envelope(body={"seats": 2})
    signature = protocol.sign_envelope(env, ZS_KEY)
    refused(post(client, {**env, "body": {"seats": 20}}, signature=signature), 401, "bad_signature")


def test_an_unsigned_message_is_refused(client, agreement, echo, unchanged):
    refused(post(client, envelope(), signature=None), 401, "bad_signature")
    refused(post(client, envelope(), signature=""), 401, "bad_signature")


@pytest.mark.parametrize("seconds", [-301, 301, -3600])
def test_a_stale_message_is_refused(client, agreement, echo, unchanged, seconds):
    refused(post(client, envelope(sent_at=timezone.now() + timedelta(seconds=seconds))), 401, "stale")


def test_a_message_a_few_minutes_old_is_accepted(client, agreement, echo):
    assert post(client, envelope(sent_at=timezone.now() - timedelta(seconds=240))).status_code == 200


def test_a_replayed_message_is_refused_and_not_acted_on_again(client, agreement, echo):
    env = envelope()
    signature = protocol.sign_envelope(env, ZS_KEY)
    assert post(client, env, signature=signature).status_code == 200
    refused(post(client, env, signature=signature), 409, "replayed")
    # The same nonce under another idempotency key is a replay too.
    refused(post(client, envelope(nonce=env["nonce"])), 409, "replayed")
    assert len(echo) == 1 and InboundMessage.objects.count() == 1


def test_without_an_agreement_nothing_but_agreement_messages_is_accepted(client, partner, echo, unchanged):
    refused(post(client, envelope()), 403, "no_agreement")


def test_under_a_revoked_agreement_messages_are_refused(client, partner, echo, unchanged):
    signed_agreement(partner, state=AgreementState.REVOKED)
    refused(post(client, envelope()), 403, "no_agreement")


def test_under_an_expired_agreement_messages_are_refused(client, partner, echo, unchanged):
    now = timezone.now()
    signed_agreement(partner, valid_from=now - timedelta(days=30), valid_until=now - timedelta(seconds=1))
    refused(post(client, envelope()), 403, "no_agreement")


def test_an_agreement_not_yet_in_force_does_not_count(client, partner, echo, unchanged):
    now = timezone.now()
    signed_agreement(partner, valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=30))
    refused(post(client, envelope()), 403, "no_agreement")


def test_an_agreement_whose_scope_lacks_the_area_does_not_count(client, partner, echo, unchanged):
    signed_agreement(partner, scope=("replication",))
    refused(post(client, envelope()), 403, "no_agreement")


def test_an_agreement_with_a_forged_signature_does_not_count(client, partner, echo, unchanged):
    agreement = signed_agreement(partner)
    agreement.partner_signature = protocol.sign_agreement(agreement.document, OTHER_KEY)
    agreement.save()
    refused(post(client, envelope()), 403, "no_agreement")


def test_a_repeated_idempotency_key_returns_the_stored_response_and_acts_once(client, agreement, echo):
    first = post(client, envelope(body={"seats": 2}, idempotency_key="booking:7:request"))
    again = post(client, envelope(body={"seats": 2}, idempotency_key="booking:7:request"))  # a retry: fresh nonce and sent_at
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() == {"ok": True, "result": {"echo": {"seats": 2}, "calls": 1}}
    assert len(echo) == 1 and InboundMessage.objects.count() == 1
    assert AuditEvent.objects.filter(action="crossregion.message_received").count() == 1


def test_an_idempotency_key_reused_for_another_body_or_type_is_a_conflict(client, agreement, echo, monkeypatch):
    monkeypatch.setitem(handlers._HANDLERS, "booking.test_other", lambda **kw: {})
    assert post(client, envelope(body={"seats": 2}, idempotency_key="booking:7:request")).status_code == 200
    refused(post(client, envelope(body={"seats": 3}, idempotency_key="booking:7:request")), 409, "idempotency_conflict")
    refused(post(client, envelope("booking.test_other", body={"seats": 2}, idempotency_key="booking:7:request")), 409, "idempotency_conflict")
    assert len(echo) == 1 and InboundMessage.objects.count() == 1


def test_an_unknown_type_is_refused(client, agreement, echo, unchanged):
    refused(post(client, envelope("booking.no_such_action")), 400, "unknown_type")


def test_a_handler_refusal_changes_nothing(client, agreement, monkeypatch, unchanged):
    def refuse(**kwargs):
        raise DomainError("没有空余席位", code="no_seats")

    monkeypatch.setitem(handlers._HANDLERS, "booking.test_refuse", refuse)
    answer = refused(post(client, envelope("booking.test_refuse")), 422, "no_seats")
    assert answer["detail"] == "没有空余席位"


def test_the_answer_is_json_in_utf8(client, agreement, echo):
    response = post(client, envelope(body={"name": "中山"}))
    assert response["Content-Type"].startswith("application/json")
    assert "中山".encode() in response.content and json.loads(response.content)["ok"] is True


# The well-known metadata ---------------------------------------------------------------------

def test_well_known_metadata_is_public_and_names_this_platforms_key(client, db):
    from audit import platform_key

    response = client.get("/.well-known/etender-platform.json")
    assert response.status_code == 200
    meta = protocol.parse_metadata(response.content)
    assert (meta.region_code, meta.region_name, meta.base_url) == ("441900", "东莞", "http://127.0.0.1:8000")
    assert meta.public_key == platform_key.public_key_bytes() and meta.key_id == platform_key.platform_key_id()
    assert meta.endpoints == {"inbox": "/crossregion/inbox/", "federated_login": "/crossregion/federated-login/"}
    assert client.post("/.well-known/etender-platform.json").status_code == 405


def test_a_declared_size_over_eight_mebibytes_is_refused_before_reading(rf, db):
    from crossregion import views

    request = rf.post(INBOX, data=b"{}", content_type="application/json", CONTENT_LENGTH=str(8 * 1024 * 1024 + 1))
    response = views.inbox(request)
    assert response.status_code == 413 and json.loads(response.content)["code"] == "too_large"


def test_a_replication_batch_may_be_larger_than_one_mebibyte(client, agreement, monkeypatch):
    calls = []
    monkeypatch.setitem(handlers._HANDLERS, "replication.test_batch", lambda **kw: calls.append(1) or {"stored": True})
    response = post(client, envelope("replication.test_batch", body={"events": "x" * (3 * 1024 * 1024)}))
    assert response.status_code == 200 and calls == [1]
