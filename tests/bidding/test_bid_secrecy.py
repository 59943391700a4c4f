"""Secrecy before the opening (L22, E21): nobody but the bidder itself — not the tenderer, the
agency, the centre, a regulator or another bidder — can list, count or read bids, uploads or
receipts, through the API or the pages. Anyone else gets the same answer as for a bid that does
not exist."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bidding.models import Bid, BidUpload
from tests import factories
from tests.factories import admin_of, person

from .bid_world import World, api_for, clock  # noqa: F401

pytestmark = pytest.mark.django_db
OUTSIDERS = ("tenderer", "agency", "centre", "regulator", "other_bidder", "unregistered_bidder")


@pytest.fixture
def scene(db, clock, settings):  # noqa: F811
    settings.PLATFORM_BID_CHUNK_BYTES = 4096
    world = World(clock, owner_role="agency")
    bid = world.submit()["bid"]
    data = world.seal()
    open_upload = world.create(data).json()["id"]
    world.put(open_upload, data, 0, 4096)
    people = {
        "tenderer": admin_of(world.tender.tenderer),
        "agency": world.owner,
        "centre": factories.centre_reviewer(),
        "regulator": person("regulator"),
        "other_bidder": factories.register_bidder(world.tender),
        "unregistered_bidder": person("bidder"),
    }
    return world, bid, open_upload, people


@pytest.mark.parametrize("role", OUTSIDERS)
def test_nobody_else_can_list_count_or_read_bids_and_uploads_through_the_api(scene, role):
    world, bid, open_upload, people = scene
    client = api_for(people[role])
    assert client.get("/api/v1/bids/").json() == []
    assert client.get(f"/api/v1/bids/?lot={world.lot.pk}").json() == []
    assert client.get("/api/v1/bid-uploads/").json() == []
    assert client.get(f"/api/v1/bid-uploads/?lot={world.lot.pk}&status=open").json() == []
    for url in (f"/api/v1/bids/{bid['id']}/", bid["receipt_url"], bid["receipt_pdf_url"], f"/api/v1/bid-uploads/{open_upload}/"):
        assert client.get(url).status_code == 404, url
    before = (list(Bid.objects.values_list("pk", "status")), list(BidUpload.objects.values_list("pk", "status")))
    assert client.post(f"/api/v1/bids/{bid['id']}/withdraw/", {}, format="json").status_code == 404
    assert client.post(f"/api/v1/bid-uploads/{open_upload}/finalise/").status_code == 404
    assert client.delete(f"/api/v1/bid-uploads/{open_upload}/").status_code == 404
    assert client.put(f"/api/v1/bid-uploads/{open_upload}/", data=b"x", content_type="application/octet-stream",
                      HTTP_CONTENT_RANGE="bytes 4096-4096/99999").status_code == 404
    assert (list(Bid.objects.values_list("pk", "status")), list(BidUpload.objects.values_list("pk", "status"))) == before


def test_the_bidder_itself_sees_its_bids_and_uploads(scene):
    world, bid, open_upload, _ = scene
    assert [item["id"] for item in world.client.get("/api/v1/bids/").json()] == [bid["id"]]
    assert [item["id"] for item in world.client.get("/api/v1/bid-uploads/?status=open").json()] == [open_upload]
    assert world.client.get(bid["receipt_url"]).status_code == 200


def test_anonymous_visitors_get_nothing(scene):
    from rest_framework.test import APIClient

    world, bid, open_upload, _ = scene
    client = APIClient()
    for url in ("/api/v1/bids/", "/api/v1/bid-uploads/", f"/api/v1/bids/{bid['id']}/", bid["receipt_url"], f"/api/v1/bid-uploads/{open_upload}/"):
        assert client.get(url).status_code in (401, 403), url
    page = Client().get(reverse("bidding:bids"))
    assert page.status_code == 302 and "login" in page["Location"]


@pytest.mark.parametrize("role", ("tenderer", "agency", "centre", "regulator"))
def test_only_bidders_have_a_my_bids_page(scene, role):
    _, _, _, people = scene
    client = Client()
    client.force_login(people[role])
    assert client.get(reverse("bidding:bids")).status_code == 403


@pytest.mark.parametrize("role", ("other_bidder", "unregistered_bidder"))
def test_another_bidders_page_shows_nothing_of_this_bid(scene, role):
    world, bid, _, people = scene
    client = Client()
    client.force_login(people[role])
    page = client.get(reverse("bidding:bids")).content.decode()
    assert Bid.objects.get(pk=bid["id"]).sha256 not in page and world.tender.code not in page
    assert client.post(reverse("bidding:bid_withdraw", args=[bid["id"]])).status_code == 404
    assert Bid.objects.get(pk=bid["id"]).status == "received"


def test_the_bidders_page_lists_its_versions_and_withdraws(scene):
    world, bid, _, _ = scene
    client = Client()
    client.force_login(world.bidder)
    page = client.get(reverse("bidding:bids")).content.decode()
    assert Bid.objects.get(pk=bid["id"]).sha256 in page and "未完成的上传" in page
    response = client.post(reverse("bidding:bid_withdraw", args=[bid["id"]]), {"reason": "改价"})
    assert response.status_code == 302
    assert Bid.objects.get(pk=bid["id"]).status == "withdrawn"


def test_the_admin_does_not_list_bids_before_the_opening(scene):
    from accounts.models import User

    world, bid, _, _ = scene
    operator = User.objects.create_superuser("operator", password="x" * 20)
    client = Client()
    client.force_login(operator)
    listing = client.get(reverse("admin:bidding_bid_changelist")).content.decode()
    assert reverse("admin:bidding_bid_change", args=[bid["id"]]) not in listing
    assert client.get(reverse("admin:bidding_bid_change", args=[bid["id"]])).status_code in (302, 404)
