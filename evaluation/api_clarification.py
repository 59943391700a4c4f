"""API v1 for a bidder's clarifications during evaluation (澄清), so the bid tool can answer too.
Thin: parse, authorise, call one service. docs/evaluation-clarifications.md.

A refused request changes nothing: DomainError → 400 {detail, code}, PermissionDenied → 403. A
clarification put to another bidder answers 404."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can, has_role
from audit.actor import Actor
from evaluation import clarification_statement as cs
from evaluation.models import EvaluationClarification
from evaluation.services import clarification as services
from tendering.serializers import ErrorSerializer

TAG = "evaluation-clarifications"
REFUSED = {
    400: OpenApiResponse(ErrorSerializer, description="bad input or refused by the rules; nothing changed"),
    401: OpenApiResponse(ErrorSerializer, description="not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="not allowed for this user or organisation"),
    404: OpenApiResponse(ErrorSerializer, description="no such clarification (or not put to this bidder)"),
}


class ClarificationAttachmentMetaSerializer(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField(min_value=0)
    sha256 = serializers.CharField()


class EvaluationClarificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.CharField()
    lot = serializers.IntegerField()
    session = serializers.IntegerField()
    number = serializers.IntegerField()
    bid = serializers.IntegerField()
    reason = serializers.CharField()
    question = serializers.CharField()
    question_sha256 = serializers.CharField()
    deadline = serializers.DateTimeField()
    asked_at = serializers.DateTimeField()
    status = serializers.CharField()
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    answer_sha256 = serializers.CharField()
    answer_signature = serializers.CharField()
    signing_key_fingerprint = serializers.CharField()
    attachments = ClarificationAttachmentMetaSerializer(many=True)


class ClarificationStatementRequestSerializer(serializers.Serializer):
    answer = serializers.CharField(allow_blank=True, trim_whitespace=False)
    attachments = ClarificationAttachmentMetaSerializer(many=True, required=False)


class ClarificationStatementSerializer(serializers.Serializer):
    statement = serializers.JSONField()
    statement_text = serializers.CharField()
    sha256 = serializers.CharField()


class ClarificationAnswerRequestSerializer(serializers.Serializer):
    answer = serializers.CharField(trim_whitespace=False)
    signature = serializers.CharField(help_text="base64 (raw r||s or DER) or 128 hex digits")
    attachments = serializers.ListField(child=serializers.FileField(), required=False)


def as_dict(c: EvaluationClarification) -> dict:
    return {
        "id": c.pk, "tender": c.session.lot.tender.code, "lot": c.session.lot_id, "session": c.session_id, "number": c.number,
        "bid": c.bid_id, "reason": c.reason, "question": c.question, "question_sha256": cs.sha256_text(c.question),
        "deadline": c.deadline, "asked_at": c.asked_at, "status": c.status, "answer": c.answer, "answered_at": c.answered_at,
        "answer_sha256": c.answer_sha256, "answer_signature": c.answer_signature, "signing_key_fingerprint": c.signing_key_fingerprint,
        "attachments": [services.attachment_meta(a) for a in c.attachments.order_by("filename")],
    }


def _own(request, pk: int) -> EvaluationClarification:
    clarification = get_object_or_404(EvaluationClarification.objects.select_related("session__lot__tender", "bid__bidder"), pk=pk)
    if not can(request.user, "evaluation.clarification_view", clarification):
        raise Http404
    return clarification


class ClarificationListView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(tags=[TAG], operation_id="evaluation_clarifications_list",
                   summary="The clarifications the panel put to the caller's organisation (a bidder), newest first",
                   responses={200: EvaluationClarificationSerializer(many=True), 401: REFUSED[401]})
    def get(self, request):
        if not has_role(request.user, "bidder") or request.user.organisation_id is None:
            return Response([])
        rows = (EvaluationClarification.objects.filter(bid__bidder_id=request.user.organisation_id)
                .select_related("session__lot__tender").prefetch_related("attachments").order_by("-asked_at"))
        return Response(EvaluationClarificationSerializer([as_dict(c) for c in rows], many=True).data)


class ClarificationDetailView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(tags=[TAG], operation_id="evaluation_clarifications_retrieve", summary="One clarification put to the caller's organisation",
                   responses={200: EvaluationClarificationSerializer, 401: REFUSED[401], 404: REFUSED[404]})
    def get(self, request, pk: int):
        return Response(EvaluationClarificationSerializer(as_dict(_own(request, pk))).data)


class ClarificationStatementView(APIView):
    """Step 1 of answering: the exact statement (and its SHA-256) the bidder signs for this answer
    text and these attachment hashes. Stores nothing."""

    permission_classes = (IsAuthenticated,)
    parser_classes = (JSONParser,)

    @extend_schema(tags=[TAG], operation_id="evaluation_clarifications_statement",
                   summary="The answer statement to sign for an answer text and attachment hashes (stores nothing)",
                   request=ClarificationStatementRequestSerializer, responses={200: ClarificationStatementSerializer, **REFUSED})
    def post(self, request, pk: int):
        clarification = _own(request, pk)
        payload = ClarificationStatementRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        statement = services.answer_statement(clarification=clarification, answer=payload.validated_data["answer"],
                                              attachments=[dict(a) for a in payload.validated_data.get("attachments", [])])
        return Response({"statement": statement, "statement_text": cs.statement_text(statement), "sha256": cs.statement_hash(statement)})


class ClarificationAnswerView(APIView):
    """Step 2: the answer, its attachments (field "attachments", repeated) and the signature, in one
    multipart request; stored only if the signature verifies."""

    permission_classes = (IsAuthenticated,)
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(tags=[TAG], operation_id="evaluation_clarifications_answer",
                   summary="Answer a clarification with attachments, signed with the bidder's signing key",
                   request={"multipart/form-data": ClarificationAnswerRequestSerializer}, responses={200: EvaluationClarificationSerializer, **REFUSED})
    def post(self, request, pk: int):
        clarification = _own(request, pk)
        answered = services.clarification_answer(
            by=Actor.from_request(request), clarification=clarification, answer=request.data.get("answer", ""),
            attachments=request.FILES.getlist("attachments"), signature_b64=request.data.get("signature", ""),
        )
        return Response(EvaluationClarificationSerializer(as_dict(answered)).data)
