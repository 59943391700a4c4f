"""The custodial key's shares on the wire: how a share is bound, wrapped to a custodian, committed
to, and unwrapped again on the custodian's own machine. Pure: no Django, so the custodian's tool
(opening/custodian_tool.py) and the platform (opening/services/custodial.py) share every byte.
docs/custodial-fallback.md specifies it.

    share_info  = canonical JSON of {"format": "etender-custodial-share", "version": 1, "tender",
                  "index", "threshold", "custodians", "custodian_key", "custodial_key"}
    (enc, wrapped) = HPKE SealBase(custodian's public key, info = share_info, aad = empty,
                                   pt = the 32-byte share value)         (bidding/hpke.py suite)
    commitment  = SHA-256("etender custodial share v1 commitment" ‖ 0x00 ‖ salt ‖ u16be(index) ‖ value)
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from bidding import hpke
from bidding.sealing import fingerprint
from bidding.sealing.header import canonical_json
from opening import shamir

FORMAT = "etender-custodial-share"
VERSION = 1
SALT_BYTES = 32
_COMMITMENT_LABEL = b"etender custodial share v1 commitment\x00"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PACKAGE_FIELDS = {"format", "version", "tender", "index", "threshold", "custodians", "custodian_key", "custodial_key", "enc", "wrapped"}


class CustodyError(ValueError):
    """A share package that is malformed, meant for another key, or that does not open."""


@dataclass(frozen=True)
class ShareBinding:
    """What a wrapped share is bound to: the tender, its place in the k-of-n split, the custodian's
    key it is wrapped to and the custodial key it is a share of."""

    tender: str
    index: int
    threshold: int
    custodians: int
    custodian_key: str  # fingerprint
    custodial_key: str  # fingerprint

    def info(self) -> bytes:
        return canonical_json({
            "format": FORMAT, "version": VERSION, "tender": self.tender, "index": self.index, "threshold": self.threshold,
            "custodians": self.custodians, "custodian_key": self.custodian_key, "custodial_key": self.custodial_key,
        })


def commitment(salt: bytes, share: shamir.Share) -> bytes:
    return hashlib.sha256(_COMMITMENT_LABEL + salt + share.index.to_bytes(2, "big") + share.value_bytes()).digest()


def matches_commitment(salt: bytes, share: shamir.Share, expected: bytes) -> bool:
    return hmac.compare_digest(commitment(salt, share), expected)


def wrap_share(share: shamir.Share, custodian_public_key: ec.EllipticCurvePublicKey, binding: ShareBinding) -> tuple[bytes, bytes]:
    """(enc, wrapped): the share value sealed to the custodian's key, bound to `binding`."""
    if binding.index != share.index or binding.custodian_key != fingerprint(custodian_public_key):
        raise CustodyError("the binding does not describe this share and custodian key")
    return hpke.seal_base(custodian_public_key, binding.info(), b"", share.value_bytes())


def package(binding: ShareBinding, enc: bytes, wrapped: bytes) -> dict:
    """The document a custodian downloads and opens with its own key file."""
    return {
        "format": FORMAT, "version": VERSION, "tender": binding.tender, "index": binding.index, "threshold": binding.threshold,
        "custodians": binding.custodians, "custodian_key": binding.custodian_key, "custodial_key": binding.custodial_key,
        "enc": enc.hex(), "wrapped": wrapped.hex(),
    }


def parse_package(document: object) -> tuple[ShareBinding, bytes, bytes]:
    if not isinstance(document, dict) or set(document) != _PACKAGE_FIELDS:
        raise CustodyError("not a custodial share package (the members are not the expected ones)")
    if document["format"] != FORMAT or document["version"] != VERSION or type(document["version"]) is not int:
        raise CustodyError(f"not a version-{VERSION} custodial share package")
    numbers = [document[name] for name in ("index", "threshold", "custodians")]
    index, threshold, custodians = numbers
    if any(type(value) is not int for value in numbers) or not (1 <= index <= custodians <= shamir.MAX_SHARES and 1 <= threshold <= custodians):
        raise CustodyError("the package's index, threshold and custodian count are not valid")
    if not isinstance(document["tender"], str) or not document["tender"]:
        raise CustodyError("the package names no tender")
    for name in ("custodian_key", "custodial_key"):
        if not isinstance(document[name], str) or not _HEX64.fullmatch(document[name]):
            raise CustodyError(f"{name} must be a fingerprint: 64 lower-case hex digits")
    try:
        enc, wrapped = bytes.fromhex(document["enc"]), bytes.fromhex(document["wrapped"])
    except (TypeError, ValueError):
        raise CustodyError("enc and wrapped must be hex") from None
    if len(enc) != hpke.N_ENC or len(wrapped) != shamir.VALUE_BYTES + 16:
        raise CustodyError("enc or wrapped has the wrong length")
    binding = ShareBinding(document["tender"], index, threshold, custodians, document["custodian_key"], document["custodial_key"])
    return binding, enc, wrapped


def unwrap_share(document: object, custodian_private_key: ec.EllipticCurvePrivateKey) -> shamir.Share:
    """The share in a package, opened with the custodian's private key (on its own machine)."""
    binding, enc, wrapped = parse_package(document)
    own = fingerprint(custodian_private_key.public_key())
    if own != binding.custodian_key:
        raise CustodyError(f"this share is wrapped to key {binding.custodian_key}, not to {own}")
    try:
        raw = hpke.open_base(enc, custodian_private_key, binding.info(), b"", wrapped)
    except hpke.HPKEError:
        raise CustodyError("the share does not open with this key: the package was altered") from None
    try:
        return shamir.Share.from_bytes(binding.index, raw)
    except shamir.ShamirError:
        raise CustodyError("the package holds no valid share") from None
