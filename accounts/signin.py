"""Sign-ins into the audit trail (E49). Django announces every login with a signal; only those
made by a person on a sign-in page are recorded. Logins that are not sign-ins (the automatic
login after self-registration, which its own event records; the test client's force_login)
carry no request resolved to one of these views, so they are left out."""

from django.contrib.auth.signals import user_logged_in, user_login_failed

from accounts import services
from audit.actor import Actor, client_ip

SIGN_IN_VIEWS = frozenset({"accounts:login", "admin:login"})


def _from_sign_in_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name in SIGN_IN_VIEWS


def record_sign_in(sender, request=None, user=None, **kwargs):
    if _from_sign_in_page(request):
        by = Actor.from_user(user, ip=client_ip(request.META))
        services.user_sign_in_record(by=by, username=user.get_username(), succeeded=True)


def record_failed_sign_in(sender, credentials=None, request=None, **kwargs):
    if _from_sign_in_page(request):
        by = Actor(user_id=None, name="", role="", organisation_id=None, ip=client_ip(request.META))
        services.user_sign_in_record(by=by, username=str((credentials or {}).get("username", "")), succeeded=False)


def connect() -> None:
    user_logged_in.connect(record_sign_in, dispatch_uid="accounts.signin.record_sign_in")
    user_login_failed.connect(record_failed_sign_in, dispatch_uid="accounts.signin.record_failed_sign_in")
