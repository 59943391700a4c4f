"""Accounts API: obtain and revoke bearer tokens, and who am I. Thin: parse, authorise, call."""

from django.contrib.auth import authenticate, get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.authentication import BearerTokenAuthentication
from accounts.permissions import require
from accounts.serializers import MeSerializer, TokenIssuedSerializer, TokenRequestSerializer, TokenSerializer
from audit.actor import Actor, client_ip


def _inactive_user_with_password(username: str, password: str):
    """Django's backend refuses inactive users exactly like wrong passwords; tell the owner of a
    correct password that the account is disabled instead of leaving them guessing."""
    user = get_user_model().objects.filter(username=username, is_active=False).first()
    return user if user is not None and user.check_password(password) else None


class TokenObtainView(APIView):
    # Credentials in the body; a session or an old token must not decide whose token this is.
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="auth_token_create",
        summary="用用户名和密码换取 API 令牌",
        request=TokenRequestSerializer,
        responses={201: TokenIssuedSerializer, 400: OpenApiResponse(description="请求格式错误"), 401: OpenApiResponse(description="用户名或密码错误，或用户已停用")},
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        username, password = body.validated_data["username"], body.validated_data["password"]
        user = authenticate(request._request, username=username, password=password)
        if user is None:
            if _inactive_user_with_password(username, password):
                raise AuthenticationFailed(_("用户已停用，请联系单位管理员或交易中心。"), code="inactive")
            raise AuthenticationFailed(_("用户名或密码错误。"), code="invalid_credentials")
        token, secret = services.api_token_create(
            by=Actor.from_user(user, ip=client_ip(request.META)), user=user, name=body.validated_data.get("name", "")
        )
        issued = {"token": secret, "prefix": token.prefix, "name": token.name, "expires_at": token.expires_at}
        return Response(TokenIssuedSerializer(issued).data, status=status.HTTP_201_CREATED)


class MeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="auth_me", summary="当前用户、角色和所属单位", responses=MeSerializer, tags=["auth"])
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class TokenListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="auth_tokens_list", summary="我的 API 令牌（不含密文）", responses=TokenSerializer(many=True), tags=["auth"])
    def get(self, request):
        require(request.user, "accounts.manage_tokens", request.user)
        return Response(TokenSerializer(selectors.tokens_of(request.user), many=True).data)


class TokenRevokeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="auth_token_revoke",
        summary="吊销我的一个 API 令牌",
        request=None,
        responses={204: OpenApiResponse(description="已吊销"), 404: OpenApiResponse(description="没有这个未吊销的令牌")},
        tags=["auth"],
    )
    def delete(self, request, prefix: str):
        token = selectors.active_token_by_prefix(request.user, prefix)
        if token is None:
            raise NotFound(_("没有这个未吊销的令牌。"))
        services.api_token_revoke(by=Actor.from_request(request), token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
