"""python manage.py drawing_verify <drawing_id>: re-run a panel drawing and say whether it matches.

From the stored request, eligible pool, seed and rounds (evaluation/drawing.py `verify`), checked
against what the audit trail recorded before and during the draw, one line each:
- the seed commitment and the request+pool context hash recorded by `evaluation.drawing_commit`,
  before the `drawing.draw` event;
- the seed against that commitment; the request against the panel rules (L37);
- every round recomputed from the seed (round 0 the draw, then each replacement);
- the rounds recorded in the audit trail (the draw and each replacement) equal the stored ones;
- the serving members' seats are the panel those rounds give;
- once published, the seed revealed in the audit trail is the stored one.
Works before publication too (with the platform's secret copy of the seed) and says so. Exit status
0 when everything matches, 1 otherwise."""

import json

from django.core.management.base import BaseCommand

from audit.models import AuditEvent
from evaluation import drawing as algorithm
from evaluation.models import Drawing, DrawingState, MemberKind, MemberStatus


def _events(drawing, action):
    """(event, payload) of the drawing's audit events with `action`, in order."""
    events = AuditEvent.objects.filter(action=action, object_type="evaluation.drawing", object_id=str(drawing.pk)).order_by("seq")
    return [(event, json.loads(event.body)["payload"]) for event in events]


class Command(BaseCommand):
    help = "Re-run a panel drawing from its seed, request and eligible pool and check it against the stored result and the audit trail."

    def add_arguments(self, parser):
        parser.add_argument("drawing_id", type=int)

    def handle(self, *args, drawing_id, **options):
        drawing = Drawing.objects.filter(pk=drawing_id).select_related("lot__tender").first()
        if drawing is None:
            self.stderr.write(f"FAIL there is no drawing {drawing_id}")
            raise SystemExit(1)
        failures = 0

        def check(ok: bool, text: str) -> bool:
            nonlocal failures
            failures += not ok
            self.stdout.write(("OK   " if ok else "FAIL ") + text)
            return ok

        self.stdout.write(f"drawing {drawing.pk} of lot {drawing.lot} ({drawing.state}), algorithm {algorithm.VERSION}")
        if not drawing.seed_revealed:
            self.stdout.write("NOTE the seed is not yet public: this check uses the platform's secret copy; anyone can repeat it "
                              "once the result is published")
        commits = _events(drawing, "evaluation.drawing_commit")
        commit = commits[0] if len(commits) == 1 else None
        check(commit is not None, f"one commitment event in the audit trail (found {len(commits)})")
        recorded = commit[1] if commit else {}
        check(recorded.get("commitment") == drawing.seed_commitment,
              f"stored commitment {drawing.seed_commitment} is the one recorded before the draw ({recorded.get('commitment')})")
        try:
            request = algorithm.DrawingRequest.from_json(drawing.request_json)
            rounds = [algorithm.Round.from_json(data) for data in drawing.rounds]
            seed = bytes.fromhex(drawing.seed_hex)
        except (KeyError, TypeError, ValueError) as error:
            check(False, f"the stored drawing cannot be read: {error}")
            return self._verdict(drawing, failures)
        if drawing.state == DrawingState.COMMITTED:
            check(recorded.get("context") == algorithm.context_hash(request, drawing.eligible), "request and eligible pool match the committed context hash")
            check(algorithm.seed_commitment(seed) == recorded.get("commitment"), "seed matches its commitment")
            self.stdout.write("NOTE not drawn yet")
            return self._verdict(drawing, failures)
        verdict = algorithm.verify(seed, recorded.get("commitment", ""), request, drawing.eligible, rounds, context=recorded.get("context", ""))
        check(verdict.ok, f"re-run from the seed, request and sorted eligible pool: {len(rounds)} round(s) recomputed")
        for problem in verdict.problems:
            self.stdout.write(f"     - {problem}")
        draws = _events(drawing, "drawing.draw")
        check(bool(draws) and bool(commit) and draws[0][0].seq > commit[0].seq, "the commitment was recorded before the draw")
        audited = [draws[0][1].get("rounds", [None])[0]] if draws else [None]
        for _event, payload in _replacements(drawing):
            audited.append(payload.get("rounds_json"))
        check(audited == list(drawing.rounds), f"the rounds stored equal the rounds recorded in the audit trail ({len(audited)})")
        self._check_panel(drawing, rounds, check)
        if drawing.state == DrawingState.PUBLISHED:
            published = _events(drawing, "drawing.publish")
            check(bool(published) and published[-1][1].get("seed") == drawing.seed_hex, "the seed revealed at publication is the stored one")
        return self._verdict(drawing, failures)

    def _check_panel(self, drawing, rounds, check):
        try:
            seats = algorithm.panel(rounds)
        except ValueError as error:
            check(False, f"the rounds do not form a panel: {error}")
            return
        serving = (drawing.members.filter(kind=MemberKind.EXPERT, status__in=[MemberStatus.DRAWN, MemberStatus.CONFIRMED])
                   .exclude(venue="away").select_related("expert"))  # away seats: the partner's own drawing
        actual = sorted((m.seat, str(m.expert.public_id), m.specialty) for m in serving)
        expected = [(n, pick.expert, pick.specialty) for n, pick in enumerate(seats, start=1)]
        check(actual == expected, f"the serving experts' seats are the panel the rounds give ({len(expected)} seats)")

    def _verdict(self, drawing, failures):
        if failures:
            self.stderr.write(f"MISMATCH drawing {drawing.pk} does not verify ({failures} problem(s))")
            raise SystemExit(1)
        public = "" if drawing.seed_revealed else " (seed not yet public)"
        self.stdout.write(f"MATCH drawing {drawing.pk} verifies{public}")


def _replacements(drawing):
    """The replacement events of the drawing's members, in order (rounds 1, 2, ...)."""
    member_ids = [str(pk) for pk in drawing.members.values_list("pk", flat=True)]
    events = AuditEvent.objects.filter(action="evaluation.member_replace", object_type="evaluation.panelmember",
                                       object_id__in=member_ids).order_by("seq")
    result = []
    for event in events:
        payload = json.loads(event.body)["payload"]
        if "rounds_json" in payload:  # representatives have no round
            result.append((event, payload))
    return result
