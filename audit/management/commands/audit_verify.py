from django.core.management.base import BaseCommand

from audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Verify the whole audit chain: prints OK <count> events, head <hash>, or names the first bad row."

    def handle(self, *args, **options):
        verdict = verify_chain()
        if verdict.ok:
            self.stdout.write(f"OK {verdict.count} events, head {verdict.head}")
            return
        self.stderr.write(f"FAIL at seq {verdict.bad_seq}: {verdict.reason} ({verdict.count} events verified before it)")
        raise SystemExit(1)
