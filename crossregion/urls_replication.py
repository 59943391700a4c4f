from django.urls import path

from crossregion import views_replication as views

app_name = "crossregion_replication"

urlpatterns = [
    path("", views.replicated_list, name="list"),
    path("<int:pk>/", views.replicated_detail, name="detail"),
    path("<int:pk>/events.json", views.replicated_events, name="events"),
    path("<int:pk>/report.pdf", views.replicated_report_pdf, name="report_pdf"),
]
