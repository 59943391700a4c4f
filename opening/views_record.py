"""The opening record's PDF (开标记录表): the published record with its appendix of signatures,
or, before publication, the draft the bidders present are asked to confirm."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from accounts.permissions import can
from opening.models import OpeningSession
from opening.services.record import current_record


@login_required
def record_pdf(request, lot_id: int):
    """GET /opening/lots/<lot_id>/record.pdf (rule opening.view)."""
    session = get_object_or_404(OpeningSession.objects.select_related("lot__tender"), lot_id=lot_id)
    if not can(request.user, "opening.view", session):
        raise Http404
    record = current_record(session)
    if record is None:
        raise Http404
    name = record.published_pdf_name or record.pdf_name
    draft = "" if record.published_at else "-draft"
    filename = f"opening-record-{session.lot.tender.code}-lot{session.lot.number:02d}-v{record.version}{draft}.pdf"
    response = FileResponse(storages["bids"].open(name, "rb"), content_type="application/pdf", filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response
