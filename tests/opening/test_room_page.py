"""The opening room page /opening/lots/<lot_id>/ (opening/views.py, templates/opening/room.html):
who may see it and what each role is offered, the links to it, and the page in English."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from accounts.models import Organisation, User
from opening import services
from tendering.models import Lot, Tender
from tests.factories import actor, person
from tests.test_i18n import CJK, cjk_outside_language_switch, in_english

from .world import OpeningWorld, clock, dummy_tasks, world  # noqa: F401

pytestmark = pytest.mark.django_db


def page(client, user, lot_id):
    client.force_login(user)
    return client.get(reverse("opening:room", args=[lot_id]))


def config_of(response) -> dict:
    match = re.search(r'<script id="opening-config" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    return json.loads(match.group(1))


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    session = world.opened()
    response = client.get(reverse("opening:room", args=[session.lot_id]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_outsiders_and_lots_without_an_opening_get_not_found(client, world):
    assert page(client, world.host, world.lot.pk).status_code == 404  # the room has not opened yet
    world.opened()
    for outsider in (person("bidder"), person("tenderer"), person("agency")):
        assert page(client, outsider, world.lot.pk).status_code == 404
    assert page(client, world.host, 987654).status_code == 404


def test_each_role_sees_the_room_with_its_own_controls(client, world):
    session = world.opened()
    host = page(client, world.host, session.lot_id)
    assert host.status_code == 200
    html = host.content.decode()
    assert 'id="host-controls"' in html and 'id="start-decryption"' in html and 'id="open-objections"' in html
    assert 'id="decrypt-card"' not in html and 'id="check-in"' not in html and 'id="raise-objection"' not in html
    assert config_of(host)["role"] == "host" and config_of(host)["ws_path"] == f"/ws/opening/{session.lot_id}/"

    assert config_of(page(client, world.tenderer, session.lot_id))["role"] == "host"

    bidder = page(client, world.bidders[0].user, session.lot_id)
    html = bidder.content.decode()
    assert 'id="check-in"' in html and 'id="release-key"' in html and 'id="raise-objection"' in html and 'id="confirm-record"' in html
    assert 'id="host-controls"' not in html
    assert config_of(bidder)["role"] == "bidder" and config_of(bidder)["organisation"] == world.bidders[0].organisation.pk

    regulator = page(client, world.regulator, session.lot_id)
    html = regulator.content.decode()
    assert regulator.status_code == 200 and config_of(regulator)["role"] == "supervisor"
    assert "监督（只能观看）" in html
    for control in ("host-controls", "check-in", "release-key", "raise-objection", "open-objections", "draft-record"):
        assert f'id="{control}"' not in html, control


def test_the_page_itself_carries_no_bid_secrets(client, world):
    session = world.opened()
    html = page(client, world.bidders[0].user, session.lot_id).content.decode()
    header = world.bidders[0].bid.header
    assert header["key_commitment"] not in html and header["recipients"][0]["wrapped_key"] not in html
    assert world.bidders[0].data_key().hex() not in html


def test_the_tender_page_and_my_bids_link_to_the_room_once_it_is_open(client, world):
    room_url = reverse("opening:room", args=[world.lot.pk])
    bidder = world.bidders[0].user
    client.force_login(bidder)
    assert room_url not in client.get(reverse("tendering:detail", args=[world.tender.pk])).content.decode()
    assert room_url not in client.get(reverse("bidding:bids")).content.decode()
    world.opened()
    client.force_login(bidder)  # the clock moved to the deadline, past the session's age
    assert room_url in client.get(reverse("tendering:detail", args=[world.tender.pk])).content.decode()
    assert room_url in client.get(reverse("bidding:bids")).content.decode()
    client.logout()
    assert room_url not in client.get(reverse("tendering:detail", args=[world.tender.pk])).content.decode()


def _ascii_world(world):
    """Names as a user would type them in English, so any CJK left on the page is platform text."""
    Tender.objects.filter(pk=world.tender.pk).update(title="Kejiao Road works")
    Lot.objects.filter(pk=world.lot.pk).update(name="Roads and drainage")
    for n, bidder in enumerate(world.bidders):
        Organisation.objects.filter(pk=bidder.organisation.pk).update(name=f"Bidder {n} Co")
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(display_name=f"User {user.pk}")
    for organisation in Organisation.objects.exclude(pk__in=[b.organisation.pk for b in world.bidders]):
        Organisation.objects.filter(pk=organisation.pk).update(name=f"Organisation {organisation.pk}")


@pytest.mark.parametrize("who", ["host", "bidder", "regulator"])
def test_the_room_in_english(client, world, who):
    session = world.opened()
    services.opening_check_in(by=actor(world.bidders[0].user), session=session)
    _ascii_world(world)
    user = {"host": world.host, "bidder": world.bidders[0].user, "regulator": world.regulator}[who]
    client.force_login(user)
    in_english(client)
    response = client.get(reverse("opening:room", args=[session.lot_id]))
    html = response.content.decode()
    assert "Opening room" in html and "Price reading" in html and "Opening log" in html
    assert cjk_outside_language_switch(html) == []
    # The texts the script shows (in the JSON configuration, where CJK would be \u-escaped).
    config = config_of(response)
    texts = json.dumps(config, ensure_ascii=False)
    assert not CJK.search(texts), [t for t in re.findall(r'"([^"]*)"', texts) if CJK.search(t)]
    assert config["messages"]["events"]["checked_in"] == "%(name)s checked in."
    assert config["labels"]["status"]["opened"]
