from django.urls import path

from tendering import api

urlpatterns = [
    path("tenders/", api.TenderListCreateView.as_view(), name="api-tenders"),
    path("tenders/<int:pk>/", api.TenderDetailView.as_view(), name="api-tender"),
    path("tenders/<int:pk>/registrations/", api.TenderRegistrationsView.as_view(), name="api-tender-registrations"),
    path("tenders/<int:pk>/submit/", api.TenderSubmitView.as_view(), name="api-tender-submit"),
    path("tenders/<int:pk>/publish/", api.TenderPublishView.as_view(), name="api-tender-publish"),
    path("tenders/<int:pk>/cancel/", api.TenderCancelView.as_view(), name="api-tender-cancel"),
    path("tenders/<int:pk>/clarifications/", api.TenderClarificationView.as_view(), name="api-tender-clarifications"),
    path("projects/", api.ProjectCreateView.as_view(), name="api-projects"),
    path("projects/<int:pk>/", api.ProjectMandateView.as_view(), name="api-project"),
    path("workspace/tenders/", api.WorkspaceTenderListView.as_view(), name="api-workspace-tenders"),
]
