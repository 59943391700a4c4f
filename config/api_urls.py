from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accounts.api_urls")),
    path("", include("tendering.api_urls")),
    path("", include("bidding.api_urls")),
    path("", include("opening.api_urls")),
    path("", include("evaluation.api_urls")),
]
