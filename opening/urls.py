from django.urls import path

from opening import views, views_record

app_name = "opening"
urlpatterns = [
    path("lots/<int:lot_id>/", views.room, name="room"),
    path("lots/<int:lot_id>/record.pdf", views_record.record_pdf, name="record_pdf"),
]
