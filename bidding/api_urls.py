from django.urls import path

from bidding import api

urlpatterns = [
    path("bidder-keys/", api.BidderKeyListView.as_view(), name="api-bidder-keys"),
    path("bidder-keys/<str:fingerprint>/", api.BidderKeyDetailView.as_view(), name="api-bidder-key"),
    path("bidder-keys/<str:fingerprint>/revoke/", api.BidderKeyRevokeView.as_view(), name="api-bidder-key-revoke"),
]
