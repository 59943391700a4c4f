"""/api/v1/bidder-keys/: a bidder registers, lists and revokes its own public keys with its bearer
token; the centre and regulators read any bidder's keys; nobody else sees or changes anything."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from audit.actor import Actor
from bidding.models import BidderKey, KeyStatus

from .test_keys_world import ROLES, new_jwk, people, register, snapshot  # noqa: F401

pytestmark = pytest.mark.django_db
URL = "/api/v1/bidder-keys/"


@pytest.fixture
def api(people):  # noqa: F811
    def client_for(role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            user = people[role]
            _, secret = api_token_create(by=Actor.from_user(user), user=user, name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for


def body() -> dict:
    return {"decryption": new_jwk(), "signing": new_jwk()}


def test_a_bidder_registers_lists_rotates_and_revokes_with_its_token(api, people):  # noqa: F811
    client = api("bidder")
    created = client.post(URL, body(), format="json")
    assert created.status_code == 201, created.content
    first = created.json()
    assert len(first["decryption"]["fingerprint"]) == 64 and first["signing"]["purpose"] == "signing"
    assert first["decryption"]["status"] == "active" and first["decryption"]["registration"] == first["signing"]["registration"]

    rotated = client.post(URL, body(), format="json").json()
    listed = client.get(URL).json()
    by_fingerprint = {key["fingerprint"]: key for key in listed}
    assert len(listed) == 4
    old = by_fingerprint[first["decryption"]["fingerprint"]]
    assert old["status"] == "revoked" and old["revoke_reason"] == "rotated"
    assert old["replaced_by"] == rotated["decryption"]["fingerprint"]

    fingerprint = rotated["signing"]["fingerprint"]
    answer = client.get(f"{URL}{fingerprint}/")
    assert answer.status_code == 200 and answer.json()["public_jwk"]["crv"] == "P-256"
    revoked = client.post(f"{URL}{fingerprint}/revoke/", {"reason": "密钥文件遗失"}, format="json")
    assert revoked.status_code == 200
    assert {key["status"] for key in revoked.json()} == {"revoked"} and len(revoked.json()) == 2
    assert not BidderKey.objects.filter(organisation=people["bidder"].organisation, status=KeyStatus.ACTIVE).exists()


@pytest.mark.parametrize("role,code", [
    (None, 401), ("bidder", 201), ("other_bidder", 201), ("tenderer", 403), ("agency", 403), ("centre", 403),
    ("regulator", 403), ("expert", 403), ("pending_bidder", 403), ("suspended_bidder", 403),
])
def test_who_may_register(api, role, code):
    client = api(role)
    before = snapshot()
    response = client.post(URL, body(), format="json")
    assert response.status_code == code, response.content
    if code != 201:
        assert snapshot() == before


def test_a_private_key_is_refused_with_the_warning_and_nothing_is_stored(api):
    private = {**new_jwk(), "d": "A" * 43}
    client = api("bidder")
    before = snapshot()
    response = client.post(URL, {"decryption": private, "signing": new_jwk()}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "private_key" and "切勿把私钥上传" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("payload", [{}, {"decryption": new_jwk()}, {"decryption": None, "signing": None}])
def test_missing_keys_are_a_bad_request(api, payload):
    client = api("bidder")
    before = snapshot()
    assert client.post(URL, payload, format="json").status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("role,code,sees", [
    (None, 401, None), ("bidder", 200, "bidder"), ("other_bidder", 200, "other_bidder"), ("tenderer", 403, None),
    ("agency", 403, None), ("expert", 403, None), ("pending_bidder", 200, "pending_bidder"),
    ("suspended_bidder", 200, "suspended_bidder"),
])
def test_who_lists_own_keys(api, people, role, code, sees):  # noqa: F811
    register(people["bidder"])
    response = api(role).get(URL)
    assert response.status_code == code
    if sees:
        expected = set(BidderKey.objects.filter(organisation=people[sees].organisation).values_list("fingerprint", flat=True))
        assert {key["fingerprint"] for key in response.json()} == expected


@pytest.mark.parametrize("role,code", [
    ("centre", 200), ("regulator", 200), ("bidder", 200), ("other_bidder", 403), ("tenderer", 403), ("agency", 403), ("expert", 403),
])
def test_who_lists_a_given_bidders_keys(api, people, role, code):  # noqa: F811
    decryption, signing = register(people["bidder"])
    response = api(role).get(URL, {"organisation": people["bidder"].organisation_id})
    assert response.status_code == code
    if code == 200:
        assert {key["fingerprint"] for key in response.json()} == {decryption.fingerprint, signing.fingerprint}


def test_listing_a_non_bidder_organisation_is_not_found(api, people):  # noqa: F811
    assert api("centre").get(URL, {"organisation": people["tenderer"].organisation_id}).status_code == 404


@pytest.mark.parametrize("role,code", [
    (None, 401), ("bidder", 200), ("other_bidder", 404), ("tenderer", 404), ("agency", 404), ("expert", 404),
    ("centre", 403), ("regulator", 403),
])
def test_who_may_revoke(api, people, role, code):  # noqa: F811
    decryption, _ = register(people["bidder"])
    client = api(role)  # issuing its token is an audit event of its own
    before = snapshot()
    response = client.post(f"{URL}{decryption.fingerprint}/revoke/", {"reason": "撤销"}, format="json")
    assert response.status_code == code
    if code != 200:
        assert snapshot() == before


@pytest.mark.parametrize("role,code", [("bidder", 200), ("centre", 200), ("regulator", 200), ("other_bidder", 404), ("tenderer", 404)])
def test_who_sees_one_key(api, people, role, code):  # noqa: F811
    decryption, _ = register(people["bidder"])
    assert api(role).get(f"{URL}{decryption.fingerprint}/").status_code == code


def test_a_revocation_without_reason_or_of_an_unknown_key_changes_nothing(api, people):  # noqa: F811
    decryption, _ = register(people["bidder"])
    client = api("bidder")
    before = snapshot()
    assert client.post(f"{URL}{decryption.fingerprint}/revoke/", {}, format="json").status_code == 400
    blank = client.post(f"{URL}{decryption.fingerprint}/revoke/", {"reason": " "}, format="json")
    assert blank.status_code == 400
    assert client.post(f"{URL}{'0' * 64}/revoke/", {"reason": "x"}, format="json").status_code == 404
    assert snapshot() == before
