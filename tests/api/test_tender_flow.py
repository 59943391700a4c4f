"""A tenderer drives a tender through the API: create with lots → submit → (the centre approves)
→ publish → clarify → cancel; and every kind of bad request is refused with a clear error and
changes nothing."""

from datetime import timedelta

from django.utils import timezone

from audit.models import AuditEvent
from tendering import scheme, services
from tendering.models import Tender
from tests import factories
from tests.api.conftest import actor


def _create_payload(project, **overrides):
    now = timezone.now()
    payload = {
        "project": project.pk,
        "title": "科教路改造工程施工",
        "procedure": "open",
        "announcement": "公告正文",
        "bid_deadline": (now + timedelta(days=40)).isoformat(),
        "documents_offer_end": (now + timedelta(days=30)).isoformat(),
        "evaluation_scheme": scheme.default_scheme(),
        "lots": [
            {"name": "第一标段：道路", "description": "K0—K1", "maximum_price_fen": 58_000_000_00},
            {"name": "第二标段：照明", "maximum_price_fen": 21_000_000_00},
        ],
    }
    payload.update(overrides)
    return payload


def test_create_submit_approve_publish_through_the_api(api, people, project):
    client = api("tenderer")

    created = client.post("/api/v1/tenders/", _create_payload(project), format="json")
    assert created.status_code == 201, created.content.decode()
    body = created.json()
    assert body["state"] == "draft"
    assert [(lot["number"], lot["maximum_price_fen"]) for lot in body["lots"]] == [(1, 58_000_000_00), (2, 21_000_000_00)]
    pk = body["id"]

    assert client.patch(f"/api/v1/tenders/{pk}/", {"title": "科教路改造工程施工（一期）"}, format="json").json()["title"] == (
        "科教路改造工程施工（一期）"
    )
    factories.upload(people["tenderer"], Tender.objects.get(pk=pk))  # documents are uploaded on the web page
    assert client.post(f"/api/v1/tenders/{pk}/submit/").json()["state"] == "submitted"

    services.tender_approve(by=actor(people["centre"]), tender=Tender.objects.get(pk=pk))

    published = client.post(f"/api/v1/tenders/{pk}/publish/")
    assert published.status_code == 200, published.content.decode()
    assert published.json()["state"] == "published"
    assert {lot["state"] for lot in published.json()["lots"]} == {"published"}

    # Now public: listed and readable by anyone.
    public = api("anonymous")
    assert pk in [tender["id"] for tender in public.get("/api/v1/tenders/").json()["results"]]
    assert public.get(f"/api/v1/tenders/{pk}/").json()["code"] == body["code"]

    actions = list(AuditEvent.objects.filter(tender_id=pk).values_list("action", flat=True))
    assert "tender.submit" in actions and "tender.approve" in actions and "tender.publish" in actions


def test_amendment_and_cancellation_through_the_api(api, make_tender):
    tender = make_tender("published")
    client = api("agency")

    issued = client.post(
        f"/api/v1/tenders/{tender.pk}/clarifications/",
        {"kind": "amendment", "title": "修改一", "body": "第一标段工程量清单修改", "affects_bids": True},
        format="json",
    )
    assert issued.status_code == 201, issued.content.decode()
    assert issued.json()["number"] == 1
    detail = api("bidder").get(f"/api/v1/tenders/{tender.pk}/").json()
    assert [c["title"] for c in detail["clarifications"]] == ["修改一"]

    cancelled = client.post(f"/api/v1/tenders/{tender.pk}/cancel/", {"reason": "项目资金未落实"}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["cancelled_reason"] == "项目资金未落实"


def _unchanged(tender, before_events):
    fresh = Tender.objects.get(pk=tender.pk)
    assert (fresh.state, fresh.title, fresh.bid_deadline, fresh.updated_at) == (
        tender.state, tender.title, tender.bid_deadline, tender.updated_at
    )
    assert AuditEvent.objects.count() == before_events


def test_a_deadline_shorter_than_20_days_is_refused_at_submission(api, make_tender):
    now = timezone.now()
    tender = make_tender("draft", bid_deadline=now + timedelta(days=10), documents_offer_end=now + timedelta(days=6))
    client = api("tenderer")
    before = AuditEvent.objects.count()

    response = client.post(f"/api/v1/tenders/{tender.pk}/submit/")

    assert response.status_code == 400
    assert "L24" in response.json()["detail"] and response.json()["code"] == "not_publishable"
    _unchanged(tender, before)


def test_a_deadline_that_became_too_short_while_in_review_is_refused_at_publication(api, make_tender, monkeypatch):
    """L24 counts from publication: an approval that came late leaves fewer than 20 days."""
    now = timezone.now()
    tender = make_tender("approved", bid_deadline=now + timedelta(days=21), documents_offer_end=now + timedelta(days=10))
    client = api("tenderer")
    before = AuditEvent.objects.count()
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(days=3))

    response = client.post(f"/api/v1/tenders/{tender.pk}/publish/")

    assert response.status_code == 400
    assert "L24" in response.json()["detail"]
    _unchanged(tender, before)
    assert set(tender.lots.values_list("state", flat=True)) == {"draft"}


