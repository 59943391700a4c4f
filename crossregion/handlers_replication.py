"""Inbox handler and delivery hook of the replication area (crossregion/services/replication.py)."""

from crossregion.handlers import handler, on_delivered
from crossregion.services import replication


@handler("replication.batch")
def replication_batch(*, partner, envelope, message) -> dict:
    return replication.apply_batch(partner=partner, body=envelope["body"], message=message)


@on_delivered("replication.batch")
def replication_batch_delivered(*, message, result) -> None:
    replication.batch_delivered(message=message, result=result)
