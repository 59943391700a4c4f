"""The evaluation room page (/evaluation/lots/<lot>/room/): for the panel and, read-only, for
supervisors; nobody else learns it exists; the page carries the socket's path and its texts, never
anyone's values (they come over the socket, per viewer)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from evaluation.services import room
from tests.evaluation.room_helpers import by, check_in_all, elect, fresh, lock, qualify_all, score_all
from tests.evaluation.world import EvaluationWorld
from tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock):
    w = EvaluationWorld(clock)
    w.seated(experts=5)
    return w


def page(user, lot_id):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(reverse("evaluation:room", args=[lot_id]))


def config_of(response) -> dict:
    html = response.content.decode()
    start = html.index('id="evaluation-config"')
    body = html[html.index(">", start) + 1: html.index("</script>", start)]
    return json.loads(body)


def test_members_see_the_room_with_the_pledge_and_the_socket(world):
    response = page(world.members[0].user, world.lot.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert "评标专家承诺" in html or "郑重承诺" in html
    assert 'id="check-in"' in html and 'id="conflict"' in html
    config = config_of(response)
    assert config["ws_path"] == f"/ws/evaluation/{world.lot.pk}/" and config["role"] == "member"
    assert config["messages"]["events"]["stage.locked"]


def test_supervisors_watch_without_the_members_controls(world):
    for user in (world.centre, world.regulator):
        response = page(user, world.lot.pk)
        assert response.status_code == 200
        html = response.content.decode()
        assert config_of(response)["role"] == "watcher" and "只能观看" in html
        assert 'id="check-in"' not in html and 'id="vote"' not in html


def test_others_do_not_find_the_room(world, clock):
    now = clock()
    other = EvaluationWorld(clock)
    other.seated(experts=5)
    clock.set(now)
    for user in (other.members[0].user, world.bidders[0].user, world.host, world.tenderer, person("bidder")):
        assert page(user, world.lot.pk).status_code == 404
    assert page(world.members[0].user, other.lot.pk).status_code == 404
    anonymous = page(None, world.lot.pk)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_the_page_never_carries_scores(world):
    check_in_all(world)
    elect(world)
    qualify_all(world)
    lock(world, "qualification")
    score_all(world, value=lambda i, b, code: "7.5" if code == "T2" else 5)
    html = page(world.members[1].user, world.lot.pk).content.decode()
    assert "7.5" not in html
    room.submit_score(by=by(world.members[0]), session=fresh(world), bid=world.bidders[0].bid, criterion="T2", value="6.5")
    assert "6.5" not in page(world.members[0].user, world.lot.pk).content.decode()
