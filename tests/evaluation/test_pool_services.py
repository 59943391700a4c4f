"""The expert pool's services: create/edit/deactivate, accounts, conflicts, and the CSV import
(bad rows by line number, all or nothing)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts import credit_code
from accounts.models import User
from audit.models import AuditEvent
from config.errors import DomainError
from evaluation.models import Expert, ExpertConflict
from evaluation.services import pool
from tests import factories
from tests.factories import actor, person

pytestmark = pytest.mark.django_db

CODE_A = credit_code.complete("91441900777000001")
CODE_B = credit_code.complete("91441900777000002")
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "expert-pool-sample.csv"


@pytest.fixture
def centre():
    return factories.centre_reviewer()


def data(**overrides):
    return {"name": "李工", "certificate_number": "GD-P-0001", "specialties": ["A08", "A05"], "title": "高级工程师",
            "years_of_practice": "12", "employer_name": "某设计院", "employer_credit_code": CODE_A, "phone": "13800000000", **overrides}


def test_create_with_account_and_conflicts(centre):
    expert, password = pool.expert_create(by=actor(centre), data=data(), conflicts=[CODE_B], username="li-expert")
    assert expert.specialties == ["A05", "A08"]
    assert expert.years_of_practice == 12
    assert list(expert.conflicts.values_list("organisation_credit_code", flat=True)) == [CODE_B]
    user = authenticate(username="li-expert", password=password)
    assert user is not None and user.role == "expert" and user.organisation is None and expert.user == user
    assert AuditEvent.objects.filter(action="evaluation.expert_create", object_id=str(expert.pk)).exists()


def test_link_existing_expert_user(centre):
    other = User.objects.create_user(username="old-expert", password="x" * 12, role="expert")
    expert, password = pool.expert_create(by=actor(centre), data=data(), link_user=other)
    assert password is None and expert.user == other
    with pytest.raises(DomainError, match="已关联"):
        pool.expert_create(by=actor(centre), data=data(certificate_number="GD-P-0002"), link_user=other)
    bidder = person("bidder")
    with pytest.raises(DomainError, match="评标专家"):
        pool.expert_create(by=actor(centre), data=data(certificate_number="GD-P-0003"), link_user=bidder)
    assert Expert.objects.count() == 1


@pytest.mark.parametrize("overrides, message", [
    ({"specialties": ["A99"]}, "A99"),
    ({"specialties": []}, "至少填写一个专业"),
    ({"name": " "}, "姓名"),
    ({"certificate_number": ""}, "证书编号"),
    ({"years_of_practice": "十"}, "整数"),
    ({"years_of_practice": "-1"}, "0 至"),
    ({"employer_credit_code": "91441900777000001X"}, "信用代码"),
])
def test_bad_expert_data_refused(centre, overrides, message):
    with pytest.raises(DomainError, match=message):
        pool.expert_create(by=actor(centre), data=data(**overrides))
    assert not Expert.objects.exists()


def test_duplicate_certificate_refused(centre):
    pool.expert_create(by=actor(centre), data=data())
    with pytest.raises(DomainError, match="已在专家库中"):
        pool.expert_create(by=actor(centre), data=data(name="另一人"))


@pytest.mark.parametrize("kind", ["bidder", "tenderer", "agency", "regulator"])
def test_only_centre_staff_manage_the_pool(centre, kind):
    someone = person(kind)
    with pytest.raises(PermissionDenied):
        pool.expert_create(by=actor(someone), data=data())
    expert, _ = pool.expert_create(by=actor(centre), data=data())
    with pytest.raises(PermissionDenied):
        pool.expert_set_active(by=actor(someone), expert=expert, active=False)
    with pytest.raises(PermissionDenied):
        pool.experts_import_csv(by=actor(someone), content=SAMPLE.read_bytes())


def test_update_deactivate_conflict_and_unavailability(centre):
    expert, _ = pool.expert_create(by=actor(centre), data=data())
    pool.expert_update(by=actor(centre), expert=expert, data=data(title="教授级高级工程师", specialties="A12;A08"))
    expert.refresh_from_db()
    assert expert.title == "教授级高级工程师" and expert.specialties == ["A08", "A12"]
    pool.expert_set_active(by=actor(centre), expert=expert, active=False)
    expert.refresh_from_db()
    assert not expert.active
    pool.conflict_add(by=actor(centre), expert=expert, organisation_credit_code=CODE_B.lower(), organisation_name="某公司", reason="曾任职")
    with pytest.raises(DomainError, match="已申报"):
        pool.conflict_add(by=actor(centre), expert=expert, organisation_credit_code=CODE_B)
    now = timezone.now()
    with pytest.raises(DomainError, match="晚于"):
        pool.unavailability_add(by=actor(centre), expert=expert, starts_at=now, ends_at=now)
    pool.unavailability_add(by=actor(centre), expert=expert, starts_at=now, ends_at=now + timedelta(days=2), reason="出差")
    assert expert.unavailability.count() == 1
    actions = set(AuditEvent.objects.filter(object_id=str(expert.pk)).values_list("action", flat=True))
    assert {"evaluation.expert_update", "evaluation.expert_deactivate", "evaluation.expert_conflict_add",
            "evaluation.expert_unavailable_add"} <= actions


# CSV import -------------------------------------------------------------------------------------

HEADER = "姓名,证书编号,专业,职称,从业年限,工作单位,工作单位信用代码,电话,回避单位信用代码\n"


def csv_bytes(*rows, bom=True):
    text = HEADER + "".join(row + "\n" for row in rows)
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def test_sample_file_imports(centre):
    result = pool.experts_import_csv(by=actor(centre), content=SAMPLE.read_bytes(), filename="expert-pool-sample.csv")
    assert len(result.created) >= 5
    assert Expert.objects.count() == len(result.created)
    assert all(expert.specialties for expert in Expert.objects.all())
    assert ExpertConflict.objects.exists()
    event = AuditEvent.objects.get(action="evaluation.pool_import")
    assert str(len(result.created)) in event.body and result.sha256 in event.body


def test_good_file_with_bom_semicolons_and_conflicts(centre):
    content = csv_bytes(
        f"王工,GD-1,A08;A05,高级工程师,15,某院,{CODE_A},139,{CODE_B}",
        f'"赵工",GD-2,"A04；A03",工程师,8,某所,,,"{CODE_A};{CODE_B}"',
    )
    result = pool.experts_import_csv(by=actor(centre), content=content)
    assert [e.certificate_number for e in result.created] == ["GD-1", "GD-2"]
    zhao = Expert.objects.get(certificate_number="GD-2")
    assert zhao.specialties == ["A03", "A04"] and zhao.conflicts.count() == 2


def test_bad_rows_reported_by_line_and_nothing_imported(centre):
    pool.expert_create(by=actor(centre), data=data(certificate_number="GD-OLD"))
    content = csv_bytes(
        f"王工,GD-1,A08,高级工程师,15,某院,{CODE_A},139,",  # line 2: good
        "赵工,GD-2,A99,工程师,8,某所,,,",  # line 3: unknown specialty
        "",  # line 4: blank, skipped
        "钱工,GD-1,A08,工程师,8,某所,,,",  # line 5: duplicate of line 2
        "孙工,GD-OLD,A08,工程师,8,某所,,,",  # line 6: already in the pool
        "李工,GD-5,A08,工程师,多年,某所,,,",  # line 7: years not an integer
        "周工,GD-6,A08,工程师,8,某所,123,,",  # line 8: bad credit code
    )
    with pytest.raises(pool.ImportRefused) as refused:
        pool.experts_import_csv(by=actor(centre), content=content)
    problems = {p.line: p.message for p in refused.value.problems}
    assert sorted(problems) == [3, 5, 6, 7, 8]
    assert "A99" in problems[3]
    assert "第 2 行重复" in problems[5]
    assert "已在专家库中" in problems[6]
    assert "整数" in problems[7]
    assert "信用代码" in problems[8]
    assert list(Expert.objects.values_list("certificate_number", flat=True)) == ["GD-OLD"]
    assert not AuditEvent.objects.filter(action="evaluation.pool_import").exists()


def test_quoted_multiline_field_keeps_line_numbers(centre):
    content = csv_bytes('王工,GD-1,A08,"高级\n工程师",15,某院,,,', "赵工,GD-2,,工程师,8,某所,,,")
    with pytest.raises(pool.ImportRefused) as refused:
        pool.experts_import_csv(by=actor(centre), content=content)
    assert [p.line for p in refused.value.problems] == [4]


@pytest.mark.parametrize("content, message", [
    (b"", "空"),
    ("姓名,专业\n王工,A08\n".encode(), "证书编号"),
    ("姓名,证书编号,专业,籍贯\n王工,1,A08,广东\n".encode(), "籍贯"),
    ("姓名,证书编号,专业\n王工,1,A08\n".encode("gbk"), "UTF-8"),
    (HEADER.encode(), "没有专家数据"),
])
def test_malformed_files_refused(centre, content, message):
    with pytest.raises(pool.ImportRefused) as refused:
        pool.experts_import_csv(by=actor(centre), content=content)
    assert any(message in p.message for p in refused.value.problems)
    assert not Expert.objects.exists()
