"""A whole open tender walked through the pages with the test client: the tenderer creates and
uploads, the centre approves, the tenderer publishes, a bidder registers and downloads, an
amendment moves the deadline and the bidder acknowledges it. Then an invited tender."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tendering.models import (
    BidderRegistration,
    ClarificationAck,
    DocumentDownload,
    InvitationStatus,
    Project,
    Tender,
    TenderDocument,
    TenderState,
)

from .test_pages_world import local, messages_of, tender_post_data, world  # noqa: F401


def test_open_tender_from_creation_to_acknowledged_amendment(client, world, clock):
    tenderer, centre, bidder = world.tenderer, world.centre, world.bidder

    # The tenderer creates the project, then the tender with two lots priced in yuan.
    client.force_login(tenderer)
    choice = client.get(reverse("tendering:tender_new"))
    assert "第一步：选择工程项目" in choice.content.decode()
    response = client.post(reverse("tendering:project_new"), {"code": "DG-2026-SL-01", "name": "东江引水泵站改造工程", "location": "东莞市石龙镇", "investment_fen": "50000000"})
    project = Project.objects.get(code="DG-2026-SL-01")
    assert project.tenderer == tenderer.organisation and project.investment_fen == 5_000_000_000
    form_url = response.url
    assert form_url == f"{reverse('tendering:tender_new')}?project={project.pk}"
    form_page = client.get(form_url).content.decode()
    assert "price_formula" in form_page  # scheme prefilled from tendering.scheme.default_scheme()
    assert "沙箱加速倍数" not in form_page  # no accelerator outside sandbox mode

    response = client.post(form_url, tender_post_data(clock))
    tender = Tender.objects.get(project=project)
    assert response.url == reverse("tendering:manage", args=[tender.pk])
    assert tender.state == TenderState.DRAFT and tender.code.startswith("441900-2026-")
    assert [(lot.number, lot.maximum_price_fen) for lot in tender.lots.all()] == [(1, 1_234_567_890), (2, 300_000_000)]

    # Upload the documents; the same title again is version 2.
    documents_url = reverse("tendering:documents", args=[tender.pk])
    for content in (b"%PDF-1.4 first", b"%PDF-1.4 second"):
        response = client.post(documents_url, {"title": "招标文件", "uploaded_file": SimpleUploadedFile("zb.pdf", content)})
        assert response.status_code == 302
    assert list(tender.documents.order_by("version").values_list("version", flat=True)) == [1, 2]
    manage = client.get(reverse("tendering:manage", args=[tender.pk]), follow=True).content.decode()
    assert TenderDocument.objects.get(tender=tender, version=2).sha256 in manage

    # Submit, the centre approves, the tenderer publishes.
    client.post(reverse("tendering:submit", args=[tender.pk]))
    tender.refresh_from_db()
    assert tender.state == TenderState.SUBMITTED
    client.force_login(centre)
    assert tender.title in client.get(reverse("tendering:review_queue")).content.decode()
    client.post(reverse("tendering:approve", args=[tender.pk]))
    tender.refresh_from_db()
    assert tender.state == TenderState.APPROVED
    client.force_login(tenderer)
    response = client.post(reverse("tendering:publish", args=[tender.pk]), follow=True)
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED
    assert any("招标公告已发布" in message for message in messages_of(response))
    assert tender.title in client.get(reverse("tendering:announcements")).content.decode()

    # A bidder obtains the documents and downloads the current version; the download is recorded.
    client.force_login(bidder)
    detail_url = reverse("tendering:detail", args=[tender.pk])
    assert "获取招标文件" in client.get(detail_url).content.decode()
    client.post(reverse("tendering:register", args=[tender.pk]))
    assert BidderRegistration.objects.filter(tender=tender, organisation=bidder.organisation).exists()
    current = TenderDocument.objects.get(tender=tender, version=2)
    response = client.post(reverse("tendering:download", args=[current.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 second"
    assert "attachment" in response["Content-Disposition"]
    download = DocumentDownload.objects.get(document=current)
    assert download.organisation == bidder.organisation and download.ip == "127.0.0.1"

    # Ten days before the deadline an amendment that affects bids pushes it out to 15 days (L23/R21).
    clock.set(tender.bid_deadline - timedelta(days=10))
    client.force_login(tenderer)
    response = client.post(reverse("tendering:clarification_new", args=[tender.pk]), {
        "kind": "amendment", "title": "工程量清单修改", "body": "二标段水泵数量由4台改为6台。", "affects_bids": "on", "new_deadline": ""}, follow=True)
    previous_deadline = tender.bid_deadline
    tender.refresh_from_db()
    assert tender.bid_deadline > previous_deadline
    assert any(timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M") in message for message in messages_of(response))
    clarification = tender.clarifications.get()

    # The bidder sees it and acknowledges it; before the opening the tenderer cannot see who did (L22).
    client.force_login(bidder)
    page = client.get(detail_url).content.decode()
    assert "修改 1：工程量清单修改" in page and "确认收到" in page
    client.post(reverse("tendering:acknowledge", args=[clarification.pk]))
    assert ClarificationAck.objects.filter(clarification=clarification, organisation=bidder.organisation).exists()
    assert "已确认收到" in client.get(detail_url).content.decode()
    client.force_login(tenderer)
    manage = client.get(reverse("tendering:manage", args=[tender.pk])).content.decode()
    assert bidder.organisation.name not in manage  # no acknowledgement, registration or download list
    assert "开标后在此显示" in manage


def test_invited_tender_invitees_accept_and_register(client, world, clock):
    client.force_login(world.tenderer)
    project = Project.objects.create(code="DG-2026-YQ", name="水闸维修工程", tenderer=world.tenderer.organisation)
    data = tender_post_data(clock, procedure="invited", title="水闸维修邀请招标",
                            invitation_reply_deadline=local(clock() + timedelta(days=7)),
                            **{"lots-TOTAL_FORMS": "1"})
    client.post(f"{reverse('tendering:tender_new')}?project={project.pk}", data)
    tender = Tender.objects.get(title="水闸维修邀请招标")

    # Filter the verified bidders by qualification; the unverified one is never offered.
    invitees_url = reverse("tendering:invitees", args=[tender.pk])
    page = client.get(invitees_url, {"qualification": "水利水电"}).content.decode()
    assert world.bidder.organisation.name in page and world.third_bidder.organisation.name in page
    assert world.other_bidder.organisation.name not in page and world.unverified_bidder.organisation.name not in page

    # Fewer than three is refused with a clear message; three are recorded.
    two = [world.bidder.organisation.pk, world.third_bidder.organisation.pk]
    response = client.post(invitees_url, {"organisations": two, "qualification": "水利水电"})
    assert "三个以上投标人" in response.content.decode()
    assert not tender.invitations.exists()
    client.post(invitees_url, {"organisations": [*two, world.other_bidder.organisation.pk]})
    assert tender.invitations.count() == 3

    client.post(reverse("tendering:documents", args=[tender.pk]), {"title": "招标文件", "uploaded_file": SimpleUploadedFile("zb.pdf", b"%PDF")})
    client.post(reverse("tendering:submit", args=[tender.pk]))
    client.force_login(world.centre)
    client.post(reverse("tendering:approve", args=[tender.pk]))
    client.force_login(world.tenderer)
    client.post(reverse("tendering:publish", args=[tender.pk]))
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED

    # The invitee accepts on the announcement page and may then obtain the documents.
    invitation = tender.invitations.get(organisation=world.bidder.organisation)
    client.force_login(world.bidder)
    assert "接受邀请" in client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    client.post(reverse("tendering:reply_invitation", args=[invitation.pk]), {"accept": "1"})
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    client.post(reverse("tendering:register", args=[tender.pk]))
    assert tender.registrations.filter(organisation=world.bidder.organisation).exists()

    # Someone else's invitation cannot be answered.
    other = tender.invitations.get(organisation=world.third_bidder.organisation)
    assert client.post(reverse("tendering:reply_invitation", args=[other.pk]), {"accept": "0"}).status_code == 403
    other.refresh_from_db()
    assert other.status == InvitationStatus.SENT


def test_sandbox_shows_the_accelerator_and_runs_a_short_timeline(client, world, clock, sandbox):
    client.force_login(world.tenderer)
    project = Project.objects.create(code="DG-2026-SB", name="沙箱演示工程", tenderer=world.tenderer.organisation)
    url = f"{reverse('tendering:tender_new')}?project={project.pk}"
    assert "沙箱加速倍数" in client.get(url).content.decode()
    now = clock()
    client.post(url, tender_post_data(clock, accelerator="1440", documents_offer_end=local(now + timedelta(minutes=10)),
                                      bid_deadline=local(now + timedelta(minutes=30)), **{"lots-TOTAL_FORMS": "1"}))
    tender = Tender.objects.get(project=project)
    assert tender.accelerator == 1440
    client.post(reverse("tendering:documents", args=[tender.pk]), {"title": "招标文件", "uploaded_file": SimpleUploadedFile("zb.pdf", b"%PDF")})
    client.post(reverse("tendering:submit", args=[tender.pk]))
    client.force_login(world.centre)
    client.post(reverse("tendering:approve", args=[tender.pk]))
    client.force_login(world.tenderer)
    client.post(reverse("tendering:publish", args=[tender.pk]))
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED  # 20 days / 1440 = 20 minutes
    assert "×1440" in client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
