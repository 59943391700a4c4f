"""Fixtures for the tendering tests: a controllable server clock, people of every role, and fast
password hashing. Factories that other apps' tests may use live in tests/factories.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tendering.periods import SHANGHAI
from tests import factories

# A Monday morning in Dongguan, well away from public holidays.
START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


class Clock:
    """The server time every service reads (django.utils.timezone.now), set by the test."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> datetime:
        self.moment = moment
        return moment

    def advance(self, **delta) -> datetime:
        self.moment = self.moment + timedelta(**delta)
        return self.moment


@pytest.fixture
def clock(monkeypatch):
    """Opt-in (other tendering tests run on real time): `pytestmark = pytest.mark.usefixtures("clock")`."""
    fake = Clock(START)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = tmp_path / "data"  # the platform key is generated here


@pytest.fixture
def centre(db):
    return factories.centre_reviewer()


@pytest.fixture
def owner(db):
    """The administrator of a verified tenderer."""
    return factories.person("tenderer")


@pytest.fixture
def bidder(db):
    return factories.person("bidder")


@pytest.fixture
def regulator(db):
    return factories.person("regulator")


@pytest.fixture
def published(clock, owner):
    """An open tender with two lots, published now: deadline in 30 days, documents on offer 10."""
    return factories.make_tender(owner, state="published", lots=2)
