"""The evaluation room's WebSocket (evaluation/consumers.py, docs/evaluation-room.md) against the
real ASGI application: who gets in (this panel within its window; supervisors read-only; an expert
of another tender's room, bidders and outsiders refused), bad messages, the commands and their
refusals, and above all that no expert receives another expert's values before the chair locks
the stage. In-memory channel layer (or Redis under its own prefix with REDIS_URL), as in
tests/opening/test_consumer.py, whose Peer and layer fixture are reused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from config.asgi import application
from evaluation.models import ChairVote, Score, SessionState
from evaluation.services import room
from opening.consumers import MAX_MESSAGE_BYTES
from opening.models import RoomEvent
from tests.evaluation.room_helpers import by, chair, check_in_all, elect, fresh, lock, qualify_all
from tests.evaluation.world import EvaluationWorld
from tests.factories import person
from tests.opening.test_consumer import OPEN, TIMEOUT, Peer, layer, session_cookie  # noqa: F401  (layer: fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def db(fn):
    return database_sync_to_async(fn)


@pytest.fixture
def world(transactional_db, clock, layer):  # noqa: F811
    w = EvaluationWorld(clock)
    w.seated(experts=5)
    return w


async def join(user, lot_id: int) -> Peer:
    headers = [(b"origin", b"http://testserver")]
    if user is not None:
        cookie = await db(session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/evaluation/{lot_id}/", headers=headers)
    OPEN.append(communicator)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return Peer(communicator)


async def joined(user, lot_id: int) -> Peer:
    peer = await join(user, lot_id)
    reply = await peer.hello(0)
    assert reply["type"] == "snapshot", reply
    return peer


@db
def to_scoring(world):
    check_in_all(world)
    elect(world)
    qualify_all(world)
    lock(world, "qualification")


@db
def event_kinds(world) -> list[str]:
    return list(RoomEvent.objects.filter(room=world.session.room).order_by("seq").values_list("kind", flat=True))


# --- who gets in --------------------------------------------------------------------------------


async def test_outsiders_another_tenders_expert_and_missing_rooms_are_refused(world, clock):
    peer = await join(None, world.lot.pk)
    assert await peer.closed_with() == 4401

    for user in (await db(person)("bidder"), world.bidders[0].user, world.host, world.tenderer):
        peer = await join(user, world.lot.pk)
        assert await peer.closed_with() == 4403

    now = clock()
    other = await db(EvaluationWorld)(clock)
    await db(other.seated)(experts=5)
    clock.set(now)
    peer = await join(other.members[0].user, world.lot.pk)  # an expert, but of another tender's panel
    assert await peer.closed_with() == 4403
    # …who is welcome in their own room, in its window.
    clock.set(other.session.starts_at)
    mine = await joined(other.members[0].user, other.lot.pk)
    await mine.leave()
    clock.set(now)

    lot_without_session = await db(lambda: EvaluationWorld(clock).lot.pk)()
    clock.set(now)
    peer = await join(world.members[0].user, lot_without_session)
    assert await peer.closed_with() == 4404


async def test_members_only_within_the_window(world, clock):
    member = world.members[0]
    clock.set(world.session.starts_at - timedelta(minutes=5))
    peer = await join(member.user, world.lot.pk)
    error = await peer.receive()
    assert error["type"] == "error" and error["code"] == "outside_window" and "评标时间" in error["detail"]
    assert await peer.closed_with() == 4403

    clock.set(world.session.starts_at + timedelta(minutes=1))
    peer = await joined(member.user, world.lot.pk)
    # The window ends while connected: the next message is refused and the socket closed.
    clock.set(world.session.ends_at + timedelta(seconds=1))
    await peer.send({"type": "command", "id": "late-check-in-1", "action": "check_in", "args": {"pledge": True}})
    error = await peer.receive()
    assert error["code"] == "outside_window"
    assert await peer.closed_with() == 4403
    assert await db(lambda: type(member).objects.get(pk=member.pk).checked_in_at)() is None


async def test_supervisors_watch_read_only(world):
    for user in (world.centre, world.regulator):
        peer = await joined(user, world.lot.pk)
        reply = await peer.command("check_in", {"pledge": True})
        assert reply["ok"] is False and reply["code"] == "forbidden" and "只能观看" in reply["detail"]
        await peer.leave()
    assert await event_kinds(world) == []


async def test_bad_messages_get_clear_errors_and_change_nothing(world):
    peer = await joined(world.members[0].user, world.lot.pk)
    await peer.send("{not json")
    assert (await peer.receive())["code"] == "malformed"
    await peer.send(json.dumps({"type": "command", "id": "x" * 10, "action": "check_in", "args": {"pledge": True, "conflict": "x" * MAX_MESSAGE_BYTES}}))
    reply = await peer.receive()
    assert reply["code"] == "too_large" and "字节" in reply["detail"]
    await peer.send({"type": "dance"})
    assert (await peer.receive())["code"] == "unknown_type"
    reply = await peer.command("fly", {})
    assert reply["ok"] is False and reply["code"] == "unknown_command"
    reply = await peer.command("check_in", {"pledge": "yes"})
    assert reply["code"] == "bad_arguments"
    reply = await peer.command("check_in", {"pledge": False})
    assert reply["code"] == "pledge_required" and "承诺书" in reply["detail"]
    assert await event_kinds(world) == []


# --- commands ---------------------------------------------------------------------------------


async def test_check_in_and_election_over_the_socket(world):
    peers = [await joined(m.user, world.lot.pk) for m in world.members]
    for peer in peers:
        reply = await peer.command("check_in", {"pledge": True})
        assert reply["ok"], reply
    retry = await peers[0].command("vote_chair", {"candidate": 2}, command_id="vote-round-1-a")
    assert retry["ok"]
    again = await peers[0].command("vote_chair", {"candidate": 2}, command_id="vote-round-1-a")  # a retry: same answer
    assert again["ok"] and again["repeated"]
    second = await peers[0].command("vote_chair", {"candidate": 3})  # a second vote
    assert second["ok"] is False and second["code"] == "already_voted" and "每轮只能投一票" in second["detail"]
    assert await db(ChairVote.objects.count)() == 1
    for peer in peers[1:]:
        assert (await peer.command("vote_chair", {"candidate": 2}))["ok"]
    received = await peers[4].events_until_quiet()
    kinds = [m.get("kind") for m in received if m["type"] == "event"]
    assert "chair.elected" in kinds and kinds[-1] == "stage.opened"
    assert (await db(fresh)(world)).state == SessionState.REVIEWING


async def test_no_expert_receives_another_experts_values_before_the_lock(world):
    await to_scoring(world)
    a_member, b_member = world.members[0], world.members[1]
    a, b = await joined(a_member.user, world.lot.pk), await joined(b_member.user, world.lot.pk)
    values = {a_member.pk: {"T1": "17.5", "T2": "7.5", "C1": "6.5"}, b_member.pk: {"T1": "22.5", "T2": "8.5", "C1": "9.5"}}
    bids = [bidder.bid.pk for bidder in world.bidders]
    seen = {a_member.pk: [], b_member.pk: []}
    # Both score at the same time, criterion by criterion.
    for bid in bids:
        for code in ("T1", "T2", "C1"):
            for peer, member in ((a, a_member), (b, b_member)):
                reply = await peer.command("submit_score", {"bid": bid, "criterion": code, "value": values[member.pk][code]})
                assert reply["ok"], reply
                seen[member.pk].append(reply)
    for peer, member in ((a, a_member), (b, b_member)):
        seen[member.pk] += await peer.events_until_quiet()
        await peer.send({"type": "resync", "after": 0})  # a fresh snapshot too
        seen[member.pk].append(await peer.receive())

    def texts(member):
        return [json.dumps(message, ensure_ascii=False) for message in seen[member.pk]]

    progress = [m for m in seen[a_member.pk] if m.get("kind") == "sheet.progress"]
    assert {p["payload"]["seat"] for p in progress} == {1, 2}  # each saw the other's progress live…
    assert max(p["payload"]["done"] for p in progress if p["payload"]["seat"] == 2) == 12
    for text in texts(a_member):  # …and never the other's values
        assert not any(v in text for v in values[b_member.pk].values()), text
    for text in texts(b_member):
        assert not any(v in text for v in values[a_member.pk].values()), text
    assert any("17.5" in t for t in texts(a_member))  # (each sees its own)

    # The others complete the stage; the chair locks it; now everyone sees every value.
    @db
    def rest():
        for member in world.members[2:]:
            for bid in bids:
                for code, value in (("T1", 20), ("T2", 8), ("C1", 8)):
                    room.submit_score(by=by(member), session=fresh(world), bid=bid, criterion=code, value=value)
        lock(world, "scoring")

    await rest()
    locked = [m for m in await b.events_until_quiet() if m.get("kind") == "stage.locked"]
    assert len(locked) == 1
    revealed = {(s["seat"], s["criterion"]): s["value"] for s in locked[0]["payload"]["values"]["scores"]}
    assert revealed[(1, "T1")] == "17.50" and revealed[(2, "C1")] == "9.50"


async def test_someone_elses_sheet_a_locked_stage_and_unexplained_outliers_are_refused(world):
    await to_scoring(world)
    peer = await joined(world.members[0].user, world.lot.pk)
    bid = world.bidders[0].bid.pk
    reply = await peer.command("submit_score", {"bid": bid, "criterion": "T1", "value": 20, "seat": 2})
    assert reply["ok"] is False and reply["code"] == "not_own_sheet"
    reply = await peer.command("submit_score", {"bid": bid, "criterion": "T1", "value": 31})
    assert reply["code"] == "bad_score" and "超出范围" in reply["detail"]
    reply = await peer.command("submit_score", {"bid": bid, "criterion": "T1", "value": 20.3})
    assert reply["code"] == "bad_score" and "步长" in reply["detail"]
    assert await db(Score.objects.count)() == 0

    @db
    def everyone_scores():  # expert 1 gives 9 on T1 of the first bid, the others 24: an outlier
        for index, member in enumerate(world.members):
            for b in world.bidders:
                for code, value in (("T1", 24), ("T2", 8), ("C1", 8)):
                    value = 9 if (index, b.bid.pk, code) == (0, bid, "T1") else value
                    room.submit_score(by=by(member), session=fresh(world), bid=b.bid, criterion=code, value=value)
        return chair(world)

    chair_member = await everyone_scores()
    chair_peer = peer if chair_member.pk == world.members[0].pk else await joined(chair_member.user, world.lot.pk)
    reply = await chair_peer.command("lock_stage", {"stage": "scoring"})
    assert reply["ok"] is False and reply["code"] == "unexplained_outliers" and "专家1（1 项）" in reply["detail"]
    assert '"9' not in reply["detail"] and " 9" not in reply["detail"]
    # The expert sees their own flagged score in their snapshot; the room sees the count per seat.
    await peer.send({"type": "resync", "after": 0})
    snapshot = (await peer.receive())
    while snapshot["type"] != "snapshot":
        snapshot = await peer.receive()
    assert snapshot["state"]["my_outliers"] == [{"bid": bid, "criterion": "T1", "explained": False}]
    assert snapshot["state"]["outliers_pending"] == {"1": 1}
    reply = await peer.command("submit_score", {"bid": bid, "criterion": "T1", "value": 9, "reason": "缺少专项施工方案"})
    assert reply["ok"]
    assert (await chair_peer.command("lock_stage", {"stage": "scoring"}))["ok"]
    reply = await peer.command("submit_score", {"bid": bid, "criterion": "T1", "value": 10})
    assert reply["ok"] is False and reply["code"] == "stage_locked"
    member = next(m for m in world.members if m.pk != chair_member.pk)
    other = await joined(member.user, world.lot.pk)
    reply = await other.command("reopen_stage", {"stage": "scoring", "reason": "复核"})
    assert reply["ok"] is False and reply["code"] == "forbidden"
