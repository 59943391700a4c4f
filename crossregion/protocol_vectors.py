"""Test vectors of the cross-region protocol (crossregion/vectors/protocol-v1.json). No Django.

Ed25519 signatures are deterministic, so a fixed key gives fixed bytes: another implementation
checks itself against the file, and tests/crossregion/test_protocol_vectors.py recomputes it.

    python -m crossregion.protocol_vectors > crossregion/vectors/protocol-v1.json
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crossregion import protocol as p

# Fixed test seeds (never use these keys for anything else).
SEED_DONGGUAN = bytes(range(32))
SEED_ZHONGSHAN = bytes(range(32, 64))


def keys():
    return Ed25519PrivateKey.from_private_bytes(SEED_DONGGUAN), Ed25519PrivateKey.from_private_bytes(SEED_ZHONGSHAN)


def build() -> dict:
    dongguan, zhongshan = keys()
    dg_raw, zs_raw = p.public_raw_of(dongguan), p.public_raw_of(zhongshan)
    sent_at = datetime(2026, 11, 27, 8, 30, 0, tzinfo=UTC)
    envelope = p.build_envelope(
        type="booking.request", sender="441900", recipient="442000", key_id=p.key_id(dg_raw),
        body={"session": "LOT-17", "seats": 2, "specialties": ["建筑工程"], "starts_at": "2026-12-01T01:30:00Z"},
        idempotency_key="booking:17:request", sent_at=sent_at, nonce="00112233445566778899aabbccddeeff",
    )
    envelope_signature = p.sign_envelope(envelope, dongguan)
    agreement = p.build_agreement(
        id="6f1c2a9e-0b7d-4c3e-9a51-2d8f4e6b7c10",
        parties=[{"region_code": "442000", "name": "中山", "key_id": p.key_id(zs_raw)},
                 {"region_code": "441900", "name": "东莞", "key_id": p.key_id(dg_raw)}],
        scope=["replication", "booking", "drawing", "federation"],
        valid_from=datetime(2026, 11, 1, tzinfo=UTC), valid_until=datetime(2027, 11, 1, tzinfo=UTC),
        text="远程异地评标合作框架协议（测试向量）",
    )
    token_payload = p.build_token_payload(
        iss="442000", aud="441900", sub="EXP-7f3a9c", session=17, issued_at=sent_at, lifetime=300,
        jti="ffeeddccbbaa99887766554433221100",
    )
    return {
        "format": "etender-protocol-vectors/1",
        "keys": {
            "441900": {"seed_hex": SEED_DONGGUAN.hex(), "public": p.b64url_encode(dg_raw), "key_id": p.key_id(dg_raw),
                       "fingerprint": p.fingerprint(dg_raw)},
            "442000": {"seed_hex": SEED_ZHONGSHAN.hex(), "public": p.b64url_encode(zs_raw), "key_id": p.key_id(zs_raw),
                       "fingerprint": p.fingerprint(zs_raw)},
        },
        "metadata": p.build_metadata(region_code="441900", region_name="东莞", base_url="http://127.0.0.1:8000", public_raw=dg_raw),
        "envelope": {
            "signer": "441900",
            "envelope": envelope,
            "canonical_utf8_hex": p.canonical_bytes(envelope).hex(),
            "signature": envelope_signature,
            "wire_utf8_hex": p.wire(envelope, envelope_signature).hex(),
        },
        "agreement": {
            "document": agreement,
            "canonical_utf8_hex": p.agreement_bytes(agreement).hex(),
            "signatures": {"441900": p.sign_agreement(agreement, dongguan), "442000": p.sign_agreement(agreement, zhongshan)},
        },
        "token": {"signer": "442000", "payload": token_payload, "token": p.sign_token(token_payload, zhongshan)},
    }


def dumps(vectors: dict) -> str:
    return json.dumps(vectors, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(dumps(build()))
