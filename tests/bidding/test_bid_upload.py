"""The resumable upload of sealed bids (docs/bid-upload-api.md): a bidder uploads in chunks, in any
order and with repeats, finalises, and gets a receipt signed by the platform; a newer version
replaces the older; withdrawal before the deadline; and every bad input is refused with a clear
code while the bid in force stays exactly as it was."""

from __future__ import annotations

import io
import os
from datetime import UTC, timedelta

import pytest
from django.core.files.storage import storages

from audit.models import AuditEvent
from audit.selectors import verify_chain
from bidding import receipts, sealing
from bidding.models import Bid, BidUpload, UploadChunk
from tests.factories import actor

from .bid_world import UA, World, api_for, new_keys, prefix_of, register_keys, seal_bytes, world, clock  # noqa: F401

pytestmark = pytest.mark.django_db


def stored_bytes(bid: Bid) -> bytes:
    with storages["bids"].open(bid.storage_name, "rb") as f:
        return f.read()


def leftover_chunks() -> list:
    root = storages["bids"].path("uploads")
    return [path for base, _, files in os.walk(root) for path in files] if os.path.isdir(root) else []


def test_a_bid_uploaded_in_chunks_out_of_order_and_repeated_is_accepted_with_a_signed_receipt(world):
    plaintext = os.urandom(9000)
    data = world.seal(plaintext)
    created = world.create(data)
    assert created.status_code == 201, created.json()
    upload = created.json()
    assert upload["missing"] == [[0, len(data)]] and upload["status"] == "open" and created["Location"] == upload["url"]
    pieces = [(start, min(start + 4096, len(data))) for start in range(0, len(data), 4096)]
    for start, end in reversed(pieces):
        assert world.put(upload["id"], data, start, end).status_code == 200
    again = world.put(upload["id"], data, *pieces[0])
    assert again.status_code == 200 and again.json()["missing"] == [] and again.json()["received_bytes"] == len(data)

    accepted = world.finalise(upload["id"])
    assert accepted.status_code == 201, accepted.json()
    body = accepted.json()
    bid = Bid.objects.get(pk=body["bid"]["id"])
    assert bid.status == "received" and bid.version == 1 and body["bid"]["status"] == "received"
    assert bid.received_at == world.clock.moment
    assert stored_bytes(bid) == data
    # The stored file is the bidder's sealed file, and only its key opens it.
    out = io.BytesIO()
    header, _ = sealing.read_header(io.BytesIO(stored_bytes(bid)))
    data_key = sealing.unwrap_data_key(header, world.keys.decryption)
    sealing.open_sealed(io.BytesIO(stored_bytes(bid)), out, data_key=data_key,
                        signing_public_key=world.keys.signing.public_key(), expected_binding=world.binding())
    assert out.getvalue() == plaintext

    receipt = body["receipt"]
    statement = receipt["statement"]
    assert statement["sealed_sha256"] == bid.sha256 and statement["bid_version"] == 1 and statement["lot"]["id"] == world.lot.pk
    key = world.client.get("/api/v1/platform/key/").json()
    assert receipts.verify_receipt(receipt, bytes.fromhex(key["public_key"]))
    forged = {**receipt, "statement": {**statement, "received_at": "2026-03-01T00:00:00Z"}}
    assert not receipts.verify_receipt(forged, bytes.fromhex(key["public_key"]))
    event = AuditEvent.objects.get(seq=statement["audit"]["seq"])
    assert event.action == "bid.received" and event.hash == statement["audit"]["hash"]
    assert verify_chain().ok
    assert not UploadChunk.objects.exists() and leftover_chunks() == []


def test_the_evidence_for_regulators_is_recorded_with_the_bid(world):
    body = world.submit()
    bid = Bid.objects.get(pk=body["bid"]["id"])
    assert bid.ip == "203.0.113.7" and bid.user_agent == UA
    assert bid.tool_name == "etender-python-sealing" and len(bid.tool_fingerprint) == 64
    assert bid.upload_started_at is not None and bid.received_at >= bid.upload_started_at
    started = AuditEvent.objects.get(action="bid.upload_started")
    assert started.ip == "203.0.113.7"
    assert "etender-python-sealing" in started.body and UA in started.body


def test_asking_again_for_an_accepted_upload_returns_the_same_receipt(world):
    upload_id = world.send_all(world.seal())
    first = world.finalise(upload_id)
    second = world.finalise(upload_id)
    assert first.status_code == 201 and second.status_code == 200
    assert second.json() == first.json()
    assert Bid.objects.count() == 1


