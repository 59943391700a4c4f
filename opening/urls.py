from django.urls import path

from opening import views

app_name = "opening"
urlpatterns = [
    path("lots/<int:lot_id>/", views.room, name="room"),
]
