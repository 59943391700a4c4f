"""API tokens: issued once, stored only as a hash, refused once revoked or expired."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.authentication import hash_token
from accounts.models import ApiToken
from config.errors import DomainError
from tests.accounts.conftest import actor, make_org, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "Pw-for-tests-2026"


@pytest.fixture
def bidder():
    return make_user("bidder", make_org("bidder", name="中山市精工建设有限公司"), username="jinggong")


def me(token: str | None, scheme="Bearer"):
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client.get("/api/v1/auth/me/")


def obtain(**body):
    return APIClient().post("/api/v1/auth/token/", body, format="json")


def test_obtained_secret_authenticates_and_me_shows_role_and_organisation(bidder):
    response = obtain(username="jinggong", password=PASSWORD, name="投标工具")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith(body["prefix"]) and body["name"] == "投标工具" and body["expires_at"]
    answer = me(body["token"])
    assert answer.status_code == 200
    data = answer.json()
    assert data["username"] == "jinggong" and data["role"] == "bidder"
    assert data["organisation"]["name"] == "中山市精工建设有限公司" and data["organisation"]["can_act"] is True
    assert me(body["token"], scheme="Token").status_code == 200


def test_only_the_hash_of_the_secret_is_stored(bidder):
    token, secret = services.api_token_create(by=actor(bidder), user=bidder, name="cli")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_token(secret) and len(stored.key_hash) == 64
    row = {f.attname: str(getattr(stored, f.attname)) for f in ApiToken._meta.concrete_fields}
    assert not any(secret in value for value in row.values())


def test_tokens_expire_by_default(bidder):
    token, _ = services.api_token_create(by=actor(bidder), user=bidder, name="")
    assert token.name == "api"
    assert timedelta(days=89) < token.expires_at - timezone.now() <= services.TOKEN_LIFETIME


@pytest.mark.parametrize(
    "body",
    [
        {"username": "jinggong", "password": "wrong-password"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_bad_credentials_are_refused_with_a_clear_message(bidder, body):
    response = obtain(**body)
    assert response.status_code == 401
    assert response.json()["detail"] == "用户名或密码错误。"
    assert not ApiToken.objects.exists()


def test_missing_fields_are_a_bad_request(bidder):
    response = obtain(username="jinggong")
    assert response.status_code == 400
    assert "password" in response.json()


def test_inactive_user_gets_no_token(bidder):
    bidder.is_active = False
    bidder.save()
    response = obtain(username="jinggong", password=PASSWORD)
    assert response.status_code == 401
    assert "停用" in response.json()["detail"]
    assert not ApiToken.objects.exists()
    with pytest.raises(PermissionDenied):  # an inactive user passes no permission rule at all
        services.api_token_create(by=actor(bidder), user=bidder, name="x")


def test_revoked_token_is_refused(bidder):
    token, secret = services.api_token_create(by=actor(bidder), user=bidder, name="cli")
    services.api_token_revoke(by=actor(bidder), token=token)
    response = me(secret)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused(bidder):
    token, secret = services.api_token_create(by=actor(bidder), user=bidder, name="cli", expires_at=timezone.now() + timedelta(seconds=60))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert me(secret).status_code == 401


def test_token_of_a_deactivated_user_is_refused(bidder):
    _, secret = services.api_token_create(by=actor(bidder), user=bidder, name="cli")
    bidder.is_active = False
    bidder.save()
    assert me(secret).status_code == 401


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer etp_notarealtoken", "Bearer a b"])
def test_garbage_is_refused(bidder, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/auth/me/").status_code == 401


def test_no_credentials_cannot_see_me():
    assert me(None).status_code in (401, 403)


def test_expiry_in_the_past_is_refused(bidder):
    with pytest.raises(DomainError):
        services.api_token_create(by=actor(bidder), user=bidder, name="x", expires_at=timezone.now() - timedelta(days=1))
    assert not ApiToken.objects.exists()


def test_nobody_creates_or_revokes_someone_elses_token(bidder):
    other = make_user("bidder", bidder.organisation)
    with pytest.raises(PermissionDenied):
        services.api_token_create(by=actor(other), user=bidder, name="x")
    token, _ = services.api_token_create(by=actor(bidder), user=bidder, name="x")
    with pytest.raises(PermissionDenied):
        services.api_token_revoke(by=actor(other), token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_revoke_through_the_api_by_prefix(bidder):
    token, secret = services.api_token_create(by=actor(bidder), user=bidder, name="cli")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    listed = client.get("/api/v1/auth/tokens/").json()
    assert [t["prefix"] for t in listed] == [token.prefix] and "key_hash" not in listed[0]
    assert client.delete(f"/api/v1/auth/tokens/{token.prefix}/").status_code == 204
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert me(secret).status_code == 401


def test_revoking_another_users_prefix_is_not_found(bidder):
    token, _ = services.api_token_create(by=actor(bidder), user=bidder, name="cli")
    other = make_user("bidder", bidder.organisation)
    _, other_secret = services.api_token_create(by=actor(other), user=other, name="cli")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_secret}")
    assert client.delete(f"/api/v1/auth/tokens/{token.prefix}/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_revoking_twice_keeps_the_first_time(bidder):
    token, _ = services.api_token_create(by=actor(bidder), user=bidder, name="cli")
    first = services.api_token_revoke(by=actor(bidder), token=token).revoked_at
    assert services.api_token_revoke(by=actor(bidder), token=token).revoked_at == first


def test_accounts_api_schema_has_no_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    from accounts import api_urls

    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=api_urls.urlpatterns).get_schema(request=None, public=True)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    assert {"/auth/token/", "/auth/me/", "/auth/tokens/{prefix}/"} <= set(schema["paths"])
