"""docs/audit-chain.md shows two real events byte for byte and how to recompute their hashes by
hand. This test records those events and runs the doc's own recipes, so the doc cannot go stale."""

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from audit.chain import GENESIS_HASH
from audit.services import record_event

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-chain.md"


def record_doc_example(monkeypatch):
    """The two events of the worked example: an agency publishes a tender, a bidder registers."""
    times = iter([datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=UTC), datetime(2026, 3, 2, 1, 5, 30, 5, tzinfo=UTC)])
    monkeypatch.setattr(timezone, "now", lambda: next(times))
    agency = Actor(user_id=12, name="代理人王", role="agency", organisation_id=3, ip="203.0.113.5")
    bidder = Actor(user_id=40, name="bidder-li", role="bidder", organisation_id=8, ip="2001:db8::7")
    with transaction.atomic():
        publish = record_event(by=agency, action="tender.publish", object_type="tendering.tender", object_id=7,
                               tender_id=7, payload={"from": "submitted", "to": "published"})
        register = record_event(by=bidder, action="tender.register", object_type="tendering.tender", object_id=7,
                                tender_id=7, payload={"max_price_fen": 1_250_000_00})
    return publish, register


def _block(doc, name):
    match = re.search(rf"<!-- {name} -->\n```\w*\n(.*?)\n```", doc, re.S)
    assert match, f"docs/audit-chain.md lost its {name} block"
    return match.group(1)


@pytest.mark.django_db
def test_the_documented_bodies_and_hashes_are_what_the_platform_writes(monkeypatch):
    publish, register = record_doc_example(monkeypatch)
    doc = DOC.read_text(encoding="utf-8")
    assert _block(doc, "example-body-1") == publish.body
    assert _block(doc, "example-body-2") == register.body
    assert _block(doc, "example-hashes") == "\n".join(
        [f"prev_hash 1 = {GENESIS_HASH}", f"hash 1      = {publish.hash}", f"prev_hash 2 = {register.prev_hash}",
         f"hash 2      = {register.hash}"])


@pytest.mark.django_db
def test_the_documented_shell_recipe_reproduces_the_hash(monkeypatch):
    publish, register = record_doc_example(monkeypatch)
    recipe = _block(DOC.read_text(encoding="utf-8"), "example-shell")
    out = subprocess.run(["bash", "-c", recipe], capture_output=True, text=True, check=True, timeout=30).stdout
    assert out.split() == [register.hash, "-"]


@pytest.mark.django_db
def test_the_documented_python_recipe_reproduces_the_hash(monkeypatch):
    publish, register = record_doc_example(monkeypatch)
    recipe = _block(DOC.read_text(encoding="utf-8"), "example-python")
    out = subprocess.run(["python3", "-c", recipe], capture_output=True, text=True, check=True, timeout=30).stdout
    assert out.strip() == register.hash
