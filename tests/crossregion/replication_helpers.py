"""Replication in one test process: two platforms in one database. The host is this platform
(Dongguan, 441900, its key in DATA_DIR); the partner is Zhongshan (442000) with its own platform
key in another data folder: `as_partner()` switches the region and the data folder, so the
partner's inbox, handler and audit trail run for real. Each side has its Partner row for the other
and its copy of an agreement both platforms signed. The transport hands the outbox's signed request
to the partner's inbox, or answers 503 while the partner is "down"."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from audit import platform_key
from crossregion import inbox, protocol
from crossregion.models import Agreement, AgreementState, OutboundMessage, Partner
from crossregion.services import outbox, replication
from evaluation import report_signing
from evaluation.services.report import report_draft, report_sign
from tests.evaluation.report_world import reporting
from tests.evaluation.world import EvaluationWorld

OWN = "441900"
PARTNER = "442000"


def partner_data_dir() -> Path:
    return Path(settings.DATA_DIR).parent / "data-zhongshan"


@contextlib.contextmanager
def as_partner():
    """Run as the partner platform (Zhongshan): its region and its platform key."""
    with override_settings(PLATFORM_REGION_CODE=PARTNER, PLATFORM_REGION_NAME="中山", DATA_DIR=partner_data_dir()):
        yield


def _raw() -> bytes:
    return platform_key.public_key_bytes()


def _agreement(partner: Partner, own_key, partner_key, parties: list[dict], proposed_by_us: bool) -> Agreement:
    now = timezone.now()
    doc = protocol.build_agreement(parties=parties, scope=list(protocol.SCOPES), valid_from=now - timedelta(days=1),
                                   valid_until=now + timedelta(days=365), text="远程异地评标合作框架协议")
    return Agreement.objects.create(
        uuid=doc["id"], partner=partner, proposed_by_us=proposed_by_us, state=AgreementState.ACTIVE, document=doc, scope=doc["scope"],
        valid_from=protocol.parse_time(doc["valid_from"]), valid_until=protocol.parse_time(doc["valid_until"]),
        own_signature=protocol.sign_agreement(doc, own_key), partner_signature=protocol.sign_agreement(doc, partner_key), accepted_at=now,
    )


def pair() -> tuple[Partner, Partner]:
    """(Zhongshan as the host's partner, Dongguan as the partner's partner), each with an agreement
    both platforms signed."""
    host_key, host_raw = platform_key.private_key(), _raw()
    with as_partner():
        zs_key, zs_raw = platform_key.private_key(), _raw()
    parties = [{"region_code": OWN, "name": "东莞", "key_id": protocol.key_id(host_raw)},
               {"region_code": PARTNER, "name": "中山", "key_id": protocol.key_id(zs_raw)}]
    zhongshan = Partner.objects.create(region_code=PARTNER, name="中山", base_url="http://127.0.0.1:9",
                                       public_key=protocol.b64url_encode(zs_raw), key_id=protocol.key_id(zs_raw))
    dongguan = Partner.objects.create(region_code=OWN, name="东莞", base_url="http://127.0.0.1:8",
                                      public_key=protocol.b64url_encode(host_raw), key_id=protocol.key_id(host_raw))
    _agreement(zhongshan, host_key, zs_key, parties, True)
    _agreement(dongguan, zs_key, host_key, parties, False)
    return zhongshan, dongguan


class Transport:
    """outbox.post replaced: the signed request goes to this platform's inbox, unless `down` > 0
    (then 503, counting down). Every request is kept."""

    def __init__(self):
        self.down = 0
        self.requests: list[bytes] = []
        self.statuses: list[int] = []

    def __call__(self, url: str, data: bytes):
        self.requests.append(data)
        if self.down > 0:
            self.down -= 1
            self.statuses.append(503)
            return 503, json.dumps({"ok": False, "code": "unavailable", "detail": "down"}).encode(), ""
        with as_partner():
            status, answer = inbox.receive(data)
        self.statuses.append(status)
        return status, json.dumps(answer, ensure_ascii=False).encode(), ""


@pytest.fixture
def transport(monkeypatch):
    fake = Transport()
    monkeypatch.setattr(outbox, "post", fake)
    return fake


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class Mixed:
    """A session in REPORTING whose seats 4 and 5 are away (the partner's experts), replicated to
    the partner (`partner`: Zhongshan at the host; `host`: Dongguan at the partner)."""

    def __init__(self, clock):
        self.clock = clock
        self.world = EvaluationWorld(clock)
        self.rep = reporting(self.world)
        for member in self.rep.members[3:]:
            member.venue = "away"
            member.save(update_fields=["venue"])
        self.session = self.rep.session
        self.partner, self.host = pair()
        for n in (1, 2):  # the room's history so far (the session was built with the ORM, without events)
            self.room_event("test.checkin", {"seat": n})
        self.replication = replication.subscribe(session=self.session, partner=self.partner)

    def finalise(self, *, dissent_seat: int | None = None):
        """The chair drafts the report and every member signs it (or the given seat dissents)."""
        from evaluation.services.report import report_dissent

        report = report_draft(by=self.rep.by(self.rep.chair), session=self.session)
        for member in self.rep.members:
            if member.seat == dissent_seat:
                report_dissent(by=self.rep.by(member), report=report, text="价格评分有异议。")
            else:
                report_sign(by=self.rep.by(member), report=report,
                            signature_b64=report_signing.sign(self.rep.keys[member.pk], report.statement_sha256))
        report.refresh_from_db()
        return report

    def room_event(self, kind="test.note", payload=None):
        from opening.rooms import append_event

        with transaction.atomic():
            return append_event(self.session, kind, payload or {"n": 1})


def pending(partner=None):
    qs = OutboundMessage.objects.filter(type="replication.batch", state="pending").order_by("pk")
    return list(qs.filter(partner=partner) if partner else qs)


def deliver_all(*, rounds: int = 50) -> int:
    """Push and deliver until nothing is left (as the chronograph and the jobs would); returns the
    number of delivery attempts."""
    attempts = 0
    for _ in range(rounds):
        for r in replication.due():
            replication.push(r)
        messages = pending()
        if not messages:
            return attempts
        for message in messages:
            outbox.deliver(message.pk)
            attempts += 1
    raise AssertionError("replication did not settle")

