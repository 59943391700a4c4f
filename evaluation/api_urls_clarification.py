"""API: a bidder's clarifications during evaluation (/api/v1/evaluation/clarifications/...)."""

from django.urls import path

from evaluation import api_clarification as api

urlpatterns = [
    path("evaluation/clarifications/", api.ClarificationListView.as_view(), name="api-evaluation-clarifications"),
    path("evaluation/clarifications/<int:pk>/", api.ClarificationDetailView.as_view(), name="api-evaluation-clarification"),
    path("evaluation/clarifications/<int:pk>/statement/", api.ClarificationStatementView.as_view(),
         name="api-evaluation-clarification-statement"),
    path("evaluation/clarifications/<int:pk>/answer/", api.ClarificationAnswerView.as_view(), name="api-evaluation-clarification-answer"),
]
