from django.core.management.base import BaseCommand

from audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Verify the whole audit chain (E49): prints OK <count> events, head <hash>, or names the first bad row."

    # An integrity check must run even when some other part of the platform is misconfigured
    # (a broken URLconf would otherwise stop it at the system checks); it needs only the table.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help="a head hash seen earlier (e.g. in a signed tree head or a printed report): fail unless it is "
            "still on the chain, which catches a chain cut short after that point",
        )

    def handle(self, *args, expect_head=None, **options):
        verdict = verify_chain(expect_head=expect_head)
        if verdict.ok:
            self.stdout.write(f"OK {verdict.count} events, head {verdict.head}")
            return
        where = f"at seq {verdict.bad_seq}" if verdict.bad_seq is not None else "at the end of the chain"
        self.stderr.write(f"FAIL {where}: {verdict.reason} ({verdict.count} events verified before it)")
        raise SystemExit(1)
