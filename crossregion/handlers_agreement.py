"""Inbox handlers of the agreement area (allowed without a valid agreement: they make one)."""

from crossregion.handlers import handler
from crossregion.services import agreements


@handler("agreement.propose")
def agreement_propose(*, partner, envelope, message) -> dict:
    return agreements.agreement_received(partner=partner, body=envelope["body"])


@handler("agreement.accept")
def agreement_accept(*, partner, envelope, message) -> dict:
    return agreements.agreement_countersigned(partner=partner, body=envelope["body"])


@handler("agreement.revoke")
def agreement_revoke(*, partner, envelope, message) -> dict:
    return agreements.agreement_revoked(partner=partner, body=envelope["body"])
