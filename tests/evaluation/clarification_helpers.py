"""Helpers for the clarification tests: a session put into REVIEWING directly (the room's services
are tested elsewhere), and a bidder's signature of an answer statement."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from evaluation import clarification_statement as cs
from evaluation.models import EvaluationSession, SessionState
from evaluation.services import clarification as services
from opening import record_signing
from tests.factories import actor


def reviewing(world, *, experts: int = 5) -> EvaluationSession:
    """The world's lot seated, the first member elected chair, the session reviewing."""
    session = world.seated(experts=experts)
    EvaluationSession.objects.filter(pk=session.pk).update(state=SessionState.REVIEWING, chair=world.members[0])
    session.refresh_from_db()
    return session


def chair(world):
    return actor(world.members[0].user)


def ask(world, session, *, bidder: int = 0, reason: str = "general", question: str = "请说明项目经理的在岗安排。",
        deadline=None):
    deadline = deadline or timezone.now() + timedelta(hours=2)
    return services.clarification_ask(by=chair(world), session=session, bid=world.bidders[bidder].bid, question=question,
                                      deadline=deadline, reason=reason)


def files(*items: tuple[str, bytes]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, content, content_type="application/octet-stream") for name, content in items]


def statement(clarification, answer: str, items: list[tuple[str, bytes]]) -> dict:
    return cs.build_statement(
        session=clarification.session_id, lot=clarification.session.lot_id, number=clarification.number,
        bid=clarification.bid_id, question=clarification.question, answer=answer,
        attachments=[{"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in items],
    )


def sign(private_key, clarification, answer: str, items: list[tuple[str, bytes]] = ()) -> str:
    raw = record_signing.sign(private_key, cs.statement_hash(statement(clarification, answer, list(items))))
    return base64.b64encode(raw).decode("ascii")


def answer(world, clarification, *, bidder: int = 0, text: str = "项目经理全职在岗。", items=(), key=None, user=None):
    key = key or world.bidders[bidder].signing
    user = user or world.bidders[bidder].user
    return services.clarification_answer(by=actor(user), clarification=clarification, answer=text, attachments=files(*items),
                                         signature_b64=sign(key, clarification, text, items))
