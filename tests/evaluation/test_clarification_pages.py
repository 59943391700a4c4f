"""Clarification pages and API: the bidder's workspace (list, answer with a signature), bidder
isolation (another bidder's clarification answers 404), the panel's page (list, the chair's ask and
reject forms), attachments downloads, and the bid tool's API (statement, multipart answer)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluation import clarification_statement as cs
from evaluation.models import ClarificationAttachment, ClarificationStatus, EvaluationClarification
from tests.evaluation.clarification_helpers import answer, ask, files, reviewing, sign
from tests.evaluation.world import make_expert

NOT_SUBSTANCE = "不得改变投标报价或投标文件的实质性内容"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(eval_world):
    reviewing(eval_world)
    return eval_world


def login(client, user):
    client.force_login(user)
    return client


# --- bidder workspace ------------------------------------------------------------------------------

def test_bidder_lists_only_its_own_clarifications_and_sees_the_substance_rule(world, client):
    mine = ask(world, world.session, bidder=0, question="甲的问题")
    ask(world, world.session, bidder=1, question="乙的问题")
    page = login(client, world.bidders[0].user).get(reverse("evaluation:clarification_list"))
    text = page.content.decode()
    assert page.status_code == 200 and NOT_SUBSTANCE in text
    assert reverse("evaluation:clarification_detail", args=[mine.pk]) in text
    detail = client.get(reverse("evaluation:clarification_detail", args=[mine.pk])).content.decode()
    assert "甲的问题" in detail and NOT_SUBSTANCE in detail and 'id="answer-form"' in detail
    assert "clarification_sign.js" in detail
    assert "乙的问题" not in text + detail


def test_bidder_b_gets_404_for_bidder_a_clarification_page_attachment_and_api(world, client):
    a = ask(world, world.session, bidder=0)
    answer(world, a, items=[("a.pdf", b"secret of A")])
    attachment = ClarificationAttachment.objects.get()
    login(client, world.bidders[1].user)
    assert client.get(reverse("evaluation:clarification_detail", args=[a.pk])).status_code == 404
    assert client.post(reverse("evaluation:clarification_detail", args=[a.pk]), {"answer": "x"}).status_code == 404
    assert client.get(reverse("evaluation:clarification_attachment", args=[attachment.pk])).status_code == 404
    assert client.get(reverse("api-evaluation-clarification", args=[a.pk])).status_code == 404
    assert client.post(reverse("api-evaluation-clarification-statement", args=[a.pk]), {"answer": "x"},
                       content_type="application/json").status_code == 404
    assert client.post(reverse("api-evaluation-clarification-answer", args=[a.pk]), {"answer": "x", "signature": "AA"}).status_code == 404
    assert client.get(reverse("api-evaluation-clarifications")).json() == []


def test_bidder_answers_in_the_page_with_attachments_and_signature(world, client):
    c = ask(world, world.session)
    items = [("说明.pdf", b"%PDF-1.7 explanation")]
    text = "我单位承诺项目经理全职在岗。\r\n附在岗承诺书。"  # a browser sends CRLF
    signature = sign(world.bidders[0].signing, c, text, items)
    login(client, world.bidders[0].user)
    response = client.post(reverse("evaluation:clarification_detail", args=[c.pk]),
                           {"answer": text, "signature": signature, "attachments": files(*items)})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.status == ClarificationStatus.ANSWERED and c.answer == "我单位承诺项目经理全职在岗。\n附在岗承诺书。"
    page = client.get(reverse("evaluation:clarification_detail", args=[c.pk])).content.decode()
    assert c.answer_sha256 in page and "说明.pdf" in page and 'id="answer-form"' not in page
    attachment = c.attachments.get()
    download = client.get(reverse("evaluation:clarification_attachment", args=[attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 explanation"


def test_page_answer_with_a_bad_signature_shows_the_error_and_keeps_nothing(world, client, settings):
    c = ask(world, world.session)
    login(client, world.bidders[0].user)
    signature = sign(world.bidders[1].signing, c, "答复", [])
    response = client.post(reverse("evaluation:clarification_detail", args=[c.pk]), {"answer": "答复", "signature": signature})
    assert response.status_code == 200 and "签名无效" in response.content.decode()
    c.refresh_from_db()
    assert c.status == ClarificationStatus.OPEN


def test_page_answer_after_the_deadline_is_refused(world, client, clock):
    c = ask(world, world.session, deadline=timezone.now() + timedelta(minutes=15))
    clock.advance(minutes=16)
    login(client, world.bidders[0].user)
    page = client.get(reverse("evaluation:clarification_detail", args=[c.pk])).content.decode()
    assert 'id="answer-form"' not in page
    response = client.post(reverse("evaluation:clarification_detail", args=[c.pk]),
                           {"answer": "答复", "signature": sign(world.bidders[0].signing, c, "答复", [])})
    assert "答复截止时间" in response.content.decode() and "已过" in response.content.decode()
    c.refresh_from_db()
    assert c.status == ClarificationStatus.OPEN and c.answer == ""


# --- API for the bid tool ------------------------------------------------------------------------------

def test_api_statement_then_multipart_answer(world, client):
    c = ask(world, world.session)
    content = b"cost breakdown"
    login(client, world.bidders[0].user)
    listing = client.get(reverse("api-evaluation-clarifications")).json()
    assert [row["id"] for row in listing] == [c.pk] and listing[0]["question_sha256"] == cs.sha256_text(c.question)
    statement = client.post(reverse("api-evaluation-clarification-statement", args=[c.pk]), {
        "answer": "成本构成见附件。", "attachments": [{"name": "cost.csv", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}],
    }, content_type="application/json").json()
    assert statement["sha256"] == hashlib.sha256(statement["statement_text"].encode()).hexdigest()
    assert not EvaluationClarification.objects.filter(status="answered").exists()  # nothing stored yet
    import base64

    from opening import record_signing

    signature = base64.b64encode(record_signing.sign(world.bidders[0].signing, statement["sha256"])).decode()
    response = client.post(reverse("api-evaluation-clarification-answer", args=[c.pk]),
                           {"answer": "成本构成见附件。", "signature": signature, "attachments": files(("cost.csv", content))})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "answered" and body["answer_sha256"] == statement["sha256"]
    assert body["attachments"] == [{"name": "cost.csv", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}]


def test_api_answer_with_the_wrong_key_is_400_and_stores_nothing(world, client):
    c = ask(world, world.session)
    login(client, world.bidders[0].user)
    response = client.post(reverse("api-evaluation-clarification-answer", args=[c.pk]), {
        "answer": "答复", "signature": sign(world.bidders[2].signing, c, "答复", [("a.txt", b"1")]), "attachments": files(("a.txt", b"1")),
    })
    assert response.status_code == 400 and response.json()["code"] == "bad_signature"
    assert not ClarificationAttachment.objects.exists()


def test_api_statement_refuses_bad_hashes(world, client):
    c = ask(world, world.session)
    login(client, world.bidders[0].user)
    response = client.post(reverse("api-evaluation-clarification-statement", args=[c.pk]),
                           {"answer": "x", "attachments": [{"name": "a", "size": 1, "sha256": "xyz"}]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "bad_answer"


# --- panel page ----------------------------------------------------------------------------------

def test_panel_member_sees_questions_and_answers_but_only_the_chair_gets_the_forms(world, client):
    c = ask(world, world.session, question="请说明工期安排。")
    answer(world, c, text="工期 365 天不变。", items=[("plan.pdf", b"plan")])
    url = reverse("evaluation:lot_clarifications", args=[world.lot.pk])
    member = login(client, world.members[1].user).get(url).content.decode()
    assert "请说明工期安排。" in member and "工期 365 天不变。" in member and NOT_SUBSTANCE in member
    assert 'value="ask"' not in member
    download = client.get(reverse("evaluation:clarification_attachment", args=[c.attachments.get().pk]))
    assert download.status_code == 200
    assert client.post(url, {"action": "ask"}).status_code == 403
    chair_page = login(client, world.members[0].user).get(url).content.decode()
    assert 'value="ask"' in chair_page and 'value="reject"' in chair_page


def test_outsiders_get_404_on_the_panel_page(world, client):
    url = reverse("evaluation:lot_clarifications", args=[world.lot.pk])
    for user in [make_expert().user, world.bidders[0].user, world.tenderer]:
        assert login(client, user).get(url).status_code == 404
    assert login(client, world.centre).get(url).status_code == 200


def test_chair_asks_and_rejects_through_the_page(world, client):
    url = reverse("evaluation:lot_clarifications", args=[world.lot.pk])
    login(client, world.members[0].user)
    deadline = timezone.localtime(timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"action": "ask", "bid": world.bidders[2].bid.pk, "reason": "abnormally_low",
                                 "question": "请说明报价构成。", "deadline": deadline})
    assert response.status_code == 302
    c = EvaluationClarification.objects.get()
    assert c.bid == world.bidders[2].bid and c.reason == "abnormally_low" and c.deadline.strftime("%M") == deadline[-2:]
    from evaluation.models import BidResult

    BidResult.objects.create(session=world.session, bid=world.bidders[2].bid, abnormally_low=True)
    refused = client.post(url, {"action": "reject", "bid": world.bidders[2].bid.pk, "reason": "低于成本"}, follow=True)
    assert "P21" in refused.content.decode()
    assert not BidResult.objects.get(bid=world.bidders[2].bid).rejected
    too_soon = client.post(url, {"action": "ask", "bid": world.bidders[0].bid.pk, "reason": "general", "question": "问题",
                                 "deadline": timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    assert too_soon.status_code == 200 and EvaluationClarification.objects.count() == 1
