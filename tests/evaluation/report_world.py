"""A session in REPORTING, built directly with the ORM (the room's services that produce verdicts,
scores and results are tested elsewhere): a seated panel of 5 with a chair, every member's
qualification verdicts and scores, the bids' results, the benchmark and one re-scoring, and each
member's registered report-signing key. Shared by tests/evaluation/test_report*.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from bidding import keyfile
from evaluation.models import (
    BidResult,
    EvaluationSession,
    MemberStatus,
    QualificationVerdict,
    Score,
    SessionState,
    Stage,
    StageKind,
    StageReopening,
    StageStatus,
)
from evaluation.services.report import expert_key_register
from tests.factories import actor

SUBJECTIVE = {"T1": 30, "T2": 10, "C1": 10}  # tendering.scheme.default_scheme()


@dataclass
class Reporting:
    world: object
    session: EvaluationSession
    members: list
    keys: dict  # member pk -> ec private key

    @property
    def chair(self):
        return self.members[0]

    def by(self, member):
        return actor(member.user)


def reporting(world, *, experts: int = 5, with_keys: bool = True, state: str = SessionState.REPORTING) -> Reporting:
    session = world.seated(experts=experts)
    now = timezone.now()
    members = list(world.members)
    for member in members:
        member.status, member.checked_in_at, member.pledge_accepted_at = MemberStatus.CONFIRMED, now, now
        member.save(update_fields=["status", "checked_in_at", "pledge_accepted_at"])
    bids = [b.bid for b in world.bidders]
    for member in members:
        for bid in bids:
            for criterion in ("Q1", "Q2"):
                QualificationVerdict.objects.create(session=session, member=member, bid=bid, criterion=criterion, passed=True,
                                                    submitted_at=now)
            for n, (criterion, top) in enumerate(SUBJECTIVE.items()):
                value = Decimal(top) - Decimal(member.seat % 3) - Decimal(bids.index(bid)) - Decimal(n) / 2
                reason = "该投标人的施工方案针对性不强" if (member.seat == 5 and criterion == "T1" and bid == bids[0]) else ""
                Score.objects.create(session=session, member=member, bid=bid, criterion=criterion, value=value, reason=reason,
                                     submitted_at=now)
    totals = []
    for index, bidder in enumerate(world.bidders):
        technical = Decimal("36.00") - index
        commercial = Decimal("9.00") - index
        price_score = Decimal("49.50") - Decimal(index) / 2
        totals.append((bidder, technical, commercial, price_score, technical + commercial + price_score))
    totals.sort(key=lambda t: -t[4])
    for rank, (bidder, technical, commercial, price_score, total) in enumerate(totals, start=1):
        BidResult.objects.create(session=session, bid=bidder.bid, price_fen=bidder.price_fen, qualified=True, technical=technical,
                                 commercial=commercial, price_score=price_score, deviation_percent=f"{rank - 2}.00", total=total,
                                 rank=rank, candidate_rank=rank if rank <= 3 else None, abnormally_low=False)
    session.benchmark = {"method": "average_minus_k", "value_fen": 88_270_000, "k": "0.97", "used_fen": [b.price_fen for b in world.bidders],
                         "steps": [{"template": "%(count)s家报价的算术平均值A = %(mean)s分。", "params": {"count": 4, "mean": "91500000"}}]}
    session.chair = members[0]
    session.state = state
    session.save(update_fields=["benchmark", "chair", "state"])
    stage = Stage.objects.get(session=session, kind=StageKind.SCORING)
    Stage.objects.filter(session=session).update(status=StageStatus.LOCKED, locked_at=now)
    StageReopening.objects.create(stage=stage, reason="专家3 的 T2 评分录入错误，组长重新开启评分", by=members[0],
                                  at=now - timedelta(minutes=20), snapshot={"T2": "7.00"})
    keys = {}
    if with_keys:
        for member in members:
            private = ec.generate_private_key(ec.SECP256R1())
            expert_key_register(by=actor(member.user), public_jwk=keyfile.public_jwk(private.public_key()))
            keys[member.pk] = private
    return Reporting(world=world, session=session, members=members, keys=keys)
