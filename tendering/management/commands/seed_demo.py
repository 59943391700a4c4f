"""`manage.py seed_demo`: the demo world of a sandbox platform, built through the real services so
the audit chain records every step. The world depends on the platform's city (settings.PLATFORM_REGION_CODE):

Dongguan (441900, the host of the cross-region demo): the Dongguan centre, a regulator, a tenderer, an agency, four bidders (all verified) and seven
experts; one published sandbox tender whose statutory periods run ACCELERATOR times faster (the
bidding walk-through: open for bids for about an hour); and the opening demo (开标演示): a second
tender running OPENING_ACCELERATOR times faster, whose deadline falls a couple of minutes after
seeding, with a real sealed bid from each of bidder1..bidder4, so the chronograph opens its room
shortly after `make run`. Each demo bidder's key file (passphrase = the demo password) is written
to DATA_DIR/demo/, outside the repository, so the bidders can decrypt their bids in the room.
The expert pool holds the seven demo experts (each with a registered signing key and its key file
in DATA_DIR/demo/, to sign the evaluation report) and one expert employed by bidder3, whom the
drawing for the opening demo excludes.

Zhongshan (442000, the partner): the Zhongshan centre (zs-centre), a regulator (zs-regulator) and
the Zhongshan expert pool: five experts with sign-in accounts (zs-expert1..5, specialty A08, key
files in that platform's DATA_DIR/demo/) and one expert employed by 中山市汇通建设工程有限公司 (Dongguan's
bidder3), whom a partner drawing for the opening demo must exclude. No tenders: Zhongshan lends
seats and experts to Dongguan's evaluations.

Idempotent: whatever exists is left as it is, and the same logins are printed every time.
All or nothing: a refused step leaves neither rows nor files behind.
`--show` only prints (used by scripts/run-platform); it never writes.
"""

from __future__ import annotations

import io
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import credit_code
from accounts import services as accounts_services
from accounts.models import Organisation, OrganisationStatus, User
from audit.actor import Actor
from bidding import bidpack, keyfile, sealing
from bidding import services as bidding_services
from bidding.capital_numerals import to_capital
from bidding.models import Bid, BidderKey, KeyPurpose, KeyStatus, UploadChunk
from bidding.sealing import header as sealed_header
from config.errors import DomainError
from tendering import periods, scheme
from tendering import services as tendering_services
from tendering.models import Lot, Project, Tender

# Demo passwords only ever exist on a sandbox platform (this command refuses anywhere else).
DEMO_PASSWORD = "Demo-2026-sandbox"
# 20 statutory days become one hour (20 * 24 / 480): time to try the demo before the deadline.
ACCELERATOR = 480
DEMO_PROJECT_CODE = "DEMO-441900-0001"
# The opening demo: 20 statutory days become 86.4 s, and the deadline is a minute after that.
OPENING_ACCELERATOR = 20_000
OPENING_SLACK = timedelta(minutes=1)
OPENING_PROJECT_CODE = "DEMO-441900-0002"
# The fewest PBKDF2 iterations keyfile accepts, so seeding stays fast. Demo keys guard demo bids
# under a published passphrase: their strength is not the point.
DEMO_KEY_ITERATIONS = keyfile.MIN_ITERATIONS
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


@dataclass(frozen=True)
class DemoBid:
    username: str
    price_fen: int
    duration_days: int
    quality: str
    project_manager: str
    certificate: str


