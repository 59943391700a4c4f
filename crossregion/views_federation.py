"""Federated sign-in pages (docs/cross-region.md "Federated sign-in").

Home side (our expert serving at a partner):
- GET  /crossregion/away/        "我的异地评标": the expert's away seats (crossregion/selectors_federation.py);
- POST /crossregion/away/enter/  issues a federation token for one of the expert's OWN seats and sends
  the browser to the host's federated-login endpoint with it (a form posted by the page: the token never
  sits in a URL, so it lands in no log or history).

Host side (a partner's expert serving here):
- POST /crossregion/federated-login/  verifies the token, provisions the seat
  (crossregion/services/federated_signin.py), signs the shadow user in until the session's window
  ends and sends it to the room; a refusal is a 4xx page naming the code, and changes nothing.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.actor import Actor, client_ip
from audit.services import record_event
from crossregion import protocol
from crossregion.confinement import SESSION_LOT_KEY
from crossregion.selectors import valid_agreement
from crossregion.selectors_federation import away_seat, away_seats, expert_subject
from crossregion.services import federation
from crossregion.services.federated_signin import SignInRefused, sign_in


def _experts_only(request):
    if expert_subject(request.user) is None:
        raise PermissionDenied(_("只有本平台专家库中的评标专家有异地评标席位。"))


@never_cache
@login_required
def my_away(request):
    _experts_only(request)
    rows = [{"seat": seat, "valid": valid_agreement(seat.partner, area="federation") is not None} for seat in away_seats(request.user)]
    return render(request, "crossregion/my_away.html", {"rows": rows})


@never_cache
@login_required
@require_POST
def away_enter(request):
    """Issue a token for the expert's own seat and hand it to the host (auto-submitted form)."""
    _experts_only(request)
    seat = away_seat(request.user, key=request.POST.get("seat", ""))
    if seat is None:
        raise PermissionDenied(_("这不是您的异地评标席位。"))
    if valid_agreement(seat.partner, area="federation") is None:
        return render(request, "crossregion/federated_refused.html", {
            "code": "token_no_agreement", "detail": _("与主场平台之间没有有效的合作框架协议（含联合登录），不能进入主场评标室。"),
            "home": True,
        }, status=403)
    subject = expert_subject(request.user)
    with transaction.atomic():
        token = federation.issue_token(partner=seat.partner, subject=subject, session=seat.session)
        payload = protocol.peek_token(token)
        record_event(by=Actor.from_request(request), action="federation.token_issue", obj=request.user.expert,
                     payload={"partner": seat.partner.region_code, "session": str(seat.session), "sub": subject,
                              "jti": payload["jti"], "exp": protocol.format_time(protocol.token_expires_at(payload))})
    action = seat.partner.base_url.rstrip("/") + seat.partner.federated_login_path
    response = render(request, "crossregion/federated_redirect.html", {"action": action, "token": token, "seat": seat})
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt  # a cross-site POST from the partner's page by design: the signed single-use token is the proof
@never_cache
@require_POST
def federated_login(request):
    ip = client_ip(request.META)
    try:
        signed_in = sign_in(token=request.POST.get("token", ""), ip=ip)
    except SignInRefused as refused:
        return render(request, "crossregion/federated_refused.html", {"code": refused.code, "detail": refused.message},
                      status=refused.status)
    login(request, signed_in.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_LOT_KEY] = signed_in.lot_id
    request.session.set_expiry(signed_in.expires_at)
    return redirect("evaluation:room", lot_id=signed_in.lot_id)
