"""API v1 of the evaluation report (evaluation/api_report.py)."""

from django.urls import path

from evaluation import api_report

urlpatterns = [
    path("evaluation/expert-keys/", api_report.ExpertKeyView.as_view(), name="api-evaluation-expert-keys"),
    path("evaluation/lots/<int:lot_id>/report/", api_report.ReportView.as_view(), name="api-evaluation-report"),
    path("evaluation/lots/<int:lot_id>/report/pdf/", api_report.ReportPdfView.as_view(), name="api-evaluation-report-pdf"),
    path("evaluation/lots/<int:lot_id>/report/draft/", api_report.ReportDraftView.as_view(), name="api-evaluation-report-draft"),
    path("evaluation/lots/<int:lot_id>/report/signature/", api_report.ReportSignatureView.as_view(), name="api-evaluation-report-signature"),
    path("evaluation/lots/<int:lot_id>/report/dissent/", api_report.ReportDissentView.as_view(), name="api-evaluation-report-dissent"),
]