# Different prices, each under the lot's maximum price; the words always agree with the figures
# (bidding.bidpack refuses a package where they differ).
OPENING_BIDS = [
    DemoBid("bidder1", 33_880_000_00, 300, "合格", "黄建国", "粤144190000101"),
    DemoBid("bidder2", 34_512_345_67, 320, "合格", "刘志强", "粤144010000202"),
    DemoBid("bidder3", 35_106_000_00, 290, "合格，争创市优良样板工程", "何丽萍", "粤144200000303"),
    DemoBid("bidder4", 32_990_500_50, 310, "合格", "梁永辉", "粤144190000404"),
]
OPENING_MAXIMUM_PRICE_FEN = 36_000_000_00
# Dongguan's world (the constants below are Dongguan's; CITIES maps each region to its world).
EXPERTS = [(f"expert{n}", name) for n, name in enumerate(["吴专家", "郑专家", "冯专家", "褚专家", "卫专家", "蒋专家", "沈专家"], 1)]
# The expert pool (专家库): the seven demo experts (sign-in accounts, key files in DATA_DIR/demo/)
# and one expert without an account employed by bidder3, whom every drawing for the opening demo
# excludes (recusal, P12). (username or "", name, certificate, specialties, employer, employer credit body)
POOL = [
    ("expert1", "吴专家", "GD-PS-0001", ["A08", "A05"], "东莞市建筑设计研究院有限公司", "91441900MA0000101"),
    ("expert2", "郑专家", "GD-PS-0002", ["A08"], "广东工业大学", "12440000MB0000102"),
    ("expert3", "冯专家", "GD-PS-0003", ["A08", "A06"], "东莞市造价咨询事务所有限公司", "91441900MA0000103"),
    ("expert4", "褚专家", "GD-PS-0004", ["A08"], "东莞理工学院", "12441900MB0000104"),
    ("expert5", "卫专家", "GD-PS-0005", ["A08", "A04"], "广州市市政工程设计研究总院有限公司", "91440100MA0000105"),
    ("expert6", "蒋专家", "GD-PS-0006", ["A08"], "东莞市建设工程检测中心", "12441900MB0000106"),
    ("expert7", "沈专家", "GD-PS-0007", ["A08", "A05"], "深圳市建筑科学研究院股份有限公司", "91440300MA0000107"),
    ("", "马专家", "GD-PS-0008", ["A08"], "中山市汇通建设工程有限公司", "91442000MA0000007"),
]


@dataclass(frozen=True)
class DemoCity:
    """One city's demo world: who is in it, and whether it runs the demo tenders (the host does)."""

    region_code: str
    name: str
    english_name: str
    organisations: list[DemoOrganisation]
    experts: list[tuple[str, str]]  # (username, name) of the experts with sign-in accounts
    pool: list[tuple[str, str, str, list[str], str, str]]  # as POOL
    address: str
    phone: str
    tenders: bool

    def login(self, key: str) -> str:
        """The username of the organisation `key` ("centre", "regulator", ...) in this city."""
        return next(spec.username for spec in self.organisations if spec.key == key)

    def usernames(self) -> list[str]:
        return [spec.username for spec in self.organisations] + [username for username, _ in self.experts]


DONGGUAN = DemoCity(
    region_code="441900", name="东莞", english_name="Dongguan", organisations=ORGANISATIONS, experts=EXPERTS, pool=POOL,
    address="广东省东莞市南城街道鸿福路106号", phone="0769-22830000", tenders=True,
)
ZHONGSHAN_EXPERTS = [(f"zs-expert{n}", name) for n, name in enumerate(["何专家", "罗专家", "高专家", "梁专家", "郭专家"], 1)]
ZHONGSHAN = DemoCity(
    region_code="442000", name="中山", english_name="Zhongshan",
    organisations=[
        DemoOrganisation("centre", "centre", "中山市公共资源交易中心", "12442000MB0000001", "zs-centre", "黄交易"),
        DemoOrganisation("regulator", "regulator", "中山市住房和城乡建设局", "11442000MB0000002", "zs-regulator", "欧监管"),
    ],
    experts=ZHONGSHAN_EXPERTS,
    pool=[
        ("zs-expert1", "何专家", "GD-ZS-0001", ["A08", "A05"], "中山市建筑设计院股份有限公司", "91442000MA0000201"),
        ("zs-expert2", "罗专家", "GD-ZS-0002", ["A08"], "电子科技大学中山学院", "12442000MB0000202"),
        ("zs-expert3", "高专家", "GD-ZS-0003", ["A08", "A06"], "中山市工程造价咨询有限公司", "91442000MA0000203"),
        ("zs-expert4", "梁专家", "GD-ZS-0004", ["A08"], "中山职业技术学院", "12442000MB0000204"),
        ("zs-expert5", "郭专家", "GD-ZS-0005", ["A08", "A04"], "中山市建设工程质量检测中心", "12442000MB0000205"),
        # Employed by Dongguan's bidder3: the recusal Dongguan names excludes them from a partner drawing.
        ("", "钟专家", "GD-ZS-0006", ["A08"], "中山市汇通建设工程有限公司", "91442000MA0000007"),
    ],
    address="广东省中山市东区松苑路1号", phone="0760-88300000", tenders=False,
)
CITIES = {city.region_code: city for city in (DONGGUAN, ZHONGSHAN)}


