"""The opening record (开标记录表; opening/services/record.py, record_statement.py, record_pdf.py,
record_signing.py): drafted by the host once decryption has ended, a PDF whose text says what the
opening produced, a hash over a canonical statement anyone can recompute, confirmed by each bidder
present with its own signing key (or a written disagreement), published to the participants with
the signatures verifiable, and required before the opening can end."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.core.management import call_command
from pypdf import PdfReader

from accounts.models import Notification
from audit.models import AuditEvent
from bidding.capital_numerals import to_capital
from config.errors import DomainError
from opening import record_signing, services
from opening.commands import dispatch
from opening.models import OpeningRecord, RecordConfirmation, RoomEvent, SessionState
from tendering.models import LotState
from tests.factories import actor, person

from .records import FAILURE_DETAIL, decrypted, publish_record, started
from .world import clock, dummy_tasks, world  # noqa: F401

pytestmark = pytest.mark.django_db


def refused(code, call, **kwargs):
    with pytest.raises(DomainError) as error:
        call(**kwargs)
    assert error.value.code == code, error.value.message
    return error.value


def pdf_text(name: str) -> str:
    with storages["bids"].open(name, "rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d} 元"


def events(session, kind):
    return [e.payload for e in RoomEvent.objects.filter(room=session.room, kind=kind).order_by("seq")]


def sign(bidder, record) -> bytes:
    return record_signing.sign(bidder.signing, record.statement_sha256)


# --- the signature scheme (pure) ----------------------------------------------------------------


def test_a_bidder_signs_the_ascii_hex_of_the_hash_with_ecdsa_p256_raw_r_s():
    key = ec.generate_private_key(ec.SECP256R1())
    digest = hashlib.sha256(b"record").hexdigest()
    signature = record_signing.sign(key, digest)
    assert len(signature) == 64 and record_signing.verify(key.public_key(), digest, signature)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    key.public_key().verify(encode_dss_signature(r, s), digest.encode("ascii"), ec.ECDSA(hashes.SHA256()))  # what the docs say
    other = ec.generate_private_key(ec.SECP256R1())
    assert not record_signing.verify(other.public_key(), digest, signature)
    assert not record_signing.verify(key.public_key(), hashlib.sha256(b"other").hexdigest(), signature)
    assert not record_signing.verify(key.public_key(), digest, signature[:63])
    assert not record_signing.verify(key.public_key(), digest, bytes(64))
    with pytest.raises(ValueError):
        record_signing.signed_message(digest.upper())


def test_the_hash_is_over_the_canonical_json_of_the_statement():
    statement = {"b": 1, "a": "开标", "v": [True, None]}
    assert record_signing.statement_text(statement) == '{"a":"开标","b":1,"v":[true,null]}'
    assert record_signing.statement_hash(statement) == hashlib.sha256('{"a":"开标","b":1,"v":[true,null]}'.encode()).hexdigest()


# --- drafting -----------------------------------------------------------------------------------


def test_the_record_is_drafted_only_after_decryption_has_ended_and_by_the_host(world):
    session = started(world)
    refused("decryption_not_ended", services.opening_record_draft, by=actor(world.host), session=session)
    from .records import end_decryption, read_prices

    read_prices(world)
    session = end_decryption(session)
    for not_the_host in (world.bidders[0].user, world.regulator):
        with pytest.raises(PermissionDenied):
            services.opening_record_draft(by=actor(not_the_host), session=session)
    refused("bad_response_minutes", services.opening_record_draft, by=actor(world.host), session=session, response_minutes=1)
    assert not OpeningRecord.objects.exists()
    services.opening_record_draft(by=actor(world.host), session=session)
    session.refresh_from_db()
    assert session.state == SessionState.RECORD
    refused("record_exists", services.opening_record_draft, by=actor(world.host), session=session)


def test_the_draft_holds_the_statement_its_hash_and_the_audit_head_of_the_opening(world):
    session = decrypted(world, checked_in=3, failed=1, mismatch=2)
    head_before = AuditEvent.objects.order_by("-seq").first()
    record = services.opening_record_draft(by=actor(world.host), session=session, response_minutes=20)
    statement = json.loads(record.statement_json)
    assert record.statement_sha256 == hashlib.sha256(record.statement_json.encode("utf-8")).hexdigest()
    assert record_signing.statement_text(statement) == record.statement_json  # canonical: reproducible
    assert statement["audit_head"] == {"seq": head_before.seq, "hash": head_before.hash}
    assert (record.audit_seq, record.audit_hash) == (head_before.seq, head_before.hash)
    assert AuditEvent.objects.filter(action="openingsession.start_decryption", seq__lte=head_before.seq).exists()
    drafted = AuditEvent.objects.get(action="opening.record_draft")
    assert drafted.seq > head_before.seq and record.statement_sha256 in drafted.body
    assert record.respond_by == world.clock.moment + timedelta(minutes=20)

    assert [p["checked_in"] for p in statement["participants"]] == [True, True, True, False]
    bids = statement["bids"]
    assert [b["bidder"]["name"] for b in bids] == [b.organisation.name for b in world.bidders]
    assert bids[1]["failure"] == {"side": "other", "counted_as": "withdrawn", "code": "plaintext_hash", "detail": FAILURE_DETAIL}
    assert bids[1]["price_fen"] is None
    assert bids[2]["price_mismatch"] and bids[2]["price_prevailing_fen"] == world.bidders[2].price_fen + 100_00
    assert statement["valid_bids"] == 3 and statement["decryption"]["window_minutes"] == 60

    [drafted_event] = events(session, "record_drafted")
    assert drafted_event["sha256"] == record.statement_sha256 and drafted_event["version"] == 1
    assert drafted_event["pdf_url"] == f"/opening/lots/{world.lot.pk}/record.pdf"
    assert [e["name"] for e in drafted_event["expected"]] == [b.organisation.name for b in world.bidders[:3]]
    assert Notification.objects.filter(organisation=world.bidders[0].organisation, subject__contains="开标记录表待确认").exists()
    assert not Notification.objects.filter(organisation=world.bidders[3].organisation, subject__contains="开标记录表待确认").exists()


def test_the_pdf_says_what_the_opening_produced(world):
    session = decrypted(world, checked_in=3, failed=1, mismatch=2)
    services.opening_objections_open(by=actor(world.host), session=session)
    objection = services.opening_objection_raise(by=actor(world.bidders[0].user), session=session, text="第二家投标人的解密失败原因应当公开说明。")
    services.opening_objection_answer(by=actor(world.host), objection=objection, text="已当场宣读失败原因并记录在案。")
    services.opening_objections_close(by=actor(world.host), session=session)
    record = services.opening_record_draft(by=actor(world.host), session=session)
    text = pdf_text(record.pdf_name)
    assert "开标记录表" in text and world.tender.code in text and world.tender.title in text
    for bidder in world.bidders:
        assert bidder.organisation.name in text
    for index in (0, 2, 3):
        assert yuan(world.bidders[index].price_fen) in text
    assert to_capital(world.bidders[0].price_fen) in text
    assert to_capital(world.bidders[2].price_fen + 100_00) in text  # the words as written
    assert "大小写不一致" in text and "以大写金额为准（P19）：按 " + yuan(world.bidders[2].price_fen + 100_00) in text
    assert yuan(world.bidders[1].price_fen) not in text  # the failed bid has no price
    assert FAILURE_DETAIL in text and "非投标人原因，视为撤回投标文件（E31）" in text
    assert "365 日历天" in text and "项目经理1（证书编号 粤144000000001）" in text
    assert "缺席投标人：" + world.bidders[3].organisation.name in text
    assert "第二家投标人的解密失败原因应当公开说明。" in text and "已当场宣读失败原因并记录在案。" in text
    assert record.statement_sha256 in text and record.audit_hash in text
    assert "待投标人确认" in text
    assert hashlib.sha256(storages["bids"].open(record.pdf_name, "rb").read()).hexdigest() == record.pdf_sha256


def test_a_bid_not_released_in_time_shows_as_revoked(world):
    session = decrypted(world, failed=0)
    from opening.models import BidOpening

    BidOpening.objects.filter(bid=world.bidders[0].bid).update(failure_side="bidder", failure_code="not_released",
                                                              failure_detail="投标人未在解密时限内释放密钥。")
    record = services.opening_record_draft(by=actor(world.host), session=session)
    assert "投标人原因，视为撤销投标文件（E31）" in pdf_text(record.pdf_name)


# --- confirmations ------------------------------------------------------------------------------


def test_a_bidder_present_confirms_with_its_own_signing_key(world):
    session = decrypted(world)
    record = services.opening_record_draft(by=actor(world.host), session=session)
    bidder = world.bidders[0]
    confirmation = services.opening_record_confirm(by=actor(bidder.user), session=session, signature=sign(bidder, record))
    assert confirmation.response == "confirmed" and confirmation.key == bidder.bid.signing_key
    assert confirmation.key_fingerprint == bidder.bid.signing_key.fingerprint
    [event] = events(session, "record_confirmed")
    assert (event["bidder"], event["signature"]) == (bidder.organisation.name, confirmation.signature)
    assert event["key_fingerprint"] == confirmation.key_fingerprint
    assert AuditEvent.objects.filter(action="opening.record_confirm", organisation_id=bidder.organisation.pk).exists()


def test_a_bad_signature_or_another_bidders_key_is_refused(world):
    session = decrypted(world)
    record = services.opening_record_draft(by=actor(world.host), session=session)
    first, second = world.bidders[:2]
    error = refused("bad_signature", services.opening_record_confirm, by=actor(first.user), session=session, signature=bytes(range(64)))
    assert "签名无效" in str(error.message)
    refused("bad_signature", services.opening_record_confirm, by=actor(first.user), session=session, signature=sign(second, record))
    other_hash = hashlib.sha256(b"another record").hexdigest()
    refused("bad_signature", services.opening_record_confirm, by=actor(first.user), session=session,
            signature=record_signing.sign(first.signing, other_hash))
    refused("bad_signature", services.opening_record_confirm, by=actor(first.user), session=session,
            signature=record_signing.sign(first.decryption, record.statement_sha256))  # its other key
    assert not RecordConfirmation.objects.exists() and not events(session, "record_confirmed")


def test_a_bidder_answers_once(world):
    session = decrypted(world)
    record = services.opening_record_draft(by=actor(world.host), session=session)
    bidder = world.bidders[0]
    services.opening_record_confirm(by=actor(bidder.user), session=session, signature=sign(bidder, record))
    refused("already_responded", services.opening_record_confirm, by=actor(bidder.user), session=session, signature=sign(bidder, record))
    refused("already_responded", services.opening_record_disagree, by=actor(bidder.user), session=session, text="不同意")
    assert RecordConfirmation.objects.count() == 1


def test_a_written_disagreement_is_recorded(world):
    session = decrypted(world)
    services.opening_record_draft(by=actor(world.host), session=session)
    bidder = world.bidders[1]
    refused("text_required", services.opening_record_disagree, by=actor(bidder.user), session=session, text=" ")
    answer = services.opening_record_disagree(by=actor(bidder.user), session=session, text="本单位的工期应为300日历天，记录有误。")
    assert answer.response == "disagreed" and answer.signature == "" and answer.text == "本单位的工期应为300日历天，记录有误。"
    [event] = events(session, "record_disagreed")
    assert event["text"] == answer.text and event["bidder"] == bidder.organisation.name


def test_only_bidders_present_answer_and_only_a_drafted_record(world):
    session = decrypted(world, checked_in=3)
    absent = world.bidders[3]
    refused("no_record", services.opening_record_confirm, by=actor(world.bidders[0].user), session=session, signature=bytes(64))
    record = services.opening_record_draft(by=actor(world.host), session=session)
    refused("not_checked_in", services.opening_record_confirm, by=actor(absent.user), session=session, signature=sign(absent, record))
    refused("not_checked_in", services.opening_record_disagree, by=actor(absent.user), session=session, text="不同意")
    for outsider in (world.host, world.regulator, person("bidder")):
        with pytest.raises(PermissionDenied):
            services.opening_record_disagree(by=actor(outsider), session=session, text="不同意")


def test_room_commands_for_the_record(world):
    session = decrypted(world)
    host, bidder = actor(world.host), world.bidders[0]
    drafted = dispatch(by=host, session=session, action="draft_record", command_id="draft-rec-1", args={"response_minutes": 15})
    assert drafted["ok"] and drafted["version"] == 1
    record = OpeningRecord.objects.get()
    bad = dispatch(by=actor(bidder.user), session=session, action="confirm_record", command_id="confirm-rec-0", args={"signature": "zz"})
    assert bad["code"] == "bad_arguments"
    confirmed = dispatch(by=actor(bidder.user), session=session, action="confirm_record", command_id="confirm-rec-1",
                         args={"signature": sign(bidder, record).hex()})
    assert confirmed["ok"] and confirmed["key_fingerprint"] == bidder.bid.signing_key.fingerprint
    disagreed = dispatch(by=actor(world.bidders[1].user), session=session, action="disagree_record", command_id="disagree-rec-1",
                         args={"text": "不同意"})
    assert disagreed["ok"]
    early = dispatch(by=host, session=session, action="publish_record", command_id="publish-rec-1", args={})
    assert early["code"] == "responses_missing"


# --- publication --------------------------------------------------------------------------------


def test_the_host_publishes_once_every_bidder_present_has_answered(world):
    session = decrypted(world, checked_in=3)
    record = services.opening_record_draft(by=actor(world.host), session=session)
    first, second, third = world.bidders[:3]
    services.opening_record_confirm(by=actor(first.user), session=session, signature=sign(first, record))
    services.opening_record_disagree(by=actor(second.user), session=session, text="报价宣读有误，应以大写为准。")
    error = refused("responses_missing", services.opening_record_publish, by=actor(world.host), session=session)
    assert third.organisation.name in str(error.message) and first.organisation.name not in str(error.message)
    with pytest.raises(PermissionDenied):
        services.opening_record_publish(by=actor(first.user), session=session)
    services.opening_record_confirm(by=actor(third.user), session=session, signature=sign(third, record))
    published = services.opening_record_publish(by=actor(world.host), session=session)
    assert published.published_at == world.clock.moment and published.published_by == world.host
    [event] = events(session, "record_published")
    assert (event["confirmed"], event["disagreed"], event["no_response"]) == (2, 1, [])
    assert event["sha256"] == record.statement_sha256
    # every bidder of the opening is told, the absent one too
    for bidder in world.bidders:
        assert Notification.objects.filter(organisation=bidder.organisation, subject__contains="开标记录表已公布").exists()
    text = pdf_text(published.published_pdf_name)
    assert "附录：投标人确认及签名" in text and "已公布" in text
    for confirmation in RecordConfirmation.objects.filter(response="confirmed"):
        assert confirmation.key_fingerprint in text
        assert confirmation.signature[:64] in text and confirmation.signature[64:] in text
    assert "报价宣读有误，应以大写为准。" in text
    refused("record_published", services.opening_record_publish, by=actor(world.host), session=session)
    refused("record_published", services.opening_objections_open, by=actor(world.host), session=session)


def test_after_the_deadline_the_host_may_publish_listing_who_did_not_answer(world):
    session = decrypted(world, checked_in=3)
    record = services.opening_record_draft(by=actor(world.host), session=session, response_minutes=10)
    first = world.bidders[0]
    services.opening_record_confirm(by=actor(first.user), session=session, signature=sign(first, record))
    world.clock.set(record.respond_by - timedelta(seconds=1))
    refused("responses_missing", services.opening_record_publish, by=actor(world.host), session=session)
    world.clock.set(record.respond_by)
    published = services.opening_record_publish(by=actor(world.host), session=session)
    [event] = events(session, "record_published")
    assert event["no_response"] == [b.organisation.name for b in world.bidders[1:3]]
    assert "在确认期限内未签名确认，也未提出不同意见" in pdf_text(published.published_pdf_name)


def test_reopening_objections_withdraws_the_draft_and_the_next_draft_includes_them(world):
    session = decrypted(world)
    first = services.opening_record_draft(by=actor(world.host), session=session)
    bidder = world.bidders[0]
    services.opening_record_confirm(by=actor(bidder.user), session=session, signature=sign(bidder, first))
    services.opening_objections_open(by=actor(world.host), session=session)
    first.refresh_from_db()
    assert first.superseded_at is not None and events(session, "record_superseded") == [{"version": 1, "reason": "objections_reopened"}]
    refused("no_record", services.opening_record_confirm, by=actor(bidder.user), session=session, signature=sign(bidder, first))
    objection = services.opening_objection_raise(by=actor(world.bidders[1].user), session=session, text="记录表漏记了我单位的项目经理证书。")
    services.opening_objection_answer(by=actor(world.host), objection=objection, text="已补记。")
    services.opening_objections_close(by=actor(world.host), session=session)
    second = services.opening_record_draft(by=actor(world.host), session=session)
    assert second.version == 2 and second.statement_sha256 != first.statement_sha256
    assert [o["text"] for o in second.statement["objections"]] == ["记录表漏记了我单位的项目经理证书。"]
    refused("bad_signature", services.opening_record_confirm, by=actor(bidder.user), session=session, signature=sign(bidder, first))
    services.opening_record_confirm(by=actor(bidder.user), session=session, signature=sign(bidder, second))


def test_the_record_pdf_is_downloadable_by_the_room_and_nobody_else(world, client):
    session = decrypted(world)
    url = f"/opening/lots/{world.lot.pk}/record.pdf"
    client.force_login(world.bidders[0].user)
    assert client.get(url).status_code == 404  # not drafted yet
    record = services.opening_record_draft(by=actor(world.host), session=session)
    draft = client.get(url)
    assert draft.status_code == 200 and draft["Content-Type"] == "application/pdf" and "draft" in draft["Content-Disposition"]
    assert hashlib.sha256(b"".join(draft.streaming_content)).hexdigest() == record.pdf_sha256
    for bidder in world.bidders:
        services.opening_record_confirm(by=actor(bidder.user), session=session, signature=sign(bidder, record))
    record = services.opening_record_publish(by=actor(world.host), session=session)
    for user in (world.bidders[3].user, world.host, world.regulator, world.centre):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == record.published_pdf_sha256
    client.force_login(person("bidder"))
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


# --- verification and the end of the opening ----------------------------------------------------


def test_the_verify_command_checks_the_hash_and_every_signature(world, capsys):
    session = decrypted(world, checked_in=3)
    record = services.opening_record_draft(by=actor(world.host), session=session)
    for bidder in world.bidders[:2]:
        services.opening_record_confirm(by=actor(bidder.user), session=session, signature=sign(bidder, record))
    services.opening_record_disagree(by=actor(world.bidders[2].user), session=session, text="不同意")
    services.opening_record_publish(by=actor(world.host), session=session)
    call_command("opening_record_verify", str(world.lot.pk))
    out = capsys.readouterr().out
    assert f"OK   record hash {record.statement_sha256}" in out
    assert f"OK   audit head #{record.audit_seq} {record.audit_hash} is on the chain" in out
    for bidder in world.bidders[:2]:
        assert f"OK   {bidder.organisation.name}: signature by key {bidder.bid.signing_key.fingerprint}" in out
    assert f"--   {world.bidders[2].organisation.name}: disagreed in writing: 不同意" in out
    assert "OK   published PDF SHA-256" in out and out.strip().endswith(f"hash {record.statement_sha256}")
    assert "VERIFIED" in out

    forged = record_signing.sign(world.bidders[3].signing, record.statement_sha256).hex()
    RecordConfirmation.objects.filter(organisation=world.bidders[0].organisation).update(signature=forged)
    with pytest.raises(SystemExit) as failed:
        call_command("opening_record_verify", str(world.lot.pk))
    assert failed.value.code == 1
    captured = capsys.readouterr()
    assert f"FAIL {world.bidders[0].organisation.name}: signature" in captured.out and "does not verify" in captured.err

    RecordConfirmation.objects.filter(organisation=world.bidders[0].organisation).update(signature=sign(world.bidders[0], record).hex())
    altered = record.statement_json.replace(world.bidders[0].organisation.name, "别的单位")
    OpeningRecord.objects.filter(pk=record.pk).update(statement_json=altered)
    with pytest.raises(SystemExit):
        call_command("opening_record_verify", str(world.lot.pk))
    assert "FAIL record hash" in capsys.readouterr().out


def test_the_verify_command_without_a_record(world, capsys):
    decrypted(world)
    with pytest.raises(SystemExit):
        call_command("opening_record_verify", str(world.lot.pk))
    assert "has no opening record" in capsys.readouterr().err


def test_the_opening_ends_only_once_the_record_is_published(world):
    session = decrypted(world)
    error = refused("record_not_published", services.opening_finish, by=actor(world.host), session=session)
    assert "开标记录表尚未公布" in str(error.message)
    assert services.record_ready_to_end(session)
    record = services.opening_record_draft(by=actor(world.host), session=session)
    refused("record_not_published", services.opening_finish, by=actor(world.host), session=session)
    for bidder in world.bidders:
        services.opening_record_confirm(by=actor(bidder.user), session=session, signature=sign(bidder, record))
    services.opening_record_publish(by=actor(world.host), session=session)
    assert services.record_ready_to_end(session) is None
    services.opening_finish(by=actor(world.host), session=session)
    session.refresh_from_db()
    world.lot.refresh_from_db()
    assert session.state == SessionState.FINISHED and world.lot.state == LotState.EVALUATING


def test_failing_the_lot_also_waits_for_the_record(world):
    session = decrypted(world, failed=0)
    from opening.models import BidOpening

    BidOpening.objects.filter(bid__in=[b.bid for b in world.bidders[1:3]]).update(status="failed", failure_side="bidder")
    refused("record_not_published", services.opening_fail, by=actor(world.host), session=session, reason="有效投标不足3家")
    publish_record(world, session)
    services.opening_fail(by=actor(world.host), session=session, reason="有效投标不足3家")
    world.lot.refresh_from_db()
    assert world.lot.state == LotState.FAILED


# --- the room snapshot --------------------------------------------------------------------------


def test_the_snapshot_part_shows_the_record_and_what_the_viewer_may_do(world):
    from opening.services.record import snapshot_part

    session = decrypted(world, checked_in=3)
    assert snapshot_part(session, world.host)["can_draft"] and snapshot_part(session, world.host)["status"] == "none"
    assert not snapshot_part(session, world.bidders[0].user)["can_draft"]
    record = services.opening_record_draft(by=actor(world.host), session=session)
    first = world.bidders[0]
    services.opening_record_confirm(by=actor(first.user), session=session, signature=sign(first, record))
    part = snapshot_part(session, world.bidders[1].user)
    assert (part["status"], part["version"], part["sha256"]) == ("draft", 1, record.statement_sha256)
    assert part["viewer"] == {"must_answer": True, "answered": ""} and not part["can_publish"]
    assert [a["response"] for a in part["answers"]] == ["confirmed", "", ""]
    assert part["answers"][0]["signature"] == RecordConfirmation.objects.get().signature
    assert snapshot_part(session, first.user)["viewer"] == {"must_answer": False, "answered": "confirmed"}
    assert snapshot_part(session, world.bidders[3].user)["viewer"]["must_answer"] is False  # absent
    assert not snapshot_part(session, world.host)["can_publish"]
    world.clock.set(record.respond_by)
    assert snapshot_part(session, world.host)["can_publish"]
    services.opening_record_publish(by=actor(world.host), session=session)
    part = snapshot_part(session, world.regulator)
    assert part["status"] == "published" and part["pdf_url"].endswith("/record.pdf") and not part["viewer"]["must_answer"]
