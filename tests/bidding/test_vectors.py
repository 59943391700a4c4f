"""Builds the sealed-bid test vectors from their fixed inputs. `python -m tests.bidding.test_vectors`
rewrites bidding/vectors/sealed-v1-*.json (only when the format deliberately changes); test_vectors.py checks
that sealing the committed inputs reproduces the committed outputs byte for byte."""

import hashlib
import io
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from bidding import hpke, sealing

VECTORS = Path(__file__).resolve().parents[2] / "bidding" / "vectors"


def scalar_key(hex_scalar: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(hex_scalar, 16), ec.SECP256R1())


def plaintext_of(spec: dict) -> bytes:
    if "plaintext_hex" in spec:
        return bytes.fromhex(spec["plaintext_hex"])
    # large plaintexts: byte i is i mod 251 (a prime, so segments differ)
    return bytes(i % 251 for i in range(spec["plaintext_pattern_mod251_size"]))


def seal_inputs(inputs: dict) -> tuple[bytes, sealing.SealedHeader]:
    keys = inputs["keys"]
    custodial = keys.get("custodial_private_scalar")
    out = io.BytesIO()
    header = sealing.seal(
        io.BytesIO(plaintext_of(inputs)),
        out,
        recipient_public_key=scalar_key(keys["bidder_decryption_private_scalar"]).public_key(),
        signing_private_key=scalar_key(keys["bidder_signing_private_scalar"]),
        binding=sealing.Binding(**inputs["binding"]),
        custodial_public_key=scalar_key(custodial).public_key() if custodial else None,
        tool=sealing.Tool(**inputs["tool"]),
        created=inputs["created"],
        segment_size=inputs["segment_size"],
        randomness=sealing.Randomness(
            data_key=bytes.fromhex(inputs["data_key"]),
            salt=bytes.fromhex(inputs["salt"]),
            nonce_prefix=bytes.fromhex(inputs["nonce_prefix"]),
            ephemeral_keys=tuple(scalar_key(k) for k in inputs["hpke_ephemeral_private_scalars"]),
        ),
    )
    return out.getvalue(), header


def expected_outputs(inputs: dict) -> dict:
    sealed, header = seal_inputs(inputs)
    keys = inputs["keys"]
    data_key = bytes.fromhex(inputs["data_key"])
    salt = bytes.fromhex(inputs["salt"])
    binding = header.binding
    public = {
        name.replace("_private_scalar", "_public_key"): hpke.serialize_public_key(scalar_key(value).public_key()).hex()
        for name, value in keys.items()
    }
    fingerprints = {
        name.replace("_private_scalar", "_fingerprint"): sealing.fingerprint(scalar_key(value).public_key()) for name, value in keys.items()
    }
    segment_start = sealing.PREAMBLE_SIZE + len(header.raw) + sealing.SIGNATURE_SIZE
    result = {
        "public_keys_uncompressed": public,
        "fingerprints": fingerprints,
        "hpke_info_utf8": sealing.binding_info(binding, "data key").decode("utf-8"),
        "segment_key_info_utf8": sealing.binding_info(binding, "segment key").decode("utf-8"),
        "segment_key": sealing.segment_key(data_key, salt, binding).hex(),
        "key_commitment": sealing.key_commitment(data_key, salt).hex(),
        "first_segment_nonce": sealing.segment_nonce(header.nonce_prefix, 0, header.segment_count == 1).hex(),
        "header_utf8": header.raw.decode("utf-8"),
        "signed_bytes_sha256": hashlib.sha256(header.signed_bytes()).hexdigest(),
        "signature_rfc6979": sealed[segment_start - sealing.SIGNATURE_SIZE : segment_start].hex(),
        "ciphertext_sha256": header.ciphertext_sha256,
        "file_size": len(sealed),
        "file_sha256": hashlib.sha256(sealed).hexdigest(),
        "plaintext_sha256": hashlib.sha256(plaintext_of(inputs)).hexdigest(),
    }
    if len(sealed) <= 4096:
        result["file_hex"] = sealed.hex()
    return result


def main() -> None:
    for path in sorted(VECTORS.glob("sealed-v1-*.json")):
        vector = json.loads(path.read_text("utf-8"))
        vector["expected"] = expected_outputs(vector["inputs"])
        path.write_text(json.dumps(vector, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print("wrote", path.name)


import pytest  # noqa: E402

from bidding.sealing import header as sealed_header  # noqa: E402

VECTOR_FILES = sorted(VECTORS.glob("sealed-v1-*.json"))


def test_there_are_vectors():
    assert len(VECTOR_FILES) >= 3


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_sealing_the_inputs_reproduces_the_expected_bytes(path):
    vector = json.loads(path.read_text("utf-8"))
    assert expected_outputs(vector["inputs"]) == vector["expected"]


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_the_committed_file_opens_with_the_vector_keys(path):
    vector = json.loads(path.read_text("utf-8"))
    inputs, expected = vector["inputs"], vector["expected"]
    sealed = bytes.fromhex(expected["file_hex"]) if "file_hex" in expected else seal_inputs(inputs)[0]
    signing = scalar_key(inputs["keys"]["bidder_signing_private_scalar"]).public_key()
    binding = sealing.Binding(**inputs["binding"])
    header = sealing.verify(io.BytesIO(sealed), signing_public_key=signing, expected_binding=binding)
    for name in ("bidder_decryption_private_scalar", "custodial_private_scalar"):
        if name in inputs["keys"]:
            assert sealing.unwrap_data_key(header, scalar_key(inputs["keys"][name])).hex() == inputs["data_key"]
    out = io.BytesIO()
    sealing.open_sealed(io.BytesIO(sealed), out, data_key=bytes.fromhex(inputs["data_key"]), signing_public_key=signing, expected_binding=binding)
    assert hashlib.sha256(out.getvalue()).hexdigest() == expected["plaintext_sha256"]
    assert sealed_header.parse_header(expected["header_utf8"].encode("utf-8")) == header


if __name__ == "__main__":
    main()
