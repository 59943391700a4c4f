"""Pages and API of the report: the signing-key page and registration, who reads the report when,
the PDF, signing and dissent over HTTP."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from bidding import keyfile
from evaluation import report_signing
from evaluation.models import ExpertKey, ReportState
from evaluation.services.report import report_draft, report_sign
from tests.evaluation.report_world import reporting
from tests.factories import person


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def jwk():
    return keyfile.public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())


def test_an_expert_registers_a_key_on_the_keys_page(eval_world):
    expert = eval_world.spare_expert()
    client = client_for(expert.user)
    page = client.get("/evaluation/keys/")
    assert page.status_code == 200
    assert b"expert-keys-config" in page.content and b"report_keys.js" in page.content
    registered = client.post("/api/v1/evaluation/expert-keys/", {"jwk": jwk()}, content_type="application/json")
    assert registered.status_code == 201
    key = ExpertKey.objects.get(user=expert.user)
    assert registered.json()["fingerprint"] == key.fingerprint and key.revoked_at is None
    assert key.fingerprint.encode() in client.get("/evaluation/keys/").content
    listed = client.get("/api/v1/evaluation/expert-keys/").json()
    assert [k["fingerprint"] for k in listed] == [key.fingerprint]


def test_a_private_key_or_a_bad_key_is_refused(eval_world):
    client = client_for(eval_world.spare_expert().user)
    private = ec.generate_private_key(ec.SECP256R1())
    refused = client.post("/api/v1/evaluation/expert-keys/",
                          {"jwk": {**keyfile.public_jwk(private.public_key()), "d": "x" * 43}}, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["code"] == "private_key"
    refused = client.post("/api/v1/evaluation/expert-keys/", {"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_key"
    assert not ExpertKey.objects.exists()


def test_only_experts_and_panel_members_have_signing_keys(eval_world):
    for user in (person("bidder"), eval_world.tenderer, eval_world.centre):
        client = client_for(user)
        assert client.get("/evaluation/keys/").status_code == 403
        assert client.post("/api/v1/evaluation/expert-keys/", {"jwk": jwk()}, content_type="application/json").status_code == 403
    session = eval_world.seated(experts=5, representatives=1)
    representative = eval_world.members[-1].user
    assert session and client_for(representative).get("/evaluation/keys/").status_code == 200
    assert client_for(representative).post("/api/v1/evaluation/expert-keys/", {"jwk": jwk()},
                                           content_type="application/json").status_code == 201


def test_the_report_is_read_by_the_panel_and_centre_first_and_by_the_owners_once_final(eval_world):
    rep = reporting(eval_world)
    lot = rep.session.lot_id
    url = f"/evaluation/lots/{lot}/report/"
    chair = client_for(rep.chair.user)
    assert b"draft-report" in chair.get(url).content
    assert chair.post(f"/evaluation/lots/{lot}/report/draft/").status_code == 302
    member = client_for(rep.members[1].user)
    page = member.get(url)
    report = rep.session.reports.get()
    assert page.status_code == 200 and report.statement_sha256.encode() in page.content and b"report-sign-config" in page.content
    assert member.get(f"/evaluation/lots/{lot}/report.pdf").status_code == 200
    assert client_for(eval_world.centre).get(url).status_code == 200
    for outsider in (eval_world.tenderer, eval_world.host, eval_world.regulator, eval_world.bidders[0].user):
        assert client_for(outsider).get(url).status_code == 404
        assert client_for(outsider).get(f"/api/v1/evaluation/lots/{lot}/report/").status_code == 404
    for m in rep.members:
        report_sign(by=rep.by(m), report=report, signature_b64=report_signing.sign(rep.keys[m.pk], report.statement_sha256))
    for reader in (eval_world.tenderer, eval_world.host, eval_world.regulator):
        assert client_for(reader).get(url).status_code == 200
        pdf = client_for(reader).get(f"/api/v1/evaluation/lots/{lot}/report/pdf/")
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert client_for(eval_world.bidders[0].user).get(url).status_code == 404


def test_signing_and_dissent_over_http(eval_world):
    rep = reporting(eval_world)
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    lot = rep.session.lot_id
    api = f"/api/v1/evaluation/lots/{lot}/report/"
    member, other = rep.members[1], rep.members[2]
    client = client_for(member.user)
    body = client.get(api).json()
    assert body["statement_sha256"] == report.statement_sha256 and body["state"] == "signing" and len(body["answers"]) == 5
    wrong = report_signing.sign(rep.keys[other.pk], report.statement_sha256)
    refused = client.post(api + "signature/", {"signature": wrong}, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["code"] == "bad_signature"
    stale = client.post(api + "signature/", {"signature": wrong, "version": 7}, content_type="application/json")
    assert stale.status_code == 400 and stale.json()["code"] == "report_version"
    good = report_signing.sign(rep.keys[member.pk], report.statement_sha256)
    signed = client.post(api + "signature/", {"signature": good, "version": 1}, content_type="application/json")
    assert signed.status_code == 201
    assert [a["response"] for a in signed.json()["answers"] if a["seat"] == member.seat] == ["signed"]
    page = client_for(other.user).post(f"/evaluation/lots/{lot}/report/dissent/", {"text": "我不同意第一名的技术得分。"})
    assert page.status_code == 302 and report.dissents.get().text == "我不同意第一名的技术得分。"
    outsider = client_for(rep.world.spare_expert().user)
    assert outsider.post(api + "dissent/", {"text": "x"}, content_type="application/json").status_code == 404
    report.refresh_from_db()
    assert report.state == ReportState.SIGNING
