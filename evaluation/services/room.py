"""The evaluation room (评标室): check-in with the integrity pledge and the recusal declaration, the
chair's election, the stages in order, each member's own sheet, the chair's locks and reopenings,
rejecting all bids (P27), and the hand-over to the report. Protocol: docs/evaluation-room.md.

Each function is one action in one transaction, authorised by the rules in evaluation/rules_room.py,
with its audit event and its room event (opening/rooms.py: numbered, broadcast after commit). Room
events never carry another member's values before the stage is locked: a sheet change is announced
as progress counts; the chair's lock reveals the stage's values to the room.

Stages (models.STAGE_ORDER): qualification (pass/fail per criterion per bid, majority decides) →
scoring (each member alone, per technical/commercial criterion per qualified bid) → price (computed
when it opens) → ranking (computed when it opens). Locking one opens the next; locking the ranking
moves the session to REPORTING.
"""

from __future__ import annotations

import contextvars
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from bidding.models import Bid
from config.errors import DeadlineError, DomainError, IllegalTransition
from evaluation import formulas
from evaluation.models import (
    ChairVote,
    EvaluationSession,
    MemberStatus,
    PanelMember,
    QualificationVerdict,
    Score,
    SessionState,
    Stage,
    StageKind,
    StageReopening,
    StageStatus,
)
from evaluation.models.session import STAGE_ORDER
from evaluation.services import room_stages as stages
from opening.rooms import append_event

MAX_REASON_CHARS = 2000
MIN_VALID_BIDS = 3  # P27: with fewer valid bids the panel may reject all
COMPUTED = (StageKind.PRICE, StageKind.RANKING)


def append(session: EvaluationSession, kind: str, payload: dict | None = None):
    """Another area's event in the evaluation room (e.g. "clarification.answered", "report.final").
    Must run inside the transaction of the change it reports; never put a member's unlocked values
    in it."""
    return append_event(session, kind, payload)


# --- helpers ----------------------------------------------------------------------------------

def _lock(session: EvaluationSession) -> EvaluationSession:
    return EvaluationSession.objects.select_for_update().select_related("lot__tender", "drawing").get(pk=session.pk)


def _tender_id(session) -> int:
    return session.lot.tender_id


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _require_window(session: EvaluationSession) -> None:
    """The room is open to its panel only within [starts_at, ends_at]."""
    now = timezone.now()
    if now < session.starts_at:
        raise DeadlineError(_("评标室尚未开放：评标时间为 %(start)s 至 %(end)s。") % {"start": _local(session.starts_at), "end": _local(session.ends_at)},
                            code="outside_window")
    if now > session.ends_at:
        raise DeadlineError(_("评标时间已于 %(end)s 结束，评标室已关闭。") % {"end": _local(session.ends_at)}, code="outside_window")


def require_lot_evaluating(session: EvaluationSession) -> None:
    """The panel works only while its lot is in evaluation: a lot suspended (暂停, e.g. while a
    complaint is handled), cancelled (终止) or failed stops the room, the clarifications and the
    report until it resumes."""
    from tendering.models import Lot, LotState

    state = Lot.objects.values_list("state", flat=True).get(pk=session.lot_id)
    if state != LotState.EVALUATING:
        raise IllegalTransition(_("标段当前为“%(state)s”，评标不能继续；标段恢复评标后才能操作。") % {"state": LotState(state).label},
                                code="lot_not_evaluating")


def _member(by: Actor, session: EvaluationSession, *, checked_in: bool = True) -> PanelMember:
    """The acting member's serving seat, in the window (and checked in, unless checking in)."""
    require(by.user, "evaluation.room_member", session)
    _require_window(session)
    require_lot_evaluating(session)
    member = PanelMember.objects.select_for_update().get(
        drawing_id=session.drawing_id, user=by.user, status__in=stages.SERVING)
    if checked_in and member.checked_in_at is None:
        raise DomainError(_("请先签到并签署承诺书。"), code="not_checked_in")
    return member


