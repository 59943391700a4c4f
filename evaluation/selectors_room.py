"""Reads of the evaluation room: who the viewer is, and the room's snapshot as that viewer sees it
(docs/evaluation-room.md, "Who sees what").

The snapshot is read after the room's last event number, so it is at least as new as that number.
Everyone sees the same room, except:
- a member sees their own verdicts and scores while a stage is open (`mine`), and which of their
  own scores lie outside the tolerance once everyone has completed the stage (`my_outliers`);
- nobody, watchers included, sees another member's values before the chair locks the stage: open
  stages show progress counts only (`progress`), locked stages their values (`revealed`);
- names follow selectors_pool.member_label (seats "专家3" unless the viewer may see names).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from evaluation.models import (
    ChairVote,
    EvaluationSession,
    QualificationVerdict,
    Score,
    SessionState,
    Stage,
    StageKind,
    StageStatus,
)
from evaluation.models.session import STAGE_ORDER
from evaluation.rules import serving_member
from evaluation.rules_room import is_watcher
from evaluation.services import room_stages as stages
from opening.models import RoomEvent
from opening.rooms import event_message

ROLE_MEMBER, ROLE_WATCHER = "member", "watcher"
LOG_EVENTS = 200
QUIET_KINDS = ("sheet.progress", "chair.voted")


def session_of_lot(lot_id: int) -> EvaluationSession | None:
    return EvaluationSession.objects.select_related("lot__tender", "drawing").filter(lot_id=lot_id).first()


def in_window(session: EvaluationSession, now=None) -> bool:
    now = now or timezone.now()
    return session.starts_at <= now <= session.ends_at


def viewer_role(user, session: EvaluationSession) -> str | None:
    """member (a serving member of this panel), watcher (centre staff, regulators) or None."""
    if serving_member(user, session) is not None:
        return ROLE_MEMBER
    if is_watcher(user):
        return ROLE_WATCHER
    return None


def may_enter(user, session: EvaluationSession) -> tuple[bool, str]:
    """(admitted, refusal code): members only within the session's window; watchers any time."""
    role = viewer_role(user, session)
    if role is None:
        return False, "forbidden"
    if role == ROLE_MEMBER and not in_window(session):
        return False, "outside_window"
    return True, ""


def label(member, viewer) -> str:
    try:
        from evaluation.selectors_pool import member_label
    except ImportError:  # the pool area's module: a plain seat until it exists
        return f"专家{member.seat}"
    return member_label(member, viewer)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def _session_part(session: EvaluationSession) -> dict:
    lot, tender = session.lot, session.lot.tender
    return {
        "id": session.pk,
        "lot": {"id": lot.pk, "number": lot.number, "name": lot.name},
        "tender": {"id": tender.pk, "code": tender.code, "title": tender.title},
        "state": session.state,
        "state_label": str(SessionState(session.state).label),
        "starts_at": _iso(session.starts_at),
        "ends_at": _iso(session.ends_at),
        "in_window": in_window(session),
        "election_round": session.election_round,
        "chair_seat": session.chair.seat if session.chair_id else None,
        "rejected_all_reason": session.rejected_all_reason,
        "seats": session.drawing.panel_size,
    }


def _criteria_part(scheme: dict) -> dict:
    def scored(c):
        return {"code": c["code"], "name": c.get("name", c["code"]), "category": c["category"], "max_score": str(c["max_score"]),
                "step": str(stages.step_of(scheme, c)), "tolerance": str(stages.tolerance_of(scheme, c))}

    price = stages.price_criterion(scheme)
    return {
        "qualification": [{"code": c["code"], "name": c.get("name", c["code"])} for c in stages.qualification_criteria(scheme)],
        "scored": [scored(c) for c in stages.subjective_criteria(scheme)],
        "price": {"code": price["code"], "name": price.get("name", price["code"]), "max_score": str(price["max_score"])} if price else None,
        "price_formula": scheme.get("price_formula") or {},
    }


def _bids_part(session) -> list[dict]:
    results = stages.results_by_bid(session)
    rows = []
    for opening in stages.bid_openings(session):
        result = results.get(opening.bid_id)
        rows.append({
            "bid": opening.bid_id, "bidder": opening.bid.bidder.name, "price_fen": opening.price_prevailing_fen,
            "price_in_words": opening.price_in_words, "qualified": result.qualified if result else None,
            "failures": result.qualification_reasons if result else [], "abnormally_low": bool(result and result.abnormally_low),
            "rejected": bool(result and result.rejected),
        })
    return rows


