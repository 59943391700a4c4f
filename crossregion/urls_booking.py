from django.urls import path

from crossregion import views_booking as views

app_name = "crossregion_booking"

urlpatterns = [
    path("", views.booking_list, name="list"),
    path("lot/<int:lot_id>/", views.lot_bookings, name="lot"),
    path("<int:pk>/", views.booking_detail, name="detail"),
    path("<int:pk>/<str:action>/", views.booking_action, name="action"),
]
