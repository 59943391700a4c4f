"""Confinement of away experts signed in through federation (docs/cross-region.md "Federated sign-in").

A user with a FederatedIdentity row (a shadow account, crossregion/models_federation.py) may use
only the evaluation it was signed in for: the lot is kept in its Django session under
SESSION_LOT_KEY by the federated sign-in (crossregion/services/federated_signin.py). Enforced on
the server for every request:

- FederatedConfinementMiddleware (HTTP, after authentication): every page and API outside
  crossregion/confinement_paths.py's list for that lot is refused with 403 (JSON under /api/);
  the home page sends the expert to the room.
- FederatedSocketConfinement (ASGI, inside AuthMiddlewareStack): a WebSocket other than that lot's
  evaluation room is closed with 4403 before any consumer runs.
- evaluation/consumers.py asks `socket_lot_refused` again when it admits a socket.

A federated account whose session lacks the lot (e.g. signed in some other way), or whose
platform's agreement is no longer in force, may use nothing.
Inside the room the evaluation rules apply unchanged: they key on PanelMember.user."""

from __future__ import annotations

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from crossregion import confinement_paths

SESSION_LOT_KEY = "crossregion_federated_lot"
CLOSE_FORBIDDEN = 4403


def is_federated(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    from crossregion.models import FederatedIdentity

    return FederatedIdentity.objects.filter(user_id=user.pk).exists()


def confinement(user, session) -> tuple[bool, int | None]:
    """(is the user a federated one, the lot it may use). The lot is None — nothing may be used —
    when the session has none or the agreement with the expert's platform is no longer in force
    (revoked or expired: nothing cross-region works without one)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False, None
    from crossregion.models import FederatedIdentity
    from crossregion.selectors import valid_agreement

    identity = FederatedIdentity.objects.select_related("partner").filter(user_id=user.pk).first()
    if identity is None:
        return False, None
    lot_id = session_lot(session)
    if lot_id is not None and valid_agreement(identity.partner, area="federation") is None:
        lot_id = None
    return True, lot_id


def session_lot(session) -> int | None:
    """The lot a federated session was signed in for (None if none)."""
    try:
        value = session.get(SESSION_LOT_KEY) if session is not None else None
    except Exception:  # noqa: BLE001 - a session that cannot be read confines to nothing
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _attachment_of_lot(path: str, lot_id: int | None) -> bool:
    match = confinement_paths.CLARIFICATION_ATTACHMENT.match(path)
    if match is None or lot_id is None:
        return False
    from evaluation.models import ClarificationAttachment

    return ClarificationAttachment.objects.filter(pk=int(match["pk"]), clarification__session__lot_id=lot_id).exists()


def http_allowed(path: str, lot_id: int | None) -> bool:
    return confinement_paths.http_allowed(path, lot_id) or _attachment_of_lot(path, lot_id)


def refusal_message() -> str:
    return _("异地评标专家通过联合登录进入本平台，只能使用本次评标的评标室和评标报告，不能访问其他页面。")


class FederatedConfinementMiddleware:
    """After AuthenticationMiddleware: confine federated users (see the module's docstring).
    Sets request.federated (bool) and request.federated_lot (the lot, or None) for the templates."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.federated, request.federated_lot = False, None
        federated, lot_id = confinement(getattr(request, "user", None), getattr(request, "session", None))
        if federated:
            request.federated, request.federated_lot = True, lot_id
            request.federated_lot = lot_id
            path = request.path_info
            if path == "/" and lot_id is not None:
                return HttpResponseRedirect(reverse("evaluation:room", args=[lot_id]))
            if not http_allowed(path, lot_id):
                return self.refuse(request, lot_id)
        return self.get_response(request)

    def refuse(self, request, lot_id):
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": refusal_message(), "code": "federated_confined"}, status=403,
                                json_dumps_params={"ensure_ascii": False})
        return render(request, "crossregion/federated_confined.html", {"lot_id": lot_id, "detail": refusal_message()}, status=403)


def socket_lot_refused(scope, lot_id: int) -> bool:
    """True when the socket's user is a federated one not signed in for `lot_id` (sync; in a
    database thread)."""
    federated, allowed = confinement(scope.get("user"), scope.get("session"))
    return federated and allowed != lot_id


class FederatedSocketConfinement:
    """ASGI middleware for WebSockets, inside AuthMiddlewareStack (scope has user and session)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "websocket":
            from channels.db import database_sync_to_async

            refused = await database_sync_to_async(self._refused)(scope)
            if refused:
                message = await receive()  # websocket.connect
                if message.get("type") == "websocket.connect":
                    # accepted, then closed with 4403 at once: the room's page shows why (as the consumers do)
                    await send({"type": "websocket.accept"})
                    await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})
                return None
        return await self.inner(scope, receive, send)

    @staticmethod
    def _refused(scope) -> bool:
        # AuthMiddlewareStack has resolved scope["user"] already (a lazy wrapper around it).
        federated, lot_id = confinement(scope.get("user"), scope.get("session"))
        return federated and not confinement_paths.socket_allowed(scope.get("path", ""), lot_id)
