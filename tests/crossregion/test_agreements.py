"""The cooperation agreement between two platforms: drafted, proposed, countersigned, valid, revoked —
this platform through its services, the partner (Zhongshan) as a second key posting to our inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit import platform_key
from audit.models import AuditEvent
from config.errors import DomainError, IllegalTransition
from crossregion import protocol, selectors
from crossregion.models import Agreement, AgreementState, OutboundMessage, Partner
from crossregion.services import agreements as services
from tests import factories

from .conftest import OTHER_KEY, PARTNER, ZS_KEY, ZS_RAW, envelope, post

pytestmark = pytest.mark.django_db


def draft(centre, partner, **changes):
    now = timezone.now()
    fields = dict(partner=partner, scope=["booking", "drawing", "federation", "replication"], valid_from=now - timedelta(hours=1),
                  valid_until=now + timedelta(days=365), text="远程异地评标合作框架协议")
    fields.update(changes)
    return services.agreement_draft(by=factories.actor(centre), **fields)


def partner_document(partner, **changes) -> dict:
    now = timezone.now()
    fields = dict(parties=[{"region_code": "441900", "name": "东莞", "key_id": platform_key.platform_key_id()},
                           {"region_code": PARTNER, "name": "中山", "key_id": protocol.key_id(ZS_RAW)}],
                  scope=["booking", "federation"], valid_from=now - timedelta(hours=1), valid_until=now + timedelta(days=30), text="中山起草的协议")
    fields.update(changes)
    return protocol.build_agreement(**fields)


def test_propose_accept_valid_revoke_between_two_platforms(client, centre, partner, echo):
    # Dongguan drafts and proposes: signed with its key, queued to Zhongshan.
    agreement = draft(centre, partner)
    assert agreement.state == AgreementState.DRAFT and not selectors.is_valid(agreement)
    services.agreement_propose(by=factories.actor(centre), agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.PROPOSED
    sent = OutboundMessage.objects.get(type="agreement.propose")
    assert sent.partner == partner and sent.idempotency_key == f"agreement:{agreement.uuid}:propose"
    # Zhongshan checks Dongguan's signature over the document, countersigns and answers agreement.accept.
    document = sent.body["document"]
    protocol.verify_agreement(document, sent.body["signature"], platform_key.public_key_bytes())
    assert sent.body["key_id"] == platform_key.platform_key_id()
    countersignature = protocol.sign_agreement(document, ZS_KEY)
    response = post(client, envelope("agreement.accept", {"document": document, "signature": countersignature, "key_id": partner.key_id},
                                     idempotency_key=f"agreement:{agreement.uuid}:accept"))
    assert response.status_code == 200 and response.json()["result"] == {"agreement": str(agreement.uuid), "state": "active"}
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.ACTIVE and agreement.partner_signature == countersignature
    assert selectors.is_valid(agreement) and selectors.valid_agreement(partner, area="booking") == agreement
    # Now the partner's booking messages are accepted ...
    assert post(client, envelope()).status_code == 200
    # ... until Zhongshan revokes the agreement; afterwards they are refused.
    response = post(client, envelope("agreement.revoke", {"agreement": str(agreement.uuid), "reason": "合作到期"}))
    assert response.status_code == 200 and response.json()["result"]["state"] == "revoked"
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.REVOKED and agreement.revoked_by_us is False and agreement.revoke_reason == "合作到期"
    assert not selectors.is_valid(agreement)
    assert post(client, envelope()).json()["code"] == "no_agreement"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"crossregion.agreement_draft", "agreement.propose", "agreement.accept", "agreement.revoke", "crossregion.message_received"} <= actions


def test_partner_proposes_and_our_staff_countersign(client, centre, partner):
    document = partner_document(partner)
    signature = protocol.sign_agreement(document, ZS_KEY)
    response = post(client, envelope("agreement.propose", {"document": document, "signature": signature, "key_id": partner.key_id}))
    assert response.status_code == 200 and response.json()["result"]["state"] == "proposed"
    agreement = Agreement.objects.get(uuid=document["id"])
    assert not agreement.proposed_by_us and agreement.partner_signature == signature and not selectors.is_valid(agreement)
    services.agreement_accept(by=factories.actor(centre), agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.ACTIVE and selectors.is_valid(agreement)
    assert selectors.valid_agreement(partner, area="booking") == agreement
    assert selectors.valid_agreement(partner, area="drawing") is None  # not in its scope
    sent = OutboundMessage.objects.get(type="agreement.accept")
    protocol.verify_agreement(sent.body["document"], sent.body["signature"], platform_key.public_key_bytes())


def test_our_staff_revoke_and_the_partner_is_told(centre, partner, agreement):
    services.agreement_revoke(by=factories.actor(centre), agreement=agreement, reason="停止合作")
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.REVOKED and agreement.revoked_by_us and not selectors.is_valid(agreement)
    sent = OutboundMessage.objects.get(type="agreement.revoke")
    assert sent.body == {"agreement": str(agreement.uuid), "reason": "停止合作"}
    with pytest.raises(IllegalTransition):
        services.agreement_revoke(by=factories.actor(centre), agreement=agreement, reason="again")


def test_revoking_needs_a_reason(centre, agreement):
    with pytest.raises(DomainError) as refused:
        services.agreement_revoke(by=factories.actor(centre), agreement=agreement, reason=" ")
    assert refused.value.code == "reason_required"
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.ACTIVE


def test_a_discarded_draft_is_not_sent(centre, partner):
    agreement = draft(centre, partner)
    services.agreement_revoke(by=factories.actor(centre), agreement=agreement, reason="起草有误")
    assert not OutboundMessage.objects.exists()


def test_a_proposal_with_a_forged_signature_is_refused_and_not_stored(client, partner):
    document = partner_document(partner)
    response = post(client, envelope("agreement.propose", {"document": document, "signature": protocol.sign_agreement(document, OTHER_KEY),
                                                           "key_id": partner.key_id}))
    assert response.status_code == 422 and response.json()["code"] == "bad_signature"
    assert not Agreement.objects.exists()


def test_a_proposal_naming_other_keys_is_refused(client, partner):
    document = partner_document(partner, parties=[{"region_code": "441900", "name": "东莞", "key_id": "0" * 16},
                                                  {"region_code": PARTNER, "name": "中山", "key_id": partner.key_id}])
    response = post(client, envelope("agreement.propose", {"document": document, "signature": protocol.sign_agreement(document, ZS_KEY),
                                                           "key_id": partner.key_id}))
    assert response.status_code == 422 and response.json()["code"] == "wrong_keys"


def test_a_countersignature_over_another_text_is_refused(client, centre, partner):
    agreement = draft(centre, partner)
    services.agreement_propose(by=factories.actor(centre), agreement=agreement)
    changed = {**agreement.document, "text": "改过的正文"}
    response = post(client, envelope("agreement.accept", {"document": changed, "signature": protocol.sign_agreement(changed, ZS_KEY),
                                                          "key_id": partner.key_id}))
    assert response.status_code == 422 and response.json()["code"] == "document_mismatch"
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.PROPOSED


def test_a_forged_countersignature_is_refused(client, centre, partner):
    agreement = draft(centre, partner)
    services.agreement_propose(by=factories.actor(centre), agreement=agreement)
    response = post(client, envelope("agreement.accept", {"document": agreement.document,
                                                          "signature": protocol.sign_agreement(agreement.document, OTHER_KEY), "key_id": partner.key_id}))
    assert response.status_code == 422 and response.json()["code"] == "bad_signature"
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.PROPOSED and not agreement.partner_signature


def test_the_partner_cannot_accept_its_own_proposal_or_revoke_anothers(client, partner):
    document = partner_document(partner)
    signature = protocol.sign_agreement(document, ZS_KEY)
    post(client, envelope("agreement.propose", {"document": document, "signature": signature, "key_id": partner.key_id}))
    response = post(client, envelope("agreement.accept", {"document": document, "signature": signature, "key_id": partner.key_id}))
    assert response.status_code == 422 and response.json()["code"] == "agreement_unknown"
    other = Partner.objects.create(region_code="440300", name="深圳", base_url="http://x", public_key=protocol.b64url_encode(b"\x01" * 32), key_id="0" * 16)
    assert other  # an agreement with another partner is not this partner's to revoke
    response = post(client, envelope("agreement.revoke", {"agreement": "6f1c2a9e-0b7d-4c3e-9a51-2d8f4e6b7c10", "reason": "x"}))
    assert response.status_code == 422 and response.json()["code"] == "agreement_unknown"


def test_only_centre_staff_manage_agreements(partner, regulator):
    with pytest.raises(PermissionDenied):
        draft(regulator, partner)


def test_drafts_must_be_well_formed(centre, partner):
    with pytest.raises(DomainError) as refused:
        draft(centre, partner, scope=[])
    assert refused.value.code == "agreement_invalid"
    with pytest.raises(DomainError) as refused:
        draft(centre, partner, valid_from=timezone.now() - timedelta(days=10), valid_until=timezone.now() - timedelta(days=1))
    assert refused.value.code == "agreement_expired"


# Partners ------------------------------------------------------------------------------------

def metadata(region="442000", raw=ZS_RAW):
    return protocol.parse_metadata(protocol.build_metadata(region_code=region, region_name="中山", base_url="http://127.0.0.1:8001", public_raw=raw))


def test_centre_staff_add_a_partner_after_confirming_its_key(centre):
    meta = metadata()
    partner = services.partner_add(by=factories.actor(centre), base_url="http://127.0.0.1:8001/", metadata=meta, confirmed_key_id=meta.key_id)
    assert (partner.region_code, partner.name, partner.base_url, partner.public_raw, partner.key_id) == (
        "442000", "中山", "http://127.0.0.1:8001", ZS_RAW, protocol.key_id(ZS_RAW))
    assert partner.inbox_url == "http://127.0.0.1:8001/crossregion/inbox/"
    assert AuditEvent.objects.filter(action="crossregion.partner_add", object_id=str(partner.pk)).exists()


@pytest.mark.parametrize("case, code", [("key_changed", "key_changed"), ("own", "own_region"), ("twice", "partner_exists")])
def test_partner_add_refusals(centre, case, code):
    by = factories.actor(centre)
    meta = metadata("441900") if case == "own" else metadata()
    if case == "twice":
        services.partner_add(by=by, base_url="http://a", metadata=meta, confirmed_key_id=meta.key_id)
    with pytest.raises(DomainError) as refused:
        services.partner_add(by=by, base_url="http://a", metadata=meta, confirmed_key_id="0" * 16 if case == "key_changed" else meta.key_id)
    assert refused.value.code == code
    assert Partner.objects.count() == (1 if case == "twice" else 0)


def test_fetch_metadata_reports_an_unreachable_platform():
    with pytest.raises(DomainError) as refused:
        services.fetch_metadata("http://127.0.0.1:9")
    assert refused.value.code == "metadata_unreachable"
    with pytest.raises(DomainError) as refused:
        services.fetch_metadata("ftp://example")
    assert refused.value.code == "bad_url"
