"""The replicated session at the partner, read-only: centre staff and regulators watch its events
(page and JSON poll) and check the report's hashes and signatures ("same record"); bidders and
experts cannot see it; nobody can write through it. The host's list shows what the partner
acknowledged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crossregion.models import ReplicatedAnswer, ReplicatedSession
from tests import factories
from tests.crossregion.replication_helpers import Mixed, deliver_all, media, transport  # noqa: F401
from tests.evaluation.world import clock  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def replicated(clock, transport):  # noqa: F811
    mixed = Mixed(clock)
    deliver_all()
    mixed.report = mixed.finalise()
    deliver_all()
    mixed.replica = ReplicatedSession.objects.get()
    return mixed


def login(client, user):
    client.force_login(user)
    return client


def test_a_regulator_sees_the_session_the_report_and_the_same_record_check(client, replicated):
    replica, report = replicated.replica, replicated.report
    login(client, replicated.world.regulator)
    page = client.get(reverse("crossregion_replication:detail", args=[replica.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert report.statement_sha256 in html and 'id="same-record"' in html and "badge-ok\" id=\"same-record\"" in html
    assert html.count('data-seq="') == replica.events.count()
    assert "js/crossregion/replicated.js" in html
    listing = client.get(reverse("crossregion_replication:list")).content.decode()
    assert reverse("crossregion_replication:detail", args=[replica.pk]) in listing
    pdf = client.get(reverse("crossregion_replication:report_pdf", args=[replica.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_the_events_endpoint_gives_the_events_after_a_number(client, replicated):
    replica = replicated.replica
    login(client, replicated.world.centre)
    url = reverse("crossregion_replication:events", args=[replica.pk])
    data = client.get(url, {"after": replica.last_event_seq - 2}).json()
    assert [e["seq"] for e in data["events"]] == [replica.last_event_seq - 1, replica.last_event_seq]
    assert data["last_batch_seq"] == replica.last_batch_seq and data["report_sha256"] == replicated.report.statement_sha256
    assert client.get(url, {"after": "x"}).json()["events"][0]["seq"] == 1


def test_a_forged_signature_stored_here_shows_as_invalid(client, replicated):
    """The page verifies the signatures again when it renders (not only when the batch arrived)."""
    answer = ReplicatedAnswer.objects.filter(session=replicated.replica, response="signed").order_by("seat").first()
    other = ReplicatedAnswer.objects.filter(session=replicated.replica, response="signed").exclude(pk=answer.pk).first()
    answer.signature = other.signature
    answer.save()
    login(client, replicated.world.regulator)
    html = client.get(reverse("crossregion_replication:detail", args=[replicated.replica.pk])).content.decode()
    assert "badge-warn\" id=\"same-record\"" in html


@pytest.mark.parametrize("who", ["bidder", "expert", "tenderer"])
def test_bidders_and_experts_cannot_see_it(client, replicated, who):
    if who == "expert":
        user = replicated.rep.members[3].user  # an away expert of this very session
    elif who == "bidder":
        user = replicated.world.bidders[0].user
    else:
        user = replicated.world.tenderer
    login(client, user)
    pk = replicated.replica.pk
    for url in (reverse("crossregion_replication:list"), reverse("crossregion_replication:detail", args=[pk]),
                reverse("crossregion_replication:events", args=[pk]), reverse("crossregion_replication:report_pdf", args=[pk])):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client, replicated):
    response = client.get(reverse("crossregion_replication:detail", args=[replicated.replica.pk]))
    assert response.status_code == 302


def test_nothing_can_be_written_through_the_pages(client, replicated):
    login(client, replicated.world.regulator)
    pk = replicated.replica.pk
    before = (replicated.replica.last_batch_seq, replicated.replica.events.count())
    for url in (reverse("crossregion_replication:list"), reverse("crossregion_replication:detail", args=[pk]),
                reverse("crossregion_replication:events", args=[pk]), reverse("crossregion_replication:report_pdf", args=[pk])):
        assert client.post(url, {"seq": 1}).status_code == 405, url
    replicated.replica.refresh_from_db()
    assert (replicated.replica.last_batch_seq, replicated.replica.events.count()) == before


def test_the_host_list_shows_the_partner_acknowledged_the_same_report_hash(client, replicated):
    login(client, factories.centre_reviewer())
    html = client.get(reverse("crossregion_replication:list")).content.decode()
    assert 'id="outgoing"' in html and replicated.report.statement_sha256[:17] in html
    assert "一致" in html