def _mine(session, member) -> dict:
    return {
        "verdicts": [{"bid": v.bid_id, "criterion": v.criterion, "passed": v.passed, "reason": v.reason}
                     for v in QualificationVerdict.objects.filter(session=session, member=member, void=False).order_by("bid_id", "criterion")],
        "scores": [{"bid": s.bid_id, "criterion": s.criterion, "value": str(s.value), "reason": s.reason}
                   for s in Score.objects.filter(session=session, member=member, void=False).order_by("bid_id", "criterion")],
    }


def _outliers(session, members, member) -> tuple[list[dict], dict]:
    """Once every member has completed the open scoring stage: the viewer's own flagged scores, and
    per seat how many flagged scores still lack a reason (counts, never values)."""
    counts = stages.progress(session, StageKind.SCORING, members)
    if not stages.panel_complete(session, members) or any(c["done"] < c["total"] for c in counts.values()):
        return [], {}
    flagged = stages.outlier_scores(session, members)
    seats = {m.pk: m.seat for m in members}
    pending: dict[str, int] = {}
    for score in flagged:
        if not score.reason.strip():
            key = str(seats[score.member_id])
            pending[key] = pending.get(key, 0) + 1
    mine = [{"bid": s.bid_id, "criterion": s.criterion, "explained": bool(s.reason.strip())}
            for s in flagged if member is not None and s.member_id == member.pk]
    return mine, pending


def recent_events(room: str, seq: int) -> list[dict]:
    events = RoomEvent.objects.filter(room=room, seq__lte=seq).exclude(kind__in=QUIET_KINDS).order_by("-seq")[:LOG_EVENTS]
    return [event_message(event) for event in reversed(events)]


@transaction.atomic
def room_snapshot(session: EvaluationSession, viewer) -> tuple[dict, int]:
    """The room as `viewer` sees it now, and the last event number it covers (at least)."""
    session = EvaluationSession.objects.select_related("lot__tender", "drawing", "chair").get(pk=session.pk)
    seq = session.last_seq  # read first: everything below is at least this new
    member = serving_member(viewer, session)
    members = stages.serving_members(session)
    scheme = stages.scheme_of(session)
    stage_rows = list(Stage.objects.filter(session=session).order_by("order"))
    status = {s.kind: s.status for s in stage_rows}
    voted = ChairVote.objects.filter(session=session, round=session.election_round)
    my_vote = voted.filter(voter=member).select_related("candidate").first() if member else None

    state = {
        "session": _session_part(session),
        "viewer": {
            "role": ROLE_MEMBER if member else ROLE_WATCHER,
            "seat": member.seat if member else None,
            "label": label(member, viewer) if member else "",
            "checked_in": bool(member and member.checked_in_at),
            "pledged": bool(member and member.pledge_accepted_at),
            "is_chair": bool(member and session.chair_id == member.pk),
            "voted_for": my_vote.candidate.seat if my_vote else None,
        },
        "members": [
            {"seat": m.seat, "label": label(m, viewer), "kind": m.kind, "status": m.status, "serving": m.serving,
             "checked_in": m.checked_in_at is not None, "is_chair": m.pk == session.chair_id, "round": m.round}
            for m in session.drawing.members.select_related("expert", "user", "drawing").order_by("seat", "round", "pk")
        ],
        "election": {"round": session.election_round, "voted": voted.filter(voter__in=members).count(), "of": len(members)},
        "criteria": _criteria_part(scheme),
        "bids": _bids_part(session),
        "stages": [
            {"kind": s.kind, "label": str(StageKind(s.kind).label), "status": s.status, "opened_at": _iso(s.opened_at),
             "locked_at": _iso(s.locked_at), "reopen_count": s.reopen_count}
            for s in stage_rows
        ],
        "progress": {
            kind: sorted(stages.progress(session, kind, members).values(), key=lambda c: c["seat"])
            for kind in (StageKind.QUALIFICATION, StageKind.SCORING) if status.get(kind) == StageStatus.OPEN
        },
        "revealed": {
            kind: stages.stage_values(session, kind)
            for kind in STAGE_ORDER
            if status.get(kind) == StageStatus.LOCKED or (kind in (StageKind.PRICE, StageKind.RANKING) and status.get(kind) == StageStatus.OPEN)
        },
        "mine": _mine(session, member) if member else {"verdicts": [], "scores": []},
        "my_outliers": [],
        "outliers_pending": {},
        "reopenings": [
            {"stage": r.stage.kind, "reason": r.reason, "at": _iso(r.at), "seat": r.by.seat}
            for stage in stage_rows for r in stage.reopenings.select_related("by", "stage")
        ],
    }
    if status.get(StageKind.SCORING) == StageStatus.OPEN:
        state["my_outliers"], state["outliers_pending"] = _outliers(session, members, member)
    state["log"] = recent_events(session.room, seq)
    return state, seq
