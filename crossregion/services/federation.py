"""Federation tokens at the host: verify one a partner issued for an away expert, once.

The FEDERATED LOGIN area calls `verify_token(token)` and then checks that the assignment for
payload["session"] names payload["sub"] (its own data); this module checks the rest.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from crossregion import protocol
from crossregion.identity import own_region
from crossregion.models import Partner, UsedToken
from crossregion.selectors import valid_agreement

TokenError = protocol.TokenError


def verify_token(token: str, *, now: datetime | None = None) -> tuple[Partner, dict]:
    """(issuing partner, payload) of a valid federation token, recording its jti as used.

    Raises protocol.TokenError with code token_malformed, token_unknown_issuer, token_bad_signature,
    token_wrong_audience, token_expired, token_lifetime, token_not_yet_valid, token_no_agreement
    (no valid agreement with the issuer covering "federation") or token_replayed (jti used before).
    Runs in its own transaction (or the caller's): a refused token records nothing."""
    now = now or timezone.now()
    claimed = protocol.peek_token(token)
    partner = Partner.objects.filter(region_code=claimed["iss"]).first()
    if partner is None:
        raise TokenError(f"token: issuer {claimed['iss']} is not a partner", code="token_unknown_issuer")
    payload = protocol.verify_token(token, public_raw=partner.public_raw, audience=own_region(), now=now)
    if valid_agreement(partner, area="federation", now=now) is None:
        raise TokenError(f"token: no valid agreement with {partner.region_code} covers federation", code="token_no_agreement")
    try:
        with transaction.atomic():
            UsedToken.objects.create(partner=partner, jti=payload["jti"], subject=payload["sub"], session=str(payload["session"]),
                                     expires_at=protocol.token_expires_at(payload), used_at=now)
    except IntegrityError:
        raise TokenError("token: already used", code="token_replayed") from None
    return partner, payload


def issue_token(*, partner: Partner, subject: str, session: str | int, now: datetime | None = None, lifetime: int = protocol.TOKEN_MAX_LIFETIME_SECONDS) -> str:
    """At home: a token for our expert `subject` (public id) to join `session` at `partner` (the host)."""
    from audit import platform_key

    payload = protocol.build_token_payload(iss=own_region(), aud=partner.region_code, sub=subject, session=session,
                                           issued_at=now or timezone.now(), lifetime=lifetime)
    return protocol.sign_token(payload, platform_key.private_key())
