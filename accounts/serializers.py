"""Shapes of the accounts API (requests and responses); validation of meaning stays in services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import ApiToken, Organisation, User


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("用户名"), max_length=150)
    password = serializers.CharField(label=_("密码"), max_length=128, style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(label=_("令牌名称"), max_length=100, required=False, allow_blank=True)


class TokenIssuedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("令牌密文，只显示这一次"))
    prefix = serializers.CharField(help_text=_("令牌前缀，用于识别和吊销"))
    name = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["prefix", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]


class OrganisationBriefSerializer(serializers.ModelSerializer):
    can_act = serializers.BooleanField(read_only=True, help_text=_("已核验且未暂停"))

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "credit_code", "region_code", "status", "can_act"]


class MeSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    organisation = OrganisationBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "role", "role_label", "is_org_admin", "organisation"]
