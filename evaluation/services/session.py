"""Creating the evaluation session of a lot once its panel is drawn."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from audit.services import record_event
from evaluation.models import Drawing, EvaluationSession, Stage
from evaluation.models.session import STAGE_ORDER


@transaction.atomic
def create_session(*, by: Actor, drawing: Drawing) -> EvaluationSession:
    """The lot's evaluation session with its stages, in the drawing's time window. Idempotent: a
    second call returns the session already made."""
    existing = EvaluationSession.objects.filter(lot_id=drawing.lot_id).first()
    if existing is not None:
        return existing
    session = EvaluationSession.objects.create(
        lot_id=drawing.lot_id, drawing=drawing, starts_at=drawing.session_starts_at, ends_at=drawing.session_ends_at,
    )
    Stage.objects.bulk_create([Stage(session=session, kind=kind, order=n) for n, kind in enumerate(STAGE_ORDER, start=1)])
    record_event(
        by=by, action="evaluation.session_create", obj=session, tender_id=drawing.lot.tender_id,
        payload={"lot": drawing.lot_id, "drawing": drawing.pk, "starts_at": session.starts_at.isoformat(),
                 "ends_at": session.ends_at.isoformat(), "at": timezone.now().isoformat()},
    )
    return session
