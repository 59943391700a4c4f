"""Bidders' key page. Thin: authorise with the permission rules, call one service, redirect after a
successful POST; a refused request shows the service's message and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organisation, OrganisationKind
from accounts.permissions import acting_member, can, require
from audit.actor import Actor
from bidding import selectors, services
from bidding.models import Bid
from config.errors import DomainError


def _registrations(organisation) -> list[dict]:
    """The organisation's keys grouped by registration (a decryption and a signing key), newest first."""
    groups: dict = {}
    for key in selectors.keys_of(organisation).order_by("-registered_at", "purpose"):
        group = groups.setdefault(key.registration, {"registered_at": key.registered_at, "keys": []})
        group["keys"].append(key)
    for group in groups.values():
        group["active"] = any(key.is_active for key in group["keys"])
        group["revoke_key"] = next((key for key in group["keys"] if key.is_active), None)
    return list(groups.values())


def _page(request, organisation):
    require(request.user, "bidding.view_keys", organisation)
    context = {
        "organisation": organisation,
        "registrations": _registrations(organisation),
        "can_manage": can(request.user, "bidding.manage_keys", organisation),
        "own": organisation.pk == request.user.organisation_id,
    }
    return render(request, "bidding/keys.html", context)


@login_required
def keys(request):
    """The own bidder's keys."""
    organisation = request.user.organisation
    if organisation is None or organisation.kind != OrganisationKind.BIDDER:
        raise PermissionDenied(_("只有投标人登记自己的投标密钥。"))
    return _page(request, organisation)


@login_required
def organisation_keys(request, pk: int):
    """One bidder's keys, as the centre and regulators (and the bidder itself) see them."""
    return _page(request, get_object_or_404(Organisation, pk=pk, kind=OrganisationKind.BIDDER))


@login_required
@require_POST
def key_revoke(request, fingerprint: str):
    key = selectors.key_by_fingerprint(fingerprint)
    if key is None or not can(request.user, "bidding.view_keys", key.organisation):
        raise Http404
    try:
        services.bidder_key_revoke(by=Actor.from_request(request), key=key, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("该批密钥（解密公钥和签名公钥）已撤销，今后用它们密封或签名的投标文件将被拒收。"))
    return redirect("bidding:keys")


def _own_bidder_organisation(request):
    organisation = request.user.organisation
    if organisation is None or organisation.kind != OrganisationKind.BIDDER or request.user.role != "bidder":
        raise PermissionDenied(_("只有投标人才能查看自己的投标文件。"))
    return organisation


@login_required
def bids(request):
    """我的投标: the own organisation's bids (every version) and uploads in progress. Nobody else
    sees this before the opening: the page only ever lists the user's own organisation."""
    organisation = _own_bidder_organisation(request)
    lots: dict = {}
    for bid in selectors.bids_of(organisation):
        lots.setdefault(bid.lot, {"bids": [], "uploads": []})["bids"].append(bid)
    for upload in selectors.uploads_of(organisation, status="open"):
        lots.setdefault(upload.lot, {"bids": [], "uploads": []})["uploads"].append(upload)
    context = {
        "lots": [{"lot": lot, **entries} for lot, entries in sorted(lots.items(), key=lambda item: (item[0].tender_id, item[0].number))],
        "can_manage": acting_member(request.user, "bidder"),
    }
    return render(request, "bidding/bids.html", context)


@login_required
@require_POST
def bid_withdraw(request, pk: int):
    bid = Bid.objects.select_related("lot__tender", "bidder").filter(pk=pk).first()
    if bid is None or not can(request.user, "bidding.view_bid", bid):
        raise Http404
    try:
        services.bid_withdraw(by=Actor.from_request(request), bid=bid, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("投标文件已撤回。截止时间前仍可重新递交。"))
    return redirect("bidding:bids")
