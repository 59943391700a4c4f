"""API v1 for sealed bids: the resumable upload, bids, receipts, withdrawal, key release, and the
platform's public key. Protocol: docs/bid-upload-api.md. Thin: parse, authorise, call one service.

Bids and uploads exist for their own bidder only before the opening; anyone else gets 404, so the
API does not even confirm that a bid exists."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can
from audit import platform_key
from audit.actor import Actor
from bidding import receipts, selectors, services
from bidding import serializers as s
from bidding.models import Bid, BidUpload
from bidding.services.bids import RangeError, missing_ranges
from config.errors import DomainError
from tendering.models import Lot
from tendering.serializers import ErrorSerializer

TAG = "bids"
REFUSED = {
    400: OpenApiResponse(ErrorSerializer, description="refused (see `code`); nothing changed"),
    401: OpenApiResponse(ErrorSerializer, description="not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="not allowed for this user"),
    404: OpenApiResponse(ErrorSerializer, description="no such upload or bid (or not visible to this user)"),
}
CONFLICT = {409: OpenApiResponse(ErrorSerializer, description="chunk_conflict or upload_closed")}


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")


def _own_upload(request, pk) -> BidUpload:
    upload = BidUpload.objects.select_related("lot__tender", "bidder").filter(pk=pk).first()
    if upload is None or not can(request.user, "bidding.view_bid", upload):
        raise Http404
    return upload


def _own_bid(request, pk) -> Bid:
    bid = Bid.objects.select_related("lot__tender", "bidder", "signing_key", "decryption_key").filter(pk=pk).first()
    if bid is None or not can(request.user, "bidding.view_bid", bid):
        raise Http404
    return bid


def upload_data(upload: BidUpload) -> dict:
    ranges = [list(r) for r in upload.chunks.order_by("start").values_list("start", "end")]
    return {
        "id": str(upload.pk),
        "lot": upload.lot_id,
        "tender": upload.lot.tender_id,
        "bidder": upload.bidder_id,
        "size": upload.size,
        "status": upload.status,
        "received_bytes": sum(end - start for start, end in ranges),
        "ranges": ranges,
        "missing": missing_ranges(upload) if upload.is_open else [],
        "chunk_size": upload.chunk_size,
        "header_sha256": upload.header_sha256,
        "created_at": upload.created_at,
        "deadline": upload.lot.tender.bid_deadline,
        "bid": upload.bid_id,
        "refusal_code": upload.refusal_code,
        "refusal_detail": upload.refusal_detail,
        "url": reverse("api-bid-upload", args=[upload.pk]),
    }


def bid_data(bid: Bid) -> dict:
    return {
        "id": bid.pk,
        "lot": bid.lot_id,
        "lot_number": bid.lot.number,
        "lot_name": bid.lot.name,
        "tender": bid.lot.tender_id,
        "tender_code": bid.lot.tender.code,
        "version": bid.version,
        "status": bid.status,
        "size": bid.size,
        "sha256": bid.sha256,
        "ciphertext_sha256": bid.ciphertext_sha256,
        "received_at": bid.received_at,
        "withdrawn_at": bid.withdrawn_at,
        "receipt_url": reverse("api-bid-receipt", args=[bid.pk]),
        "receipt_pdf_url": reverse("api-bid-receipt-pdf", args=[bid.pk]),
    }


class OctetStreamParser(BaseParser):
    """Declared so DRF accepts the content type; the view reads the raw stream itself, bounded."""

    media_type = "application/octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        return None


class PDFRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; refusals are still JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        if renderer_context and renderer_context.get("response") is not None:
            renderer_context["response"]["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class UploadListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="bid_uploads_list", summary="The own organisation's uploads, newest first",
                   parameters=[s.UploadListFilterSerializer], responses={200: s.UploadSerializer(many=True), **REFUSED})
    def get(self, request):
        filters = s.UploadListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        lot = filters.validated_data.get("lot")
        uploads = selectors.uploads_of(
            request.user.organisation if request.user.role == "bidder" else None, status=filters.validated_data.get("status", "")
        )
        if lot is not None:
            uploads = uploads.filter(lot_id=lot)
        data = [upload_data(upload) for upload in uploads[:100]]
        return Response(s.UploadSerializer(data, many=True).data)

    @extend_schema(tags=[TAG], operation_id="bid_uploads_create",
                   summary="Open a resumable upload of a sealed bid: declared size and header bytes, checked at once",
                   request=s.UploadCreateSerializer, responses={201: s.UploadSerializer, **REFUSED})
    def post(self, request):
        payload = s.UploadCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        lot = get_object_or_404(Lot.objects.select_related("tender"), pk=payload.validated_data["lot"])
        try:
            header_prefix = base64.b64decode(payload.validated_data["header"], validate=True)
        except (binascii.Error, ValueError):
            raise DomainError(_("header 应为文件头字节的 base64 编码。"), code="bad_header") from None
        upload, created = services.bid_upload_create(
            by=Actor.from_request(request), lot=lot, size=payload.validated_data["size"], header_prefix=header_prefix, user_agent=_user_agent(request)
        )
        response = Response(s.UploadSerializer(upload_data(upload)).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        response["Location"] = reverse("api-bid-upload", args=[upload.pk])
        return response


class UploadDetailView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [OctetStreamParser]

    @extend_schema(tags=[TAG], operation_id="bid_uploads_retrieve", summary="An upload: received ranges and what is missing",
                   responses={200: s.UploadSerializer, 401: REFUSED[401], 404: REFUSED[404]})
    def get(self, request, pk):
        return Response(s.UploadSerializer(upload_data(_own_upload(request, pk))).data)

    @extend_schema(
        tags=[TAG], operation_id="bid_uploads_chunk",
        summary="Send one chunk (raw bytes) with Content-Range; idempotent, any order",
        parameters=[OpenApiParameter("Content-Range", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, description="bytes first-last/size")],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={200: s.UploadSerializer, **REFUSED, **CONFLICT, 416: OpenApiResponse(ErrorSerializer, description="out_of_range")},
    )
    def put(self, request, pk):
        upload = _own_upload(request, pk)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise RangeError(_("Content-Length 头格式错误。")) from None
        upload = services.bid_upload_put_chunk(
            by=Actor.from_request(request), upload=upload, content_range=request.META.get("HTTP_CONTENT_RANGE"), body=request._request, declared_length=declared
        )
        return Response(s.UploadSerializer(upload_data(upload)).data)

    @extend_schema(tags=[TAG], operation_id="bid_uploads_abandon", summary="Abandon an open upload and delete its chunks",
                   responses={204: None, **REFUSED, **CONFLICT})
    def delete(self, request, pk):
        services.bid_upload_abandon(by=Actor.from_request(request), upload=_own_upload(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadFinaliseView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="bid_uploads_finalise",
                   summary="Check the complete file and accept it as the bid in force; answers the signed receipt",
                   request=None, responses={201: s.AcceptedSerializer, 200: s.AcceptedSerializer, **REFUSED, **CONFLICT})
    def post(self, request, pk):
        bid, created = services.bid_upload_finalise(by=Actor.from_request(request), upload=_own_upload(request, pk))
        body = {"bid": bid_data(bid), "receipt": bid.receipt}
        return Response(s.AcceptedSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BidListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="bids_list", summary="The own organisation's bids, every version, newest first",
                   parameters=[s.BidListFilterSerializer], responses={200: s.BidSerializer(many=True), 401: REFUSED[401]})
    def get(self, request):
        filters = s.BidListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        bids = selectors.bids_of(request.user.organisation if request.user.role == "bidder" else None)
        if filters.validated_data.get("lot") is not None:
            bids = bids.filter(lot_id=filters.validated_data["lot"])
        return Response(s.BidSerializer([bid_data(bid) for bid in bids], many=True).data)


class BidDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="bids_retrieve", summary="One of the own bids", responses={200: s.BidSerializer, 401: REFUSED[401], 404: REFUSED[404]})
    def get(self, request, pk):
        return Response(s.BidSerializer(bid_data(_own_bid(request, pk))).data)


class BidReceiptView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="bids_receipt", summary="The bid's receipt, signed by the platform (Ed25519)",
                   responses={200: s.ReceiptSerializer, 401: REFUSED[401], 404: REFUSED[404]})
    def get(self, request, pk):
        return Response(s.ReceiptSerializer(_own_bid(request, pk).receipt).data)


class BidReceiptPdfView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [PDFRenderer, JSONRenderer]

    @extend_schema(tags=[TAG], operation_id="bids_receipt_pdf", summary="The bid's receipt as a PDF (投标回执)",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, 401: REFUSED[401], 404: REFUSED[404]})
    def get(self, request, pk):
        bid = _own_bid(request, pk)
        response = HttpResponse(receipts.render_pdf(bid), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="receipt-{bid.lot.tender.code}-{bid.lot.number:02d}-v{bid.version}.pdf"'
        return response


class BidWithdrawView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="bids_withdraw", summary="Withdraw the bid in force, before the deadline",
                   request=s.WithdrawSerializer, responses={200: s.BidSerializer, **REFUSED})
    def post(self, request, pk):
        bid = _own_bid(request, pk)
        payload = s.WithdrawSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        bid = services.bid_withdraw(by=Actor.from_request(request), bid=bid, reason=payload.validated_data["reason"])
        return Response(s.BidSerializer(bid_data(bid)).data)


class BidReleaseKeyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="bids_release_key",
                   summary="Release the bid's data key at the opening (refused before the opening has started)",
                   request=s.ReleaseKeySerializer, responses={200: s.BidSerializer, **REFUSED, **CONFLICT})
    def post(self, request, pk):
        bid = _own_bid(request, pk)
        payload = s.ReleaseKeySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        bid = services.bid_release_key(by=Actor.from_request(request), bid=bid, data_key=bytes.fromhex(payload.validated_data["data_key"]))
        return Response(s.BidSerializer(bid_data(bid)).data)


class PlatformKeyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(tags=["platform"], operation_id="platform_key", summary="The platform's Ed25519 public key (checks receipts and signed documents)",
                   responses={200: s.PlatformKeySerializer})
    def get(self, request):
        return Response({"algorithm": "Ed25519", "key_id": platform_key.platform_key_id(), "public_key": platform_key.public_key_bytes().hex()})
