from django.urls import path

from bidding import api, api_bids

urlpatterns = [
    path("bidder-keys/", api.BidderKeyListView.as_view(), name="api-bidder-keys"),
    path("bidder-keys/<str:fingerprint>/", api.BidderKeyDetailView.as_view(), name="api-bidder-key"),
    path("bidder-keys/<str:fingerprint>/revoke/", api.BidderKeyRevokeView.as_view(), name="api-bidder-key-revoke"),
    path("bid-uploads/", api_bids.UploadListView.as_view(), name="api-bid-uploads"),
    path("bid-uploads/<uuid:pk>/", api_bids.UploadDetailView.as_view(), name="api-bid-upload"),
    path("bid-uploads/<uuid:pk>/finalise/", api_bids.UploadFinaliseView.as_view(), name="api-bid-upload-finalise"),
    path("bids/", api_bids.BidListView.as_view(), name="api-bids"),
    path("bids/<int:pk>/", api_bids.BidDetailView.as_view(), name="api-bid"),
    path("bids/<int:pk>/receipt/", api_bids.BidReceiptView.as_view(), name="api-bid-receipt"),
    path("bids/<int:pk>/receipt.pdf", api_bids.BidReceiptPdfView.as_view(), name="api-bid-receipt-pdf"),
    path("bids/<int:pk>/withdraw/", api_bids.BidWithdrawView.as_view(), name="api-bid-withdraw"),
    path("bids/<int:pk>/release-key/", api_bids.BidReleaseKeyView.as_view(), name="api-bid-release-key"),
    path("platform/key/", api_bids.PlatformKeyView.as_view(), name="api-platform-key"),
]
