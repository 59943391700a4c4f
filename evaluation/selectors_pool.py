"""Reads of the expert pool and the drawings; who sees which name (R46)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.permissions import can
from evaluation.models import Drawing, Expert, MemberKind, PanelMember
from evaluation.services.drawing import DRAWABLE_LOT_STATES, EXCLUSION_LABELS, exclusion_counts
from evaluation.specialties import SPECIALTIES
from tendering.models import Lot


def experts(*, specialty: str = "", active: str = "", q: str = ""):
    """The pool, filtered: `specialty` a code; `active` "1" in the pool, "0" out of it, "" both;
    `q` part of the name, certificate number or employer."""
    rows = Expert.objects.select_related("user").order_by("certificate_number")
    if active in ("1", "0"):
        rows = rows.filter(active=active == "1")
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(certificate_number__icontains=q) | Q(employer_name__icontains=q))
    if specialty:
        # JSON containment is not portable to SQLite; the pool is small enough to filter here.
        return [expert for expert in rows if specialty in expert.specialties]
    return list(rows)


def specialty_labels(codes) -> str:
    return _("、").join(f"{code} {_(SPECIALTIES.get(code, ''))}".strip() for code in codes)


def drawable_lots():
    """Lots whose panel the centre may draw now, with their drawing (if any)."""
    lots = Lot.objects.filter(state__in=DRAWABLE_LOT_STATES).select_related("tender").order_by("tender__bid_deadline", "tender", "number")
    drawings = {}
    for drawing in Drawing.objects.filter(lot__in=lots).order_by("requested_at"):
        drawings[drawing.lot_id] = drawing  # the latest
    result = []
    for lot in lots:
        lot.drawing = drawings.get(lot.pk)
        result.append(lot)
    return result


# Names and pseudonyms (R46) -------------------------------------------------------------------

def pseudonym(member: PanelMember) -> str:
    if member.kind == MemberKind.REPRESENTATIVE:
        return _("招标人代表%(seat)s") % {"seat": member.seat}
    return _("专家%(seat)s") % {"seat": member.seat}


def may_see_name(member: PanelMember, viewer) -> bool:
    """Centre staff always; the member themself; everyone else allowed to see the drawing once the
    result is published."""
    if viewer is not None and getattr(viewer, "is_authenticated", False) and member.user_id == viewer.pk:
        return True
    return can(viewer, "evaluation.see_panel_names", member.drawing)


def member_name(member: PanelMember) -> str:
    if member.kind == MemberKind.EXPERT and member.expert_id:
        return member.expert.name
    return member.user.label if member.user_id else ""


def member_label(member: PanelMember, viewer) -> str:
    """"专家3" (or "招标人代表6") unless the viewer may see the name, then "专家3 张三"."""
    if may_see_name(member, viewer):
        return f"{pseudonym(member)} {member_name(member)}"
    return pseudonym(member)


def panel_rows(drawing: Drawing, viewer) -> list[dict]:
    """Every seat with its history (declined/recused members and their replacements), labelled for
    the viewer; experts without the right to see names see their own seat only by name."""
    members = drawing.members.select_related("expert", "user", "drawing").order_by("seat", "round", "pk")
    names = can(viewer, "evaluation.see_panel_names", drawing)
    rows = []
    for member in members:
        rows.append({
            "member": member,
            "label": member_label(member, viewer),
            "mine": viewer is not None and member.user_id == getattr(viewer, "pk", None),
            "specialty": member.specialty,
            "certificate": member.expert.certificate_number if names and member.expert_id else "",
            "employer": member.expert.employer_name if names and member.expert_id else "",
            "status": member.get_status_display(),
            "serving": member.serving,
            "reason": member.status_reason,
        })
    return rows


def drawing_summary(drawing: Drawing) -> dict:
    """What the drawing record shows to everyone allowed to see it: counts, not names."""
    counts = exclusion_counts(drawing.excluded)
    return {
        "eligible_counts": [(code, SPECIALTIES.get(code, ""), len(ids)) for code, ids in drawing.eligible.items()],
        "excluded_counts": [(code, _(EXCLUSION_LABELS.get(code, code)), n) for code, n in counts.items()],
        "excluded_total": len(drawing.excluded),
        "rounds": [
            {"number": n, "declined": data.get("declined", []), "picks": data.get("picks", [])}
            for n, data in enumerate(drawing.rounds)
        ],
    }


def my_seats(user):
    """The user's seats (experts and tenderer representatives), newest session first."""
    return (
        PanelMember.objects.filter(user=user)
        .select_related("drawing__lot__tender", "expert")
        .order_by("-drawing__session_starts_at", "seat")
    )

