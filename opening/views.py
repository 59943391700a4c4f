"""Opening pages. Thin: authorise with the rules, read with the selectors; every change goes
through the room's WebSocket commands (opening/consumers.py) or the API, which call the services."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from accounts.permissions import can
from opening.models import OpeningSession


@login_required
def room(request, lot_id: int):
    """The opening room of a lot."""
    session = get_object_or_404(OpeningSession.objects.select_related("lot__tender"), lot_id=lot_id)
    if not can(request.user, "opening.view", session):
        raise Http404
    return render(request, "opening/room.html", {"session": session, "lot": session.lot, "tender": session.lot.tender})