def _chair(by: Actor, session: EvaluationSession) -> PanelMember:
    if session.chair_id is None:
        raise DomainError(_("评标委员会尚未推选组长。"), code="no_chair")
    require(by.user, "evaluation.room_chair", session)
    return _member(by, session)


def _reviewing(session: EvaluationSession) -> None:
    if session.state != SessionState.REVIEWING:
        raise IllegalTransition(_("评标不在评审阶段（当前：%(state)s）。") % {"state": session.get_state_display()}, code="not_reviewing")


def _stage(session: EvaluationSession, kind: str) -> Stage:
    if kind not in StageKind.values:
        raise DomainError(_("未知的评审阶段：%(stage)s") % {"stage": str(kind)[:32]}, code="no_such_stage")
    return Stage.objects.select_for_update().get(session=session, kind=kind)


def _open_sheet_stage(session, kind: str) -> Stage:
    stage = _stage(session, kind)
    if stage.status == StageStatus.LOCKED:
        raise DomainError(_("“%(stage)s”阶段已由组长锁定，不能再修改。") % {"stage": stage.get_kind_display()}, code="stage_locked")
    if stage.status != StageStatus.OPEN:
        raise DomainError(_("“%(stage)s”阶段尚未开始。") % {"stage": stage.get_kind_display()}, code="stage_not_open")
    return stage


def _text(value, label: str, *, required: bool) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None or len(text) > MAX_REASON_CHARS:
        raise DomainError(_("%(label)s应为不超过 %(limit)s 个字符的文本。") % {"label": label, "limit": MAX_REASON_CHARS}, code="bad_text")
    if required and not text:
        raise DomainError(_("请填写%(label)s。") % {"label": label}, code="reason_required")
    return text


def _bid_id(session, bid, ordered_ids: list[int]) -> int:
    """The id of a bid under evaluation (a Bid or its id), else a clear refusal."""
    bid_id = bid.pk if isinstance(bid, Bid) else bid
    if isinstance(bid_id, bool) or not isinstance(bid_id, int) or bid_id not in ordered_ids:
        raise DomainError(_("本次评标没有这份投标文件。"), code="no_such_bid")
    return bid_id


def _progress_event(session, kind: str, member: PanelMember, *, scope: tuple[list[int], list[str]] | None = None) -> None:
    members = stages.serving_members(session)
    counts = stages.progress(session, kind, members, scope=scope)
    mine = counts.get(member.pk, {"seat": member.seat, "done": 0, "total": 0})
    append_event(session, "sheet.progress", {
        "stage": kind, "seat": member.seat, "done": mine["done"], "total": mine["total"],
        "complete": stages.panel_complete(session, members) and all(c["done"] == c["total"] for c in counts.values()),
    })


# --- check-in and recusal ---------------------------------------------------------------------

_RECUSING: contextvars.ContextVar[bool] = contextvars.ContextVar("evaluation_room_recusing", default=False)


def recusing() -> bool:
    """True while the room's recusal is drawing the replacement (drawing.replace_member then only
    replaces; the room voids the values and tells the room)."""
    return _RECUSING.get()


def _replace(by: Actor, member: PanelMember, reason: str) -> PanelMember | None:
    """The recused member is replaced by a new draw (the POOL+DRAWING area's
    drawing.replace_member). Until that exists: mark the member recused and leave the seat's
    replacement pending (the panel stays incomplete, so nothing can lock)."""
    try:
        from evaluation.services.drawing import replace_member
    except ImportError:
        replace_member = None
    if replace_member is not None:
        token = _RECUSING.set(True)
        try:
            return replace_member(by=by, member=member, status=MemberStatus.RECUSED.value, reason=reason)
        finally:
            _RECUSING.reset(token)
    member.status = MemberStatus.RECUSED
    member.status_reason = reason
    member.status_changed_at = timezone.now()
    member.save(update_fields=["status", "status_reason", "status_changed_at"])
    return None


