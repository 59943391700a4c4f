"""bidding.sealing: round trips at the segment boundaries, and every kind of bad input raising its
own SealedBidError subclass. Plain pytest, no database."""

import io
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bidding import sealing
from bidding.sealing import header as sealed_header

SEG = 64  # small segments keep the boundary cases fast; one test uses the real 1 MiB
BINDING = sealing.Binding(tender="1001", lot="1", bidder="42")


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def keys():
    return {"decrypt": new_key(), "sign": new_key(), "custodial": new_key(), "other": new_key()}


def seal_bytes(keys, plaintext: bytes, *, segment_size=SEG, binding=BINDING, custodial=False) -> tuple[bytes, sealing.SealedHeader]:
    out = io.BytesIO()
    header = sealing.seal(
        io.BytesIO(plaintext), out, recipient_public_key=keys["decrypt"].public_key(), signing_private_key=keys["sign"],
        binding=binding, custodial_public_key=keys["custodial"].public_key() if custodial else None, segment_size=segment_size,
    )
    return out.getvalue(), header


def open_bytes(keys, sealed: bytes, *, binding=BINDING, signing=None, decrypt=None) -> bytes:
    header, _ = sealing.read_header(io.BytesIO(sealed))
    data_key = sealing.unwrap_data_key(header, decrypt or keys["decrypt"])
    out = io.BytesIO()
    sealing.open_sealed(io.BytesIO(sealed), out, data_key=data_key, signing_public_key=(signing or keys["sign"]).public_key(), expected_binding=binding)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 5 * SEG, 5 * SEG + 7])
