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
from accounts.permissions import can, require
from audit.actor import Actor
from bidding import selectors, services
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