def _recuse(by: Actor, session: EvaluationSession, member: PanelMember, conflict: str) -> PanelMember | None:
    """P12: the member leaves the panel; any verdicts and scores of theirs are void."""
    voided = (QualificationVerdict.objects.filter(session=session, member=member, void=False).update(void=True)
              + Score.objects.filter(session=session, member=member, void=False).update(void=True))
    was_chair = session.chair_id == member.pk
    replacement = _replace(by, member, conflict)
    record_event(by=by, action="evaluation.recuse", obj=member, tender_id=_tender_id(session),
                 payload={"session": session.pk, "seat": member.seat, "conflict": conflict, "voided": voided,
                          "replacement": replacement.pk if replacement else None})
    append_event(session, "member.recused", {"seat": member.seat, "voided": voided, "replacement_pending": replacement is None,
                                             "replacement_seat": replacement.seat if replacement else None})
    re_electing = session.state == SessionState.ELECTING or (session.state == SessionState.REVIEWING and session.chair_id is None)
    if was_chair or re_electing:
        # The votes of this round counted a member who left: the election starts again.
        if was_chair:
            session.chair = None
        session.election_round += 1
        session.save(update_fields=["chair", "election_round"])
        append_event(session, "chair.round", {"round": session.election_round, "reason": "recusal"})
    return replacement


@transaction.atomic
def check_in(*, by: Actor, session: EvaluationSession, pledge: bool, conflict: str = "") -> PanelMember:
    """签到: the member accepts the integrity pledge (承诺书) and declares any conflict of interest
    with a bidder or the tenderer (P12). A declared conflict recuses the member, who is replaced.
    When every seat is filled by a checked-in member, the chair's election starts."""
    session = _lock(session)
    member = _member(by, session, checked_in=False)
    if session.state not in (SessionState.CHECKIN, SessionState.ELECTING, SessionState.REVIEWING):
        raise IllegalTransition(_("评标已进入“%(state)s”阶段，不能再签到。") % {"state": session.get_state_display()}, code="checkin_closed")
    if pledge is not True:
        raise DomainError(_("签到前须阅读并接受评标专家承诺书。"), code="pledge_required")
    conflict = _text(conflict, _("回避事由"), required=False)
    if member.checked_in_at is not None and not conflict:
        return member
    now = timezone.now()
    member.pledge_accepted_at = member.pledge_accepted_at or now
    if conflict:
        member.save(update_fields=["pledge_accepted_at"])
        _recuse(by, session, member, conflict)
        member.refresh_from_db()
        return member
    member.checked_in_at = now
    member.save(update_fields=["checked_in_at", "pledge_accepted_at"])
    members = stages.serving_members(session)
    record_event(by=by, action="evaluation.check_in", obj=member, tender_id=_tender_id(session),
                 payload={"session": session.pk, "seat": member.seat, "pledge": True, "at": now.isoformat()})
    append_event(session, "member.checked_in", {
        "seat": member.seat, "at": now.isoformat(),
        "checked_in": sum(1 for m in members if m.checked_in_at), "seats": session.drawing.panel_size,
    })
    if session.state == SessionState.CHECKIN and stages.panel_complete(session, members):
        fsm_transition(session, "start_election", by=by, tender_id=_tender_id(session), payload={"members": len(members)})
        append_event(session, "session.state", {"state": session.state, "round": session.election_round})
    return member


@transaction.atomic
def declare_conflict(*, by: Actor, session: EvaluationSession, conflict: str) -> PanelMember:
    """A member who finds a conflict after checking in recuses: replaced, verdicts and scores void."""
    session = _lock(session)
    member = _member(by, session)
    if session.state not in (SessionState.CHECKIN, SessionState.ELECTING, SessionState.REVIEWING):
        raise IllegalTransition(_("评标已进入“%(state)s”阶段。") % {"state": session.get_state_display()}, code="checkin_closed")
    conflict = _text(conflict, _("回避事由"), required=True)
    _recuse(by, session, member, conflict)
    member.refresh_from_db()
    return member