def test_round_trip_at_segment_boundaries(keys, size):
    plaintext = os.urandom(size)
    sealed, header = seal_bytes(keys, plaintext)
    assert header.segment_count == max(1, -(-size // SEG))
    assert len(sealed) == header.file_size
    assert sealing.verify(io.BytesIO(sealed), signing_public_key=keys["sign"].public_key(), expected_binding=BINDING) == header
    assert open_bytes(keys, sealed) == plaintext


@pytest.mark.parametrize("size", [sealing.SEGMENT_SIZE, sealing.SEGMENT_SIZE + 1])
def test_round_trip_with_real_one_mib_segments(keys, size):
    plaintext = os.urandom(size)
    sealed, header = seal_bytes(keys, plaintext, segment_size=sealing.SEGMENT_SIZE)
    assert header.segment_count == (1 if size == sealing.SEGMENT_SIZE else 2)
    assert open_bytes(keys, sealed) == plaintext


def test_custodial_key_unwraps_the_same_data_key(keys):
    sealed, header = seal_bytes(keys, b"bid", custodial=True)
    assert [r.role for r in header.recipients] == ["bidder", "custodial"]
    assert sealing.unwrap_data_key(header, keys["custodial"]) == sealing.unwrap_data_key(header, keys["decrypt"])
    assert open_bytes(keys, sealed, decrypt=keys["custodial"]) == b"bid"


def test_sealing_into_a_pipe_gives_a_valid_file(keys):
    class Pipe(io.BytesIO):
        def seekable(self):
            return False

    pipe = Pipe()
    sealing.seal(io.BytesIO(b"x" * 200), pipe, recipient_public_key=keys["decrypt"].public_key(), signing_private_key=keys["sign"], binding=BINDING, segment_size=SEG)
    assert open_bytes(keys, pipe.getvalue()) == b"x" * 200


def test_header_records_the_evidence(keys):
    _, header = seal_bytes(keys, b"abc", custodial=True)
    assert header.binding == BINDING
    assert header.plaintext_size == 3 and header.segment_size == SEG
    assert header.signer_key_fingerprint == sealing.fingerprint(keys["sign"].public_key())
    assert header.recipients[0].key_fingerprint == sealing.fingerprint(keys["decrypt"].public_key())
    assert header.tool == sealing.default_tool() and len(header.tool.fingerprint) == 64
    assert header.created.endswith("Z")


def test_fingerprint_is_sha256_of_spki():
    import hashlib

    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = new_key().public_key()
    assert sealing.fingerprint(key) == hashlib.sha256(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).hexdigest()


# --- bad input -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(keys):
    plaintext = os.urandom(3 * SEG + 10)
    sealed, header = seal_bytes(keys, plaintext)
    return plaintext, sealed, header


def segments_start(header):
    return sealing.PREAMBLE_SIZE + len(header.raw) + sealing.SIGNATURE_SIZE


def flip(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


def test_plain_unsealed_file_is_not_sealed(keys):
    with pytest.raises(sealing.NotSealed, match="not a sealed bid"):
        sealing.verify(io.BytesIO(b"PK\x03\x04" + os.urandom(100)), signing_public_key=keys["sign"].public_key())
    with pytest.raises(sealing.NotSealed):
        sealing.read_header(io.BytesIO(b""))


def test_tampered_magic_is_not_sealed(keys, sample):
    with pytest.raises(sealing.NotSealed):
        sealing.verify(io.BytesIO(flip(sample[1], 2)), signing_public_key=keys["sign"].public_key())


def test_unknown_version_is_refused(keys, sample):
    with pytest.raises(sealing.UnsupportedVersion, match="version 2"):
        sealing.read_header(io.BytesIO(sample[1][:8] + b"\x00\x02" + sample[1][10:]))


def test_tampered_header_byte_breaks_the_signature(keys, sample):
    _, sealed, header = sample
    at = sealed.index(b'"lot":"1"') + 7  # the lot id 1 -> 0: still canonical, still well-formed
    with pytest.raises(sealing.BadSignature):
        sealing.verify(io.BytesIO(flip(sealed, at)), signing_public_key=keys["sign"].public_key())


def test_header_that_is_not_canonical_json_is_malformed(keys, sample):
    _, sealed, header = sample
    spaced = header.raw.replace(b'","', b'", "', 1)
    data = sealed_header.preamble(len(spaced)) + spaced + sealed[segments_start(header) - 64 :]
    with pytest.raises(sealing.MalformedHeader, match="canonical"):
        sealing.read_header(io.BytesIO(data))


def test_tampered_signature_is_refused(keys, sample):
    _, sealed, header = sample
    with pytest.raises(sealing.BadSignature):
        sealing.verify(io.BytesIO(flip(sealed, segments_start(header) - 5)), signing_public_key=keys["sign"].public_key())


def test_missing_signature_is_refused(keys, sample):
    _, sealed, header = sample
    start = segments_start(header)
    zeroed = sealed[: start - 64] + bytes(64) + sealed[start:]
    with pytest.raises(sealing.BadSignature):
        sealing.verify(io.BytesIO(zeroed), signing_public_key=keys["sign"].public_key())


def test_wrong_signing_key_is_refused(keys, sample):
    with pytest.raises(sealing.BadSignature, match="signed by key"):
        sealing.verify(io.BytesIO(sample[1]), signing_public_key=keys["other"].public_key())


def test_header_resigned_by_another_key_is_refused(keys, sample):
    """An attacker re-signing someone's header with its own key cannot pass as the bidder."""
    _, sealed, header = sample
    with pytest.raises(sealing.BadSignature):
        open_bytes(keys, sealed, signing=keys["other"])


def test_tampered_segment_is_detected_by_open_and_verify(keys, sample):
    _, sealed, header = sample
    bad = flip(sealed, segments_start(header) + (SEG + 16) + 3)
    with pytest.raises(sealing.Tampered, match="segment 1 of 4"):
        open_bytes(keys, bad)
    with pytest.raises(sealing.Tampered, match="SHA-256"):
        sealing.verify(io.BytesIO(bad), signing_public_key=keys["sign"].public_key())


def test_tampered_tag_of_last_segment_is_detected(keys, sample):
    with pytest.raises(sealing.Tampered, match="segment 3"):
        open_bytes(keys, flip(sample[1], len(sample[1]) - 1))


def test_last_segment_flag_cannot_be_moved(keys):
    """Sealing the first two segments' plaintext alone marks segment 1 as last; splicing it in
    place of a non-last segment fails, so a truncated bid can never pass as complete."""
    full, header = seal_bytes(keys, b"a" * (3 * SEG))
    data_key = sealing.unwrap_data_key(header, keys["decrypt"])
    aead = sealing.AESGCM(sealing.segment_key(data_key, header.salt, BINDING))
    forged_last = aead.encrypt(sealing.segment_nonce(header.nonce_prefix, 1, True), b"a" * SEG, None)
    start = segments_start(header)
    spliced = full[: start + SEG + 16] + forged_last + full[start + 2 * (SEG + 16) :]
    with pytest.raises(sealing.Tampered, match="segment 1"):
        sealing.open_sealed(io.BytesIO(spliced), io.BytesIO(), data_key=data_key)


def test_swapped_segments_are_detected(keys, sample):
    _, sealed, header = sample
    start, size = segments_start(header), SEG + 16
    swapped = sealed[:start] + sealed[start + size : start + 2 * size] + sealed[start : start + size] + sealed[start + 2 * size :]
    with pytest.raises(sealing.Tampered, match="segment 0"):
        open_bytes(keys, swapped)


def test_dropped_segment_is_detected(keys, sample):
    _, sealed, header = sample
    start, size = segments_start(header), SEG + 16
    with pytest.raises(sealing.Tampered, match="segment 1"):
        open_bytes(keys, sealed[: start + size] + sealed[start + 2 * size :])


@pytest.mark.parametrize("keep", [1, 5, 13, 20, 200, -65, -64, -1])
def test_truncation_anywhere_is_detected(keys, sample, keep):
    _, sealed, header = sample
    cut = sealed[:keep]
    data_key = sealing.unwrap_data_key(header, keys["decrypt"])
    with pytest.raises(sealing.Truncated, match="ends inside"):
        sealing.verify(io.BytesIO(cut), signing_public_key=keys["sign"].public_key())
    with pytest.raises(sealing.Truncated):
        sealing.open_sealed(io.BytesIO(cut), io.BytesIO(), data_key=data_key)


def test_truncation_inside_segments_is_truncated(keys, sample):
    _, sealed, header = sample
    for keep in (segments_start(header), segments_start(header) + 10, len(sealed) - 1):
        with pytest.raises(sealing.Truncated, match="ends inside"):
            open_bytes(keys, sealed[:keep])


def test_appended_bytes_are_refused(keys, sample):
    with pytest.raises(sealing.SizeMismatch, match="follow"):
        sealing.verify(io.BytesIO(sample[1] + b"\x00"), signing_public_key=keys["sign"].public_key())
    with pytest.raises(sealing.SizeMismatch):
        open_bytes(keys, sample[1] + b"extra")


def test_appended_segment_is_refused(keys, sample):
    _, sealed, header = sample
    start = segments_start(header)
    with pytest.raises(sealing.SizeMismatch):
        open_bytes(keys, sealed + sealed[start : start + SEG + 16])


def test_wrong_recipient_key_is_refused(keys, sample):
    with pytest.raises(sealing.WrongKey, match="not sealed to"):
        sealing.unwrap_data_key(sample[2], keys["other"])


def test_wrong_data_key_is_refused_before_decrypting(keys, sample):
    out = io.BytesIO()
    with pytest.raises(sealing.WrongKey):
        sealing.open_sealed(io.BytesIO(sample[1]), out, data_key=os.urandom(32))
    assert out.getvalue() == b""


def test_header_bound_to_another_tender_lot_or_bidder(keys, sample):
    for other in (
        sealing.Binding("1002", "1", "42"), sealing.Binding("1001", "2", "42"), sealing.Binding("1001", "1", "43"),
    ):
        with pytest.raises(sealing.BindingMismatch, match="sealed for tender 1001, lot 1, bidder 42"):
            sealing.verify(io.BytesIO(sample[1]), signing_public_key=keys["sign"].public_key(), expected_binding=other)
        with pytest.raises(sealing.BindingMismatch):
            open_bytes(keys, sample[1], binding=other)


def test_wrapped_key_moved_to_another_binding_does_not_open(keys):
    """The HPKE info binds tender, lot and bidder: a wrapped key copied into a header for
    another lot (signed by the same bidder) does not unwrap."""
    _, header = seal_bytes(keys, b"bid")
    moved = sealing.replace(header, binding=sealing.Binding("1001", "2", "42"))
    with pytest.raises(sealing.Tampered, match="does not open"):
        sealing.unwrap_data_key(moved, keys["decrypt"])


def test_custodial_copy_of_another_key_is_detected(keys):
    """A bidder wrapping a different key to the custodian is caught by the key commitment."""
    _, header = seal_bytes(keys, b"bid", custodial=True)
    _, other = seal_bytes(keys, b"bid", custodial=True)
    mixed = sealing.replace(header, recipients=(header.recipients[0], other.recipients[1]))
    with pytest.raises(sealing.Tampered, match="not the key"):
        sealing.unwrap_data_key(mixed, keys["custodial"])


def _resigned(keys, header, **changes) -> bytes:
    changed = sealing.replace(header, **changes).with_raw()
    return changed.signed_bytes() + sealing._sign(changed, keys["sign"])


def test_declared_sizes_that_contradict_each_other_are_refused(keys, sample):
    _, sealed, header = sample
    for changes in ({"segment_count": 3}, {"ciphertext_size": header.ciphertext_size + 1}, {"segment_size": 100}):
        with pytest.raises(sealing.SizeMismatch):
            sealing.read_header(io.BytesIO(_resigned(keys, header, **changes) + sealed[segments_start(header) :]))


def test_declared_hash_that_does_not_match_is_refused(keys, sample):
    _, sealed, header = sample
    data = _resigned(keys, header, ciphertext_sha256="ab" * 32) + sealed[segments_start(header) :]
    with pytest.raises(sealing.Tampered, match="SHA-256"):
        sealing.verify(io.BytesIO(data), signing_public_key=keys["sign"].public_key())


def test_declared_plaintext_size_larger_than_the_file_is_truncation(keys, sample):
    _, sealed, header = sample
    size = header.plaintext_size + SEG
    count, ciphertext_size, _ = sealed_header.segment_layout(size, SEG)
    data = _resigned(keys, header, plaintext_size=size, segment_count=count, ciphertext_size=ciphertext_size) + sealed[segments_start(header) :]
    with pytest.raises(sealing.Truncated):
        sealing.verify(io.BytesIO(data), signing_public_key=keys["sign"].public_key())


def test_seal_refuses_a_plaintext_shorter_or_longer_than_declared(keys):
    args = {"recipient_public_key": keys["decrypt"].public_key(), "signing_private_key": keys["sign"], "binding": BINDING, "segment_size": SEG}
    with pytest.raises(ValueError, match="ended"):
        sealing.seal(io.BytesIO(b"abc"), io.BytesIO(), plaintext_size=10, **args)
    with pytest.raises(ValueError, match="longer"):
        sealing.seal(io.BytesIO(b"abc"), io.BytesIO(), plaintext_size=2, **args)


@pytest.mark.parametrize("bad", [{"tender": ""}, {"lot": 1}, {"bidder": "x" * 201}])
def test_binding_needs_short_non_empty_strings(bad):
    with pytest.raises(ValueError):
        sealing.Binding(**{"tender": "1", "lot": "1", "bidder": "1", **bad})


def test_every_error_is_a_sealed_bid_error():
    for cls in (sealing.NotSealed, sealing.UnsupportedVersion, sealing.Truncated, sealing.Tampered, sealing.MalformedHeader,
                sealing.SizeMismatch, sealing.BadSignature, sealing.BindingMismatch, sealing.WrongKey):
        assert issubclass(cls, sealing.SealedBidError)
