"""The accounts pages and API on their own, so these tests do not depend on other apps' pages.
`test_wiring.py` checks the real URLconf routes to the same views."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from config import views

urlpatterns = [
    path("", views.server_time, name="home"),
    path("time/", views.server_time, name="server_time"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/v1/", include("accounts.api_urls")),
]
