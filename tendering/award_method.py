"""Choosing the winner among the candidates by the tender's recorded method (定标方法).

Pure: no Django. Candidates are named by their candidate rank (1..3, as the evaluation report ranks
them); a vote is one award committee member (定标委员会成员) naming one candidate.

- first_candidate: the candidate ranked first, no vote (R55: state-funded tenders).
- direct_vote (直接票决): the candidate with the most votes; a tie for the most votes decides
  nothing (the committee votes again).
- vote_then_lot (票决抽签, 评定分离): the vote picks the finalists (the `finalists` candidates with
  the most votes, everyone tied at the boundary included, never one with no vote); a lot drawn
  among them decides. The lot is a deterministic function of a random seed and the sorted
  finalists, so recording the seed lets anyone re-draw it (`draw_lot`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


def _(s: str) -> str:  # translation marker; the services translate the message
    return s


FIRST_CANDIDATE, DIRECT_VOTE, VOTE_THEN_LOT = "first_candidate", "direct_vote", "vote_then_lot"
METHODS = (FIRST_CANDIDATE, DIRECT_VOTE, VOTE_THEN_LOT)
LOT_ALGORITHM = "sha256(seed || ',' || sorted finalist ranks joined by ',') as a big-endian integer mod the number of finalists"


class AwardMethodError(ValueError):
    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.template, self.params = message, params


@dataclass(frozen=True)
class Vote:
    voter: str
    candidate_rank: int


@dataclass(frozen=True)
class Outcome:
    winner_rank: int
    tally: dict[int, int]
    finalists: tuple[int, ...] = ()
    lot_index: int | None = None


def check_method(method: str, *, state_funded: bool) -> None:
    """R55: a state-funded tender awards the first candidate; no other method may be set."""
    if method not in METHODS:
        raise AwardMethodError(_("定标方法无效：%(method)s"), method=method)
    if state_funded and method != FIRST_CANDIDATE:
        raise AwardMethodError(_("国有资金占控股或主导地位的项目，应当确定排名第一的中标候选人为中标人（R55），不能采用其他定标方法。"))


def tally(votes: Iterable[Vote], candidates: Iterable[int]) -> dict[int, int]:
    """Votes per candidate rank (every candidate listed, 0 when none). Each voter votes once, for a
    candidate that was publicised."""
    ranks = sorted(set(candidates))
    counts = {rank: 0 for rank in ranks}
    seen: set[str] = set()
    votes = list(votes)
    if not votes:
        raise AwardMethodError(_("请录入定标委员会成员的投票。"))
    for vote in votes:
        voter = (vote.voter or "").strip()
        if not voter:
            raise AwardMethodError(_("每一票都必须写明投票人。"))
        if voter in seen:
            raise AwardMethodError(_("%(voter)s 投了不止一票；每人只能投一票。"), voter=voter)
        seen.add(voter)
        if vote.candidate_rank not in counts:
            raise AwardMethodError(_("%(voter)s 所投的第%(rank)s中标候选人不存在。"), voter=voter, rank=vote.candidate_rank)
        counts[vote.candidate_rank] += 1
    return counts


def pick_finalists(counts: dict[int, int], count: int) -> tuple[int, ...]:
    """The `count` candidates with the most votes, all those tied at the boundary included, none
    without a vote; in rank order."""
    if count < 1:
        raise AwardMethodError(_("进入抽签的候选人数至少为1。"))
    voted = sorted((rank for rank, n in counts.items() if n > 0), key=lambda rank: (-counts[rank], rank))
    if not voted:
        raise AwardMethodError(_("没有候选人得票。"))
    threshold = counts[voted[min(count, len(voted)) - 1]]
    return tuple(sorted(rank for rank in voted if counts[rank] >= threshold))


def draw_lot(seed: bytes, finalists: Iterable[int]) -> int:
    """The index (into the sorted finalists) the lot picks: see LOT_ALGORITHM."""
    ordered = sorted(set(finalists))
    if not ordered:
        raise AwardMethodError(_("没有进入抽签的候选人。"))
    if len(seed) < 16:
        raise AwardMethodError(_("抽签种子太短。"))
    digest = hashlib.sha256(seed + b"," + ",".join(str(rank) for rank in ordered).encode()).digest()
    return int.from_bytes(digest, "big") % len(ordered)


def decide(method: str, *, state_funded: bool, candidates: Iterable[int], votes: Iterable[Vote] = (), finalists: int = 2,
           seed: bytes | None = None) -> Outcome:
    """The winner's candidate rank by `method` (see the module docstring)."""
    check_method(method, state_funded=state_funded)
    ranks = sorted(set(candidates))
    if not ranks:
        raise AwardMethodError(_("没有中标候选人。"))
    votes = list(votes)
    if method == FIRST_CANDIDATE:
        if votes:
            raise AwardMethodError(_("本项目确定排名第一的中标候选人为中标人，不投票。"))
        return Outcome(winner_rank=ranks[0], tally={})
    counts = tally(votes, ranks)
    if method == DIRECT_VOTE:
        best = max(counts.values())
        leaders = [rank for rank, n in counts.items() if n == best]
        if len(leaders) > 1:
            raise AwardMethodError(_("得票最多的候选人票数相同（%(ranks)s），请重新投票。"),
                                   ranks="、".join(str(rank) for rank in leaders))
        return Outcome(winner_rank=leaders[0], tally=counts)
    chosen = pick_finalists(counts, finalists)
    if seed is None:
        raise AwardMethodError(_("抽签需要随机种子。"))
    index = draw_lot(seed, chosen)
    return Outcome(winner_rank=chosen[index], tally=counts, finalists=chosen, lot_index=index)
