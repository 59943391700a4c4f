"""The evaluation room over HTTP (evaluation/api_room.py): the same admission, snapshot, events and
idempotent commands as the WebSocket, for clients without a socket (a bearer token)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from audit.actor import Actor
from evaluation.models import PanelMember
from tests.evaluation.world import EvaluationWorld
from tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock):
    w = EvaluationWorld(clock)
    w.seated(experts=5)
    return w


def client_of(user) -> APIClient:
    client = APIClient()
    _, secret = api_token_create(by=Actor.from_user(user), user=user, name="room tests")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def url(world, tail: str = "") -> str:
    return f"/api/v1/evaluation/lots/{world.lot.pk}/room/{tail}"


def test_a_member_checks_in_over_http_once_per_command_id(world):
    client = client_of(world.members[0].user)
    snapshot = client.get(url(world))
    assert snapshot.status_code == 200 and snapshot.json()["state"]["viewer"]["seat"] == 1
    command = {"id": "http-check-in-1", "action": "check_in", "args": {"pledge": True}}
    first = client.post(url(world, "commands/"), command, format="json")
    assert first.status_code == 200 and first.json()["ok"] is True
    again = client.post(url(world, "commands/"), command, format="json")
    assert again.status_code == 200 and again.json()["repeated"] is True
    events = client.get(url(world, "events/"), {"after": 0}).json()["events"]
    assert [e["kind"] for e in events] == ["member.checked_in"]
    assert client.get(url(world, "events/"), {"after": events[-1]["seq"]}).json()["events"] == []
    assert PanelMember.objects.get(pk=world.members[0].pk).checked_in_at is not None


def test_refusals_over_http(world, clock):
    member = client_of(world.members[0].user)
    reply = member.post(url(world, "commands/"), {"id": "http-no-pledge", "action": "check_in", "args": {"pledge": False}}, format="json")
    assert reply.status_code == 400 and reply.json()["code"] == "pledge_required"
    reply = member.post(url(world, "commands/"), {"id": "x", "action": "check_in"}, format="json")
    assert reply.status_code == 400
    assert member.get(url(world, "events/"), {"after": "soon"}).status_code == 400

    watcher = client_of(world.regulator)
    assert watcher.get(url(world)).status_code == 200
    reply = watcher.post(url(world, "commands/"), {"id": "http-watcher-1", "action": "check_in", "args": {"pledge": True}}, format="json")
    assert reply.status_code == 403 and "只能观看" in reply.json()["detail"]

    now = clock()
    other = EvaluationWorld(clock)
    other.seated(experts=5)
    clock.set(now)
    for outsider in (other.members[0].user, world.bidders[0].user, person("bidder")):
        assert client_of(outsider).get(url(world)).status_code == 404

    clock.set(world.session.ends_at + timedelta(minutes=1))
    assert member.get(url(world)).status_code == 403
    assert PanelMember.objects.get(pk=world.members[0].pk).checked_in_at is None
