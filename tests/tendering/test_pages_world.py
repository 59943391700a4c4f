"""The little world the tendering page tests run in: one organisation per role (plus a second
bidder and a second tenderer) and tenders brought to a state through the real services.

No tests here; the page tests import these fixtures."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import credit_code
from accounts.models import Organisation, User
from audit.actor import Actor
from tendering import scheme, services

_serial = itertools.count(700001)
PASSWORD = "Pw-for-tests-2026"


def make_org(kind: str, name: str, **fields) -> Organisation:
    fields.setdefault("status", "approved")
    fields.setdefault("region_code", "441900")
    return Organisation.objects.create(kind=kind, name=name, credit_code=credit_code.complete(f"91441900{next(_serial):09d}"), **fields)


def make_user(role: str, organisation: Organisation | None, username: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role, organisation=organisation, display_name=username)


def actor(user) -> Actor:
    return Actor.from_user(user, ip="192.0.2.10")


@pytest.fixture
def world(db):
    w = SimpleNamespace()
    w.centre = make_user("centre", make_org("centre", "东莞市公共资源交易中心"), "centre1")
    w.regulator = make_user("regulator", make_org("regulator", "东莞市住房和城乡建设局"), "regulator1")
    w.tenderer = make_user("tenderer", make_org("tenderer", "东莞市水务工程建设中心"), "tenderer1")
    w.other_tenderer = make_user("tenderer", make_org("tenderer", "东莞市教育局"), "tenderer2")
    w.agency = make_user("agency", make_org("agency", "广东华誉招标代理有限公司"), "agency1")
    w.bidder = make_user("bidder", make_org("bidder", "广东粤水建设集团有限公司", qualifications="水利水电工程施工总承包一级"), "bidder1")
    w.other_bidder = make_user("bidder", make_org("bidder", "中山市宏图建筑工程有限公司", qualifications="建筑工程施工总承包二级", region_code="442000"), "bidder2")
    w.third_bidder = make_user("bidder", make_org("bidder", "东莞市安澜水利工程有限公司", qualifications="水利水电工程施工总承包二级"), "bidder3")
    w.unverified_bidder = make_user("bidder", make_org("bidder", "东莞市未核验建设有限公司", status="pending"), "bidder4")
    w.expert = make_user("expert", None, "expert1")
    return w


def lot_data(**overrides) -> dict:
    return {"name": "一标段：泵站主体工程", "description": "泵站土建及设备安装", "maximum_price_fen": 123456789, **overrides}


def draft_tender(world, *, title="东江引水泵站改造工程施工招标", project_code=None, accelerator=1, procedure="open", agency=None, **fields):
    """A draft of world.tenderer; `agency` is mandated by the project (委托代理) and so acts for the tender."""
    by = actor(world.tenderer)
    project = services.project_create(
        by=by, tenderer=world.tenderer.organisation, code=project_code or f"DG-SW-{next(_serial)}", name="东江引水泵站改造工程",
        location="东莞市石龙镇", agency=agency,
    )
    now = timezone.now()
    fields.setdefault("bid_deadline", now + timedelta(days=40))
    fields.setdefault("documents_offer_end", now + timedelta(days=15))
    if procedure == "invited":
        fields.setdefault("invitation_reply_deadline", now + timedelta(days=10))
    return services.tender_create(by=by, project=project, title=title, procedure=procedure, accelerator=accelerator, lots=[lot_data()], **fields)


def upload(world, tender, *, title="招标文件", content=b"%PDF-1.4 tender documents", clarification=None):
    file = SimpleUploadedFile("zhaobiao.pdf", content, content_type="application/pdf")
    return services.tender_document_upload(by=actor(world.tenderer), tender=tender, title=title, uploaded_file=file, clarification=clarification)


def approved_tender(world, **kwargs):
    tender = draft_tender(world, **kwargs)
    upload(world, tender)
    services.tender_submit(by=actor(world.tenderer), tender=tender)
    return services.tender_approve(by=actor(world.centre), tender=tender)


def published_tender(world, **kwargs):
    tender = approved_tender(world, **kwargs)
    return services.tender_publish(by=actor(world.tenderer), tender=tender)


def register(world, tender, user=None):
    return services.bidder_register(by=actor(user or world.bidder), tender=tender)


# Page-level helpers ------------------------------------------------------------------------------

def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def tender_post_data(clock, **overrides) -> dict:
    now = clock()
    data = {
        "title": "石龙镇东江引水泵站改造工程施工招标",
        "procedure": "open",
        "agency": "",
        "announcement": "本招标项目已由东莞市水务局批准建设，资金来自财政资金。",
        "bid_scope": "single_lot",
        "bidder_requirements": "具备水利水电工程施工总承包二级及以上资质。",
        "documents_offer_end": local(now + timedelta(days=14)),
        "bid_deadline": local(now + timedelta(days=44)),
        "invitation_reply_deadline": "",
        "evaluation_scheme": json.dumps(scheme.default_scheme(), ensure_ascii=False),
        "lots-TOTAL_FORMS": "2",
        "lots-INITIAL_FORMS": "0",
        "lots-MIN_NUM_FORMS": "0",
        "lots-MAX_NUM_FORMS": "50",
        "lots-0-name": "一标段：泵站土建",
        "lots-0-description": "泵房及进出水池",
        "lots-0-maximum_price_fen": "12345678.90",
        "lots-1-name": "二标段：机电设备安装",
        "lots-1-description": "",
        "lots-1-maximum_price_fen": "3000000",
    }
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
