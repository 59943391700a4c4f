# WebSocket routes of the live rooms (opening, evaluation) are collected here as they are built.
websocket_urlpatterns: list = []