def current_city() -> DemoCity:
    """The demo world of this platform's region (settings.PLATFORM_REGION_CODE)."""
    try:
        return CITIES[settings.PLATFORM_REGION_CODE]
    except KeyError:
        known = ", ".join(f"{code} {city.english_name}" for code, city in CITIES.items())
        raise CommandError(
            f"seed_demo has no demo world for region {settings.PLATFORM_REGION_CODE} (PLATFORM_REGION_CODE); it knows {known}."
        ) from None


ROLE_LABELS = {"centre": "交易中心", "regulator": "监管人员", "tenderer": "招标人", "agency": "招标代理", "bidder": "投标人", "expert": "评标专家"}


class Command(BaseCommand):
    help = "Load the demo world of a sandbox platform (idempotent) and print its logins."

    def add_arguments(self, parser):
        parser.add_argument("--show", action="store_true", help="only print the URLs and logins; change nothing")
        parser.add_argument("--base-url", default=None,
                            help="where the platform is served (default: PLATFORM_BASE_URL, else http://127.0.0.1:8000)")

    def handle(self, *args, show: bool, base_url: str, **options):
        if not settings.PLATFORM_SANDBOX:
            raise CommandError(
                "seed_demo only runs on a sandbox platform: its demo tender runs its statutory periods "
                "accelerated and its users have published demo passwords. Set PLATFORM_SANDBOX=1 "
                "(make run and make seed do)."
            )
        city = current_city()
        if base_url is None:
            base_url = getattr(settings, "PLATFORM_BASE_URL", "") or "http://127.0.0.1:8000"
        if not show:
            files = StagedFiles()
            try:
                with transaction.atomic():
                    build_demo_world(files, city)
            except DomainError as exc:  # all or nothing: a refused step leaves no half-built world
                files.discard()
                raise CommandError(f"seed_demo: {exc.message}") from exc
            except BaseException:
                files.discard()
                raise
            files.keep()
        self.print_summary(base_url.rstrip("/"), city)

    def print_summary(self, base_url: str, city: DemoCity) -> None:
        write = self.stdout.write
        tender = demo_tender()
        write("")
        write(f"{city.name} {city.english_name} ({city.region_code})  {base_url}/")
        write(f"公告 Announcements   {base_url}{reverse('tendering:announcements')}")
        write(f"管理 Admin           {base_url}{reverse('admin:index')}")
        write(f"接口 API docs        {base_url}{reverse('api-docs')}")
        if tender is not None:
            deadline = timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S") if tender.bid_deadline else "-"
            write(f"演示 Demo tender     {base_url}{reverse('tendering:detail', args=[tender.pk])}  "
                  f"{tender.code} ×{tender.accelerator}, 截标 deadline {deadline}")
        opening = opening_demo_tender()
        if opening is not None:
            deadline = timezone.localtime(opening.bid_deadline).strftime("%Y-%m-%d %H:%M:%S")
            lot = opening.lots.order_by("number").first()
            write(f"开标 Opening demo    {base_url}{reverse('tendering:detail', args=[opening.pk])}  "
                  f"{opening.code} ×{opening.accelerator}, 截标 deadline {deadline}")
            write(f"开标室 Opening room  {base_url}{reverse('opening:room', args=[lot.pk])}  "
                  f"(opens at the deadline; host: agency)")
            write(f"密钥 Key files       {demo_key_dir()}/bidder1..4-keys.json  (口令 passphrase {DEMO_PASSWORD})")
            missing = [username for username in demo_bidder_usernames() if not key_file_path(username).exists()]
            if missing:
                write(self.style.WARNING(
                    f"Key files missing for {', '.join(missing)}: their opening demo bids cannot be decrypted "
                    f"(start over with an empty data folder: make clean)."
                ))
        if city.experts:
            first, last = city.experts[0][0], city.experts[-1][0]
            write(f"专家 Expert keys     {demo_key_dir()}/{first}..{last[len(first) - 1:]}-keys.json  (签署评标报告 signing the report)")
            write(f"专家库 Expert pool   {base_url}{reverse('evaluation:pool')}  专家抽取 drawings {base_url}{reverse('evaluation:drawings')}")
        write(f"合作 Partners        {base_url}{reverse('crossregion:partners')}  (合作平台与合作框架协议 partner platforms and agreements)")
        rows = [(ROLE_LABELS.get(u.role, u.role), u.username, (u.organisation.name if u.organisation else u.label))
                for u in demo_users(city)]
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


def demo_users(city: DemoCity = DONGGUAN) -> list[User]:
    usernames = city.usernames()
    found = {user.username: user for user in User.objects.select_related("organisation").filter(username__in=usernames)}
    return [found[name] for name in usernames if name in found]


