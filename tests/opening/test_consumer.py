"""The opening room's WebSocket (opening/consumers.py, docs/opening-room.md) against the real ASGI
application (session cookie → AuthMiddlewareStack → route → consumer), for every message type and
role: who gets in, what each role may command, the data key released over the socket, refusals of
bad messages that change nothing, idempotent retries, and resumption without loss or repetition.

With REDIS_URL set the channel layer is Redis (each test under its own key prefix, so runs sharing
a Redis never hear each other); otherwise it is the in-memory layer."""

from __future__ import annotations

import asyncio
import json
import os
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from config.asgi import application
from opening import rooms, services
from opening.consumers import MAX_MESSAGE_BYTES, MAX_STRIKES
from opening.models import BidOpening, CheckIn, CommandReceipt, DecryptionStatus, OpeningSession, RoomEvent, SessionState
from tests import factories
from tests.factories import actor, person

from .world import OpeningWorld, clock, dummy_tasks  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 5
OPEN: list[WebsocketCommunicator] = []


@pytest.fixture
async def layer(settings):
    """A channel layer of this test's own: Redis under a fresh prefix when REDIS_URL is set."""
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                               "CONFIG": {"hosts": [redis_url], "prefix": f"test-{uuid.uuid4().hex}"}}}
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.OPENING_ROOM_POLL_SECONDS = 60  # out of the way; test_events_written_elsewhere… sets its own
    OPEN.clear()
    yield get_channel_layer()
    for communicator in OPEN:  # a test that failed half-way leaves its sockets open
        try:
            await communicator.disconnect(timeout=TIMEOUT)
        except Exception:  # noqa: BLE001 - already gone
            pass
    OPEN.clear()
    # The consumers' database work ran in the worker thread: close its connections there (on
    # PostgreSQL an open one keeps the test database from being dropped).
    await database_sync_to_async(connections.close_all)()
    close_pools = getattr(get_channel_layer(), "close_pools", None)
    if close_pools is not None:
        await close_pools()


@pytest.fixture
def room(transactional_db, clock, dummy_tasks, layer):  # noqa: F811
    """Four bidders with real sealed bids; the room has opened at the deadline (event 1)."""
    world = OpeningWorld(clock)
    world.session = world.opened()
    return world


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Peer:
    """One browser tab in the room."""

    def __init__(self, communicator):
        self.ws = communicator
        self.ids = 0
        self.held: list[dict] = []  # events that arrived while waiting for a command's result

    async def send(self, message):
        await self.ws.send_to(text_data=message if isinstance(message, str) else json.dumps(message))

    async def receive(self) -> dict:
        if self.held:
            return self.held.pop(0)
        return json.loads(await self.ws.receive_from(timeout=TIMEOUT))

    async def hello(self, after: int = 0) -> dict:
        await self.send({"type": "hello", "after": after})
        return await self.receive()

    async def command(self, action: str, args: dict | None = None, *, command_id: str | None = None) -> dict:
        self.ids += 1
        command_id = command_id or f"cmd-{uuid.uuid4().hex[:12]}-{self.ids}"
        await self.send({"type": "command", "id": command_id, "action": action, "args": args or {}})
        while True:
            reply = json.loads(await self.ws.receive_from(timeout=TIMEOUT))
            if reply["type"] == "result":
                assert reply["id"] == command_id
                return reply
            self.held.append(reply)

    async def quiet(self, timeout: float = 0.3) -> bool:
        """Nothing more has arrived (held or on the socket)."""
        return not self.held and await self.ws.receive_nothing(timeout=timeout)

    async def events_until_quiet(self) -> list[dict]:
        received, self.held = self.held, []
        while not await self.ws.receive_nothing(timeout=0.3):
            received.append(await self.receive())
        return received

    async def closed_with(self) -> int:
        message = await self.ws.receive_output(timeout=TIMEOUT)
        assert message["type"] == "websocket.close", message
        return message["code"]

    async def leave(self):
        await self.ws.disconnect()


