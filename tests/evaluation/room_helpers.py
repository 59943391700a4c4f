"""Walking an evaluation room through its steps with the services (shared by the room's tests).

    session = world.seated(experts=5)
    check_in_all(world); elect(world)              # chair = seat 1, qualification open
    qualify_all(world); lock(world, "qualification")
    score_all(world); lock(world, "scoring")        # price computed
"""

from __future__ import annotations

from decimal import Decimal

from evaluation.models import EvaluationSession, PanelMember
from evaluation.services import room
from tendering.scheme import default_scheme
from tests.factories import actor

QUALIFICATION_CODES = ("Q1", "Q2")
SCORED = {"T1": 30, "T2": 10, "C1": 10}


def fresh(world) -> EvaluationSession:
    world.session = EvaluationSession.objects.get(pk=world.session.pk)
    return world.session


def members(world) -> list[PanelMember]:
    return [PanelMember.objects.get(pk=m.pk) for m in world.members]


def by(member):
    return actor(member.user)


def check_in_all(world) -> None:
    for member in world.members:
        room.check_in(by=by(member), session=fresh(world), pledge=True)


def elect(world, seat: int = 1) -> None:
    candidate = next(m for m in members(world) if m.seat == seat)
    for member in world.members:
        room.vote_chair(by=by(member), session=fresh(world), candidate=candidate)


def chair(world) -> PanelMember:
    return PanelMember.objects.get(pk=fresh(world).chair_id)


def qualify_all(world, *, fail: dict | None = None) -> None:
    """Every member passes every criterion of every bid, except {(member index, bid, code): reason}."""
    fail = fail or {}
    for index, member in enumerate(world.members):
        for bidder in world.bidders:
            for code in QUALIFICATION_CODES:
                reason = fail.get((index, bidder.bid.pk, code))
                room.submit_verdict(by=by(member), session=fresh(world), bid=bidder.bid, criterion=code,
                                    value=reason is None, reason=reason or "")


def score_all(world, value=lambda index, bid_index, code: Decimal(SCORED[code]) * Decimal("0.8"), bids=None) -> None:
    bids = bids if bids is not None else [b.bid for b in world.bidders]
    for index, member in enumerate(world.members):
        for bid_index, bid in enumerate(bids):
            for code in SCORED:
                room.submit_score(by=by(member), session=fresh(world), bid=bid, criterion=code, value=value(index, bid_index, code))


def lock(world, kind: str):
    return room.lock_stage(by=by(chair(world)), session=fresh(world), stage_kind=kind)


def scheme() -> dict:
    return default_scheme()
