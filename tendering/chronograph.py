"""Clock-driven transitions (the Prozorro chronograph idea): one place computes what the clock
moves along. Each step is a service call in its own transaction, so a second chronograph or a
repeated tick finds nothing left to do (idempotent). It never keeps a late bid out: every deadline
is also enforced by the services at request time."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actor import Actor
from bidding import services as bidding_services
from bidding.models import BidUpload, UploadStatus
from bidding.services.bids import FINALISING_TIMEOUT
from bidding.selectors import count_valid_bids
from config.errors import DomainError
from crossregion.services import outbox as crossregion_outbox
from crossregion.services import replication as crossregion_replication
from evaluation.services import clarification as clarifications
from opening import services as opening_services
from opening import tasks as opening_tasks
from opening.models import BidOpening, OpeningSession, SessionState
from opening.services import decryption
from tendering import selectors_award, services
from tendering.models import Invitation, InvitationStatus, Lot, LotState, Objection, TenderState

logger = logging.getLogger(__name__)
MIN_BIDS = 3


def _step(done: list, action: str, obj, call) -> None:
    try:
        call()
    except (DomainError, PermissionDenied) as exc:  # someone else got there first, or not yet due
        logger.info("chronograph skipped %s on %s: %s", action, obj, exc)
        return
    except Exception as exc:  # noqa: BLE001 - one broken item must not stop the others; its service rolled back
        logger.exception("chronograph failed %s on %s", action, obj)
        done.append({"action": action, "object": str(obj), "id": obj.pk, "error": repr(exc)})
        return
    done.append({"action": action, "object": str(obj), "id": obj.pk})


def tick(now: datetime | None = None) -> list[dict]:
    """Move every tender along as far as `now` (default: server time) allows; returns what it did.

    - published lots past the bid deadline are closed;
    - uploads of sealed bids left unfinished at the deadline are dropped with their chunks;
    - closed lots with fewer than 3 valid bids fail (L28, R44), with the reason recorded; the
      others open their opening room (L34, E29);
    - decryption windows that have ended are closed (unreleased bids fail, E31);
    - decryption jobs that stalled (a worker died) are queued again;
    - invitations past the reply deadline expire;
    - objections of published tenders whose answer is overdue are reported once (never resolved
      automatically);
    - objections to the candidates whose answer is overdue are reported once (R54), and contracts
      not registered 30 days after the award notice are flagged once (L46);
    - cross-region messages due for another delivery attempt are queued again (a lost job, a retry);
    - evaluation sessions replicated to a partner get their next batch (events since the last one).

    Each item is its own step: an unexpected error in one is logged and reported (with "error")
    and the tick goes on with the rest.
    """
    now = now or timezone.now()
    by = Actor.system("chronograph")
    done: list[dict] = []
    due = Lot.objects.filter(state=LotState.PUBLISHED, tender__state=TenderState.PUBLISHED, tender__bid_deadline__lte=now)
    # A bid submitted before the deadline whose file is still being checked keeps its lot open
    # until it is accepted or refused (an interrupted check stops counting after a while).
    being_checked = BidUpload.objects.filter(status=UploadStatus.FINALISING, submitted_at__gt=now - FINALISING_TIMEOUT)
    due = due.exclude(pk__in=being_checked.values("lot_id"))
    for lot in due.select_related("tender"):
        _step(done, "lot.close", lot, lambda lot=lot: services.lot_close(by=by, lot=lot))
    unfinished = BidUpload.objects.filter(status=UploadStatus.OPEN, lot__tender__bid_deadline__lte=now)
    for upload in unfinished:
        _step(done, "bid.upload_expire", upload, lambda u=upload: bidding_services.bid_upload_expire(by=by, upload=u))
    for lot in Lot.objects.filter(state=LotState.CLOSED).select_related("tender"):
        bids = count_valid_bids(lot)
        if bids < MIN_BIDS:
            reason = _("有效投标人少于3个（%(count)s个），不予开标，依法重新招标（L28/R44）。") % {"count": bids}
            _step(done, "lot.fail", lot, lambda lot=lot, reason=reason: services.lot_fail(by=by, lot=lot, reason=reason))
        else:
            _step(done, "opening.open", lot, lambda lot=lot: opening_services.opening_open(by=by, lot=lot))
    window_over = OpeningSession.objects.filter(state=SessionState.DECRYPTING, window_ends_at__lte=now).select_related("lot__tender")
    for session in window_over:
        _step(done, "opening.close_window", session, lambda s=session: opening_services.opening_close_window(by=by, session=s))
    # A decryption job lost with a crashed worker is queued again (a job already done exits at once).
    for pk in decryption.stalled(now):
        bid_opening = BidOpening.objects.get(pk=pk)
        _step(done, "opening.resume_decryption", bid_opening, lambda pk=pk: opening_tasks.decrypt_bid.enqueue(pk))
    expired = Invitation.objects.filter(status=InvitationStatus.SENT, tender__invitation_reply_deadline__lt=now).select_related("tender", "organisation")
    for invitation in expired:
        _step(done, "invitation.expire", invitation, lambda i=invitation: services.invitation_expire(by=by, invitation=i))
    overdue = Objection.objects.filter(
        answered_at__isnull=True, overdue_reported_at__isnull=True, answer_due__lt=now, tender__state=TenderState.PUBLISHED
    ).select_related("tender")
    for objection in overdue:
        _step(done, "objection.overdue", objection, lambda o=objection: services.objection_report_overdue(by=by, objection=o))
    for objection in selectors_award.overdue_objections(now).select_related("publicity__lot__tender"):
        _step(done, "publicity.objection_overdue", objection,
              lambda o=objection: services.publicity_objection_report_overdue(by=by, objection=o))
    for contract in selectors_award.overdue_contracts(now).filter(overdue_flagged_at__isnull=True):
        _step(done, "contract.overdue", contract, lambda c=contract: services.contract_flag_overdue(by=by, contract=c))
    for c in clarifications.due(now):  # evaluation clarifications past their deadline expire
        _step(done, "clarification.expire", c, lambda c=c: clarifications.clarification_expire(by=by, clarification=c, now=now))
    for r in crossregion_replication.due(now):  # the next replication batch of each session with news
        _step(done, "crossregion.replicate", r, lambda r=r: crossregion_replication.push(r))
    for message in crossregion_outbox.due(now):
        _step(done, "crossregion.deliver", message, lambda m=message: crossregion_outbox.enqueue(m.pk))
    return done
