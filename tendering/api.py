"""API v1 for tenders. Thin: parse, authorise with the permission layer, call one service.

Services raise DomainError (→ 400 {detail, code}, config/api_errors.py) or PermissionDenied
(→ 403); both roll back, so a refused request changes nothing. A tender the caller may not see
answers 404 to reads, so drafts are not even confirmed to exist; writes to another
organisation's tender answer 403."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can, has_role, require
from audit.actor import Actor
from tendering import rules, selectors, services
from tendering import serializers as s
from tendering.models import Project, Tender

TAG = "tenders"
REFUSED = {
    400: OpenApiResponse(s.ErrorSerializer, description="bad input or refused by the rules; nothing changed"),
    401: OpenApiResponse(s.ErrorSerializer, description="not signed in"),
    403: OpenApiResponse(s.ErrorSerializer, description="not allowed for this user or tender"),
    404: OpenApiResponse(s.ErrorSerializer, description="no such tender"),
}


def _tenders():
    return Tender.objects.select_related("project", "tenderer", "agency").prefetch_related("lots")


def _visible_tender(request, pk: int) -> Tender:
    tender = get_object_or_404(_tenders(), pk=pk)
    if not can(request.user, "tendering.view_tender", tender):
        raise Http404
    return tender


def _managed_tender(request, pk: int, rule: str = "tendering.manage_tender") -> Tender:
    tender = get_object_or_404(_tenders(), pk=pk)
    require(request.user, rule, tender)
    return tender


def _detail(tender: Tender, status_code=status.HTTP_200_OK) -> Response:
    return Response(s.TenderDetailSerializer(_tenders().get(pk=tender.pk)).data, status=status_code)


class TenderListCreateView(GenericAPIView):
    serializer_class = s.TenderSummarySerializer

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        tags=[TAG],
        summary="Published tenders (the public announcement list)",
        parameters=[s.AnnouncementFilterSerializer],
        responses={200: s.TenderSummarySerializer(many=True), 400: REFUSED[400]},
    )
    def get(self, request):
        filters = s.AnnouncementFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        tenders = selectors.public_announcements(
            q=data.get("q", ""), state=data.get("state", ""), date_from=data.get("date_from"), date_to=data.get("date_to")
        )
        tenders = tenders.select_related("project", "tenderer", "agency").prefetch_related("lots")
        page = self.paginate_queryset(tenders)
        return self.get_paginated_response(s.TenderSummarySerializer(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="Create a draft tender with its lots",
        request=s.TenderCreateSerializer,
        responses={201: s.TenderDetailSerializer, **REFUSED},
    )
    def post(self, request):
        require(request.user, "tendering.create_tender")
        fields = _input(s.TenderCreateSerializer, request)
        project, lots = fields.pop("project"), fields.pop("lots")
        require(request.user, "tendering.create_tender", project)  # its tenderer, or the agency it mandates
        tender = services.tender_create(by=Actor.from_request(request), project=project, lots=lots, **fields)
        return _detail(tender, status.HTTP_201_CREATED)


class TenderDetailView(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        tags=[TAG],
        summary="A tender: lots, current documents (SHA-256 and platform signature), clarifications",
        responses={200: s.TenderDetailSerializer, 404: REFUSED[404]},
    )
    def get(self, request, pk: int):
        return _detail(_visible_tender(request, pk))

    @extend_schema(
        tags=[TAG],
        summary="Change a draft (or returned) tender; only the fields sent change",
        request=s.TenderUpdateSerializer,
        responses={200: s.TenderDetailSerializer, **REFUSED},
    )
    def patch(self, request, pk: int):
        tender = _managed_tender(request, pk)
        payload = s.TenderUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        services.tender_update(by=Actor.from_request(request), tender=tender, **payload.validated_data)
        return _detail(tender)


def _input(serializer_class, request) -> dict:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return dict(payload.validated_data)


class TenderRegistrationsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        summary="Who obtained the tender documents and downloaded them (a bidder: its own; insiders: all, after the opening)",
        description=(
            "Confidential until the opening (L22, E21): before it, nobody but the bidder itself may list, count or "
            "read them; the tenderer, its agency, centre staff and regulators get 403 until a lot is opened (or has "
            "failed after the deadline). A bidder always gets only its own organisation's rows."
        ),
        responses={200: s.RegistrationsSerializer, 401: REFUSED[401], 403: REFUSED[403], 404: REFUSED[404]},
    )
    def get(self, request, pk: int):
        tender = _visible_tender(request, pk)
        user = request.user
        if not (has_role(user, "bidder") or can(user, "tendering.view_registrations", tender)):
            if rules.is_insider(user, tender):
                raise PermissionDenied(_("开标前，获取招标文件的投标人名称、数量和下载记录保密，任何人不得查看（L22、E21）。"))
            require(user, "tendering.view_registrations", tender)
        registrations = selectors.registrations_visible_to(user, tender).select_related("organisation")
        downloads = selectors.downloads_visible_to(user, tender).select_related("document", "organisation")
        data = {"registrations": registrations.order_by("registered_at"), "downloads": downloads.order_by("downloaded_at")}
        return Response(s.RegistrationsSerializer(data).data)


class TenderSubmitView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="Submit a draft tender to the centre for review", request=None,
                   responses={200: s.TenderDetailSerializer, **REFUSED})
    def post(self, request, pk: int):
        tender = _managed_tender(request, pk)
        services.tender_submit(by=Actor.from_request(request), tender=tender)
        return _detail(tender)


class TenderPublishView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="Publish an approved tender (checks L24, R16, R27 and the scheme)",
                   request=None, responses={200: s.TenderDetailSerializer, **REFUSED})
    def post(self, request, pk: int):
        tender = _managed_tender(request, pk)
        services.tender_publish(by=Actor.from_request(request), tender=tender)
        return _detail(tender)


class TenderCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="Cancel (终止) a tender, with the reason (its tenderer or agency, or the centre)",
                   request=s.ReasonSerializer, responses={200: s.TenderDetailSerializer, **REFUSED})
    def post(self, request, pk: int):
        tender = _managed_tender(request, pk, "tendering.cancel_tender")
        data = _input(s.ReasonSerializer, request)
        services.tender_cancel(by=Actor.from_request(request), tender=tender, reason=data["reason"])
        return _detail(tender)


class TenderClarificationView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        summary="Issue a clarification or amendment (may push the bid deadline out, L23/R21)",
        request=s.ClarificationInputSerializer,
        responses={201: s.ClarificationSerializer, **REFUSED},
    )
    def post(self, request, pk: int):
        tender = _managed_tender(request, pk)
        data = _input(s.ClarificationInputSerializer, request)
        clarification = services.clarification_issue(by=Actor.from_request(request), tender=tender, **data)
        return Response(s.ClarificationSerializer(clarification).data, status=status.HTTP_201_CREATED)


class ProjectCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["projects"], summary="Create a construction project (工程项目) to tender for",
                   request=s.ProjectInputSerializer, responses={201: s.ProjectSerializer, **REFUSED})
    def post(self, request):
        require(request.user, "tendering.create_project")  # only a tenderer, for its own organisation
        fields = _input(s.ProjectInputSerializer, request)
        tenderer = fields.pop("tenderer", None) or request.user.organisation
        require(request.user, "tendering.create_project", tenderer)
        project = services.project_create(by=Actor.from_request(request), tenderer=tenderer, **fields)
        return Response(s.ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectMandateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["projects"], summary="Change the agency a project mandates (委托代理); its tenderer only",
                   request=s.ProjectMandateSerializer, responses={200: s.ProjectSerializer, **REFUSED})
    def patch(self, request, pk: int):
        project = get_object_or_404(Project.objects.select_related("tenderer"), pk=pk)
        require(request.user, "tendering.create_project", project.tenderer)
        data = _input(s.ProjectMandateSerializer, request)
        project = services.project_mandate(by=Actor.from_request(request), project=project, agency=data["agency"])
        return Response(s.ProjectSerializer(project).data)


class WorkspaceTenderListView(GenericAPIView):
    """The caller's own tenders (as tenderer or agency), drafts included."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.TenderSummarySerializer

    @extend_schema(tags=[TAG], summary="My organisation's tenders, drafts included",
                   responses={200: s.TenderSummarySerializer(many=True), 401: REFUSED[401]})
    def get(self, request):
        tenders = selectors.tenders_for_workspace(request.user).select_related("project", "tenderer", "agency")
        page = self.paginate_queryset(tenders.prefetch_related("lots"))
        return self.get_paginated_response(s.TenderSummarySerializer(page, many=True).data)
