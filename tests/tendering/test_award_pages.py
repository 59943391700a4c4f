"""Publicity and award pages: the tenderer/agency drafts, the centre approves or returns from its
queue, bidders read their notices and object during the publicity, the public reads the issued
publicity and results on the tender's page, regulators read; PDFs download."""

from datetime import timedelta

import pytest
from django.urls import reverse

from tendering import services
from tendering.models import AwardMethod, LotState, Notice, NoticeKind, NoticeState
from tests.factories import actor
from tests.tendering.award_world import AwardWorld, media, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.force_login(user)
    return client


def test_owner_drafts_and_the_centre_approves_through_the_pages(client, world):
    lot = world.lot
    manage = as_user(client, world.host).get(reverse("tendering:manage", args=[world.tender.pk])).content.decode()
    assert reverse("tendering:award", args=[lot.pk]) in manage
    page = as_user(client, world.host).get(reverse("tendering:award", args=[lot.pk]))
    assert page.status_code == 200 and "起草中标候选人公示" in page.content.decode()
    response = client.post(reverse("tendering:award_publicity_draft", args=[lot.pk]), {"days": "3", "body": "公示说明"}, follow=True)
    assert "已提交交易中心审核" in response.content.decode()
    notice = Notice.objects.get(lot=lot)
    assert notice.state == NoticeState.PENDING
    # The owner cannot approve its own notice.
    assert client.post(reverse("tendering:notice_approve", args=[notice.pk])).status_code == 403

    as_user(client, world.centre)
    queue = client.get(reverse("tendering:notice_queue")).content.decode()
    assert reverse("tendering:notice", args=[notice.pk]) in queue
    detail = client.get(reverse("tendering:notice", args=[notice.pk])).content.decode()
    assert "审核通过并发出" in detail and world.candidate(1).organisation.name in detail
    client.post(reverse("tendering:notice_approve", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.state == NoticeState.ISSUED and world.lot.state == LotState.PUBLICIZING
    assert "没有待审核的公告" in client.get(reverse("tendering:notice_queue")).content.decode()


def test_centre_returns_with_a_reason_and_the_owner_resubmits(client, world):
    notice = services.publicity_draft(by=actor(world.host), lot=world.lot)
    as_user(client, world.centre)
    response = client.post(reverse("tendering:notice_return", args=[notice.pk]), {"reason": ""}, follow=True)
    assert "退回时必须说明理由" in response.content.decode()
    client.post(reverse("tendering:notice_return", args=[notice.pk]), {"reason": "请补充公示说明"})
    notice.refresh_from_db()
    assert notice.state == NoticeState.RETURNED
    page = as_user(client, world.host).get(reverse("tendering:award", args=[world.lot.pk])).content.decode()
    assert "请补充公示说明" in page and "修改后重新提交" in page
    client.post(reverse("tendering:notice_revise", args=[notice.pk]), {f"notice-{notice.pk}-body": "已补充"})
    notice.refresh_from_db()
    assert notice.state == NoticeState.PENDING and notice.body == "已补充"


def test_nobody_outside_sees_a_draft_and_outsiders_cannot_open_the_workspace(client, world):
    notice = services.publicity_draft(by=actor(world.host), lot=world.lot)
    assert client.get(reverse("tendering:notice", args=[notice.pk])).status_code == 404
    as_user(client, world.bidders[0].user)
    assert client.get(reverse("tendering:notice", args=[notice.pk])).status_code == 404
    assert client.get(reverse("tendering:award", args=[world.lot.pk])).status_code == 403
    assert client.post(reverse("tendering:award_publicity_draft", args=[world.lot.pk]), {"days": "3"}).status_code == 403
    page = as_user(client, world.regulator).get(reverse("tendering:award", args=[world.lot.pk])).content.decode()
    assert "只读" in page and "提交交易中心审核" not in page


def test_public_reads_the_issued_publicity_on_the_tender_page_and_downloads_the_pdf(client, world):
    notice = world.publicize()
    page = client.get(reverse("tendering:detail", args=[world.tender.pk])).content.decode()
    assert reverse("tendering:notice", args=[notice.pk]) in page and "中标候选人公示" in page
    detail = client.get(reverse("tendering:notice", args=[notice.pk])).content.decode()
    assert world.candidate(2).organisation.name in detail and "对评标结果提出异议" not in detail
    response = client.get(reverse("tendering:notice_pdf", args=[notice.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_bidder_objects_on_the_notice_page_during_the_publicity(client, world):
    notice = world.publicize()
    as_user(client, world.candidate(3).user)
    page = client.get(reverse("tendering:notice", args=[notice.pk])).content.decode()
    assert "对评标结果提出异议" in page
    response = client.post(reverse("tendering:publicity_objection_raise", args=[world.lot.pk]), {"text": "得分计算有误"}, follow=True)
    assert "异议已提交" in response.content.decode() and "得分计算有误" in response.content.decode()
    assert world.lot.state == LotState.SUSPENDED
    objection = world.lot.publicity.objections.get()
    as_user(client, world.host)
    client.post(reverse("tendering:publicity_objection_answer", args=[objection.pk]), {f"objection-{objection.pk}-answer": "已复核"})
    assert world.lot.state == LotState.PUBLICIZING
    world.after_publicity()
    as_user(client, world.candidate(3).user)
    response = client.post(reverse("tendering:publicity_objection_raise", args=[world.lot.pk]), {"text": "太晚"}, follow=True)
    assert "公示期内提出" in response.content.decode()


def test_award_through_the_pages_and_each_notice_to_its_recipient(client, db, clock, media):
    world = AwardWorld(clock, state_funded=False, award_method=AwardMethod.DIRECT_VOTE)
    world.publicize()
    world.after_publicity()
    as_user(client, world.host)
    response = client.post(reverse("tendering:award_decide", args=[world.lot.pk]), {"votes": "张三 1"}, follow=True)
    assert "格式错误" in response.content.decode()
    client.post(reverse("tendering:award_decide", args=[world.lot.pk]), {"votes": "张三, 2\n李四，2\n王五, 1"})
    assert world.lot.award_decision.winner == world.candidate(2).organisation
    client.post(reverse("tendering:award_result_draft", args=[world.lot.pk]), {"body": "", "award_body": "", "non_award_body": ""})
    head = Notice.objects.get(lot=world.lot, kind=NoticeKind.RESULT)
    as_user(client, world.centre).post(reverse("tendering:notice_approve", args=[head.pk]))
    assert world.lot.state == LotState.AWARDED
    award_notice = Notice.objects.get(kind=NoticeKind.AWARD_NOTICE)
    other = Notice.objects.filter(kind=NoticeKind.NON_AWARD_NOTICE, recipient=world.candidate(1).organisation).get()
    client.logout()
    assert client.get(reverse("tendering:notice_pdf", args=[award_notice.pk])).status_code == 404
    as_user(client, world.candidate(1).user)
    assert client.get(reverse("tendering:notice_pdf", args=[award_notice.pk])).status_code == 404
    assert client.get(reverse("tendering:notice_pdf", args=[other.pk])).status_code == 200
    page = client.get(reverse("tendering:detail", args=[world.tender.pk])).content.decode()
    assert reverse("tendering:notice", args=[other.pk]) in page and reverse("tendering:notice", args=[award_notice.pk]) not in page
    as_user(client, world.candidate(2).user)
    assert "中标通知书" in client.get(reverse("tendering:notice", args=[award_notice.pk])).content.decode()


def test_contract_overdue_shown_and_registration_through_the_page(client, world, clock):
    world.award()
    contract = world.lot.contract_registration
    clock.set(contract.due_at + timedelta(hours=1))
    page = as_user(client, world.host).get(reverse("tendering:award", args=[world.lot.pk])).content.decode()
    assert "合同签订已逾期" in page
    signed = (clock() - timedelta(hours=2)).astimezone(__import__("tendering.periods", fromlist=["SHANGHAI"]).SHANGHAI)
    client.post(reverse("tendering:award_contract", args=[world.lot.pk]), {"signed_at": signed.strftime("%Y-%m-%dT%H:%M"), "amount_fen": "900000.00"})
    assert world.lot.state == LotState.CONTRACTED
    assert world.lot.contract_registration.amount_fen == 90_000_000
    assert "合同签订已逾期" not in client.get(reverse("tendering:award", args=[world.lot.pk])).content.decode()
