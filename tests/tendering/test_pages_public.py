"""公告 pages as the public and bidders see them: the list with search, filters and pages, and
the detail with lots, deadline countdown, signed documents, clarifications and answers — but
never who obtained the documents, except to insiders after the opening (L22, E21)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tendering import services
from tendering.models import Tender

from .test_pages_world import actor, published_tender, register, upload, world  # noqa: F401
from .test_secrecy_before_opening import open_tender

# Server time is fixed (tests/tendering/conftest.py) so dates and deadlines are reproducible.
pytestmark = pytest.mark.usefixtures("clock")

LIST = reverse("tendering:announcements")


def detail_url(tender):
    return reverse("tendering:detail", args=[tender.pk])


def test_home_redirects_to_the_announcements(client, db):
    assert client.get("/").url == LIST


def test_list_shows_published_tenders_only(client, world):
    published = published_tender(world, title="石龙泵站施工招标")
    draft = Tender.objects.get(pk=services.tender_create(
        by=actor(world.tenderer), project=published.project, title="草稿中的招标", lots=[{"name": "一标段", "maximum_price_fen": 100}]).pk)
    page = client.get(LIST).content.decode()
    assert "石龙泵站施工招标" in page and published.code in page
    assert draft.title not in page
    assert 'class="countdown" data-deadline="' in page


def test_search_matches_title_code_project_and_tenderer(client, world):
    first = published_tender(world, title="石龙泵站施工招标")
    second = published_tender(world, title="虎门学校改造招标")
    assert "虎门学校改造招标" not in client.get(LIST, {"q": "石龙"}).content.decode()
    assert "石龙泵站施工招标" in client.get(LIST, {"q": first.code}).content.decode()
    by_tenderer = client.get(LIST, {"q": "水务工程建设中心"}).content.decode()
    assert first.title in by_tenderer and second.title in by_tenderer
    assert "没有符合条件的公告" in client.get(LIST, {"q": "不存在的项目"}).content.decode()


def test_filters_by_state_and_published_dates(client, world):
    open_tender = published_tender(world, title="正在投标的项目")
    cancelled = published_tender(world, title="已经终止的项目")
    services.tender_cancel(by=actor(world.tenderer), tender=cancelled, reason="项目资金调整")
    published_page = client.get(LIST, {"state": "published"}).content.decode()
    assert open_tender.title in published_page and cancelled.title not in published_page
    cancelled_page = client.get(LIST, {"state": "cancelled"}).content.decode()
    assert cancelled.title in cancelled_page and open_tender.title not in cancelled_page

    today = timezone.localdate()
    assert open_tender.title in client.get(LIST, {"date_from": today.isoformat(), "date_to": today.isoformat()}).content.decode()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert open_tender.title not in client.get(LIST, {"date_from": tomorrow}).content.decode()


def test_bad_date_range_is_explained(client, world):
    published_tender(world)
    page = client.get(LIST, {"date_from": "2026-05-02", "date_to": "2026-05-01"}).content.decode()
    assert "开始日期不能晚于结束日期" in page


def test_list_is_paginated_keeping_the_filters(client, world, monkeypatch):
    monkeypatch.setattr("tendering.views.public.PAGE_SIZE", 2)
    for number in range(3):
        published_tender(world, title=f"分页测试项目{number}")
    first = client.get(LIST, {"q": "分页测试"}).content.decode()
    assert "第 1 / 2 页" in first and "q=%E5%88%86%E9%A1%B5%E6%B5%8B%E8%AF%95&amp;page=2" in first
    second = client.get(LIST, {"q": "分页测试", "page": 2}).content.decode()
    assert second.count("分页测试项目") == 1


def test_detail_shows_lots_in_yuan_deadline_documents_and_signature(client, world):
    tender = published_tender(world)
    document = tender.documents.get()
    page = client.get(detail_url(tender)).content.decode()
    assert tender.title in page and "一标段：泵站主体工程" in page
    assert "1,234,567.89 元" in page
    utc_deadline = tender.bid_deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'data-deadline="{utc_deadline}"' in page
    assert timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M") in page  # Beijing time
    assert document.sha256 in page and document.signature in page
    assert "公开招标" in page


def test_detail_shows_version_history_clarifications_and_answers_without_asker(client, world):
    tender = published_tender(world)
    register(world, tender)
    clarification = services.clarification_issue(by=actor(world.tenderer), tender=tender, kind="amendment", title="工程量清单修改", body="第3章第2节工程量调整。")
    upload(world, tender, content=b"%PDF-1.4 amended", clarification=clarification)
    question = services.question_ask(by=actor(world.bidder), tender=tender, text="泵站设备是否允许国产替代？")
    services.question_answer(by=actor(world.tenderer), question=question, answer="允许，须满足技术规格书要求。")
    page = client.get(detail_url(tender)).content.decode()
    assert "修改 1：工程量清单修改" in page
    assert "历史版本 1 个" in page
    assert "泵站设备是否允许国产替代？" in page and "允许，须满足技术规格书要求。" in page
    assert world.bidder.organisation.name not in page


@pytest.mark.parametrize("viewer", [None, "other_bidder", "other_tenderer", "expert", "tenderer", "centre", "regulator"])
def test_before_the_opening_registrations_are_hidden_from_everyone_but_the_bidder(client, world, viewer):
    tender = published_tender(world)
    register(world, tender)
    if viewer:
        client.force_login(getattr(world, viewer))
    page = client.get(detail_url(tender)).content.decode()
    assert world.bidder.organisation.name not in page
    assert "获取招标文件的投标人" not in page


def test_a_bidder_sees_only_its_own_registration(client, world):
    tender = published_tender(world)
    register(world, tender)
    register(world, tender, world.other_bidder)
    client.force_login(world.bidder)
    page = client.get(detail_url(tender)).content.decode()
    assert "贵单位已于" in page
    assert world.other_bidder.organisation.name not in page


@pytest.mark.parametrize("insider", ["tenderer", "centre", "regulator"])
def test_insiders_see_registrations_and_downloads_after_the_opening(client, world, insider, clock):
    tender = published_tender(world)
    register(world, tender)
    services.document_download(by=actor(world.bidder), document=tender.documents.get())
    open_tender(tender, clock)
    client.force_login(getattr(world, insider))
    page = client.get(detail_url(tender)).content.decode()
    assert "获取招标文件的投标人" in page
    assert page.count(world.bidder.organisation.name) == 2  # registration and download rows
    assert "192.0.2.10" in page


def test_draft_tender_is_not_public(client, world):
    tender = published_tender(world)
    draft = services.tender_create(by=actor(world.tenderer), project=tender.project, title="未发布", lots=[{"name": "一标段", "maximum_price_fen": 100}])
    assert client.get(detail_url(draft)).status_code == 403
    client.force_login(world.bidder)
    assert client.get(detail_url(draft)).status_code == 403
    client.force_login(world.tenderer)
    assert client.get(detail_url(draft)).status_code == 200


def test_anyone_can_read_a_tender_cancelled_after_publication_with_its_reason(client, world):
    cancelled = published_tender(world, title="已经终止的项目")
    services.tender_cancel(by=actor(world.tenderer), tender=cancelled, reason="项目资金调整")
    page = client.get(detail_url(cancelled))
    assert page.status_code == 200
    assert "项目资金调整" in page.content.decode()


def test_a_draft_is_hidden_from_the_public(client, world):
    published = published_tender(world)
    draft = services.tender_create(
        by=actor(world.tenderer), project=published.project, title="草稿中的招标", lots=[{"name": "一标段", "maximum_price_fen": 100}])
    assert client.get(detail_url(draft)).status_code in (403, 404)
