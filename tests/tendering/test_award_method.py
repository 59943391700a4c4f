"""The pure award-method module (tendering/award_method.py): R55 and 评定分离, by hand."""

import pytest

from tendering.award_method import AwardMethodError, Vote, check_method, decide, draw_lot, pick_finalists, tally

SEED = bytes(range(32))


def votes(*pairs):
    return [Vote(voter, rank) for voter, rank in pairs]


def test_state_funded_awards_the_first_candidate_and_refuses_other_methods():
    assert decide("first_candidate", state_funded=True, candidates=[2, 1, 3]).winner_rank == 1
    for method in ("direct_vote", "vote_then_lot"):
        with pytest.raises(AwardMethodError, match="R55"):
            check_method(method, state_funded=True)
    with pytest.raises(AwardMethodError, match="不投票"):
        decide("first_candidate", state_funded=True, candidates=[1, 2], votes=votes(("甲", 2)))
    with pytest.raises(AwardMethodError, match="无效"):
        check_method("auction", state_funded=False)


def test_direct_vote_takes_the_most_votes_and_a_tie_decides_nothing():
    outcome = decide("direct_vote", state_funded=False, candidates=[1, 2, 3], votes=votes(("甲", 2), ("乙", 2), ("丙", 1)))
    assert outcome.winner_rank == 2 and outcome.tally == {1: 1, 2: 2, 3: 0}
    with pytest.raises(AwardMethodError, match="重新投票"):
        decide("direct_vote", state_funded=False, candidates=[1, 2, 3], votes=votes(("甲", 1), ("乙", 2)))


@pytest.mark.parametrize("bad, message", [
    (votes(("甲", 1), ("甲", 2)), "不止一票"),
    (votes(("甲", 4)), "不存在"),
    (votes((" ", 1)), "投票人"),
    ([], "录入"),
])
def test_bad_votes_are_refused(bad, message):
    with pytest.raises(AwardMethodError, match=message):
        tally(bad, [1, 2, 3])


def test_finalists_include_ties_at_the_boundary_and_never_a_candidate_without_a_vote():
    assert pick_finalists({1: 3, 2: 1, 3: 1}, 2) == (1, 2, 3)
    assert pick_finalists({1: 3, 2: 2, 3: 0}, 2) == (1, 2)
    assert pick_finalists({1: 0, 2: 4, 3: 0}, 2) == (2,)


def test_the_lot_is_a_deterministic_function_of_the_seed_and_the_finalists():
    picks = {draw_lot(bytes([n]) * 32, [1, 2, 3]) for n in range(40)}
    assert picks == {0, 1, 2}
    assert draw_lot(SEED, [3, 1, 2]) == draw_lot(SEED, [1, 2, 3])
    outcome = decide("vote_then_lot", state_funded=False, candidates=[1, 2, 3], votes=votes(("甲", 1), ("乙", 3), ("丙", 3), ("丁", 1)),
                     seed=SEED)
    assert outcome.finalists == (1, 3)
    assert outcome.winner_rank == (1, 3)[draw_lot(SEED, (1, 3))] and outcome.lot_index == draw_lot(SEED, (1, 3))
    with pytest.raises(AwardMethodError, match="种子"):
        decide("vote_then_lot", state_funded=False, candidates=[1, 2], votes=votes(("甲", 1)))
