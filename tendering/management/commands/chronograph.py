"""`manage.py chronograph`: move tenders along by the clock, every few seconds (or once)."""

import time

from django.core.management.base import BaseCommand

from tendering.chronograph import tick


class Command(BaseCommand):
    help = "Close lots at their deadline, fail lots with too few bids, expire invitations, report overdue objection answers."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between ticks (default 5)")
        parser.add_argument("--once", action="store_true", help="run one tick and exit")

    def handle(self, *args, interval: float, once: bool, **options):
        while True:
            try:
                for item in tick():
                    if "error" in item:
                        self.stderr.write(f"{item['action']} {item['object']} failed: {item['error']}")
                    else:
                        self.stdout.write(f"{item['action']} {item['object']}")
            except Exception as exc:  # keep the loop alive through a database hiccup; log and retry
                if once:
                    raise
                self.stderr.write(f"chronograph tick failed: {exc!r}")
            if once:
                return
            time.sleep(interval)
