"""Cross-region endpoints and pages. The inbox and the well-known metadata are machine endpoints;
the pages let centre staff register partners and manage agreements (regulators read them)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import can, require
from audit.actor import Actor
from config.errors import DomainError
from crossregion import forms, inbox as inbox_logic, protocol, selectors
from crossregion.identity import metadata, own_region
from crossregion.models import Agreement, AgreementState, OutboundMessage, Partner
from crossregion.services import agreements as services
from crossregion.services import outbox

JSON = {"ensure_ascii": False}


@require_GET
def well_known(request):
    """Public: this platform's region, key and endpoints (protocol.build_metadata)."""
    response = JsonResponse(metadata(), json_dumps_params=JSON)
    response["Cache-Control"] = "public, max-age=300"
    return response


@csrf_exempt
@require_POST
def inbox(request):
    """Signed messages from partners (crossregion/inbox.py performs every check)."""
    limit = protocol.MAX_REPLICATION_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        error = protocol.TooLarge(f"{declared} bytes; the limit is {limit}")
        return JsonResponse(error.as_response(), status=error.status, json_dumps_params=JSON)
    if not (request.content_type or "").startswith("application/json"):
        error = protocol.Malformed("Content-Type must be application/json")
        return JsonResponse(error.as_response(), status=error.status, json_dumps_params=JSON)
    raw = request.read(limit + 1)
    if len(raw) > limit:
        error = protocol.TooLarge(f"more than {limit} bytes")
        return JsonResponse(error.as_response(), status=error.status, json_dumps_params=JSON)
    status, answer = inbox_logic.receive(raw)
    return JsonResponse(answer, status=status, json_dumps_params=JSON)


def perform(request, service, /, **kwargs):
    try:
        return True, service(by=Actor.from_request(request), **kwargs)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False, None


@never_cache
@login_required
def partners(request):
    require(request.user, "crossregion.view")
    rows = list(selectors.partners())
    for partner in rows:
        partner.valid = selectors.valid_agreement(partner)
    return render(request, "crossregion/partners.html", {
        "partners": rows, "may_manage": can(request.user, "crossregion.manage"),
        "own_region": own_region(), "own": metadata(),
    })


@never_cache
@login_required
def partner_add(request):
    require(request.user, "crossregion.manage")
    form = forms.PartnerAddForm(request.POST or None)
    fetched = None
    if request.method == "POST" and request.POST.get("step") == "confirm":
        confirm = forms.PartnerConfirmForm(request.POST)
        if confirm.is_valid():
            base_url = confirm.cleaned_data["base_url"]
            try:
                fetched = services.fetch_metadata(base_url)
            except DomainError as exc:
                messages.error(request, str(exc.message))
            else:
                ok, partner = perform(request, services.partner_add, base_url=base_url, metadata=fetched,
                                      confirmed_key_id=confirm.cleaned_data["key_id"])
                if ok:
                    messages.success(request, _("已添加合作平台 %(name)s。") % {"name": partner.name})
                    return redirect("crossregion:partner_detail", pk=partner.pk)
        fetched = None
    elif request.method == "POST" and form.is_valid():
        try:
            fetched = services.fetch_metadata(form.cleaned_data["base_url"])
        except DomainError as exc:
            form.add_error("base_url", str(exc.message))
    return render(request, "crossregion/partner_add.html", {
        "form": form, "fetched": fetched, "base_url": form.cleaned_data.get("base_url", "") if form.is_bound and form.is_valid() else "",
    })


@never_cache
@login_required
def partner_detail(request, pk: int):
    require(request.user, "crossregion.view")
    partner = get_object_or_404(Partner, pk=pk)
    inbound, outbound = selectors.message_log(partner)
    agreements = list(partner.agreements.all())
    for agreement in agreements:
        agreement.validity = selectors.validity_label(agreement)
    return render(request, "crossregion/partner_detail.html", {
        "partner": partner, "agreements": agreements, "inbound": inbound, "outbound": outbound,
        "may_manage": can(request.user, "crossregion.manage", partner),
    })


@never_cache
@login_required
def agreement_new(request, pk: int):
    partner = get_object_or_404(Partner, pk=pk)
    require(request.user, "crossregion.manage", partner)
    form = forms.AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        valid_from, valid_until = form.moments()
        ok, agreement = perform(request, services.agreement_draft, partner=partner, scope=form.cleaned_data["scope"],
                                valid_from=valid_from, valid_until=valid_until, text=form.cleaned_data["text"])
        if ok:
            messages.success(request, _("协议草稿已保存，核对后发给对方签署。"))
            return redirect("crossregion:agreement_detail", uuid=agreement.uuid)
    return render(request, "crossregion/agreement_form.html", {"form": form, "partner": partner})


@never_cache
@login_required
def agreement_detail(request, uuid):
    require(request.user, "crossregion.view")
    agreement = get_object_or_404(Agreement.objects.select_related("partner"), uuid=uuid)
    return render(request, "crossregion/agreement_detail.html", {
        "agreement": agreement, "partner": agreement.partner, "states": AgreementState,
        "validity": selectors.validity_label(agreement), "signatures_ok": selectors.signatures_verify(agreement),
        "canonical": protocol.canonical_bytes(agreement.document).decode("utf-8"),
        "sha256": protocol.body_hash(agreement.document),
        "may_manage": can(request.user, "crossregion.manage", agreement.partner), "revoke_form": forms.RevokeForm(),
    })


@login_required
@require_POST
def agreement_action(request, uuid, action: str):
    agreement = get_object_or_404(Agreement, uuid=uuid)
    if action == "propose":
        if perform(request, services.agreement_propose, agreement=agreement)[0]:
            messages.success(request, _("协议已签名并发给对方。"))
    elif action == "accept":
        if perform(request, services.agreement_accept, agreement=agreement)[0]:
            messages.success(request, _("已签署协议，会签已发给对方。"))
    elif action == "revoke":
        form = forms.RevokeForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        if perform(request, services.agreement_revoke, agreement=agreement, reason=reason)[0]:
            messages.success(request, _("协议已撤销。"))
    return redirect("crossregion:agreement_detail", uuid=agreement.uuid)


@login_required
@require_POST
def outbound_retry(request, pk: int):
    message = get_object_or_404(OutboundMessage, pk=pk)
    if perform(request, outbox.outbound_retry, message=message)[0]:
        messages.success(request, _("已重新发送。"))
    return redirect("crossregion:partner_detail", pk=message.partner_id)
