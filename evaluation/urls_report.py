"""Pages of the evaluation report (evaluation/views_report.py)."""

from django.urls import path

from evaluation import views_report

urlpatterns = [
    path("keys/", views_report.keys, name="report_keys"),
    path("lots/<int:lot_id>/report/", views_report.report, name="report"),
    path("lots/<int:lot_id>/report.pdf", views_report.report_pdf, name="report_pdf"),
    path("lots/<int:lot_id>/report/draft/", views_report.report_draft, name="report_draft"),
    path("lots/<int:lot_id>/report/dissent/", views_report.report_dissent, name="report_dissent"),
]
