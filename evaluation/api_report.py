"""API v1 of the evaluation report (docs/evaluation-report.md). Thin: parse, authorise, call one
service in evaluation/services/report.py. Refusals: DomainError → 400 {detail, code},
PermissionDenied → 403; a lot the caller may not see, or without a report, is 404."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can, require
from audit.actor import Actor
from config.errors import DomainError
from evaluation.models import EvaluationReport, EvaluationSession, ExpertKey
from evaluation.selectors_report import answers_of, current_report
from evaluation.services import report as service
from tendering.serializers import ErrorSerializer

TAG = "evaluation-report"
REFUSED = {
    400: OpenApiResponse(ErrorSerializer, description="bad input or refused by the rules; nothing changed"),
    401: OpenApiResponse(ErrorSerializer, description="not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="not allowed for this user"),
    404: OpenApiResponse(ErrorSerializer, description="no such lot or report, or not visible to this user"),
}


class ExpertKeySerializer(serializers.Serializer):
    fingerprint = serializers.CharField()
    jwk = serializers.JSONField(source="public_jwk")
    registered_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class ExpertKeyRegisterSerializer(serializers.Serializer):
    jwk = serializers.JSONField(help_text="the ECDSA P-256 public key as a JWK {kty, crv, x, y}; never the private key")


class SignatureSerializer(serializers.Serializer):
    signature = serializers.CharField(max_length=200, help_text="base64 of the ECDSA P-256 signature (raw r||s or DER) of the report hash's 64 ASCII hex digits")
    version = serializers.IntegerField(required=False, help_text="the report version signed; refused if another version is in force")


class DissentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    version = serializers.IntegerField(required=False)


def report_json(report: EvaluationReport) -> dict:
    return {
        "lot": report.session.lot_id, "version": report.version, "state": report.state,
        "statement_sha256": report.statement_sha256, "pdf_sha256": report.pdf_sha256,
        "audit_head": {"seq": report.audit_head_seq, "hash": report.audit_head_hash},
        "created_at": report.created_at, "finalised_at": report.finalised_at, "statement": report.statement,
        "answers": [{"seat": a.seat, "name": a.name, "response": a.response, "at": a.at, "key_fingerprint": a.key_fingerprint,
                     "signature": a.signature, "text": a.text} for a in answers_of(report)],
    }


def _session(request, lot_id: int) -> EvaluationSession:
    session = get_object_or_404(EvaluationSession.objects.select_related("lot__tender", "drawing"), lot_id=lot_id)
    if not can(request.user, "evaluation.report_view", session):
        raise Http404
    return session


def _report(session: EvaluationSession, version: int | None = None) -> EvaluationReport:
    report = current_report(session)
    if report is None:
        raise Http404
    if version is not None and version != report.version:
        raise DomainError(_("评标报告已有新版本（第 %(version)s 版），请重新核对后签署。") % {"version": report.version}, code="report_version")
    return report


class ExpertKeyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="expert_keys_list", summary="The caller's report-signing keys, newest first",
                   responses={200: ExpertKeySerializer(many=True), **REFUSED})
    def get(self, request):
        require(request.user, "evaluation.expert_keys")
        return Response(ExpertKeySerializer(ExpertKey.objects.filter(user=request.user).order_by("-registered_at"), many=True).data)

    @extend_schema(tags=[TAG], operation_id="expert_keys_register",
                   summary="Register the caller's ECDSA P-256 public signing key (experts, panel members); revokes the one in force",
                   request=ExpertKeyRegisterSerializer, responses={201: ExpertKeySerializer, **REFUSED})
    def post(self, request):
        payload = ExpertKeyRegisterSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key = service.expert_key_register(by=Actor.from_request(request), public_jwk=payload.validated_data["jwk"])
        return Response(ExpertKeySerializer(key).data, status=status.HTTP_201_CREATED)


class ReportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="evaluation_report", summary="The lot's evaluation report in force: statement, hash, answers",
                   responses={200: OpenApiResponse(description="the report"), **REFUSED})
    def get(self, request, lot_id: int):
        return Response(report_json(_report(_session(request, lot_id))))


class ReportPdfView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="evaluation_report_pdf", summary="The PDF of the report in force",
                   responses={200: OpenApiResponse(description="application/pdf"), **REFUSED})
    def get(self, request, lot_id: int):
        report = _report(_session(request, lot_id))
        if not report.pdf:
            raise Http404
        response = FileResponse(report.pdf.open("rb"), content_type="application/pdf",
                                filename=f"evaluation-report-lot{lot_id}-v{report.version}.pdf")
        response["Cache-Control"] = "private, no-store"
        return response


class ReportDraftView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="evaluation_report_draft", summary="The chair drafts the report (session in reporting)",
                   request=None, responses={201: OpenApiResponse(description="the report"), **REFUSED})
    def post(self, request, lot_id: int):
        report = service.report_draft(by=Actor.from_request(request), session=_session(request, lot_id))
        return Response(report_json(report), status=status.HTTP_201_CREATED)


class ReportSignatureView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="evaluation_report_sign", summary="A serving member signs the report hash with their key",
                   request=SignatureSerializer, responses={201: OpenApiResponse(description="the report"), **REFUSED})
    def post(self, request, lot_id: int):
        payload = SignatureSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = _report(_session(request, lot_id), payload.validated_data.get("version"))
        service.report_sign(by=Actor.from_request(request), report=report, signature_b64=payload.validated_data["signature"])
        report.refresh_from_db()
        return Response(report_json(report), status=status.HTTP_201_CREATED)


class ReportDissentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="evaluation_report_dissent", summary="A serving member writes a dissent instead of signing",
                   request=DissentSerializer, responses={201: OpenApiResponse(description="the report"), **REFUSED})
    def post(self, request, lot_id: int):
        payload = DissentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = _report(_session(request, lot_id), payload.validated_data.get("version"))
        service.report_dissent(by=Actor.from_request(request), report=report, text=payload.validated_data["text"])
        report.refresh_from_db()
        return Response(report_json(report), status=status.HTTP_201_CREATED)
