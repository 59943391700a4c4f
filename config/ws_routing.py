# WebSocket routes of the live rooms (opening, evaluation) are collected here as they are built.
from django.urls import path

from evaluation.consumers import EvaluationRoomConsumer
from opening.consumers import OpeningRoomConsumer

websocket_urlpatterns: list = [
    path("ws/opening/<int:lot_id>/", OpeningRoomConsumer.as_asgi()),
    path("ws/evaluation/<int:lot_id>/", EvaluationRoomConsumer.as_asgi()),
]
