"""People of every role, each with an API token, and tenders in each state, made through the
services so the API is exercised against the state the platform really produces."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_token_create
from audit.actor import Actor
from tendering import scheme, services
from tests import factories

_serial = itertools.count(1)
ROLES = ("anonymous", "bidder", "tenderer", "other_tenderer", "agency", "centre", "regulator")


def member(kind: str, name: str):
    """The administrator of a verified organisation, registered and approved through the services."""
    organisation = factories.centre_reviewer().organisation if kind == "centre" else factories.make_org(kind, name=name)
    return factories.admin_of(organisation)


@pytest.fixture
def people(db):
    """One user per role in ROLES (None for anonymous). `tenderer` and `agency` own the tenders
    made below; `other_tenderer` belongs to another verified tenderer."""
    return {
        "anonymous": None,
        "bidder": member("bidder", "东莞市投标建设有限公司"),
        "tenderer": member("tenderer", "东莞市招标人有限公司"),
        "other_tenderer": member("tenderer", "东莞市另一招标人有限公司"),
        "agency": member("agency", "广东代理有限公司"),
        "centre": member("centre", "东莞市公共资源交易中心"),
        "regulator": member("regulator", "东莞市住房和城乡建设局"),
    }


@pytest.fixture
def api(people):
    """api(role) → an APIClient sending that person's bearer token (none for anonymous)."""

    def client_for(role: str) -> APIClient:
        client = APIClient()
        user = people[role]
        if user is not None:
            _, secret = api_token_create(by=Actor.from_user(user), user=user, name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for


def actor(user) -> Actor:
    return Actor.from_user(user, ip="192.0.2.1")


@pytest.fixture
def project(people):
    tenderer = people["tenderer"]
    return services.project_create(
        by=actor(tenderer), tenderer=tenderer.organisation, code=f"P-{next(_serial)}", name="道路改造工程",
        agency=people["agency"].organisation,
    )


def tender_fields(**overrides) -> dict:
    now = timezone.now()
    fields = {
        "title": "道路改造工程施工",
        "bid_deadline": now + timedelta(days=40),
        "documents_offer_end": now + timedelta(days=30),
        "evaluation_scheme": scheme.default_scheme(),
        "lots": [{"name": "第一标段", "description": "道路", "maximum_price_fen": 5_000_000_00}],
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def make_tender(people, project):
    """make_tender(state) → a tender of `tenderer` with `agency` (mandated by the project) as its
    agency, with its tender documents uploaded, brought to
    draft / submitted / approved / published through the services."""

    def make(state: str = "draft", documents: bool = True, **overrides):
        owner = actor(people["tenderer"])
        tender = services.tender_create(by=owner, project=project, agency=people["agency"].organisation, **tender_fields(**overrides))
        if documents:
            factories.upload(people["tenderer"], tender)
        steps = {
            "submitted": lambda: services.tender_submit(by=owner, tender=tender),
            "approved": lambda: services.tender_approve(by=actor(people["centre"]), tender=tender),
            "published": lambda: services.tender_publish(by=owner, tender=tender),
        }
        for step, run in steps.items():
            if tender.state == state:
                break
            run()
            tender.refresh_from_db()
        assert tender.state == state
        return tender

    return make
