"""Bidders register their public keys in pairs, rotate them by registering a new pair, and revoke
them; every refusal says why and leaves keys and audit trail exactly as they were."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from bidding import keyfile, selectors, services
from bidding.models import ROTATED, BidderKey, KeyStatus
from config.errors import DomainError, NotAllowed
from tests.factories import actor, admin_of, make_user, person

from .test_keys_world import new_jwk, new_pair, people, register, snapshot, suspend  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_bidder_registers_a_pair_and_sees_its_fingerprints():
    bidder = person("bidder")
    pair = new_pair()
    decryption, signing = services.bidder_key_register(by=actor(bidder), **pair)
    assert (decryption.purpose, signing.purpose) == ("decryption", "signing")
    assert decryption.fingerprint == keyfile.fingerprint(keyfile.public_key_from_jwk(pair["decryption_jwk"]))
    assert signing.fingerprint == keyfile.fingerprint(keyfile.public_key_from_jwk(pair["signing_jwk"]))
    assert decryption.public_jwk == pair["decryption_jwk"] and decryption.registration == signing.registration
    assert decryption.organisation == bidder.organisation and decryption.registered_by == bidder
    assert selectors.active_keys(bidder.organisation) == {"decryption": decryption, "signing": signing}
    assert selectors.key_by_fingerprint(signing.fingerprint.upper()) == signing
    events = AuditEvent.objects.filter(action="bidderkey.register").order_by("seq")
    assert [e.object_id for e in events] == [str(decryption.pk), str(signing.pk)]
    assert events[0].ip == "192.0.2.10" and events[0].organisation_id == bidder.organisation_id


def test_only_the_public_members_of_a_webcrypto_export_are_stored():
    bidder = person("bidder")
    exported = {**new_jwk(), "ext": True, "key_ops": []}
    decryption, _ = services.bidder_key_register(by=actor(bidder), decryption_jwk=exported, signing_jwk=new_jwk())
    assert set(decryption.public_jwk) == {"kty", "crv", "x", "y"}


def test_any_user_of_an_acting_bidder_manages_its_keys():
    bidder = person("bidder")
    colleague = make_user(bidder.organisation)
    old_decryption, _ = register(bidder)
    new_decryption, _ = register(colleague)
    old_decryption.refresh_from_db()
    assert old_decryption.replaced_by == new_decryption


def test_registering_again_rotates_the_pair_in_force():
    bidder = person("bidder")
    old = register(bidder)
    new = register(bidder)
    for old_key, new_key in zip(old, new):
        old_key.refresh_from_db()
        assert old_key.status == KeyStatus.REVOKED and old_key.revoke_reason == ROTATED
        assert old_key.replaced_by == new_key and old_key.revoked_by == bidder and old_key.revoked_at == new_key.registered_at
        assert new_key.status == KeyStatus.ACTIVE
    assert selectors.active_keys(bidder.organisation) == {"decryption": new[0], "signing": new[1]}
    revocations = AuditEvent.objects.filter(action="bidderkey.revoke")
    assert revocations.count() == 2
    assert all('"reason":"rotated"' in event.body and '"to":"revoked"' in event.body for event in revocations)
    assert {event.object_id for event in revocations} == {str(old[0].pk), str(old[1].pk)}


def test_revoking_one_key_revokes_its_partner_and_records_who_and_why():
    bidder = person("bidder")
    decryption, signing = register(bidder)
    revoked = services.bidder_key_revoke(by=actor(bidder), key=signing, reason="  笔记本电脑遗失  ")
    assert {key.pk for key in revoked} == {decryption.pk, signing.pk}
    for key in (decryption, signing):
        key.refresh_from_db()
        assert key.status == KeyStatus.REVOKED and key.revoke_reason == "笔记本电脑遗失" and key.revoked_by == bidder
        assert key.replaced_by is None
    assert selectors.active_keys(bidder.organisation) == {}
    assert AuditEvent.objects.filter(action="bidderkey.revoke").count() == 2
    # A new pair may be registered afterwards; it rotates nothing.
    new_decryption, _ = register(bidder)
    assert new_decryption.status == KeyStatus.ACTIVE
    assert AuditEvent.objects.filter(action="bidderkey.revoke").count() == 2


def test_revoking_an_old_registration_leaves_the_pair_in_force_alone():
    bidder = person("bidder")
    old_decryption, _ = register(bidder)
    current = register(bidder)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        services.bidder_key_revoke(by=actor(bidder), key=old_decryption, reason="旧密钥")
    assert "已经撤销" in str(refused.value.message)
    assert snapshot() == before
    assert all(key.status == KeyStatus.ACTIVE for key in BidderKey.objects.filter(pk__in=[k.pk for k in current]))


def test_is_key_usable_only_for_the_active_key_of_that_bidder_and_purpose():
    bidder, other = person("bidder"), person("bidder")
    old_decryption, old_signing = register(bidder)
    decryption, signing = register(bidder)
    organisation = bidder.organisation
    assert selectors.is_key_usable(decryption.fingerprint, organisation, "decryption")
    assert selectors.is_key_usable(signing.fingerprint, organisation, "signing")
    assert not selectors.is_key_usable(decryption.fingerprint, organisation, "signing")  # the other purpose
    assert not selectors.is_key_usable(old_decryption.fingerprint, organisation, "decryption")  # rotated away
    assert not selectors.is_key_usable(old_signing.fingerprint, organisation, "signing")
    assert not selectors.is_key_usable(signing.fingerprint, other.organisation, "signing")  # a foreign key
    assert not selectors.is_key_usable("0" * 64, organisation, "signing")  # unknown
    assert not selectors.is_key_usable(None, organisation, "signing")
    services.bidder_key_revoke(by=actor(bidder), key=decryption, reason="泄露")
    assert not selectors.is_key_usable(signing.fingerprint, organisation, "signing")


def test_the_database_holds_at_most_one_active_key_per_bidder_and_purpose():
    bidder = person("bidder")
    decryption, _ = register(bidder)
    extra = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(IntegrityError), transaction.atomic():
        BidderKey.objects.create(
            organisation=bidder.organisation, purpose="decryption", public_jwk=keyfile.public_jwk(extra),
            fingerprint=keyfile.fingerprint(extra), registration=decryption.registration, registered_by=bidder,
            registered_at=decryption.registered_at,
        )
    # Revoked keys are not limited: a bidder keeps its whole history.
    for _ in range(3):
        register(bidder)
    assert BidderKey.objects.filter(organisation=bidder.organisation).count() == 8
    assert BidderKey.objects.filter(organisation=bidder.organisation, status=KeyStatus.ACTIVE).count() == 2


# Bad input: a clear error, and nothing changed ---------------------------------------------------


def _off_curve(jwk: dict) -> dict:
    y = int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "=="), "big")
    bumped = base64.urlsafe_b64encode(((y + 1) % 2**256).to_bytes(32, "big")).rstrip(b"=").decode()
    return {**jwk, "y": bumped}


def _private() -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    d = base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(32, "big")).rstrip(b"=").decode()
    return {**keyfile.public_jwk(key.public_key()), "d": d}


def _p384() -> dict:
    numbers = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    encode = lambda n: base64.urlsafe_b64encode(n.to_bytes(48, "big")).rstrip(b"=").decode()  # noqa: E731
    return {"kty": "EC", "crv": "P-384", "x": encode(numbers.x), "y": encode(numbers.y)}


BAD_PAIRS = {
    "private decryption key": (lambda: {"decryption_jwk": _private()}, "切勿把私钥上传"),
    "private signing key": (lambda: {"signing_jwk": _private()}, "切勿把私钥上传"),
    "P-384 key": (lambda: {"signing_jwk": _p384()}, "P-256"),
    "RSA key": (lambda: {"decryption_jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, "P-256"),
    "point off the curve": (lambda: {"decryption_jwk": _off_curve(new_jwk())}, "不在 P-256 曲线上"),
    "short coordinate": (lambda: {"decryption_jwk": {**new_jwk(), "x": "AAAA"}}, "应各为 32 字节"),
    "padded coordinate": (lambda: {"decryption_jwk": {**new_jwk(), "y": new_jwk()["y"] + "="}}, "应各为 32 字节"),
    "unknown member": (lambda: {"signing_jwk": {**new_jwk(), "oth": []}}, "只能含 kty、crv、x、y"),
    "not an object": (lambda: {"signing_jwk": "BPublicKeyAsText"}, "JSON 对象"),
}


@pytest.mark.parametrize("case", BAD_PAIRS, ids=list(BAD_PAIRS))
def test_bad_keys_are_refused_and_change_nothing(case):
    bidder = person("bidder")
    register(bidder)
    make, words = BAD_PAIRS[case]
    pair = {**new_pair(), **make()}
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        services.bidder_key_register(by=actor(bidder), **pair)
    assert words in str(refused.value.message)
    assert snapshot() == before


def test_the_private_key_message_says_never_to_upload_private_keys():
    with pytest.raises(DomainError) as refused:
        services.bidder_key_register(by=actor(person("bidder")), decryption_jwk=_private(), signing_jwk=new_jwk())
    assert refused.value.code == "private_key"
    assert "解密公钥含有私钥" in str(refused.value.message) and "平台只接受公钥" in str(refused.value.message)


def test_the_same_key_for_both_purposes_is_refused():
    bidder = person("bidder")
    jwk = new_jwk()
    before = snapshot()
    with pytest.raises(DomainError, match="两把不同的密钥"):
        services.bidder_key_register(by=actor(bidder), decryption_jwk=jwk, signing_jwk=dict(jwk))
    assert snapshot() == before


@pytest.mark.parametrize("whose", ["own", "another bidder's"])
@pytest.mark.parametrize("which", ["decryption", "signing"])
def test_a_key_registered_before_by_anyone_is_refused(whose, which):
    bidder = person("bidder")
    first = new_pair()
    services.bidder_key_register(by=actor(bidder if whose == "own" else person("bidder")), **first)
    if whose == "own":
        register(bidder)  # rotated away: still registered for good
    before = snapshot()
    with pytest.raises(DomainError, match="已经登记过") as refused:
        register(bidder, **{f"{which}_jwk": first[f"{which}_jwk"]})
    assert refused.value.code == "key_registered"
    assert snapshot() == before


def test_a_signing_key_cannot_come_back_as_a_decryption_key():
    bidder = person("bidder")
    first = new_pair()
    services.bidder_key_register(by=actor(bidder), **first)
    before = snapshot()
    with pytest.raises(DomainError, match="已经登记过"):
        register(bidder, decryption_jwk=first["signing_jwk"])
    assert snapshot() == before


@pytest.mark.parametrize("role", ["tenderer", "agency", "centre", "regulator", "expert", "pending_bidder", "suspended_bidder"])
def test_only_an_acting_bidder_registers_keys(people, role):  # noqa: F811
    before = snapshot()
    with pytest.raises((PermissionDenied, NotAllowed)):
        services.bidder_key_register(by=actor(people[role]), **new_pair())
    assert snapshot() == before


def test_a_bidder_suspended_after_the_request_was_authorised_is_still_refused():
    bidder = person("bidder")  # the user object still believes its organisation may act
    keys = register(bidder)
    suspend(bidder.organisation)
    before = snapshot()
    with pytest.raises(NotAllowed, match="暂停"):
        services.bidder_key_register(by=actor(bidder), **new_pair())
    with pytest.raises(NotAllowed, match="暂停"):
        services.bidder_key_revoke(by=actor(bidder), key=keys[0], reason="泄露")
    assert snapshot() == before


@pytest.mark.parametrize("role", ["other_bidder", "tenderer", "agency", "centre", "regulator", "expert", "suspended_bidder"])
def test_nobody_revokes_another_organisations_keys(people, role):  # noqa: F811
    decryption, _ = register(people["bidder"])
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.bidder_key_revoke(by=actor(people[role]), key=decryption, reason="恶意撤销")
    assert snapshot() == before


def test_a_suspended_bidder_cannot_revoke_its_own_keys(people):  # noqa: F811
    key = BidderKey.objects.filter(organisation=people["suspended_bidder"].organisation).first()
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.bidder_key_revoke(by=actor(people["suspended_bidder"]), key=key, reason="泄露")
    assert snapshot() == before


@pytest.mark.parametrize("reason,words", [("", "请填写撤销原因"), ("   ", "请填写撤销原因"), (None, "请填写撤销原因"), ("长" * 501, "不能超过500个字符")])
def test_a_revocation_needs_a_reason(reason, words):
    bidder = person("bidder")
    decryption, _ = register(bidder)
    before = snapshot()
    with pytest.raises(DomainError, match=words):
        services.bidder_key_revoke(by=actor(bidder), key=decryption, reason=reason)
    assert snapshot() == before


def test_revoking_twice_is_refused_and_changes_nothing():
    bidder = person("bidder")
    decryption, _ = register(bidder)
    services.bidder_key_revoke(by=actor(bidder), key=decryption, reason="泄露")
    before = snapshot()
    with pytest.raises(DomainError, match="已经撤销"):
        services.bidder_key_revoke(by=actor(bidder), key=decryption, reason="再次")
    assert snapshot() == before


def test_an_unverified_bidder_registers_nothing_until_approved():
    pending = person("bidder", status="pending")
    with pytest.raises(PermissionDenied):
        register(pending)
    assert not BidderKey.objects.exists()
    assert admin_of(pending.organisation).organisation.status == "pending"