@transaction.atomic
def recuse_member(*, by: Actor, session: EvaluationSession, member: PanelMember, reason: str) -> PanelMember:
    """A recusal registered for a member by centre staff (drawing.replace_member sends it here once
    the session exists): the same effects as the member's own declaration — replaced, verdicts and
    scores void, the room told, a new chair election if needed (P12). Refused once the review is
    over."""
    require(by.user, "evaluation.replace_member", member)
    session = _lock(session)
    member = PanelMember.objects.select_for_update().get(pk=member.pk)
    if member.drawing_id != session.drawing_id:
        raise DomainError(_("该成员不属于本次评标的评标委员会。"), code="wrong_session")
    if member.status not in stages.SERVING:
        raise IllegalTransition(_("该成员已不在评标委员会中。"), code="not_serving")
    if session.state not in (SessionState.CHECKIN, SessionState.ELECTING, SessionState.REVIEWING):
        raise IllegalTransition(_("评审已结束（当前：%(state)s），不能再登记回避。") % {"state": session.get_state_display()},
                                code="checkin_closed")
    reason = _text(reason, _("回避事由"), required=True)
    _recuse(by, session, member, reason)
    member.refresh_from_db()
    return member


# --- the chair's election ---------------------------------------------------------------------

@transaction.atomic
def vote_chair(*, by: Actor, session: EvaluationSession, candidate: PanelMember) -> ChairVote:
    """One vote per member per round for the chair (组长). When every member has voted, a candidate
    with more than half of the votes is elected and the qualification review opens; otherwise the
    next round starts."""
    session = _lock(session)
    voter = _member(by, session)
    electing = session.state == SessionState.ELECTING or (session.state == SessionState.REVIEWING and session.chair_id is None)
    if not electing:
        raise IllegalTransition(_("现在不是推选组长的时候。"), code="not_electing")
    members = stages.serving_members(session)
    candidate = next((m for m in members if m.pk == getattr(candidate, "pk", None)), None)
    if candidate is None or candidate.checked_in_at is None:
        raise DomainError(_("只能推选已签到的评标委员会成员担任组长。"), code="bad_candidate")
    if ChairVote.objects.filter(session=session, round=session.election_round, voter=voter).exists():
        raise DomainError(_("您已在第 %(round)s 轮推选中投过票，每轮只能投一票。") % {"round": session.election_round}, code="already_voted")
    now = timezone.now()
    vote = ChairVote.objects.create(session=session, round=session.election_round, voter=voter, candidate=candidate, voted_at=now)
    record_event(by=by, action="evaluation.vote_chair", obj=session, tender_id=_tender_id(session),
                 payload={"round": session.election_round, "voter": voter.seat, "candidate": candidate.seat})
    votes = list(ChairVote.objects.filter(session=session, round=session.election_round, voter__in=members).select_related("candidate"))
    append_event(session, "chair.voted", {"round": session.election_round, "voted": len(votes), "of": len(members)})
    if len(votes) < len(members) or not stages.panel_complete(session, members):
        return vote
    tally: dict[int, int] = {}
    for v in votes:
        tally[v.candidate.seat] = tally.get(v.candidate.seat, 0) + 1
    winner = next((seat for seat, count in tally.items() if count * 2 > len(members)), None)
    tally_json = {str(seat): count for seat, count in sorted(tally.items())}
    if winner is None:
        record_event(by=by, action="evaluation.chair_no_majority", obj=session, tender_id=_tender_id(session),
                     payload={"round": session.election_round, "tally": tally_json})
        append_event(session, "chair.no_majority", {"round": session.election_round, "next_round": session.election_round + 1, "tally": tally_json})
        session.election_round += 1
        session.save(update_fields=["election_round"])
        return vote
    session.chair = next(m for m in members if m.seat == winner)
    session.save(update_fields=["chair"])
    record_event(by=by, action="evaluation.chair_elected", obj=session, tender_id=_tender_id(session),
                 payload={"round": session.election_round, "seat": winner, "tally": tally_json})
    append_event(session, "chair.elected", {"round": session.election_round, "seat": winner, "tally": tally_json})
    if session.state == SessionState.ELECTING:
        fsm_transition(session, "start_review", by=by, tender_id=_tender_id(session), payload={"chair": winner})
        append_event(session, "session.state", {"state": session.state})
        _open(by, session, STAGE_ORDER[0])
    return vote


