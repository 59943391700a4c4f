"""bidding.sealing under random damage (Hypothesis) and with large files (bounded memory)."""

import io
import os
import tracemalloc

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bidding import sealing

KEYS = {name: ec.generate_private_key(ec.SECP256R1()) for name in ("decrypt", "sign")}
BINDING = sealing.Binding("1001", "1", "42")
PLAINTEXT = os.urandom(300)


def _seal() -> tuple[bytes, bytes]:
    out = io.BytesIO()
    header = sealing.seal(io.BytesIO(PLAINTEXT), out, recipient_public_key=KEYS["decrypt"].public_key(),
                          signing_private_key=KEYS["sign"], binding=BINDING, segment_size=64)
    return out.getvalue(), sealing.unwrap_data_key(header, KEYS["decrypt"])


SEALED, DATA_KEY = _seal()

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(SEALED) - 1), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, len(SEALED) - 1), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, len(SEALED)), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, len(SEALED) - 1), st.integers(1, 80)),
)


def _mutate(data: bytes, mutations) -> bytes:
    for kind, at, value in mutations:
        at = min(at, len(data))
        if kind == "flip" and at < len(data):
            data = data[:at] + bytes([data[at] ^ value]) + data[at + 1 :]
        elif kind == "cut":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + bytes([value]) + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + value :]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=4))
def test_damaged_files_raise_only_sealed_bid_errors(mutations):
    damaged = _mutate(SEALED, mutations)
    if damaged == SEALED:
        return
    try:  # may succeed (a damaged segment does not hinder unwrapping) but never crash otherwise
        sealing.unwrap_data_key(sealing.read_header(io.BytesIO(damaged))[0], KEYS["decrypt"])
    except sealing.SealedBidError:
        pass
    # with the signing key, verify and open each refuse every damaged file
    for attempt in (
        lambda: sealing.verify(io.BytesIO(damaged), signing_public_key=KEYS["sign"].public_key(), expected_binding=BINDING),
        lambda: sealing.open_sealed(io.BytesIO(damaged), io.BytesIO(), data_key=DATA_KEY, signing_public_key=KEYS["sign"].public_key()),
    ):
        try:
            attempt()
        except sealing.SealedBidError:
            continue
        raise AssertionError(f"a damaged file was accepted: {mutations}")


@given(st.binary(max_size=400))
@settings(max_examples=200, deadline=None)
def test_random_bytes_raise_only_sealed_bid_errors(data):
    try:
        sealing.verify(io.BytesIO(sealing.MAGIC + b"\x00\x01" + data), signing_public_key=KEYS["sign"].public_key())
    except sealing.SealedBidError:
        pass


def test_sealing_and_opening_64_mib_keeps_memory_small(tmp_path):
    size = 64 << 20
    plain, sealed, opened = tmp_path / "bid.zip", tmp_path / "bid.sealed", tmp_path / "bid.opened"
    with open(plain, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    tracemalloc.start()
    try:
        with open(plain, "rb") as src, open(sealed, "wb") as dst:
            header = sealing.seal(src, dst, recipient_public_key=KEYS["decrypt"].public_key(), signing_private_key=KEYS["sign"], binding=BINDING)
        with open(sealed, "rb") as src:
            sealing.verify(src, signing_public_key=KEYS["sign"].public_key(), expected_binding=BINDING)
        with open(sealed, "rb") as src, open(opened, "wb") as dst:
            sealing.open_sealed(src, dst, data_key=sealing.unwrap_data_key(header, KEYS["decrypt"]), signing_public_key=KEYS["sign"].public_key())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert header.segment_count == 64
    assert opened.stat().st_size == size and sealed.stat().st_size == header.file_size
    assert peak < 8 << 20, f"peak {peak} bytes"
