"""Who may open which tendering page: anonymous visitors are sent to the login page, the wrong
role or another organisation gets 403, the owner (or the centre, for review) gets the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tendering import services
from tendering.models import TenderState

from .test_pages_world import actor, draft_tender, published_tender, upload, world  # noqa: F401

# Server time is fixed (tests/tendering/conftest.py) so dates and deadlines are reproducible.
pytestmark = pytest.mark.usefixtures("clock")

ROLES = ["tenderer", "other_tenderer", "agency", "bidder", "centre", "regulator", "expert", "unverified_bidder"]


@pytest.fixture
def submitted(world):
    """A draft of world.tenderer, acted for by world.agency, submitted to the centre."""
    tender = draft_tender(world, agency=world.agency.organisation)
    upload(world, tender)
    return services.tender_submit(by=actor(world.tenderer), tender=tender)


def status_for(client, world, role, url):
    if role is not None:
        client.force_login(getattr(world, role))
    response = client.get(url)
    client.logout()
    return response


def expect(response, outcome):
    if outcome == "login":
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    else:
        assert response.status_code == outcome


WORKSPACE_PAGES = ["tendering:workspace", "tendering:tender_new"]


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
@pytest.mark.parametrize("role,outcome", [
    (None, "login"), ("tenderer", 200), ("agency", 200), ("bidder", 403), ("centre", 403),
    ("regulator", 403), ("expert", 403), ("unverified_bidder", 403),
])
def test_workspace_pages(client, world, name, role, outcome):
    expect(status_for(client, world, role, reverse(name)), outcome)


TENDER_PAGES = ["tendering:manage", "tendering:documents", "tendering:clarification_new", "tendering:cancel"]


@pytest.mark.parametrize("name", TENDER_PAGES)
@pytest.mark.parametrize("role,outcome", [
    (None, "login"), ("tenderer", 200), ("agency", 200), ("other_tenderer", 403), ("bidder", 403),
    ("regulator", 403), ("expert", 403),
])
def test_pages_of_one_tender_belong_to_its_tenderer_and_agency(client, world, submitted, name, role, outcome):
    expect(status_for(client, world, role, reverse(name, args=[submitted.pk])), outcome)


def test_edit_page_for_owner_of_a_draft(client, world):
    tender = draft_tender(world)
    url = reverse("tendering:tender_edit", args=[tender.pk])
    expect(status_for(client, world, "tenderer", url), 200)
    expect(status_for(client, world, "other_tenderer", url), 403)
    expect(status_for(client, world, None, url), "login")


@pytest.mark.parametrize("name", ["tendering:review_queue"])
@pytest.mark.parametrize("role,outcome", [
    (None, "login"), ("centre", 200), ("tenderer", 403), ("agency", 403), ("bidder", 403), ("regulator", 403),
])
def test_review_queue_is_for_the_centre(client, world, name, role, outcome):
    expect(status_for(client, world, role, reverse(name)), outcome)


@pytest.mark.parametrize("role,outcome", [(None, "login"), ("centre", 200), ("tenderer", 403), ("bidder", 403)])
def test_review_page_is_for_the_centre(client, world, submitted, role, outcome):
    expect(status_for(client, world, role, reverse("tendering:review", args=[submitted.pk])), outcome)


def test_review_queue_lists_submitted_tenders(client, world, submitted):
    client.force_login(world.centre)
    page = client.get(reverse("tendering:review_queue")).content.decode()
    assert submitted.title in page and submitted.code in page


def test_workspace_lists_only_own_tenders_by_state(client, world, submitted):
    mine = draft_tender(world, title="本单位草稿项目")
    client.force_login(world.tenderer)
    page = client.get(reverse("tendering:workspace")).content.decode()
    assert submitted.title in page and mine.title in page
    drafts = client.get(reverse("tendering:workspace"), {"state": TenderState.DRAFT}).content.decode()
    assert mine.title in drafts and submitted.title not in drafts
    client.force_login(world.other_tenderer)
    assert mine.title not in client.get(reverse("tendering:workspace")).content.decode()


@pytest.mark.parametrize("name", ["tendering:submit", "tendering:publish"])
def test_another_organisation_cannot_post_actions(client, world, name):
    tender = draft_tender(world)
    client.force_login(world.other_tenderer)
    assert client.post(reverse(name, args=[tender.pk])).status_code == 403
    tender.refresh_from_db()
    assert tender.state == TenderState.DRAFT


def test_centre_actions_refused_to_the_tenderer(client, world, submitted):
    client.force_login(world.tenderer)
    assert client.post(reverse("tendering:approve", args=[submitted.pk])).status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == TenderState.SUBMITTED


def test_bidder_actions_need_login(client, world, submitted):
    response = client.post(reverse("tendering:register", args=[submitted.pk]))
    expect(response, "login")


def test_nav_links_follow_the_role(client, world):
    client.force_login(world.tenderer)
    assert reverse("tendering:workspace") in client.get(reverse("tendering:announcements")).content.decode()
    client.force_login(world.centre)
    page = client.get(reverse("tendering:announcements")).content.decode()
    assert reverse("tendering:review_queue") in page and reverse("tendering:workspace") not in page


def test_the_centre_may_cancel_from_the_announcement(client, world):
    tender = published_tender(world)
    cancel_url = reverse("tendering:cancel", args=[tender.pk])
    client.force_login(world.centre)
    assert cancel_url in client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    response = client.post(cancel_url, {"reason": "经监督检查，招标文件存在排斥潜在投标人的条款。"})
    assert response.url == reverse("tendering:detail", args=[tender.pk])
    tender.refresh_from_db()
    assert tender.state == TenderState.CANCELLED