def test_a_newer_version_replaces_the_older_one(world):
    first = world.submit()["bid"]
    world.clock.advance(hours=1)
    second = world.submit()["bid"]
    old, new = Bid.objects.get(pk=first["id"]), Bid.objects.get(pk=second["id"])
    assert (old.status, new.status, new.version) == ("replaced", "received", 2)
    assert old.replaced_by == new
    # The old file stays as evidence.
    assert storages["bids"].exists(old.storage_name)
    listed = world.client.get(f"/api/v1/bids/?lot={world.lot.pk}").json()
    assert [item["version"] for item in listed] == [2, 1]


def test_a_bid_is_withdrawn_before_the_deadline_and_can_be_submitted_again(world):
    bid = world.submit()["bid"]
    withdrawn = world.client.post(f"/api/v1/bids/{bid['id']}/withdraw/", {"reason": "报价有误"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert world.in_force() is None
    assert world.client.post(f"/api/v1/bids/{bid['id']}/withdraw/", {}, format="json").json()["code"] == "not_in_force"
    again = world.submit()["bid"]
    assert again["version"] == 2 and world.in_force().pk == again["id"]


def test_withdrawal_after_the_deadline_is_refused(world):
    bid = world.submit()["bid"]
    world.clock.set(world.tender.bid_deadline)
    refused = world.client.post(f"/api/v1/bids/{bid['id']}/withdraw/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "deadline_passed"
    assert world.in_force().pk == bid["id"]


def test_a_finalisation_after_the_deadline_is_refused_and_keeps_nothing(world):
    previous = world.submit()["bid"]
    before = world.state()
    upload_id = world.send_all(world.seal())
    world.clock.set(world.tender.bid_deadline + timedelta(seconds=1))
    refused = world.finalise(upload_id)
    assert refused.status_code == 400 and refused.json()["code"] == "deadline_passed"
    assert "投标截止时间" in refused.json()["detail"]
    assert world.state() == before and world.in_force().pk == previous["id"]
    upload = BidUpload.objects.get(pk=upload_id)
    assert upload.status == "refused" and upload.refusal_code == "deadline_passed"
    assert leftover_chunks() == []
    assert AuditEvent.objects.filter(action="bid.upload_refused").count() == 1


def test_a_finalisation_one_second_before_the_deadline_is_accepted(world):
    upload_id = world.send_all(world.seal())
    world.clock.set(world.tender.bid_deadline - timedelta(seconds=1))
    assert world.finalise(upload_id).status_code == 201


def test_an_upload_cannot_start_after_the_deadline(world):
    data = world.seal()
    world.clock.set(world.tender.bid_deadline)
    refused = world.create(data)
    assert refused.status_code == 400 and refused.json()["code"] == "deadline_passed"
    assert not BidUpload.objects.exists()


def test_an_incomplete_upload_cannot_be_finalised_but_stays_open_for_the_rest(world):
    data = world.seal()
    upload_id = world.create(data).json()["id"]
    world.put(upload_id, data, 0, 4096)
    refused = world.finalise(upload_id)
    assert refused.status_code == 400 and refused.json()["code"] == "incomplete"
    state = world.client.get(f"/api/v1/bid-uploads/{upload_id}/").json()
    assert state["status"] == "open" and state["missing"] == [[4096, len(data)]]
    for start in range(4096, len(data), 4096):
        world.put(upload_id, data, start, min(start + 4096, len(data)))
    assert world.finalise(upload_id).status_code == 201


def test_an_open_upload_is_listed_for_resuming_and_can_be_abandoned(world):
    data = world.seal()
    upload_id = world.create(data).json()["id"]
    world.put(upload_id, data, 0, 4096)
    listed = world.client.get(f"/api/v1/bid-uploads/?lot={world.lot.pk}&status=open").json()
    assert [item["id"] for item in listed] == [upload_id]
    import hashlib

    assert listed[0]["header_sha256"] == hashlib.sha256(prefix_of(data)).hexdigest()
    assert world.client.delete(f"/api/v1/bid-uploads/{upload_id}/").status_code == 204
    assert BidUpload.objects.get(pk=upload_id).status == "abandoned" and leftover_chunks() == []
    late = world.put(upload_id, data, 4096, 8192)
    assert late.status_code == 409 and late.json()["code"] == "upload_closed"


# --- bad input: a clear code, and the bid in force stays as it was -------------------------------


def _flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def test_a_tampered_segment_byte_is_refused_at_finalisation(world):
    world.submit()
    before = world.state()
    data = world.seal()
    upload_id = world.create(data).json()["id"]
    tampered = _flip(data, len(data) - 10)
    for start in range(0, len(data), 4096):
        world.put(upload_id, tampered, start, min(start + 4096, len(data)))
    refused = world.finalise(upload_id)
    assert refused.status_code == 400 and refused.json()["code"] == "tampered"
    assert world.state() == before


def test_a_header_changed_after_creation_is_refused(world):
    world.submit()
    before = world.state()
    data = world.seal()
    upload_id = world.create(data).json()["id"]
    changed = _flip(data, 20)
    for start in range(0, len(data), 4096):
        world.put(upload_id, changed, start, min(start + 4096, len(data)))
    refused = world.finalise(upload_id)
    assert refused.json()["code"] == "tampered" and world.state() == before


def test_a_replayed_sealed_file_is_refused(world):
    data = world.seal()
    world.submit(data)
    before = world.state()
    refused = world.create(data)
    assert refused.status_code == 400 and refused.json()["code"] == "replay"
    assert world.state() == before


def _bad_creations(world: World) -> dict:
    other_bidder = world.bidder.__class__.objects.exclude(pk=world.bidder.pk).filter(role="bidder").first()
    data = world.seal()
    stranger = new_keys()
    return {
        "not_sealed": (b"PK\x03\x04" + os.urandom(200), {}),
        "bad_header": (data[:40], {"size": len(data)}),
        "bad_signature": (data[: len(prefix_of(data)) - 1] + bytes([data[len(prefix_of(data)) - 1] ^ 1]) + data[len(prefix_of(data)) :], {}),
        "binding_other_lot": (world.seal(binding=world.binding(lot=world.other_lot)), {}),
        "binding_other_bidder": (world.seal(binding=world.binding(bidder=other_bidder.organisation)) if other_bidder else None, {}),
        "foreign_decryption_key": (world.seal(recipient=stranger.decryption), {}),
        "foreign_signing_key": (world.seal(signer=stranger.signing), {}),
        "declared_size": (data, {"size": len(data) + 1}),
        "truncated": (data[:-16], {}),
    }


EXPECTED = {
    "not_sealed": "not_sealed",
    "bad_header": "bad_header",
    "bad_signature": "bad_signature",
    "binding_other_lot": "binding_mismatch",
    "binding_other_bidder": "binding_mismatch",
    "foreign_decryption_key": "key_not_usable",
    "foreign_signing_key": "key_not_usable",
    "declared_size": "size_mismatch",
    "truncated": "size_mismatch",
}


@pytest.mark.parametrize("case", list(EXPECTED))
def test_each_bad_sealed_file_is_refused_at_creation_and_the_bid_in_force_stays(world, case):
    from tests import factories

    factories.register_bidder(world.tender)  # another bidder, for the binding case
    world.submit()
    before, events = world.state(), AuditEvent.objects.count()
    data, options = _bad_creations(world)[case]
    prefix = data if case in ("not_sealed", "bad_header") else None
    refused = world.create(data, prefix=prefix, **options)
    assert refused.status_code == 400, refused.json()
    assert refused.json()["code"] == EXPECTED[case], refused.json()
    assert refused.json()["detail"]
    assert world.state() == before and AuditEvent.objects.count() == events
    assert BidUpload.objects.filter(status="open").count() == 0


def test_a_bid_sealed_with_a_revoked_key_is_refused(world):
    data = world.seal()
    register_keys(world.bidder, new_keys())  # rotation revokes the keys `data` was sealed with
    refused = world.create(data)
    assert refused.json()["code"] == "key_not_usable" and "撤销" in refused.json()["detail"]


def test_a_key_revoked_during_the_upload_refuses_the_finalisation(world):
    upload_id = world.send_all(world.seal())
    register_keys(world.bidder, new_keys())
    refused = world.finalise(upload_id)
    assert refused.json()["code"] == "key_not_usable"
    assert not Bid.objects.exists()


def test_oversized_uploads_are_refused_before_any_byte_is_stored(world, settings):
    data = world.seal()
    settings.PLATFORM_MAX_BID_BYTES = len(data) - 1
    refused = world.create(data)
    assert refused.status_code == 400 and refused.json()["code"] == "too_large"
    assert not BidUpload.objects.exists()


def test_chunk_refusals(world):
    data = world.seal()
    upload_id = world.create(data).json()["id"]
    beyond = world.put(upload_id, data + b"x" * 10, len(data) - 5, len(data) + 5, total=len(data))
    assert beyond.status_code == 416 and beyond.json()["code"] == "out_of_range"
    other_total = world.put(upload_id, data, 0, 100, total=len(data) + 1)
    assert other_total.status_code == 416
    too_big = world.put(upload_id, data, 0, 4097)
    assert too_big.status_code == 400 and too_big.json()["code"] == "bad_range"
    no_range = world.client.put(f"/api/v1/bid-uploads/{upload_id}/", data=data[:10], content_type="application/octet-stream")
    assert no_range.status_code == 400 and no_range.json()["code"] == "bad_range"
    short = world.put(upload_id, data, 0, 4096, body=data[:100])
    assert short.status_code == 400 and short.json()["code"] == "bad_range"
    assert world.put(upload_id, data, 0, 4096).status_code == 200
    different = world.put(upload_id, data, 0, 4096, body=os.urandom(4096))
    assert different.status_code == 409 and different.json()["code"] == "chunk_conflict"
    unaligned = world.put(upload_id, data, 2048, 6144)
    assert unaligned.status_code == 400 and unaligned.json()["code"] == "bad_range"
    tiny = world.put(upload_id, data, 4096, 4097)
    assert tiny.status_code == 400 and tiny.json()["code"] == "bad_range"
    state = world.client.get(f"/api/v1/bid-uploads/{upload_id}/").json()
    assert state["ranges"] == [[0, 4096]]
    assert len(leftover_chunks()) == 1


def test_chunks_and_finalisation_of_a_finished_upload_are_refused(world):
    data = world.seal()
    upload_id = world.send_all(data)
    world.finalise(upload_id)
    late = world.put(upload_id, data, 0, 4096)
    assert late.status_code == 409 and late.json()["code"] == "upload_closed"


def test_the_receipt_pdf_embeds_a_chinese_font(world):
    bid = world.submit()["bid"]
    response = world.client.get(bid["receipt_pdf_url"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf and b"WQYZenHei" in pdf
    assert world.client.get(bid["receipt_url"]).json()["signature"]


def test_release_key_is_refused_before_the_opening(world):
    bid = world.submit()["bid"]
    refused = world.client.post(f"/api/v1/bids/{bid['id']}/release-key/", {"data_key": "00" * 32}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "opening_not_started"


def test_the_chronograph_drops_uploads_left_unfinished_at_the_deadline(world):
    from tendering import chronograph

    accepted = world.submit()["bid"]
    data = world.seal()
    upload_id = world.create(data).json()["id"]
    world.put(upload_id, data, 0, 4096)
    assert chronograph.tick() == []  # before the deadline nothing is due
    world.clock.set(world.tender.bid_deadline)
    done = chronograph.tick()
    assert [item["id"] for item in done if item["action"] == "bid.upload_expire"] == [BidUpload.objects.get(pk=upload_id).pk]
    upload = BidUpload.objects.get(pk=upload_id)
    assert upload.status == "abandoned" and upload.refusal_code == "deadline_passed" and leftover_chunks() == []
    assert Bid.objects.get(pk=accepted["id"]).status == "received"
    assert not any(item["action"] == "bid.upload_expire" for item in chronograph.tick())


def test_a_bidder_without_the_tender_documents_is_told_to_obtain_them(world):
    from tests.factories import person

    stranger = person("bidder")
    keys = new_keys()
    register_keys(stranger, keys)
    data = seal_bytes(os.urandom(100), keys=keys, binding=world.binding(bidder=stranger.organisation))
    refused = world.create(data, client=api_for(stranger))
    assert refused.status_code == 400 and refused.json()["code"] == "not_registered"
    assert not BidUpload.objects.exists()


@pytest.mark.parametrize("role", ["tenderer", "regulator"])
def test_only_bidders_may_upload(world, role):
    from tests.factories import person

    refused = world.create(world.seal(), client=api_for(person(role)))
    assert refused.status_code == 403 and not BidUpload.objects.exists()


def test_the_receipt_pdf_can_be_asked_for_by_its_media_type(world):
    bid = world.submit()["bid"]
    response = world.client.get(bid["receipt_pdf_url"], HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    missing = world.client.get("/api/v1/bids/999999/receipt.pdf", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404 and missing.json()["detail"]


# --- capacity, concurrency and the deadline during a long check ----------------------------------


def test_creating_the_same_upload_again_continues_the_open_one(world):
    data = world.seal()
    first = world.create(data)
    again = world.create(data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and BidUpload.objects.count() == 1


def test_a_bidder_cannot_hold_more_than_a_few_open_uploads_per_lot(world):
    from bidding.services.bids import MAX_OPEN_UPLOADS

    for _ in range(MAX_OPEN_UPLOADS):
        assert world.create(world.seal()).status_code == 201
    refused = world.create(world.seal())
    assert refused.status_code == 400 and refused.json()["code"] == "too_many_uploads"
    assert BidUpload.objects.count() == MAX_OPEN_UPLOADS


def test_versions_per_lot_are_capped(world, settings):
    settings.PLATFORM_MAX_BID_VERSIONS = 2
    world.submit()
    world.submit()
    before = world.state()
    refused = world.create(world.seal())
    assert refused.json()["code"] == "too_many_versions" and world.state() == before


def test_an_upload_the_disk_cannot_hold_is_refused_before_it_starts(world, settings):
    import shutil

    settings.PLATFORM_MIN_FREE_BYTES = shutil.disk_usage("/").total * 4
    refused = world.create(world.seal())
    assert refused.status_code == 503 and refused.json()["code"] == "storage_full" and refused["Retry-After"]
    assert not BidUpload.objects.exists()


def test_an_old_version_with_a_rewritten_signature_is_still_a_replay(world):
    """ECDSA signatures are malleable: (r, n − s) verifies too. The replay check must not rely on
    the signature bytes."""
    first = world.seal()
    world.submit(first)
    world.submit()
    prefix = prefix_of(first)
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    s = int.from_bytes(prefix[-32:], "big")
    twisted = first[: len(prefix) - 32] + (n - s).to_bytes(32, "big") + first[len(prefix) :]
    assert twisted != first
    refused = world.create(twisted)
    assert refused.status_code == 400 and refused.json()["code"] == "replay"
    assert world.in_force().version == 2


def test_a_check_that_ends_after_the_deadline_still_accepts_a_bid_submitted_before_it(world, monkeypatch):
    """The chronograph does not close the lot while a bid submitted in time is being checked."""
    from bidding.services import bids as bid_services
    from tendering import chronograph
    from tendering.models import LotState

    upload_id = world.send_all(world.seal())
    submitted = world.clock.set(world.tender.bid_deadline - timedelta(seconds=1))
    real_join = bid_services._join
    ticks = []

    def slow_join(upload):
        world.clock.advance(seconds=30)  # a large file takes a while to check
        ticks.append(chronograph.tick())
        return real_join(upload)

    monkeypatch.setattr(bid_services, "_join", slow_join)
    accepted = world.finalise(upload_id)
    assert accepted.status_code == 201, accepted.json()
    assert not any(item["action"] == "lot.close" and item["id"] == world.lot.pk for item in ticks[0])
    bid = Bid.objects.get(pk=accepted.json()["bid"]["id"])
    assert bid.received_at == submitted and bid.status == "received"
    assert accepted.json()["receipt"]["statement"]["received_at"] == submitted.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    chronograph.tick()
    world.lot.refresh_from_db()
    assert world.lot.state in (LotState.CLOSED, LotState.FAILED)


def test_a_finalisation_already_being_checked_answers_retry_later(world):
    upload_id = world.send_all(world.seal())
    BidUpload.objects.filter(pk=upload_id).update(status="finalising", submitted_at=world.clock.moment)
    busy = world.finalise(upload_id)
    assert busy.status_code == 503 and busy.json()["code"] == "finalising" and busy["Retry-After"] == "5"
    assert not Bid.objects.exists()


def test_an_interrupted_check_is_taken_over_keeping_its_submission_time(world):
    upload_id = world.send_all(world.seal())
    submitted = world.clock.moment
    BidUpload.objects.filter(pk=upload_id).update(status="finalising", submitted_at=submitted)
    world.clock.advance(minutes=20)
    accepted = world.finalise(upload_id)
    assert accepted.status_code == 201 and Bid.objects.get().received_at == submitted


def test_versions_are_checked_one_at_a_time_so_they_are_accepted_in_submission_order(world):
    first = world.send_all(world.seal())
    second = world.send_all(world.seal())
    BidUpload.objects.filter(pk=first).update(status="finalising", submitted_at=world.clock.moment)
    busy = world.finalise(second)
    assert busy.status_code == 503 and busy.json()["code"] == "finalising"
    assert BidUpload.objects.get(pk=second).status == "open"