# --- the sheets -------------------------------------------------------------------------------

@transaction.atomic
def submit_verdict(*, by: Actor, session: EvaluationSession, bid, criterion: str, value: bool, reason: str = "") -> QualificationVerdict:
    """The member's own pass/fail on one qualification criterion of one bid; a fail needs its
    reason. May be changed until the chair locks the stage."""
    session = _lock(session)
    member = _member(by, session)
    _reviewing(session)
    _open_sheet_stage(session, StageKind.QUALIFICATION)
    ordered_ids = stages.bid_ids(session)
    bid_id = _bid_id(session, bid, ordered_ids)
    codes = [c["code"] for c in stages.qualification_criteria(stages.scheme_of(session))]
    if criterion not in codes:
        raise DomainError(_("“%(code)s”不是招标文件规定的资格审查因素（R49）。") % {"code": str(criterion)[:16]}, code="no_such_criterion")
    if not isinstance(value, bool):
        raise DomainError(_("资格审查结论应为合格或不合格。"), code="bad_verdict")
    reason = _text(reason, _("不合格理由"), required=not value)
    verdict, _created = QualificationVerdict.objects.update_or_create(
        member=member, bid_id=bid_id, criterion=criterion,
        defaults={"session": session, "passed": value, "reason": reason, "submitted_at": timezone.now(), "void": False},
    )
    record_event(by=by, action="evaluation.verdict", obj=session, tender_id=_tender_id(session),
                 payload={"seat": member.seat, "bid": bid_id, "criterion": criterion, "passed": value, "reason": reason})
    _progress_event(session, StageKind.QUALIFICATION, member, scope=stages.stage_scope(session, StageKind.QUALIFICATION, ordered_ids=ordered_ids))
    return verdict


@transaction.atomic
def submit_score(*, by: Actor, session: EvaluationSession, bid, criterion: str, value, reason: str = "") -> Score:
    """The member's own score on one technical or commercial criterion of one qualified bid,
    within [0, max_score] on the criterion's step (formulas.check_score). `reason` explains a
    score far from the panel's mean (needed before the stage can lock); an empty reason keeps the
    one given before. May be changed until the chair locks the stage."""
    session = _lock(session)
    member = _member(by, session)
    _reviewing(session)
    _open_sheet_stage(session, StageKind.SCORING)
    ordered_ids = stages.bid_ids(session)
    bid_id = _bid_id(session, bid, ordered_ids)
    qualified = stages.qualified_bid_ids(session, ordered_ids=ordered_ids)
    if bid_id not in qualified:
        raise DomainError(_("这份投标未通过资格审查，不参加评分。"), code="not_qualified")
    scheme = stages.scheme_of(session)
    found = next((c for c in stages.subjective_criteria(scheme) if c["code"] == criterion), None)
    if found is None:
        raise DomainError(_("“%(code)s”不是招标文件规定的技术或商务评分因素（R49）。") % {"code": str(criterion)[:16]}, code="no_such_criterion")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise DomainError(_("评分应为数字。"), code="bad_score")
    try:
        number = formulas.check_score(value, max_score=found["max_score"], step=stages.step_of(scheme, found))
    except formulas.FormulaError as error:
        raise DomainError(stages.formula_error(error).message, code="bad_score") from None
    if number != number.quantize(Decimal("0.01")):
        raise DomainError(_("评分最多保留两位小数。"), code="bad_score")
    number = number.quantize(Decimal("0.01"))
    reason = _text(reason, _("偏离说明"), required=False)
    existing = Score.objects.filter(member=member, bid_id=bid_id, criterion=criterion).first()
    if existing is not None:
        existing.value, existing.submitted_at, existing.void = number, timezone.now(), False
        existing.reason = reason or existing.reason
        existing.save(update_fields=["value", "submitted_at", "void", "reason"])
        score = existing
    else:
        score = Score.objects.create(session=session, member=member, bid_id=bid_id, criterion=criterion, value=number, reason=reason,
                                     submitted_at=timezone.now())
    record_event(by=by, action="evaluation.score", obj=session, tender_id=_tender_id(session),
                 payload={"seat": member.seat, "bid": bid_id, "criterion": criterion, "value": str(number), "reason": score.reason})
    codes = [c["code"] for c in stages.subjective_criteria(scheme)]
    _progress_event(session, StageKind.SCORING, member, scope=(qualified, codes))
    return score


