"""Decrypting released bids and reading their prices (opening/services/decryption.py): the price
reading (唱标) appears live with progress before it; words differing from figures are flagged and
the words prevail (P19); hostile or foreign packages fail as the bidder's doing and damaged
storage as the platform's (E31), the opening going on for the others; a bid is decrypted once,
by one worker, and a dead worker's bid is taken over; the decryption phase ends with the last
result."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.files.storage import storages

from audit.models import AuditEvent
from bidding import sealing
from bidding.capital_numerals import to_capital
from bidding.models import BidStatus
from opening import services, tasks
from opening.models import BidOpening, DecryptionStatus, FailureSide, RoomEvent, SessionState
from opening.services import decryption
from tendering import chronograph
from tests.factories import actor

from .world import OpeningWorld, make_package, seal_package, submit
from .world import clock, dummy_tasks, immediate_tasks, world  # noqa: F401

pytestmark = pytest.mark.django_db


# --- helpers -------------------------------------------------------------------------------------


def started(world, checked_in=4):
    session = world.opened()
    for bidder in world.bidders[:checked_in]:
        services.opening_check_in(by=actor(bidder.user), session=session)
    return services.opening_start_decryption(by=actor(world.host), session=session)


def opening_of(bidder) -> BidOpening:
    return BidOpening.objects.select_related("session").get(bid=bidder.bid)


def release(bidder, capture=None) -> BidOpening:
    def go():
        return services.opening_release_key(by=actor(bidder.user), bid_opening=opening_of(bidder),
                                            data_key=bidder.data_key())

    if capture is None:
        return go()
    with capture(execute=True):
        return go()


def events(session, kind=None, bid=None) -> list[dict]:
    found = RoomEvent.objects.filter(room=session.room).order_by("seq")
    if kind:
        found = found.filter(kind=kind)
    return [e.payload for e in found if bid is None or e.payload.get("bid") == bid]


def rebid(world, bidder, package: bytes | None = None, sealed_bytes: bytes | None = None) -> None:
    """Before the deadline the bidder submits a new version (its package, or sealed bytes as given)."""
    if sealed_bytes is None:
        bidder.package = package
        sealed_bytes = seal_package(package, bidder=bidder, binding=world.binding(bidder))
    bidder.sealed = sealed_bytes
    bidder.bid = submit(bidder, world.lot, sealed_bytes)


def summary_for(world, bidder, documents: dict[str, bytes], **changes) -> dict:
    listed = [{"path": n, "size": len(c), "sha256": hashlib.sha256(c).hexdigest()}
              for n, c in sorted(documents.items())]
    return {
        "format": "etender-bid", "version": 1, "tender": str(world.tender.pk), "lot": str(world.lot.pk),
        "bidder": bidder.organisation.credit_code,
        "price_fen": bidder.price_fen, "price_capital": to_capital(bidder.price_fen),
        "duration_days": 365, "quality": "合格", "project_manager": {"name": "张工", "certificate": "粤144000000001"},
        "documents": listed, **changes,
    }


def handmade(entries: list[tuple[str, bytes]], summary: dict | bool = None, *, compression=zipfile.ZIP_STORED) -> bytes:
    """A ZIP written entry by entry, with `summary` as bid.json (none when False)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
        if summary is not False:
            archive.writestr("bid.json", json.dumps(summary, ensure_ascii=False))
    return out.getvalue()


