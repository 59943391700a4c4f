"""python manage.py partner_drawing_verify <id>: re-run a partner drawing (the seats this platform drew
from its own pool for another region's booking) and check it against its records, one line each:
- one commitment event (crossregion.partner_drawing_commit) before the draw event, with the stored
  commitment and the request+pool context hash;
- the seed against that commitment, the request against the panel rules over the whole panel,
  every round recomputed from the seed (evaluation/drawing.py `verify`);
- the rounds recorded in the audit trail (the draw and each replacement) equal the stored ones;
- the latest signed assignment names exactly the seats those rounds give, with this drawing's
  commitment and context, and its signature verifies under this platform's key.
Exit status 0 when everything matches, 1 otherwise (as drawing_verify does for a lot's drawing)."""

import json

from django.core.management.base import BaseCommand

from audit import platform_key
from audit.models import AuditEvent
from crossregion import protocol
from crossregion.models import PartnerDrawing
from crossregion.services.partner_drawing import current_seats
from evaluation import drawing as algorithm


def _events(drawing, action):
    events = AuditEvent.objects.filter(action=action, object_type="crossregion.partnerdrawing", object_id=str(drawing.pk)).order_by("seq")
    return [(event, json.loads(event.body)["payload"]) for event in events]


class Command(BaseCommand):
    help = "Re-run a partner drawing (cross-region booking) from its seed, request and eligible pool and check it against the audit trail and the signed assignment."

    def add_arguments(self, parser):
        parser.add_argument("drawing_id", type=int)

    def handle(self, *args, drawing_id, **options):
        drawing = PartnerDrawing.objects.filter(pk=drawing_id).select_related("booking__partner").first()
        if drawing is None:
            self.stderr.write(f"FAIL there is no partner drawing {drawing_id}")
            raise SystemExit(1)
        failures = 0

        def check(ok: bool, text: str) -> None:
            nonlocal failures
            failures += not ok
            self.stdout.write(("OK   " if ok else "FAIL ") + text)

        booking = drawing.booking
        self.stdout.write(f"partner drawing {drawing.pk} for booking {booking.uuid} of {booking.partner.name} ({booking.state}), "
                          f"algorithm {algorithm.VERSION}")
        commits = _events(drawing, "crossregion.partner_drawing_commit")
        commit = commits[0][1] if len(commits) == 1 else {}
        check(len(commits) == 1, f"one commitment event in the audit trail (found {len(commits)})")
        check(commit.get("commitment") == drawing.seed_commitment, "the stored commitment is the one recorded before the draw")
        try:
            request = algorithm.DrawingRequest.from_json(drawing.request_json)
            rounds = [algorithm.Round.from_json(data) for data in drawing.rounds]
            seed = bytes.fromhex(drawing.seed_hex)
        except (KeyError, TypeError, ValueError) as error:
            check(False, f"the stored drawing cannot be read: {error}")
            return self._verdict(drawing, failures)
        verdict = algorithm.verify(seed, commit.get("commitment", ""), request, drawing.eligible, rounds, context=commit.get("context", ""))
        check(verdict.ok, f"re-run from the seed, request and sorted eligible pool: {len(rounds)} round(s), whole panel of {request.total}")
        for problem in verdict.problems:
            self.stdout.write(f"     - {problem}")
        draws = _events(drawing, "crossregion.partner_drawing_draw")
        check(bool(draws) and bool(commits) and draws[0][0].seq > commits[0][0].seq, "the commitment was recorded before the draw")
        audited = [draws[0][1].get("rounds", [None])[0]] if draws else [None]
        audited += [payload.get("rounds_json") for _event, payload in _events(drawing, "crossregion.partner_drawing_replace")]
        check(audited == list(drawing.rounds), f"the rounds stored equal the rounds recorded in the audit trail ({len(audited)})")
        signed = booking.assignment or {}
        try:
            doc = protocol.verify_document(signed, platform_key.public_key_bytes())
        except protocol.ProtocolError as error:
            check(False, f"the signed assignment does not verify: {error.detail}")
            return self._verdict(drawing, failures)
        check(True, f"the signed assignment (version {doc.get('version')}) verifies under this platform's key")
        seats = [(s["specialty"], s["expert"]) for s in current_seats(drawing)]
        check([(s["specialty"], s["expert"]) for s in doc.get("seats", [])] == seats, "the assignment names the seats the rounds give")
        drawn = doc.get("drawing", {})
        check(drawn.get("id") == drawing.pk and drawn.get("commitment") == drawing.seed_commitment and drawn.get("context") == commit.get("context"),
              "the assignment names this drawing, its commitment and context")
        return self._verdict(drawing, failures)

    def _verdict(self, drawing, failures):
        if failures:
            self.stderr.write(f"MISMATCH partner drawing {drawing.pk} does not verify ({failures} problem(s))")
            raise SystemExit(1)
        self.stdout.write(f"MATCH partner drawing {drawing.pk} verifies")
