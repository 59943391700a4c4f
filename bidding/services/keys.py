"""Every write about bids and bidders' keys. One function per action; each runs in one transaction
with its audit events, and a refusal changes nothing.

Bidders' keys: a bidder creates its decryption and signing keys on its own machine (the bid tool's
`keygen`, or the browser) and registers only the two PUBLIC keys, as a pair. Registering a new pair
while one is in force rotates: the old pair is revoked ("rotated") and points to its successor.
Bids sealed to an old key can still be opened with the old key file; new bids must use the new one.
"""

from __future__ import annotations

import base64
import re
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from bidding import keyfile
from bidding.models import ROTATED, BidderKey, KeyPurpose, KeyStatus
from config.errors import DomainError, IllegalTransition, NotAllowed

MAX_REASON_CHARS = BidderKey._meta.get_field("revoke_reason").max_length


def _purpose_label(purpose: str) -> str:
    return _("解密公钥") if purpose == KeyPurpose.DECRYPTION else _("签名公钥")


def _checked_public_key(jwk: object, purpose: str):
    """The P-256 public key of `jwk`, or a DomainError saying what is wrong with it."""
    label = _purpose_label(purpose)
    if not isinstance(jwk, dict):
        raise DomainError(_("%(key)s应为 JWK 格式的 JSON 对象。") % {"key": label}, code="invalid_jwk")
    if "d" in jwk:
        # The one mistake that cannot be undone by revoking: say it plainly.
        raise DomainError(
            _("%(key)s含有私钥（“d”）。切勿把私钥上传到平台或交给任何人：平台只接受公钥。请重新生成密钥，只登记其中的公钥。")
            % {"key": label},
            code="private_key",
        )
    if jwk.get("kty") != "EC" or jwk.get("crv") != keyfile.CURVE_NAME:
        raise DomainError(_("%(key)s必须是 P-256 椭圆曲线公钥。") % {"key": label}, code="wrong_curve")
    try:
        return keyfile.public_key_from_jwk(jwk)
    except keyfile.InvalidJWK:
        pass
    # Say which of the remaining problems it is: unknown members, malformed coordinates, or a point
    # that is not on the curve (a corrupted or forged key).
    core = {member: jwk.get(member) for member in ("kty", "crv", "x", "y")}
    if not all(_is_coordinate(core[member]) for member in ("x", "y")):
        raise DomainError(
            _("%(key)s无效：坐标 x 和 y 应各为 32 字节，以不带填充的 base64url 编码。") % {"key": label}, code="invalid_jwk"
        )
    try:
        keyfile.public_key_from_jwk(core)
    except keyfile.InvalidJWK:
        raise DomainError(_("%(key)s无效：该点不在 P-256 曲线上。") % {"key": label}, code="invalid_jwk") from None
    raise DomainError(_("%(key)s无效：JWK 只能含 kty、crv、x、y 等公钥成员。") % {"key": label}, code="invalid_jwk")


