"""Pages of evaluation, one url module per area."""

from django.urls import include, path

app_name = "evaluation"

urlpatterns = [
    path("", include("evaluation.urls_pool")),
    path("", include("evaluation.urls_room")),
    path("", include("evaluation.urls_report")),
    path("", include("evaluation.urls_clarification")),
]