def test_another_organisations_tender_is_forbidden(api, make_tender):
    tender = make_tender("draft")
    client = api("other_tenderer")
    before = AuditEvent.objects.count()

    response = client.patch(f"/api/v1/tenders/{tender.pk}/", {"title": "抢改"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"]
    _unchanged(tender, before)


def test_an_illegal_transition_is_refused(api, make_tender):
    tender = make_tender("draft")
    client = api("tenderer")
    before = AuditEvent.objects.count()

    response = client.post(f"/api/v1/tenders/{tender.pk}/publish/")  # not reviewed yet

    assert response.status_code == 400
    assert response.json()["code"] == "illegal_transition"
    _unchanged(tender, before)


def test_a_published_tender_cannot_be_edited(api, make_tender):
    tender = make_tender("published")
    client = api("tenderer")
    before = AuditEvent.objects.count()

    response = client.patch(f"/api/v1/tenders/{tender.pk}/", {"title": "改名"}, format="json")

    assert response.status_code == 400
    _unchanged(tender, before)


def test_malformed_payloads_are_refused_field_by_field(api, project, make_tender):
    client = api("tenderer")
    before = AuditEvent.objects.count()
    tenders_before = Tender.objects.count()
    bad_payloads = {
        "no lots": _create_payload(project, lots=[]),
        "negative price": _create_payload(project, lots=[{"name": "一", "maximum_price_fen": -5}]),
        "price not an integer": _create_payload(project, lots=[{"name": "一", "maximum_price_fen": "很多"}]),
        "deadline not a time": _create_payload(project, bid_deadline="下周五"),
        "unknown procedure": _create_payload(project, procedure="auction"),
        "scheme not an object": _create_payload(project, evaluation_scheme=[1, 2]),
        "no such project": {**_create_payload(project), "project": 999_999},
    }
    for case, payload in bad_payloads.items():
        response = client.post("/api/v1/tenders/", payload, format="json")
        assert response.status_code == 400, case
        assert response.json(), case

    not_json = client.post("/api/v1/tenders/", "{not json", content_type="application/json")
    assert not_json.status_code == 400
    assert Tender.objects.count() == tenders_before
    assert AuditEvent.objects.count() == before

    tender = make_tender("published")
    before = AuditEvent.objects.count()
    assert client.post(f"/api/v1/tenders/{tender.pk}/cancel/", {}, format="json").status_code == 400
    assert client.post(f"/api/v1/tenders/{tender.pk}/clarifications/", {"kind": "rumour"}, format="json").status_code == 400
    _unchanged(tender, before)


def test_an_unknown_tender_is_404(api):
    assert api("tenderer").post("/api/v1/tenders/999999/submit/").status_code == 404
    assert api("anonymous").get("/api/v1/tenders/999999/").status_code == 404


def test_a_bad_token_is_401(api):
    client = api("anonymous")
    client.credentials(HTTP_AUTHORIZATION="Bearer etp_not-a-real-token")
    assert client.get("/api/v1/tenders/").status_code == 401


def test_amounts_and_accelerators_beyond_the_platform_bound_are_a_clear_400(api, people, project):
    """2**53 fen cannot enter the audit chain and 2**64 overflows the database: both are refused
    with a clear message before anything is written (tendering.money.MAX_FEN)."""
    client = api("tenderer")
    before, tenders_before = AuditEvent.objects.count(), Tender.objects.count()
    for price in (2**53, 2**64):
        response = client.post("/api/v1/tenders/", _create_payload(project, lots=[{"name": "一", "maximum_price_fen": price}]), format="json")
        assert response.status_code == 400, response.content.decode()
        assert "maximum_price_fen" in response.content.decode()
    assert client.post("/api/v1/tenders/", _create_payload(project, accelerator=10**9), format="json").status_code == 400
    project_response = client.post("/api/v1/projects/", {"code": "P-BIG", "name": "大项目", "investment_fen": 2**64}, format="json")
    assert project_response.status_code == 400
    assert "investment_fen" in project_response.json()
    assert Tender.objects.count() == tenders_before
    assert AuditEvent.objects.count() == before


def test_the_tenderer_creates_a_project_mandating_an_agency_and_changes_the_mandate(api, people):
    client = api("tenderer")
    agency = people["agency"].organisation
    created = client.post("/api/v1/projects/", {"code": "P-MAND", "name": "委托项目", "agency": agency.pk}, format="json")
    assert created.status_code == 201, created.content.decode()
    assert created.json()["agency"]["id"] == agency.pk
    pk = created.json()["id"]
    agency_client = api("agency")
    before = AuditEvent.objects.count()
    assert agency_client.patch(f"/api/v1/projects/{pk}/", {"agency": None}, format="json").status_code == 403
    assert client.patch(f"/api/v1/projects/{pk}/", {"agency": people["bidder"].organisation_id}, format="json").status_code == 400
    assert AuditEvent.objects.count() == before
    withdrawn = client.patch(f"/api/v1/projects/{pk}/", {"agency": None}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["agency"] is None
