"""Pages: clarifications during evaluation (澄清). docs/evaluation-clarifications.md."""

from django.urls import path

from evaluation import views_clarification as views

urlpatterns = [
    path("clarifications/", views.bidder_list, name="clarification_list"),
    path("clarifications/<int:pk>/", views.bidder_detail, name="clarification_detail"),
    path("clarifications/attachments/<int:pk>/", views.attachment_download, name="clarification_attachment"),
    path("lots/<int:lot_id>/clarifications/", views.panel, name="lot_clarifications"),
]
