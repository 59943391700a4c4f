"""The outbox: messages to partners, written in the caller's transaction and delivered after commit.

`send` stores an OutboundMessage; after commit a django-tasks job (`crossregion.tasks.deliver`)
POSTs it. Every attempt is a new envelope — fresh nonce and sent_at, same idempotency key — signed
with the platform key, so a retry minutes later is neither stale nor a replay, and the partner acts
on it once. 5xx, network errors and 409 "replayed" are retried after 5 s × 2^(n-1), at most 10 min,
for ever; any other 4xx is a permanent failure shown to centre staff (who may retry it). The
chronograph queues due messages again (a job lost with a worker), and every job is idempotent.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import platform_key
from audit.actor import Actor
from audit.services import record_event
from config.errors import DomainError
from crossregion import protocol
from crossregion.handlers import delivered_hook_for
from crossregion.identity import OUTBOX_ACTOR_NAME, own_key_id, own_region
from crossregion.models import OutboundMessage, OutboundState, Partner

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 15
REQUEUE_AFTER = timedelta(seconds=60)  # a queued job not run by then is queued again
MAX_RESPONSE_BYTES = protocol.MAX_REPLICATION_BYTES


def send(*, partner: Partner, type: str, body: dict, idempotency_key: str) -> OutboundMessage:
    """Queue a message to `partner`; delivered after the caller's transaction commits.

    Sending the same idempotency key again with the same type, partner and body returns the
    message already queued (so a service repeated is harmless); with anything else it is refused.
    Apart from agreement.* messages, there must be a valid agreement covering the type's area."""
    from crossregion.selectors import valid_agreement

    try:
        protocol.check_type(type)
        protocol.check_idempotency_key(idempotency_key)
        protocol.canonical_bytes(body)
    except protocol.Malformed as exc:
        raise DomainError(exc.detail, code="malformed") from None
    if not isinstance(body, dict):
        raise DomainError("body: not an object", code="malformed")
    existing = OutboundMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.partner_id == partner.pk and existing.type == type and protocol.body_hash(existing.body) == protocol.body_hash(body):
            return existing
        raise DomainError(_("幂等键已用于另一条消息。"), code="idempotency_conflict")
    area = protocol.area_of(type)
    if area != "agreement" and valid_agreement(partner, area=area) is None:
        raise DomainError(_("与%(partner)s没有有效的合作框架协议（范围：%(area)s）。") % {"partner": partner.name, "area": area}, code="no_agreement")
    message = OutboundMessage.objects.create(partner=partner, type=type, idempotency_key=idempotency_key, body=body)
    transaction.on_commit(lambda pk=message.pk: enqueue(pk))
    return message


def enqueue(message_id: int, *, run_after: datetime | None = None) -> None:
    """Queue a delivery job (deferred to `run_after` where the task backend can defer)."""
    from crossregion import tasks

    OutboundMessage.objects.filter(pk=message_id).update(enqueued_at=timezone.now())
    task = tasks.deliver
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    task.enqueue(message_id)


def due(now: datetime | None = None):
    """Pending messages due for an attempt and not queued within the last minute (chronograph)."""
    now = now or timezone.now()
    from django.db.models import Q

    return OutboundMessage.objects.filter(state=OutboundState.PENDING, next_attempt_at__lte=now).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - REQUEUE_AFTER)
    ).select_related("partner")


def _claim(message_id: int, now: datetime) -> OutboundMessage | None:
    """Take the message for one attempt: counts it and moves next_attempt_at past the backoff, so a
    second job meanwhile finds it not due. None if delivered, failed or not due."""
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().select_related("partner").filter(pk=message_id).first()
        if message is None or message.state != OutboundState.PENDING or message.next_attempt_at > now:
            return None
        message.attempts += 1
        message.last_attempt_at = now
        message.next_attempt_at = now + timedelta(seconds=protocol.backoff_seconds(message.attempts))
        message.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
        return message


def signed_request(message: OutboundMessage, now: datetime) -> bytes:
    """The wire bytes of one attempt: a fresh envelope signed with the platform key."""
    envelope = protocol.build_envelope(
        type=message.type, sender=own_region(), recipient=message.partner.region_code, key_id=own_key_id(),
        body=message.body, idempotency_key=message.idempotency_key, sent_at=now,
    )
    return protocol.wire(envelope, protocol.sign_envelope(envelope, platform_key.private_key()))


