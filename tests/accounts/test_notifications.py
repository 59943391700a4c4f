"""Platform notices: an amendment reaches every bidder that obtained the documents (R21) and no
one else; review decisions reach the organisation; each organisation reads only its own inbox."""

import pytest
from django.urls import reverse

from accounts.models import Notification
from audit.models import AuditEvent
from tendering import services
from tendering.models import TenderState
from tests.factories import actor, make_org, make_tender, person, register_bidder

pytestmark = pytest.mark.django_db


def latest(organisation) -> Notification:
    return Notification.objects.filter(organisation=organisation).order_by("-pk").first()


def _published_with_two_registered_bidders():
    owner = person("tenderer")
    tender = make_tender(owner, state=TenderState.PUBLISHED)
    return owner, tender, register_bidder(tender), register_bidder(tender)


def test_an_amendment_notifies_every_registered_bidder_and_nobody_else():
    owner, tender, first, second = _published_with_two_registered_bidders()
    outsider = person("bidder")
    amendment = services.clarification_issue(by=actor(owner), tender=tender, kind="amendment", title="工程量清单修改", body="第3章调整")
    for bidder in (first, second):
        notice = latest(bidder.organisation)
        assert "工程量清单修改" in notice.subject and "第3章调整" in notice.body
        assert notice.url == reverse("tendering:detail", args=[tender.pk])
    assert not Notification.objects.filter(organisation=outsider.organisation, subject__contains="工程量清单修改").exists()
    event = AuditEvent.objects.get(action="clarification.issue", object_id=str(amendment.pk))
    assert '"notified":[' in event.body


def test_an_amendment_that_moves_the_deadline_says_so():
    owner, tender, first, _ = _published_with_two_registered_bidders()
    from datetime import timedelta

    from django.utils import timezone

    # Late in the bidding period: the 15-day rule (L23, R21) postpones the deadline.
    tender.bid_deadline = timezone.now() + timedelta(days=10)
    tender.save(update_fields=["bid_deadline"])
    services.clarification_issue(by=actor(owner), tender=tender, kind="amendment", title="修改", body="……")
    tender.refresh_from_db()
    notice = latest(first.organisation)
    assert "投标截止时间变更为" in notice.body


def test_rejection_notifies_the_organisation_with_the_reason():
    from accounts import services as account_services
    from tests.factories import centre_reviewer

    pending = make_org("bidder", status="pending")
    account_services.organisation_reject(by=actor(centre_reviewer()), organisation=pending, reason="营业执照照片不清晰")
    notice = Notification.objects.get(organisation=pending)
    assert notice.body == "营业执照照片不清晰"


def test_inbox_shows_only_the_own_organisations_notices_and_opening_marks_read(client):
    owner, tender, first, second = _published_with_two_registered_bidders()
    services.clarification_issue(by=actor(owner), tender=tender, kind="clarification", title="澄清一", body="……")
    mine = latest(first.organisation)
    theirs = latest(second.organisation)

    client.force_login(first)
    page = client.get(reverse("accounts:inbox"))
    assert page.status_code == 200 and "澄清一" in page.content.decode()
    unread = Notification.objects.filter(organisation=first.organisation, read_at__isnull=True).count()
    assert client.get(reverse("tendering:announcements")).context["unread_notifications"] == unread

    # Another organisation's notice does not exist for this user.
    assert client.post(reverse("accounts:notification_open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    response = client.post(reverse("accounts:notification_open", args=[mine.pk]))
    assert response.status_code == 302 and response.url == mine.url
    mine.refresh_from_db()
    assert mine.read_at is not None and mine.read_by == first
    assert client.get(reverse("tendering:announcements")).context["unread_notifications"] == unread - 1
    assert AuditEvent.objects.filter(action="notification.read", object_id=str(mine.pk), actor_id=first.pk).exists()


def test_inbox_needs_sign_in_and_an_organisation(client):
    assert client.get(reverse("accounts:inbox")).status_code == 302
    client.force_login(make_expert())
    assert client.get(reverse("accounts:inbox")).status_code == 404


def make_expert():
    from accounts.models import User

    return User.objects.create_user(username="expert-notice", password="x", role="expert")

