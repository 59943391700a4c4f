"""Reads of replication: the sessions replicated here (partner side) with their verification, and
the replications this platform sends (host side)."""

from __future__ import annotations

import hashlib

from bidding import keyfile
from crossregion.models import ReplicatedSession, Replication
from evaluation import report_signing
from evaluation.report_statement import statement_hash


def replicated_sessions():
    return ReplicatedSession.objects.select_related("partner").order_by("-updated_at", "-pk")


def outgoing():
    return Replication.objects.select_related("partner", "lot__tender").order_by("-pk")


def event_rows(replica: ReplicatedSession, *, after: int = 0, limit: int = 500) -> list[dict]:
    return [{"seq": e.seq, "kind": e.kind, "payload": e.payload, "at": e.at, "batch": e.batch_seq}
            for e in replica.events.filter(seq__gt=after).order_by("seq")[:limit]]


def final_event_hash(replica: ReplicatedSession) -> str:
    """The statement hash named by the host room's report.final event, as replicated."""
    event = replica.events.filter(kind="report.final").order_by("-seq").first()
    return (event.payload or {}).get("sha256", "") if event else ""


def report_check(replica: ReplicatedSession) -> dict | None:
    """The "same record" check of the replicated report, recomputed now: the statement's hash here,
    the hash the host sent, the hash the host's room announced, the PDF's hash, and each answer's
    signature verified again against the member's public key."""
    if not replica.report_sha256:
        return None
    recomputed = statement_hash(replica.report_statement)
    pdf = bytes(replica.report_pdf or b"")
    pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    announced = final_event_hash(replica)
    answers = []
    for answer in replica.answers.filter(report_version=replica.report_version).order_by("seat"):
        verified = None
        if answer.response == "signed":
            try:
                key = keyfile.public_key_from_jwk(answer.public_jwk)
                verified = keyfile.fingerprint(key) == answer.key_fingerprint and report_signing.verify(key, recomputed, answer.signature)
            except (keyfile.InvalidJWK, ValueError):
                verified = False
        answers.append({"answer": answer, "verified": verified})
    signatures_ok = all(a["verified"] for a in answers if a["answer"].response == "signed")
    same = recomputed == replica.report_sha256 and (not announced or announced == recomputed) and pdf_sha256 == replica.report_pdf_sha256
    return {"sent": replica.report_sha256, "recomputed": recomputed, "announced": announced, "pdf_sha256": pdf_sha256,
            "pdf_sent": replica.report_pdf_sha256, "pdf_size": len(pdf), "answers": answers, "signatures_ok": signatures_ok,
            "same": same, "ok": same and signatures_ok}
