"""JSON API of evaluation (/api/v1/...), one module per area."""

from django.urls import include, path

urlpatterns = [
    path("", include("evaluation.api_urls_room")),
    path("", include("evaluation.api_urls_report")),
    path("", include("evaluation.api_urls_clarification")),
]
