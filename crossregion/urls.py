from django.urls import path

from crossregion import views, views_federation

app_name = "crossregion"

urlpatterns = [
    path("", views.partners, name="partners"),
    path("inbox/", views.inbox, name="inbox"),
    path("partners/add/", views.partner_add, name="partner_add"),
    path("partners/<int:pk>/", views.partner_detail, name="partner_detail"),
    path("partners/<int:pk>/agreements/new/", views.agreement_new, name="agreement_new"),
    path("agreements/<uuid:uuid>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<uuid:uuid>/propose/", views.agreement_action, {"action": "propose"}, name="agreement_propose"),
    path("agreements/<uuid:uuid>/accept/", views.agreement_action, {"action": "accept"}, name="agreement_accept"),
    path("agreements/<uuid:uuid>/revoke/", views.agreement_action, {"action": "revoke"}, name="agreement_revoke"),
    path("outbound/<int:pk>/retry/", views.outbound_retry, name="outbound_retry"),
    path("federated-login/", views_federation.federated_login, name="federated_login"),
    path("away/", views_federation.my_away, name="my_away"),
    path("away/enter/", views_federation.away_enter, name="away_enter"),
]
