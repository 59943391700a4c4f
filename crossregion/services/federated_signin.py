"""Federated sign-in at the host (docs/cross-region.md "Federated sign-in").

An away expert's home platform sends the browser here with a federation token (POST
/crossregion/federated-login/). `sign_in` verifies it (crossregion.services.federation.verify_token:
signature, issuer = a partner under a valid agreement covering "federation", audience, expiry,
single use), checks that this host's assignment for the token's session (the lot id here) names the
token's subject as a serving away member, and then, in the same transaction:

- gets or creates the expert's shadow user (role expert, unusable password) with its
  FederatedIdentity (partner, remote expert id);
- links it to the away PanelMember (member.user), so every evaluation rule treats it exactly as a
  home expert's seat;
- registers the expert's signing public key from the assignment as the shadow user's ExpertKey
  (rotating an older one), so the expert signs the report without visiting any other page here;
- records each step in the audit trail.

A refusal raises SignInRefused with a stable code; nothing is kept (not even the token's jti), and
the attempt is recorded afterwards in an audit event of its own (as failed password sign-ins are).
The view logs the user in (crossregion/views_federation.py) and confines it (crossregion/confinement.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actor import Actor
from audit.services import record_event
from crossregion import protocol
from crossregion.identity import partner_actor
from crossregion.models import FederatedIdentity, Partner
from crossregion.services import federation

# How long the host's sign-in lasts: to the end of the session's window, at least MIN_SESSION and
# at most MAX_SESSION from now (a new token from home signs in again).
MIN_SESSION = timedelta(minutes=30)
MAX_SESSION = timedelta(hours=12)

# The HTTP status of each refusal (every one a 4xx; the page shows the code).
STATUS = {"token_malformed": 400, "token_replayed": 409}


class SignInRefused(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message, self.code = message, code

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 403)


@dataclass(frozen=True)
class SignedIn:
    user: object
    member: object
    partner: Partner
    lot_id: int
    expires_at: datetime
    identity_created: bool


def messages() -> dict[str, str]:
    """What the refusal page says for each code."""
    return {
        "token_malformed": _("联合登录令牌格式不正确。"),
        "token_bad_signature": _("联合登录令牌的签名无效（不是合作平台签发的）。"),
        "token_expired": _("联合登录令牌已过期，请回到本人所在平台重新进入评标室。"),
        "token_lifetime": _("联合登录令牌的有效期不符合协议（最长5分钟）。"),
        "token_not_yet_valid": _("联合登录令牌的签发时间晚于本平台时间。"),
        "token_wrong_audience": _("该联合登录令牌不是签发给本平台的。"),
        "token_unknown_issuer": _("签发该联合登录令牌的平台不是本平台的合作平台。"),
        "token_no_agreement": _("与签发平台之间没有有效的合作框架协议（含联合登录），不能联合登录。"),
        "token_replayed": _("该联合登录令牌已经使用过，请回到本人所在平台重新进入评标室。"),
        "token_not_assigned": _("本平台的评标委员会中没有该专家的异地席位（或该席位已不在评标委员会中）。"),
        "token_key_conflict": _("评标专家的签名公钥已登记在本平台的其他账号下，不能联合登录。"),
    }


def describe(code: str) -> str:
    return messages().get(code, _("联合登录失败。"))


def _lot_of(session) -> int | None:
    if isinstance(session, int):
        return session
    if isinstance(session, str) and session.isdigit() and len(session) <= 18:
        return int(session)
    return None


def serving_away_member(*, partner: Partner, lot_id: int, expert_id: str):
    """The away PanelMember of `lot_id` filled by `partner`'s assignment with `expert_id`, while
    serving (drawn or confirmed), or None. The latest drawing of the lot wins."""
    from evaluation.models import MemberStatus, PanelMember

    return (PanelMember.objects.select_for_update(of=("self",)).select_related("drawing__lot")
            .filter(drawing__lot_id=lot_id, venue="away", remote_region=partner.region_code, remote_expert_id=expert_id,
                    status__in=[MemberStatus.DRAWN, MemberStatus.CONFIRMED])
            .order_by("-drawing__requested_at", "-drawing_id", "-pk").first())


def assignment_jwk(member) -> dict | None:
    """The away expert's registered signing public key (P-256 JWK) from the partner's assignment."""
    return member.remote_public_jwk or None


def window_end(member) -> datetime:
    from evaluation.models import EvaluationSession

    session = EvaluationSession.objects.filter(lot_id=member.drawing.lot_id).order_by("-pk").values_list("ends_at", flat=True).first()
    return session or member.drawing.session_ends_at


def session_expiry(member, now: datetime) -> datetime:
    return min(max(window_end(member), now + MIN_SESSION), now + MAX_SESSION)


def shadow_username(partner: Partner, expert_id: str) -> str:
    return f"fed-{partner.region_code}-{hashlib.sha256(expert_id.encode()).hexdigest()[:16]}"


def _shadow(partner: Partner, expert_id: str, by: Actor, now: datetime) -> tuple[FederatedIdentity, bool]:
    from accounts.models import Role, User

    identity = FederatedIdentity.objects.select_related("user").filter(partner=partner, remote_expert_id=expert_id).first()
    if identity is not None:
        return identity, False
    user = User(username=shadow_username(partner, expert_id), role=Role.EXPERT,
                display_name=f"{partner.name} {expert_id[:8]}")
    user.set_unusable_password()
    user.save()
    identity = FederatedIdentity.objects.create(user=user, partner=partner, remote_expert_id=expert_id, created_at=now)
    record_event(by=by, action="federation.identity_create", obj=identity,
                 payload={"partner": partner.region_code, "remote_expert_id": expert_id, "user": user.pk,
                          "username": user.username})
    return identity, True


def _register_key(user, member, jwk: dict | None, by: Actor, now: datetime) -> None:
    from bidding import keyfile
    from evaluation.models import ExpertKey

    if jwk is None:
        return
    try:
        public_key = keyfile.public_key_from_jwk({k: v for k, v in jwk.items() if k != "d"})
    except keyfile.KeyFileError:
        return  # an unusable key in the assignment: the expert can still dissent in writing
    fingerprint = keyfile.fingerprint(public_key)
    active = ExpertKey.objects.select_for_update().filter(user=user, revoked_at__isnull=True).first()
    if active is not None and active.fingerprint == fingerprint:
        return
    if ExpertKey.objects.filter(fingerprint=fingerprint).exclude(user=user).exists():
        raise SignInRefused(describe("token_key_conflict"), code="token_key_conflict")
    if ExpertKey.objects.filter(fingerprint=fingerprint, user=user).exists():
        return  # an older key of this expert's, revoked here since: not brought back
    if active is not None:
        active.revoked_at = now
        active.save(update_fields=["revoked_at"])
    key = ExpertKey.objects.create(user=user, public_jwk=keyfile.public_jwk(public_key), fingerprint=fingerprint, registered_at=now)
    record_event(by=by, action="federation.key_register", obj=key, tender_id=member.drawing.lot.tender_id,
                 payload={"fingerprint": fingerprint, "replaces": active.fingerprint if active else None, "user": user.pk,
                          "lot": member.drawing.lot_id, "seat": member.seat})


def sign_in(*, token: str, ip: str | None = None, now: datetime | None = None) -> SignedIn:
    """Verify `token` and provision the away expert's seat here (see the module's docstring).
    Raises SignInRefused (nothing kept; the refusal is recorded in the audit trail)."""
    now = now or timezone.now()
    try:
        return _sign_in(token, ip, now)
    except SignInRefused as refused:
        _record_refusal(token, refused.code, ip)
        raise


@transaction.atomic
def _sign_in(token: str, ip: str | None, now: datetime) -> SignedIn:
    try:
        partner, payload = federation.verify_token(token, now=now)
    except protocol.TokenError as error:
        raise SignInRefused(describe(error.code), code=error.code) from None
    expert_id, lot_id = payload["sub"], _lot_of(payload["session"])
    member = serving_away_member(partner=partner, lot_id=lot_id, expert_id=expert_id) if lot_id is not None else None
    if member is None:
        raise SignInRefused(describe("token_not_assigned"), code="token_not_assigned")
    tender_id = member.drawing.lot.tender_id
    by = dataclasses.replace(partner_actor(partner), ip=ip)
    try:
        with transaction.atomic():
            identity, created = _shadow(partner, expert_id, by, now)
    except IntegrityError:  # the same expert's first two sign-ins at once: the other one made it
        identity, created = FederatedIdentity.objects.select_related("user").get(partner=partner, remote_expert_id=expert_id), False
    user = identity.user
    if member.user_id is None:
        member.user = user
        member.save(update_fields=["user"])
        record_event(by=by, action="federation.member_link", obj=member, tender_id=tender_id,
                     payload={"lot": lot_id, "seat": member.seat, "partner": partner.region_code, "remote_expert_id": expert_id,
                              "user": user.pk})
    elif member.user_id != user.pk:
        raise SignInRefused(describe("token_not_assigned"), code="token_not_assigned")
    _register_key(user, member, assignment_jwk(member), by, now)
    expires_at = session_expiry(member, now)
    identity.last_sign_in_at = now
    identity.save(update_fields=["last_sign_in_at"])
    record_event(by=Actor.from_user(user, ip=ip), action="federation.sign_in", obj=member, tender_id=tender_id,
                 payload={"partner": partner.region_code, "remote_expert_id": expert_id, "lot": lot_id, "seat": member.seat,
                          "jti": payload["jti"], "token_expires_at": protocol.format_time(protocol.token_expires_at(payload)),
                          "session_expires_at": protocol.format_time(expires_at)})
    return SignedIn(user=user, member=member, partner=partner, lot_id=lot_id, expires_at=expires_at, identity_created=created)


def _record_refusal(token: str, code: str, ip: str | None) -> None:
    try:
        claimed = protocol.peek_token(token)
    except protocol.ProtocolError:
        claimed = {}
    by = Actor(user_id=None, name="federated-login", role="", organisation_id=None, ip=ip)
    with transaction.atomic():
        record_event(by=by, action="federation.sign_in_refused",
                     payload={"code": code, "iss": claimed.get("iss", ""), "sub": claimed.get("sub", ""),
                              "session": str(claimed.get("session", "")), "jti": claimed.get("jti", "")})