def post(url: str, data: bytes) -> tuple[int | None, bytes, str]:
    """(HTTP status or None, response bytes, network error text). Direct connection (no proxy)."""
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read(MAX_RESPONSE_BYTES + 1), ""
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, exc.read(MAX_RESPONSE_BYTES + 1), ""
        finally:
            exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, b"", repr(getattr(exc, "reason", exc))


def _decode(raw: bytes) -> dict | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def deliver(message_id: int, *, now: datetime | None = None) -> str:
    """One delivery attempt; returns the message's state afterwards ("delivered", "pending",
    "failed"), or "skipped" when there was nothing to do (already delivered, failed, not due)."""
    now = now or timezone.now()
    message = _claim(message_id, now)
    if message is None:
        return "skipped"
    status, raw, network_error = post(message.partner.inbox_url, signed_request(message, now))
    answer = _decode(raw) if raw else None
    if status == 200 and answer is not None and answer.get("ok") is True:
        return _delivered(message, status, answer)
    code = (answer or {}).get("code", "")
    detail = network_error or f"HTTP {status} {code}: {(answer or {}).get('detail', raw[:200].decode('utf-8', 'replace'))}"
    transient = status is None or status >= 500 or status == 200 or (status == 409 and code == "replayed")
    if transient:
        OutboundMessage.objects.filter(pk=message.pk, state=OutboundState.PENDING).update(last_status=status, last_error=detail)
        enqueue(message.pk, run_after=message.next_attempt_at)
        logger.info("cross-region delivery of %s will be retried at %s: %s", message, message.next_attempt_at, detail)
        return OutboundState.PENDING
    return _failed(message, status, answer, detail)


@transaction.atomic
def _delivered(message: OutboundMessage, status: int, answer: dict) -> str:
    message = OutboundMessage.objects.select_for_update().select_related("partner").get(pk=message.pk)
    if message.state != OutboundState.PENDING:
        return "skipped"
    message.state = OutboundState.DELIVERED
    message.response, message.last_status, message.last_error = answer, status, ""
    message.delivered_at = timezone.now()
    message.save(update_fields=["state", "response", "last_status", "last_error", "delivered_at"])
    record_event(by=Actor.system(OUTBOX_ACTOR_NAME), action="crossregion.message_delivered", obj=message, payload={
        "type": message.type, "to": message.partner.region_code, "idempotency_key": message.idempotency_key,
        "attempts": message.attempts, "body_sha256": protocol.body_hash(message.body),
    })
    hook = delivered_hook_for(message.type)
    if hook is not None:
        hook(message=message, result=answer.get("result"))
    return OutboundState.DELIVERED


@transaction.atomic
def _failed(message: OutboundMessage, status: int | None, answer: dict | None, detail: str) -> str:
    message = OutboundMessage.objects.select_for_update().select_related("partner").get(pk=message.pk)
    if message.state != OutboundState.PENDING:
        return "skipped"
    message.state = OutboundState.FAILED
    message.response, message.last_status, message.last_error = answer, status, detail
    message.save(update_fields=["state", "response", "last_status", "last_error"])
    record_event(by=Actor.system(OUTBOX_ACTOR_NAME), action="crossregion.message_failed", obj=message, payload={
        "type": message.type, "to": message.partner.region_code, "idempotency_key": message.idempotency_key,
        "status": status, "code": (answer or {}).get("code", ""),
    })
    logger.warning("cross-region delivery of %s failed for good: %s", message, detail)
    return OutboundState.FAILED


@transaction.atomic
def outbound_retry(*, by: Actor, message: OutboundMessage) -> OutboundMessage:
    """Centre staff send a failed message again (after the cause was fixed with the partner)."""
    from accounts.permissions import require

    require(by.user, "crossregion.manage", message.partner)
    message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.state != OutboundState.FAILED:
        raise DomainError(_("只有送达失败的消息可以重新发送。"), code="not_failed")
    message.state = OutboundState.PENDING
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["state", "next_attempt_at"])
    record_event(by=by, action="crossregion.message_retry", obj=message, payload={"type": message.type, "idempotency_key": message.idempotency_key})
    transaction.on_commit(lambda pk=message.pk: enqueue(pk))
    return message
