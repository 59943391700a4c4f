"""API v1 of the evaluation room (docs/evaluation-room.md, "HTTP"): the same snapshot, events and
commands as the room's WebSocket, for clients that cannot keep a socket open. Thin: the room's
admission (selectors_room.may_enter: this panel within its window, supervisors read-only), then
the selectors or evaluation/commands.py (idempotent by the command id), which call the services.
A lot without a session, or one the caller may not enter, is 404; a member outside the window 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.actor import Actor
from config.errors import DomainError
from evaluation import commands, selectors_room
from evaluation.consumers import refusal_for
from opening.rooms import events_after
from tendering.serializers import ErrorSerializer

TAG = "evaluation-room"
MAX_EVENTS = 500
REFUSED = {
    400: OpenApiResponse(ErrorSerializer, description="bad input or refused by the rules; nothing changed"),
    401: OpenApiResponse(ErrorSerializer, description="not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="a supervisor's command, a member outside the session's window, or a chair-only command"),
    404: OpenApiResponse(ErrorSerializer, description="no evaluation session for this lot, or not this user's room"),
}


class CommandSerializer(serializers.Serializer):
    id = serializers.RegexField(r"^[A-Za-z0-9_.:-]{8,64}$", help_text="client-chosen id: a retry with the same id returns the first result")
    action = serializers.CharField(max_length=64, help_text="check_in, declare_conflict, vote_chair, submit_verdict, submit_score, lock_stage, reopen_stage, reject_all")
    args = serializers.DictField(required=False, default=dict)


def _session(request, lot_id: int):
    session = selectors_room.session_of_lot(lot_id)
    if session is None or selectors_room.viewer_role(request.user, session) is None:
        raise Http404
    admitted, _code = selectors_room.may_enter(request.user, session)
    if not admitted:
        raise PermissionDenied(_("评标室只在评标时间内向评标委员会开放。"))
    return session


class RoomSnapshotView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="evaluation_room_snapshot", summary="The room as the caller sees it, and the last event number it covers",
                   responses={200: OpenApiResponse(description="{state, seq}"), **REFUSED})
    def get(self, request, lot_id: int):
        state, seq = selectors_room.room_snapshot(_session(request, lot_id), request.user)
        return Response({"state": state, "seq": seq})


class RoomEventsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="evaluation_room_events", summary="The room's events after a number, in order (at most 500)",
                   parameters=[OpenApiParameter("after", int, description="the last event number the client has")],
                   responses={200: OpenApiResponse(description="{events: [{seq, kind, payload, at}]}"), **REFUSED})
    def get(self, request, lot_id: int):
        session = _session(request, lot_id)
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            raise DomainError(_("after 应为非负整数（已收到的最后一个事件序号）。"), code="malformed") from None
        if after < 0:
            raise DomainError(_("after 应为非负整数（已收到的最后一个事件序号）。"), code="malformed")
        return Response({"events": events_after(session.room, after, limit=MAX_EVENTS)})


class RoomCommandView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="evaluation_room_command", summary="One room command (as over the WebSocket)",
                   request=CommandSerializer, responses={200: OpenApiResponse(description="{ok: true, …}"), **REFUSED})
    def post(self, request, lot_id: int):
        session = _session(request, lot_id)
        payload = CommandSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            result = commands.dispatch(by=Actor.from_request(request), session=session, action=data["action"],
                                       command_id=data["id"], args=data["args"])
        except PermissionDenied:
            raise PermissionDenied(refusal_for(selectors_room.viewer_role(request.user, session))) from None
        if not result.get("ok"):
            return Response({"detail": result.get("detail", ""), "code": result.get("code", "invalid")}, status=status.HTTP_400_BAD_REQUEST)
        return Response(result)
