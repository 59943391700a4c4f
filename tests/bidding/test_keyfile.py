"""The bidder's key file (bidding.keyfile): pure, no database.

Files here use the lowest iteration count a reader accepts, so the suite stays fast; one test pins
the default to OWASP's 600,000.
"""

import copy
import json
import re
import unicodedata
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bidding import keyfile
from bidding.keyfile import (
    InvalidJWK,
    KeyFileError,
    MalformedKeyFile,
    TamperedKeyFile,
    UnsupportedKeyFile,
    WeakPassphrase,
    WrongPassphrase,
)

PASSPHRASE = "correct horse battery staple"
FAST = keyfile.MIN_ITERATIONS
VECTOR = json.loads((Path(keyfile.__file__).parent / "vectors" / "keyfile-v1.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def key_file() -> bytes:
    return keyfile.generate(PASSPHRASE, label="Acme Construction, laptop 2", iterations=FAST)


def edited(data: bytes, change) -> bytes:
    document = json.loads(data)
    change(document)
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def other_public_jwk() -> dict:
    return keyfile.public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())


# --- round trip and public part ---------------------------------------------------------------


def test_a_generated_file_unlocks_with_its_passphrase_and_keeps_label_and_time(key_file):
    keys = keyfile.unlock(key_file, PASSPHRASE)
    public = keyfile.load_public(key_file)
    assert keyfile.fingerprint(keys.decryption.public_key()) == public.fingerprints.decryption
    assert keyfile.fingerprint(keys.signing.public_key()) == public.fingerprints.signing
    assert public.fingerprints.decryption != public.fingerprints.signing
    assert public.label == keys.public.label == "Acme Construction, laptop 2"
    assert public.created.utcoffset() is not None


def test_the_public_part_is_readable_without_the_passphrase(key_file):
    document = json.loads(key_file)
    public = keyfile.load_public(key_file)
    assert keyfile.public_jwk(public.decryption) == document["public"]["decryption"]
    assert keyfile.public_jwk(public.signing) == document["public"]["signing"]
    assert public.fingerprints.signing == document["public"]["fingerprints"]["signing"]
    for role in ("decryption", "signing"):
        assert set(document["public"][role]) == {"kty", "crv", "x", "y"}  # no private "d" in the clear


def test_fingerprint_is_sha256_of_the_subject_public_key_info_in_lowercase_hex():
    from cryptography.hazmat.primitives import serialization

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    assert keyfile.fingerprint(key) == digest.finalize().hex()


def test_the_default_iteration_count_is_at_least_owasps_600000():
    assert keyfile.DEFAULT_ITERATIONS >= 600_000
    data = keyfile.generate(PASSPHRASE)
    assert json.loads(data)["kdf"]["iterations"] == keyfile.DEFAULT_ITERATIONS


def test_the_keys_work_ecdsa_signatures_and_ecdh_agreement(key_file):
    keys = keyfile.unlock(key_file, PASSPHRASE)
    public = keyfile.load_public(key_file)
    signature = keys.signing.sign(b"sealed-bid header", ec.ECDSA(hashes.SHA256()))
    public.signing.verify(signature, b"sealed-bid header", ec.ECDSA(hashes.SHA256()))

    sender = ec.generate_private_key(ec.SECP256R1())
    assert sender.exchange(ec.ECDH(), public.decryption) == keys.decryption.exchange(ec.ECDH(), sender.public_key())


# --- passphrases --------------------------------------------------------------------------------


def test_a_wrong_passphrase_is_reported_as_such_and_not_echoed(key_file):
    with pytest.raises(WrongPassphrase) as caught:
        keyfile.unlock(key_file, "correct horse battery stapler")
    assert "stapler" not in str(caught.value)
    with pytest.raises(WrongPassphrase):
        keyfile.unlock(key_file, "")


@pytest.mark.parametrize("short", ["", "short", "elevenchars", "十一个汉字十一个汉字十"])
def test_a_passphrase_shorter_than_12_characters_is_refused_with_a_clear_message(short):
    with pytest.raises(WeakPassphrase, match="at least 12 characters") as caught:
        keyfile.generate(short, iterations=FAST)
    assert not short or short not in str(caught.value)


def test_twelve_characters_are_enough_in_any_script_counted_after_nfc():
    keyfile.generate("十二个汉字的口令十二个汉字", iterations=FAST)
    # 11 letters + a combining accent: 12 code points typed, 11 characters once composed.
    with pytest.raises(WeakPassphrase):
        keyfile.generate("passphrasee\u0301", iterations=FAST)


def test_the_passphrase_is_nfc_normalised_so_composed_and_decomposed_forms_unlock():
    data = json.dumps(VECTOR["keyfile"]).encode()
    decomposed = unicodedata.normalize("NFD", VECTOR["inputs"]["passphrase"])
    assert decomposed != VECTOR["inputs"]["passphrase"]
    keyfile.unlock(data, decomposed)


def test_change_passphrase_keeps_the_keys_and_retires_the_old_passphrase(key_file):
    before = keyfile.unlock(key_file, PASSPHRASE)
    changed = keyfile.change_passphrase(key_file, PASSPHRASE, "a brand new passphrase", iterations=FAST)
    after = keyfile.unlock(changed, "a brand new passphrase")
    assert after.decryption.private_numbers() == before.decryption.private_numbers()
    assert after.signing.private_numbers() == before.signing.private_numbers()
    assert (after.public.label, after.public.created) == (before.public.label, before.public.created)
    old, new = json.loads(key_file), json.loads(changed)
    assert old["kdf"]["salt"] != new["kdf"]["salt"] and old["aead"]["nonce"] != new["aead"]["nonce"]
    with pytest.raises(WrongPassphrase):
        keyfile.unlock(changed, PASSPHRASE)


def test_change_passphrase_raises_a_low_iteration_count_to_the_default(key_file):
    changed = keyfile.change_passphrase(key_file, PASSPHRASE, "a brand new passphrase")
    assert json.loads(changed)["kdf"]["iterations"] == keyfile.DEFAULT_ITERATIONS


def test_change_passphrase_refuses_a_wrong_old_or_weak_new_passphrase(key_file):
    with pytest.raises(WrongPassphrase):
        keyfile.change_passphrase(key_file, "not the passphrase", "a brand new passphrase", iterations=FAST)
    with pytest.raises(WeakPassphrase):
        keyfile.change_passphrase(key_file, PASSPHRASE, "too short", iterations=FAST)


@pytest.mark.parametrize("label", ["line\nbreak", "x" * 201])
def test_a_label_with_control_characters_or_too_long_is_refused(label):
    with pytest.raises(ValueError):
        keyfile.generate(PASSPHRASE, label=label, iterations=FAST)


# --- tampering: right passphrase, altered file ----------------------------------------------------


def _flip_ciphertext(document):
    raw = bytearray(keyfile._b64d(document["ciphertext"], "", 0, 10**6))
    raw[5] ^= 1
    document["ciphertext"] = keyfile._b64e(bytes(raw))


def _swap_decryption_key(document):
    jwk = other_public_jwk()
    document["public"]["decryption"] = jwk
    document["public"]["fingerprints"]["decryption"] = keyfile.fingerprint(keyfile.public_key_from_jwk(jwk))


def _swap_roles(document):
    public = document["public"]
    public["decryption"], public["signing"] = public["signing"], public["decryption"]
    fingerprints = public["fingerprints"]
    fingerprints["decryption"], fingerprints["signing"] = fingerprints["signing"], fingerprints["decryption"]


TAMPERINGS = {
    "ciphertext byte flipped": _flip_ciphertext,
    "ciphertext truncated": lambda d: d.update(ciphertext=keyfile._b64e(keyfile._b64d(d["ciphertext"], "", 0, 10**6)[:-6])),
    "public decryption key swapped (with matching fingerprint)": _swap_decryption_key,
    "decryption and signing keys exchanged": _swap_roles,
    "label changed": lambda d: d.update(label="someone else"),
    "creation time changed": lambda d: d.update(created="2020-01-01T00:00:00Z"),
    "nonce changed": lambda d: d["aead"].update(nonce="AAAAAAAAAAAAAAAA"),
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_an_altered_file_is_reported_as_tampered_not_as_a_wrong_passphrase(key_file, tamper):
    with pytest.raises(TamperedKeyFile):
        keyfile.unlock(edited(key_file, tamper), PASSPHRASE)


def test_a_public_key_swapped_without_its_fingerprint_is_caught_even_without_the_passphrase(key_file):
    data = edited(key_file, lambda d: d["public"].update(signing=other_public_jwk()))
    with pytest.raises(TamperedKeyFile):
        keyfile.load_public(data)


KDF_CHANGES = {
    "iterations": lambda d: d["kdf"].update(iterations=d["kdf"]["iterations"] + 1),
    "salt": lambda d: d["kdf"].update(salt="AAAAAAAAAAAAAAAAAAAAAA"),
    "check": lambda d: d["kdf"].update(check="A" * 43),
}


@pytest.mark.parametrize("change", KDF_CHANGES.values(), ids=KDF_CHANGES.keys())
def test_changed_kdf_parameters_read_as_a_wrong_passphrase(key_file, change):
    # They change the derived key itself, which no reader can tell from a mistyped passphrase.
    with pytest.raises(WrongPassphrase):
        keyfile.unlock(edited(key_file, change), PASSPHRASE)


def test_private_keys_that_do_not_match_the_public_part_are_refused_without_revealing_them():
    # Someone who knows the passphrase re-encrypts other private keys under the same public part.
    document = copy.deepcopy(VECTOR["keyfile"])
    stranger = ec.generate_private_key(ec.SECP256R1())
    plaintext = json.loads(VECTOR["intermediate"]["plaintext"])
    plaintext["signing"] = keyfile._private_jwk(stranger)
    aead_key = bytes.fromhex(VECTOR["intermediate"]["aead_key_hex"])
    nonce = bytes.fromhex(VECTOR["inputs"]["nonce_hex"])
    ciphertext = AESGCM(aead_key).encrypt(nonce, json.dumps(plaintext).encode(), VECTOR["intermediate"]["associated_data"].encode())
    document["ciphertext"] = keyfile._b64e(ciphertext)
    with pytest.raises(MalformedKeyFile) as caught:
        keyfile.unlock(json.dumps(document).encode(), VECTOR["inputs"]["passphrase"])
    assert plaintext["signing"]["d"] not in str(caught.value)


# --- malformed and unsupported files ------------------------------------------------------------


def _p384_jwk(document):
    key = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    to_b64 = lambda n: keyfile._b64e(n.to_bytes(48, "big"))  # noqa: E731
    document["public"]["signing"] = {"kty": "EC", "crv": "P-384", "x": to_b64(key.x), "y": to_b64(key.y)}


def _off_curve(document):
    jwk = document["public"]["decryption"]
    y = int.from_bytes(keyfile._b64d(jwk["y"], "", 32, 32), "big")
    jwk["y"] = keyfile._b64e(((y + 1) % keyfile._P256_P).to_bytes(32, "big"))


MALFORMED = {
    "not JSON": lambda _: b"-----BEGIN PRIVATE KEY-----",
    "not UTF-8": lambda _: b'{"format": "\xff"}',
    "a JSON array": lambda _: b"[]",
    "another format": lambda data: edited(data, lambda d: d.update(format="jwk-set")),
    "no version": lambda data: edited(data, lambda d: d.pop("version")),
    "version as text": lambda data: edited(data, lambda d: d.update(version="1")),
    "unknown field": lambda data: edited(data, lambda d: d.update(comment="hi")),
    "duplicate member": lambda data: data.replace(b'"version": 1,', b'"version": 1, "version": 1,'),
    "NaN": lambda data: data.replace(b'"version": 1', b'"version": NaN'),
    "P-384 key": lambda data: edited(data, _p384_jwk),
    "point not on the curve": lambda data: edited(data, _off_curve),
    "padded base64": lambda data: edited(data, lambda d: d["aead"].update(nonce=d["aead"]["nonce"] + "==")),
    "short nonce": lambda data: edited(data, lambda d: d["aead"].update(nonce="AAAA")),
    "iterations too high": lambda data: edited(data, lambda d: d["kdf"].update(iterations=10**9)),
    "iterations as a boolean": lambda data: edited(data, lambda d: d["kdf"].update(iterations=True)),
    "creation time without zone": lambda data: edited(data, lambda d: d.update(created="2025-01-01T00:00:00")),
    "lone surrogate in the creation time": lambda data: re.sub(rb'"created": *"[^"]*"', rb'"created": "2025-01-01\\ud80000:00:00Z"', data),
    "uppercase fingerprint": lambda data: edited(data, lambda d: d["public"]["fingerprints"].update(signing="A" * 64)),
    "too large": lambda data: data + b" " * keyfile.MAX_FILE_BYTES,
}
MALFORMED.update(
    {f"missing {name}": (lambda name: lambda data: edited(data, lambda d: d.pop(name)))(name) for name in sorted(keyfile._TOP_FIELDS - {"format", "version"})}
)


@pytest.mark.parametrize("make", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_file_is_refused_as_malformed_with_or_without_passphrase(key_file, make):
    data = make(key_file)
    with pytest.raises(MalformedKeyFile):
        keyfile.load_public(data)
    with pytest.raises(MalformedKeyFile):
        keyfile.unlock(data, PASSPHRASE)


UNSUPPORTED = {
    "a later version": lambda d: d.update(version=2),
    "scrypt": lambda d: d["kdf"].update(name="scrypt"),
    "ChaCha20-Poly1305": lambda d: d["aead"].update(name="ChaCha20-Poly1305"),
}


@pytest.mark.parametrize("change", UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
def test_a_later_version_or_unknown_algorithm_is_unsupported_not_malformed(key_file, change):
    with pytest.raises(UnsupportedKeyFile):
        keyfile.load_public(edited(key_file, change))


def test_a_byte_order_mark_and_other_whitespace_do_not_matter(key_file):
    compact = json.dumps(json.loads(key_file), separators=(",", ":")).encode()
    keyfile.unlock(b"\xef\xbb\xbf" + compact, PASSPHRASE)


# --- JWK helpers ----------------------------------------------------------------------------------


def test_a_webcrypto_exported_public_jwk_is_accepted():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    exported = {**keyfile.public_jwk(key), "ext": True, "key_ops": ["verify"]}
    assert keyfile.public_key_from_jwk(exported).public_numbers() == key.public_numbers()


def test_public_key_from_jwk_refuses_private_keys_other_curves_and_points_off_the_curve(key_file):
    private = keyfile._private_jwk(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(InvalidJWK, match="private key"):
        keyfile.public_key_from_jwk(private)
    document = json.loads(key_file)
    _p384_jwk(document)
    _off_curve(document)
    for jwk in (document["public"]["signing"], document["public"]["decryption"]):
        with pytest.raises(InvalidJWK):
            keyfile.public_key_from_jwk(jwk)
    beyond_p = {**document["public"]["decryption"], "x": keyfile._b64e(keyfile._P256_P.to_bytes(32, "big"))}
    with pytest.raises(InvalidJWK):
        keyfile.public_key_from_jwk(beyond_p)


# --- the committed test vector --------------------------------------------------------------------


def test_the_test_vector_unlocks_to_the_expected_private_scalars():
    keys = keyfile.unlock(json.dumps(VECTOR["keyfile"]).encode("utf-8"), VECTOR["inputs"]["passphrase"])
    assert keys.decryption.private_numbers().private_value == int(VECTOR["inputs"]["decryption_d_hex"], 16)
    assert keys.signing.private_numbers().private_value == int(VECTOR["inputs"]["signing_d_hex"], 16)
    assert VECTOR["keyfile"]["kdf"]["iterations"] < keyfile.DEFAULT_ITERATIONS
    assert "TEST VECTOR ONLY" in VECTOR["description"]


def test_the_writer_reproduces_the_test_vector_and_its_intermediate_values():
    inputs = VECTOR["inputs"]
    secret = keyfile._passphrase_bytes(inputs["passphrase"])
    salt, nonce = bytes.fromhex(inputs["salt_hex"]), bytes.fromhex(inputs["nonce_hex"])
    assert secret.hex() == inputs["passphrase_utf8_hex"]
    aead_key, check = keyfile._derive(secret, salt, inputs["iterations"])
    assert (aead_key.hex(), check.hex()) == (VECTOR["intermediate"]["aead_key_hex"], VECTOR["intermediate"]["check_hex"])
    data = keyfile._seal(
        secret,
        decryption=ec.derive_private_key(int(inputs["decryption_d_hex"], 16), ec.SECP256R1()),
        signing=ec.derive_private_key(int(inputs["signing_d_hex"], 16), ec.SECP256R1()),
        label=inputs["label"],
        created=inputs["created"],
        iterations=inputs["iterations"],
        salt=salt,
        nonce=nonce,
    )
    assert json.loads(data) == VECTOR["keyfile"]
    assert keyfile._parse(data).associated_data.decode("utf-8") == VECTOR["intermediate"]["associated_data"]


# --- nothing but KeyFileError, whatever the input ----------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 5_000) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _refused_only_as_key_file_error(data: bytes) -> None:
    for read in (keyfile.load_public, lambda d: keyfile.unlock(d, PASSPHRASE)):
        try:
            read(data)
        except KeyFileError:
            pass


@FUZZ
@given(st.binary(max_size=2_000))
def test_random_bytes_raise_only_key_file_errors(data):
    _refused_only_as_key_file_error(data)


@FUZZ
@given(json_values)
def test_random_json_raises_only_key_file_errors(value):
    _refused_only_as_key_file_error(json.dumps(value).encode())


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _paths(item, (*prefix, name))


@FUZZ
@given(st.data())
def test_a_valid_file_with_any_member_replaced_raises_only_key_file_errors(key_file, data):
    document = json.loads(key_file)
    path = data.draw(st.sampled_from([p for p in _paths(document) if p]))
    parent = document
    for name in path[:-1]:
        parent = parent[name]
    if data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values)
    _refused_only_as_key_file_error(json.dumps(document).encode())
