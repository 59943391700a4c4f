"""API v1 for bidders' public keys. Thin: parse, authorise, call one service.

A refused request changes nothing: DomainError → 400 {detail, code}, PermissionDenied → 403. A key
the caller may not see answers 404, so fingerprints of other bidders are not confirmed to exist."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation, OrganisationKind
from accounts.permissions import can, require
from audit.actor import Actor
from bidding import selectors, services
from bidding import serializers as s
from tendering.serializers import ErrorSerializer

TAG = "bidder-keys"
REFUSED = {
    400: OpenApiResponse(ErrorSerializer, description="bad input or refused by the rules; nothing changed"),
    401: OpenApiResponse(ErrorSerializer, description="not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="not allowed for this user or organisation"),
    404: OpenApiResponse(ErrorSerializer, description="no such key (or not visible to this user)"),
}


def _visible_key(request, fingerprint: str):
    key = selectors.key_by_fingerprint(fingerprint)
    if key is None or not can(request.user, "bidding.view_keys", key.organisation):
        raise Http404
    return key


class BidderKeyListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="bidder_keys_list",
        summary="A bidder's registered public keys, active and revoked (own organisation by default)",
        parameters=[s.KeyListFilterSerializer],
        responses={200: s.BidderKeySerializer(many=True), **REFUSED},
    )
    def get(self, request):
        filters = s.KeyListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        organisation_id = filters.validated_data.get("organisation")
        if organisation_id is None:
            organisation = request.user.organisation
        else:
            organisation = get_object_or_404(Organisation, pk=organisation_id, kind=OrganisationKind.BIDDER)
        require(request.user, "bidding.view_keys", organisation)
        return Response(s.BidderKeySerializer(selectors.keys_of(organisation), many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="bidder_keys_register",
        summary="Register the own organisation's public decryption and signing keys (rotates keys in force)",
        request=s.KeyRegisterSerializer,
        responses={201: s.KeyPairSerializer, **REFUSED},
    )
    def post(self, request):
        require(request.user, "bidding.manage_keys", request.user.organisation)
        payload = s.KeyRegisterSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        decryption, signing = services.bidder_key_register(
            by=Actor.from_request(request), decryption_jwk=payload.validated_data["decryption"], signing_jwk=payload.validated_data["signing"]
        )
        return Response(s.KeyPairSerializer({"decryption": decryption, "signing": signing}).data, status=status.HTTP_201_CREATED)


class BidderKeyDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="bidder_keys_retrieve", summary="One registered key by its fingerprint",
                   responses={200: s.BidderKeySerializer, 401: REFUSED[401], 404: REFUSED[404]})
    def get(self, request, fingerprint: str):
        return Response(s.BidderKeySerializer(_visible_key(request, fingerprint)).data)


class BidderKeyRevokeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="bidder_keys_revoke",
        summary="Revoke a key and its partner of the same registration",
        request=s.KeyRevokeSerializer,
        responses={200: s.BidderKeySerializer(many=True), **REFUSED},
    )
    def post(self, request, fingerprint: str):
        key = _visible_key(request, fingerprint)
        require(request.user, "bidding.manage_keys", key.organisation)
        payload = s.KeyRevokeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        revoked = services.bidder_key_revoke(by=Actor.from_request(request), key=key, reason=payload.validated_data["reason"])
        return Response(s.BidderKeySerializer(revoked, many=True).data)