async def join(user, lot_id: int, *, language: str | None = None) -> Peer:
    headers = [(b"origin", b"http://testserver")]
    cookies = []
    if user is not None:
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={await database_sync_to_async(session_cookie)(user)}")
    if language:
        cookies.append(f"{settings.LANGUAGE_COOKIE_NAME}={language}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    communicator = WebsocketCommunicator(application, f"/ws/opening/{lot_id}/", headers=headers)
    OPEN.append(communicator)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return Peer(communicator)


async def joined(user, lot_id: int) -> Peer:
    peer = await join(user, lot_id)
    reply = await peer.hello(0)
    assert reply["type"] == "snapshot"
    return peer


def db(fn):
    return database_sync_to_async(fn)


@db
def check_in(world, count: int):
    for bidder in world.bidders[:count]:
        services.opening_check_in(by=actor(bidder.user), session=world.session)


@db
def start(world, minutes: int = 30):
    return services.opening_start_decryption(by=actor(world.host), session=world.session, window_minutes=minutes)


@db
def counts(world) -> tuple[int, int, int]:
    room = world.session.room
    return (RoomEvent.objects.filter(room=room).count(), CommandReceipt.objects.filter(room=room).count(),
            CheckIn.objects.filter(session=world.session).count())


@db
def status_of(bidder) -> str:
    return BidOpening.objects.get(bid=bidder.bid).status


# --- who gets in --------------------------------------------------------------------------------


async def test_anonymous_outsiders_and_rooms_that_do_not_exist_are_refused_at_connect(room):
    peer = await join(None, room.lot.pk)
    assert await peer.closed_with() == 4401
    await peer.leave()

    outsider = await db(person)("bidder")
    peer = await join(outsider, room.lot.pk)
    assert await peer.closed_with() == 4403
    await peer.leave()

    # A bidder of another tender (it obtained those documents) is just as much an outsider here.
    other_tender = await db(factories.make_tender)(await db(person)("agency"), state="published")
    elsewhere = await db(factories.register_bidder)(other_tender)
    peer = await join(elsewhere, room.lot.pk)
    assert await peer.closed_with() == 4403
    await peer.leave()

    other_lot = await db(lambda: other_tender.lots.get().pk)()
    peer = await join(room.host, other_lot)  # a lot whose room has not opened
    assert await peer.closed_with() == 4404
    await peer.leave()
    peer = await join(room.host, 987654)
    assert await peer.closed_with() == 4404
    await peer.leave()


async def test_a_refused_connection_hears_nothing_of_the_room(room):
    outsider = await db(person)("bidder")
    peer = await join(outsider, room.lot.pk)
    assert await peer.closed_with() == 4403
    await check_in(room, 1)
    assert await peer.quiet()
    await peer.leave()


# --- the snapshot, per role ---------------------------------------------------------------------


async def test_every_role_gets_the_room_snapshot_and_only_a_bidder_its_own_header(room):
    await check_in(room, 3)
    host, tenderer, regulator, bidder = [await join(user, room.lot.pk) for user in (room.host, room.tenderer, room.regulator, room.bidders[0].user)]
    snapshots = {name: await peer.hello(0) for name, peer in
                 {"host": host, "tenderer": tenderer, "regulator": regulator, "bidder": bidder}.items()}
    for name, snapshot in snapshots.items():
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 4  # opened + 3 check-ins
        state = snapshot["state"]
        assert state["session"]["state"] == SessionState.CHECKIN and state["session"]["lot"]["id"] == room.lot.pk
        assert [row["bidder"] for row in state["bids"]] == [b.organisation.name for b in room.bidders]
        assert [c["name"] for c in state["checkins"]] == [b.organisation.name for b in room.bidders[:3]]
        assert [a["name"] for a in state["absent"]] == [room.bidders[3].organisation.name]
        assert all(row["status"] == DecryptionStatus.AWAITING and "price_fen" not in row for row in state["bids"])
    assert snapshots["host"]["state"]["viewer"]["role"] == "host" and snapshots["host"]["state"]["viewer"]["can_host"]
    assert snapshots["tenderer"]["state"]["viewer"]["role"] == "host"
    assert snapshots["regulator"]["state"]["viewer"] == {**snapshots["regulator"]["state"]["viewer"], "role": "supervisor",
                                                         "can_host": False, "can_participate": False}
    mine = snapshots["bidder"]["state"]
    assert mine["viewer"]["role"] == "bidder" and mine["viewer"]["can_participate"] and mine["viewer"]["checked_in"]
    own = [row for row in mine["bids"] if row["own"]]
    assert [row["bid"] for row in own] == [room.bidders[0].bid.pk]
    assert own[0]["header"]["key_commitment"] == room.bidders[0].bid.header["key_commitment"]
    assert all("header" not in row for row in mine["bids"] if not row["own"])
    for name in ("host", "tenderer", "regulator"):
        assert not any(row["own"] or "header" in row for row in snapshots[name]["state"]["bids"])
    for peer in (host, tenderer, regulator, bidder):
        await peer.leave()


async def test_no_data_key_ever_leaves_the_server(room):
    await check_in(room, 3)
    await start(room)
    bidder = room.bidders[0]
    peer = await joined(bidder.user, room.lot.pk)
    key = bidder.data_key().hex()
    assert (await peer.command("release_key", {"bid": bidder.bid.pk, "data_key": key}))["ok"]
    traffic = await peer.events_until_quiet()
    await peer.send({"type": "resync", "after": 0})
    traffic.append(await peer.receive())
    assert traffic[-1]["type"] == "snapshot"
    assert key not in json.dumps(traffic) and key.upper() not in json.dumps(traffic)
    await peer.leave()


async def test_ping_gets_the_server_time(room):
    peer = await join(room.regulator, room.lot.pk)
    await peer.send({"type": "ping"})
    pong = await peer.receive()
    assert pong["type"] == "pong" and pong["server_time"] == room.clock.moment.isoformat()
    assert pong["epoch_ms"] == int(room.clock.moment.timestamp() * 1000)
    await peer.leave()


# --- commands and roles -------------------------------------------------------------------------

HOST_COMMANDS = [
    ("start_decryption", {"window_minutes": 30}),
    ("abort", {"reason": "签到不足"}),
    ("close_window", {}),
    ("finish", {}),
    ("fail", {"reason": "有效投标不足"}),
    ("open_objections", {}),
    ("close_objections", {}),
    ("draft_record", {}),
    ("publish_record", {}),
]


async def test_host_commands_are_refused_for_bidders_and_regulators(room):
    await check_in(room, 3)
    bidder = await joined(room.bidders[0].user, room.lot.pk)
    regulator = await joined(room.regulator, room.lot.pk)
    before = await counts(room)
    for action, args in HOST_COMMANDS:
        refused = await bidder.command(action, args)
        assert (refused["ok"], refused["code"]) == (False, "forbidden"), action
        assert "主持人" in refused["detail"]
        watching = await regulator.command(action, args)
        assert (watching["ok"], watching["code"]) == (False, "forbidden"), action
        assert "只能观看" in watching["detail"]
    assert await counts(room) == before
    assert await db(lambda: OpeningSession.objects.get(pk=room.session.pk).state)() == SessionState.CHECKIN
    await bidder.leave()
    await regulator.leave()


async def test_bidder_commands_are_refused_for_the_host_and_regulators(room):
    await check_in(room, 3)
    await start(room)
    host = await joined(room.host, room.lot.pk)
    regulator = await joined(room.regulator, room.lot.pk)
    bidder = room.bidders[0]
    for peer in (host, regulator):
        for action, args in [("check_in", {}), ("release_key", {"bid": bidder.bid.pk, "data_key": bidder.data_key().hex()}),
                             ("raise_objection", {"text": "异议"}), ("confirm_record", {"signature": "ab" * 64}),
                             ("disagree_record", {"text": "不同意"})]:
            refused = await peer.command(action, args)
            assert (refused["ok"], refused["code"]) == (False, "forbidden"), action
    assert await status_of(bidder) == DecryptionStatus.AWAITING
    await host.leave()
    await regulator.leave()


async def test_a_bidder_releases_its_key_over_the_socket_in_the_window_once(room):
    bidder = room.bidders[0]
    await check_in(room, 3)
    peer = await joined(bidder.user, room.lot.pk)
    key = bidder.data_key().hex()

    early = await peer.command("release_key", {"bid": bidder.bid.pk, "data_key": key})
    assert (early["ok"], early["code"]) == (False, "opening_not_started")
    assert await status_of(bidder) == DecryptionStatus.AWAITING

    await start(room)
    started = await peer.receive()
    assert (started["type"], started["kind"]) == ("event", "decryption_started")

    others = await peer.command("release_key", {"bid": room.bidders[1].bid.pk, "data_key": room.bidders[1].data_key().hex()})
    assert (others["ok"], others["code"]) == (False, "not_your_bid")
    wrong = await peer.command("release_key", {"bid": bidder.bid.pk, "data_key": "00" * 32})
    assert (wrong["ok"], wrong["code"]) == (False, "wrong_key")

    released = await peer.command("release_key", {"bid": bidder.bid.pk, "data_key": key})
    assert released["ok"] is True and released["code"] == "ok" and "repeated" not in released
    event = await peer.receive()
    assert (event["kind"], event["payload"]["bid"]) == ("key_released", bidder.bid.pk)
    assert await status_of(bidder) == DecryptionStatus.RELEASED

    twice = await peer.command("release_key", {"bid": bidder.bid.pk, "data_key": key})
    assert (twice["ok"], twice["code"]) == (False, "already_released")
    assert await peer.quiet()
    await peer.leave()


async def test_objections_over_the_socket_reach_everyone_in_the_room(room):
    await check_in(room, 3)
    await start(room)
    host, bidder, regulator = (await joined(room.host, room.lot.pk), await joined(room.bidders[0].user, room.lot.pk),
                               await joined(room.regulator, room.lot.pk))
    closed = await bidder.command("raise_objection", {"text": "唱标有误"})
    assert (closed["ok"], closed["code"]) == (False, "objections_closed")
    assert (await host.command("open_objections"))["ok"]
    raised = await bidder.command("raise_objection", {"text": "唱标有误"})
    assert raised["ok"] and raised["objection"]
    answered = await host.command("answer_objection", {"objection": raised["objection"], "text": "已核对，无误。"})
    assert answered["ok"]
    for peer in (host, bidder, regulator):
        kinds = [event["kind"] for event in await peer.events_until_quiet() if event["type"] == "event"]
        assert kinds == ["objections_opened", "objection_raised", "objection_answered"]
    await regulator.send({"type": "resync", "after": 0})
    objections = (await regulator.receive())["state"]["objections"]
    assert [(o["text"], o["answer"], o["bidder"]) for o in objections] == [("唱标有误", "已核对，无误。", room.bidders[0].organisation.name)]
    for peer in (host, bidder, regulator):
        await peer.leave()


async def test_a_retried_command_returns_the_first_result_and_acts_once(room):
    await check_in(room, 3)
    host = await joined(room.host, room.lot.pk)
    first = await host.command("start_decryption", {"window_minutes": 45}, command_id="start-0001")
    assert first["ok"] and "repeated" not in first
    assert (await host.receive())["kind"] == "decryption_started"
    again = await host.command("start_decryption", {"window_minutes": 45}, command_id="start-0001")
    assert again == {**first, "repeated": True}
    assert await host.quiet()  # no second event
    assert await db(lambda: RoomEvent.objects.filter(room=room.session.room, kind="decryption_started").count())() == 1
    # A refusal is kept too: the retry gets the same answer.
    bidder = await joined(room.bidders[0].user, room.lot.pk)
    refused = await bidder.command("release_key", {"bid": room.bidders[0].bid.pk, "data_key": "11" * 32}, command_id="key-00000001")
    assert await bidder.command("release_key", {"bid": room.bidders[0].bid.pk, "data_key": room.bidders[0].data_key().hex()},
                                command_id="key-00000001") == {**refused, "repeated": True}
    assert await status_of(room.bidders[0]) == DecryptionStatus.AWAITING
    await host.leave()
    await bidder.leave()


async def test_an_unknown_command_or_bad_arguments_are_refused_and_change_nothing(room):
    await check_in(room, 3)
    host = await joined(room.host, room.lot.pk)
    before = await counts(room)
    unknown = await host.command("explode", {})
    assert (unknown["ok"], unknown["code"]) == (False, "unknown_command")
    bad = await host.command("start_decryption", {"window_minutes": "sixty"})
    assert (bad["ok"], bad["code"]) == (False, "bad_arguments")
    assert await counts(room) == (before[0], before[1] + 1, before[2])  # the refusal's receipt only
    await host.leave()


# --- bad messages -------------------------------------------------------------------------------

BAD_MESSAGES = [
    ("not json {", "malformed"),
    ('["hello", 0]', "malformed"),
    ('{"after": 0}', "malformed"),
    ('{"type": 7}', "malformed"),
    ('{"type": "shout"}', "unknown_type"),
    ('{"type": "hello", "after": "3"}', "malformed"),
    ('{"type": "hello", "after": -1}', "malformed"),
    ('{"type": "resync", "after": true}', "malformed"),
    ('{"type": "command", "id": "short", "action": "check_in", "args": {}}', "bad_command_id"),
    ('{"type": "command", "id": 12345678, "action": "check_in", "args": {}}', "bad_command_id"),
    ('{"type": "command", "id": "cmd-00000001", "args": {}}', "malformed"),
    ('{"type": "command", "id": "cmd-00000002", "action": "check_in", "args": []}', "malformed"),
]


async def test_malformed_and_oversized_messages_get_an_error_and_change_nothing(room):
    before = await counts(room)
    oversized = json.dumps({"type": "command", "id": "cmd-00000003", "action": "check_in", "args": {"pad": "x" * MAX_MESSAGE_BYTES}})
    wide = json.dumps({"type": "ping", "pad": "开" * (MAX_MESSAGE_BYTES // 3)})  # under the limit in characters, over it in UTF-8
    messages = BAD_MESSAGES + [(oversized, "too_large"), (wide, "too_large"), (b"\x00\x01", "malformed")]
    per_connection = MAX_STRIKES - 1  # the connection stays open below the abuse limit
    for start in range(0, len(messages), per_connection):
        peer = await joined(room.bidders[0].user, room.lot.pk)
        for message, code in messages[start:start + per_connection]:
            if isinstance(message, bytes):
                await peer.ws.send_to(bytes_data=message)
            else:
                await peer.send(message)
            reply = await peer.receive()
            assert (reply["type"], reply["code"]) == ("error", code), message[:60]
            assert reply["detail"]
        await peer.send({"type": "ping"})
        assert (await peer.receive())["type"] == "pong"  # still connected
        await peer.leave()
    assert await counts(room) == before


async def test_repeated_abuse_closes_the_connection(room):
    peer = await joined(room.regulator, room.lot.pk)
    for _ in range(MAX_STRIKES):
        await peer.send("{{{")
        assert (await peer.receive())["type"] == "error"
    assert await peer.closed_with() == 4400
    await peer.leave()


async def test_errors_speak_the_users_language(room):
    peer = await join(room.bidders[0].user, room.lot.pk, language="en")
    await peer.send("nope")
    assert (await peer.receive())["detail"] == "The message is not valid JSON."
    await peer.hello(0)
    refused = await peer.command("start_decryption", {})
    assert refused["code"] == "forbidden" and "host" in refused["detail"]
    await peer.leave()


# --- resumption and live events -----------------------------------------------------------------


async def test_reconnecting_with_after_k_gets_exactly_the_missed_events_once_in_order(room):
    await check_in(room, 4)  # events 2..5
    await start(room)  # event 6
    peer = await join(room.regulator, room.lot.pk)
    await peer.send({"type": "hello", "after": 2})
    missed = [await peer.receive() for _ in range(4)]
    assert [(m["type"], m["seq"]) for m in missed] == [("event", 3), ("event", 4), ("event", 5), ("event", 6)]
    assert [m["kind"] for m in missed] == ["checked_in", "checked_in", "checked_in", "decryption_started"]
    assert missed[0]["payload"]["name"] == room.bidders[1].organisation.name and missed[0]["at"]
    assert await peer.quiet()
    # Live from here on, once each.
    bidder = room.bidders[2]
    await db(services.opening_release_key)(by=actor(bidder.user), bid_opening=await db(BidOpening.objects.get)(bid=bidder.bid),
                                           data_key=bidder.data_key())
    live = await peer.receive()
    assert (live["seq"], live["kind"]) == (7, "key_released")
    assert await peer.quiet()
    # Up to date: nothing to replay. Far behind or from nowhere: the snapshot.
    await peer.send({"type": "resync", "after": 7})
    assert await peer.quiet()
    await peer.send({"type": "resync", "after": 99})
    snapshot = await peer.receive()
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 7
    await peer.leave()


async def test_two_clients_both_receive_a_live_event(room):
    host = await joined(room.host, room.lot.pk)
    bidder = await joined(room.bidders[1].user, room.lot.pk)
    result = await bidder.command("check_in")
    assert result["ok"]
    for peer in (host, bidder):
        event = await peer.receive()
        assert (event["type"], event["seq"], event["kind"]) == ("event", 2, "checked_in")
        assert event["payload"]["organisation"] == room.bidders[1].organisation.pk
        assert await peer.quiet()
    await host.leave()
    await bidder.leave()


async def test_a_lost_broadcast_is_filled_in_from_the_database(room, monkeypatch):
    peer = await joined(room.host, room.lot.pk)
    real_broadcast = rooms.broadcast
    monkeypatch.setattr(rooms, "broadcast", lambda room_name, message: None)
    await check_in(room, 1)  # event 2, never broadcast
    monkeypatch.setattr(rooms, "broadcast", real_broadcast)
    assert await peer.quiet()
    await db(services.opening_check_in)(by=actor(room.bidders[1].user), session=room.session)  # event 3
    received = [await peer.receive(), await peer.receive()]
    assert [(e["seq"], e["payload"]["name"]) for e in received] == [
        (2, room.bidders[0].organisation.name), (3, room.bidders[1].organisation.name)]
    # A late or repeated broadcast of an event already sent is dropped.
    old = await db(lambda: rooms.event_message(RoomEvent.objects.get(room=room.session.room, seq=2)))()
    await get_channel_layer().group_send(rooms.group_name(room.session.room), {"type": "room.event", "event": old})
    assert await peer.quiet()
    await peer.leave()


async def test_events_written_elsewhere_arrive_by_the_periodic_look_in_the_database(room, monkeypatch, settings):
    """With the in-memory layer the background worker's broadcasts (price readings) stay in its
    own process: the consumer's periodic look finds them."""
    settings.OPENING_ROOM_POLL_SECONDS = 0.2
    peer = await joined(room.host, room.lot.pk)
    monkeypatch.setattr(rooms, "broadcast", lambda room_name, message: None)
    await check_in(room, 2)  # events 2 and 3, never broadcast
    received = [await peer.receive(), await peer.receive()]
    assert [(e["seq"], e["kind"]) for e in received] == [(2, "checked_in"), (3, "checked_in")]
    assert await peer.quiet(0.6)  # each once
    await peer.leave()


async def test_events_before_hello_are_not_forwarded_but_come_with_the_hello(room):
    peer = await join(room.host, room.lot.pk)
    await check_in(room, 1)
    assert await peer.quiet()
    await peer.send({"type": "hello", "after": 1})
    event = await peer.receive()
    assert (event["seq"], event["kind"]) == (2, "checked_in")
    await peer.leave()


async def test_a_user_who_loses_access_is_closed_at_the_next_message(room):
    peer = await joined(room.bidders[0].user, room.lot.pk)

    @db
    def deactivate():
        user = room.bidders[0].user
        user.is_active = False
        user.save(update_fields=["is_active"])

    await deactivate()
    await peer.send({"type": "command", "id": "cmd-after-leaving", "action": "check_in", "args": {}})
    assert await peer.closed_with() == 4403
    assert await db(lambda: CheckIn.objects.count())() == 0
    await peer.leave()


async def test_concurrent_identical_commands_act_once(room):
    await check_in(room, 3)
    first, second = await joined(room.host, room.lot.pk), await joined(room.host, room.lot.pk)
    results = await asyncio.gather(first.command("start_decryption", command_id="same-start-id"),
                                   second.command("start_decryption", command_id="same-start-id"))
    assert all(r["ok"] for r in results) and sorted(bool(r.get("repeated")) for r in results) == [False, True]
    assert await db(lambda: RoomEvent.objects.filter(kind="decryption_started").count())() == 1
    await first.leave()
    await second.leave()
