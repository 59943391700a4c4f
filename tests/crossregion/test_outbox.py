"""The outbox against a real (tiny) HTTP server: signed afresh per attempt, retried with backoff on
503, delivered once; permanent failures shown; the chronograph queues due messages again."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from audit import platform_key
from audit.models import AuditEvent
from config.errors import DomainError
from crossregion import handlers, protocol
from crossregion.models import OutboundMessage, OutboundState
from crossregion.services import outbox
from tendering import chronograph
from tests import factories

from .conftest import PARTNER

pytestmark = pytest.mark.django_db


class Partner(BaseHTTPRequestHandler):
    """Records every POST and answers with the next scripted (status, JSON) pair."""

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.server.requests.append((self.path, self.headers["Content-Type"], self.rfile.read(length)))
        status, answer = self.server.script.pop(0) if self.server.script else (200, {"ok": True, "result": {}})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Partner)
    httpd.requests, httpd.script = [], []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def remote(partner, agreement, server):
    partner.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    partner.save()
    return partner


def queue(partner, body=None, key="booking:1:request") -> OutboundMessage:
    with transaction.atomic():
        return outbox.send(partner=partner, type="booking.request", body=body or {"seats": 2}, idempotency_key=key)


def sent_envelopes(server):
    out = []
    for path, content_type, raw in server.requests:
        assert path == "/crossregion/inbox/" and content_type == "application/json"
        envelope, signature = protocol.parse_wire(raw)
        protocol.verify_envelope(envelope, signature, platform_key.public_key_bytes())
        out.append(envelope)
    return out


def test_a_503_is_retried_with_backoff_and_re_signed_then_delivered_once(remote, server, monkeypatch):
    delivered = []
    monkeypatch.setitem(handlers._DELIVERED, "booking.request", lambda *, message, result: delivered.append((message.pk, result)))
    server.script = [(503, {"ok": False, "code": "unavailable", "detail": "maintenance"}), (200, {"ok": True, "result": {"booking": 9}})]
    message = queue(remote)
    t0 = timezone.now()
    assert outbox.deliver(message.pk, now=t0) == "pending"
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_status) == ("pending", 1, 503)
    assert message.next_attempt_at == t0 + timedelta(seconds=5) and "unavailable" in message.last_error
    assert outbox.deliver(message.pk, now=t0 + timedelta(seconds=4)) == "skipped"  # not due yet: no request
    assert len(server.requests) == 1
    assert outbox.deliver(message.pk, now=t0 + timedelta(seconds=5)) == "delivered"
    message.refresh_from_db()
    assert message.state == OutboundState.DELIVERED and message.result == {"booking": 9} and message.attempts == 2
    assert delivered == [(message.pk, {"booking": 9})]
    # Delivered: a late job does nothing.
    assert outbox.deliver(message.pk, now=t0 + timedelta(hours=1)) == "skipped"
    first, second = sent_envelopes(server)
    assert first["idempotency_key"] == second["idempotency_key"] == "booking:1:request"
    assert first["nonce"] != second["nonce"] and first["sent_at"] != second["sent_at"]
    assert first["body"] == second["body"] == {"seats": 2}
    assert (first["from"], first["to"], first["key_id"]) == ("441900", PARTNER, platform_key.platform_key_id())
    assert AuditEvent.objects.filter(action="crossregion.message_delivered", object_id=str(message.pk)).count() == 1


def test_backoff_doubles_while_the_partner_is_down(remote, server):
    server.script = [(503, {})] * 4
    message = queue(remote)
    at = timezone.now()
    for expected in (5, 10, 20, 40):
        assert outbox.deliver(message.pk, now=at) == "pending"
        message.refresh_from_db()
        assert message.next_attempt_at - at == timedelta(seconds=expected)
        at = message.next_attempt_at


def test_a_partner_that_cannot_be_reached_is_retried(remote, server):
    remote.base_url = "http://127.0.0.1:9"  # nothing listens there
    remote.save()
    message = queue(remote)
    assert outbox.deliver(message.pk) == "pending"
    message.refresh_from_db()
    assert message.attempts == 1 and message.last_status is None and message.last_error


def test_replayed_is_retried_with_a_fresh_nonce(remote, server):
    server.script = [(409, {"ok": False, "code": "replayed", "detail": "nonce"})]
    message = queue(remote)
    assert outbox.deliver(message.pk) == "pending"


def test_another_4xx_is_a_permanent_failure_shown_and_retryable_by_staff(remote, server, centre):
    server.script = [(403, {"ok": False, "code": "no_agreement", "detail": "no valid agreement"})]
    message = queue(remote)
    assert outbox.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED and message.last_status == 403 and "no_agreement" in message.last_error
    assert AuditEvent.objects.filter(action="crossregion.message_failed", object_id=str(message.pk)).exists()
    assert outbox.deliver(message.pk) == "skipped"  # failed for good: jobs leave it alone
    outbox.outbound_retry(by=factories.actor(centre), message=message)
    assert outbox.deliver(message.pk) == "delivered"
    with pytest.raises(DomainError):
        outbox.outbound_retry(by=factories.actor(centre), message=message)


def test_send_is_idempotent_per_key_and_refuses_a_conflict(remote):
    first = queue(remote)
    assert queue(remote) == first
    with pytest.raises(DomainError) as refused:
        queue(remote, body={"seats": 3})
    assert refused.value.code == "idempotency_conflict"


def test_send_needs_a_valid_agreement_covering_the_area(partner):
    with pytest.raises(DomainError) as refused:
        queue(partner)
    assert refused.value.code == "no_agreement"
    assert not OutboundMessage.objects.exists()


def test_delivery_is_queued_only_after_commit(remote, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(outbox, "enqueue", lambda pk, **kw: queued.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.send(partner=remote, type="booking.request", body={}, idempotency_key="booking:2:request")
        assert queued == []
    assert queued == [message.pk]


def test_the_chronograph_queues_due_messages_again_once_a_minute(remote):
    from django_tasks_db.models import DBTaskResult

    message = queue(remote)
    OutboundMessage.objects.filter(pk=message.pk).update(enqueued_at=None, next_attempt_at=timezone.now() - timedelta(seconds=1))
    jobs = DBTaskResult.objects.count()
    done = [item for item in chronograph.tick() if item["action"] == "crossregion.deliver"]
    assert [item["id"] for item in done] == [message.pk]
    assert DBTaskResult.objects.count() == jobs + 1
    assert not [item for item in chronograph.tick() if item["action"] == "crossregion.deliver"]  # queued a moment ago
    later = timezone.now() + timedelta(minutes=2)
    assert [m.pk for m in outbox.due(later)] == [message.pk]
    OutboundMessage.objects.filter(pk=message.pk).update(state=OutboundState.DELIVERED)
    assert not outbox.due(later).exists()
