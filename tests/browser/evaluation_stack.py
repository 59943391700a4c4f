"""The real platform for the live evaluation test (tests/browser/test_evaluation_live.py): daphne
(HTTP + WebSocket), the background worker and the chronograph on a private SQLite data folder,
started as tests/browser/opening_stack.py starts them (its `Stack`).

The database is migrated and the world made in one child process with django.setup() (one
Django start-up less), and the records are checked at the end in another:

    python -m tests.browser.evaluation_stack setup <work>              → one JSON line (`setup`)
    python -m tests.browser.evaluation_stack verify <lot> <drawing>    → one JSON line (`verify`)

A published tender whose lot is in evaluation with 4 opened bids (tests/evaluation/world.py, the
opening's outcome written directly), a pool of 7 experts with sign-in accounts, and the panel of 5
drawn by the real drawing service (evaluation.services.drawing: request with the seed's commitment,
then the run, which seats the panel and creates the session). The session's window opens a moment
after the drawing (a drawing must be for a future start) and lasts 4 hours; `setup` returns once it
is open. Nothing else: the experts sign in, make their keys, check in, elect, score and sign in
their browsers.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from tests.browser.opening_stack import PYTHON, Stack, run

PANEL = 5
POOL_NAMES = ["王建国", "李明华", "张卫东", "刘晓燕", "陈志强", "杨光荣", "赵雪梅"]  # 7 in the pool, 5 drawn


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def setup(work: Path) -> dict:
    """Migrate the private database, then make the world (one child: one Django start-up)."""
    _django()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)

    from evaluation.services import drawing as drawing_service
    from tests.evaluation.world import EvaluationWorld, make_expert
    from tests.factories import PASSWORD, actor
    from tests.tendering.conftest import START, Clock

    world = EvaluationWorld(Clock(START))  # the clock is not installed: the platform runs on real time
    for name in POOL_NAMES:
        make_expert(specialties=("A08",), name=name)
    starts = timezone.now() + timedelta(seconds=1)
    drawing = drawing_service.drawing_request(
        by=actor(world.centre), lot=world.lot, session_starts_at=starts, session_ends_at=starts + timedelta(hours=4),
        slots=[{"specialty": "A08", "count": PANEL}],
    )
    drawing = drawing_service.drawing_run(by=actor(world.centre), drawing=drawing)
    members = list(drawing.members.select_related("user", "expert").order_by("seat"))
    assert [m.seat for m in members] == list(range(1, PANEL + 1)), [m.seat for m in members]
    wait = (starts - timezone.now()).total_seconds()
    if wait > 0:
        time.sleep(wait + 0.05)
    return {
        "tender": world.tender.pk, "code": world.tender.code, "lot": world.lot.pk, "drawing": drawing.pk,
        "session": drawing.session.pk, "password": PASSWORD,
        "members": [{"seat": m.seat, "username": m.user.username, "name": m.expert.name} for m in members],
        "bidders": [{"bid": b.bid.pk, "name": b.organisation.name, "price_fen": b.price_fen} for b in world.bidders],
    }


def verify(lot: int, drawing: int) -> dict:
    """`report_verify <lot>`, `drawing_verify <drawing>` and `audit_verify`, as `manage.py` runs
    them, in one child: {command: {"exit": status, "out": stdout + stderr}}."""
    _django()
    import io

    from django.core.management import call_command

    results = {}
    for name, args in (("report_verify", [str(lot)]), ("drawing_verify", [str(drawing)]), ("audit_verify", [])):
        out = io.StringIO()
        try:
            call_command(name, *args, stdout=out, stderr=out)
            status = 0
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
        results[name] = {"exit": status, "out": out.getvalue()}
    return results


class EvaluationStack(Stack):
    def make_world(self) -> dict:
        """Migrates too (setup)."""
        out = run([PYTHON, "-m", "tests.browser.evaluation_stack", "setup", str(self.work)], self.env, "migrate and world setup")
        return json.loads(out.strip().splitlines()[-1])

    def verify(self, lot: int, drawing: int) -> dict:
        out = run([PYTHON, "-m", "tests.browser.evaluation_stack", "verify", str(lot), str(drawing)], self.env, "verification")
        return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "setup":
        print(json.dumps(setup(Path(sys.argv[2])), ensure_ascii=False))
    elif len(sys.argv) == 4 and sys.argv[1] == "verify":
        print(json.dumps(verify(int(sys.argv[2]), int(sys.argv[3])), ensure_ascii=False))
    else:
        raise SystemExit("usage: python -m tests.browser.evaluation_stack setup <work folder> | verify <lot> <drawing>")
