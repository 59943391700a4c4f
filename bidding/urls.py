from django.urls import path

from bidding import views, views_seal

app_name = "bidding"
urlpatterns = [
    path("keys/", views.keys, name="keys"),
    path("keys/<str:fingerprint>/revoke/", views.key_revoke, name="key_revoke"),
    path("organisations/<int:pk>/keys/", views.organisation_keys, name="organisation_keys"),
    path("bids/", views.bids, name="bids"),
    path("bids/<int:pk>/withdraw/", views.bid_withdraw, name="bid_withdraw"),
    path("lots/<int:lot_id>/seal/", views_seal.seal, name="seal"),
]
