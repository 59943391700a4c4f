"""The organisation's inbox of platform notices."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import notifications
from accounts.models import Notification
from accounts.permissions import require
from audit.actor import Actor


@login_required
def inbox(request):
    if request.user.organisation is None:
        raise Http404
    require(request.user, "accounts.read_notifications", request.user.organisation)
    page = Paginator(notifications.inbox(request.user.organisation_id), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/inbox.html", {"page": page})


@login_required
@require_POST
def notification_open(request, pk: int):
    """Marks the notice read, then follows its link (only ever a link on this platform)."""
    notification = get_object_or_404(Notification, pk=pk, organisation_id=request.user.organisation_id)
    notifications.notification_mark_read(by=Actor.from_request(request), notification=notification)
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("accounts:inbox")
