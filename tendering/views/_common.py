"""What every tendering page shares: calling one service as the requesting user, showing money
and loading an object the user may act on."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.permissions import require
from audit.actor import Actor
from config.errors import DomainError
from tendering.models import Tender


def perform(request, service, /, *, form=None, **kwargs):
    """Call one service as the requesting user. A DomainError (the service changed nothing)
    becomes a form error, or an error message when there is no form. Returns (ok, result)."""
    try:
        return True, service(by=Actor.from_request(request), **kwargs)
    except DomainError as exc:
        if form is not None:
            form.add_error(None, str(exc.message))
        else:
            messages.error(request, str(exc.message))
        return False, None


def yuan(fen: int | None) -> str:
    """Integer fen shown as yuan with thousands separators, e.g. 123456789 → "1,234,567.89 元"."""
    if fen is None:
        return ""
    return _("%(amount)s 元") % {"amount": f"{Decimal(fen) / 100:,.2f}"}


def with_yuan(lots):
    lots = list(lots)
    for lot in lots:
        lot.maximum_price_yuan = yuan(lot.maximum_price_fen)
    return lots


def tender_for(request, pk: int, action: str) -> Tender:
    """The tender, if the user passes `action` for it (PermissionDenied → 403 otherwise)."""
    tender = get_object_or_404(Tender.objects.select_related("project", "tenderer", "agency"), pk=pk)
    require(request.user, action, tender)
    return tender
