"""A lot whose evaluation is FINISHED with a FINAL report, built directly with the ORM on top of
tests/evaluation/world.py (the evaluation services are tested in tests/evaluation), ready for the
publicity and award services. Shared by tests/tendering/test_award*.py.

    world = AwardWorld(clock)                      # 4 bidders, candidates ranked 1..3
    world.publicize()                              # publicity drafted and approved: lot publicizing
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from evaluation.models import BidResult, EvaluationReport, EvaluationSession, ReportState, SessionState
from tendering import services
from tendering.models import Lot, Tender
from tests.evaluation.world import EvaluationWorld
from tests.factories import actor


class AwardWorld:
    def __init__(self, clock, *, bidders: int = 4, accelerator: int = 1, state_funded: bool = True,
                 award_method: str = "first_candidate", finished: bool = True, final: bool = True, report_age=timedelta(0)):
        self.clock = clock
        self.ev = EvaluationWorld(clock, bidders=bidders)
        Tender.objects.filter(pk=self.ev.tender.pk).update(accelerator=accelerator, state_funded=state_funded, award_method=award_method)
        self.tender = Tender.objects.get(pk=self.ev.tender.pk)
        self.session = self.ev.seated()
        self.host, self.tenderer, self.centre, self.regulator = self.ev.host, self.ev.tenderer, self.ev.centre, self.ev.regulator
        self.bidders = self.ev.bidders
        now = timezone.now()
        if finished:
            EvaluationSession.objects.filter(pk=self.session.pk).update(state=SessionState.FINISHED, finished_at=now)
        # Totals fall with the price order: bidder 0 ranks first; at most 3 candidates.
        for index, bidder in enumerate(self.bidders):
            BidResult.objects.create(session=self.session, bid=bidder.bid, price_fen=bidder.price_fen, qualified=True,
                                     total=Decimal("95.50") - index, rank=index + 1, candidate_rank=index + 1 if index < 3 else None)
        self.report = EvaluationReport.objects.create(
            session=self.session, version=1, state=ReportState.FINAL if final else ReportState.SIGNING, statement={"lot": self.lot.pk},
            statement_sha256="ab" * 32, created_at=now - report_age, finalised_at=(now - report_age) if final else None,
        )

    @property
    def lot(self) -> Lot:
        return Lot.objects.select_related("tender").get(pk=self.ev.lot.pk)

    def candidate(self, rank: int):
        return self.bidders[rank - 1]

    def publicize(self, **kwargs):
        notice = services.publicity_draft(by=actor(self.host), lot=self.lot, **kwargs)
        return services.notice_approve(by=actor(self.centre), notice=notice)

    def after_publicity(self):
        self.clock.set(self.lot.publicity.ends_at + timedelta(minutes=1))

    def decide(self, **kwargs):
        return services.award_decide(by=actor(self.host), lot=self.lot, **kwargs)

    def award(self, **kwargs):
        """Publicity, its end, the decision, the result notices approved: the lot awarded."""
        self.publicize()
        self.after_publicity()
        self.decide(**kwargs)
        head = services.result_draft(by=actor(self.host), lot=self.lot)
        return services.notice_approve(by=actor(self.centre), notice=head)


def pdf_text(notice) -> str:
    notice.pdf.open("rb")
    try:
        reader = PdfReader(io.BytesIO(notice.pdf.read()))
    finally:
        notice.pdf.close()
    return "\n".join(page.extract_text() for page in reader.pages)


def payload(event) -> dict:
    return json.loads(event.body)["payload"]


def pdf_bytes(notice) -> bytes:
    notice.pdf.open("rb")
    try:
        return notice.pdf.read()
    finally:
        notice.pdf.close()


def font_embedded(notice) -> bool:
    """The Chinese font is embedded (a TrueType subset: FontFile2) in the notice's PDF."""
    content = pdf_bytes(notice)
    return b"FontFile2" in content and b"WQYZenHei" in content


@pytest.fixture
def media(settings, tmp_path):
    """Issued notices' PDFs go to the default storage: a folder of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def world(db, clock, media):
    return AwardWorld(clock)