def with_bid_json(package: bytes, **changes) -> bytes:
    """The same package with fields of bid.json changed (what bidpack.pack would refuse to write)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "bid.json":
                data = json.dumps({**json.loads(data), **changes}, ensure_ascii=False).encode()
            target.writestr(info, data)
    return out.getvalue()


def opened_files() -> list[str]:
    root = os.path.join(storages["bids"].location, "opened")
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


# --- the price reading ---------------------------------------------------------------------------


def test_a_released_bid_is_decrypted_and_its_price_read_for_everyone(world):
    session = started(world)
    bidder = world.bidders[0]
    release(bidder)
    assert decryption.decrypt(opening_of(bidder).pk) == "opened"

    opening = opening_of(bidder)
    assert opening.status == DecryptionStatus.OPENED and opening.valid
    assert opening.price_fen == bidder.price_fen and opening.price_in_words == to_capital(bidder.price_fen)
    assert opening.price_in_words_fen == bidder.price_fen and not opening.price_mismatch
    assert opening.price_prevailing_fen == bidder.price_fen
    assert (opening.duration_days, opening.quality, opening.project_manager, opening.project_manager_certificate) == (
        365, "合格", "张工", "粤144000000001")
    assert opening.read_at == world.clock.moment and opening.decrypted_at == world.clock.moment
    # The plaintext ZIP is kept in the bids storage, with its hash.
    assert opening.plaintext_name == f"opened/{world.tender.pk}/{world.lot.pk}/{bidder.bid.pk}.zip"
    with storages["bids"].open(opening.plaintext_name, "rb") as stored:
        assert stored.read() == bidder.package
    assert opening.plaintext_sha256 == hashlib.sha256(bidder.package).hexdigest()

    [reading] = events(session, "price_read")
    assert reading == {
        "bid": bidder.bid.pk, "bidder": bidder.organisation.name, "price_fen": bidder.price_fen,
        "price_in_words": to_capital(bidder.price_fen), "price_in_words_fen": bidder.price_fen,
        "price_prevailing_fen": bidder.price_fen, "price_mismatch": False, "duration_days": 365, "quality": "合格",
        "project_manager": "张工", "project_manager_certificate": "粤144000000001",
    }
    audit = AuditEvent.objects.filter(action="opening.price_read").get()
    assert str(bidder.price_fen) in audit.body and opening.plaintext_sha256 in audit.body
    bidder.bid.refresh_from_db()
    assert bidder.bid.status == BidStatus.RECEIVED
    session.refresh_from_db()
    assert session.state == SessionState.DECRYPTING  # the others are still to come


def test_progress_is_shown_live_per_bid(db, clock, dummy_tasks, monkeypatch):  # noqa: F811
    world = OpeningWorld(clock)
    big = world.bidders[1]
    documents = {"技术标/施工组织设计.pdf": os.urandom(300_000), "商务标/报价清单.xlsx": b"PK price list"}
    package = make_package(tender_id=world.tender.pk, lot_id=world.lot.pk, credit_code=big.organisation.credit_code,
                           price_fen=big.price_fen, documents=documents)
    rebid(world, big, package)
    session = started(world)
    release(big)
    monkeypatch.setattr(decryption, "PROGRESS_BYTES", 0)
    monkeypatch.setattr(decryption, "PROGRESS_SECONDS", 0)
    assert decryption.decrypt(opening_of(big).pk) == "opened"

    progress = events(session, "decryption_progress", bid=big.bid.pk)
    total = len(big.package)
    assert {p["total"] for p in progress} == {total}
    done = [p["done"] for p in progress]
    assert done[0] == 0 and done[-1] == total and done == sorted(set(done)) and len(done) >= 5  # 64 KiB segments
    kinds = [e.kind for e in RoomEvent.objects.filter(room=session.room).order_by("seq")]
    assert kinds.index("price_read") > max(i for i, k in enumerate(kinds) if k == "decryption_progress")
    assert opening_of(big).progress_bytes == total


def test_progress_events_are_throttled(world):
    session = started(world)
    bidder = world.bidders[0]
    release(bidder)
    decryption.decrypt(opening_of(bidder).pk)
    # A small bid decrypts well within the throttle: the bar starts and ends.
    assert [p["done"] for p in events(session, "decryption_progress")] == [0, len(bidder.package)]


def test_words_differing_from_figures_are_flagged_and_the_words_prevail(world):
    bidder = world.bidders[2]
    in_words = bidder.price_fen - 1_000_000_00
    rebid(world, bidder, with_bid_json(bidder.package, price_capital=to_capital(in_words)))
    session = started(world)
    release(bidder)
    assert decryption.decrypt(opening_of(bidder).pk) == "opened"

    opening = opening_of(bidder)
    assert opening.price_fen == bidder.price_fen and opening.price_in_words == to_capital(in_words)
    assert opening.price_in_words_fen == in_words and opening.price_mismatch
    assert opening.price_prevailing_fen == in_words
    [reading] = events(session, "price_read")
    assert reading["price_mismatch"] is True and reading["price_prevailing_fen"] == in_words
    assert reading["price_fen"] == bidder.price_fen and reading["price_in_words"] == to_capital(in_words)


# --- failures (E31) ------------------------------------------------------------------------------


def zip_bomb(world, bidder) -> bytes:
    documents = {"zeros.pdf": bytes(8 << 20)}
    return handmade(list(documents.items()), summary_for(world, bidder, documents), compression=zipfile.ZIP_DEFLATED)


def escaping_path(world, bidder) -> bytes:
    documents = {"../x": b"outside"}
    return handmade(list(documents.items()), summary_for(world, bidder, {"x.pdf": b"outside"}))


def missing_bid_json(world, bidder) -> bytes:
    return handmade([("技术标/方案.pdf", b"%PDF-1.7")], summary=False)


def another_lot(world, bidder) -> bytes:
    return make_package(tender_id=world.tender.pk, lot_id=world.lot.pk + 1000,
                        credit_code=bidder.organisation.credit_code, price_fen=bidder.price_fen)


def another_bidder(world, bidder) -> bytes:
    other = world.bidders[0].organisation.credit_code
    return make_package(tender_id=world.tender.pk, lot_id=world.lot.pk, credit_code=other, price_fen=bidder.price_fen)


def unlisted_file(world, bidder) -> bytes:
    return handmade([("a.pdf", b"a"), ("extra.exe", b"MZ")], summary_for(world, bidder, {"a.pdf": b"a"}))


def not_a_zip(world, bidder) -> bytes:
    return b"%PDF-1.7 a bid that is not a package"


@pytest.mark.parametrize(
    ("hostile", "code", "words"),
    [
        (zip_bomb, "zip_bomb", "压缩炸弹"),
        (escaping_path, "unsafe_path", "越出文件夹"),
        (missing_bid_json, "missing_summary", "缺少开标一览表"),
        (another_lot, "summary_mismatch", "标段"),
        (another_bidder, "summary_mismatch", "统一社会信用代码"),
        (unlisted_file, "unlisted_file", "未列出"),
        (not_a_zip, "not_a_zip", "不是 ZIP"),
    ],
)
def test_a_hostile_or_foreign_package_fails_as_the_bidders_doing(world, hostile, code, words):
    bidder = world.bidders[1]
    rebid(world, bidder, hostile(world, bidder))
    session = started(world)
    release(bidder)
    assert decryption.decrypt(opening_of(bidder).pk) == "failed"

    opening = opening_of(bidder)
    assert opening.status == DecryptionStatus.FAILED and not opening.valid
    assert (opening.failure_side, opening.failure_code) == (FailureSide.BIDDER, code)
    assert words in opening.failure_detail
    assert opening.price_fen is None and opening.plaintext_name == "" and opened_files() == []  # nothing partial left
    bidder.bid.refresh_from_db()
    assert bidder.bid.status == BidStatus.REVOKED  # E31: counted as revoked
    [failed] = events(session, "decryption_failed")
    assert failed == {"bid": bidder.bid.pk, "bidder": bidder.organisation.name, "code": code, "side": "bidder",
                      "detail": opening.failure_detail}
    assert not events(session, "price_read")
    assert AuditEvent.objects.filter(action="opening.decryption_failed").count() == 1
    # The opening goes on for the others.
    other = world.bidders[0]
    release(other)
    assert decryption.decrypt(opening_of(other).pk) == "opened"


def bad_segment_sealed_by_the_bidder(world, bidder) -> bytes:
    """Sealed with the bidder's committed key, then a segment altered and the header re-signed by
    the bidder over the altered bytes: the file the platform receives is consistent, but a segment
    fails authentication under the data key the bidder committed to."""
    sealed_bytes = seal_package(bidder.package, bidder=bidder, binding=world.binding(bidder), segment_size=64)
    header, _ = sealing.read_header(io.BytesIO(sealed_bytes))
    start = len(header.signed_bytes()) + 64
    body = bytearray(sealed_bytes[start:])
    body[200] ^= 0x01
    altered = replace(header, ciphertext_sha256=hashlib.sha256(body).hexdigest()).with_raw()
    return altered.signed_bytes() + sealing._sign(altered, bidder.signing) + bytes(body)


def test_segments_failing_under_the_committed_key_are_the_bidders_doing(world):
    bidder = world.bidders[3]
    rebid(world, bidder, sealed_bytes=bad_segment_sealed_by_the_bidder(world, bidder))
    session = started(world)
    release(bidder)  # the key matches the commitment in the signed header
    assert decryption.decrypt(opening_of(bidder).pk) == "failed"

    opening = opening_of(bidder)
    assert (opening.failure_side, opening.failure_code) == (FailureSide.BIDDER, "segment_tampered")
    assert "完整性校验" in opening.failure_detail and opened_files() == []
    bidder.bid.refresh_from_db()
    assert bidder.bid.status == BidStatus.REVOKED
    assert events(session, "decryption_failed")[0]["side"] == "bidder"


def test_a_stored_file_damaged_after_upload_fails_as_not_the_bidders_doing(world):
    bidder = world.bidders[0]
    session = started(world)
    path = storages["bids"].path(bidder.bid.storage_name)
    with open(path, "r+b") as stored:
        stored.seek(-10, os.SEEK_END)
        byte = stored.read(1)
        stored.seek(-10, os.SEEK_END)
        stored.write(bytes([byte[0] ^ 0xFF]))
    release(bidder)
    assert decryption.decrypt(opening_of(bidder).pk) == "failed"

    opening = opening_of(bidder)
    assert (opening.failure_side, opening.failure_code) == (FailureSide.OTHER, "storage_damaged")
    assert "存储" in opening.failure_detail and opened_files() == []
    bidder.bid.refresh_from_db()
    assert bidder.bid.status == BidStatus.WITHDRAWN  # E31: counted as withdrawn
    [failed] = events(session, "decryption_failed")
    assert failed["side"] == "other" and failed["code"] == "storage_damaged"


def test_a_stored_file_gone_fails_as_not_the_bidders_doing(world):
    bidder = world.bidders[0]
    started(world)
    storages["bids"].delete(bidder.bid.storage_name)
    release(bidder)
    assert decryption.decrypt(opening_of(bidder).pk) == "failed"
    opening = opening_of(bidder)
    assert (opening.failure_side, opening.failure_code) == (FailureSide.OTHER, "file_missing")
    bidder.bid.refresh_from_db()
    assert bidder.bid.status == BidStatus.WITHDRAWN


def test_an_unexpected_error_fails_as_not_the_bidders_doing(world, monkeypatch):
    bidder = world.bidders[0]
    started(world)
    release(bidder)

    def broken(package):
        raise MemoryError("out of memory")

    monkeypatch.setattr(decryption.bidpack, "verify_pack", broken)
    assert decryption.decrypt(opening_of(bidder).pk) == "failed"
    opening = opening_of(bidder)
    assert (opening.failure_side, opening.failure_code) == (FailureSide.OTHER, "unexpected")
    assert opened_files() == []


# --- once, by one worker -------------------------------------------------------------------------


def test_running_the_job_again_changes_nothing(world):
    session = started(world)
    bidder = world.bidders[0]
    release(bidder)
    assert decryption.decrypt(opening_of(bidder).pk) == "opened"
    before = (RoomEvent.objects.count(), AuditEvent.objects.count(), opening_of(bidder).read_at, opened_files())
    world.clock.advance(minutes=1)
    assert tasks.decrypt_bid.call(opening_of(bidder).pk) == "opened"
    assert (RoomEvent.objects.count(), AuditEvent.objects.count(), opening_of(bidder).read_at, opened_files()) == before

    failing = world.bidders[1]
    storages["bids"].delete(failing.bid.storage_name)
    release(failing)
    assert decryption.decrypt(opening_of(failing).pk) == "failed"
    counted = (RoomEvent.objects.count(), AuditEvent.objects.count())
    assert decryption.decrypt(opening_of(failing).pk) == "failed"
    assert (RoomEvent.objects.count(), AuditEvent.objects.count()) == counted
    assert len(events(session, "decryption_failed")) == 1


def test_a_bid_not_released_is_not_decrypted(world):
    started(world)
    bidder = world.bidders[0]
    assert decryption.decrypt(opening_of(bidder).pk) == "awaiting"
    assert opening_of(bidder).status == DecryptionStatus.AWAITING


def test_a_bid_being_decrypted_is_left_to_its_worker_and_a_dead_workers_bid_taken_over(world):
    session = started(world)
    bidder = world.bidders[0]
    release(bidder)
    pk = opening_of(bidder).pk
    dead = decryption._claim(pk)  # a worker claims the bid, then dies
    assert opening_of(bidder).status == DecryptionStatus.DECRYPTING
    assert decryption.decrypt(pk) == "decrypting"  # a second job leaves it alone
    assert decryption.stalled() == []

    world.clock.set(world.clock.moment + decryption.STALE_AFTER)
    assert decryption.stalled() == [pk]
    assert decryption.decrypt(pk) == "opened"
    opening = opening_of(bidder)
    assert opening.plaintext_name != dead.name and opened_files() == [os.path.relpath(opening.plaintext_name, "opened")]
    assert len(events(session, "price_read")) == 1

    # The worker thought dead comes back: it finds the bid taken and leaves no trace.
    assert decryption.run(dead) == "opened"
    assert opened_files() == [os.path.relpath(opening.plaintext_name, "opened")]
    assert len(events(session, "price_read")) == 1 and opening_of(bidder).plaintext_name == opening.plaintext_name


def test_a_taken_over_worker_whose_file_vanished_still_loses_its_claim(world):
    started(world)
    bidder = world.bidders[0]
    release(bidder)
    dead = decryption._claim(opening_of(bidder).pk)
    storages["bids"].delete(dead.name)
    world.clock.set(world.clock.moment + decryption.STALE_AFTER)
    assert decryption.decrypt(opening_of(bidder).pk) == "opened"
    taken_over = opening_of(bidder).plaintext_name
    assert taken_over != dead.name
    assert decryption.run(dead) == "opened"
    assert opening_of(bidder).plaintext_name == taken_over and opened_files() == [os.path.relpath(taken_over, "opened")]


def test_lost_jobs_are_queued_again(world, settings):
    started(world)
    bidder = world.bidders[0]
    release(bidder)  # the job is queued (dummy backend) but never runs
    assert decryption.resume_stalled() == []
    world.clock.set(world.clock.moment + decryption.STALE_AFTER)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert decryption.resume_stalled() == [opening_of(bidder).pk]
    assert opening_of(bidder).status == DecryptionStatus.OPENED


# --- the end of the decryption phase -------------------------------------------------------------


def test_the_phase_ends_when_the_last_bid_resolves_after_the_window(world):
    session = started(world)
    for bidder in world.bidders:
        release(bidder)
    world.clock.set(session.window_ends_at)
    chronograph.tick()
    session.refresh_from_db()
    assert session.state == SessionState.DECRYPTING  # released bids are still being decrypted
    for bidder in world.bidders[:3]:
        decryption.decrypt(opening_of(bidder).pk)
    session.refresh_from_db()
    assert session.state == SessionState.DECRYPTING
    storages["bids"].delete(world.bidders[3].bid.storage_name)
    assert decryption.decrypt(opening_of(world.bidders[3]).pk) == "failed"
    session.refresh_from_db()
    assert session.state == SessionState.DECRYPTED and session.decryption_closed_at == world.clock.moment
    assert events(session, "decryption_ended") == [{"valid": 3, "total": 4}]
    assert AuditEvent.objects.filter(action="openingsession.close_decryption").count() == 1


def test_the_phase_ends_early_once_every_key_is_in_and_read(world):
    session = started(world)
    for bidder in world.bidders:
        release(bidder)
        decryption.decrypt(opening_of(bidder).pk)
    session.refresh_from_db()
    assert session.state == SessionState.DECRYPTED and world.clock.moment < session.window_ends_at
    assert events(session, "decryption_ended") == [{"valid": 4, "total": 4}]


def test_a_whole_opening_three_release_and_decrypt_one_does_not(db, clock, immediate_tasks,  # noqa: F811
                                                                 django_capture_on_commit_callbacks):
    world = OpeningWorld(clock)
    session = started(world)
    for bidder in world.bidders[:3]:
        released = release(bidder, django_capture_on_commit_callbacks)
        assert released.status == DecryptionStatus.RELEASED
        assert opening_of(bidder).status == DecryptionStatus.OPENED  # decrypted in the background job
    session.refresh_from_db()
    assert session.state == SessionState.DECRYPTING
    assert [r["bidder"] for r in events(session, "price_read")] == [b.organisation.name for b in world.bidders[:3]]

    world.clock.set(session.window_ends_at)
    chronograph.tick()
    session.refresh_from_db()
    assert session.state == SessionState.DECRYPTED
    assert services.valid_bid_count(session) == 3
    late = opening_of(world.bidders[3])
    assert (late.status, late.failure_side, late.failure_code) == (
        DecryptionStatus.FAILED, FailureSide.BIDDER, "not_released")
    statuses = [b.bid.__class__.objects.get(pk=b.bid.pk).status for b in world.bidders]
    assert statuses == [BidStatus.RECEIVED] * 3 + [BidStatus.REVOKED]
    assert events(session, "decryption_ended") == [{"valid": 3, "total": 4}]
    kinds = [e.kind for e in RoomEvent.objects.filter(room=session.room).order_by("seq")]
    assert kinds.count("price_read") == 3 and kinds.count("decryption_failed") == 1 and kinds[-1] == "decryption_ended"
