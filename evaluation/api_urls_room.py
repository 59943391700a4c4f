"""API v1 of the evaluation room (evaluation/api_room.py)."""

from django.urls import path

from evaluation import api_room

urlpatterns = [
    path("evaluation/lots/<int:lot_id>/room/", api_room.RoomSnapshotView.as_view(), name="api-evaluation-room"),
    path("evaluation/lots/<int:lot_id>/room/events/", api_room.RoomEventsView.as_view(), name="api-evaluation-room-events"),
    path("evaluation/lots/<int:lot_id>/room/commands/", api_room.RoomCommandView.as_view(), name="api-evaluation-room-command"),
]
