"""Shamir secret sharing (k of n) over the prime field GF(q), q = the order of the P-256 group.

The secret shared here is a P-256 private scalar (1 ≤ d < q), so the field is the scalars' own
field: every secret is a field element and every share value fits in 32 bytes. Pure Python, no
Django; docs/custodial-fallback.md explains how the opening uses it.

    split:   pick a₁ … a_{k-1} uniformly in GF(q); f(x) = secret + a₁x + … + a_{k-1}x^{k-1};
             share i (i = 1 … n) is (i, f(i)).
    combine: Lagrange interpolation of the given shares at x = 0.

Any k shares give f(0) = secret. Any k − 1 shares reveal nothing: for every candidate secret s
there is exactly one polynomial of degree < k through (0, s) and those k − 1 points
(`interpolate_at` builds it), and the random coefficients make all of them equally likely.

`combine` cannot tell a wrong share from a right one (any points interpolate to *some* value):
callers check each share against a commitment before combining (opening/services/custodial.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

# The order of the P-256 base point (SEC 2, FIPS 186-4 D.1.2.3): a 256-bit prime.
Q = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
VALUE_BYTES = 32
MAX_SHARES = 255  # indices 1 … 255: far more custodians than any tender names


class ShamirError(ValueError):
    """Bad parameters or shares: k or n out of range, a secret outside the field, a duplicate or
    invalid share index or value."""


@dataclass(frozen=True)
class Share:
    index: int  # x, 1 … n
    value: int  # f(x), 0 ≤ value < Q

    def value_bytes(self) -> bytes:
        return self.value.to_bytes(VALUE_BYTES, "big")

    @classmethod
    def from_bytes(cls, index: int, raw: bytes) -> Share:
        if not isinstance(raw, (bytes, bytearray)) or len(raw) != VALUE_BYTES:
            raise ShamirError(f"a share value is {VALUE_BYTES} bytes")
        return check_share(cls(index, int.from_bytes(raw, "big")))


def check_share(share: Share) -> Share:
    if not isinstance(share, Share):
        raise ShamirError("not a share")
    if isinstance(share.index, bool) or not isinstance(share.index, int) or not 1 <= share.index <= MAX_SHARES:
        raise ShamirError(f"a share index is an integer from 1 to {MAX_SHARES}")
    if isinstance(share.value, bool) or not isinstance(share.value, int) or not 0 <= share.value < Q:
        raise ShamirError("a share value is an integer from 0 to q − 1")
    return share


def split(secret: int, k: int, n: int, rng: Callable[[int], int] = secrets.randbelow) -> list[Share]:
    """n shares of `secret`, any k of which recover it. `rng(bound)` returns a uniform integer in
    [0, bound); the default is the operating system's CSPRNG (tests pass a seeded one)."""
    for name, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ShamirError(f"{name} must be an integer")
    if not 1 <= k <= n <= MAX_SHARES:
        raise ShamirError(f"need 1 ≤ k ≤ n ≤ {MAX_SHARES} (got k = {k}, n = {n})")
    if isinstance(secret, bool) or not isinstance(secret, int) or not 0 <= secret < Q:
        raise ShamirError("the secret must be an integer from 0 to q − 1")
    coefficients = [secret] + [rng(Q) for _ in range(k - 1)]
    if any(not 0 <= c < Q for c in coefficients):
        raise ShamirError("the random source returned a value outside [0, q)")
    return [Share(x, _evaluate(coefficients, x)) for x in range(1, n + 1)]


def combine(shares: Iterable[Share]) -> int:
    """The value at 0 of the polynomial through `shares`: the secret when they are k (or more)
    right shares of it. Refuses no shares, duplicate indices and values outside the field."""
    points = _distinct(shares)
    if not points:
        raise ShamirError("no shares to combine")
    return interpolate_at(points, 0)


def interpolate_at(points: Sequence[tuple[int, int]] | Sequence[Share], x: int) -> int:
    """Lagrange interpolation: the value at `x` of the unique polynomial of degree < len(points)
    through `points` ((x, y) pairs with distinct x, or shares)."""
    pairs = [(p.index, p.value) if isinstance(p, Share) else (int(p[0]) % Q, int(p[1]) % Q) for p in points]
    xs = [px for px, _ in pairs]
    if len(set(xs)) != len(xs):
        raise ShamirError("the points must have distinct x")
    total = 0
    for i, (xi, yi) in enumerate(pairs):
        numerator, denominator = 1, 1
        for j, (xj, _) in enumerate(pairs):
            if i != j:
                numerator = numerator * (x - xj) % Q
                denominator = denominator * (xi - xj) % Q
        total = (total + yi * numerator * pow(denominator, -1, Q)) % Q
    return total


def _evaluate(coefficients: list[int], x: int) -> int:
    result = 0
    for c in reversed(coefficients):  # Horner
        result = (result * x + c) % Q
    return result


def _distinct(shares: Iterable[Share]) -> list[Share]:
    checked = [check_share(share) for share in shares]
    indices = [share.index for share in checked]
    if len(set(indices)) != len(indices):
        raise ShamirError("the same share index was given twice")
    return checked
