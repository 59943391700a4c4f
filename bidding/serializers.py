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


class UploadCreateSerializer(serializers.Serializer):
    lot = serializers.IntegerField(label=_("标段"))
    size = serializers.IntegerField(label=_("密封文件大小（字节）"), min_value=1)
    header = serializers.CharField(label=_("文件头（base64）"), help_text="base64 of the sealed file's first 78 + H bytes")


class UploadListFilterSerializer(serializers.Serializer):
    lot = serializers.IntegerField(required=False)
    status = serializers.ChoiceField(required=False, choices=["open", "accepted", "refused", "abandoned"])


class BidListFilterSerializer(serializers.Serializer):
    lot = serializers.IntegerField(required=False)


class UploadSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    lot = serializers.IntegerField()
    tender = serializers.IntegerField()
    bidder = serializers.IntegerField()
    size = serializers.IntegerField()
    status = serializers.CharField()
    received_bytes = serializers.IntegerField()
    ranges = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
    missing = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
    chunk_size = serializers.IntegerField()
    header_sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    bid = serializers.IntegerField(allow_null=True)
    refusal_code = serializers.CharField()
    refusal_detail = serializers.CharField()
    url = serializers.CharField()


class BidSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lot = serializers.IntegerField()
    lot_number = serializers.IntegerField()
    lot_name = serializers.CharField()
    tender = serializers.IntegerField()
    tender_code = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    ciphertext_sha256 = serializers.CharField()
    received_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    receipt_url = serializers.CharField()
    receipt_pdf_url = serializers.CharField()


class ReceiptSerializer(serializers.Serializer):
    statement = serializers.DictField()
    signature = serializers.CharField()
    key_id = serializers.CharField()


class AcceptedSerializer(serializers.Serializer):
    bid = BidSerializer()
    receipt = ReceiptSerializer()


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ReleaseKeySerializer(serializers.Serializer):
    data_key = serializers.RegexField(r"^[0-9a-fA-F]{64}$", label=_("数据密钥（64 位十六进制）"))


class PlatformKeySerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    key_id = serializers.CharField()
    public_key = serializers.CharField()
