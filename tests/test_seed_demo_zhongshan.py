"""`manage.py seed_demo` on the Zhongshan platform (PLATFORM_REGION_CODE 442000): the partner city's
world — its centre, regulator and expert pool with sign-in accounts — and no tenders."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts import credit_code
from accounts.models import Organisation, User
from audit.models import AuditEvent
from audit.selectors import verify_chain
from bidding import keyfile
from tendering.management.commands import seed_demo
from tendering.management.commands.seed_demo import DEMO_PASSWORD
from tendering.models import Project, Tender


@pytest.fixture
def zhongshan(sandbox, tmp_path):
    sandbox.PLATFORM_REGION_CODE = "442000"
    sandbox.PLATFORM_REGION_NAME = "中山"
    sandbox.DATA_DIR = tmp_path / "data-zhongshan"
    return sandbox


def _seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _key_files(settings) -> dict[str, bytes]:
    folder = Path(settings.DATA_DIR) / "demo"
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())} if folder.exists() else {}


@pytest.mark.django_db
def test_zhongshan_world_is_its_centre_regulator_and_expert_pool_and_no_tender(zhongshan):
    from evaluation.models import Expert, ExpertKey

    output = _seed("--base-url", "http://127.0.0.1:8001")

    organisations = {org.kind: org for org in Organisation.objects.all()}
    assert set(organisations) == {"centre", "regulator"}
    assert organisations["centre"].name == "中山市公共资源交易中心"
    assert organisations["regulator"].name == "中山市住房和城乡建设局"
    assert {org.status for org in organisations.values()} == {"approved"}
    for org in organisations.values():
        # Zhongshan's administrative division in the credit code, and none of Dongguan's codes.
        assert credit_code.is_valid(org.credit_code) and org.credit_code[2:8] == "442000"
    dongguan_codes = {credit_code.complete(spec.credit_body) for spec in seed_demo.ORGANISATIONS}
    assert not dongguan_codes & set(Organisation.objects.values_list("credit_code", flat=True))
    assert User.objects.get(username="zs-centre").role == "centre"
    assert User.objects.get(username="zs-regulator").role == "regulator"
    assert not User.objects.filter(username__in=["centre", "regulator", "expert1", "bidder1"]).exists()

    # Zhongshan lends seats and experts: no project, no tender.
    assert not Tender.objects.exists() and not Project.objects.exists()

    experts = Expert.objects.select_related("user").order_by("certificate_number")
    with_accounts = [expert for expert in experts if expert.user is not None]
    assert [expert.user.username for expert in with_accounts] == [f"zs-expert{n}" for n in range(1, 6)]
    assert all("A08" in expert.specialties for expert in experts)
    for expert in with_accounts:
        assert expert.user.role == "expert" and expert.user.check_password(DEMO_PASSWORD)
        path = Path(zhongshan.DATA_DIR) / "demo" / f"{expert.user.username}-keys.json"
        keys = keyfile.unlock(path.read_bytes(), DEMO_PASSWORD)
        assert ExpertKey.objects.get(user=expert.user, revoked_at__isnull=True).fingerprint == keys.public.fingerprints.signing
    # The pool-only expert works for Dongguan's bidder3: the recusal Dongguan names excludes them.
    conflicted = experts.get(user__isnull=True)
    dongguan_bidder3 = next(spec for spec in seed_demo.ORGANISATIONS if spec.username == "bidder3")
    assert conflicted.employer_credit_code == credit_code.complete(dongguan_bidder3.credit_body)

    assert {"organisation.register", "organisation.approve", "user.create", "evaluation.expert_create"} <= set(
        AuditEvent.objects.values_list("action", flat=True))
    assert verify_chain().ok

    assert "中山 Zhongshan (442000)" in output and "http://127.0.0.1:8001/tenders/" in output
    for username in ("zs-centre", "zs-regulator", "zs-expert1", "zs-expert5"):
        assert username in output
    assert "http://127.0.0.1:8001/crossregion/" in output
    assert "zs-expert1..5-keys.json" in output and str(Path(zhongshan.DATA_DIR) / "demo") in output
    assert "开标 Opening demo" not in output and "bidder1" not in output


@pytest.mark.django_db
def test_zhongshan_seed_twice_changes_nothing(zhongshan):
    from evaluation.models import Expert, ExpertKey

    def world():
        return (sorted(Organisation.objects.values_list("name", "status", "credit_code")),
                sorted(User.objects.values_list("username", "role")),
                sorted(Expert.objects.values_list("certificate_number", "user__username")),
                sorted(ExpertKey.objects.values_list("fingerprint", "revoked_at")),
                AuditEvent.objects.count(), _key_files(zhongshan))

    first = _seed()
    before = world()
    assert len(before[-1]) == 5

    assert _seed() == first
    assert world() == before
    assert _seed("--show") == first


@pytest.mark.django_db
def test_a_region_without_a_demo_world_is_refused_and_nothing_is_created(sandbox):
    sandbox.PLATFORM_REGION_CODE = "440100"
    with pytest.raises(CommandError, match="no demo world for region 440100"):
        _seed()
    assert not Organisation.objects.exists() and not AuditEvent.objects.exists()
