"""Venue booking pages (场地预约): the host's requests on a lot, the partner's incoming requests, one
booking with its history, the assignment's seats (host) or the drawing record (partner). Centre staff
act; regulators read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from crossregion import forms_booking as forms
from crossregion.models import Booking, BookingRole, BookingState
from crossregion.services import booking as services
from crossregion.services import partner_drawing
from crossregion.views import perform
from evaluation import drawing as algorithm


def _may_manage(user) -> bool:
    return can(user, "crossregion.manage")


@never_cache
@login_required
def booking_list(request):
    require(request.user, "crossregion.view")
    from evaluation.services.drawing import DRAWABLE_LOT_STATES
    from tendering.models import Lot

    bookings = Booking.objects.select_related("partner", "lot__tender")
    may_manage = _may_manage(request.user)
    return render(request, "crossregion/bookings.html", {
        "lots": list(Lot.objects.filter(state__in=DRAWABLE_LOT_STATES).select_related("tender").order_by("-pk")[:50]) if may_manage else [],
        "outgoing": list(bookings.filter(role=BookingRole.HOST)[:200]),
        "incoming": list(bookings.filter(role=BookingRole.PARTNER)[:200]),
        "may_manage": may_manage,
    })


@never_cache
@login_required
def lot_bookings(request, lot_id: int):
    """The host's side on a lot: ask a partner for seats, the bookings' states, the away seats."""
    from evaluation.models import PanelMember
    from tendering.models import Lot

    require(request.user, "crossregion.view")
    lot = get_object_or_404(Lot.objects.select_related("tender"), pk=lot_id)
    may_manage = _may_manage(request.user)
    form = forms.BookingRequestForm(request.POST or None) if may_manage else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, booking = perform(request, services.booking_request, lot=lot, partner=data["partner"], starts_at=data["starts_at"],
                              ends_at=data["ends_at"], seats=data["seats"], home_experts=data["home_experts"],
                              tenderer_representatives=data["tenderer_representatives"])
        if ok:
            messages.success(request, _("席位申请已发给%(partner)s。") % {"partner": booking.partner.name})
            return redirect("crossregion_booking:detail", pk=booking.pk)
    away = PanelMember.objects.filter(drawing__lot=lot, venue="away").order_by("seat", "round")
    return render(request, "crossregion/lot_bookings.html", {
        "lot": lot, "tender": lot.tender, "form": form, "may_manage": may_manage, "away": away,
        "bookings": Booking.objects.filter(lot=lot, role=BookingRole.HOST).select_related("partner"),
    })


def _drawing_record(booking: Booking, names: bool) -> dict | None:
    from evaluation.models import Expert

    drawing = partner_drawing.drawing_of(booking)
    if drawing is None:
        return None
    seats = partner_drawing.current_seats(drawing)
    experts = {str(e.public_id): e for e in Expert.objects.filter(public_id__in=[s["expert"] for s in seats])} if names else {}
    for seat in seats:
        expert = experts.get(seat["expert"])
        seat["name"] = expert.name if expert else ""
    request = algorithm.DrawingRequest.from_json(drawing.request_json)
    return {
        "drawing": drawing, "seats": seats, "context": algorithm.context_hash(request, drawing.eligible),
        "eligible_counts": {specialty: len(ids) for specialty, ids in drawing.eligible.items()}, "request": request,
    }


@never_cache
@login_required
def booking_detail(request, pk: int):
    require(request.user, "crossregion.view")
    booking = get_object_or_404(Booking.objects.select_related("partner", "lot__tender"), pk=pk)
    may_manage = _may_manage(request.user)
    context = {
        "booking": booking, "may_manage": may_manage, "states": BookingState, "roles": BookingRole,
        "history": [{**h, "label": services.STEP_LABELS.get(h["step"], h["step"])} for h in booking.history],
        "assignment": (booking.assignment or {}).get("document"), "reason_form": forms.ReasonForm(),
        "names": services.names_of(booking),
    }
    if booking.role == BookingRole.PARTNER:
        context["record"] = _drawing_record(booking, names=may_manage)
        context["propose_form"] = forms.ProposeForm(initial={"starts_at": booking.starts_at, "ends_at": booking.ends_at})
    else:
        from evaluation.models import PanelMember

        context["away"] = PanelMember.objects.filter(remote_assignment__startswith=f"{booking.uuid}:").order_by("seat", "round")
    return render(request, "crossregion/booking_detail.html", context)


@login_required
@require_POST
def booking_action(request, pk: int, action: str):
    booking = get_object_or_404(Booking, pk=pk)
    done = {
        "approve": _("已同意并完成抽取，签名的专家指派已发给对方。"), "reject": _("已拒绝，并通知对方。"),
        "propose": _("调整建议已发给对方。"), "accept": _("已接受调整，等待对方确认抽取。"), "cancel": _("预约已取消，并通知对方。"),
        "seat": _("异地专家已入座。"), "decline": _("已请对方补抽。"), "names": _("已请对方公布专家姓名。"),
    }
    if action not in done:
        return redirect("crossregion_booking:detail", pk=booking.pk)
    ok = False
    if action == "approve":
        ok = perform(request, partner_drawing.booking_approve, booking=booking)[0]
    elif action == "accept":
        ok = perform(request, services.booking_accept, booking=booking)[0]
    elif action == "seat":
        ok = perform(request, services.assignment_seat, booking=booking)[0]
    elif action == "names":
        ok = perform(request, services.names_request, booking=booking)[0]
    elif action in ("reject", "cancel", "decline"):
        form = forms.ReasonForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        if action == "reject":
            ok = perform(request, partner_drawing.booking_reject, booking=booking, reason=reason)[0]
        elif action == "cancel":
            ok = perform(request, services.booking_cancel, booking=booking, reason=reason)[0]
        else:
            from evaluation.models import PanelMember

            member = get_object_or_404(PanelMember, pk=request.POST.get("member") or 0, venue="away")
            ok = perform(request, services.away_member_decline, booking=booking, member=member, reason=reason,
                         status=request.POST.get("status") or "declined")[0]
    elif action == "propose":
        form = forms.ProposeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            ok = perform(request, partner_drawing.booking_propose, booking=booking, starts_at=data["starts_at"], ends_at=data["ends_at"],
                         seats=data["seats"], note=data["note"])[0]
        else:
            messages.error(request, _("请填写建议的时段和席位。"))
    if ok:
        messages.success(request, done[action])
    return redirect("crossregion_booking:detail", pk=booking.pk)
