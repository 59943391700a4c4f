"""The room's WebSocket for an away expert signed in through federation: its own lot's room admits
it as a panel member (check-in works as for a home expert); another lot's evaluation room, even
with a seat there, and any other socket (the opening room) are closed with 4403
(crossregion/confinement.py FederatedSocketConfinement and evaluation/consumers.py)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from config.asgi import application
from evaluation.models import PanelMember
from tests.evaluation.world import EvaluationWorld, clock  # noqa: F401  (fixture)
from tests.opening.test_consumer import OPEN, TIMEOUT, Peer, layer  # noqa: F401  (layer: fixture)
from tests.tendering.conftest import _fast_and_isolated  # noqa: F401  (autouse fixture)

from .conftest import signed_agreement
from .federation_helpers import confined_client, make_away, shadow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worlds(transactional_db, clock, layer, partner):  # noqa: F811
    signed_agreement(partner)
    first, second = EvaluationWorld(clock), EvaluationWorld(clock)
    first.seated(experts=5)
    second.seated(experts=5)
    user = shadow(partner)
    for world in (first, second):
        member = make_away(world.members[4])
        member.user = user
        member.save(update_fields=["user"])
    first.away_user = user
    return first, second


async def connect(cookie: str | None, path: str) -> Peer:
    headers = [(b"origin", b"http://testserver")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    OPEN.append(communicator)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return Peer(communicator)


@database_sync_to_async
def cookie_for(user, lot_id) -> str:
    return confined_client(user, lot_id).cookies[settings.SESSION_COOKIE_NAME].value


async def test_the_away_expert_checks_in_in_its_own_room(worlds):
    first, _ = worlds
    cookie = await cookie_for(first.away_user, first.lot.pk)
    peer = await connect(cookie, f"/ws/evaluation/{first.lot.pk}/")
    snapshot = await peer.hello(0)
    assert snapshot["type"] == "snapshot" and snapshot["state"]["viewer"]["role"] == "member" and snapshot["state"]["viewer"]["seat"] == 5
    reply = await peer.command("check_in", {"pledge": True})
    assert reply["ok"] is True, reply
    member = await database_sync_to_async(PanelMember.objects.get)(pk=first.members[4].pk)
    assert member.checked_in_at is not None


async def test_another_room_and_other_sockets_are_closed(worlds):
    first, second = worlds
    cookie = await cookie_for(first.away_user, first.lot.pk)
    peer = await connect(cookie, f"/ws/evaluation/{second.lot.pk}/")
    assert await peer.closed_with() == 4403
    peer = await connect(cookie, f"/ws/opening/{first.lot.pk}/")
    assert await peer.closed_with() == 4403
    # without its lot in the session, not even its own room
    bare = await cookie_for(first.away_user, None)
    peer = await connect(bare, f"/ws/evaluation/{first.lot.pk}/")
    assert await peer.closed_with() == 4403


async def test_the_consumer_itself_refuses_another_lot(worlds):
    """Behind the ASGI confinement, evaluation/consumers.py checks again."""
    from crossregion.confinement import SESSION_LOT_KEY, socket_lot_refused

    first, second = worlds
    scope = {"user": first.away_user, "session": {SESSION_LOT_KEY: first.lot.pk}}
    assert await database_sync_to_async(socket_lot_refused)(scope, second.lot.pk) is True
    assert await database_sync_to_async(socket_lot_refused)(scope, first.lot.pk) is False
    home = {"user": second.members[0].user, "session": {}}
    assert await database_sync_to_async(socket_lot_refused)(home, second.lot.pk) is False


@database_sync_to_async
def federated_cookie(world, partner) -> str:
    """Sign in through POST /crossregion/federated-login/ with a partner's token, as the browser does."""
    from django.test import Client

    from .federation_helpers import away_expert_id, signing_key, token

    member = world.members[3]
    expert_id = away_expert_id()
    make_away(member, expert_id=expert_id, jwk=signing_key()[1])
    client = Client()
    response = client.post("/crossregion/federated-login/", {"token": token(sub=expert_id, session=world.lot.pk)})
    assert response.status_code == 302, response.content
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def test_a_token_signed_in_expert_joins_and_checks_in_over_the_socket(worlds, partner):
    first, second = worlds
    cookie = await federated_cookie(first, partner)
    peer = await connect(cookie, f"/ws/evaluation/{first.lot.pk}/")
    snapshot = await peer.hello(0)
    assert snapshot["state"]["viewer"]["role"] == "member" and snapshot["state"]["viewer"]["seat"] == 4
    reply = await peer.command("check_in", {"pledge": True})
    assert reply["ok"] is True, reply
    other = await connect(cookie, f"/ws/evaluation/{second.lot.pk}/")
    assert await other.closed_with() == 4403


async def test_once_the_agreement_is_revoked_the_socket_is_refused(worlds, partner):
    first, _ = worlds
    cookie = await cookie_for(first.away_user, first.lot.pk)
    await database_sync_to_async(lambda: partner.agreements.update(state="revoked"))()
    peer = await connect(cookie, f"/ws/evaluation/{first.lot.pk}/")
    assert await peer.closed_with() == 4403


async def test_an_open_socket_is_closed_at_its_next_message_once_the_agreement_is_revoked(worlds, partner):
    first, _ = worlds
    cookie = await cookie_for(first.away_user, first.lot.pk)
    peer = await connect(cookie, f"/ws/evaluation/{first.lot.pk}/")
    assert (await peer.hello(0))["type"] == "snapshot"
    await database_sync_to_async(lambda: partner.agreements.update(state="revoked"))()
    await peer.send({"type": "command", "id": "cmd-after-revoke-1", "action": "check_in", "args": {"pledge": True}})
    assert await peer.closed_with() == 4403
    member = await database_sync_to_async(PanelMember.objects.get)(pk=first.members[4].pk)
    assert member.checked_in_at is None
