"""`manage.py crossregion_pair` (the two-city demo's partnership at start-up), in one process: this
platform is Dongguan; Zhongshan is a simulated partner whose metadata we serve and whose inbox
answers the messages we post (verifying our signature). The real two-process run is
tests/test_run_cities.py."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit import platform_key
from audit.models import AuditEvent
from crossregion import protocol
from crossregion.models import Agreement, AgreementState, OutboundMessage, OutboundState, Partner
from crossregion.selectors import valid_agreement
from crossregion.services import agreements, outbox

from .conftest import OTHER_KEY, PARTNER, ZS_KEY, ZS_RAW

pytestmark = pytest.mark.django_db
ZS_URL = "http://127.0.0.1:8001"


def _metadata(public_raw=ZS_RAW, base_url=ZS_URL):
    return protocol.parse_metadata(protocol.build_metadata(region_code=PARTNER, region_name="中山", base_url=base_url, public_raw=public_raw))


class FakeZhongshan:
    """The partner's side of HTTP: its metadata, and an inbox that checks our signature and answers."""

    def __init__(self, monkeypatch):
        self.metadata = _metadata()
        self.posted: list[tuple[str, dict]] = []
        self.fetched: list[str] = []
        self.answer = (200, {"ok": True, "result": {"state": "proposed"}}, "")
        monkeypatch.setattr(agreements, "fetch_metadata", self.fetch)
        monkeypatch.setattr(outbox, "post", self.post)

    def fetch(self, base_url):
        self.fetched.append(base_url)
        return self.metadata

    def post(self, url, data):
        envelope, signature = protocol.parse_wire(data)
        protocol.verify_envelope(envelope, signature, platform_key.public_key_bytes())
        self.posted.append((url, envelope))
        status, body, error = self.answer
        return status, json.dumps(body).encode() if body is not None else b"", error


@pytest.fixture
def zhongshan(monkeypatch):
    return FakeZhongshan(monkeypatch)


@pytest.fixture
def by(sandbox, centre):
    return centre.username


def _pair(by, *args) -> str:
    out = io.StringIO()
    call_command("crossregion_pair", "--partner-url", ZS_URL, "--by", by, "--timeout", "2", *args, stdout=out)
    return out.getvalue()


def _state():
    return (list(Partner.objects.values_list("region_code", "base_url", "key_id")),
            list(Agreement.objects.values_list("uuid", "state", "own_signature", "partner_signature")),
            list(OutboundMessage.objects.values_list("type", "state")), AuditEvent.objects.count())


def _proposal_from_zhongshan(partner: Partner) -> dict:
    """What Zhongshan's agreement.propose carries: the document, signed by its key."""
    now = timezone.now()
    doc = protocol.build_agreement(
        parties=[{"region_code": "441900", "name": "东莞", "key_id": platform_key.platform_key_id()},
                 {"region_code": PARTNER, "name": "中山", "key_id": partner.key_id}],
        scope=list(protocol.SCOPES), valid_from=now - timedelta(minutes=1), valid_until=now + timedelta(days=30), text="协议正文",
    )
    return {"document": doc, "signature": protocol.sign_agreement(doc, ZS_KEY), "key_id": partner.key_id}


def test_refused_outside_sandbox_mode(settings, centre, zhongshan):
    settings.PLATFORM_SANDBOX = False
    with pytest.raises(CommandError, match="only runs on a sandbox platform"):
        _pair(centre.username, "--propose")
    assert not Partner.objects.exists() and not zhongshan.posted


