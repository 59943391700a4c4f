"""The evaluation room's WebSocket: /ws/evaluation/<lot_id>/ (protocol: docs/evaluation-room.md).

The same thin relay as the opening room's (opening/consumers.py, whose message handling it reuses:
hello/resync with the last event number, command with a client id, ping; 16 KiB per message;
malformed, oversized or unknown messages get an error and change nothing, the fifth closes with
4400; live events forwarded once and in order, gaps filled from the database). What differs is
who is let in, checked on connect and again for every message:

- a serving member of THIS session's panel, only within the session's time window;
- centre staff and regulators, who watch read-only (their commands are refused);
- nobody else: an expert seated on another tender's panel is an outsider here (4403), and an away
  expert signed in through federation is refused every room but the one it came for (4403).

Closing codes: 4401 not signed in, 4403 not admitted (an "error" message with code
"outside_window" comes first when a member is outside the window), 4404 no evaluation session.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext as _

from audit.actor import Actor
from config.errors import DomainError
from crossregion.confinement import confinement, socket_lot_refused
from evaluation import commands, selectors_room
from evaluation.models import EvaluationSession
from opening.consumers import CLOSE_FORBIDDEN, CLOSE_NO_SESSION, MAX_REPLAY, OpeningRoomConsumer
from opening.rooms import events_after

logger = logging.getLogger(__name__)


def refusal_for(role: str | None) -> str:
    if role == selectors_room.ROLE_WATCHER:
        return _("您在评标室中只能观看（监督），不能执行此操作。")
    return _("您无权执行此操作：只有组长可以执行，或您已不在评标委员会中。")


def _window_refusal(session: EvaluationSession) -> str:
    from django.utils import timezone

    return _("评标室只在评标时间内向评标委员会开放：%(start)s 至 %(end)s。") % {
        "start": timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M"),
        "end": timezone.localtime(session.ends_at).strftime("%Y-%m-%d %H:%M"),
    }


class EvaluationRoomConsumer(OpeningRoomConsumer):
    async def connect(self):
        self.refusal = None
        await super().connect()

    async def _close(self, code: int):
        if self.refusal is not None and not self.closed:
            await self.send_json({"type": "error", **self.refusal})
            self.refusal = None
        await super()._close(code)

    def _admit(self, lot_id: int, user):
        federated, allowed = confinement(self.scope.get("user"), self.scope.get("session"))
        self.federated = federated  # an away expert signed in through federation: checked again per message
        if federated and allowed != lot_id:  # signed in for another lot, or the agreement is no longer in force
            return CLOSE_FORBIDDEN
        session = selectors_room.session_of_lot(lot_id)
        if session is None:
            return CLOSE_NO_SESSION
        if not self._may_enter(user, session):
            return CLOSE_FORBIDDEN
        return session.pk, session.room

    def _may_enter(self, user, session) -> bool:
        if getattr(self, "federated", False) and socket_lot_refused(self.scope, session.lot_id):
            return False
        admitted, code = selectors_room.may_enter(user, session)
        if code == "outside_window":
            with translation.override(self.language):
                self.refusal = {"code": code, "detail": _window_refusal(session)}
        return admitted

    def _session(self) -> EvaluationSession:
        return EvaluationSession.objects.select_related("lot__tender", "drawing").get(pk=self.session_id)

    def _catch_up(self, after: int) -> list[dict] | None:
        with translation.override(self.language):
            user = self._fresh_user()
            session = self._session()
            if user is None or not self._may_enter(user, session):
                return None
            if 0 < after <= session.last_seq and session.last_seq - after <= MAX_REPLAY:
                events = events_after(self.room, after, limit=MAX_REPLAY + 1)
                if all(event["seq"] == after + n for n, event in enumerate(events, start=1)):
                    self.sent_seq = events[-1]["seq"] if events else after
                    return [{"type": "event", **event} for event in events]
            state, seq = selectors_room.room_snapshot(session, user)
            self.sent_seq = seq
            return [{"type": "snapshot", "state": state, "seq": seq}]

    def _run(self, command_id: str, action: str, args: dict) -> dict | None:
        with translation.override(self.language):
            user = self._fresh_user()
            session = self._session()
            if user is None or not self._may_enter(user, session):
                return None
            by = Actor.from_user(user, ip=self.ip)
            try:
                return commands.dispatch(by=by, session=session, action=action, command_id=command_id, args=args)
            except DomainError as error:
                return {"ok": False, "code": error.code, "detail": str(error.message)}
            except PermissionDenied:
                return {"ok": False, "code": "forbidden", "detail": refusal_for(selectors_room.viewer_role(user, session))}
            except Exception:
                logger.exception("evaluation room command %s (%s) failed", action, command_id)
                return {"ok": False, "code": "server_error", "detail": _("服务器出错，命令没有执行。请稍后重试。")}
