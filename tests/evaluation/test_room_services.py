"""The evaluation room's services (evaluation/services/room.py): check-in with the pledge and
recusal, the chair's election, the qualification majority, scoring within range and step, the
outlier gate, the price stage, the ranking with ties, reopening, rejecting all (P27), and the full
flow to the report. Every refusal changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from config.errors import DomainError
from evaluation.models import (
    BidResult,
    ChairVote,
    MemberStatus,
    QualificationVerdict,
    Score,
    SessionState,
    Stage,
    StageReopening,
    StageStatus,
)
from evaluation.services import drawing as drawing_services
from evaluation.services import room
from opening.models import RoomEvent
from tests.evaluation.room_helpers import by, chair, check_in_all, elect, fresh, lock, members, qualify_all, score_all
from tests.evaluation.world import EvaluationWorld
from tests.factories import actor, person

pytestmark = pytest.mark.django_db
REAL_REPLACE_MEMBER = drawing_services.replace_member  # before the `replacements` fixture swaps it


@pytest.fixture
def world(clock):
    w = EvaluationWorld(clock)
    w.seated(experts=5)
    return w


def events(world, kind: str | None = None) -> list[RoomEvent]:
    found = RoomEvent.objects.filter(room=world.session.room).order_by("seq")
    return list(found.filter(kind=kind) if kind else found)


def audit_actions(world) -> list[str]:
    return list(AuditEvent.objects.filter(tender_id=world.tender.pk).values_list("action", flat=True))


def refused(code: str, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, caught.value.message)
    return caught.value


def stage_status(world, kind) -> str:
    return Stage.objects.get(session=world.session, kind=kind).status


def reviewing(world):
    check_in_all(world)
    elect(world)
    return world


def scored(world, **kwargs):
    reviewing(world)
    qualify_all(world)
    lock(world, "qualification")
    score_all(world, **kwargs)
    return world


# --- check-in ---------------------------------------------------------------------------------


def test_check_in_needs_the_pledge_and_the_window(world, clock):
    member = world.members[0]
    refused("pledge_required", room.check_in, by=by(member), session=world.session, pledge=False)

    clock.set(world.session.starts_at - timedelta(minutes=1))
    error = refused("outside_window", room.check_in, by=by(member), session=world.session, pledge=True)
    assert "尚未开放" in str(error.message)
    clock.set(world.session.ends_at + timedelta(seconds=1))
    refused("outside_window", room.check_in, by=by(member), session=world.session, pledge=True)

    assert members(world)[0].checked_in_at is None
    assert events(world) == []


def test_an_expert_of_another_tenders_room_and_outsiders_cannot_check_in(world, clock):
    other = EvaluationWorld(clock)
    other.seated(experts=5)
    stranger = other.members[0]
    with pytest.raises(PermissionDenied):
        room.check_in(by=by(stranger), session=world.session, pledge=True)
    for user in (world.centre, world.regulator, world.host, world.bidders[0].user, person("bidder")):
        with pytest.raises(PermissionDenied):
            room.check_in(by=actor(user), session=world.session, pledge=True)
    assert not any(m.checked_in_at for m in members(world))


def test_everyone_checked_in_starts_the_election(world):
    for member in world.members[:4]:
        room.check_in(by=by(member), session=fresh(world), pledge=True)
    assert fresh(world).state == SessionState.CHECKIN
    room.check_in(by=by(world.members[4]), session=fresh(world), pledge=True)
    assert fresh(world).state == SessionState.ELECTING
    checked = [e.payload for e in events(world, "member.checked_in")]
    assert [p["checked_in"] for p in checked] == [1, 2, 3, 4, 5]
    assert all(set(p) == {"seat", "at", "checked_in", "seats"} for p in checked)  # seats, never names
    assert events(world)[-1].kind == "session.state" and events(world)[-1].payload["state"] == "electing"
    assert all(m.pledge_accepted_at for m in members(world))
    assert audit_actions(world).count("evaluation.check_in") == 5
    # A second check-in changes nothing.
    before = len(events(world))
    room.check_in(by=by(world.members[0]), session=fresh(world), pledge=True)
    assert len(events(world)) == before


@pytest.fixture
def replacements(monkeypatch, world):
    """drawing.replace_member (the POOL+DRAWING area's, tested there) as a fake that records its
    call and seats a spare expert in the recused member's seat (the world's drawing is written
    directly, without the stored request a real replacement draw replays)."""
    from evaluation.models import PanelMember
    from evaluation.services import drawing

    calls = []

    def replace_member(*, by, member, status, reason):
        calls.append({"by": by.user_id, "member": member.pk, "status": status, "reason": reason})
        member.status, member.status_reason = status, reason
        expert = world.spare_expert()
        new = PanelMember.objects.create(drawing=member.drawing, expert=expert, user=expert.user, specialty="A08", seat=member.seat, round=1)
        member.replaced_by = new
        member.save()
        world.members = [new if m.pk == member.pk else m for m in world.members]
        return new

    monkeypatch.setattr(drawing, "replace_member", replace_member)
    return calls


def test_a_declared_conflict_recuses_the_member_and_the_replacement_checks_in(world, replacements):
    for member in world.members[:4]:
        room.check_in(by=by(member), session=fresh(world), pledge=True)
    leaving = world.members[4]
    room.check_in(by=by(leaving), session=fresh(world), pledge=True, conflict="本人曾在投标人甲单位任职")
    assert replacements == [{"by": leaving.user_id, "member": leaving.pk, "status": "recused", "reason": "本人曾在投标人甲单位任职"}]
    recused = type(leaving).objects.get(pk=leaving.pk)
    assert recused.status == MemberStatus.RECUSED and recused.checked_in_at is None and recused.pledge_accepted_at
    assert events(world, "member.recused")[-1].payload == {"seat": 5, "voided": 0, "replacement_pending": False, "replacement_seat": 5}
    assert "evaluation.recuse" in audit_actions(world)
    assert fresh(world).state == SessionState.CHECKIN  # the panel waits for the replacement
    with pytest.raises(PermissionDenied):
        room.submit_verdict(by=by(leaving), session=fresh(world), bid=world.bidders[0].bid, criterion="Q1", value=True)
    room.check_in(by=by(world.members[4]), session=fresh(world), pledge=True)
    assert fresh(world).state == SessionState.ELECTING


def test_without_the_drawing_service_a_recusal_leaves_the_seat_pending(world, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "evaluation.services.drawing", None)  # import fails: the local fallback
    check_in_all(world)
    elect(world)
    room.declare_conflict(by=by(world.members[1]), session=fresh(world), conflict="与投标人丙有利害关系")
    assert members(world)[1].status == MemberStatus.RECUSED
    assert events(world, "member.recused")[-1].payload["replacement_pending"] is True
    error = refused("panel_incomplete", lock, world, "qualification")
    assert "不齐" in str(error.message)


def test_a_conflict_declared_during_scoring_voids_the_members_verdicts_and_scores(world, replacements):
    reviewing(world)
    qualify_all(world)
    lock(world, "qualification")
    member = world.members[3]
    room.submit_score(by=by(member), session=fresh(world), bid=world.bidders[0].bid, criterion="T1", value=20)
    room.declare_conflict(by=by(member), session=fresh(world), conflict="发现与投标人乙存在利害关系")
    assert Score.objects.get(member=member).void
    assert set(QualificationVerdict.objects.filter(member=member).values_list("void", flat=True)) == {True}
    assert type(member).objects.get(pk=member.pk).status == MemberStatus.RECUSED
    refused("reason_required", room.declare_conflict, by=by(world.members[2]), session=fresh(world), conflict="  ")


# --- the chair's election ---------------------------------------------------------------------


def test_a_second_vote_in_the_same_round_is_refused(world):
    check_in_all(world)
    candidate = members(world)[0]
    room.vote_chair(by=by(world.members[1]), session=fresh(world), candidate=candidate)
    error = refused("already_voted", room.vote_chair, by=by(world.members[1]), session=fresh(world), candidate=members(world)[2])
    assert "每轮只能投一票" in str(error.message)
    assert ChairVote.objects.filter(session=world.session).count() == 1


def test_votes_before_the_election_or_for_a_stranger_are_refused(world, clock):
    room.check_in(by=by(world.members[0]), session=fresh(world), pledge=True)
    refused("not_electing", room.vote_chair, by=by(world.members[0]), session=fresh(world), candidate=members(world)[0])
    for member in world.members[1:]:
        room.check_in(by=by(member), session=fresh(world), pledge=True)
    now = clock()
    other = EvaluationWorld(clock)  # (its making moves the clock)
    other.seated(experts=5)
    clock.set(now)
    refused("bad_candidate", room.vote_chair, by=by(world.members[0]), session=fresh(world), candidate=other.members[0])


def test_a_majority_elects_the_chair_and_opens_the_qualification_review(world):
    check_in_all(world)
    ms = members(world)
    for voter, candidate in zip(ms, [ms[1], ms[1], ms[1], ms[0], ms[2]]):
        room.vote_chair(by=by(voter), session=fresh(world), candidate=candidate)
    session = fresh(world)
    assert session.chair_id == ms[1].pk and session.state == SessionState.REVIEWING
    assert stage_status(world, "qualification") == StageStatus.OPEN
    elected = events(world, "chair.elected")[-1].payload
    assert elected == {"round": 1, "seat": 2, "tally": {"1": 1, "2": 3, "3": 1}}
    progress = [e.payload for e in events(world, "chair.voted")]
    assert [p["voted"] for p in progress] == [1, 2, 3, 4, 5] and all("candidate" not in p for p in progress)


def test_no_majority_starts_the_next_round(world):
    check_in_all(world)
    ms = members(world)
    for voter, candidate in zip(ms, [ms[0], ms[0], ms[1], ms[1], ms[2]]):
        room.vote_chair(by=by(voter), session=fresh(world), candidate=candidate)
    session = fresh(world)
    assert session.chair_id is None and session.election_round == 2 and session.state == SessionState.ELECTING
    assert events(world, "chair.no_majority")[-1].payload == {"round": 1, "next_round": 2, "tally": {"1": 2, "2": 2, "3": 1}}
    # Everyone votes again in round 2.
    elect(world, seat=3)
    assert fresh(world).chair.seat == 3


# --- qualification ---------------------------------------------------------------------------


def test_a_fail_needs_a_reason_and_criteria_come_from_the_scheme(world):
    reviewing(world)
    member, bid = world.members[0], world.bidders[0].bid
    refused("reason_required", room.submit_verdict, by=by(member), session=fresh(world), bid=bid, criterion="Q1", value=False)
    refused("no_such_criterion", room.submit_verdict, by=by(member), session=fresh(world), bid=bid, criterion="X9", value=True)
    refused("no_such_criterion", room.submit_verdict, by=by(member), session=fresh(world), bid=bid, criterion="T1", value=True)
    refused("bad_verdict", room.submit_verdict, by=by(member), session=fresh(world), bid=bid, criterion="Q1", value="yes")
    refused("stage_not_open", room.submit_score, by=by(member), session=fresh(world), bid=bid, criterion="T1", value=10)
    assert not QualificationVerdict.objects.exists()


def test_qualification_is_decided_by_majority_per_criterion(world):
    reviewing(world)
    first, second = world.bidders[0].bid.pk, world.bidders[1].bid.pk
    qualify_all(world, fail={
        # Bid 1 fails Q1 with 2 of 5: passes.
        (0, first, "Q1"): "营业执照过期", (1, first, "Q1"): "营业执照过期",
        # Bid 2 fails Q2 with 3 of 5: not qualified.
        (0, second, "Q2"): "项目经理证书不符", (2, second, "Q2"): "证书专业不符", (4, second, "Q2"): "证书过期",
    })
    progress = events(world, "sheet.progress")
    assert progress[-1].payload["complete"] is True
    assert all(set(e.payload) == {"stage", "seat", "done", "total", "complete"} for e in progress)
    lock(world, "qualification")
    results = {r.bid_id: r for r in BidResult.objects.filter(session=world.session)}
    assert results[first].qualified is True
    assert results[second].qualified is False
    assert results[second].qualification_reasons == [
        {"criterion": "Q2", "name": "项目经理注册证书", "pass": 2, "fail": 3, "reasons": ["项目经理证书不符", "证书专业不符", "证书过期"]}]
    locked = events(world, "stage.locked")[-1].payload
    assert locked["stage"] == "qualification" and len(locked["values"]["verdicts"]) == 5 * 4 * 2
    assert stage_status(world, "scoring") == StageStatus.OPEN
    refused("not_qualified", room.submit_score, by=by(world.members[0]), session=fresh(world), bid=second, criterion="T1", value=10)
    refused("stage_locked", room.submit_verdict, by=by(world.members[0]), session=fresh(world), bid=first, criterion="Q1", value=True)


def test_only_the_chair_locks_and_only_a_complete_stage(world):
    reviewing(world)
    member = next(m for m in members(world) if m.pk != chair(world).pk)
    with pytest.raises(PermissionDenied):
        room.lock_stage(by=by(member), session=fresh(world), stage_kind="qualification")
    room.submit_verdict(by=by(world.members[0]), session=fresh(world), bid=world.bidders[0].bid, criterion="Q1", value=True)
    error = refused("incomplete", lock, world, "qualification")
    assert "专家1" in str(error.message) and "专家5" in str(error.message)
    refused("no_such_stage", room.lock_stage, by=by(chair(world)), session=fresh(world), stage_kind="nonsense")
    assert stage_status(world, "qualification") == StageStatus.OPEN


# --- scoring ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, message", [
    (31, "超出范围"), (-0.5, "超出范围"), (12.3, "步长"), ("abc", "不是有效的数字"), (True, "数字"), (None, "数字"), (12.25, "步长"),
])
def test_scores_out_of_range_or_off_step_are_refused(world, value, message):
    reviewing(world)
    qualify_all(world)
    lock(world, "qualification")
    error = refused("bad_score", room.submit_score, by=by(world.members[0]), session=fresh(world), bid=world.bidders[0].bid,
                    criterion="T1", value=value)
    assert message in str(error.message)
    assert not Score.objects.exists()


def test_scores_on_the_step_are_accepted_and_may_change_until_the_lock(world):
    reviewing(world)
    qualify_all(world)
    lock(world, "qualification")
    member, bid = world.members[0], world.bidders[0].bid
    for value in (0, 30, "22.5", 22.5, Decimal("21.0")):
        room.submit_score(by=by(member), session=fresh(world), bid=bid, criterion="T1", value=value)
    assert Score.objects.get(member=member, bid=bid, criterion="T1").value == Decimal(21)
    refused("no_such_criterion", room.submit_score, by=by(member), session=fresh(world), bid=bid, criterion="P1", value=10)
    refused("no_such_criterion", room.submit_score, by=by(member), session=fresh(world), bid=bid, criterion="Q1", value=10)


def test_scoring_in_a_locked_stage_is_refused(world):
    scored(world)
    lock(world, "scoring")
    error = refused("stage_locked", room.submit_score, by=by(world.members[0]), session=fresh(world), bid=world.bidders[0].bid,
                    criterion="T1", value=10)
    assert "已由组长锁定" in str(error.message)
    assert Score.objects.get(member=world.members[0], bid=world.bidders[0].bid, criterion="T1").value == Decimal(24)


def test_scoring_outside_the_window_is_refused(world, clock):
    reviewing(world)
    qualify_all(world)
    lock(world, "qualification")
    clock.set(world.session.ends_at + timedelta(minutes=1))
    refused("outside_window", room.submit_score, by=by(world.members[0]), session=fresh(world), bid=world.bidders[0].bid,
            criterion="T1", value=10)
    assert not Score.objects.exists()


def test_progress_events_never_carry_values_before_the_lock(world):
    scored(world, value=lambda i, b, code: Decimal("7.5") + i if code == "T1" else Decimal(5))
    before_lock = [e for e in events(world) if e.kind != "stage.locked"]
    for event in before_lock:
        text = json.dumps(event.payload)
        assert "value" not in text and "7.5" not in text and "8.5" not in text
    lock(world, "scoring")
    revealed = events(world, "stage.locked")[-1].payload["values"]["scores"]
    assert {s["value"] for s in revealed if s["criterion"] == "T1"} == {"7.50", "8.50", "9.50", "10.50", "11.50"}


# --- the outlier gate -------------------------------------------------------------------------


def test_a_lock_with_unexplained_outliers_is_refused_until_the_expert_explains(world):
    # T1 (max 30, tolerance 20 % = 6 points): four experts give 24, expert 5 gives 12 on the first bid.
    scored(world, value=lambda i, b, code: Decimal(12) if (i, b, code) == (4, 0, "T1") else Decimal({"T1": 24, "T2": 8, "C1": 8}[code]))
    error = refused("unexplained_outliers", lock, world, "scoring")
    text = str(error.message)
    assert "专家5（1 项）" in text and "12" not in text.replace("专家5（1 项）", "")
    assert stage_status(world, "scoring") == StageStatus.OPEN
    assert "stage.locked" not in [e.kind for e in events(world)][-3:]

    outlier = world.members[4]
    room.submit_score(by=by(outlier), session=fresh(world), bid=world.bidders[0].bid, criterion="T1", value=12,
                      reason="施工组织设计缺少深基坑专项方案")
    lock(world, "scoring")
    assert stage_status(world, "scoring") == StageStatus.LOCKED
    assert Score.objects.get(member=outlier, bid=world.bidders[0].bid, criterion="T1").reason == "施工组织设计缺少深基坑专项方案"


# --- price and ranking ------------------------------------------------------------------------


def test_the_price_stage_computes_the_benchmark_and_price_scores(world):
    scored(world)
    lock(world, "scoring")
    session = fresh(world)
    assert stage_status(world, "price") == StageStatus.OPEN
    # Prices 900 000.00 … 930 000.00 yuan; average minus K 3 %: 91 500 000 × 0.97 = 88 755 000 fen.
    assert session.benchmark["value_fen"] == 88_755_000 and session.benchmark["method"] == "average_minus_k"
    first = BidResult.objects.get(session=session, bid=world.bidders[0].bid)
    # (90 000 000 − 88 755 000) / 88 755 000 = 1.40273 % above → 50 − 1.40273 × 1 = 48.60.
    assert first.price_score == Decimal("48.60") and first.deviation_percent == "1.40" and not first.abnormally_low
    opened = events(world, "stage.opened")[-1].payload
    assert opened["stage"] == "price" and opened["benchmark"]["value_fen"] == 88_755_000 and len(opened["rows"]) == 4


def test_an_abnormally_low_price_is_flagged(clock):
    world = EvaluationWorld(clock, prices=[100_000_000, 100_000_000, 100_000_000, 70_000_000])
    world.seated(experts=5)
    scored(world)
    lock(world, "scoring")
    flags = {r.bid_id: r.abnormally_low for r in BidResult.objects.filter(session=world.session)}
    # Benchmark 92 500 000 × 0.97 = 89 725 000; 70 000 000 is 21.98 % below it (threshold 15 %).
    assert flags == {world.bidders[0].bid.pk: False, world.bidders[1].bid.pk: False, world.bidders[2].bid.pk: False,
                     world.bidders[3].bid.pk: True}


def test_the_ranking_breaks_ties_and_names_at_most_three_candidates(clock):
    world = EvaluationWorld(clock, prices=[90_000_000, 90_000_000, 90_000_000, 95_000_000])
    world.seated(experts=5)

    def value(i, b, code):
        # Bids 0 and 1: same total (T1 +1 / C1 −1) but bid 0 has the higher technical score; bid 2 equals bid 1.
        base = {"T1": Decimal(24), "T2": Decimal(8), "C1": Decimal(8)}[code]
        return base + (1 if (b, code) == (0, "T1") else -1 if (b, code) == (0, "C1") else 0)

    scored(world, value=value)
    for kind in ("scoring", "price"):
        lock(world, kind)
    ranking = events(world, "stage.opened")[-1].payload
    assert ranking["stage"] == "ranking"
    rows = {row["bid"]: row for row in ranking["rows"]}
    b = [x.bid.pk for x in world.bidders]
    assert rows[b[0]]["total"] == rows[b[1]]["total"] == rows[b[2]]["total"]
    assert rows[b[0]]["rank"] == 1 and not rows[b[0]]["tied"]  # technical score breaks the tie
    assert rows[b[1]]["rank"] == rows[b[2]]["rank"] == 2 and rows[b[1]]["tied"] and rows[b[2]]["tied"]  # lots must be drawn
    assert rows[b[3]]["rank"] == 4
    assert [c["candidate_rank"] for c in ranking["candidates"]] == [1, 2, 3] and ranking["tied"] is True
    results = {r.bid_id: r for r in BidResult.objects.filter(session=world.session)}
    assert results[b[3]].candidate_rank is None and results[b[0]].candidate_rank == 1


def test_full_flow_to_reporting(world):
    scored(world)
    for kind in ("scoring", "price", "ranking"):
        lock(world, kind)
    session = fresh(world)
    assert session.state == SessionState.REPORTING
    assert all(s.status == StageStatus.LOCKED for s in session.stages.all())
    results = list(BidResult.objects.filter(session=session).order_by("rank"))
    assert [r.rank for r in results] == [1, 2, 3, 4] and [r.candidate_rank for r in results] == [1, 2, 3, None]
    assert results[0].bid_id == world.bidders[0].bid.pk  # lowest price, same subjective scores
    assert results[0].total == results[0].technical + results[0].commercial + results[0].price_score
    assert events(world)[-1].kind == "session.state" and events(world)[-1].payload["state"] == "reporting"
    assert "evaluationsession.start_report" in audit_actions(world)
    refused("not_reviewing", lock, world, "ranking")


# --- reopening and rejecting all --------------------------------------------------------------


def test_reopening_a_stage_is_audited_snapshotted_and_resets_later_stages(world):
    scored(world)
    lock(world, "scoring")
    lock(world, "price")
    member = next(m for m in members(world) if m.pk != chair(world).pk)
    with pytest.raises(PermissionDenied):
        room.reopen_stage(by=by(member), session=fresh(world), stage_kind="scoring", reason="复核")
    refused("reason_required", room.reopen_stage, by=by(chair(world)), session=fresh(world), stage_kind="scoring", reason=" ")
    refused("stage_not_locked", room.reopen_stage, by=by(chair(world)), session=fresh(world), stage_kind="ranking", reason="复核")

    reopening = room.reopen_stage(by=by(chair(world)), session=fresh(world), stage_kind="scoring", reason="专家3对T1理解有误，重新评分")
    assert StageReopening.objects.get() == reopening
    assert reopening.snapshot["stage"] == "scoring" and len(reopening.snapshot["values"]["scores"]) == 5 * 4 * 3
    assert {s.kind: s.status for s in fresh(world).stages.all()} == {
        "qualification": "locked", "scoring": "open", "price": "pending", "ranking": "pending"}
    assert Stage.objects.get(session=world.session, kind="scoring").reopen_count == 1
    assert fresh(world).benchmark == {} and not BidResult.objects.filter(session=world.session, price_score__isnull=False).exists()
    body = json.loads(AuditEvent.objects.filter(action="evaluation.stage_reopen").get().body)
    assert body["payload"]["reason"] == "专家3对T1理解有误，重新评分" and body["payload"]["reset"] == ["price", "ranking"]
    assert events(world, "stage.reopened")[-1].payload["reset"] == ["price", "ranking"]

    room.submit_score(by=by(world.members[2]), session=fresh(world), bid=world.bidders[0].bid, criterion="T1", value=25)
    for kind in ("scoring", "price", "ranking"):
        lock(world, kind)
    assert fresh(world).state == SessionState.REPORTING


def test_reopening_the_qualification_withdraws_its_conclusion_until_it_locks_again(world):
    reviewing(world)
    b = [x.bid.pk for x in world.bidders]
    qualify_all(world, fail={(i, b[0], "Q2"): "证书过期" for i in range(3)})
    lock(world, "qualification")
    assert not BidResult.objects.get(session=world.session, bid_id=b[0]).qualified
    room.reopen_stage(by=by(chair(world)), session=fresh(world), stage_kind="qualification", reason="投标人甲证书已核实有效")
    assert set(BidResult.objects.filter(session=world.session).values_list("qualified", flat=True)) == {None}
    assert stage_status(world, "scoring") == StageStatus.PENDING
    snapshot = StageReopening.objects.get().snapshot["values"]["results"]
    assert {r["bid"]: r["qualified"] for r in snapshot}[b[0]] is False
    for member in world.members[:3]:
        room.submit_verdict(by=by(member), session=fresh(world), bid=b[0], criterion="Q2", value=True)
    lock(world, "qualification")
    assert BidResult.objects.get(session=world.session, bid_id=b[0]).qualified is True


def test_reject_all_needs_fewer_than_three_valid_bids_and_a_reason(world):
    reviewing(world)
    refused("qualification_open", room.reject_all, by=by(chair(world)), session=fresh(world), reason="有效投标不足")
    b = [x.bid.pk for x in world.bidders]
    qualify_all(world, fail={(i, bid, "Q1"): "资质不符" for i in range(3) for bid in b[:2]})
    lock(world, "qualification")
    assert BidResult.objects.filter(session=world.session, qualified=True).count() == 2
    refused("reason_required", room.reject_all, by=by(chair(world)), session=fresh(world), reason="")
    member = next(m for m in members(world) if m.pk != chair(world).pk)
    with pytest.raises(PermissionDenied):
        room.reject_all(by=by(member), session=fresh(world), reason="有效投标不足3家")
    room.reject_all(by=by(chair(world)), session=fresh(world), reason="有效投标不足3家，缺乏竞争")
    session = fresh(world)
    assert session.state == SessionState.REJECTED_ALL and session.rejected_all_reason == "有效投标不足3家，缺乏竞争"
    assert events(world, "session.rejected_all")[-1].payload == {"reason": "有效投标不足3家，缺乏竞争", "valid_bids": 2}
    world.lot.refresh_from_db()  # the lot fails with the panel's reason, in the same transaction (L42)
    assert world.lot.state == "failed" and "有效投标不足3家，缺乏竞争" in world.lot.state_reason
    assert "lot.fail" in audit_actions(world)


def test_reject_all_is_refused_with_three_valid_bids(world):
    reviewing(world)
    qualify_all(world)
    lock(world, "qualification")
    error = refused("enough_valid_bids", room.reject_all, by=by(chair(world)), session=fresh(world), reason="不足")
    assert "P27" in str(error.message)
    assert fresh(world).state == SessionState.REVIEWING


def test_append_is_for_other_areas_events(world):
    from django.db import transaction

    with transaction.atomic():
        room.append(fresh(world), "clarification.answered", {"id": 1})
    assert events(world)[-1].kind == "clarification.answered"


def test_a_bid_rejected_meanwhile_leaves_the_benchmark_and_the_ranking(clock):
    """A bid the chair rejects during the price stage (the clarification area's reject_bid, P21:
    here written directly) is left out when the price stage locks; rejected after that lock, the
    ranking cannot lock until the price stage is reopened and recomputed."""
    world = EvaluationWorld(clock, bidders=5, prices=[100_000_000, 100_000_000, 100_000_000, 100_000_000, 70_000_000])
    world.seated(experts=5)
    scored(world)
    lock(world, "scoring")
    low = world.bidders[4].bid.pk
    assert BidResult.objects.get(session=world.session, bid_id=low).abnormally_low
    BidResult.objects.filter(session=world.session, bid_id=low).update(rejected=True, rejection_reason="报价明显偏低且未能合理说明")
    lock(world, "price")
    assert fresh(world).benchmark["value_fen"] == 97_000_000 and fresh(world).benchmark["bids"] == [b.bid.pk for b in world.bidders[:4]]
    assert [r["bid"] for r in events(world, "stage.locked")[-1].payload["values"]["rows"]] == [b.bid.pk for b in world.bidders[:4]]
    assert BidResult.objects.get(session=world.session, bid_id=low).abnormally_low  # kept as evidence

    BidResult.objects.filter(session=world.session, bid_id=world.bidders[3].bid.pk).update(rejected=True, rejection_reason="实质性偏差")
    refused("valid_bids_changed", lock, world, "ranking")
    room.reopen_stage(by=by(chair(world)), session=fresh(world), stage_kind="price", reason="有投标被否决，重新计算评标基准价")
    lock(world, "price")
    lock(world, "ranking")
    ranked = BidResult.objects.filter(session=world.session, rank__isnull=False)
    assert sorted(r.bid_id for r in ranked) == sorted(b.bid.pk for b in world.bidders[:3])
    assert fresh(world).state == SessionState.REPORTING


# --- clarifications still waiting when the review ends -----------------------------------------


def _ask(world, minutes: int = 30):
    from evaluation.services import clarification

    return clarification.clarification_ask(by=by(chair(world)), session=fresh(world), bid=world.bidders[1].bid,
                                            question="请说明施工组织设计中的工期安排。", deadline=world.clock() + timedelta(minutes=minutes))


def test_the_ranking_does_not_lock_while_a_clarification_waits_for_its_answer(world, clock):
    from evaluation.models import ClarificationStatus

    scored(world)
    for kind in ("scoring", "price"):
        lock(world, kind)
    asked = _ask(world)
    before = (len(events(world)), AuditEvent.objects.count())
    error = refused("clarification_open", lock, world, "ranking")
    assert "第1号" in str(error.message)
    assert (len(events(world)), AuditEvent.objects.count()) == before
    assert stage_status(world, "ranking") == StageStatus.OPEN and fresh(world).state == SessionState.REVIEWING
    clock.set(asked.deadline + timedelta(seconds=1))  # unanswered: it expires, and the panel goes on
    lock(world, "ranking")
    assert fresh(world).state == SessionState.REPORTING
    asked.refresh_from_db()
    assert asked.status == ClarificationStatus.EXPIRED
    assert events(world, "clarification.expired")[-1].payload["number"] == 1


def test_reject_all_is_refused_while_a_clarification_waits_for_its_answer(world):
    reviewing(world)
    b = [x.bid.pk for x in world.bidders]
    qualify_all(world, fail={(i, bid, "Q1"): "资质不符" for i in range(3) for bid in b[:2]})
    lock(world, "qualification")
    _ask(world)
    refused("clarification_open", room.reject_all, by=by(chair(world)), session=fresh(world), reason="有效投标不足3家")
    assert fresh(world).state == SessionState.REVIEWING and fresh(world).rejected_all_reason == ""


def test_after_a_recusal_a_stage_locked_with_the_recused_members_values_must_be_redone(world, replacements):
    """P12: the recused member's verdicts are void and their replacement gave none, so the locked
    qualification no longer stands for the panel: nothing after it locks until the chair reopens it
    and the panel as it now is completes it (the reopening reaches the report's history)."""
    reviewing(world)
    qualify_all(world)
    lock(world, "qualification")
    leaving = world.members[3]
    room.declare_conflict(by=by(leaving), session=fresh(world), conflict="发现与投标人乙存在利害关系")
    room.check_in(by=by(world.members[3]), session=fresh(world), pledge=True)  # the replacement, same seat
    score_all(world)
    before = (len(events(world)), stage_status(world, "scoring"))
    error = refused("panel_changed", lock, world, "scoring")
    assert "资格审查" in str(error.message) and "专家4" in str(error.message)
    assert (len(events(world)), stage_status(world, "scoring")) == before
    room.reopen_stage(by=by(chair(world)), session=fresh(world), stage_kind="qualification", reason="专家4回避，由补抽专家重新评审")
    qualify_all(world)
    lock(world, "qualification")
    lock(world, "scoring")  # the scores given meanwhile stand
    assert stage_status(world, "price") == StageStatus.OPEN
    assert StageReopening.objects.filter(stage__session=world.session, stage__kind="qualification").count() == 1


def test_a_recusal_registered_by_the_centre_during_the_review_voids_the_members_values(world, replacements):
    """The centre's page (drawing.replace_member) has the room's effects: the recused chair's
    verdicts are void (no longer counted in the majority), the room is told, a new chair is elected."""
    reviewing(world)
    qualify_all(world)
    leaving = chair(world)
    REAL_REPLACE_MEMBER(by=actor(world.centre), member=leaving, status="recused", reason="交易中心核实：与投标人甲存在利害关系")
    assert set(QualificationVerdict.objects.filter(member=leaving).values_list("void", flat=True)) == {True}
    assert events(world, "member.recused")[-1].payload["seat"] == leaving.seat
    session = fresh(world)
    assert session.chair_id is None and events(world, "chair.round")
    assert type(leaving).objects.get(pk=leaving.pk).status == MemberStatus.RECUSED
    assert "evaluation.recuse" in audit_actions(world)


def test_the_centre_cannot_register_a_recusal_once_the_review_is_over(world, replacements):
    scored(world)
    for kind in ("scoring", "price", "ranking"):
        lock(world, kind)
    member = members(world)[2]
    with pytest.raises(DomainError) as caught:
        REAL_REPLACE_MEMBER(by=actor(world.centre), member=member, status="recused", reason="利害关系")
    assert caught.value.code == "checkin_closed"
    assert type(member).objects.get(pk=member.pk).status in (MemberStatus.DRAWN, MemberStatus.CONFIRMED)
    assert not Score.objects.filter(member=member, void=True).exists()


def test_a_tie_among_the_candidates_is_settled_at_the_lock_by_a_recorded_drawing_of_lots(clock):
    """Four bids equal on every rule: who is candidate 1..3 is not left to the order the bids came
    in, but drawn by lots at the ranking's lock with a recorded seed anyone can draw again."""
    from evaluation import formulas

    world = EvaluationWorld(clock, prices=[90_000_000] * 4)
    world.seated(experts=5)
    scored(world)
    for kind in ("scoring", "price", "ranking"):
        lock(world, kind)
    session = fresh(world)
    lots = session.benchmark["lots"]
    b = sorted(x.bid.pk for x in world.bidders)
    assert lots["groups"][0]["rank"] == 1 and lots["groups"][0]["bids"] == b
    order = formulas.lot_order(bytes.fromhex(lots["seed_hex"]), 1, b)
    assert lots["groups"][0]["order"] == order
    results = {r.bid_id: r.candidate_rank for r in BidResult.objects.filter(session=session)}
    assert [results[bid] for bid in order] == [1, 2, 3, None]
    locked = events(world, "stage.locked")[-1].payload
    assert locked["stage"] == "ranking" and locked["lots"]["seed_hex"] == lots["seed_hex"]
    audit = AuditEvent.objects.filter(action="evaluation.stage_lock").order_by("-seq").first()
    assert json.loads(audit.body)["payload"]["lots"]["groups"][0]["order"] == order
    # The seed comes from the panel drawing's committed seed: nobody foresees it, and reopening the
    # lots again gives the same order (no second chance at them).
    import hashlib

    drawing_seed = bytes.fromhex(session.drawing.seed_hex)
    assert lots["seed_hex"] == hashlib.sha256(b"etender-lots-v1:" + drawing_seed + f":{session.pk}".encode()).hexdigest()
    from evaluation.services import room_stages

    assert room_stages.draw_tied_candidates(fresh(world))["groups"][0]["order"] == order


def test_the_lot_order_is_a_function_of_the_seed():
    from evaluation import formulas

    assert formulas.lot_order(b"\x01" * 32, 1, [5, 7, 9]) == formulas.lot_order(b"\x01" * 32, 1, [9, 5, 7])
    orders = {tuple(formulas.lot_order(bytes([n]) * 32, 1, [5, 7, 9])) for n in range(40)}
    assert len(orders) > 1


@pytest.mark.parametrize("lot_state", ["suspended", "cancelled"])
def test_the_room_stops_while_the_lot_is_suspended_or_cancelled(world, lot_state):
    from tendering.models import Lot

    scored(world)
    Lot.objects.filter(pk=world.lot.pk).update(state=lot_state)
    member = world.members[1]
    before = Score.objects.get(member=member, bid=world.bidders[0].bid, criterion="T1").value
    refused("lot_not_evaluating", room.submit_score, by=by(member), session=fresh(world), bid=world.bidders[0].bid, criterion="T1", value=5)
    refused("lot_not_evaluating", lock, world, "scoring")
    assert Score.objects.get(member=member, bid=world.bidders[0].bid, criterion="T1").value == before
    assert stage_status(world, "scoring") == StageStatus.OPEN
    Lot.objects.filter(pk=world.lot.pk).update(state="evaluating")  # resumed
    lock(world, "scoring")