def test_the_host_registers_the_partner_and_proposes_a_signed_agreement_once(by, zhongshan):
    output = _pair(by, "--propose")

    assert zhongshan.fetched == [ZS_URL]
    partner = Partner.objects.get()
    assert (partner.region_code, partner.base_url, partner.key_id) == (PARTNER, ZS_URL, protocol.key_id(ZS_RAW))
    assert partner.fingerprint in output
    agreement = Agreement.objects.get()
    assert agreement.proposed_by_us and agreement.state == AgreementState.PROPOSED
    assert sorted(agreement.scope) == sorted(protocol.SCOPES) and agreement.valid_until > timezone.now() + timedelta(days=300)
    protocol.verify_agreement(agreement.document, agreement.own_signature, platform_key.public_key_bytes())
    # Posted to Zhongshan's inbox at once, signed (the fake inbox verified it), and delivered.
    [(url, envelope)] = zhongshan.posted
    assert url == f"{ZS_URL}/crossregion/inbox/"
    assert (envelope["type"], envelope["to"], envelope["body"]["document"]) == ("agreement.propose", PARTNER, agreement.document)
    assert OutboundMessage.objects.get().state == OutboundState.DELIVERED
    assert {"crossregion.partner_add", "crossregion.agreement_draft", "crossregion.message_delivered"} <= set(
        AuditEvent.objects.values_list("action", flat=True))
    assert "awaiting 中山's countersignature" in output

    state = _state()
    again = _pair(by, "--propose")
    assert _state() == state and len(zhongshan.posted) == 1
    assert "awaiting" in again and "registered" not in again


def test_without_propose_only_the_partner_is_registered(by, zhongshan):
    output = _pair(by)
    assert Partner.objects.count() == 1 and not Agreement.objects.exists() and not zhongshan.posted
    assert "the host proposes it" in output


def test_the_partner_countersigns_a_received_proposal_once(by, zhongshan):
    _pair(by)
    partner = Partner.objects.get()
    agreements.agreement_received(partner=partner, body=_proposal_from_zhongshan(partner))

    output = _pair(by)

    agreement = Agreement.objects.get()
    assert agreement.state == AgreementState.ACTIVE and valid_agreement(partner) == agreement
    [(_, envelope)] = zhongshan.posted
    assert envelope["type"] == "agreement.accept" and envelope["body"]["signature"] == agreement.own_signature
    assert "in force" in output

    state = _state()
    assert "in force" in _pair(by, "--propose")  # in force: nothing drafted, nothing sent
    assert _state() == state and len(zhongshan.posted) == 1


def test_a_partner_refusing_the_proposal_is_an_error(by, zhongshan):
    zhongshan.answer = (401, {"ok": False, "code": "unknown_sender", "detail": "unknown sender 441900"}, "")
    with pytest.raises(CommandError, match="refused agreement.propose.*unknown_sender"):
        _pair(by, "--propose")
    assert OutboundMessage.objects.get().state == OutboundState.FAILED


def test_a_partner_not_answering_in_time_is_an_error_and_the_outbox_keeps_trying(by, zhongshan):
    zhongshan.answer = (None, None, "ConnectionRefusedError(111)")
    with pytest.raises(CommandError, match="did not take agreement.propose within 2 s.*Connection"):
        _pair(by, "--propose")
    message = OutboundMessage.objects.get()
    assert message.state == OutboundState.PENDING and message.attempts >= 1


def test_a_partner_whose_key_changed_is_refused_and_nothing_changes(by, zhongshan):
    _pair(by)
    state = _state()
    zhongshan.metadata = _metadata(public_raw=protocol.public_raw_of(OTHER_KEY))
    with pytest.raises(CommandError, match="now serves key"):
        _pair(by, "--propose")
    assert _state() == state and not zhongshan.posted


def test_a_partner_served_elsewhere_than_registered_is_refused(by, zhongshan):
    _pair(by)
    state = _state()
    with pytest.raises(CommandError, match="registered here at http://127.0.0.1:8001"):
        call_command("crossregion_pair", "--partner-url", "http://127.0.0.1:9001", "--by", by, stdout=io.StringIO())
    assert _state() == state


def test_acting_as_someone_who_is_not_centre_staff_is_refused(sandbox, regulator, zhongshan):
    with pytest.raises(CommandError, match="no active centre staff user"):
        _pair(regulator.username, "--propose")
    assert not Partner.objects.exists()
