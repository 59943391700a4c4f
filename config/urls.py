from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from config import views
from crossregion import views as crossregion_views

urlpatterns = [
    path("", views.home, name="home"),
    path("time/", views.server_time, name="server_time"),
    path("accounts/", include("accounts.urls")),
    path("tenders/", include("tendering.urls")),
    path("bidding/", include("bidding.urls")),
    path("opening/", include("opening.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("crossregion/replicated/", include("crossregion.urls_replication")),
    path("crossregion/bookings/", include("crossregion.urls_booking")),
    path("crossregion/", include("crossregion.urls")),
    path(".well-known/etender-platform.json", crossregion_views.well_known, name="platform_metadata"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
]
