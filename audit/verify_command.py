"""Base of the commands that verify one lot's signed document against the audit chain
(opening_record_verify, report_verify): `python manage.py <name> <lot_id>` prints one line per
check, "OK   " or "FAIL " (or "--   " for a plain note), and exits with status 1 when any failed."""

from typing import NoReturn

from django.core.management.base import BaseCommand

from audit.models import AuditEvent


class LotVerifyCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("lot_id", type=int)

    def execute(self, *args, **options):
        self.failures = 0
        return super().execute(*args, **options)

    def assess(self, ok: bool, text: str) -> None:
        """One check's line (not `check`: BaseCommand.check runs the system checks)."""
        self.failures += not ok
        self.stdout.write(("OK   " if ok else "FAIL ") + text)

    def note(self, text: str) -> None:
        self.stdout.write("--   " + text)

    def refuse(self, text: str) -> NoReturn:
        self.stderr.write("FAIL " + text)
        raise SystemExit(1)

    @staticmethod
    def on_chain(head: dict) -> bool:
        """Whether the audit event a statement names as its head (seq and hash) is on the chain."""
        return AuditEvent.objects.filter(seq=head.get("seq"), hash=head.get("hash")).exists()

    def conclude(self, document: str, detail: str) -> None:
        """The last line: "VERIFIED <document><detail>", or "FAIL <document> does not verify" and exit 1."""
        if self.failures:
            self.refuse(f"{document} does not verify ({self.failures} problem(s))")
        self.stdout.write(f"VERIFIED {document}{detail}")
