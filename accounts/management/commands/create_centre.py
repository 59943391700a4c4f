"""First start of a platform: its trading centre and that centre's administrator.

    manage.py create_centre                      # asks for everything
    PLATFORM_CENTRE_PASSWORD=... manage.py create_centre --noinput --name ... --credit-code ... --username ...
"""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from audit.actor import Actor
from config.errors import DomainError

PASSWORD_ENV = "PLATFORM_CENTRE_PASSWORD"
# (option, prompt): asked in this order when not given on the command line.
REQUIRED = [("name", "Centre name (单位名称)"), ("credit_code", "Unified social credit code (统一社会信用代码)"), ("username", "Administrator username")]
REQUIRED_OPTIONS = {option for option, _ in REQUIRED}
OPTIONAL = [
    ("legal_representative", "Legal representative (法定代表人)"), ("address", "Address (地址)"),
    ("contact_phone", "Contact phone (联系电话)"), ("display_name", "Administrator's name (姓名)"), ("email", "Administrator's e-mail"),
]


class Command(BaseCommand):
    help = (
        "Set up the platform's first trading centre, verified, with its administrator, who then signs in and "
        "verifies every other organisation. Refused once a centre exists. Every step is an audit event (E49). "
        "Do not use Django's createsuperuser in production: it bypasses the audit trail, and a superuser "
        "belongs to no organisation."
    )

    def add_arguments(self, parser):
        for option, prompt in REQUIRED + OPTIONAL:
            parser.add_argument(f"--{option.replace('_', '-')}", dest=option, default=None, help=prompt)
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive",
            help=f"ask nothing: take the fields from the options and the password from ${PASSWORD_ENV}",
        )

    def handle(self, *args, interactive=True, **options):
        values = {}
        for option, prompt in REQUIRED + OPTIONAL:
            value = options.get(option)
            if value is None and interactive:
                value = input(f"{prompt}: ").strip()
            if not value and option in REQUIRED_OPTIONS:
                raise CommandError(f"--{option.replace('_', '-')} is required")
            values[option] = value or ""
        password = os.environ.get(PASSWORD_ENV, "")
        if not password:
            if not interactive:
                raise CommandError(f"set ${PASSWORD_ENV} to the administrator's password (it is never taken as an option)")
            password = getpass.getpass("Administrator password: ")
            if password != getpass.getpass("Administrator password (again): "):
                raise CommandError("the two passwords differ")
        try:
            centre = services.centre_bootstrap(by=Actor.system("create_centre"), password=password, **values)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"centre {centre.name} ({centre.credit_code}) is verified; its administrator {values['username']} may sign in")
