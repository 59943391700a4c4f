"""The real URLconf serves the accounts pages and API at the addresses others rely on."""

from django.urls import resolve, reverse

from accounts import api, views


def test_real_urlconf_routes_accounts():
    assert resolve("/api/v1/auth/token/").func.view_class is api.TokenObtainView
    assert resolve("/api/v1/auth/me/").func.view_class is api.MeView
    assert resolve("/api/v1/auth/tokens/etp_abcdefgh/").func.view_class is api.TokenRevokeView
    assert reverse("accounts:login") == "/accounts/login/"
    assert reverse("accounts:logout") == "/accounts/logout/"
    assert resolve("/accounts/organisation/").func is views.my_organisation
