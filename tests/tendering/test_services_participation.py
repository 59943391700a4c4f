"""Taking part in a published tender: obtaining the documents, downloads, clarifications and
amendments (L23/R21), questions, objections (R22), invitations. Deadlines are enforced by server
time at request time, whether or not the chronograph has run."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from config.errors import DeadlineError, DomainError, IllegalTransition, NotAllowed
from tendering import periods, selectors, services
from tendering.models import BidderRegistration, Clarification, InvitationStatus, LotState, Objection, Question
from tendering.periods import SHANGHAI
from tests import factories
from tests.factories import actor
from tests.tendering.test_secrecy_before_opening import open_tender

pytestmark = pytest.mark.usefixtures("clock")


def lot_states(tender):
    return list(tender.lots.order_by("number").values_list("state", flat=True))


# Registration (获取招标文件) and downloads ------------------------------------------------------

def test_verified_bidder_obtains_documents_during_the_offer_period(published, bidder, clock):
    registration = services.bidder_register(by=actor(bidder, ip="198.51.100.9"), tender=published)
    assert (registration.organisation, registration.registered_at, registration.ip) == (bidder.organisation, clock(), "198.51.100.9")
    again = services.bidder_register(by=actor(bidder), tender=published)
    assert again.pk == registration.pk
    assert AuditEvent.objects.filter(action="tender.register").count() == 1


def test_registration_after_the_offer_period_refused_without_any_chronograph(published, bidder, clock):
    clock.set(published.documents_offer_end)
    with pytest.raises(DeadlineError):
        services.bidder_register(by=actor(bidder), tender=published)
    assert not BidderRegistration.objects.exists()


@pytest.mark.parametrize(("kind", "status"), [("bidder", "pending"), ("bidder", "suspended"), ("tenderer", "approved"), ("agency", "approved")])
def test_only_acting_bidders_register(published, kind, status):
    with pytest.raises(PermissionDenied):
        services.bidder_register(by=actor(factories.person(kind, status=status)), tender=published)
    assert not BidderRegistration.objects.exists()


def test_a_colleague_of_a_suspended_bidder_cannot_act_either(published, centre):
    organisation = factories.make_org("bidder")
    colleague = factories.make_user(organisation)
    from accounts import services as accounts_services

    accounts_services.organisation_suspend(by=actor(centre), organisation=organisation, reason="违规")
    colleague.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.bidder_register(by=actor(colleague), tender=published)


def test_no_registration_before_publication(owner, bidder):
    tender = factories.make_tender(owner, state="approved")
    with pytest.raises(IllegalTransition):
        services.bidder_register(by=actor(bidder), tender=tender)


def test_download_records_who_when_and_where(owner, bidder, clock):
    tender = factories.make_tender(owner)
    document = factories.upload(owner, tender)
    for step in ("submit", "approve", "publish"):
        by = factories.centre_reviewer() if step == "approve" else owner
        getattr(services, f"tender_{step}")(by=actor(by), tender=tender)
    with pytest.raises(PermissionDenied):
        services.document_download(by=actor(bidder), document=document)  # not registered yet
    factories.register_bidder(tender, bidder)
    download = services.document_download(by=actor(bidder, ip="198.51.100.20"), document=document)
    assert (download.user, download.organisation, download.ip, download.downloaded_at) == (bidder, bidder.organisation, "198.51.100.20", clock())
    services.document_download(by=actor(owner), document=document)
    assert AuditEvent.objects.filter(action="document.download").count() == 2


def test_who_registered_is_confidential(published, owner, centre, regulator, clock):
    first, second = factories.register_bidder(published), factories.register_bidder(published)
    # Before the opening not even the insiders see them (L22, E21); afterwards they see them all.
    for insider in (owner, centre, regulator):
        assert not selectors.registrations_visible_to(insider, published).exists()
    open_tender(published, clock)
    for insider in (owner, centre, regulator):
        assert selectors.registrations_visible_to(insider, published).count() == 2
    assert [r.organisation for r in selectors.registrations_visible_to(first, published)] == [first.organisation]
    assert not selectors.registrations_visible_to(factories.person("tenderer"), published).exists()
    assert not selectors.registrations_visible_to(factories.person("bidder"), published).exists()
    from django.contrib.auth.models import AnonymousUser

    assert not selectors.registrations_visible_to(AnonymousUser(), published).exists()
    assert second


# Invited tenders --------------------------------------------------------------------------------

@pytest.fixture
def invited(clock, owner):
    return factories.make_tender(owner, procedure="invited", state="published")


def invitee(tender, index=0):
    return factories.admin_of(tender.invitations.order_by("pk")[index].organisation)


def test_only_accepted_invitees_obtain_documents(invited, bidder):
    with pytest.raises(NotAllowed):
        services.bidder_register(by=actor(bidder), tender=invited)
    first, second = invitee(invited, 0), invitee(invited, 1)
    with pytest.raises(NotAllowed):
        services.bidder_register(by=actor(first), tender=invited)  # has not replied yet
    services.invitation_reply(by=actor(first), invitation=invited.invitations.get(organisation=first.organisation), accept=True)
    services.invitation_reply(by=actor(second), invitation=invited.invitations.get(organisation=second.organisation), accept=False)
    services.bidder_register(by=actor(first), tender=invited)
    with pytest.raises(NotAllowed):
        services.bidder_register(by=actor(second), tender=invited)


def test_invitation_reply_rules(invited, clock):
    first = invitee(invited)
    invitation = invited.invitations.get(organisation=first.organisation)
    with pytest.raises(PermissionDenied):
        services.invitation_reply(by=actor(invitee(invited, 1)), invitation=invitation, accept=True)
    clock.set(invited.invitation_reply_deadline + timedelta(seconds=1))
    with pytest.raises(DeadlineError):
        services.invitation_reply(by=actor(first), invitation=invitation, accept=True)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


def test_invitation_reply_only_once(invited):
    first = invitee(invited)
    invitation = invited.invitations.get(organisation=first.organisation)
    services.invitation_reply(by=actor(first), invitation=invitation, accept=True)
    with pytest.raises(IllegalTransition):
        services.invitation_reply(by=actor(first), invitation=invitation, accept=False)


# Clarifications and amendments (L23, R21) ---------------------------------------------------------

def test_amendment_with_fewer_than_fifteen_days_left_extends_the_deadline(published, owner, clock):
    deadline = published.bid_deadline  # 2026-04-01 09:00
    clock.set(deadline - timedelta(days=12))  # 2026-03-20 09:00
    amendment = services.clarification_issue(by=actor(owner), tender=published, kind="amendment", title="工程量清单修改", body="……")
    published.refresh_from_db()
    # 15 days after issue is Saturday 04-04, then the Qingming holiday: Tuesday 04-07.
    assert published.bid_deadline.astimezone(SHANGHAI).isoformat() == "2026-04-07T09:00:00+08:00"
    assert (amendment.number, amendment.previous_deadline, amendment.new_deadline) == (1, deadline, published.bid_deadline)
    event = AuditEvent.objects.get(action="clarification.issue")
    assert event.actor_id == owner.pk and '"extended":true' in event.body


def test_clarification_not_affecting_bids_or_leaving_time_keeps_the_deadline(published, owner, clock):
    deadline = published.bid_deadline
    services.clarification_issue(by=actor(owner), tender=published, kind="clarification", title="澄清1", body="……")
    clock.set(deadline - timedelta(days=5))
    second = services.clarification_issue(by=actor(owner), tender=published, kind="clarification", title="澄清2", body="……", affects_bids=False)
    published.refresh_from_db()
    assert published.bid_deadline == deadline and second.number == 2


def test_explicit_new_deadline_leaving_fewer_than_fifteen_days_refused(published, owner, clock):
    deadline = published.bid_deadline
    clock.set(deadline - timedelta(days=12))
    with pytest.raises(DeadlineError, match="15日"):
        services.clarification_issue(by=actor(owner), tender=published, kind="amendment", title="修改", body="……", new_deadline=deadline + timedelta(days=2))
    published.refresh_from_db()
    assert published.bid_deadline == deadline and not Clarification.objects.exists()
    ok = services.clarification_issue(by=actor(owner), tender=published, kind="amendment", title="修改", body="……", new_deadline=deadline + timedelta(days=20))
    assert ok.new_deadline == deadline + timedelta(days=20)


def test_new_deadline_cannot_be_earlier(published, owner):
    with pytest.raises(DeadlineError):
        services.clarification_issue(by=actor(owner), tender=published, kind="amendment", title="修改", body="……", new_deadline=published.bid_deadline - timedelta(days=1))


def test_clarification_only_by_owner_and_before_the_deadline(published, owner, bidder, clock):
    with pytest.raises(PermissionDenied):
        services.clarification_issue(by=actor(bidder), tender=published, kind="clarification", title="t", body="b")
    clock.set(published.bid_deadline)
    with pytest.raises(DeadlineError):
        services.clarification_issue(by=actor(owner), tender=published, kind="clarification", title="t", body="b")
    with pytest.raises(DomainError):
        services.clarification_issue(by=actor(owner), tender=published, kind="other", title="t", body="b")


def test_every_registered_bidder_must_acknowledge(published, owner):
    first, second = factories.register_bidder(published), factories.register_bidder(published)
    clarification = services.clarification_issue(by=actor(owner), tender=published, kind="clarification", title="t", body="b")
    assert set(selectors.unacknowledged_organisations(clarification)) == {first.organisation, second.organisation}
    ack = services.clarification_acknowledge(by=actor(first), clarification=clarification)
    assert services.clarification_acknowledge(by=actor(first), clarification=clarification).pk == ack.pk
    assert list(selectors.unacknowledged_organisations(clarification)) == [second.organisation]
    with pytest.raises(NotAllowed):
        services.clarification_acknowledge(by=actor(factories.person("bidder")), clarification=clarification)


# Questions ------------------------------------------------------------------------------------------

def test_questions_are_answered_to_all_without_naming_the_asker(published, owner):
    asker = factories.register_bidder(published)
    question = services.question_ask(by=actor(asker), tender=published, text="工期能否顺延？")
    assert not selectors.answered_questions(published).exists()
    with pytest.raises(PermissionDenied):
        services.question_answer(by=actor(factories.person("tenderer")), question=question, answer="否")
    services.question_answer(by=actor(owner), question=question, answer="不能顺延。")
    (public,) = selectors.answered_questions(published)
    assert public["text"] == "工期能否顺延？" and public["answer"] == "不能顺延。"
    assert not {"organisation", "organisation_id", "asked_by", "asked_by_id"} & set(public)
    with pytest.raises(IllegalTransition):
        services.question_answer(by=actor(owner), question=question, answer="again")


def test_only_registered_bidders_ask(published):
    with pytest.raises(NotAllowed):
        services.question_ask(by=actor(factories.person("bidder")), tender=published, text="?")
    assert not Question.objects.exists()


# Objections (R22) ------------------------------------------------------------------------------------

def test_objection_suspends_every_lot_until_every_objection_is_answered(published, owner, clock):
    first, second = factories.register_bidder(published), factories.register_bidder(published)
    one = services.objection_raise(by=actor(first), tender=published, text="资格条件排斥潜在投标人")
    assert one.answer_due == periods.objection_answer_due(clock())
    assert lot_states(published) == [LotState.SUSPENDED, LotState.SUSPENDED]
    assert set(published.lots.values_list("suspended_from", flat=True)) == {LotState.PUBLISHED}
    two = services.objection_raise(by=actor(second), tender=published, text="评分标准不明确")
    with pytest.raises(DomainError):
        services.bidder_register(by=actor(factories.person("bidder")), tender=published)  # activities suspended
    services.objection_answer(by=actor(owner), objection=one, answer="已修改资格条件。")
    assert lot_states(published) == [LotState.SUSPENDED, LotState.SUSPENDED]
    services.objection_answer(by=actor(owner), objection=two, answer="见澄清1。")
    assert lot_states(published) == [LotState.PUBLISHED, LotState.PUBLISHED]
    assert AuditEvent.objects.filter(action="lot.resume").count() == 2


def test_objection_after_the_cutoff_refused(published, clock):
    objector = factories.register_bidder(published)
    clock.set(published.bid_deadline - timedelta(days=10) + timedelta(minutes=1))
    with pytest.raises(DeadlineError, match="10日前"):
        services.objection_raise(by=actor(objector), tender=published, text="太晚了")
    assert not Objection.objects.exists()
    assert lot_states(published) == [LotState.PUBLISHED, LotState.PUBLISHED]


def test_objection_exactly_at_the_cutoff_accepted(published, clock):
    objector = factories.register_bidder(published)
    clock.set(published.bid_deadline - timedelta(days=10))
    objection = services.objection_raise(by=actor(objector), tender=published, text="刚好")
    assert Objection.objects.get().pk == objection.pk and objection.raised_at == clock()
    assert lot_states(published) == [LotState.SUSPENDED, LotState.SUSPENDED]


@pytest.mark.parametrize("who", ["unregistered", "owner", "tenderer"])
def test_only_registered_bidders_object(published, owner, who):
    user = {"unregistered": factories.person("bidder"), "owner": owner, "tenderer": factories.person("tenderer")}[who]
    with pytest.raises((PermissionDenied, NotAllowed)):
        services.objection_raise(by=actor(user), tender=published, text="x")
    assert not Objection.objects.exists()


def test_objections_are_visible_to_the_owner_who_answers_and_their_author_only(published, owner, centre, regulator):
    first, second = factories.register_bidder(published), factories.register_bidder(published)
    services.objection_raise(by=actor(first), tender=published, text="x")
    assert selectors.objections_visible_to(owner, published).count() == 1
    assert selectors.objections_visible_to(centre, published).count() == 0  # until the opening
    assert selectors.objections_visible_to(regulator, published).count() == 0
    assert selectors.objections_visible_to(first, published).count() == 1
    assert selectors.objections_visible_to(second, published).count() == 0


def test_objection_answered_only_by_owner_and_once(published, owner):
    objector = factories.register_bidder(published)
    objection = services.objection_raise(by=actor(objector), tender=published, text="x")
    with pytest.raises(PermissionDenied):
        services.objection_answer(by=actor(objector), objection=objection, answer="自答")
    with pytest.raises(DomainError):
        services.objection_answer(by=actor(owner), objection=objection, answer=" ")
    services.objection_answer(by=actor(owner), objection=objection, answer="答复")
    with pytest.raises(IllegalTransition):
        services.objection_answer(by=actor(owner), objection=objection, answer="再答")


def test_each_bidder_sees_which_clarifications_it_has_not_acknowledged(published, owner):
    reader = factories.register_bidder(published)
    first = services.clarification_issue(by=actor(owner), tender=published, kind="clarification", title="1", body="b")
    second = services.clarification_issue(by=actor(owner), tender=published, kind="clarification", title="2", body="b")
    services.clarification_acknowledge(by=actor(reader), clarification=first)
    assert list(selectors.clarifications_unacknowledged_by(reader.organisation, published)) == [second]
