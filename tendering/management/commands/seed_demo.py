"""`manage.py seed_demo`: the demo world of a sandbox platform, built through the real services so
the audit chain records every step.

The Dongguan centre, a regulator, a tenderer, an agency, four bidders (all verified) and seven
experts; one published sandbox tender whose statutory periods run ACCELERATOR times faster.
Idempotent: whatever exists is left as it is, and the same logins are printed every time.
`--show` only prints (used by scripts/run-platform); it never writes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import credit_code
from accounts import services as accounts_services
from accounts.models import Organisation, OrganisationStatus, User
from audit.actor import Actor
from tendering import periods, scheme
from tendering import services as tendering_services
from config.errors import DomainError
from tendering.models import Project, Tender

# Demo passwords only ever exist on a sandbox platform (this command refuses anywhere else).
DEMO_PASSWORD = "Demo-2026-sandbox"
# 20 statutory days become one hour (20 * 24 / 480): time to try the demo before the deadline.
ACCELERATOR = 480
DEMO_PROJECT_CODE = "DEMO-441900-0001"
SYSTEM = Actor.system("seed_demo")


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    kind: str
    name: str
    credit_body: str  # the first 17 characters of the credit code; the check character is computed
    username: str
    display_name: str


ORGANISATIONS = [
    DemoOrganisation("centre", "centre", "东莞市公共资源交易中心", "12441900MB0000001", "centre", "陈交易"),
    DemoOrganisation("regulator", "regulator", "东莞市住房和城乡建设局", "11441900MB0000002", "regulator", "林监管"),
    DemoOrganisation("tenderer", "tenderer", "东莞市松湖城建投资有限公司", "91441900MA0000003", "tenderer", "王招标"),
    DemoOrganisation("agency", "agency", "广东粤信招标代理有限公司", "91441900MA0000004", "agency", "李代理"),
    DemoOrganisation("bidder1", "bidder", "东莞市华建建筑工程有限公司", "91441900MA0000005", "bidder1", "赵投标"),
    DemoOrganisation("bidder2", "bidder", "广东南粤路桥建设有限公司", "91440100MA0000006", "bidder2", "钱投标"),
    DemoOrganisation("bidder3", "bidder", "中山市汇通建设工程有限公司", "91442000MA0000007", "bidder3", "孙投标"),
    DemoOrganisation("bidder4", "bidder", "东莞市鸿基市政工程有限公司", "91441900MA0000008", "bidder4", "周投标"),
]
EXPERTS = [(f"expert{n}", name) for n, name in enumerate(["吴专家", "郑专家", "冯专家", "褚专家", "卫专家", "蒋专家", "沈专家"], 1)]
ROLE_LABELS = {"centre": "交易中心", "regulator": "监管人员", "tenderer": "招标人", "agency": "招标代理", "bidder": "投标人", "expert": "评标专家"}


class Command(BaseCommand):
    help = "Load the demo world of a sandbox platform (idempotent) and print its logins."

    def add_arguments(self, parser):
        parser.add_argument("--show", action="store_true", help="only print the URLs and logins; change nothing")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where the platform is served")

    def handle(self, *args, show: bool, base_url: str, **options):
        if not settings.PLATFORM_SANDBOX:
            raise CommandError(
                "seed_demo only runs on a sandbox platform: its demo tender runs its statutory periods "
                "accelerated and its users have published demo passwords. Set PLATFORM_SANDBOX=1 "
                "(make run and make seed do)."
            )
        if not show:
            try:
                with transaction.atomic():
                    build_demo_world()
            except DomainError as exc:  # all or nothing: a refused step leaves no half-built world
                raise CommandError(f"seed_demo: {exc.message}") from exc
        self.print_summary(base_url.rstrip("/"))

    def print_summary(self, base_url: str) -> None:
        write = self.stdout.write
        tender = demo_tender()
        write("")
        write(f"公告 Announcements   {base_url}{reverse('tendering:announcements')}")
        write(f"管理 Admin           {base_url}{reverse('admin:index')}")
        write(f"接口 API docs        {base_url}{reverse('api-docs')}")
        if tender is not None:
            deadline = timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S") if tender.bid_deadline else "-"
            write(f"演示 Demo tender     {base_url}{reverse('tendering:detail', args=[tender.pk])}  "
                  f"{tender.code} ×{tender.accelerator}, 截标 deadline {deadline}")
        rows = [(ROLE_LABELS.get(u.role, u.role), u.username, (u.organisation.name if u.organisation else u.label)) for u in demo_users()]
        if not rows:
            write(self.style.WARNING("No demo users yet: run `manage.py seed_demo` (make seed)."))
            return
        header = ("角色 role", "用户名 username", "密码 password", "单位 organisation")
        table = [header, *((role, username, DEMO_PASSWORD, where) for role, username, where in rows)]
        widths = [max(_display_width(row[column]) for row in table) for column in range(3)]
        write("")
        for row in table:
            write("  ".join(_pad(cell, width) for cell, width in zip(row, widths)) + "  " + row[3])
        write("")


def _display_width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


# Building the world ------------------------------------------------------------------------------


def demo_users() -> list[User]:
    usernames = [org.username for org in ORGANISATIONS] + [username for username, _ in EXPERTS]
    found = {user.username: user for user in User.objects.select_related("organisation").filter(username__in=usernames)}
    return [found[name] for name in usernames if name in found]


def demo_tender() -> Tender | None:
    return Tender.objects.filter(project__code=DEMO_PROJECT_CODE).order_by("pk").first()


def build_demo_world() -> None:
    organisations = {spec.key: _organisation(spec) for spec in ORGANISATIONS}
    centre = _actor("centre")
    for spec in ORGANISATIONS:
        organisation = organisations[spec.key]
        if spec.kind != "centre" and organisation.status != OrganisationStatus.APPROVED:
            if organisation.status == OrganisationStatus.DRAFT:
                accounts_services.organisation_submit(by=_actor(spec.username), organisation=organisation)
            accounts_services.organisation_approve(by=centre, organisation=organisation)
    for username, name in EXPERTS:
        if not User.objects.filter(username=username).exists():
            accounts_services.user_create(
                by=centre, organisation=None, username=username, password=DEMO_PASSWORD, role="expert", display_name=name
            )
    if demo_tender() is None:
        tenderer, agency = (Organisation.objects.get(pk=organisations[key].pk) for key in ("tenderer", "agency"))
        _publish_demo_tender(tenderer, agency)


def _actor(username: str) -> Actor:
    return Actor.from_user(User.objects.select_related("organisation").get(username=username))


def _organisation(spec: DemoOrganisation) -> Organisation:
    organisation = Organisation.objects.filter(name=spec.name).first()
    if organisation is not None:
        return organisation
    data = {
        "name": spec.name,
        "credit_code": credit_code.complete(spec.credit_body),
        "legal_representative": spec.display_name,
        "address": "广东省东莞市南城街道鸿福路106号",
        "contact_phone": "0769-22830000",
    }
    if spec.kind == "centre":
        # Nobody can verify the first centre: the platform opens it (as `manage.py create_centre`).
        return accounts_services.centre_bootstrap(
            by=SYSTEM, username=spec.username, password=DEMO_PASSWORD, display_name=spec.display_name, **data
        )
    if spec.kind == "bidder":
        data["qualifications"] = "建筑工程施工总承包一级,市政公用工程施工总承包一级"
    return accounts_services.organisation_register(
        by=SYSTEM, kind=spec.kind, username=spec.username, password=DEMO_PASSWORD, display_name=spec.display_name, data=data
    )


def _publish_demo_tender(tenderer: Organisation, agency: Organisation) -> Tender:
    """A two-lot open tender on a project the tenderer created mandating the agency (委托代理),
    drafted by the agency, approved by the centre and published, whose deadline is the statutory
    minimum (accelerated) plus a little slack for the demo."""
    tenderer_actor, agency_actor = _actor("tenderer"), _actor("agency")
    now = timezone.now()
    bid_deadline = periods.earliest_bid_deadline(now, ACCELERATOR) + timedelta(minutes=2)
    project = Project.objects.filter(code=DEMO_PROJECT_CODE).first() or tendering_services.project_create(
        by=tenderer_actor,
        tenderer=tenderer,
        code=DEMO_PROJECT_CODE,
        name="松山湖科教路市政道路改造工程",
        location="东莞市松山湖高新技术产业开发区",
        approval_number="东发改〔2026〕88号",
        investment_fen=12_800_000_00,
        funding_source="财政资金",
        agency=agency,
    )
    if project.agency_id != agency.pk:  # a project left by an older seed, before mandates existed
        project = tendering_services.project_mandate(by=tenderer_actor, project=project, agency=agency)
    tender = tendering_services.tender_create(
        by=agency_actor,
        project=project,
        title="松山湖科教路市政道路改造工程施工（沙箱演示）",
        agency=agency,
        announcement="本项目为沙箱演示招标，法定期限按加速倍数缩短，仅供体验平台流程。",
        bidder_requirements="具备市政公用工程施工总承包三级及以上资质。",
        bid_deadline=bid_deadline,
        documents_offer_end=bid_deadline,
        accelerator=ACCELERATOR,
        evaluation_scheme=scheme.default_scheme(),
        lots=[
            {"name": "第一标段：道路及排水工程", "description": "科教路K0+000—K1+200段", "maximum_price_fen": 58_000_000_00},
            {"name": "第二标段：照明及绿化工程", "description": "全线照明、绿化及附属设施", "maximum_price_fen": 21_000_000_00},
        ],
    )
    tendering_services.tender_document_upload(
        by=agency_actor,
        tender=tender,
        title="招标文件",
        uploaded_file=ContentFile(
            "松山湖科教路市政道路改造工程施工招标文件（沙箱演示）\n评标办法：综合评估法\n".encode(), name="招标文件.txt"
        ),
    )
    tendering_services.tender_submit(by=agency_actor, tender=tender)
    tendering_services.tender_approve(by=_actor("centre"), tender=tender)
    tendering_services.tender_publish(by=agency_actor, tender=tender)
    tender.refresh_from_db()
    return tender
