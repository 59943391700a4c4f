"""终止: cancelling a tender or a lot, with a reason, from any state before award."""

import pytest
from django.core.exceptions import PermissionDenied

from config.errors import DomainError, IllegalTransition
from tendering import selectors, services
from tendering.models import Lot, LotState, TenderState
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.usefixtures("clock")


@pytest.mark.parametrize("state", ["draft", "submitted", "approved", "published"])
def test_owner_cancels_with_a_reason_from_any_state_before_award(owner, state):
    tender = factories.make_tender(owner, state=state, lots=2)
    services.tender_cancel(by=actor(owner), tender=tender, reason="项目取消")
    tender.refresh_from_db()
    assert (tender.state, tender.cancelled_reason) == (TenderState.CANCELLED, "项目取消")
    assert set(tender.lots.values_list("state", "state_reason")) == {(LotState.CANCELLED, "项目取消")}


def test_reason_required_and_nothing_changes(published, owner):
    with pytest.raises(DomainError):
        services.tender_cancel(by=actor(owner), tender=published, reason=" ")
    published.refresh_from_db()
    assert published.state == TenderState.PUBLISHED


def test_lots_already_failed_or_awarded_keep_their_state(owner):
    tender = factories.make_tender(owner, state="published", lots=3)
    Lot.objects.filter(tender=tender, number=1).update(state=LotState.FAILED)
    Lot.objects.filter(tender=tender, number=2).update(state=LotState.AWARDED)
    services.tender_cancel(by=actor(owner), tender=tender, reason="资金未落实")
    assert list(tender.lots.order_by("number").values_list("state", flat=True)) == [LotState.FAILED, LotState.AWARDED, LotState.CANCELLED]


def test_fully_awarded_tender_cannot_be_cancelled(owner):
    tender = factories.make_tender(owner, state="published")
    Lot.objects.filter(tender=tender).update(state=LotState.AWARDED)
    with pytest.raises(IllegalTransition):
        services.tender_cancel(by=actor(owner), tender=tender, reason="x")


def test_cancelled_twice_is_illegal(published, owner):
    services.tender_cancel(by=actor(owner), tender=published, reason="x")
    with pytest.raises(IllegalTransition):
        services.tender_cancel(by=actor(owner), tender=published, reason="y")


def test_who_may_cancel(published, centre):
    for user in (factories.person("bidder"), factories.person("tenderer"), factories.person("regulator")):
        with pytest.raises(PermissionDenied):
            services.tender_cancel(by=actor(user), tender=published, reason="x")
    services.tender_cancel(by=actor(centre), tender=published, reason="监督终止")


def test_cancelling_the_last_lot_cancels_the_tender(published, owner):
    first, second = published.lots.order_by("number")
    services.lot_cancel(by=actor(owner), lot=first, reason="需求变更")
    published.refresh_from_db()
    assert published.state == TenderState.PUBLISHED
    services.lot_cancel(by=actor(owner), lot=second, reason="需求变更")
    published.refresh_from_db()
    assert (published.state, published.cancelled_reason) == (TenderState.CANCELLED, "需求变更")


def test_cancelled_after_publication_stays_in_the_public_list(owner):
    published = factories.make_tender(owner, state="published", title="已发布后终止")
    draft = factories.make_tender(owner, title="草稿即终止")
    for tender in (published, draft):
        services.tender_cancel(by=actor(owner), tender=tender, reason="x")
    assert list(selectors.public_announcements()) == [published]
    assert list(selectors.public_announcements(state="cancelled", q="终止")) == [published]
    assert list(selectors.public_announcements(state="published")) == []
