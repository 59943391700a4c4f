"""Two platforms in one test process for the booking tests: Dongguan (441900, the host) and
Zhongshan (442000, the partner), each with its own data folder (so its own platform key), its
Partner row for the other and its own signed agreement, sharing one database. `city(name)` switches
the settings the platform reads (region, key folder); `pump()` delivers every pending outbox message
from the sending city's outbox (outbox.deliver, signed by the sender's key as on the wire) to the
receiving city's inbox view through the Django test client.

The host's lot and home pool come from tests/evaluation/world.py (specialty A08); the partner's
pool is specialty A03, so the two drawings do not share experts in the one database."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.utils import timezone

from audit import platform_key
from bidding import keyfile
from crossregion import protocol
from crossregion.models import Agreement, AgreementState, OutboundMessage, OutboundState, Partner
from crossregion.services import outbox
from evaluation.models import ExpertKey
from tests.evaluation.world import EvaluationWorld, make_expert
from tests.factories import actor

DG, ZS = "441900", "442000"
URLS = {DG: "http://dg.test", ZS: "http://zs.test"}
NAMES = {DG: "东莞", ZS: "中山"}


class Cities:
    def __init__(self, settings, tmp_path, world: EvaluationWorld):
        self.settings, self.tmp_path, self.world = settings, tmp_path, world
        self.current = DG
        raw = {}
        for code in (DG, ZS):
            with self.city(code):
                raw[code] = platform_key.public_key_bytes()
        # Each city's Partner row for the other (region codes differ, so both fit in one table).
        self.zs_at_dg = Partner.objects.create(region_code=ZS, name=NAMES[ZS], base_url=URLS[ZS], public_key=protocol.b64url_encode(raw[ZS]),
                                               key_id=protocol.key_id(raw[ZS]))
        self.dg_at_zs = Partner.objects.create(region_code=DG, name=NAMES[DG], base_url=URLS[DG], public_key=protocol.b64url_encode(raw[DG]),
                                               key_id=protocol.key_id(raw[DG]))
        self.agreements = {DG: self._agreement(DG, self.zs_at_dg, raw), ZS: self._agreement(ZS, self.dg_at_zs, raw)}
        self.centre = world.centre  # one centre staff account acts for each city in turn
        self.delivered: list[tuple[str, str, int, dict]] = []

    def _agreement(self, own: str, partner: Partner, raw: dict) -> Agreement:
        now = timezone.now()
        doc = protocol.build_agreement(
            parties=[{"region_code": code, "name": NAMES[code], "key_id": protocol.key_id(raw[code])} for code in (DG, ZS)],
            scope=["booking", "drawing", "federation", "replication"], valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=365), text="远程异地评标合作框架协议")
        signatures = {}
        for code in (DG, ZS):
            with self.city(code):
                signatures[code] = protocol.sign_agreement(doc, platform_key.private_key())
        other = ZS if own == DG else DG
        return Agreement.objects.create(
            uuid=doc["id"], partner=partner, proposed_by_us=own == DG, state=AgreementState.ACTIVE, document=doc, scope=doc["scope"],
            valid_from=protocol.parse_time(doc["valid_from"]), valid_until=protocol.parse_time(doc["valid_until"]),
            own_signature=signatures[own], partner_signature=signatures[other], accepted_at=now)

    @contextlib.contextmanager
    def city(self, code: str):
        before = (self.current, self.settings.DATA_DIR, self.settings.PLATFORM_REGION_CODE, self.settings.PLATFORM_REGION_NAME,
                  self.settings.PLATFORM_BASE_URL)
        self.current = code
        self.settings.DATA_DIR = self.tmp_path / f"data-{code}"
        self.settings.PLATFORM_REGION_CODE, self.settings.PLATFORM_REGION_NAME, self.settings.PLATFORM_BASE_URL = code, NAMES[code], URLS[code]
        try:
            yield self
        finally:
            (self.current, self.settings.DATA_DIR, self.settings.PLATFORM_REGION_CODE, self.settings.PLATFORM_REGION_NAME,
             self.settings.PLATFORM_BASE_URL) = before

    def _post(self, url: str, data: bytes):
        """outbox.post routed to the other city's inbox view in this process (the Django test client:
        the same URL, middleware and view as over HTTP)."""
        target = DG if url.startswith(URLS[DG]) else ZS
        path = url[len(URLS[target]):]
        with self.city(target):
            response = Client().post(path, data=data, content_type="application/json")
        return response.status_code, response.content, ""

    def pump(self) -> list[tuple[str, str, int, dict]]:
        """Deliver every pending message (one attempt each) until none is left; returns
        [(type, to, status, answer)] of the attempts made."""
        made = []
        for _round in range(10):
            pending = list(OutboundMessage.objects.filter(state=OutboundState.PENDING).select_related("partner").order_by("pk"))
            if not pending:
                break
            for message in pending:
                # Model defaults read the real clock; the tests run on the evaluation world's clock.
                OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
                sender = DG if message.partner.region_code == ZS else ZS
                with self.city(sender):
                    outbox.deliver(message.pk)
                message.refresh_from_db()
                made.append((message.type, message.partner.region_code, message.last_status, message.response))
        self.delivered += made
        return made

    def partner_pool(self, count: int, **kwargs):
        """Zhongshan's experts (specialty A03), each with a registered signing key."""
        experts = []
        for _n in range(count):
            expert = make_expert(specialties=("A03",), **kwargs)
            key = ec.generate_private_key(ec.SECP256R1()).public_key()
            ExpertKey.objects.create(user=expert.user, public_jwk=keyfile.public_jwk(key), fingerprint=keyfile.fingerprint(key),
                                     registered_at=timezone.now())
            experts.append(expert)
        return experts

    def staff(self):
        return actor(self.centre)


@pytest.fixture
def cities(settings, tmp_path, eval_world, monkeypatch):
    world = Cities(settings, tmp_path, eval_world)
    monkeypatch.setattr(outbox, "post", world._post)
    monkeypatch.setattr(outbox, "enqueue", lambda *args, **kwargs: None)  # the tests pump by hand
    with world.city(DG):
        yield world
