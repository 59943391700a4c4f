"""Shamir k-of-n sharing of a P-256 scalar (opening/shamir.py): any k shares recover the secret,
k − 1 shares are consistent with every secret, bad input is refused. Pure: no database."""

from __future__ import annotations

import itertools
import random

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bidding import hpke
from opening import shamir
from opening.shamir import Q, Share, ShamirError


def seeded(seed: int = 7):
    return random.Random(seed).randrange


def probably_prime(m: int) -> bool:
    """Miller–Rabin with the first 20 primes as bases."""
    d, r = m - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71):
        x = pow(a, d, m)
        if x in (1, m - 1):
            continue
        for _ in range(r - 1):
            x = x * x % m
            if x == m - 1:
                break
        else:
            return False
    return True


def test_the_field_is_the_p256_group_order():
    assert Q == hpke.P256_ORDER and Q.bit_length() == 256 and probably_prime(Q)
    key = ec.generate_private_key(ec.SECP256R1())
    assert 1 <= key.private_numbers().private_value < Q
    # q·G is the point at infinity: (q − 1)·G = −G, the generator with its y negated
    minus_g = ec.derive_private_key(Q - 1, ec.SECP256R1()).public_key().public_numbers()
    g = ec.derive_private_key(1, ec.SECP256R1()).public_key().public_numbers()
    assert minus_g.x == g.x and minus_g.y != g.y


@pytest.mark.parametrize("k,n", [(1, 1), (1, 3), (2, 3), (3, 3), (3, 5), (5, 9)])
def test_every_k_subset_recovers_the_secret_and_order_does_not_matter(k, n):
    secret = random.Random(k * 100 + n).randrange(1, Q)
    shares = shamir.split(secret, k, n, seeded(n))
    assert [s.index for s in shares] == list(range(1, n + 1))
    assert all(0 <= s.value < Q for s in shares)
    for subset in itertools.combinations(shares, k):
        assert shamir.combine(subset) == secret
        assert shamir.combine(reversed(subset)) == secret
    # more than k right shares recover it too
    assert shamir.combine(shares) == secret


def test_a_real_p256_private_key_round_trips_through_32_byte_shares():
    key = ec.generate_private_key(ec.SECP256R1())
    d = key.private_numbers().private_value
    shares = shamir.split(d, 2, 3)
    wire = [(s.index, s.value_bytes()) for s in shares]
    assert all(len(raw) == 32 for _, raw in wire)
    back = [Share.from_bytes(index, raw) for index, raw in wire[1:]]
    recovered = ec.derive_private_key(shamir.combine(back), ec.SECP256R1())
    assert recovered.public_key().public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize("k,n", [(2, 3), (3, 5), (4, 4)])
def test_k_minus_one_shares_are_consistent_with_every_secret(k, n):
    """Information-theoretic secrecy, shown constructively: for k − 1 shares and ANY candidate
    secret s there is a polynomial of degree < k through (0, s) and those shares, so the shares
    say nothing about which s was shared. (With the coefficients uniform, each s is equally likely.)"""
    secret = 123456789
    shares = shamir.split(secret, k, n, seeded())
    for subset in itertools.combinations(shares, k - 1):
        for candidate in (0, 1, secret, Q - 1, random.Random(3).randrange(Q)):
            points = [(0, candidate)] + [(s.index, s.value) for s in subset]  # k points: degree < k
            assert shamir.interpolate_at(points, 0) == candidate
            for s in subset:
                assert shamir.interpolate_at(points, s.index) == s.value
        # and combining only k − 1 shares gives some value, not the secret (but for chance 1/Q)
        assert shamir.combine(subset) != secret


def test_k_minus_one_shares_fix_each_secret_to_exactly_one_completion():
    """Counting argument on a small case: with k = 2, one share (x₁, y₁) and each candidate s, the
    line through (0, s) and (x₁, y₁) is unique, so distinct candidates give distinct slopes:
    the map from secret to the dealer's random coefficient is a bijection of GF(Q)."""
    share = shamir.split(42, 2, 3, seeded())[0]
    slopes = {(share.value - s) * pow(share.index, -1, Q) % Q for s in range(1000)}
    assert len(slopes) == 1000


def test_the_coefficients_are_random_so_the_same_secret_gives_different_shares():
    assert shamir.split(5, 2, 3, seeded(1)) != shamir.split(5, 2, 3, seeded(2))
    a, b = shamir.split(5, 2, 3), shamir.split(5, 2, 3)
    assert a != b and shamir.combine(a[:2]) == shamir.combine(b[1:]) == 5


def test_duplicate_shares_are_refused():
    shares = shamir.split(99, 2, 3, seeded())
    with pytest.raises(ShamirError, match="twice"):
        shamir.combine([shares[0], shares[0]])
    with pytest.raises(ShamirError, match="twice"):
        shamir.combine([shares[0], Share(shares[0].index, (shares[0].value + 1) % Q)])


@pytest.mark.parametrize("bad", [Share(0, 1), Share(-1, 1), Share(256, 1), Share(1, Q), Share(1, -1), Share(True, 1), Share(1, 1.0)])
def test_invalid_shares_are_refused(bad):
    good = shamir.split(99, 2, 3, seeded())[1]
    with pytest.raises(ShamirError):
        shamir.combine([good, bad])


def test_share_bytes_must_be_32_and_in_the_field():
    with pytest.raises(ShamirError):
        Share.from_bytes(1, b"\x00" * 31)
    with pytest.raises(ShamirError):
        Share.from_bytes(1, Q.to_bytes(32, "big"))
    with pytest.raises(ShamirError):
        Share.from_bytes(1, "00" * 32)
    assert Share.from_bytes(2, (Q - 1).to_bytes(32, "big")).value == Q - 1


def test_no_shares_is_refused():
    with pytest.raises(ShamirError):
        shamir.combine([])


@pytest.mark.parametrize("secret,k,n", [(1, 0, 3), (1, 4, 3), (1, 2, 256), (-1, 2, 3), (Q, 2, 3), (1.5, 2, 3), (1, True, 3), (1, 2, "3")])
def test_bad_parameters_are_refused(secret, k, n):
    with pytest.raises(ShamirError):
        shamir.split(secret, k, n)


def test_a_random_source_outside_the_field_is_refused():
    with pytest.raises(ShamirError):
        shamir.split(1, 2, 3, lambda bound: bound)


def test_a_wrong_share_changes_the_result_silently_so_callers_must_check_commitments():
    shares = shamir.split(77, 2, 3, seeded())
    wrong = Share(shares[1].index, (shares[1].value + 1) % Q)
    assert shamir.combine([shares[0], wrong]) != 77
