"""The real platform for the evaluation room's browser test (tests/browser/test_evaluation_room.py):
daphne alone (HTTP + WebSocket) on a private SQLite data folder, as tests/browser/opening_stack.py
starts it. The world and the members who are not in a browser act in child processes with
django.setup(), through the real services:

    python -m tests.browser.evaluation_room_stack setup <work>         → one JSON line
    python -m tests.browser.evaluation_room_stack act <work> <what>     → the other members act
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.browser.opening_stack import Stack

BROWSER_SEATS = (1, 2)  # seat 1 is elected chair; seats 3-5 act from the child process


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _world(work: Path):
    from tests.evaluation.world import EvaluationWorld
    from tests.tendering.conftest import START, Clock

    world = EvaluationWorld(Clock(START))  # the clock is not installed: the platform runs on real time
    world.seated(experts=5)
    return world


def setup(work: Path) -> dict:
    """A lot in evaluation with 4 opened bids, a seated panel of 5, all checked in, seat 1 elected
    chair: the qualification stage is open. Session cookies for the browser members."""
    _django()
    from django.conf import settings
    from django.test import Client

    from tests.evaluation.room_helpers import check_in_all, elect

    world = _world(work)
    check_in_all(world)
    elect(world, seat=1)
    cookies = {}
    for member in world.members:
        if member.seat in BROWSER_SEATS:
            client = Client()
            client.force_login(member.user)
            cookies[member.seat] = client.cookies[settings.SESSION_COOKIE_NAME].value
    state = {"lot": world.lot.pk, "session": world.session.pk, "cookie_name": settings.SESSION_COOKIE_NAME, "cookies": cookies,
             "bids": [b.bid.pk for b in world.bidders], "bidders": [b.organisation.name for b in world.bidders],
             "members": {m.seat: m.pk for m in world.members}}
    (work / "world.json").write_text(json.dumps(state))
    return state


def act(work: Path, what: str) -> None:
    """Seats 3-5 complete the open stage (qualification: all pass; scoring: fixed scores)."""
    _django()
    from evaluation.models import EvaluationSession, PanelMember
    from evaluation.services import room
    from tests.factories import actor

    state = json.loads((work / "world.json").read_text())
    session = EvaluationSession.objects.get(pk=state["session"])
    for seat, pk in state["members"].items():
        if int(seat) in BROWSER_SEATS:
            continue
        member = PanelMember.objects.select_related("user").get(pk=pk)
        for bid in state["bids"]:
            if what == "qualification":
                for code in ("Q1", "Q2"):
                    room.submit_verdict(by=actor(member.user), session=session, bid=bid, criterion=code, value=True)
            elif what == "scoring":
                for code, value in (("T1", 24), ("T2", 8), ("C1", 8)):
                    room.submit_score(by=actor(member.user), session=session, bid=bid, criterion=code, value=value)


class EvaluationStack(Stack):
    def make_world(self) -> dict:
        from tests.browser.opening_stack import PYTHON, run

        out = run([PYTHON, "-m", "tests.browser.evaluation_room_stack", "setup", str(self.work)], self.env, "world setup")
        return json.loads(out.strip().splitlines()[-1])

    def act(self, what: str) -> None:
        from tests.browser.opening_stack import PYTHON, run

        run([PYTHON, "-m", "tests.browser.evaluation_room_stack", "act", str(self.work), what], self.env, f"members act ({what})")

    def start_all(self) -> None:
        from tests.browser.opening_stack import PYTHON

        self.start("daphne", [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"])


if __name__ == "__main__":
    command, work = sys.argv[1], Path(sys.argv[2])
    if command == "setup":
        print(json.dumps(setup(work)))
    elif command == "act":
        act(work, sys.argv[3])
