"""The public side of the API: the announcement list with the page's filters, and a tender's
detail with its documents (SHA-256 and platform signature) and clarifications, but never who
obtained the documents (L22, E21)."""

import datetime
import hashlib

from django.core.files.base import ContentFile

from tendering import services
from tests.api.conftest import actor


def _ids(response):
    assert response.status_code == 200, response.content.decode()
    return [tender["id"] for tender in response.json()["results"]]


def test_only_published_tenders_are_listed(api, make_tender):
    draft, published = make_tender("draft"), make_tender("published", title="排水管网工程")
    assert _ids(api("anonymous").get("/api/v1/tenders/")) == [published.pk]
    assert draft.pk not in _ids(api("tenderer").get("/api/v1/tenders/"))


def test_filters_match_the_announcement_page(api, make_tender):
    roads = make_tender("published", title="道路改造工程施工")
    lights = make_tender("published", title="路灯照明工程施工")
    client = api("anonymous")
    today = datetime.date.today()

    assert _ids(client.get("/api/v1/tenders/", {"q": "路灯"})) == [lights.pk]
    assert _ids(client.get("/api/v1/tenders/", {"q": roads.code})) == [roads.pk]
    assert set(_ids(client.get("/api/v1/tenders/", {"state": "published"}))) == {roads.pk, lights.pk}
    assert _ids(client.get("/api/v1/tenders/", {"state": "awarded"})) == []
    window = {"date_from": (today - datetime.timedelta(days=1)).isoformat(), "date_to": (today + datetime.timedelta(days=1)).isoformat()}
    assert set(_ids(client.get("/api/v1/tenders/", window))) == {roads.pk, lights.pk}
    assert _ids(client.get("/api/v1/tenders/", {"date_to": (today - datetime.timedelta(days=2)).isoformat()})) == []


def test_bad_filters_are_a_clear_400(api):
    client = api("anonymous")
    assert client.get("/api/v1/tenders/", {"date_from": "昨天"}).status_code == 400
    assert client.get("/api/v1/tenders/", {"state": "bogus"}).status_code == 400
    reversed_window = client.get("/api/v1/tenders/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert reversed_window.status_code == 400
    assert "date_to" in reversed_window.json()


def test_detail_shows_lots_current_documents_and_clarifications(api, people, make_tender):
    tender = make_tender("draft", documents=False)
    owner = actor(people["tenderer"])
    services.tender_document_upload(by=owner, tender=tender, title="招标文件", uploaded_file=ContentFile(b"v1", name="a.pdf"))
    services.tender_document_upload(by=owner, tender=tender, title="招标文件", uploaded_file=ContentFile(b"v2", name="a.pdf"))
    services.tender_submit(by=owner, tender=tender)
    services.tender_approve(by=actor(people["centre"]), tender=tender)
    services.tender_publish(by=owner, tender=tender)

    detail = api("anonymous").get(f"/api/v1/tenders/{tender.pk}/").json()

    assert [lot["name"] for lot in detail["lots"]] == ["第一标段"]
    assert detail["lots"][0]["maximum_price_fen"] == 5_000_000_00
    [document] = detail["documents"]  # the current version only
    assert document["version"] == 2
    assert document["sha256"] == hashlib.sha256(b"v2").hexdigest()
    assert document["signature"] and document["signing_key_id"]
    assert detail["clarifications"] == []


def test_detail_never_reveals_who_obtained_the_documents(api, people, make_tender):
    tender = make_tender("published")
    services.bidder_register(by=actor(people["bidder"]), tender=tender)

    for role in ("anonymous", "bidder", "other_tenderer", "tenderer", "centre"):
        response = api(role).get(f"/api/v1/tenders/{tender.pk}/")
        text = response.content.decode()
        assert response.status_code == 200
        assert "registrations" not in response.json() and "downloads" not in response.json()
        assert people["bidder"].organisation.name not in text
