"""The custodial fallback (opening/services/custodial.py, docs/custodial-fallback.md): a tender's
custodial key split 2 of 3 among custodians; bids sealed also to it; at the opening one bidder
cannot decrypt, the host asks for the fallback, one share recovers nothing, the second recovers
the key and releases the bid's data key via "custodial". Before the opening nothing works; other
people, other shares, duplicates and tenders without the fallback are refused; every step is
audited and the private key is never stored."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, replace

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import PermissionDenied
from django_tasks import default_task_backend
from rest_framework.test import APIClient

from audit.models import AuditEvent
from bidding import keyfile, sealing
from bidding.models import BidStatus
from config.errors import DomainError
from opening import commands, custodian_tool, custody, shamir
from opening.models import BidOpening, CommandReceipt, DecryptionStatus, OpeningSession, RoomEvent
from opening.models_custodial import CustodialArrangement, CustodialFallback, CustodialShare, FallbackStatus
from opening.services import core, custodial
from tendering import chronograph
from tendering.models import TenderState
from tests import factories
from tests.factories import actor, make_user, person

from .world import Bidder, clock, dummy_tasks, make_package, submit  # noqa: F401

pytestmark = pytest.mark.django_db
PASSPHRASE = "custodian passphrase 2026"


@dataclass
class Custodian:
    user: object
    key: ec.EllipticCurvePrivateKey

    def share(self, tender) -> bytes:
        """What the custodian does on its own machine: download the package, open it."""
        package = custodial.custodial_share_package(by=actor(self.user), tender=tender)
        return custody.unwrap_share(package, self.key).value_bytes()


class CustodialWorld:
    """A published tender with the fallback (k of n custodians: two centre staff and a regulator),
    `bidders` bidders sealing to their own key and to the custodial key; like tests/opening/world.py."""

    def __init__(self, clock, *, bidders: int = 4, k: int = 2, arrangement: bool = True, custodial_copies: bool = True):
        self.clock = clock
        self.host = person("agency")
        self.tender = factories.make_tender(self.host, state=TenderState.PUBLISHED)
        self.lot = self.tender.lots.get()
        centre = factories.centre_reviewer()
        self.custodians = [Custodian(user, ec.generate_private_key(ec.SECP256R1()))
                           for user in (centre, make_user(centre.organisation), person("regulator"))]
        for custodian in self.custodians:
            custodial.custodian_key_register(by=actor(custodian.user), public_jwk=keyfile.public_jwk(custodian.key.public_key()))
        self.arrangement = None
        custodial_key = None
        if arrangement:
            self.arrangement = custodial.custodial_arrangement_create(by=actor(self.host), tender=self.tender, k=k,
                                                                      custodians=[c.user for c in self.custodians])
            custodial_key = keyfile.public_key_from_jwk(self.arrangement.public_jwk)
        self.bidders: list[Bidder] = []
        for n in range(bidders):
            self.bidders.append(self.add_bidder(98_765_432_10 + 1_000_00 * n, custodial_key if custodial_copies else None))

    def add_bidder(self, price: int, custodial_key, *, forge_custodial_copy: bool = False) -> Bidder:
        from bidding import services as bidding_services

        user = factories.register_bidder(self.tender)
        bidder = Bidder(user, ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1()), price)
        bidding_services.bidder_key_register(by=actor(user), decryption_jwk=keyfile.public_jwk(bidder.decryption.public_key()),
                                             signing_jwk=keyfile.public_jwk(bidder.signing.public_key()))
        bidder.package = make_package(tender_id=self.tender.pk, lot_id=self.lot.pk, credit_code=user.organisation.credit_code, price_fen=price)
        bidder.sealed = self.seal(bidder, custodial_key)
        if forge_custodial_copy:
            bidder.sealed = forged_custodial_copy(bidder, self.binding(bidder), custodial_key, bidder.sealed)
        bidder.bid = submit(bidder, self.lot, bidder.sealed)
        return bidder

    def seal(self, bidder: Bidder, custodial_key) -> bytes:
        out = io.BytesIO()
        sealing.seal(io.BytesIO(bidder.package), out, recipient_public_key=bidder.decryption.public_key(), signing_private_key=bidder.signing,
                     binding=self.binding(bidder), custodial_public_key=custodial_key, segment_size=1 << 16)
        return out.getvalue()

    def binding(self, bidder: Bidder) -> sealing.Binding:
        return sealing.Binding(tender=str(self.tender.pk), lot=str(self.lot.pk), bidder=str(bidder.organisation.pk))

    def opened(self) -> OpeningSession:
        self.clock.set(self.tender.bid_deadline)
        chronograph.tick()
        return OpeningSession.objects.get(lot=self.lot)

    def decrypting(self) -> OpeningSession:
        session = self.opened()
        for bidder in self.bidders:
            core.opening_check_in(by=actor(bidder.user), session=session)
        return core.opening_start_decryption(by=actor(self.host), session=session)

    def bid_opening(self, bidder: Bidder) -> BidOpening:
        return BidOpening.objects.get(bid=bidder.bid)

    def request(self, bidder: Bidder, reason: str = "投标人密钥文件损坏，无法解密") -> CustodialFallback:
        return custodial.custodial_fallback_request(by=actor(self.host), bid_opening=self.bid_opening(bidder), reason=reason)


def forged_custodial_copy(bidder: Bidder, binding, custodial_key, sealed_bytes: bytes) -> bytes:
    """A dishonest bidder's file: the custodial recipient wraps another data key than the bid's
    (taken from a second sealing), the header re-signed by the bidder itself."""
    header, _ = sealing.read_header(io.BytesIO(sealed_bytes))
    other = io.BytesIO()
    other_header = sealing.seal(io.BytesIO(b"x"), other, recipient_public_key=bidder.decryption.public_key(), signing_private_key=bidder.signing,
                                binding=binding, custodial_public_key=custodial_key)
    forged = replace(header, recipients=(header.recipients[0], other_header.recipients[1])).with_raw()
    start = 14 + len(header.raw) + 64
    return forged.signed_bytes() + sealing._sign(forged, bidder.signing) + sealed_bytes[start:]


@pytest.fixture
def cworld(db, clock, dummy_tasks):  # noqa: F811
    return CustodialWorld(clock)


def actions(prefix: str = "custodial.") -> list[str]:
    return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("seq").values_list("action", flat=True))


def refused(code: str, call, *args, **kwargs):
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    assert error.value.code == code, error.value.message
    return error.value


def dispatch(user, session, action: str, args: dict) -> dict:
    return commands.dispatch(by=actor(user), session=session, action=action, command_id=os.urandom(8).hex(), args=args)


# --- the arrangement -----------------------------------------------------------------------------


def test_the_arrangement_publishes_a_key_and_stores_only_wrapped_shares(cworld):
    arrangement = cworld.arrangement
    assert (arrangement.threshold, arrangement.custodian_count) == (2, 3)
    public_key = keyfile.public_key_from_jwk(arrangement.public_jwk)
    assert arrangement.fingerprint == sealing.fingerprint(public_key)
    shares = list(arrangement.shares.order_by("index"))
    assert [(s.index, s.custodian) for s in shares] == [(i + 1, c.user) for i, c in enumerate(cworld.custodians)]
    assert all(s.pending is None for s in shares)
    # each custodian opens its own share only, and any two of them rebuild the published key
    opened = []
    for share, custodian in zip(shares, cworld.custodians):
        package = custody.package(custodial._binding(arrangement, share.index, share.custodian_key.fingerprint),
                                  bytes.fromhex(share.enc), bytes.fromhex(share.wrapped))
        opened.append(custody.unwrap_share(package, custodian.key))
        with pytest.raises(custody.CustodyError):
            custody.unwrap_share(package, cworld.custodians[share.index % 3].key)
    for pair in ((0, 1), (0, 2), (1, 2)):
        scalar = shamir.combine([opened[i] for i in pair])
        assert ec.derive_private_key(scalar, ec.SECP256R1()).public_key().public_numbers() == public_key.public_numbers()
    # the private scalar appears nowhere in what the platform stored or recorded
    secret = shamir.combine(opened).to_bytes(32, "big")
    stored = json.dumps([list(CustodialArrangement.objects.values()),
                         list(CustodialShare.objects.values("enc", "wrapped", "commitment_salt", "commitment")),
                         list(AuditEvent.objects.values_list("body", flat=True))], default=str)
    assert secret.hex() not in stored and secret.hex().upper() not in stored
    event = AuditEvent.objects.get(action="custodial.arrangement_create")
    assert event.tender_id == cworld.tender.pk and arrangement.fingerprint in event.body


def test_the_custodial_key_is_public_and_feeds_the_bid_tool(cworld):
    client = APIClient()
    answer = client.get(f"/api/v1/tenders/{cworld.tender.pk}/custodial-key/")
    assert answer.status_code == 200
    data = answer.json()
    assert (data["threshold"], data["custodians"], data["fingerprint"]) == (2, 3, cworld.arrangement.fingerprint)
    assert [c["index"] for c in data["custodian_list"]] == [1, 2, 3]
    jwk = client.get(f"/api/v1/tenders/{cworld.tender.pk}/custodial-key/jwk/").json()
    assert sealing.fingerprint(keyfile.public_key_from_jwk(jwk)) == cworld.arrangement.fingerprint
    header, _ = sealing.read_header(io.BytesIO(cworld.bidders[0].sealed))
    assert [r.role for r in header.recipients] == ["bidder", "custodial"] and header.recipients[1].key_fingerprint == data["fingerprint"]


def test_a_tender_without_the_fallback_has_no_custodial_key(db, clock, dummy_tasks):  # noqa: F811
    tender = factories.make_tender(person("agency"), state=TenderState.PUBLISHED)
    assert APIClient().get(f"/api/v1/tenders/{tender.pk}/custodial-key/").status_code == 404


def test_creating_the_arrangement_is_for_the_owner_before_bids_with_eligible_custodians(db, clock, dummy_tasks):  # noqa: F811
    owner = person("agency")
    tender = factories.make_tender(owner, state=TenderState.APPROVED)
    centre = factories.centre_reviewer()
    staff, regulator, keyless = make_user(centre.organisation), person("regulator"), person("regulator")
    for user in (centre, staff, regulator):
        custodial.custodian_key_register(by=actor(user), public_jwk=keyfile.public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    create = custodial.custodial_arrangement_create
    with pytest.raises(PermissionDenied):
        create(by=actor(person("agency")), tender=tender, k=2, custodians=[centre, staff, regulator])
    with pytest.raises(PermissionDenied):
        create(by=actor(centre), tender=tender, k=2, custodians=[centre, staff, regulator])  # the centre does not own the tender
    refused("bad_threshold", create, by=actor(owner), tender=tender, k=1, custodians=[centre, staff, regulator])
    refused("bad_threshold", create, by=actor(owner), tender=tender, k=4, custodians=[centre, staff, regulator])
    refused("duplicate_custodian", create, by=actor(owner), tender=tender, k=2, custodians=[centre, centre, regulator])
    refused("not_eligible", create, by=actor(owner), tender=tender, k=2, custodians=[centre, person("bidder")])
    refused("not_eligible", create, by=actor(owner), tender=tender, k=2, custodians=[centre, owner])
    refused("no_custodian_key", create, by=actor(owner), tender=tender, k=2, custodians=[centre, keyless])
    assert not CustodialArrangement.objects.exists()
    arrangement = create(by=actor(owner), tender=tender, k=2, custodians=[centre, staff, regulator])
    assert arrangement.custodian_count == 3
    refused("arrangement_exists", create, by=actor(owner), tender=tender, k=2, custodians=[centre, staff])


def test_no_arrangement_once_bids_are_in_or_after_the_deadline(db, clock, dummy_tasks):  # noqa: F811
    world = CustodialWorld(clock, bidders=1, arrangement=False)
    users = [c.user for c in world.custodians]
    refused("bids_exist", custodial.custodial_arrangement_create, by=actor(world.host), tender=world.tender, k=2, custodians=users)
    late = factories.make_tender(world.host, state=TenderState.PUBLISHED)
    clock.set(late.bid_deadline)
    refused("deadline_passed", custodial.custodial_arrangement_create, by=actor(world.host), tender=late, k=2, custodians=users)


def test_only_centre_staff_and_regulators_register_custodian_keys(db, clock):  # noqa: F811
    jwk = keyfile.public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
    for outsider in (person("bidder"), person("agency"), person("tenderer")):
        with pytest.raises(PermissionDenied):
            custodial.custodian_key_register(by=actor(outsider), public_jwk=jwk)
    regulator = person("regulator")
    first = custodial.custodian_key_register(by=actor(regulator), public_jwk=jwk)
    refused("key_registered", custodial.custodian_key_register, by=actor(person("regulator")), public_jwk=jwk)
    refused("invalid_key", custodial.custodian_key_register, by=actor(regulator), public_jwk={**jwk, "d": jwk["x"]})
    another = keyfile.public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
    second = custodial.custodian_key_register(by=actor(regulator), public_jwk=another)
    first.refresh_from_db()
    assert first.status == "revoked" and second.status == "active"


# --- the fallback at the opening -----------------------------------------------------------------


def test_two_of_three_custodians_recover_the_data_key_of_a_bid_whose_bidder_cannot_decrypt(cworld, django_capture_on_commit_callbacks):
    session = cworld.decrypting()
    lost = cworld.bidders[0]
    # the others release their own keys as usual
    for bidder in cworld.bidders[1:]:
        core.opening_release_key(by=actor(bidder.user), bid_opening=cworld.bid_opening(bidder), data_key=bidder.data_key())
    # the host asks for the fallback in the room
    answer = dispatch(cworld.host, session, "request_fallback", {"bid": lost.bid.pk, "reason": "密钥文件丢失"})
    assert answer["ok"] and answer["status"] == FallbackStatus.REQUESTED

    first, second, third = cworld.custodians
    package = dispatch(first.user, session, "share_package", {})["package"]
    share = custody.unwrap_share(package, first.key).value_bytes().hex()
    answer = dispatch(first.user, session, "release_share", {"share": share})
    assert answer == {"ok": True, "released": 1, "threshold": 2, "recovered": False, "bids": []}
    # k − 1 = 1 share: nothing recovered, nothing released
    opening = cworld.bid_opening(lost)
    assert opening.status == DecryptionStatus.AWAITING and opening.data_key is None
    assert "custodial.key_recover" not in actions()

    with django_capture_on_commit_callbacks(execute=True):
        answer = custodial.custodial_share_release(by=actor(third.user), tender=cworld.tender, share=third.share(cworld.tender))
    assert answer == {"released": 2, "threshold": 2, "recovered": True, "bids": [lost.bid.pk]}
    # decryption then proceeds as for a bidder's release: the background job is queued for the bid
    assert [result.args for result in default_task_backend.results if result.task.name == "decrypt_bid"][-1] == [opening.pk]
    opening.refresh_from_db()
    assert opening.status == DecryptionStatus.RELEASED and opening.released_via == "custodial"
    assert bytes(opening.data_key) == lost.data_key() and opening.released_by == third.user
    assert CustodialFallback.objects.get().status == FallbackStatus.RELEASED
    # the held shares are erased; the key is not kept
    assert not CustodialShare.objects.filter(pending__isnull=False).exists()
    arrangement = CustodialArrangement.objects.get()
    assert arrangement.recoveries == 1
    assert actions() == ["custodial.arrangement_create", "custodial.fallback_request", "custodial.share_release",
                         "custodial.share_release", "custodial.key_recover", "custodial.fallback_use"]
    release = AuditEvent.objects.filter(action="opening.release_key").order_by("-seq").first()
    assert '"via":"custodial"' in release.body.replace(" ", "")
    kinds = list(RoomEvent.objects.filter(room=session.room).order_by("seq").values_list("kind", flat=True))
    assert kinds[-5:] == ["custodial_fallback_requested", "custodial_share_released", "custodial_share_released",
                          "custodial_key_recovered", "key_released"]
    # no share or key in anything the room or the receipts keep
    kept = json.dumps([list(RoomEvent.objects.values_list("payload", flat=True)),
                       list(CommandReceipt.objects.filter(action="release_share").values_list("result", flat=True))])
    assert share not in kept and lost.data_key().hex() not in kept
    # the window closes: every bid released, nothing failed
    core.opening_close_window(by=actor(cworld.host), session=session)
    assert not BidOpening.objects.filter(status=DecryptionStatus.FAILED).exists()
    lost.bid.refresh_from_db()
    assert lost.bid.status == BidStatus.RECEIVED


def test_with_k_minus_one_shares_the_window_closes_and_the_held_share_is_erased(cworld):
    session = cworld.decrypting()
    lost = cworld.bidders[0]
    cworld.request(lost)
    custodian = cworld.custodians[1]
    custodial.custodial_share_release(by=actor(custodian.user), tender=cworld.tender, share=custodian.share(cworld.tender))
    assert CustodialShare.objects.filter(pending__isnull=False).count() == 1
    for bidder in cworld.bidders[1:]:
        core.opening_release_key(by=actor(bidder.user), bid_opening=cworld.bid_opening(bidder), data_key=bidder.data_key())
    BidOpening.objects.exclude(bid=lost.bid).update(status=DecryptionStatus.OPENED)  # as if decrypted
    cworld.clock.set(session.window_ends_at)
    refused("opening_not_started", custodial.custodial_share_release, by=actor(cworld.custodians[0].user), tender=cworld.tender, share=bytes(32))
    core.opening_close_window(by=actor(cworld.host), session=session)
    opening = cworld.bid_opening(lost)
    assert opening.status == DecryptionStatus.FAILED and opening.failure_code == "not_released"
    assert not CustodialShare.objects.filter(pending__isnull=False).exists()
    assert CustodialFallback.objects.get().status == FallbackStatus.FAILED
    assert "custodial.key_recover" not in actions() and "custodial.shares_discard" in actions()


def test_nothing_works_before_the_opening(cworld):
    custodian = cworld.custodians[0]
    share_row = CustodialShare.objects.get(custodian=custodian.user)
    package = custody.package(custodial._binding(cworld.arrangement, share_row.index, share_row.custodian_key.fingerprint),
                              bytes.fromhex(share_row.enc), bytes.fromhex(share_row.wrapped))
    real_share = custody.unwrap_share(package, custodian.key).value_bytes()
    # before the deadline: no room, no package, no release
    refused("opening_not_started", custodial.custodial_share_package, by=actor(custodian.user), tender=cworld.tender)
    refused("opening_not_started", custodial.custodial_share_release, by=actor(custodian.user), tender=cworld.tender, share=real_share)
    # room open, check-in under way: still nothing
    session = cworld.opened()
    refused("opening_not_started", cworld.request, cworld.bidders[0])
    refused("opening_not_started", custodial.custodial_share_package, by=actor(custodian.user), tender=cworld.tender)
    answer = dispatch(custodian.user, session, "release_share", {"share": real_share.hex()})
    assert answer["ok"] is False and answer["code"] == "opening_not_started"
    # decrypting, but no bid needs the fallback: shares are not taken
    for bidder in cworld.bidders:
        core.opening_check_in(by=actor(bidder.user), session=session)
    core.opening_start_decryption(by=actor(cworld.host), session=session)
    refused("no_fallback_requested", custodial.custodial_share_package, by=actor(custodian.user), tender=cworld.tender)
    refused("no_fallback_requested", custodial.custodial_share_release, by=actor(custodian.user), tender=cworld.tender, share=real_share)
    assert not CustodialShare.objects.filter(pending__isnull=False).exists()
    assert actions() == ["custodial.arrangement_create"]


def test_only_named_custodians_get_and_release_shares_and_only_the_host_requests(cworld):
    session = cworld.decrypting()
    lost = cworld.bidders[0]
    for outsider in (lost.user, cworld.custodians[2].user, person("bidder")):  # a regulator custodian is no host
        with pytest.raises(PermissionDenied):
            custodial.custodial_fallback_request(by=actor(outsider), bid_opening=cworld.bid_opening(lost), reason="x")
    cworld.request(lost)
    share = cworld.custodians[0].share(cworld.tender)
    centre_colleague = make_user(cworld.custodians[0].user.organisation)  # centre staff, but not named
    for outsider in (lost.user, cworld.bidders[1].user, cworld.host, centre_colleague, person("regulator")):
        with pytest.raises(PermissionDenied):
            custodial.custodial_share_package(by=actor(outsider), tender=cworld.tender)
        with pytest.raises(PermissionDenied):
            custodial.custodial_share_release(by=actor(outsider), tender=cworld.tender, share=share)
    assert not CustodialShare.objects.filter(pending__isnull=False).exists()
    assert session.bids.filter(status=DecryptionStatus.AWAITING).count() == 4


def test_bad_foreign_and_repeated_shares_are_refused(cworld):
    cworld.decrypting()
    cworld.request(cworld.bidders[0])
    first, second, _ = cworld.custodians
    own, foreign = first.share(cworld.tender), second.share(cworld.tender)
    release = custodial.custodial_share_release
    refused("bad_share", release, by=actor(first.user), tender=cworld.tender, share=os.urandom(32))
    refused("bad_share", release, by=actor(first.user), tender=cworld.tender, share=foreign)  # another custodian's share
    refused("bad_share", release, by=actor(first.user), tender=cworld.tender, share=shamir.Q.to_bytes(32, "big"))
    refused("bad_share", release, by=actor(first.user), tender=cworld.tender, share=own[:31])
    assert not CustodialShare.objects.filter(pending__isnull=False).exists()
    assert release(by=actor(first.user), tender=cworld.tender, share=own)["released"] == 1
    refused("already_released", release, by=actor(first.user), tender=cworld.tender, share=own)
    assert CustodialShare.objects.filter(pending__isnull=False).count() == 1
    assert actions().count("custodial.share_release") == 1


def test_a_tender_without_the_fallback_refuses_it(db, clock, dummy_tasks):  # noqa: F811
    world = CustodialWorld(clock, arrangement=False)
    session = world.decrypting()
    refused("no_arrangement", world.request, world.bidders[0])
    refused("no_arrangement", custodial.custodial_share_release, by=actor(world.custodians[0].user), tender=world.tender, share=bytes(32))
    answer = dispatch(world.host, session, "request_fallback", {"bid": world.bidders[0].bid.pk, "reason": "x"})
    assert answer["ok"] is False and answer["code"] == "no_arrangement"
    assert not CustodialFallback.objects.exists()


def test_a_bid_sealed_without_a_custodial_copy_cannot_use_the_fallback(db, clock, dummy_tasks):  # noqa: F811
    world = CustodialWorld(clock, custodial_copies=False)
    world.decrypting()
    refused("no_custodial_copy", world.request, world.bidders[0])


def test_requests_are_checked(cworld):
    session = cworld.decrypting()
    lost, fine = cworld.bidders[0], cworld.bidders[1]
    refused("reason_required", cworld.request, lost, reason="  ")
    core.opening_release_key(by=actor(fine.user), bid_opening=cworld.bid_opening(fine), data_key=fine.data_key())
    refused("not_awaiting", cworld.request, fine)
    cworld.request(lost)
    refused("already_requested", cworld.request, lost)
    cworld.clock.set(session.window_ends_at)
    refused("window_closed", cworld.request, cworld.bidders[2])


def test_a_custodial_copy_of_another_key_fails_the_fallback_and_the_bid_stays_the_bidders_failure(cworld):
    custodial_key = keyfile.public_key_from_jwk(cworld.arrangement.public_jwk)
    cheat = cworld.add_bidder(88_000_000_00, custodial_key, forge_custodial_copy=True)
    cworld.bidders.append(cheat)
    cworld.decrypting()
    cworld.request(cheat)
    first, second, _ = cworld.custodians
    custodial.custodial_share_release(by=actor(first.user), tender=cworld.tender, share=first.share(cworld.tender))
    answer = custodial.custodial_share_release(by=actor(second.user), tender=cworld.tender, share=second.share(cworld.tender))
    assert answer["recovered"] is True and answer["bids"] == []
    fallback = CustodialFallback.objects.get()
    assert fallback.status == FallbackStatus.FAILED and fallback.detail
    assert cworld.bid_opening(cheat).status == DecryptionStatus.AWAITING
    assert "custodial.fallback_fail" in actions()
    assert RoomEvent.objects.filter(kind="custodial_fallback_failed").exists()


def test_a_later_request_needs_a_new_round_of_shares(cworld):
    cworld.decrypting()
    a, b = cworld.bidders[0], cworld.bidders[1]
    cworld.request(a)
    first, second, third = cworld.custodians
    for custodian in (first, second):
        custodial.custodial_share_release(by=actor(custodian.user), tender=cworld.tender, share=custodian.share(cworld.tender))
    assert cworld.bid_opening(a).status == DecryptionStatus.RELEASED
    cworld.request(b)
    answer = custodial.custodial_share_release(by=actor(first.user), tender=cworld.tender, share=first.share(cworld.tender))
    assert answer["released"] == 1 and not answer["recovered"]
    answer = custodial.custodial_share_release(by=actor(third.user), tender=cworld.tender, share=third.share(cworld.tender))
    assert answer["recovered"] and answer["bids"] == [b.bid.pk]
    assert CustodialArrangement.objects.get().recoveries == 2


def test_a_bidder_who_releases_after_all_makes_the_request_moot(cworld):
    cworld.decrypting()
    a, b = cworld.bidders[0], cworld.bidders[1]
    cworld.request(a)
    cworld.request(b)
    core.opening_release_key(by=actor(a.user), bid_opening=cworld.bid_opening(a), data_key=a.data_key())
    first, second, _ = cworld.custodians
    custodial.custodial_share_release(by=actor(first.user), tender=cworld.tender, share=first.share(cworld.tender))
    answer = custodial.custodial_share_release(by=actor(second.user), tender=cworld.tender, share=second.share(cworld.tender))
    assert answer["bids"] == [b.bid.pk]
    statuses = dict(CustodialFallback.objects.values_list("bid_opening__bid_id", "status"))
    assert statuses == {a.bid.pk: FallbackStatus.NOT_NEEDED, b.bid.pk: FallbackStatus.RELEASED}
    assert cworld.bid_opening(a).released_via == "bidder"


# --- the custodian's tool and the API ------------------------------------------------------------


def test_the_custodian_tool_opens_the_share_with_the_key_file_and_the_api_takes_it(db, clock, dummy_tasks, tmp_path, monkeypatch):  # noqa: F811
    world = CustodialWorld(clock, arrangement=False, bidders=0)
    # custodians make key files like bidders' and register the decryption key through the API
    files = []
    for custodian in world.custodians:
        data = keyfile.generate(PASSPHRASE, label="custodian", iterations=1_000)
        path = tmp_path / f"custodian-{custodian.user.pk}.json"
        path.write_bytes(data)
        files.append(path)
        client = APIClient()
        client.force_authenticate(custodian.user)
        answer = client.post("/api/v1/custodian-keys/", {"jwk": keyfile.public_jwk(keyfile.load_public(data).decryption)}, format="json")
        assert answer.status_code == 201, answer.content
    owner = APIClient()
    owner.force_authenticate(world.host)
    answer = owner.post(f"/api/v1/tenders/{world.tender.pk}/custodial-arrangement/",
                        {"threshold": 2, "custodians": [c.user.pk for c in world.custodians]}, format="json")
    assert answer.status_code == 201, answer.content
    custodial_key = keyfile.public_key_from_jwk(answer.json()["jwk"])
    for n in range(3):
        world.bidders.append(world.add_bidder(90_000_000_00 + n, custodial_key))
    session = world.decrypting()
    lost = world.bidders[0]
    world.request(lost)

    monkeypatch.setenv("CUSTODIAN_PP", PASSPHRASE)
    for custodian, key_file in list(zip(world.custodians, files))[:2]:
        client = APIClient()
        client.force_authenticate(custodian.user)
        answer = client.get(f"/api/v1/tenders/{world.tender.pk}/custodial-share/")
        assert answer.status_code == 200, answer.content
        package = tmp_path / f"share-{custodian.user.pk}.json"
        package.write_text(json.dumps(answer.json()))
        out = io.StringIO()
        unwrap = ["unwrap-share", "--package", str(package), "--passphrase-env", "CUSTODIAN_PP", "--keys"]
        assert custodian_tool.main([*unwrap, str(key_file)], out=out) == 0
        share = out.getvalue().strip().splitlines()[-1]
        assert len(share) == 64
        # somebody else's key file does not open it
        other = files[2]
        assert custodian_tool.main([*unwrap, str(other)], out=io.StringIO()) == 1
        answer = client.post(f"/api/v1/tenders/{world.tender.pk}/custodial-share/release/", {"share": share}, format="json")
        assert answer.status_code == 200, answer.content
    assert answer.json() == {"released": 2, "threshold": 2, "recovered": True, "bids": [lost.bid.pk]}
    assert session.bids.get(bid=lost.bid).released_via == "custodial"
    again = client.post(f"/api/v1/tenders/{world.tender.pk}/custodial-share/release/", {"share": share}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "no_fallback_requested"


def test_the_api_refuses_shares_before_the_opening(cworld):
    client = APIClient()
    client.force_authenticate(cworld.custodians[0].user)
    answer = client.get(f"/api/v1/tenders/{cworld.tender.pk}/custodial-share/")
    assert answer.status_code == 409 and answer.json()["code"] == "opening_not_started"
    answer = client.post(f"/api/v1/tenders/{cworld.tender.pk}/custodial-share/release/", {"share": "00" * 32}, format="json")
    assert answer.status_code == 409
    bidder = APIClient()
    bidder.force_authenticate(cworld.bidders[0].user)
    assert bidder.get(f"/api/v1/tenders/{cworld.tender.pk}/custodial-share/").status_code == 403
