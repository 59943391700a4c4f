"""python manage.py report_verify <lot_id>: check a lot's evaluation report.

Checks, and prints one line each: the report hash recomputed from the stored statement; the same
hash in the audit event that recorded the drafting; the audit head the statement names still on
the chain; the stored PDF's SHA-256 (and, for a final report, the same hash in the audit event of
finalisation); every member's signature against the public key it was made with, and that the key
belongs to that member. Exit status 0 when everything holds, 1 otherwise."""

import hashlib

from audit.models import AuditEvent
from audit.verify_command import LotVerifyCommand
from bidding import keyfile
from evaluation import report_signing
from evaluation.models import EvaluationSession, ReportState
from evaluation.report_statement import statement_hash
from evaluation.selectors_report import current_report, serving_members


class Command(LotVerifyCommand):
    help = "Verify a lot's evaluation report: its hash, its audit anchors, its PDF and every member's signature."

    def handle(self, *args, lot_id, **options):
        session = EvaluationSession.objects.filter(lot_id=lot_id).first()
        report = current_report(session) if session else None
        if report is None:
            self.refuse(f"lot {lot_id} has no evaluation report")
        self.stdout.write(f"evaluation report of lot {lot_id}, version {report.version} ({report.state})")
        digest = statement_hash(report.statement)
        self.assess(digest == report.statement_sha256, f"report hash {digest} (SHA-256 of the canonical statement; stored {report.statement_sha256})")

        def audited(action: str, field: str, value: str):
            event = AuditEvent.objects.filter(action=action, object_id=str(report.pk), object_type__endswith="evaluationreport").first()
            return event, event is not None and f'"{field}":"{value}"' in event.body

        drafted, ok = audited("evaluation.report_draft", "sha256", report.statement_sha256)
        self.assess(ok, f"audit event #{drafted.seq if drafted else '?'} recorded the drafting with this hash")
        head = report.statement.get("audit_head", {})
        self.assess(self.on_chain(head) and head.get("seq") == report.audit_head_seq and head.get("hash") == report.audit_head_hash,
              f"audit head #{head.get('seq')} {head.get('hash')} is on the chain")
        if report.pdf:
            with report.pdf.open("rb") as f:
                actual = hashlib.sha256(f.read()).hexdigest()
            self.assess(actual == report.pdf_sha256, f"PDF SHA-256 {actual}")
        else:
            self.assess(False, "the PDF is missing")
        if report.state == ReportState.FINAL:
            final, ok = audited("evaluation.report_final", "pdf_sha256", report.pdf_sha256)
            self.assess(ok, f"audit event #{final.seq if final else '?'} recorded the final PDF's hash")
        signatures = {s.member_id: s for s in report.signatures.select_related("key", "member")}
        dissents = {d.member_id: d for d in report.dissents.all()}
        for member in serving_members(session):
            label = f"seat {member.seat}"
            signature, dissent = signatures.pop(member.pk, None), dissents.pop(member.pk, None)
            if signature is not None:
                key = signature.key
                good = (key.user_id == member.user_id
                        and report_signing.verify(keyfile.public_key_from_jwk(key.public_jwk), digest, signature.signature))
                self.assess(good, f"{label}: signature by key {key.fingerprint}")
            elif dissent is not None:
                self.note(f"{label}: dissent in writing: {dissent.text}")
            elif report.state == ReportState.FINAL:
                self.assess(False, f"{label}: neither signed nor dissented, yet the report is final")
            else:
                self.note(f"{label}: not answered yet")
        for answer in [*signatures.values(), *dissents.values()]:
            self.assess(False, f"seat {answer.member.seat} answered but does not serve on the panel")
        self.conclude(f"the evaluation report of lot {lot_id}", f", version {report.version}, hash {digest}")
