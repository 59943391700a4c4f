from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views, views_inbox

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("organisation/", views.my_organisation, name="my_organisation"),
    path("organisation/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisation/submit/", views.organisation_submit, name="organisation_submit"),
    path("organisation/change/", views.organisation_change, name="organisation_change"),
    path("organisation/users/", views.organisation_users, name="organisation_users"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("tokens/", views.tokens, name="tokens"),
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/open/", views_inbox.notification_open, name="notification_open"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    # Centre staff (and, read-only, regulators)
    path("review/", views.review_queue, name="review_queue"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<int:pk>/users/", views.organisation_users, name="organisation_users_of"),
    path("organisations/<int:pk>/approve/", views.organisation_decide, {"decision": "approve"}, name="organisation_approve"),
    path("organisations/<int:pk>/reject/", views.organisation_decide, {"decision": "reject"}, name="organisation_reject"),
    path("organisations/<int:pk>/suspend/", views.organisation_decide, {"decision": "suspend"}, name="organisation_suspend"),
    path("organisations/<int:pk>/restore/", views.organisation_decide, {"decision": "restore"}, name="organisation_restore"),
    path("changes/<int:pk>/approve/", views.change_decide, {"decision": "approve"}, name="change_approve"),
    path("changes/<int:pk>/reject/", views.change_decide, {"decision": "reject"}, name="change_reject"),
]
