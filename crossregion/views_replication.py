"""Replicated evaluation sessions, read-only: centre staff and regulators of the partner platform
watch the host's session live (the page polls a small JSON endpoint) and check the final report's
hashes and signatures; the host's centre staff see what was sent and what the partner acknowledged.
Nothing here writes."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.permissions import require
from crossregion import selectors_replication as selectors
from crossregion.models import ReplicatedSession

POLL_SECONDS = 3


@never_cache
@login_required
@require_GET
def replicated_list(request):
    require(request.user, "crossregion.view")
    outgoing = list(selectors.outgoing())
    for replication in outgoing:
        replication.last_batch = replication.batches.order_by("-batch_seq").select_related("message").first()
    return render(request, "crossregion/replicated_list.html", {
        "tab": "replicated", "incoming": selectors.replicated_sessions(), "outgoing": outgoing,
    })


@never_cache
@login_required
@require_GET
def replicated_detail(request, pk: int):
    require(request.user, "crossregion.view")
    replica = get_object_or_404(ReplicatedSession.objects.select_related("partner"), pk=pk)
    return render(request, "crossregion/replicated_detail.html", {
        "tab": "replicated", "replica": replica, "check": selectors.report_check(replica),
        "events": [{**e, "payload": json.dumps(e["payload"], ensure_ascii=False, sort_keys=True)} for e in selectors.event_rows(replica)],
        "batches": list(replica.batches.all()), "poll_seconds": POLL_SECONDS,
    })


@never_cache
@login_required
@require_GET
def replicated_events(request, pk: int):
    """{"last_batch_seq", "last_event_seq", "report_sha256", "events": [...after `after`]} for the page's poller."""
    require(request.user, "crossregion.view")
    replica = get_object_or_404(ReplicatedSession, pk=pk)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    return JsonResponse({"last_batch_seq": replica.last_batch_seq, "last_event_seq": replica.last_event_seq,
                         "report_sha256": replica.report_sha256 or None, "events": selectors.event_rows(replica, after=after)},
                        json_dumps_params={"ensure_ascii": False})


@never_cache
@login_required
@require_GET
def replicated_report_pdf(request, pk: int):
    require(request.user, "crossregion.view")
    replica = get_object_or_404(ReplicatedSession, pk=pk)
    if not replica.report_pdf:
        return HttpResponse(status=404)
    response = HttpResponse(bytes(replica.report_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{replica.partner.region_code}-lot-{replica.host_lot}-report.pdf"'
    return response
