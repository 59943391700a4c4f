"""Two platforms in one test process: this one (Dongguan, 441900, its platform key in a temporary
data folder) and a simulated partner (Zhongshan, 442000) that is only an Ed25519 key signing the
envelopes it posts to our inbox."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from audit import platform_key
from crossregion import handlers, protocol
from crossregion.models import Agreement, AgreementState, Partner
from crossregion.protocol_vectors import keys
from tests import factories

OWN = "441900"
PARTNER = "442000"
ZS_KEY = keys()[1]
ZS_RAW = protocol.public_raw_of(ZS_KEY)
OTHER_KEY = keys()[0]  # a key no partner registered
INBOX = "/crossregion/inbox/"
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def platform(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.PLATFORM_REGION_CODE = OWN
    settings.PLATFORM_REGION_NAME = "东莞"
    settings.PLATFORM_BASE_URL = "http://127.0.0.1:8000"
    return settings


@pytest.fixture
def partner(db):
    return Partner.objects.create(region_code=PARTNER, name="中山", base_url="http://127.0.0.1:9", public_key=protocol.b64url_encode(ZS_RAW),
                                  key_id=protocol.key_id(ZS_RAW))


def signed_agreement(partner, *, scope=("booking", "drawing", "federation", "replication"), valid_from=None, valid_until=None,
                     state=AgreementState.ACTIVE) -> Agreement:
    """An agreement both platforms signed (as if proposed by the partner and accepted here)."""
    now = timezone.now()
    doc = protocol.build_agreement(
        parties=[{"region_code": OWN, "name": "东莞", "key_id": platform_key.platform_key_id()},
                 {"region_code": partner.region_code, "name": partner.name, "key_id": partner.key_id}],
        scope=list(scope), valid_from=valid_from or now - timedelta(days=1), valid_until=valid_until or now + timedelta(days=365), text="协议正文",
    )
    return Agreement.objects.create(
        uuid=doc["id"], partner=partner, proposed_by_us=False, state=state, document=doc, scope=doc["scope"],
        valid_from=protocol.parse_time(doc["valid_from"]), valid_until=protocol.parse_time(doc["valid_until"]),
        own_signature=protocol.sign_agreement(doc, platform_key.private_key()), partner_signature=protocol.sign_agreement(doc, ZS_KEY),
        accepted_at=now,
    )


@pytest.fixture
def agreement(partner):
    return signed_agreement(partner)


def envelope(type="booking.test_echo", body=None, *, idempotency_key=None, sent_at=None, sender=PARTNER, recipient=OWN,
             key_id=None, nonce=None) -> dict:
    return protocol.build_envelope(
        type=type, sender=sender, recipient=recipient, key_id=key_id or protocol.key_id(ZS_RAW), body={"n": 1} if body is None else body,
        idempotency_key=idempotency_key or f"test:{next(_serial)}:key", sent_at=sent_at or timezone.now(), nonce=nonce,
    )


def post(client, env: dict, *, key=ZS_KEY, signature: str | None = "sign", raw: bytes | None = None, content_type="application/json"):
    if raw is None:
        if signature == "sign":
            signature = protocol.sign_envelope(env, key)
        raw = protocol.wire(env, signature) if signature is not None else protocol.canonical_bytes({"envelope": env})
    return client.post(INBOX, data=raw, content_type=content_type)


@pytest.fixture
def echo(monkeypatch):
    """A handler for booking.test_echo that counts its calls (a stand-in for an area's handler)."""
    calls = []

    def handle(*, partner, envelope, message):
        calls.append(message.pk)
        return {"echo": envelope["body"], "calls": len(calls)}

    monkeypatch.setitem(handlers._HANDLERS, "booking.test_echo", handle)
    return calls


@pytest.fixture
def centre():
    return factories.centre_reviewer()


@pytest.fixture
def regulator():
    return factories.person("regulator")
