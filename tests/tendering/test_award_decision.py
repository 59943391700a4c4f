"""The award (R55, 评定分离), the result announcement with the award notice and the notices to the
others (L45), and the contract within 30 days of the award notice (L46)."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Notification
from accounts.permissions import can
from audit.models import AuditEvent
from config.errors import DeadlineError, DomainError, IllegalTransition
from tendering import award_method, chronograph, periods, selectors_award, services
from tendering.models import AwardDecision, AwardMethod, LotState, NoticeKind, NoticeState
from tests import factories
from tests.factories import actor
from tests.tendering.award_world import AwardWorld, font_embedded, media, payload, pdf_text, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def committee(*ranks):
    return [{"voter": f"委员{n}", "candidate_rank": rank} for n, rank in enumerate(ranks, 1)]


def test_no_award_before_the_publicity_ends_nor_with_an_objection_open(world, clock):
    with pytest.raises(IllegalTransition):
        world.decide()  # no publicity yet
    world.publicize()
    with pytest.raises(DeadlineError, match="公示期满"):
        world.decide()
    objection = services.publicity_objection_raise(by=actor(world.bidders[1].user), lot=world.lot, text="异议")
    world.after_publicity()
    with pytest.raises(IllegalTransition):
        world.decide()
    services.publicity_objection_answer(by=actor(world.host), objection=objection, answer="答复")
    decision = world.decide()
    assert decision.winner == world.candidate(1).organisation


def test_state_funded_awards_the_first_candidate_only(world):
    world.publicize()
    world.after_publicity()
    with pytest.raises(DomainError, match="不投票"):
        world.decide(votes=committee(2, 2, 2))
    for user in (world.bidders[0].user, world.centre, world.regulator):
        with pytest.raises(PermissionDenied):
            services.award_decide(by=actor(user), lot=world.lot)
    decision = world.decide()
    assert decision.method == AwardMethod.FIRST_CANDIDATE and decision.state_funded
    assert decision.winner_bid == world.candidate(1).bid and decision.price_fen == world.candidate(1).price_fen
    with pytest.raises(IllegalTransition, match="已经定标"):
        world.decide()


def test_a_state_funded_tender_cannot_be_set_to_another_method(db, clock):
    owner = factories.person("tenderer")
    with pytest.raises(DomainError, match="R55"):
        factories.make_tender(owner, state_funded=True, award_method=AwardMethod.DIRECT_VOTE)
    tender = factories.make_tender(owner, state_funded=False, award_method=AwardMethod.VOTE_THEN_LOT)
    with pytest.raises(DomainError, match="R55"):
        services.tender_update(by=actor(owner), tender=tender, state_funded=True)
    services.tender_update(by=actor(owner), tender=tender, state_funded=True, award_method=AwardMethod.FIRST_CANDIDATE)
    tender.refresh_from_db()
    assert tender.state_funded and tender.award_method == AwardMethod.FIRST_CANDIDATE


def test_a_method_set_against_the_rule_is_refused_at_the_award(db, clock, media):
    world = AwardWorld(clock, state_funded=True, award_method=AwardMethod.DIRECT_VOTE)  # written past the services
    world.publicize()
    world.after_publicity()
    with pytest.raises(DomainError, match="R55"):
        world.decide(votes=committee(2, 2, 1))
    assert not AwardDecision.objects.filter(lot=world.lot).exists()


def test_direct_vote_among_the_candidates_is_recorded(db, clock, media):
    world = AwardWorld(clock, state_funded=False, award_method=AwardMethod.DIRECT_VOTE)
    world.publicize()
    world.after_publicity()
    with pytest.raises(DomainError, match="重新投票"):
        world.decide(votes=committee(1, 2))
    with pytest.raises(DomainError, match="不止一票"):
        world.decide(votes=[{"voter": "甲", "candidate_rank": 1}, {"voter": "甲", "candidate_rank": 2}])
    with pytest.raises(DomainError, match="不存在"):
        world.decide(votes=committee(4))  # the fourth-ranked bid is no candidate
    decision = world.decide(votes=committee(2, 2, 1, 3, 2))
    assert decision.winner == world.candidate(2).organisation
    assert decision.tally == {"1": 1, "2": 3, "3": 1} and len(decision.votes) == 5
    event = AuditEvent.objects.get(action="award.decide")
    assert payload(event)["candidate_rank"] == 2 and payload(event)["tally"] == decision.tally


def test_vote_then_lot_records_the_finalists_and_a_seed_that_redraws_the_winner(db, clock, media):
    world = AwardWorld(clock, state_funded=False, award_method=AwardMethod.VOTE_THEN_LOT)
    world.publicize()
    world.after_publicity()
    for bad in (0, 4, "2"):
        with pytest.raises(DomainError, match="进入抽签"):
            world.decide(votes=committee(1, 3, 3, 1, 2), finalists=bad)
    decision = world.decide(votes=committee(1, 3, 3, 1, 2), finalists=2)
    drawing = decision.lot_drawing
    assert drawing["finalists"] == [1, 3]
    seed = bytes.fromhex(drawing["seed_hex"])
    assert hashlib.sha256(seed).hexdigest() == drawing["seed_sha256"]
    rank = drawing["finalists"][award_method.draw_lot(seed, drawing["finalists"])]
    assert decision.winner == world.candidate(rank).organisation
    assert payload(AuditEvent.objects.get(action="award.decide"))["lot_drawing"]["seed_hex"] == drawing["seed_hex"]


def test_result_notices_wait_for_the_centre_then_go_to_the_winner_and_the_others(world, clock):
    world.publicize()
    world.after_publicity()
    with pytest.raises(IllegalTransition, match="尚未定标"):
        services.result_draft(by=actor(world.host), lot=world.lot)
    world.decide()
    head = services.result_draft(by=actor(world.host), lot=world.lot, award_body="请携带授权委托书。")
    bundle = list(head.bundled.order_by("pk"))
    assert [n.kind for n in bundle] == [NoticeKind.AWARD_NOTICE] + [NoticeKind.NON_AWARD_NOTICE] * 3
    assert bundle[0].recipient == world.candidate(1).organisation
    assert {n.recipient_id for n in bundle[1:]} == {b.organisation.pk for b in world.bidders[1:]}
    assert world.lot.state == LotState.PUBLICIZING and all(n.state == NoticeState.PENDING and not n.pdf for n in [head, *bundle])
    assert not can(world.candidate(1).user, "tendering.view_notice", bundle[0])  # not out yet
    with pytest.raises(IllegalTransition, match="一并审核"):
        services.notice_approve(by=actor(world.centre), notice=bundle[0])
    with pytest.raises(PermissionDenied):
        services.notice_approve(by=actor(world.host), notice=head)

    clock.advance(hours=1)
    services.notice_approve(by=actor(world.centre), notice=head)
    lot = world.lot
    assert lot.state == LotState.AWARDED
    head.refresh_from_db()
    bundle = list(head.bundled.order_by("pk"))
    assert all(n.state == NoticeState.ISSUED and n.approved_by == world.centre and n.issued_at == clock() for n in [head, *bundle])
    winner, loser = world.candidate(1), world.candidate(2)
    award_text = pdf_text(bundle[0])
    assert "中标通知书" in award_text and winner.organisation.name in award_text and "请携带授权委托书。" in award_text
    assert font_embedded(bundle[0])
    other_text = pdf_text(bundle[1])
    assert "中标结果通知书" in other_text and bundle[1].recipient.name in other_text and "未中标" in other_text
    assert winner.organisation.name in pdf_text(head)
    # Each notice reaches its organisation; only the recipient (and insiders) may read it.
    assert Notification.objects.filter(organisation=winner.organisation, subject__contains="中标通知书").exists()
    assert Notification.objects.filter(organisation=loser.organisation, subject__contains="中标结果通知书").exists()
    assert can(winner.user, "tendering.view_notice", bundle[0]) and not can(loser.user, "tendering.view_notice", bundle[0])
    assert not can(None, "tendering.view_notice", bundle[0]) and can(None, "tendering.view_notice", head)
    assert can(world.regulator, "tendering.view_notice", bundle[1])
    contract = lot.contract_registration
    assert contract.award_notice == bundle[0] and contract.due_at == periods.period_end(clock(), 30)


def test_result_returned_with_its_notices_then_revised(world):
    world.publicize()
    world.after_publicity()
    world.decide()
    head = services.result_draft(by=actor(world.host), lot=world.lot)
    services.notice_return(by=actor(world.centre), notice=head, reason="中标价写错")
    assert set(head.bundled.values_list("state", flat=True)) == {NoticeState.RETURNED}
    with pytest.raises(IllegalTransition):
        services.result_draft(by=actor(world.host), lot=world.lot)
    services.notice_revise(by=actor(world.host), notice=head, body="已更正", award_body="附言")
    assert set(head.bundled.values_list("state", flat=True)) == {NoticeState.PENDING}
    assert head.bundled.get(kind=NoticeKind.AWARD_NOTICE).body == "附言"
    services.notice_approve(by=actor(world.centre), notice=head)
    assert world.lot.state == LotState.AWARDED


def test_contract_registered_within_30_days(world, clock):
    world.award()
    contract = world.lot.contract_registration
    issued = contract.award_notice.issued_at
    with pytest.raises(PermissionDenied):
        services.contract_register(by=actor(world.bidders[0].user), lot=world.lot, signed_at=issued, amount_fen=1)
    clock.advance(days=10)
    with pytest.raises(DomainError):
        services.contract_register(by=actor(world.host), lot=world.lot, signed_at=issued - timedelta(days=1), amount_fen=90_000_000)
    with pytest.raises(DomainError):
        services.contract_register(by=actor(world.host), lot=world.lot, signed_at=clock() + timedelta(hours=1), amount_fen=90_000_000)
    with pytest.raises(DomainError):
        services.contract_register(by=actor(world.host), lot=world.lot, signed_at=clock(), amount_fen=0)
    services.contract_register(by=actor(world.tenderer), lot=world.lot, signed_at=clock() - timedelta(days=1), amount_fen=90_000_000)
    assert world.lot.state == LotState.CONTRACTED
    assert payload(AuditEvent.objects.get(action="lot.contract"))["late"] is False
    with pytest.raises(IllegalTransition):
        services.contract_register(by=actor(world.host), lot=world.lot, signed_at=clock(), amount_fen=90_000_000)
    clock.advance(days=40)
    chronograph.tick()
    assert not AuditEvent.objects.filter(action="contract.overdue").exists()


def test_a_contract_not_registered_after_30_days_is_flagged_once(world, clock):
    world.award()
    contract = world.lot.contract_registration
    assert not selectors_award.overdue_contracts().exists()
    clock.set(contract.due_at - timedelta(minutes=1))
    chronograph.tick()
    assert not AuditEvent.objects.filter(action="contract.overdue").exists()
    clock.set(contract.due_at + timedelta(minutes=1))
    assert list(selectors_award.overdue_contracts()) == [contract]
    chronograph.tick()
    chronograph.tick()
    assert AuditEvent.objects.filter(action="contract.overdue").count() == 1
    contract.refresh_from_db()
    assert contract.overdue_flagged_at == clock()
    assert Notification.objects.filter(organisation=world.tender.agency, subject__contains="合同签订逾期").exists()
    # Registered late it is still recorded, as late.
    services.contract_register(by=actor(world.host), lot=world.lot, signed_at=clock(), amount_fen=90_000_000)
    assert payload(AuditEvent.objects.get(action="lot.contract"))["late"] is True
    assert not selectors_award.overdue_contracts().exists()


def test_sandbox_accelerates_the_contract_period(db, clock, media):
    world = AwardWorld(clock, accelerator=1440)
    world.award()
    contract = world.lot.contract_registration
    assert contract.due_at - contract.award_notice.issued_at == timedelta(minutes=30)


def test_illegal_transitions_are_refused_with_clear_errors(world):
    world.publicize()
    with pytest.raises(IllegalTransition, match="评标中的标段"):
        services.publicity_draft(by=actor(world.host), lot=world.lot)
    with pytest.raises(IllegalTransition, match="不能登记合同"):
        services.contract_register(by=actor(world.host), lot=world.lot, signed_at=world.clock(), amount_fen=1)
    world.after_publicity()
    world.decide()
    head = services.result_draft(by=actor(world.host), lot=world.lot)
    services.notice_approve(by=actor(world.centre), notice=head)
    with pytest.raises(IllegalTransition, match="不能审核"):
        services.notice_approve(by=actor(world.centre), notice=head)
    with pytest.raises(IllegalTransition, match="不能退回"):
        services.notice_return(by=actor(world.centre), notice=head, reason="late")
    with pytest.raises(IllegalTransition, match="不能起草中标结果公告"):
        services.result_draft(by=actor(world.host), lot=world.lot)