# --- stages: open, lock, reopen ---------------------------------------------------------------

def _open(by: Actor, session: EvaluationSession, kind: str) -> Stage:
    stage = Stage.objects.select_for_update().get(session=session, kind=kind)
    stage.status, stage.opened_at, stage.locked_at, stage.locked_by = StageStatus.OPEN, timezone.now(), None, None
    stage.save(update_fields=["status", "opened_at", "locked_at", "locked_by"])
    computed = {}
    if kind == StageKind.PRICE:
        computed = stages.compute_price(session)
    elif kind == StageKind.RANKING:
        computed = stages.compute_ranking(session)
    record_event(by=by, action="evaluation.stage_open", obj=session, tender_id=_tender_id(session), payload={"stage": kind})
    append_event(session, "stage.opened", {"stage": kind, **computed})
    return stage


def _require_complete(session: EvaluationSession, kind: str) -> None:
    members = stages.serving_members(session)
    if not stages.panel_complete(session, members):
        raise DomainError(_("评标委员会成员不齐（有成员回避后尚未补足或尚未签到），不能锁定。"), code="panel_incomplete")
    counts = stages.progress(session, kind, members)
    missing = sorted(c["seat"] for c in counts.values() if c["done"] < c["total"])
    if missing:
        raise DomainError(_("以下成员尚未完成本阶段的评审：%(seats)s。") % {"seats": _seats(missing)}, code="incomplete", )


def _require_current_panel(session: EvaluationSession, before: str) -> None:
    """A stage locked before a recusal was decided with the recused member's (now void) values and
    without their replacement's. Nothing after it may lock (nor may all bids be rejected on it)
    until the chair reopens it and the panel as it now is completes it (P12): the report then shows
    the reopening. `before`: the stage about to lock (or "reject_all")."""
    members = stages.serving_members(session)
    if not stages.panel_complete(session, members):
        raise DomainError(_("评标委员会成员不齐（有成员回避后尚未补足或尚未签到），不能锁定。"), code="panel_incomplete")
    limit = STAGE_ORDER.index(before) if before in STAGE_ORDER else len(STAGE_ORDER)
    for kind in (StageKind.QUALIFICATION, StageKind.SCORING):
        if STAGE_ORDER.index(kind) >= limit:
            continue
        if Stage.objects.get(session=session, kind=kind).status != StageStatus.LOCKED:
            continue
        counts = stages.progress(session, kind, members)
        missing = sorted(c["seat"] for c in counts.values() if c["done"] < c["total"])
        if missing:
            raise DomainError(
                _("评标委员会成员有变动（回避及补足），已锁定的“%(stage)s”阶段缺少%(seats)s的评审意见：请组长重新开启该阶段，"
                  "由现在的评标委员会完成评审后再继续。") % {"stage": StageKind(kind).label, "seats": _seats(missing)},
                code="panel_changed")


def _no_open_clarifications(session: EvaluationSession, action: str) -> None:
    """The review ends with the ranking's lock or with rejecting all: no clarification may still be
    waiting for the bidder's answer (it could not be answered any more, nor reach the report)."""
    from evaluation.services.clarification import require_none_open

    require_none_open(session, action=action)


def _seats(seats) -> str:
    return _("、").join(_("专家%(seat)s") % {"seat": seat} for seat in seats)


def _outlier_gate(session: EvaluationSession) -> None:
    """A score further from the panel's mean than the scheme's tolerance needs its expert's written
    reason before the scoring stage can lock. The refusal names seats and counts, never values."""
    missing = stages.unexplained_outliers(session)
    if not missing:
        return
    per_seat: dict[int, int] = {}
    for score in missing:
        per_seat[score.member.seat] = per_seat.get(score.member.seat, 0) + 1
    listed = _("、").join(_("专家%(seat)s（%(count)s 项）") % {"seat": seat, "count": count} for seat, count in sorted(per_seat.items()))
    raise DomainError(_("有 %(count)s 项评分偏离评标委员会平均分超过允许范围，须由评分专家填写偏离说明后才能锁定：%(list)s。")
                      % {"count": len(missing), "list": listed}, code="unexplained_outliers")


