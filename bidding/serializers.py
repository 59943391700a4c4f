"""Shapes of the bidding API (requests and responses); validation of meaning stays in services."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bidding.models import BidderKey

PUBLIC_JWK_SCHEMA = {
    "type": "object",
    "description": "A P-256 public key as JWK (RFC 7518 §6.2.1). Never a private key: a JWK with \"d\" is refused.",
    "properties": {
        "kty": {"type": "string", "enum": ["EC"]},
        "crv": {"type": "string", "enum": ["P-256"]},
        "x": {"type": "string", "description": "32 bytes, unpadded base64url"},
        "y": {"type": "string", "description": "32 bytes, unpadded base64url"},
    },
    "required": ["kty", "crv", "x", "y"],
}


@extend_schema_field(PUBLIC_JWK_SCHEMA)
class PublicJWKField(serializers.JSONField):
    """Any JSON here: the service checks the key and says exactly what is wrong with it."""


class KeyRegisterSerializer(serializers.Serializer):
    decryption = PublicJWKField(label=_("解密公钥"))
    signing = PublicJWKField(label=_("签名公钥"))


class KeyRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(label=_("撤销原因"), max_length=BidderKey._meta.get_field("revoke_reason").max_length)


class BidderKeySerializer(serializers.ModelSerializer):
    public_jwk = PublicJWKField(read_only=True)
    organisation = serializers.IntegerField(source="organisation_id", read_only=True)
    registration = serializers.UUIDField(read_only=True, help_text=_("同一次登记的解密公钥和签名公钥共用此编号"))
    registered_by = serializers.CharField(source="registered_by.username", read_only=True)
    revoked_by = serializers.CharField(source="revoked_by.username", read_only=True, allow_null=True, default=None)
    replaced_by = serializers.SlugRelatedField(slug_field="fingerprint", read_only=True, help_text=_("轮换后取代此密钥的新密钥的指纹"))

    class Meta:
        model = BidderKey
        fields = [
            "fingerprint", "purpose", "status", "organisation", "public_jwk", "registration", "registered_by", "registered_at",
            "revoked_by", "revoked_at", "revoke_reason", "replaced_by",
        ]


class KeyPairSerializer(serializers.Serializer):
    decryption = BidderKeySerializer()
    signing = BidderKeySerializer()


class KeyListFilterSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(
        required=False, help_text=_("交易中心和监管部门查看某一投标人的公钥；投标人省略此参数，查看本单位的公钥")
    )
