"""The world of `python -m bench.scoring`, built in a child process (`--phase setup`): R evaluation
rooms (one lot each, of one published tender) with B opened bids and a panel of E experts each, every
room in REVIEWING with the scoring stage open and no score given yet. Writes world.json (lots, seats,
session cookies, bids, criteria) for the parent, which has no Django.

How (after tests/evaluation/world.py, which builds the same thing for the room's tests):
- the tender, its bidders and their registration go through the real services on a clock set 60 days
  back (django.utils.timezone.now patched, as the tests' Clock does), so that the bid deadline is
  past; then, as if the opening had run, one FINISHED OpeningSession per lot with a Bid and an OPENED
  BidOpening (price read) per bidder written directly, and the lots moved to `evaluating`;
- on the real clock: per lot a DRAWN Drawing whose window is open now, E PanelMembers written
  directly (the drawing itself is benchmarked nowhere here), and the session from
  evaluation.services.session.create_session;
- then the room's real services: every member checks in with the pledge, everyone votes seat 1 as
  chair (REVIEWING, qualification open), every member passes every bid on the one qualification
  criterion, and the chair locks the qualification, which opens the scoring stage.

The scheme: C scored criteria (technical, then commercial) whose maximum scores share 50 points, plus
the price criterion's 50: 100 in all, as tendering/scheme.py requires.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

WORLD = "world.json"
PRICE_POINTS = 50


def scheme(criteria: int) -> dict:
    """One qualification criterion, `criteria` scored ones sharing 50 points (step 0.5), price 50."""
    if not 1 <= criteria <= 50:
        raise ValueError("criteria must be between 1 and 50")
    base, extra = divmod(100 - PRICE_POINTS, criteria)
    technical = (criteria + 1) // 2
    items = [{"code": "Q1", "name": "营业执照及资质证书", "category": "qualification"}]
    for n in range(criteria):
        is_technical = n < technical
        code = f"T{n + 1}" if is_technical else f"C{n + 1 - technical}"
        items.append({"code": code, "name": f"{'技术' if is_technical else '商务'}评分因素{code}",
                      "category": "technical" if is_technical else "commercial",
                      "max_score": base + (1 if n < extra else 0), "weight": 1})
    items.append({"code": "P1", "name": "投标报价", "category": "price", "max_score": PRICE_POINTS, "weight": 1})
    return {"criteria": items, "score_step": 0.5,
            "price_formula": {"benchmark": "average_minus_k", "k_percent": 3, "deduct_above_per_percent": 1,
                              "deduct_below_per_percent": 0.5}}


def phase_setup(work: Path, rooms: int, experts: int, bids: int, criteria: int) -> dict:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings

    # Nobody signs in with a password here (the clients carry session cookies made below): the
    # fastest hasher keeps the ~100 accounts of the setup from costing a minute.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    from django.test import Client
    from django.utils import timezone

    from audit.actor import Actor
    from bidding.capital_numerals import to_capital
    from bidding.models import Bid
    from evaluation.models import (
        Drawing,
        DrawingState,
        EvaluationSession,
        MemberKind,
        PanelMember,
        SessionState,
        Stage,
        StageKind,
        StageStatus,
    )
    from evaluation.services import room
    from evaluation.services.session import create_session
    from opening.models import BidOpening, DecryptionStatus, OpeningSession
    from opening.models import SessionState as OpeningState
    from tendering.models import Lot, LotState, TenderState
    from tests import factories
    from tests.evaluation.world import make_expert
    from tests.factories import actor, person
    from tests.tendering.conftest import Clock

    began = time.perf_counter()
    system = Actor.system("bench.scoring")
    real_now = timezone.now
    clock = Clock(real_now() - timedelta(days=60))
    timezone.now = clock
    try:
        host = person("agency")
        tender = factories.make_tender(host, state=TenderState.PUBLISHED, lots=rooms, evaluation_scheme=scheme(criteria))
        lots = list(tender.lots.order_by("pk"))
        bidders = [factories.register_bidder(tender) for _ in range(bids)]
        centre = factories.centre_reviewer()
        clock.set(tender.bid_deadline + timedelta(minutes=1))
        for lot in lots:
            opening = OpeningSession.objects.create(lot=lot, state=OpeningState.FINISHED, opened_at=tender.bid_deadline,
                                                    finished_at=clock())
            for n, user in enumerate(bidders):
                price = 90_000_000 + 100_000 * n
                bid = Bid.objects.create(lot=lot, bidder=user.organisation, received_at=tender.bid_deadline - timedelta(days=1, seconds=-n),
                                         submitted_by=user, size=1024, sha256="0" * 64, ciphertext_sha256="1" * 64)
                BidOpening.objects.create(session=opening, bid=bid, status=DecryptionStatus.OPENED, price_fen=price,
                                          price_in_words=to_capital(price), price_in_words_fen=price, duration_days=365,
                                          quality="合格", project_manager="张工",
                                          project_manager_certificate=f"粤144{lot.pk:04d}{n:05d}", read_at=clock())
        Lot.objects.filter(pk__in=[lot.pk for lot in lots]).update(state=LotState.EVALUATING)
    finally:
        timezone.now = real_now
    world_s = time.perf_counter() - began

    # On the real clock from here: the daphnes check the window against it.
    t = time.perf_counter()
    starts = timezone.now() - timedelta(minutes=5)
    panels = []
    for lot in lots:
        seed = secrets.token_bytes(32)
        # The statutory panel is odd (at least 5); the benchmark seats the 10 per room
        # directly, as a drawing would never produce: the room's services do not depend on it.
        drawing = Drawing.objects.create(
            lot=lot, state=DrawingState.DRAWN, session_starts_at=starts, session_ends_at=starts + timedelta(hours=8),
            slots=[{"specialty": "A08", "count": experts}], tenderer_representatives=0,
            seed_commitment=hashlib.sha256(seed).hexdigest(), seed_hex=seed.hex(), requested_by=centre,
            requested_at=timezone.now(), drawn_at=timezone.now(),
        )
        members = [PanelMember.objects.create(drawing=drawing, kind=MemberKind.EXPERT, expert=expert, user=expert.user,
                                              specialty="A08", seat=seat)
                   for seat, expert in enumerate((make_expert() for _ in range(experts)), start=1)]
        panels.append((lot, create_session(by=system, drawing=drawing), members))
    panel_s = time.perf_counter() - t

    t = time.perf_counter()
    for lot, session, members in panels:
        def fresh(pk=session.pk):
            return EvaluationSession.objects.get(pk=pk)

        for member in members:
            room.check_in(by=actor(member.user), session=fresh(), pledge=True)
        chair = PanelMember.objects.get(pk=members[0].pk)
        for member in members:
            room.vote_chair(by=actor(member.user), session=fresh(), candidate=chair)
        bid_ids = list(Bid.objects.filter(lot=lot).order_by("received_at", "pk").values_list("pk", flat=True))
        for member in members:
            for bid_id in bid_ids:
                room.submit_verdict(by=actor(member.user), session=fresh(), bid=bid_id, criterion="Q1", value=True)
        room.lock_stage(by=actor(chair.user), session=fresh(), stage_kind=StageKind.QUALIFICATION)
        session = fresh()
        if session.state != SessionState.REVIEWING or \
                Stage.objects.get(session=session, kind=StageKind.SCORING).status != StageStatus.OPEN:
            raise SystemExit(f"setup: the room of lot {lot.pk} is not scoring ({session.state})")
    room_s = time.perf_counter() - t

    scored = [c for c in scheme(criteria)["criteria"] if c["category"] in ("technical", "commercial")]
    world = {"cookie_name": settings.SESSION_COOKIE_NAME, "criteria": [{"code": c["code"], "max_score": c["max_score"]} for c in scored],
             "rooms": []}
    for lot, session, members in panels:
        seats = []
        for member in members:
            client = Client()
            client.force_login(member.user)
            seats.append({"seat": member.seat, "cookie": client.cookies[settings.SESSION_COOKIE_NAME].value})
        world["rooms"].append({
            "lot": lot.pk, "session": session.pk,
            "bids": list(Bid.objects.filter(lot=lot).order_by("received_at", "pk").values_list("pk", flat=True)),
            "seats": seats,
        })
    fd = os.open(work / WORLD, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # holds session cookies
    with os.fdopen(fd, "w") as f:
        json.dump(world, f)
    return {"tender": tender.pk, "lots": [lot.pk for lot, *_ in panels], "world_s": round(world_s, 2),
            "panels_s": round(panel_s, 2), "room_services_s": round(room_s, 2),
            "seconds": round(time.perf_counter() - began, 2)}


def phase_final(rooms: list[int]) -> dict:
    """Each session's last event number and its scores as the database holds them (after the run)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from evaluation.models import EvaluationSession, Score

    found = {}
    for session in EvaluationSession.objects.filter(pk__in=rooms):
        found[str(session.pk)] = {"last_seq": session.last_seq,
                                  "scores": Score.objects.filter(session=session, void=False).count()}
    return found