@transaction.atomic
def lock_stage(*, by: Actor, session: EvaluationSession, stage_kind: str) -> Stage:
    """The chair locks an open stage once every member has completed it (and, for scoring, every
    outlier is explained). Locking reveals the stage's values to the room and opens the next stage;
    locking the ranking moves the session to the report."""
    session = _lock(session)
    chair = _chair(by, session)
    _reviewing(session)
    stage = _stage(session, stage_kind)
    if stage.status != StageStatus.OPEN:
        raise DomainError(_("“%(stage)s”阶段不在进行中，不能锁定。") % {"stage": stage.get_kind_display()}, code="stage_not_open")
    _require_current_panel(session, stage_kind)
    if stage_kind in (StageKind.QUALIFICATION, StageKind.SCORING):
        _require_complete(session, stage_kind)
    if stage_kind == StageKind.QUALIFICATION:
        stages.tally_qualification(session)
    if stage_kind == StageKind.SCORING:
        if not stages.qualified_bid_ids(session):
            raise DomainError(_("没有通过资格审查的投标：请由组长否决所有投标并说明理由。"), code="no_valid_bids")
        _outlier_gate(session)
    if stage_kind == StageKind.PRICE:
        stages.compute_price(session)  # a bid rejected meanwhile (P21) leaves the benchmark
    if stage_kind == StageKind.RANKING:
        _no_open_clarifications(session, _("锁定排序（评审结束后投标人不能再答复）"))
        if session.benchmark.get("bids") != stages.qualified_bid_ids(session):
            raise DomainError(_("报价评分锁定后又有投标被否决：请重新开启报价评分阶段，按现有有效投标重新计算评标基准价。"),
                              code="valid_bids_changed")
        stages.compute_ranking(session)
        lots = stages.draw_tied_candidates(session)
    else:
        lots = {}
    now = timezone.now()
    stage.status, stage.locked_at, stage.locked_by = StageStatus.LOCKED, now, chair
    stage.save(update_fields=["status", "locked_at", "locked_by"])
    values = stages.stage_values(session, stage_kind)
    record_event(by=by, action="evaluation.stage_lock", obj=session, tender_id=_tender_id(session),
                 payload={"stage": stage_kind, "chair": chair.seat, "at": now.isoformat(), **({"lots": lots} if lots else {})})
    append_event(session, "stage.locked", {"stage": stage_kind, "at": now.isoformat(), "values": values, **({"lots": lots} if lots else {})})
    position = STAGE_ORDER.index(stage_kind)
    if position + 1 < len(STAGE_ORDER):
        if stage_kind == StageKind.QUALIFICATION and not stages.qualified_bid_ids(session):
            return stage  # nothing to score: the chair rejects all (P27)
        _open(by, session, STAGE_ORDER[position + 1])
    else:
        fsm_transition(session, "start_report", by=by, tender_id=_tender_id(session), payload={"chair": chair.seat})
        append_event(session, "session.state", {"state": session.state})
    return stage


