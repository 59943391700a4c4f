"""The opening room's WebSocket: /ws/opening/<lot_id>/ (protocol: docs/opening-room.md).

The consumer is a thin relay. On connect it checks who is there (rule opening.view) and joins the
room's channel group; the client's `hello` gets either the snapshot or the events it missed; a
`command` goes to opening.commands.dispatch in a worker thread, where the services authorise it
(per message) and act; live events from the group are forwarded in sequence order. The consumer
itself never changes anything and never keeps state beyond the last event number it has sent.

Delivery: the consumer sends each event number once, in order. A live event that would skip
numbers (a broadcast lost or overtaken) makes it read the missing ones from the database first.
Every few seconds it also looks in the database for events it has not sent: a broadcast can be
lost, and with the in-memory channel layer (no REDIS_URL) events written by another process (the
background worker's price readings) never reach this one's group at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.permissions import can
from audit.actor import Actor, client_ip
from config.errors import DomainError
from opening import commands, selectors
from opening.models import OpeningSession
from opening.rooms import COMMAND_ID, events_after, group_name

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024
MAX_STRIKES = 5  # malformed, oversized or unknown messages before the connection is closed
MAX_REPLAY = 500  # a client further behind than this gets the snapshot instead
CLOSE_BAD_CLIENT, CLOSE_ANONYMOUS, CLOSE_FORBIDDEN, CLOSE_NO_SESSION = 4400, 4401, 4403, 4404
MAX_ACTION_CHARS = 64
DEFAULT_POLL_SECONDS = 2.0  # settings.OPENING_ROOM_POLL_SECONDS overrides


def _language(scope) -> str:
    """The user's language from the language cookie or Accept-Language, as for pages."""
    headers = {name.decode("latin1").lower(): value.decode("latin1") for name, value in scope.get("headers", [])}
    shim = SimpleNamespace(COOKIES=scope.get("cookies", {}), META={"HTTP_ACCEPT_LANGUAGE": headers.get("accept-language", "")})
    try:
        return translation.get_language_from_request(shim, check_path=False)
    except Exception:  # noqa: BLE001 - a strange header falls back to the default
        return settings.LANGUAGE_CODE


def _ip(scope) -> str | None:
    headers = {name.decode("latin1").lower(): value.decode("latin1") for name, value in scope.get("headers", [])}
    client = scope.get("client") or [None]
    return client_ip({"REMOTE_ADDR": client[0], "HTTP_X_FORWARDED_FOR": headers.get("x-forwarded-for", "")})


def _refusal_for(role: str) -> str:
    """A clear word for a command the viewer's role may not give."""
    if role == selectors.ROLE_SUPERVISOR:
        return _("您在开标室中只能观看（监督），不能执行此操作。")
    if role == selectors.ROLE_HOST:
        return _("此操作只能由投标人执行。")
    return _("您无权执行此操作：它由开标主持人执行，或贵单位目前不能参加开标。")


class OpeningRoomConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message):
        """As channels' dispatch, without its close_old_connections hop before every message: that
        hop runs on the one thread all database work shares, so with a busy room every broadcast
        to every member queued behind the room's writes. Every database access here goes through
        database_sync_to_async, which closes stale connections itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.sent_seq: int | None = None  # the last event number this client has (None before hello)
        self.strikes = 0
        self.closed = False
        self.poller = None
        self.poll_seconds = DEFAULT_POLL_SECONDS
        self.last_live_event = float("-inf")  # loop time of the last broadcast received
        self.language = _language(self.scope)
        self.ip = _ip(self.scope)
        # Accept first so that the browser sees the close code (a refused handshake shows as 1006).
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._close(CLOSE_ANONYMOUS)
            return
        self.user_id = user.pk
        found = await database_sync_to_async(self._admit)(int(self.scope["url_route"]["kwargs"]["lot_id"]), user)
        if isinstance(found, int):
            await self._close(found)
            return
        self.session_id, self.room = found
        self.group = group_name(self.room)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.groups.append(self.group)  # left again on disconnect
        self.poll_seconds = getattr(settings, "OPENING_ROOM_POLL_SECONDS", DEFAULT_POLL_SECONDS)
        self.poller = asyncio.ensure_future(self._poll_every(self.poll_seconds))

    async def _poll_every(self, seconds: float):
        """Ask this consumer (through its own channel, so it runs between other messages) to look
        for unsent events."""
        try:
            while not self.closed:
                await asyncio.sleep(seconds)
                try:
                    await self.channel_layer.send(self.channel_name, {"type": "room.poll"})
                except ChannelFull:
                    # The consumer is already behind on its messages; a poll queued behind them adds
                    # nothing. Dying here would leave a client that missed an event waiting for the next.
                    continue
                except Exception:  # noqa: BLE001 - a layer hiccup (e.g. a Redis timeout) must not stop the polling
                    logger.warning("room poll could not be queued; retrying", exc_info=True)
        except asyncio.CancelledError:
            pass

    async def disconnect(self, code):
        self._stop_polling()

    def _stop_polling(self):
        if self.poller is not None:
            self.poller.cancel()
            self.poller = None

    def _admit(self, lot_id: int, user):
        session = selectors.session_of_lot(lot_id)
        if session is None:
            return CLOSE_NO_SESSION
        if not can(user, "opening.view", session):
            return CLOSE_FORBIDDEN
        return session.pk, session.room

    async def _close(self, code: int):
        self.closed = True
        self._stop_polling()
        await self.close(code)

    async def send_json(self, content: dict):
        await self.send(text_data=json.dumps(content, cls=DjangoJSONEncoder, ensure_ascii=False))

    # --- client messages -------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.closed:
            return
        with translation.override(self.language):
            await self._receive(text_data)

    async def _receive(self, text_data):
        if text_data is None:
            return await self._bad("malformed", _("只接受文本（JSON）消息。"))
        if len(text_data) > MAX_MESSAGE_BYTES or len(text_data.encode("utf-8")) > MAX_MESSAGE_BYTES:
            return await self._bad("too_large", _("消息过大：每条消息不能超过 %(limit)s 字节。") % {"limit": MAX_MESSAGE_BYTES})
        try:
            message = json.loads(text_data)
        except ValueError:
            return await self._bad("malformed", _("消息不是有效的 JSON。"))
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return await self._bad("malformed", _("消息应为带 type 字段的 JSON 对象。"))
        handler = {"hello": self._hello, "resync": self._hello, "command": self._command, "ping": self._ping}.get(message["type"])
        if handler is None:
            return await self._bad("unknown_type", _("未知的消息类型：%(type)s") % {"type": message["type"][:40]})
        await handler(message)

    async def _bad(self, code: str, detail: str, **extra):
        """Refuse a message; nothing changes. Repeated abuse closes the connection."""
        self.strikes += 1
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})
        if self.strikes >= MAX_STRIKES:
            await self._close(CLOSE_BAD_CLIENT)

    async def _ping(self, message):
        now = timezone.now()
        await self.send_json({"type": "pong", "server_time": now.isoformat(), "epoch_ms": int(now.timestamp() * 1000)})

    async def _hello(self, message):
        after = message.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            return await self._bad("malformed", _("after 应为非负整数（已收到的最后一个事件序号）。"))
        outcome = await database_sync_to_async(self._catch_up)(after)
        if outcome is None:
            return await self._close(CLOSE_FORBIDDEN)
        for item in outcome:
            await self.send_json(item)

    def _catch_up(self, after: int) -> list[dict] | None:
        """The snapshot, or the events after `after` when the client is not too far behind."""
        with translation.override(self.language):
            user = self._fresh_user()
            session = OpeningSession.objects.select_related("lot__tender").get(pk=self.session_id)
            if user is None or not can(user, "opening.view", session):
                return None
            if 0 < after <= session.last_seq and session.last_seq - after <= MAX_REPLAY:
                events = events_after(self.room, after, limit=MAX_REPLAY + 1)
                if all(event["seq"] == after + n for n, event in enumerate(events, start=1)):
                    self.sent_seq = events[-1]["seq"] if events else after
                    return [{"type": "event", **event} for event in events]
            state, seq = selectors.room_snapshot(session, user)
            self.sent_seq = seq
            return [{"type": "snapshot", "state": state, "seq": seq}]

    def _fresh_user(self):
        user = get_user_model().objects.select_related("organisation").filter(pk=self.user_id, is_active=True).first()
        return user

    async def _command(self, message):
        command_id, action, args = message.get("id"), message.get("action"), message.get("args", {})
        if not isinstance(command_id, str) or not COMMAND_ID.fullmatch(command_id):
            return await self._bad("bad_command_id", _("命令 id 应为 8–64 个字母、数字或 _ . : - 字符。"))
        if not isinstance(action, str) or not 0 < len(action) <= MAX_ACTION_CHARS:
            return await self._bad("malformed", _("命令应有 action（命令名）。"), id=command_id)
        if not isinstance(args, dict):
            return await self._bad("malformed", _("命令参数 args 应为 JSON 对象。"), id=command_id)
        result = await database_sync_to_async(self._run)(command_id, action, args)
        if result is None:
            return await self._close(CLOSE_FORBIDDEN)
        result.setdefault("code", "ok")
        result.setdefault("detail", "")
        await self.send_json({**result, "type": "result", "id": command_id})

    def _run(self, command_id: str, action: str, args: dict) -> dict | None:
        with translation.override(self.language):
            user = self._fresh_user()
            session = OpeningSession.objects.select_related("lot__tender").get(pk=self.session_id)
            if user is None or not can(user, "opening.view", session):
                return None
            by = Actor.from_user(user, ip=self.ip)
            try:
                return commands.dispatch(by=by, session=session, action=action, command_id=command_id, args=args)
            except DomainError as error:
                return {"ok": False, "code": error.code, "detail": str(error.message)}
            except PermissionDenied:
                return {"ok": False, "code": "forbidden", "detail": _refusal_for(selectors.viewer_role(user, session))}
            except Exception:  # noqa: BLE001 - the transaction rolled back; say so rather than hang up
                logger.exception("opening room command %s (%s) failed", action, command_id)
                return {"ok": False, "code": "server_error", "detail": _("服务器出错，命令没有执行。请稍后重试。")}

    # --- live events -----------------------------------------------------------------------------

    async def room_event(self, message):
        """An event broadcast to the room after its transaction committed."""
        if self.closed or self.sent_seq is None:
            return  # before hello: the client's hello brings it from the database
        event = message.get("event") or {}
        seq = event.get("seq")
        self.last_live_event = asyncio.get_running_loop().time()
        if not isinstance(seq, int) or seq <= self.sent_seq:
            return
        if seq == self.sent_seq + 1:
            events = [event]
        else:
            events = await database_sync_to_async(events_after)(self.room, self.sent_seq, limit=MAX_REPLAY)
        await self._send_in_order(events)

    async def room_poll(self, message):
        """The periodic look in the database (see the module's docstring). Skipped while broadcasts
        arrive: a broadcast after a lost one shows the gap and fetches it; once the room falls
        quiet, the look resumes within one period."""
        if self.closed or self.sent_seq is None:
            return
        if asyncio.get_running_loop().time() - self.last_live_event < self.poll_seconds:
            return
        await self._send_in_order(await database_sync_to_async(events_after)(self.room, self.sent_seq, limit=MAX_REPLAY))

    async def _send_in_order(self, events: list[dict]):
        for item in events:
            if item["seq"] == self.sent_seq + 1:
                await self.send_json({"type": "event", **item})
                self.sent_seq = item["seq"]
