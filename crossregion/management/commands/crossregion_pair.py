"""`manage.py crossregion_pair --partner-url URL [--propose]`: make this sandbox platform and the
one at URL partners, with a signed cooperation agreement (远程异地评标合作框架协议), through the real
services and the real inboxes — what centre staff do on the partner pages, for the two-city demo.

Run at each platform, in this order (scripts/run-cities does, once both answer):

    Zhongshan:  crossregion_pair --partner-url http://127.0.0.1:8000            registers Dongguan
    Dongguan:   crossregion_pair --partner-url http://127.0.0.1:8001 --propose  registers Zhongshan,
                                                        drafts, signs and sends the agreement
    Zhongshan:  crossregion_pair --partner-url http://127.0.0.1:8000            countersigns it and
                                                        sends the countersignature back

Each run does what is missing on its own side and nothing else, so it is idempotent: once an
agreement is in force it only says so. It acts as the city's demo centre staff (--by), and it
confirms the partner's key fingerprint itself (printed): that is why it refuses anywhere but on a
sandbox platform. Messages are delivered at once (the worker's job for the same message finds it
delivered); a partner that does not answer within --timeout seconds is reported, and the outbox
keeps retrying.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from audit.actor import Actor
from config.errors import DomainError
from crossregion import protocol
from crossregion.identity import own_name, own_region
from crossregion.models import Agreement, AgreementState, OutboundMessage, OutboundState, Partner
from crossregion.selectors import valid_agreement
from crossregion.services import agreements, outbox

VALIDITY = timedelta(days=365)


class Command(BaseCommand):
    help = "Sandbox: register the platform at --partner-url as a partner and sign the cooperation agreement with it (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--partner-url", required=True, help="the partner platform's base URL, e.g. http://127.0.0.1:8001")
        parser.add_argument("--propose", action="store_true", help="draft, sign and send the agreement if there is none (the host does)")
        parser.add_argument("--by", default="", help="the centre staff username to act as (default: this city's demo centre)")
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the partner to answer a message")

    def handle(self, *args, partner_url: str, propose: bool, by: str, timeout: float, **options):
        if not settings.PLATFORM_SANDBOX:
            raise CommandError(
                "crossregion_pair only runs on a sandbox platform: it confirms the partner's key fingerprint "
                "without a person comparing it out of band. Use the partner pages (合作平台) instead."
            )
        self.timeout = timeout
        actor = self._actor(by)
        try:
            partner = self._partner(actor, partner_url)
            agreement = valid_agreement(partner)
            if agreement is None:
                agreement = self._agreement(actor, partner, propose)
        except DomainError as exc:
            raise CommandError(f"crossregion_pair: {exc.message}") from exc
        self._report(partner, agreement)

    # Steps -----------------------------------------------------------------------------------

    def _actor(self, username: str) -> Actor:
        if not username:
            from tendering.management.commands.seed_demo import current_city

            username = current_city().login("centre")
        user = User.objects.select_related("organisation").filter(username=username, role="centre", is_active=True).first()
        if user is None:
            raise CommandError(f"crossregion_pair: no active centre staff user {username!r} (run manage.py seed_demo first)")
        return Actor.from_user(user)

    def _partner(self, actor: Actor, partner_url: str) -> Partner:
        """The partner at `partner_url`, registered now if it was not (its key fingerprint printed)."""
        partner_url = partner_url.strip().rstrip("/")
        metadata = agreements.fetch_metadata(partner_url)
        partner = Partner.objects.filter(region_code=metadata.region_code).first()
        if partner is None:
            partner = agreements.partner_add(by=actor, base_url=partner_url, metadata=metadata, confirmed_key_id=metadata.key_id)
            self.stdout.write(f"合作平台 partner registered: {partner.name} ({partner.region_code}) {partner.base_url}  "
                              f"key {partner.key_id}, fingerprint {partner.fingerprint} (sandbox: confirmed by crossregion_pair)")
        elif partner.key_id != metadata.key_id:
            raise CommandError(
                f"crossregion_pair: {partner.name} ({partner.region_code}) now serves key {metadata.key_id}, not the key "
                f"{partner.key_id} registered here: its data folder was replaced. Start both cities over with empty data "
                f"folders (make clean), or register the partner again on the partner pages."
            )
        elif partner.base_url != partner_url:
            raise CommandError(
                f"crossregion_pair: {partner.name} ({partner.region_code}) is registered here at {partner.base_url}, "
                f"not {partner_url}: serve it where it was (make run with the same ports) or start over (make clean)."
            )
        return partner

    def _agreement(self, actor: Actor, partner: Partner, propose: bool) -> Agreement | None:
        now = timezone.now()
        live = Agreement.objects.filter(partner=partner, valid_until__gt=now).exclude(state=AgreementState.REVOKED)
        received = live.filter(proposed_by_us=False, state=AgreementState.PROPOSED).order_by("-proposed_at", "-pk").first()
        if received is not None:
            agreement = agreements.agreement_accept(by=actor, agreement=received)
            self.stdout.write(f"合作协议 agreement {agreement.uuid} countersigned; sending it to {partner.name}")
            self._deliver(f"agreement:{agreement.uuid}:accept")
            return agreement
        ours = live.filter(proposed_by_us=True, state__in=[AgreementState.DRAFT, AgreementState.PROPOSED]).order_by("-created_at", "-pk").first()
        if ours is None and not propose:
            self.stdout.write(f"合作协议 agreement: none yet with {partner.name}; the host proposes it (crossregion_pair --propose there)")
            return None
        if ours is None:
            ours = agreements.agreement_draft(
                by=actor, partner=partner, scope=list(protocol.SCOPES), valid_from=now, valid_until=now + VALIDITY,
                text=(f"{own_name()}与{partner.name}远程异地评标合作框架协议（沙箱演示）。双方在评标场地预约、"
                      f"专家抽取、专家联合登录和评标记录同步方面开展合作，互认对方平台签名的消息与文件。"),
            )
        if ours.state == AgreementState.DRAFT:
            ours = agreements.agreement_propose(by=actor, agreement=ours)
            self.stdout.write(f"合作协议 agreement {ours.uuid} drafted and signed by {own_name()} ({own_region()}); sending it to {partner.name}")
        self._deliver(f"agreement:{ours.uuid}:propose")
        return ours

    def _deliver(self, idempotency_key: str) -> None:
        """Deliver the outbox message now (or see the worker deliver it); refused or too slow: an error."""
        deadline = time.monotonic() + self.timeout
        while True:
            message = OutboundMessage.objects.select_related("partner").get(idempotency_key=idempotency_key)
            if message.state == OutboundState.DELIVERED:
                return
            if message.state == OutboundState.FAILED:
                raise CommandError(f"crossregion_pair: {message.partner.name} refused {message.type}: {message.last_error}")
            if time.monotonic() > deadline:
                raise CommandError(
                    f"crossregion_pair: {message.partner.name} did not take {message.type} within {self.timeout:g} s "
                    f"({message.last_error or 'no answer yet'}); the outbox keeps trying"
                )
            outbox.deliver(message.pk)  # "skipped" while the worker has it or its retry is not due
            time.sleep(0.2)

    def _report(self, partner: Partner, agreement: Agreement | None) -> None:
        if agreement is not None:
            agreement.refresh_from_db()
        if agreement is not None and valid_agreement(partner) == agreement:
            until = timezone.localtime(agreement.valid_until).strftime("%Y-%m-%d")
            self.stdout.write(f"合作协议 agreement with {partner.name} ({partner.region_code}) in force: {agreement.uuid}, "
                              f"signed by both platforms, scope {', '.join(agreement.scope)}, valid until {until}")
        elif agreement is not None:
            self.stdout.write(f"合作协议 agreement {agreement.uuid} with {partner.name}: {agreement.get_state_display()}, "
                              f"awaiting {partner.name}'s countersignature")
