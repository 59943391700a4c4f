"""Pages of the evaluation room (mounted under /evaluation/)."""

from django.urls import path

from evaluation import views_room

urlpatterns = [
    path("lots/<int:lot_id>/room/", views_room.room, name="room"),
]
