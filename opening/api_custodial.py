"""API v1 for the custodial fallback (docs/custodial-fallback.md). Thin: parse, authorise, call one
service in opening/services/custodial.py. Refusals: DomainError → 400/409 {detail, code},
PermissionDenied → 403; a tender the caller may not see, or one without the fallback, is 404."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import can
from audit.actor import Actor
from opening.models_custodial import CustodialArrangement
from opening.services import custodial
from tendering.models import Tender
from tendering.serializers import ErrorSerializer

TAG = "custodial-fallback"
REFUSED = {
    400: OpenApiResponse(ErrorSerializer, description="bad input or refused by the rules; nothing changed"),
    401: OpenApiResponse(ErrorSerializer, description="not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="not allowed for this user"),
    404: OpenApiResponse(ErrorSerializer, description="no such tender, or it has no custodial fallback"),
    409: OpenApiResponse(ErrorSerializer, description="not now: the opening has not started, the window is closed, or already released"),
}


class CustodianSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    name = serializers.CharField()
    organisation = serializers.CharField()


class CustodialKeySerializer(serializers.Serializer):
    tender = serializers.IntegerField()
    threshold = serializers.IntegerField(help_text="k: shares needed to recover the key")
    custodians = serializers.IntegerField(help_text="n: custodians holding a share")
    fingerprint = serializers.CharField(help_text="SHA-256 of the key's SubjectPublicKeyInfo DER, hex")
    jwk = serializers.JSONField(help_text="the custodial public key (P-256), as the bid tool's --custodial-key takes it")
    created_at = serializers.DateTimeField()
    custodian_list = CustodianSerializer(many=True)


class ArrangementCreateSerializer(serializers.Serializer):
    threshold = serializers.IntegerField(help_text="k, at least 2")
    custodians = serializers.ListField(child=serializers.IntegerField(), help_text="user ids of the custodians, in share order")


class CustodianKeyRegisterSerializer(serializers.Serializer):
    jwk = serializers.JSONField(help_text="P-256 public key JWK: the decryption key of the custodian's key file")


class CustodianKeySerializer(serializers.Serializer):
    fingerprint = serializers.CharField()
    jwk = serializers.JSONField(source="public_jwk")
    registered_at = serializers.DateTimeField()


class SharePackageSerializer(serializers.Serializer):
    format = serializers.CharField()
    version = serializers.IntegerField()
    tender = serializers.CharField()
    index = serializers.IntegerField()
    threshold = serializers.IntegerField()
    custodians = serializers.IntegerField()
    custodian_key = serializers.CharField()
    custodial_key = serializers.CharField()
    enc = serializers.CharField()
    wrapped = serializers.CharField()


class ShareReleaseSerializer(serializers.Serializer):
    share = serializers.RegexField(r"^[0-9a-fA-F]{64}$", help_text="the share opened with python -m opening.custodian_tool, 64 hex digits")


class ShareReleaseResultSerializer(serializers.Serializer):
    released = serializers.IntegerField()
    threshold = serializers.IntegerField()
    recovered = serializers.BooleanField()
    bids = serializers.ListField(child=serializers.IntegerField())


def _tender(request, pk: int) -> Tender:
    tender = get_object_or_404(Tender, pk=pk)
    if not can(request.user, "tendering.view_tender", tender):
        raise Http404
    return tender


def _arrangement(tender: Tender) -> CustodialArrangement:
    arrangement = CustodialArrangement.objects.filter(tender=tender).first()
    if arrangement is None:
        raise Http404
    return arrangement


def public_info(arrangement: CustodialArrangement) -> dict:
    return {
        "tender": arrangement.tender_id,
        "threshold": arrangement.threshold,
        "custodians": arrangement.custodian_count,
        "fingerprint": arrangement.fingerprint,
        "jwk": arrangement.public_jwk,
        "created_at": arrangement.created_at,
        "custodian_list": [
            {"index": share.index, "name": share.custodian.get_full_name() or share.custodian.get_username(),
             "organisation": share.custodian.organisation.name if share.custodian.organisation_id else ""}
            for share in arrangement.shares.select_related("custodian__organisation").order_by("index")
        ],
    }


class CustodialKeyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=[TAG], operation_id="custodial_key", summary="The tender's custodial public key, k, n and the custodians (public)",
                   responses={200: CustodialKeySerializer, 404: REFUSED[404]})
    def get(self, request, pk: int):
        return Response(CustodialKeySerializer(public_info(_arrangement(_tender(request, pk)))).data)


class CustodialKeyJwkView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=[TAG], operation_id="custodial_key_jwk", summary="The custodial public key alone, as a JWK file for the bid tool",
                   responses={200: OpenApiResponse(description="a P-256 public JWK"), 404: REFUSED[404]})
    def get(self, request, pk: int):
        return Response(_arrangement(_tender(request, pk)).public_jwk)


class ArrangementCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="custodial_arrangement_create",
                   summary="Enable the custodial fallback (the tender's owner, before any bid upload; best before publication)",
                   request=ArrangementCreateSerializer, responses={201: CustodialKeySerializer, **REFUSED})
    def post(self, request, pk: int):
        tender = _tender(request, pk)
        payload = ArrangementCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = payload.validated_data["custodians"]
        users = {user.pk: user for user in User.objects.select_related("organisation").filter(pk__in=ids)}
        if len(users) != len(set(ids)):
            raise serializers.ValidationError({"custodians": ["unknown user id"]})
        arrangement = custodial.custodial_arrangement_create(
            by=Actor.from_request(request), tender=tender, k=payload.validated_data["threshold"], custodians=[users[i] for i in ids]
        )
        return Response(CustodialKeySerializer(public_info(arrangement)).data, status=status.HTTP_201_CREATED)


class CustodianKeyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="custodian_key_register",
                   summary="Register the own custodian public key (centre staff, regulators); replaces the previous one",
                   request=CustodianKeyRegisterSerializer, responses={201: CustodianKeySerializer, **REFUSED})
    def post(self, request):
        payload = CustodianKeyRegisterSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key = custodial.custodian_key_register(by=Actor.from_request(request), public_jwk=payload.validated_data["jwk"])
        return Response(CustodianKeySerializer(key).data, status=status.HTTP_201_CREATED)


class SharePackageView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="custodial_share_package",
                   summary="The caller's wrapped share, once the opening has started and a bid awaits the fallback",
                   responses={200: SharePackageSerializer, **REFUSED})
    def get(self, request, pk: int):
        tender = _tender(request, pk)
        _arrangement(tender)
        return Response(custodial.custodial_share_package(by=Actor.from_request(request), tender=tender))


class ShareReleaseView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="custodial_share_release",
                   summary="Release the caller's share (opened locally); the k-th share releases the requested bids' data keys",
                   request=ShareReleaseSerializer, responses={200: ShareReleaseResultSerializer, **REFUSED})
    def post(self, request, pk: int):
        tender = _tender(request, pk)
        _arrangement(tender)
        payload = ShareReleaseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = custodial.custodial_share_release(by=Actor.from_request(request), tender=tender,
                                                   share=bytes.fromhex(payload.validated_data["share"]))
        return Response(ShareReleaseResultSerializer(result).data)
