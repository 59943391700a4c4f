"""Pages of the expert pool, the drawings and 我的评标 (mounted under /evaluation/)."""

from django.urls import path

from evaluation import views_pool as views

urlpatterns = [
    path("pool/", views.pool, name="pool"),
    path("pool/new/", views.expert_new, name="expert_new"),
    path("pool/import/", views.pool_import, name="pool_import"),
    path("pool/<int:pk>/", views.expert_detail, name="expert_detail"),
    path("pool/<int:pk>/active/", views.expert_active, name="expert_active"),
    path("pool/<int:pk>/account/", views.expert_account, name="expert_account"),
    path("pool/<int:pk>/conflicts/", views.conflict_add, name="conflict_add"),
    path("pool/conflicts/<int:pk>/remove/", views.conflict_remove, name="conflict_remove"),
    path("pool/<int:pk>/unavailability/", views.unavailability_add, name="unavailability_add"),
    path("pool/unavailability/<int:pk>/remove/", views.unavailability_remove, name="unavailability_remove"),
    path("drawings/", views.drawings, name="drawings"),
    path("drawings/<int:pk>/", views.drawing_detail, name="drawing_detail"),
    path("drawings/<int:pk>/run/", views.drawing_run, name="drawing_run"),
    path("drawings/<int:pk>/publish/", views.drawing_publish, name="drawing_publish"),
    path("drawings/members/<int:pk>/replace/", views.member_replace, name="member_replace"),
    path("drawings/members/<int:pk>/representative/", views.representative_name, name="representative_name"),
    path("lots/<int:lot_id>/drawing/new/", views.drawing_new, name="drawing_new"),
    path("mine/", views.my_seats, name="my_seats"),
    path("mine/<int:pk>/confirm/", views.seat_confirm, name="seat_confirm"),
    path("mine/<int:pk>/decline/", views.seat_decline, name="seat_decline"),
]