def demo_tender() -> Tender | None:
    return Tender.objects.filter(project__code=DEMO_PROJECT_CODE).order_by("pk").first()


def opening_demo_tender() -> Tender | None:
    return Tender.objects.filter(project__code=OPENING_PROJECT_CODE).order_by("pk").first()


def demo_bidder_usernames() -> list[str]:
    return [bid.username for bid in OPENING_BIDS]


def demo_key_dir() -> Path:
    return Path(settings.DATA_DIR) / "demo"


def key_file_path(username: str) -> Path:
    return demo_key_dir() / f"{username}-keys.json"


class StagedFiles:
    """What the seed writes outside the database: kept only if its transaction commits.

    A new key file is written next to its final name (".new", mode 0600) and renamed into place
    after the commit; the sealed bid files the upload services stored are deleted on a rollback."""

    def __init__(self):
        self.key_files: list[tuple[Path, Path]] = []
        self.storage_names: list[str] = []

    def write_key_file(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staged = path.with_name(path.name + ".new")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # also if a stale .new file had another mode
            os.write(descriptor, data)
        finally:
            os.close(descriptor)
        self.key_files.append((staged, path))

    def keep(self) -> None:
        for staged, path in self.key_files:
            os.replace(staged, path)
        self.key_files, self.storage_names = [], []

    def discard(self) -> None:
        for staged, _ in self.key_files:
            staged.unlink(missing_ok=True)
        storage = storages["bids"]
        for name in self.storage_names:
            try:
                storage.delete(name)
            except OSError:
                pass
        self.key_files, self.storage_names = [], []


def build_demo_world(files: StagedFiles, city: DemoCity = DONGGUAN) -> None:
    """Everything missing from the city's demo world, inside the caller's transaction; the key files
    and sealed bids it writes are staged in `files` (the caller keeps or discards them)."""
    organisations = {spec.key: _organisation(spec, city) for spec in city.organisations}
    centre = _actor(city.login("centre"))
    for spec in city.organisations:
        organisation = organisations[spec.key]
        if spec.kind != "centre" and organisation.status != OrganisationStatus.APPROVED:
            if organisation.status == OrganisationStatus.DRAFT:
                accounts_services.organisation_submit(by=_actor(spec.username), organisation=organisation)
            accounts_services.organisation_approve(by=centre, organisation=organisation)
    for username, name in city.experts:
        if not User.objects.filter(username=username).exists():
            accounts_services.user_create(
                by=centre, organisation=None, username=username, password=DEMO_PASSWORD, role="expert", display_name=name
            )
    _expert_pool(centre, files, city)
    if not city.tenders:  # the partner city lends seats and experts; it runs no demo tender
        return
    if demo_tender() is None:
        tenderer, agency = (Organisation.objects.get(pk=organisations[key].pk) for key in ("tenderer", "agency"))
        _publish_demo_tender(tenderer, agency)
    if opening_demo_tender() is None:
        tenderer, agency = (Organisation.objects.get(pk=organisations[key].pk) for key in ("tenderer", "agency"))
        tender = _publish_opening_demo_tender(tenderer, agency)
        lot = tender.lots.get()
        for spec in OPENING_BIDS:
            _submit_demo_bid(spec, lot, _demo_keys(spec.username, files), files)


def _expert_pool(centre: Actor, files: StagedFiles, city: DemoCity = DONGGUAN) -> None:
    """The demo expert pool, through the pool services; each demo expert's signing key is
    registered and written to its key file (the report is signed with it in the browser)."""
    from evaluation.models import Expert
    from evaluation.services import pool as pool_services

    for username, name, certificate, specialties, employer, credit_body in city.pool:
        if Expert.objects.filter(certificate_number=certificate).exists():
            continue
        data = {"name": name, "certificate_number": certificate, "specialties": specialties, "title": "高级工程师",
                "years_of_practice": 15, "employer_name": employer, "employer_credit_code": credit_code.complete(credit_body)}
        link = User.objects.get(username=username) if username else None
        pool_services.expert_create(by=centre, data=data, link_user=link)
    for username, _ in city.experts:
        _expert_keys(username, files)


def _expert_keys(username: str, files: StagedFiles) -> None:
    """The demo expert's key file, its signing key registered (reused when already in force)."""
    from evaluation.models import ExpertKey
    from evaluation.services import report as report_services

    user = User.objects.get(username=username)
    path = key_file_path(username)
    existing = _read_key_file(path)
    active = ExpertKey.objects.filter(user=user, revoked_at__isnull=True).values_list("fingerprint", flat=True).first()
    if existing is not None and active == existing.public.fingerprints.signing:
        return
    if existing is not None and not ExpertKey.objects.filter(fingerprint=existing.public.fingerprints.signing).exists():
        keys = existing
    else:
        data = keyfile.generate(DEMO_PASSWORD, label=f"{user.label}（沙箱演示密钥）", iterations=DEMO_KEY_ITERATIONS)
        keys = keyfile.unlock(data, DEMO_PASSWORD)
        files.write_key_file(path, data)
    report_services.expert_key_register(by=Actor.from_user(user), public_jwk=keyfile.public_jwk(keys.signing.public_key()))


def _actor(username: str) -> Actor:
    return Actor.from_user(User.objects.select_related("organisation").get(username=username))


def _organisation(spec: DemoOrganisation, city: DemoCity = DONGGUAN) -> Organisation:
    organisation = Organisation.objects.filter(name=spec.name).first()
    if organisation is not None:
        return organisation
    data = {
        "name": spec.name,
        "credit_code": credit_code.complete(spec.credit_body),
        "legal_representative": spec.display_name,
        "address": city.address,
        "contact_phone": city.phone,
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


# The opening demo ----------------------------------------------------------------------------------


def _publish_opening_demo_tender(tenderer: Organisation, agency: Organisation) -> Tender:
    """开标演示: a one-lot open tender on its own project, hosted by the agency, running
    OPENING_ACCELERATOR times faster, its deadline OPENING_SLACK after the accelerated minimum."""
    tenderer_actor, agency_actor = _actor("tenderer"), _actor("agency")
    bid_deadline = periods.earliest_bid_deadline(timezone.now(), OPENING_ACCELERATOR) + OPENING_SLACK
    project = Project.objects.filter(code=OPENING_PROJECT_CODE).first() or tendering_services.project_create(
        by=tenderer_actor,
        tenderer=tenderer,
        code=OPENING_PROJECT_CODE,
        name="松山湖创新路排水管网改造工程",
        location="东莞市松山湖高新技术产业开发区",
        approval_number="东发改〔2026〕96号",
        investment_fen=4_200_000_000,
        funding_source="财政资金",
        agency=agency,
    )
    if project.agency_id != agency.pk:
        project = tendering_services.project_mandate(by=tenderer_actor, project=project, agency=agency)
    tender = tendering_services.tender_create(
        by=agency_actor,
        project=project,
        title="松山湖创新路排水管网改造工程施工（开标演示）",
        agency=agency,
        announcement="本项目为沙箱开标演示，法定期限按加速倍数缩短，截标后即可体验在线开标。",
        bidder_requirements="具备市政公用工程施工总承包三级及以上资质。",
        bid_deadline=bid_deadline,
        documents_offer_end=bid_deadline,
        accelerator=OPENING_ACCELERATOR,
        evaluation_scheme=scheme.default_scheme(),
        lots=[{"name": "排水管网及路面恢复工程", "description": "创新路全线雨污分流改造", "maximum_price_fen": OPENING_MAXIMUM_PRICE_FEN}],
    )
    tendering_services.tender_document_upload(
        by=agency_actor,
        tender=tender,
        title="招标文件",
        uploaded_file=ContentFile(
            "松山湖创新路排水管网改造工程施工招标文件（开标演示）\n评标办法：综合评估法\n".encode(), name="招标文件.txt"
        ),
    )
    tendering_services.tender_submit(by=agency_actor, tender=tender)
    tendering_services.tender_approve(by=_actor("centre"), tender=tender)
    tendering_services.tender_publish(by=agency_actor, tender=tender)
    tender.refresh_from_db()
    return tender


def _read_key_file(path: Path) -> keyfile.PrivateKeys | None:
    """The keys of a demo key file left by an earlier seed, or None if there is none that opens."""
    try:
        return keyfile.unlock(path.read_bytes(), DEMO_PASSWORD)
    except (OSError, keyfile.KeyFileError):
        return None


def _register(username: str, keys: keyfile.PrivateKeys) -> None:
    """Registers the public keys; keys in force are rotated (revoked, pointing to these)."""
    bidding_services.bidder_key_register(
        by=_actor(username),
        decryption_jwk=keyfile.public_jwk(keys.decryption.public_key()),
        signing_jwk=keyfile.public_jwk(keys.signing.public_key()),
    )


def _demo_keys(username: str, files: StagedFiles) -> keyfile.PrivateKeys:
    """The demo bidder's keys, registered and in its key file in the data folder.

    The key file of an earlier seed is reused when its keys are the ones in force, or were never
    registered (a fresh database next to an old data folder). Otherwise (no file, or keys in force
    that are not the file's) new keys are created and registered, rotating the old ones."""
    organisation = User.objects.get(username=username).organisation
    path = key_file_path(username)
    existing = _read_key_file(path)
    if existing is not None:
        fingerprints = existing.public.fingerprints
        ours = {KeyPurpose.DECRYPTION: fingerprints.decryption, KeyPurpose.SIGNING: fingerprints.signing}
        active = BidderKey.objects.filter(organisation=organisation, status=KeyStatus.ACTIVE)
        in_force = dict(active.values_list("purpose", "fingerprint"))
        if in_force == ours:
            return existing
        if not BidderKey.objects.filter(fingerprint__in=ours.values()).exists():
            _register(username, existing)
            return existing
    data = keyfile.generate(DEMO_PASSWORD, label=f"{organisation.name}（沙箱演示密钥）", iterations=DEMO_KEY_ITERATIONS)
    keys = keyfile.unlock(data, DEMO_PASSWORD)
    _register(username, keys)
    files.write_key_file(path, data)
    return keys


def _demo_package(spec: DemoBid, lot: Lot, organisation: Organisation) -> bytes:
    """A small bid package (bidding.bidpack): two short documents and the opening summary."""
    words = to_capital(spec.price_fen)
    documents = {
        "技术标/施工组织设计.txt": (
            f"{organisation.name}\n{lot.tender.title}\n施工组织设计（沙箱演示）\n"
            f"工期：{spec.duration_days}日历天\n质量：{spec.quality}\n项目经理：{spec.project_manager}\n"
        ),
        "商务标/投标报价.txt": (
            f"{organisation.name}\n投标报价（小写）：{spec.price_fen // 100}.{spec.price_fen % 100:02d} 元\n"
            f"投标报价（大写）：{words}\n"
        ),
    }
    summary = {
        "tender": str(lot.tender_id),
        "lot": str(lot.pk),
        "bidder": organisation.credit_code,
        "price_fen": spec.price_fen,
        "price_capital": words,
        "duration_days": spec.duration_days,
        "quality": spec.quality,
        "project_manager": {"name": spec.project_manager, "certificate": spec.certificate},
    }
    with tempfile.TemporaryDirectory(prefix="seed-demo-bid-") as folder:
        for name, text in documents.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        out = io.BytesIO()
        bidpack.pack(Path(folder), summary, out)
    return out.getvalue()


def _submit_demo_bid(spec: DemoBid, lot: Lot, keys: keyfile.PrivateKeys, files: StagedFiles) -> Bid:
    """The bidder obtains the documents, seals its package to its own keys (bound to tender, lot
    and bidder) and submits it through the resumable upload, as the bid tool would."""
    by = _actor(spec.username)
    organisation = by.user.organisation
    tendering_services.bidder_register(by=by, tender=lot.tender)
    binding = sealed_header.Binding(tender=str(lot.tender_id), lot=str(lot.pk), bidder=str(organisation.pk))
    out = io.BytesIO()
    sealing.seal(
        io.BytesIO(_demo_package(spec, lot, organisation)), out,
        recipient_public_key=keys.decryption.public_key(), signing_private_key=keys.signing, binding=binding,
    )
    sealed = out.getvalue()
    head = io.BytesIO(sealed)
    sealing.read_header(head)  # leaves the stream after the header's signature
    upload, _ = bidding_services.bid_upload_create(
        by=by, lot=lot, size=len(sealed), header_prefix=sealed[: head.tell()], user_agent="manage.py seed_demo"
    )
    try:
        for start in range(0, len(sealed), upload.chunk_size):
            chunk = sealed[start : start + upload.chunk_size]
            bidding_services.bid_upload_put_chunk(
                by=by, upload=upload, content_range=f"bytes {start}-{start + len(chunk) - 1}/{len(sealed)}",
                body=io.BytesIO(chunk), declared_length=len(chunk),
            )
        bid, _ = bidding_services.bid_upload_finalise(by=by, upload=upload)
    except BaseException:
        # The chunks stored so far go with the rollback too (best effort: the database may be
        # what failed).
        try:
            chunks = UploadChunk.objects.filter(upload=upload)
            files.storage_names += list(chunks.values_list("storage_name", flat=True))
        except DatabaseError:
            pass
        raise
    files.storage_names.append(bid.storage_name)
    return bid