@transaction.atomic
def reopen_stage(*, by: Actor, session: EvaluationSession, stage_kind: str, reason: str) -> StageReopening:
    """The chair reopens a locked stage for re-scoring, with the reason. The values as they were are
    kept in a StageReopening (the report's re-scoring history); later stages go back to pending and
    their computed results are cleared."""
    session = _lock(session)
    chair = _chair(by, session)
    _reviewing(session)
    reason = _text(reason, _("重新评审的原因"), required=True)
    stage = _stage(session, stage_kind)
    if stage.status != StageStatus.LOCKED:
        raise DomainError(_("只能重新开启已锁定的阶段。"), code="stage_not_locked")
    position = STAGE_ORDER.index(stage_kind)
    snapshot = {"stage": stage_kind, "locked_at": stage.locked_at.isoformat() if stage.locked_at else None,
                "values": stages.stage_values(session, stage_kind)}
    reopening = StageReopening.objects.create(stage=stage, reason=reason, by=chair, at=timezone.now(), snapshot=snapshot)
    later = list(Stage.objects.select_for_update().filter(session=session, order__gt=stage.order))
    reset = [s.kind for s in later if s.status != StageStatus.PENDING]
    Stage.objects.filter(pk__in=[s.pk for s in later]).update(status=StageStatus.PENDING, opened_at=None, locked_at=None, locked_by=None)
    if stage_kind == StageKind.QUALIFICATION:
        stages.clear_qualification(session)
    if position <= STAGE_ORDER.index(StageKind.RANKING):
        stages.clear_ranking(session)
    if position <= STAGE_ORDER.index(StageKind.PRICE):
        stages.clear_price(session)
    stage.reopen_count += 1
    stage.save(update_fields=["reopen_count"])
    record_event(by=by, action="evaluation.stage_reopen", obj=session, tender_id=_tender_id(session),
                 payload={"stage": stage_kind, "chair": chair.seat, "reason": reason, "reset": reset, "reopening": reopening.pk})
    append_event(session, "stage.reopened", {"stage": stage_kind, "reason": reason, "seat": chair.seat, "reset": reset,
                                             "count": stage.reopen_count})
    _open(by, session, stage_kind)
    return reopening


@transaction.atomic
def reject_all(*, by: Actor, session: EvaluationSession, reason: str) -> EvaluationSession:
    """P27: with fewer than 3 valid (qualified) bids after the qualification review, the panel may
    reject all bids, with reasons. The chair records it; the session ends REJECTED_ALL."""
    session = _lock(session)
    chair = _chair(by, session)
    _reviewing(session)
    reason = _text(reason, _("否决所有投标的理由"), required=True)
    if Stage.objects.get(session=session, kind=StageKind.QUALIFICATION).status != StageStatus.LOCKED:
        raise DomainError(_("资格审查结束（锁定）后才能判断有效投标是否不足3家。"), code="qualification_open")
    _require_current_panel(session, "reject_all")
    valid = len(stages.qualified_bid_ids(session))
    if valid >= MIN_VALID_BIDS:
        raise DomainError(_("有效投标有 %(count)s 家，不少于3家，不能否决所有投标（P27）。") % {"count": valid}, code="enough_valid_bids")
    _no_open_clarifications(session, _("否决所有投标"))
    session.rejected_all_reason = reason
    session.finished_at = timezone.now()
    fsm_transition(session, "reject_all", by=by, tender_id=_tender_id(session),
                   payload={"chair": chair.seat, "valid_bids": valid, "reason": reason})
    _fail_lot(by, session, reason, valid)
    append_event(session, "session.rejected_all", {"reason": reason, "valid_bids": valid})
    append_event(session, "session.state", {"state": session.state})
    return session


def _fail_lot(by: Actor, session: EvaluationSession, reason: str, valid: int) -> None:
    """Every bid rejected (P27): the lot fails (流标) in the same transaction, audited with the panel's
    reason, and whoever obtained the documents is told; the tenderer re-tenders (L42). A lot not
    in evaluation (e.g. suspended) is left to the tenderer's lot_fail."""
    from tendering.models import Lot, LotState
    from tendering.services._common import _notify_registered

    lot = Lot.objects.select_for_update().select_related("tender").get(pk=session.lot_id)
    if lot.state != LotState.EVALUATING:
        return
    lot.state_reason, lot.state_changed_at = _("评标委员会否决所有投标：%(reason)s") % {"reason": reason}, timezone.now()
    notified = _notify_registered(lot.tender, _("标段流标：%(lot)s") % {"lot": lot}, lot.state_reason)
    fsm_transition(lot, "fail", by=by, tender_id=lot.tender_id,
                   payload={"reason": lot.state_reason, "evaluation": session.pk, "valid_bids": valid, "notified": notified})
