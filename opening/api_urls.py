from django.urls import path

from opening import api_custodial

urlpatterns = [
    path("tenders/<int:pk>/custodial-key/", api_custodial.CustodialKeyView.as_view(), name="api-custodial-key"),
    path("tenders/<int:pk>/custodial-key/jwk/", api_custodial.CustodialKeyJwkView.as_view(), name="api-custodial-key-jwk"),
    path("tenders/<int:pk>/custodial-arrangement/", api_custodial.ArrangementCreateView.as_view(), name="api-custodial-arrangement"),
    path("tenders/<int:pk>/custodial-share/", api_custodial.SharePackageView.as_view(), name="api-custodial-share"),
    path("tenders/<int:pk>/custodial-share/release/", api_custodial.ShareReleaseView.as_view(), name="api-custodial-share-release"),
    path("custodian-keys/", api_custodial.CustodianKeyView.as_view(), name="api-custodian-keys"),
]
