import pytest

from audit.actor import Actor
from audit.selectors import verify_chain
from audit.services import record_event
from django.db import transaction


@pytest.mark.django_db
def test_events_chain_and_verify():
    with transaction.atomic():
        record_event(by=Actor.system("test"), action="x.one", payload={"a": 1})
        record_event(by=Actor.system("test"), action="x.two")
    verdict = verify_chain()
    assert verdict.ok and verdict.count == 2
