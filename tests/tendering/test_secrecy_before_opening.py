"""Secrecy before the opening (L22, E21). Until a lot of the tender is opened, nobody but the
bidder itself can list, count or read who obtained the tender documents: not the tenderer, its
agency, centre staff, a regulator or another bidder, on any page or API endpoint. That covers
registrations, download records and who acknowledged a clarification; questions and objections
never name their author. After the opening the insiders see them; the public and the other bidders
still do not. The platform itself keeps using them (notices to every registered bidder)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Notification
from accounts.permissions import can
from accounts.services import api_token_create
from audit.actor import Actor
from audit.services import fsm_transition
from tendering import selectors, services
from tendering.models import Lot, LotState, Tender
from tendering.rules import is_opened
from tests import factories

from .test_pages_world import actor, published_tender, world  # noqa: F401

pytestmark = pytest.mark.usefixtures("clock")

SYSTEM = Actor.system("tests")
ROLES = ["tenderer", "agency", "centre", "regulator", "other_bidder", "bidder", "anonymous"]
INSIDERS = ["tenderer", "agency", "centre", "regulator"]
# The bidders that obtain the documents, each from its own address.
REGISTERED = {"bidder": "198.51.100.11", "other_bidder": "198.51.100.12", "third_bidder": "198.51.100.13"}
OBJECTION = "第三章资格条件中的业绩要求排斥潜在投标人。"
QUESTION = "泵站设备是否允许国产替代？"


# Bringing a tender to its opening, as the platform will ----------------------------------------

def start_opening(lot: Lot) -> None:
    with transaction.atomic():
        lot = Lot.objects.select_for_update().get(pk=lot.pk)
        fsm_transition(lot, "start_opening", by=SYSTEM, tender_id=lot.tender_id)


def close_lots(tender: Tender, clock) -> Tender:
    """Past the bid deadline; the platform closes (截标) every lot."""
    tender.refresh_from_db()
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    for lot in tender.lots.all():
        services.lot_close(by=SYSTEM, lot=lot)
    return tender


def open_tender(tender: Tender, clock) -> Tender:
    """Close every lot at the deadline and start its opening."""
    close_lots(tender, clock)
    for lot in tender.lots.all():
        start_opening(lot)
    return tender


# The scene: three bidders obtained the documents, downloaded them, acknowledged a clarification;
# one of them asked a question and objected (answered, so the tender goes on) ----------------------

@pytest.fixture
def tender(world, clock):
    tender = published_tender(world, agency=world.agency.organisation)
    document = tender.documents.get()
    for role, ip in REGISTERED.items():
        user = getattr(world, role)
        services.bidder_register(by=Actor.from_user(user, ip=ip), tender=tender)
        services.document_download(by=Actor.from_user(user, ip=ip), document=document)
    clarification = services.clarification_issue(
        by=actor(world.tenderer), tender=tender, kind="clarification", title="图纸说明", body="见附图。", affects_bids=False)
    for role in REGISTERED:
        services.clarification_acknowledge(by=actor(getattr(world, role)), clarification=clarification)
    services.question_ask(by=actor(world.bidder), tender=tender, text=QUESTION)
    objection = services.objection_raise(by=actor(world.bidder), tender=tender, text=OBJECTION)
    services.objection_answer(by=actor(world.tenderer), objection=objection, answer="业绩要求符合规定。")
    tender.refresh_from_db()
    assert not is_opened(tender)
    return tender


def user_of(world, role):
    return None if role == "anonymous" else getattr(world, role)


def others_of(world, role) -> list[str]:
    """What would tell `role` about bidders other than itself: their names and addresses."""
    hidden = [name for name in REGISTERED if name != role]
    return [getattr(world, name).organisation.name for name in hidden] + [REGISTERED[name] for name in hidden]


def everyone(world) -> list[str]:
    return others_of(world, "nobody")


def pages_of(world, role, tender) -> list[str]:
    """Every tendering page `role` can open about the tender."""
    urls = [reverse("tendering:detail", args=[tender.pk])]
    if role in ("tenderer", "agency"):
        urls += [reverse("tendering:manage", args=[tender.pk]), reverse("tendering:workspace"),
                 reverse("tendering:documents", args=[tender.pk]), reverse("tendering:cancel", args=[tender.pk])]
    if role == "centre":
        urls += [reverse("tendering:review", args=[tender.pk]), reverse("tendering:review_queue"),
                 reverse("tendering:cancel", args=[tender.pk])]
    urls.append(reverse("tendering:announcements"))
    return urls


def render_pages(client, world, role, tender) -> str:
    if role != "anonymous":
        client.force_login(user_of(world, role))
    pages = []
    for url in pages_of(world, role, tender):
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(response.content.decode())
    return "\n".join(pages)


def api_client(world, role) -> APIClient:
    client = APIClient()
    user = user_of(world, role)
    if user is not None:
        _, secret = api_token_create(by=Actor.from_user(user), user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def registrations_url(tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/registrations/"


# Pages ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_pages_before_the_opening_show_nobody_else_and_no_count(client, world, tender, role):
    page = render_pages(client, world, role, tender)
    for secret in others_of(world, role):
        assert secret not in page
    # No list, no table, no count: the sections are not rendered at all.
    assert 'class="registrations"' not in page and 'class="downloads"' not in page
    assert "已确认的投标人" not in page and "暂无投标人获取招标文件" not in page
    if role in ("tenderer", "agency"):
        assert "开标后在此显示" in page  # the owner is told why the list is empty
        # The owner must answer: it reads the objection and the question, never who sent them.
        assert OBJECTION in page and QUESTION in page
    elif role == "bidder":
        assert OBJECTION in page  # its own objection
    else:
        assert OBJECTION not in page
    if role in REGISTERED:
        assert "贵单位已于" in page  # each bidder sees its own registration


@pytest.mark.parametrize("role", ROLES)
def test_pages_after_the_opening_show_insiders_everyone(client, world, tender, role, clock):
    open_tender(tender, clock)
    page = render_pages(client, world, role, tender)
    if role in INSIDERS:
        for secret in everyone(world):
            assert secret in page
        assert 'class="registrations"' in page and 'class="downloads"' in page
        assert OBJECTION in page
    else:
        for secret in others_of(world, role):
            assert secret not in page
        assert 'class="registrations"' not in page
    if role in ("tenderer", "agency"):
        assert "已确认的投标人" in page


def test_the_bidder_itself_sees_its_own_registration_and_can_download(client, world, tender):
    client.force_login(world.bidder)
    page = client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    assert "贵单位已于" in page and reverse("tendering:download", args=[tender.documents.get().pk]) in page


# API --------------------------------------------------------------------------------------------

def _api_texts(world, role, tender) -> str:
    """Everything the tender API tells `role` outside the registrations endpoint."""
    client = api_client(world, role)
    texts = [client.get(f"/api/v1/tenders/{tender.pk}/"), client.get("/api/v1/tenders/")]
    if role != "anonymous":
        texts.append(client.get("/api/v1/workspace/tenders/"))
    for response in texts:
        assert response.status_code == 200
    return "\n".join(json.dumps(response.json(), ensure_ascii=False) for response in texts)


def _names(rows) -> set[str]:
    return {row["organisation"]["name"] for row in rows}


@pytest.mark.parametrize("role", ROLES)
def test_api_before_the_opening_shows_nobody_else_and_no_count(world, tender, role):
    text = _api_texts(world, role, tender)
    for secret in others_of(world, role):
        assert secret not in text
    assert "registrations" not in text and "downloads" not in text

    response = api_client(world, role).get(registrations_url(tender))
    if role == "anonymous":
        assert response.status_code == 401
    elif role in INSIDERS:
        assert response.status_code == 403  # not an empty list: that would be a count (zero)
        assert "开标前" in response.json()["detail"]
        assert "registrations" not in response.json()
    else:
        assert response.status_code == 200
        own = user_of(world, role).organisation.name
        assert _names(response.json()["registrations"]) == {own}
        assert _names(response.json()["downloads"]) == {own}


@pytest.mark.parametrize("role", ROLES)
def test_api_after_the_opening_shows_insiders_everyone(world, tender, role, clock):
    open_tender(tender, clock)
    response = api_client(world, role).get(registrations_url(tender))
    names = {getattr(world, name).organisation.name for name in REGISTERED}
    if role == "anonymous":
        assert response.status_code == 401
    elif role in INSIDERS:
        assert response.status_code == 200
        assert _names(response.json()["registrations"]) == names
        assert names <= _names(response.json()["downloads"])
        assert len(response.json()["registrations"]) == 3
    else:
        assert response.status_code == 200
        assert _names(response.json()["registrations"]) == {user_of(world, role).organisation.name}


def test_api_registrations_of_a_tender_the_caller_cannot_see_answer_404(world, tender):
    lots = [{"name": "一标段", "maximum_price_fen": 100}]
    draft = services.tender_create(by=actor(world.tenderer), project=tender.project, title="草稿", lots=lots)
    assert api_client(world, "bidder").get(registrations_url(draft)).status_code == 404


def test_api_a_bidder_that_did_not_register_learns_only_that_it_did_not(world, tender):
    client = APIClient()
    client.force_authenticate(world.unverified_bidder)
    assert client.get(registrations_url(tender)).json() == {"registrations": [], "downloads": []}


def test_api_another_tenderer_is_refused_before_and_after_the_opening(world, tender, clock):
    client = APIClient()
    client.force_authenticate(world.other_tenderer)
    assert client.get(registrations_url(tender)).status_code == 403
    open_tender(tender, clock)
    assert client.get(registrations_url(tender)).status_code == 403


# When "after the opening" begins (tendering.rules.is_opened) -------------------------------------

def test_closed_at_the_deadline_is_still_before_the_opening(world, tender, clock):
    close_lots(tender, clock)
    assert not is_opened(tender) and not can(world.tenderer, "tendering.view_registrations", tender)
    start_opening(tender.lots.get())
    assert is_opened(tender) and can(world.tenderer, "tendering.view_registrations", tender)


AFTER_OPENING = ["start_evaluation", "publicize", "award", "contract"]


@pytest.mark.parametrize("reached", range(1, len(AFTER_OPENING) + 1))
def test_every_state_after_the_opening_counts(world, tender, clock, reached):
    open_tender(tender, clock)
    lot = tender.lots.get()
    for step in AFTER_OPENING[:reached]:
        with transaction.atomic():
            fsm_transition(Lot.objects.get(pk=lot.pk), step, by=SYSTEM, tender_id=tender.pk)
    reached_state = [LotState.EVALUATING, LotState.PUBLICIZING, LotState.AWARDED, LotState.CONTRACTED][reached - 1]
    assert Lot.objects.get(pk=lot.pk).state == reached_state
    assert is_opened(tender) and can(world.centre, "tendering.view_registrations", tender)


def test_a_lot_failed_after_the_deadline_counts_as_opened(world, tender, clock):
    close_lots(tender, clock)
    services.lot_fail(by=SYSTEM, lot=tender.lots.get(), reason="有效投标人少于3个（0个），不予开标（L28/R44）。")
    assert is_opened(tender) and can(world.regulator, "tendering.view_registrations", tender)


def test_registrations_are_per_tender_so_the_first_opened_lot_opens_them(world, clock):
    tender = factories.make_tender(world.tenderer, state="published", lots=2)
    first, second = tender.lots.order_by("number")
    close_lots(tender, clock)
    assert not is_opened(tender)
    start_opening(first)
    assert Lot.objects.get(pk=second.pk).state == LotState.CLOSED
    assert is_opened(tender)


def test_suspension_keeps_the_side_of_the_opening_it_came_from(world, tender, clock):
    lot = tender.lots.get()
    services.lot_suspend(by=actor(world.tenderer), lot=lot, reason="投诉处理")
    assert not is_opened(tender)
    services.lot_resume(by=actor(world.tenderer), lot=Lot.objects.get(pk=lot.pk))
    open_tender(tender, clock)
    services.lot_suspend(by=actor(world.tenderer), lot=Lot.objects.get(pk=lot.pk), reason="投诉处理")
    assert Lot.objects.get(pk=lot.pk).state == LotState.SUSPENDED and is_opened(tender)


def test_a_tender_cancelled_before_its_opening_keeps_the_secret(client, world, tender):
    services.tender_cancel(by=actor(world.tenderer), tender=tender, reason="项目资金调整")
    assert not is_opened(tender)
    client.force_login(world.regulator)
    page = client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    assert world.bidder.organisation.name not in page


def test_a_tender_cancelled_after_its_opening_stays_opened(world, tender, clock):
    open_tender(tender, clock)
    services.tender_cancel(by=actor(world.tenderer), tender=tender, reason="评标中发现违法行为")
    assert tender.lots.get().state == LotState.CANCELLED
    assert is_opened(tender) and can(world.regulator, "tendering.view_registrations", tender)


# Selectors and the platform's own use ------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_selectors_before_the_opening(world, tender, role):
    user = user_of(world, role)
    own = {user.organisation_id} if role in REGISTERED else set()
    for rows in (selectors.registrations_visible_to(user, tender), selectors.downloads_visible_to(user, tender),
                 selectors.acknowledgements_visible_to(user, tender)):
        assert {row.organisation_id for row in rows} == own
    objections = selectors.objections_visible_to(user, tender).count()
    assert objections == (1 if role in ("tenderer", "agency", "bidder") else 0)


def test_the_platform_still_notifies_every_registered_bidder(world, tender):
    seen = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    services.clarification_issue(
        by=actor(world.tenderer), tender=tender, kind="clarification", title="补充说明", body="无。", affects_bids=False)
    notified = set(Notification.objects.filter(pk__gt=seen).values_list("organisation_id", flat=True))
    assert notified == {getattr(world, role).organisation_id for role in REGISTERED}
