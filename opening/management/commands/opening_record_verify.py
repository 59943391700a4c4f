"""python manage.py opening_record_verify <lot_id>: check a lot's opening record.

Checks, and prints one line each: the record hash recomputed from the stored statement; the same
hash in the audit event that recorded the drafting; the audit head the statement names still on
the chain; the stored PDFs' SHA-256; every bidder's signature against the key it was made with.
Exit status 0 when everything holds, 1 otherwise."""

import hashlib

from django.core.files.storage import storages

from audit.models import AuditEvent
from audit.verify_command import LotVerifyCommand
from bidding import keyfile
from opening import record_signing
from opening.models import OpeningSession, RecordResponse
from opening.services.record import current_record, expected_responders


class Command(LotVerifyCommand):
    help = "Verify a lot's opening record: its hash, its audit anchors, its PDFs and every bidder's signature."

    def handle(self, *args, lot_id, **options):
        session = OpeningSession.objects.filter(lot_id=lot_id).first()
        record = current_record(session) if session else None
        if record is None:
            self.refuse(f"lot {lot_id} has no opening record")
        state = f"published {record.published_at.isoformat()}" if record.published_at else "draft, not published"
        self.stdout.write(f"opening record of lot {lot_id}, version {record.version} ({state})")
        statement = record.statement
        digest = record_signing.statement_hash(statement)
        self.assess(digest == record.statement_sha256 and record_signing.statement_text(statement) == record.statement_json,
              f"record hash {digest} (SHA-256 of the canonical statement)")
        drafted = AuditEvent.objects.filter(action="opening.record_draft", object_type="opening.openingrecord",
                                            object_id=str(record.pk)).first()
        self.assess(drafted is not None and f'"sha256":"{record.statement_sha256}"' in drafted.body,
              f"audit event #{drafted.seq if drafted else '?'} recorded the drafting with this hash")
        head = statement.get("audit_head", {})
        self.assess(self.on_chain(head) and head.get("seq") == record.audit_seq, f"audit head #{head.get('seq')} {head.get('hash')} is on the chain")
        for label, name, expected in (("draft PDF", record.pdf_name, record.pdf_sha256),
                                      ("published PDF", record.published_pdf_name, record.published_pdf_sha256)):
            if name:
                with storages["bids"].open(name, "rb") as f:
                    actual = hashlib.sha256(f.read()).hexdigest()
                self.assess(actual == expected, f"{label} SHA-256 {actual}")
        confirmations = {c.organisation_id: c for c in record.confirmations.select_related("key", "organisation")}
        for checkin in expected_responders(session):
            bidder = checkin.organisation.name
            confirmation = confirmations.pop(checkin.organisation_id, None)
            if confirmation is None:
                self.note(f"{bidder}: no answer")
            elif confirmation.response == RecordResponse.DISAGREED:
                self.note(f"{bidder}: disagreed in writing: {confirmation.text}")
            else:
                key = confirmation.key
                good = (key is not None and key.fingerprint == confirmation.key_fingerprint
                        and key.organisation_id == confirmation.organisation_id and key.purpose == "signing"
                        and record_signing.verify(keyfile.public_key_from_jwk(key.public_jwk), digest,
                                                  bytes.fromhex(confirmation.signature)))
                self.assess(good, f"{bidder}: signature by key {confirmation.key_fingerprint}")
        for confirmation in confirmations.values():
            self.assess(False, f"{confirmation.organisation.name} answered but did not check in")
        self.conclude(f"the opening record of lot {lot_id}", f", version {record.version}, hash {digest}")
