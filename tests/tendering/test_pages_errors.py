"""Bad input on the tendering pages: the user gets a clear message and nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tendering import services
from tendering.models import DocumentDownload, LotState, Objection, Project, Tender, TenderDocument, TenderState

from .test_pages_world import (  # noqa: F401
    actor, approved_tender, draft_tender, messages_of, published_tender, register, tender_post_data, upload, world,
)

# Server time is fixed (tests/tendering/conftest.py) so dates and deadlines are reproducible.
pytestmark = pytest.mark.usefixtures("clock")


def new_tender_url(project) -> str:
    return f"{reverse('tendering:tender_new')}?project={project.pk}"


def project_of(world, code="DG-2026-ERR") -> Project:
    return Project.objects.create(code=code, name="错误输入测试工程", tenderer=world.tenderer.organisation)


def test_create_with_bad_lot_price_or_no_lot_changes_nothing(client, world, clock):
    client.force_login(world.tenderer)
    url = new_tender_url(project_of(world))
    response = client.post(url, tender_post_data(clock, **{"lots-0-maximum_price_fen": "十万元"}))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    empty = {"lots-TOTAL_FORMS": "1", "lots-0-name": "", "lots-0-description": "", "lots-0-maximum_price_fen": ""}
    response = client.post(url, tender_post_data(clock, **empty))
    assert "至少需要一个标段" in response.content.decode()
    response = client.post(url, tender_post_data(clock, evaluation_scheme="{not json"))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Tender.objects.exists()


def test_duplicate_project_code_is_explained(client, world):
    project_of(world, code="DG-DUP")
    client.force_login(world.tenderer)
    response = client.post(reverse("tendering:project_new"), {"code": "DG-DUP", "name": "重复编号"})
    assert "项目编号已存在" in response.content.decode()
    assert Project.objects.filter(code="DG-DUP").count() == 1


def test_submit_with_a_deadline_under_20_days_is_refused(client, world, clock):
    tender = draft_tender(world, bid_deadline=clock() + timedelta(days=10), documents_offer_end=clock() + timedelta(days=6))
    client.force_login(world.tenderer)
    response = client.post(reverse("tendering:submit", args=[tender.pk]), follow=True)
    assert any("L24" in message for message in messages_of(response))
    tender.refresh_from_db()
    assert tender.state == TenderState.DRAFT and tender.submitted_at is None


def test_publish_when_the_deadline_has_become_too_short_is_refused(client, world, clock):
    tender = approved_tender(world, bid_deadline=clock() + timedelta(days=22), documents_offer_end=clock() + timedelta(days=10))
    clock.advance(days=5)
    client.force_login(world.tenderer)
    response = client.post(reverse("tendering:publish", args=[tender.pk]), follow=True)
    assert any("不得少于20日" in message for message in messages_of(response))
    tender.refresh_from_db()
    assert tender.state == TenderState.APPROVED and tender.published_at is None
    assert set(tender.lots.values_list("state", flat=True)) == {LotState.DRAFT}


def test_oversized_upload_shows_the_limit_and_stores_nothing(client, world, settings):
    settings.PLATFORM_MAX_DOCUMENT_BYTES = 16
    tender = draft_tender(world)
    client.force_login(world.tenderer)
    response = client.post(reverse("tendering:documents", args=[tender.pk]),
                           {"title": "招标文件", "uploaded_file": SimpleUploadedFile("big.pdf", b"x" * 17)})
    assert response.status_code == 200
    assert "文件超过大小上限" in response.content.decode()
    assert not TenderDocument.objects.exists()


def test_upload_after_publication_needs_a_clarification(client, world):
    tender = published_tender(world)
    client.force_login(world.tenderer)
    response = client.post(reverse("tendering:documents", args=[tender.pk]),
                           {"title": "补充文件", "uploaded_file": SimpleUploadedFile("b.pdf", b"%PDF")})
    assert "只能随澄清或修改上传新文件" in response.content.decode()
    assert tender.documents.count() == 1


def test_objection_after_the_cutoff_is_refused(client, world, clock):
    tender = published_tender(world)
    register(world, tender)
    clock.set(tender.bid_deadline - timedelta(days=9))
    client.force_login(world.bidder)
    response = client.post(reverse("tendering:object", args=[tender.pk]), {"objection-text": "评分标准倾向特定品牌。"}, follow=True)
    assert any("10日前" in message for message in messages_of(response))
    assert not Objection.objects.exists()
    assert set(tender.lots.values_list("state", flat=True)) == {LotState.PUBLISHED}


def test_objection_in_time_suspends_until_the_page_answer(client, world):
    tender = published_tender(world)
    register(world, tender)
    client.force_login(world.bidder)
    client.post(reverse("tendering:object", args=[tender.pk]), {"objection-text": "评分标准倾向特定品牌。"})
    objection = Objection.objects.get()
    assert set(tender.lots.values_list("state", flat=True)) == {LotState.SUSPENDED}
    client.force_login(world.tenderer)
    assert "评分标准倾向特定品牌。" in client.get(reverse("tendering:manage", args=[tender.pk])).content.decode()
    response = client.post(reverse("tendering:objection_answer", args=[objection.pk]), {f"objection-{objection.pk}-answer": ""}, follow=True)
    assert "请填写答复内容" in " ".join(messages_of(response))
    client.post(reverse("tendering:objection_answer", args=[objection.pk]), {f"objection-{objection.pk}-answer": "评分标准已按规定制定，不存在倾向性。"})
    objection.refresh_from_db()
    assert objection.answered_at is not None
    assert set(tender.lots.values_list("state", flat=True)) == {LotState.PUBLISHED}


def test_question_asked_and_answered_on_the_pages(client, world):
    tender = published_tender(world)
    register(world, tender)
    client.force_login(world.bidder)
    client.post(reverse("tendering:ask", args=[tender.pk]), {"question-text": "是否接受联合体投标？"})
    question = tender.questions.get()
    client.force_login(world.tenderer)
    client.post(reverse("tendering:question_answer", args=[question.pk]), {f"question-{question.pk}-answer": "不接受联合体投标。"})
    client.logout()
    page = client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    assert "是否接受联合体投标？" in page and "不接受联合体投标。" in page


def test_download_without_registration_is_refused_and_not_recorded(client, world):
    tender = published_tender(world)
    client.force_login(world.bidder)
    response = client.post(reverse("tendering:download", args=[tender.documents.get().pk]), follow=True)
    assert any("请先获取招标文件" in message for message in messages_of(response))
    assert not DocumentDownload.objects.exists()


def test_registration_after_the_offer_period_is_refused(client, world, clock):
    tender = published_tender(world)
    clock.set(tender.documents_offer_end + timedelta(minutes=1))
    client.force_login(world.bidder)
    response = client.post(reverse("tendering:register", args=[tender.pk]), follow=True)
    assert any("招标文件获取时间已截止" in message for message in messages_of(response))
    assert not tender.registrations.exists()


def test_return_needs_a_reason_and_the_tenderer_sees_it(client, world):
    tender = draft_tender(world)
    upload(world, tender)
    services.tender_submit(by=actor(world.tenderer), tender=tender)
    client.force_login(world.centre)
    response = client.post(reverse("tendering:return", args=[tender.pk]), {"reason": ""}, follow=True)
    assert any("必须说明理由" in message for message in messages_of(response))
    tender.refresh_from_db()
    assert tender.state == TenderState.SUBMITTED
    client.post(reverse("tendering:return", args=[tender.pk]), {"reason": "最高投标限价依据不足。"})
    tender.refresh_from_db()
    assert tender.state == TenderState.RETURNED
    client.force_login(world.tenderer)
    assert "最高投标限价依据不足。" in client.get(reverse("tendering:workspace")).content.decode()


def test_edit_a_returned_tender_and_its_lot(client, world, clock):
    tender = draft_tender(world)
    lot = tender.lots.get()
    client.force_login(world.tenderer)
    data = {key: value for key, value in tender_post_data(clock, title="改名后的招标项目").items() if not key.startswith("lots-")}
    client.post(reverse("tendering:tender_edit", args=[tender.pk]), data)
    client.post(reverse("tendering:lot_edit", args=[lot.pk]), {f"lot-{lot.pk}-name": "一标段（调整）", f"lot-{lot.pk}-maximum_price_fen": "99.5"})
    tender.refresh_from_db()
    lot.refresh_from_db()
    assert tender.title == "改名后的招标项目"
    assert (lot.name, lot.maximum_price_fen) == ("一标段（调整）", 9950)


def test_published_tender_cannot_be_edited(client, world, clock):
    tender = published_tender(world)
    client.force_login(world.tenderer)
    response = client.post(reverse("tendering:tender_edit", args=[tender.pk]), tender_post_data(clock, title="发布后改名"), follow=True)
    assert any("只有草稿或已退回" in message for message in messages_of(response))
    tender.refresh_from_db()
    assert tender.title != "发布后改名"


def test_cancel_needs_a_reason_and_shows_on_the_announcement(client, world):
    tender = published_tender(world)
    client.force_login(world.tenderer)
    url = reverse("tendering:cancel", args=[tender.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED
    client.post(url, {"reason": "项目建设规模调整，终止招标。"})
    tender.refresh_from_db()
    assert tender.state == TenderState.CANCELLED
    client.logout()
    assert "已终止" in client.get(reverse("tendering:announcements"), {"state": "cancelled"}).content.decode()
    client.force_login(world.other_bidder)
    page = client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    assert "项目建设规模调整，终止招标。" in page


def test_year_one_deadline_is_a_form_error_not_a_crash(client, world, clock):
    tender = draft_tender(world)
    before = tender.bid_deadline
    client.force_login(world.tenderer)
    data = {key: value for key, value in tender_post_data(clock).items() if not key.startswith("lots-")}
    for moment in ("0001-01-01T00:00", "9999-12-31T23:59"):
        response = client.post(reverse("tendering:tender_edit", args=[tender.pk]), {**data, "bid_deadline": moment})
        assert response.status_code == 200
        assert "年份须在2000年至2100年之间" in response.content.decode()
    tender.refresh_from_db()
    assert tender.bid_deadline == before


def test_amount_beyond_the_platform_bound_is_a_form_error(client, world, clock):
    client.force_login(world.tenderer)
    huge = {"lots-TOTAL_FORMS": "1", "lots-0-maximum_price_fen": "90071992547410.00"}  # 2**53 fen and a bit
    response = client.post(new_tender_url(project_of(world)), tender_post_data(clock, **huge))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    response = client.post(reverse("tendering:project_new"), {"code": "P-HUGE", "name": "大工程", "investment_fen": "99999999999999.99"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Tender.objects.exists() and not Project.objects.filter(code="P-HUGE").exists()


def test_tenderer_mandates_an_agency_on_the_project_page_and_the_agency_sees_only_that_project(client, world):
    client.force_login(world.tenderer)
    response = client.post(reverse("tendering:project_new"), {"code": "P-MANDATE", "name": "委托项目", "agency": world.agency.organisation_id})
    project = Project.objects.get(code="P-MANDATE")
    assert response.status_code == 302 and project.agency == world.agency.organisation
    unmandated = project_of(world, code="P-OWN")
    client.force_login(world.agency)
    page = client.get(reverse("tendering:tender_new")).content.decode()
    assert "P-MANDATE" in page and "P-OWN" not in page
    assert 'action="/tendering/workspace/projects/new/"' not in page  # an agency creates no project
    assert client.post(reverse("tendering:project_new"), {"code": "P-AG", "name": "代理自建"}).status_code == 403
    assert client.get(new_tender_url(unmandated)).status_code == 200  # the choice page again, with an error
    assert not Project.objects.filter(code="P-AG").exists()


def test_tenderer_changes_the_mandate_on_the_project_page(client, world):
    project = project_of(world, code="P-CHANGE")
    client.force_login(world.tenderer)
    assert "变更委托代理机构" in client.get(reverse("tendering:tender_new")).content.decode()
    response = client.post(reverse("tendering:project_mandate"), {"project": project.pk, "agency": world.bidder.organisation_id})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    project.refresh_from_db()
    assert project.agency is None
    client.post(reverse("tendering:project_mandate"), {"project": project.pk, "agency": world.agency.organisation_id})
    project.refresh_from_db()
    assert project.agency == world.agency.organisation
    client.force_login(world.agency)
    assert client.post(reverse("tendering:project_mandate"), {"project": project.pk, "agency": ""}).status_code == 403