def _is_coordinate(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{43}", value):
        return False
    raw = base64.urlsafe_b64decode(value + "=")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == value


def _locked_organisation(organisation: Organisation) -> Organisation:
    """The bidder, locked: serialises its registrations and revocations, so two rotations cannot
    interleave, and its status is read as it is now, not as the request's user object cached it."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if not organisation.can_act:
        raise NotAllowed(_("本单位未通过核验或已被暂停，不能管理投标密钥。"))
    return organisation


@transaction.atomic
def bidder_key_register(*, by: Actor, decryption_jwk: dict, signing_jwk: dict) -> tuple[BidderKey, BidderKey]:
    """Register the acting bidder's public decryption and signing keys (JWK) as a pair.

    Both must be P-256 public keys (never a private key), different from each other, and never
    registered before by anyone: a fingerprint identifies one key of one bidder for good. If the
    bidder already has keys in force this is a rotation: they are revoked with reason "rotated"
    and point to the new key of the same purpose, in the same transaction."""
    organisation = getattr(by.user, "organisation", None)
    require(by.user, "bidding.manage_keys", organisation)
    organisation = _locked_organisation(organisation)
    public_keys = {
        KeyPurpose.DECRYPTION: _checked_public_key(decryption_jwk, KeyPurpose.DECRYPTION),
        KeyPurpose.SIGNING: _checked_public_key(signing_jwk, KeyPurpose.SIGNING),
    }
    fingerprints = {purpose: keyfile.fingerprint(key) for purpose, key in public_keys.items()}
    if fingerprints[KeyPurpose.DECRYPTION] == fingerprints[KeyPurpose.SIGNING]:
        raise DomainError(_("解密公钥和签名公钥必须是两把不同的密钥。"), code="same_key")
    if BidderKey.objects.filter(fingerprint__in=fingerprints.values()).exists():
        raise DomainError(_("该公钥已经登记过，不能再次登记。轮换密钥时请生成一对新的密钥。"), code="key_registered")

    now = timezone.now()
    old_keys = {key.purpose: key for key in BidderKey.objects.filter(organisation=organisation, status=KeyStatus.ACTIVE)}
    for purpose, old in old_keys.items():
        # Revoked first: the one-active-key constraint holds after every statement.
        _revoke(by, old, reason=ROTATED, at=now, payload={"replaced_by": fingerprints[purpose]})

    registration = uuid.uuid4()
    new_keys = {}
    for purpose, public_key in public_keys.items():
        try:
            with transaction.atomic():  # a concurrent registration of the same key loses cleanly
                key = BidderKey.objects.create(
                    organisation=organisation, purpose=purpose, public_jwk=keyfile.public_jwk(public_key),
                    fingerprint=fingerprints[purpose], registration=registration, registered_by=by.user, registered_at=now,
                )
        except IntegrityError:
            raise DomainError(_("该公钥已经登记过，不能再次登记。轮换密钥时请生成一对新的密钥。"), code="key_registered") from None
        record_event(
            by=by, action="bidderkey.register", obj=key,
            payload={
                "organisation": organisation.pk, "purpose": purpose, "fingerprint": key.fingerprint,
                "registration": str(registration), "rotates": old_keys[purpose].fingerprint if purpose in old_keys else None,
            },
        )
        new_keys[purpose] = key
    for purpose, old in old_keys.items():
        old.replaced_by = new_keys[purpose]
        old.save(update_fields=["replaced_by"])
    return new_keys[KeyPurpose.DECRYPTION], new_keys[KeyPurpose.SIGNING]


@transaction.atomic
def bidder_key_revoke(*, by: Actor, key: BidderKey, reason: str) -> list[BidderKey]:
    """Revoke a key and its partner of the same registration (a pair is in force together or not
    at all), e.g. when a key file or its passphrase may have leaked. New bids sealed to or signed
    by them are refused from now on. Returns the revoked keys."""
    require(by.user, "bidding.manage_keys", key.organisation)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise DomainError(_("请填写撤销原因。"), code="reason_required")
    if len(reason) > MAX_REASON_CHARS:
        raise DomainError(_("撤销原因不能超过%(max)s个字符。") % {"max": MAX_REASON_CHARS}, code="too_long")
    _locked_organisation(key.organisation)
    pair = list(BidderKey.objects.select_for_update().filter(registration=key.registration, organisation=key.organisation_id))
    if not any(member.is_active for member in pair):
        raise IllegalTransition(_("该密钥已经撤销。"), code="already_revoked")
    now = timezone.now()
    for member in pair:
        if member.is_active:
            _revoke(by, member, reason=reason, at=now)
    return pair


def _revoke(by: Actor, key: BidderKey, *, reason: str, at, payload: dict | None = None) -> None:
    fsm_transition(
        key, "revoke", by=by, state_field="status", by_user=by.user, at=at, reason=reason,
        payload={"organisation": key.organisation_id, "purpose": key.purpose, "fingerprint": key.fingerprint, "reason": reason, **(payload or {})},
    )
