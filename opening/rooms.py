"""Live rooms: numbered events and idempotent commands, shared by the opening and evaluation rooms.

The database is the truth (DESIGN.md, "Live rooms"). A service that changes something calls
`append_event` inside its transaction; the event gets the room's next sequence number and is
broadcast to the room's channel group only after the transaction commits. A client that
reconnects sends the last number it saw and gets every later event from the database, once, in
order. A command carries a client-chosen id; `run_command` stores its result with that id, so a
retry returns the first result instead of acting twice.

The owner of a room is any model instance with a `room` property (its name) and a `last_seq`
integer field (its last event number).
"""

from __future__ import annotations

import logging
import re
from typing import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import DomainError
from opening.models import CommandReceipt, RoomEvent

logger = logging.getLogger(__name__)
COMMAND_ID = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


def group_name(room: str) -> str:
    return "room." + room


def event_message(event: RoomEvent) -> dict:
    return {"seq": event.seq, "kind": event.kind, "payload": event.payload, "at": event.created_at.isoformat()}


def append_event(owner, kind: str, payload: dict | None = None) -> RoomEvent:
    """Number, store and (after commit) broadcast one event of `owner`'s room. Must run inside the
    transaction of the change it reports."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("append_event must run inside the transaction of the change it reports")
    model = type(owner)
    model.objects.filter(pk=owner.pk).update(last_seq=F("last_seq") + 1)
    seq = model.objects.filter(pk=owner.pk).values_list("last_seq", flat=True).get()
    owner.last_seq = seq
    event = RoomEvent.objects.create(room=owner.room, seq=seq, kind=kind, payload=payload or {}, created_at=timezone.now())
    message = event_message(event)
    room = owner.room
    transaction.on_commit(lambda: broadcast(room, message))
    return event


def broadcast(room: str, message: dict) -> None:
    """Tell the room's connected clients. Losing this (a layer hiccup) loses nothing: clients that
    notice a gap in the numbers ask for the missing events."""
    try:
        async_to_sync(get_channel_layer().group_send)(group_name(room), {"type": "room.event", "event": message})
    except Exception:  # noqa: BLE001 - the event is committed; resync delivers it
        logger.exception("broadcast to %s failed", room)


def events_after(room: str, seq: int, limit: int = 1000) -> list[dict]:
    return [event_message(event) for event in RoomEvent.objects.filter(room=room, seq__gt=seq).order_by("seq")[:limit]]


def run_command(*, room: str, user, command_id: str, action: str, perform: Callable[[], dict]) -> dict:
    """Carry out `perform` once per (room, user, command id) and return its result.

    The result is {"ok": True, **data} or {"ok": False, "code", "detail"} for a refusal; both are
    kept, so a retry gets the same answer. `perform` runs in the same transaction as the receipt."""
    if not isinstance(command_id, str) or not COMMAND_ID.fullmatch(command_id):
        raise DomainError("command id must be 8–64 characters of letters, digits, _ . : -", code="bad_command_id")
    existing = CommandReceipt.objects.filter(room=room, user=user, command_id=command_id).first()
    if existing is not None:
        return {**existing.result, "repeated": True}
    try:
        with transaction.atomic():
            data = perform() or {}
            result = {"ok": True, **data}
            CommandReceipt.objects.create(room=room, user=user, command_id=command_id, action=action, result=result, created_at=timezone.now())
    except DomainError as error:
        result = {"ok": False, "code": error.code, "detail": str(error.message)}
        try:
            CommandReceipt.objects.create(room=room, user=user, command_id=command_id, action=action, result=result, created_at=timezone.now())
        except IntegrityError:
            pass
    except IntegrityError:
        # The same command arrived twice at once and the other one stored its receipt first.
        existing = CommandReceipt.objects.filter(room=room, user=user, command_id=command_id).first()
        if existing is None:
            raise
        return {**existing.result, "repeated": True}
    return result


def to_json(value) -> str:
    import json

    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


class CommandRegistry:
    """A room's commands by action name (the opening room's in opening/commands.py, the evaluation
    room's in evaluation/commands.py). Handlers take (by, session, args) and return the result's
    data; `dispatch` runs one once per client-chosen command id (`run_command`)."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable] = {}

    def command(self, action: str):
        def register(handler):
            self.handlers[action] = handler
            return handler

        return register

    def dispatch(self, *, by, session, action: str, command_id: str, args: dict) -> dict:
        handler = self.handlers.get(action)
        if handler is None:
            raise DomainError(_("未知的命令：%(action)s") % {"action": str(action)[:64]}, code="unknown_command")
        if not isinstance(args, dict):
            raise DomainError(_("命令参数应为 JSON 对象。"), code="bad_arguments")
        return run_command(room=session.room, user=by.user, command_id=command_id, action=action,
                           perform=lambda: handler(by, session, args))
