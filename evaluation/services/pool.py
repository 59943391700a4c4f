"""The expert pool (专家库): centre staff add, edit, import and deactivate experts, record their
declared conflicts (P12) and the periods they cannot serve, and give them a sign-in account.

Every write checks `evaluation.manage_pool` and records its audit event in the same transaction.
The pool's names are the centre's: the drawing refers to experts by `public_id` only (R46)."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts import credit_code
from accounts.models import Role, User, credit_code_problem
from accounts.permissions import require
from audit.actor import Actor
from audit.services import record_event
from config.errors import DomainError
from evaluation.models import Expert, ExpertConflict, ExpertUnavailability
from evaluation.specialties import SPECIALTIES, is_specialty

MAX_YEARS = 70
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000

# The fields an expert's record holds, with their limits (model max_length).
EXPERT_FIELDS = ("name", "certificate_number", "specialties", "title", "years_of_practice", "employer_name",
                 "employer_credit_code", "phone")
_LIMITS = {"name": 100, "certificate_number": 40, "title": 100, "employer_name": 200, "phone": 40}


def _authorise(by: Actor) -> None:
    require(by.user, "evaluation.manage_pool")


# Checking one expert's data (forms, the CSV import and the services share these) --------------

def split_codes(value) -> list[str]:
    """'A03; A08；a04' or ['A03', 'A08'] → ['A03', 'A08', 'A04'] (semicolons, either width)."""
    if isinstance(value, str):
        value = value.replace("；", ";").split(";")
    return [str(item).strip().upper() for item in value if str(item).strip()]


def clean_specialties(value) -> list[str]:
    codes = split_codes(value)
    if not codes:
        raise DomainError(_("请至少填写一个专业。"), code="specialties_required")
    unknown = [code for code in codes if not is_specialty(code)]
    if unknown:
        raise DomainError(_("专业代码“%(codes)s”不在专业分类中（可用：%(known)s）。") % {
            "codes": "、".join(unknown), "known": "、".join(SPECIALTIES)}, code="specialty_unknown")
    return sorted(set(codes))


def clean_credit_code(value: str, *, label: str) -> str:
    """A unified social credit code, normalised; '' stays ''."""
    value = credit_code.normalise(value)
    if not value:
        return ""
    try:
        return credit_code.validate(value)
    except credit_code.CreditCodeError as exc:
        raise DomainError(_("%(label)s“%(code)s”无效：%(reason)s") % {
            "label": label, "code": value, "reason": credit_code_problem(exc)}, code="credit_code") from exc


def clean_expert_data(data: dict) -> dict:
    """The expert's fields, stripped, checked and normalised; a DomainError names the first problem."""
    cleaned = {}
    for name, limit in _LIMITS.items():
        value = str(data.get(name) or "").strip()
        if len(value) > limit:
            raise DomainError(_("“%(field)s”最多 %(limit)s 个字符。") % {"field": _field_label(name), "limit": limit}, code="too_long")
        cleaned[name] = value
    if not cleaned["name"]:
        raise DomainError(_("请填写专家姓名。"), code="name_required")
    if not cleaned["certificate_number"]:
        raise DomainError(_("请填写专家证书编号。"), code="certificate_required")
    cleaned["specialties"] = clean_specialties(data.get("specialties") or [])
    years = data.get("years_of_practice")
    if years in (None, ""):
        years = 0
    try:
        years = int(str(years).strip())
    except ValueError:
        raise DomainError(_("从业年限应为整数。"), code="years") from None
    if not 0 <= years <= MAX_YEARS:
        raise DomainError(_("从业年限应在 0 至 %(max)s 年之间。") % {"max": MAX_YEARS}, code="years")
    cleaned["years_of_practice"] = years
    cleaned["employer_credit_code"] = clean_credit_code(data.get("employer_credit_code") or "", label=_("工作单位统一社会信用代码"))
    return cleaned


def _field_label(name: str) -> str:
    return str(Expert._meta.get_field(name).verbose_name)


def _check_certificate_free(number: str, *, except_pk: int | None = None) -> None:
    taken = Expert.objects.filter(certificate_number=number)
    if except_pk is not None:
        taken = taken.exclude(pk=except_pk)
    if taken.exists():
        raise DomainError(_("专家证书编号“%(number)s”已在专家库中。") % {"number": number}, code="duplicate_certificate")


def _audit_fields(expert: Expert) -> dict:
    return {
        "public_id": str(expert.public_id), "certificate_number": expert.certificate_number, "name": expert.name,
        "specialties": list(expert.specialties), "title": expert.title, "years_of_practice": expert.years_of_practice,
        "employer_name": expert.employer_name, "employer_credit_code": expert.employer_credit_code, "active": expert.active,
    }


# Experts -----------------------------------------------------------------------------------------

@transaction.atomic
def expert_create(*, by: Actor, data: dict, conflicts: list[str] | tuple = (), username: str = "",
                  link_user: User | None = None) -> tuple[Expert, str | None]:
    """Add an expert. `conflicts`: credit codes of organisations they declare a conflict with.
    With `username`, a sign-in account (role expert) is created and its one-time password returned
    (shown once, never stored in clear); with `link_user`, an existing expert account is linked."""
    _authorise(by)
    cleaned = clean_expert_data(data)
    _check_certificate_free(cleaned["certificate_number"])
    codes = [clean_credit_code(code, label=_("回避单位统一社会信用代码")) for code in split_codes(conflicts)]
    if username and link_user is not None:
        raise DomainError(_("新建账号和关联已有账号只能选一种。"), code="account_choice")
    expert = Expert.objects.create(**cleaned)
    for code in dict.fromkeys(codes):
        ExpertConflict.objects.create(expert=expert, organisation_credit_code=code)
    record_event(by=by, action="evaluation.expert_create", obj=expert, payload={**_audit_fields(expert), "conflicts": sorted(set(codes))})
    password = None
    if username:
        password = _create_account(by=by, expert=expert, username=username)
    elif link_user is not None:
        _link(by=by, expert=expert, user=link_user)
    return expert, password


@transaction.atomic
def expert_update(*, by: Actor, expert: Expert, data: dict) -> Expert:
    _authorise(by)
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    cleaned = clean_expert_data(data)
    _check_certificate_free(cleaned["certificate_number"], except_pk=expert.pk)
    before = _audit_fields(expert)
    for name, value in cleaned.items():
        setattr(expert, name, value)
    expert.save()
    after = _audit_fields(expert)
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    record_event(by=by, action="evaluation.expert_update", obj=expert, payload={"public_id": str(expert.public_id), "changed": changed})
    return expert


@transaction.atomic
def expert_set_active(*, by: Actor, expert: Expert, active: bool) -> Expert:
    """Take an expert out of the pool (出库) or back in. A deactivated expert is never drawn again;
    seats they already hold are not touched (a decline or recusal replaces them)."""
    _authorise(by)
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.active != active:
        expert.active = active
        expert.save(update_fields=["active", "updated_at"])
        record_event(by=by, action="evaluation.expert_activate" if active else "evaluation.expert_deactivate", obj=expert,
                     payload={"public_id": str(expert.public_id)})
    return expert


def _create_account(*, by: Actor, expert: Expert, username: str) -> str:
    from accounts.services import user_create

    if expert.user_id:
        raise DomainError(_("该专家已有登录账号。"), code="has_account")
    password = new_password()
    user = user_create(by=by, organisation=None, username=username, password=password, role=Role.EXPERT, display_name=expert.name)
    expert.user = user
    expert.save(update_fields=["user", "updated_at"])
    record_event(by=by, action="evaluation.expert_account", obj=expert, payload={"public_id": str(expert.public_id), "user": user.pk, "created": True})
    return password


def _link(*, by: Actor, expert: Expert, user: User) -> None:
    if expert.user_id:
        raise DomainError(_("该专家已有登录账号。"), code="has_account")
    if user.role != Role.EXPERT or user.organisation_id is not None:
        raise DomainError(_("只能关联角色为“评标专家”的账号。"), code="not_expert_user")
    if Expert.objects.filter(user=user).exists():
        raise DomainError(_("该账号已关联其他专家。"), code="user_taken")
    expert.user = user
    try:
        with transaction.atomic():
            expert.save(update_fields=["user", "updated_at"])
    except IntegrityError:
        raise DomainError(_("该账号已关联其他专家。"), code="user_taken") from None
    record_event(by=by, action="evaluation.expert_account", obj=expert, payload={"public_id": str(expert.public_id), "user": user.pk, "created": False})


def new_password() -> str:
    """A one-time password for a new expert account: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


@transaction.atomic
def expert_account_create(*, by: Actor, expert: Expert, username: str) -> str:
    """A sign-in account for an expert who has none; returns its one-time password (shown once)."""
    _authorise(by)
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    return _create_account(by=by, expert=expert, username=username)


@transaction.atomic
def expert_account_link(*, by: Actor, expert: Expert, user: User) -> Expert:
    _authorise(by)
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    _link(by=by, expert=expert, user=user)
    return expert


# Declared conflicts and unavailability -------------------------------------------------------

@transaction.atomic
def conflict_add(*, by: Actor, expert: Expert, organisation_credit_code: str, organisation_name: str = "", reason: str = "") -> ExpertConflict:
    """A conflict of interest the expert declares (P12): they are never drawn for a tender where that
    organisation is a bidder, the tenderer or the agency."""
    _authorise(by)
    code = clean_credit_code(organisation_credit_code, label=_("回避单位统一社会信用代码"))
    if not code:
        raise DomainError(_("请填写回避单位的统一社会信用代码。"), code="credit_code_required")
    if expert.conflicts.filter(organisation_credit_code=code).exists():
        raise DomainError(_("已申报过对该单位的回避。"), code="duplicate_conflict")
    conflict = ExpertConflict.objects.create(expert=expert, organisation_credit_code=code,
                                             organisation_name=(organisation_name or "").strip()[:200], reason=(reason or "").strip()[:300])
    record_event(by=by, action="evaluation.expert_conflict_add", obj=expert,
                 payload={"public_id": str(expert.public_id), "organisation": code, "reason": conflict.reason})
    return conflict


@transaction.atomic
def conflict_remove(*, by: Actor, conflict: ExpertConflict) -> None:
    _authorise(by)
    expert = conflict.expert
    code = conflict.organisation_credit_code
    conflict.delete()
    record_event(by=by, action="evaluation.expert_conflict_remove", obj=expert, payload={"public_id": str(expert.public_id), "organisation": code})


@transaction.atomic
def unavailability_add(*, by: Actor, expert: Expert, starts_at: datetime, ends_at: datetime, reason: str = "") -> ExpertUnavailability:
    _authorise(by)
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise DomainError(_("结束时间应晚于开始时间。"), code="period")
    period = ExpertUnavailability.objects.create(expert=expert, starts_at=starts_at, ends_at=ends_at, reason=(reason or "").strip()[:200])
    record_event(by=by, action="evaluation.expert_unavailable_add", obj=expert,
                 payload={"public_id": str(expert.public_id), "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "reason": period.reason})
    return period


@transaction.atomic
def unavailability_remove(*, by: Actor, period: ExpertUnavailability) -> None:
    _authorise(by)
    expert = period.expert
    payload = {"public_id": str(expert.public_id), "starts_at": period.starts_at.isoformat(), "ends_at": period.ends_at.isoformat()}
    period.delete()
    record_event(by=by, action="evaluation.expert_unavailable_remove", obj=expert, payload=payload)


# CSV import ------------------------------------------------------------------------------------

# Column headers (Chinese as centres write them, English accepted too) → field.
CSV_COLUMNS = {
    "姓名": "name", "name": "name",
    "证书编号": "certificate_number", "专家证书编号": "certificate_number", "certificate_number": "certificate_number",
    "专业": "specialties", "specialties": "specialties",
    "职称": "title", "title": "title",
    "从业年限": "years_of_practice", "years_of_practice": "years_of_practice",
    "工作单位": "employer_name", "employer_name": "employer_name",
    "工作单位信用代码": "employer_credit_code", "工作单位统一社会信用代码": "employer_credit_code", "employer_credit_code": "employer_credit_code",
    "电话": "phone", "联系电话": "phone", "phone": "phone",
    "回避单位信用代码": "conflicts", "回避单位": "conflicts", "conflicts": "conflicts",
}
REQUIRED_COLUMNS = ("name", "certificate_number", "specialties")


@dataclass
class RowProblem:
    line: int
    message: str


class ImportRefused(DomainError):
    """The file has bad rows; nothing was imported. `problems` lists each by line number."""

    code = "import_refused"

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__(_("导入文件有 %(count)s 处错误，未导入任何专家。") % {"count": len(problems)})


@dataclass
class ImportResult:
    created: list[Expert] = field(default_factory=list)
    sha256: str = ""


def _parse_csv(content: bytes) -> tuple[list[tuple[int, dict, list[str]]], list[RowProblem]]:
    """Rows as (line number, {field: text}, conflict codes) and the problems of the file as a whole."""
    if len(content) > MAX_IMPORT_BYTES:
        return [], [RowProblem(0, _("文件过大（最大 %(size)s MiB）。") % {"size": MAX_IMPORT_BYTES // (1024 * 1024)})]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        return [], [RowProblem(line, _("文件不是 UTF-8 编码（请在表格软件中另存为“CSV UTF-8”）。"))]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowProblem(1, _("文件是空的，第一行应为列名。"))]
    except csv.Error as exc:
        return [], [RowProblem(1, _("CSV 格式错误：%(error)s") % {"error": exc})]
    columns = []
    unknown = []
    for title in header:
        key = CSV_COLUMNS.get(title.strip()) or CSV_COLUMNS.get(title.strip().lower())
        columns.append(key)
        if key is None and title.strip():
            unknown.append(title.strip())
    problems = []
    if unknown:
        problems.append(RowProblem(1, _("无法识别的列名：%(columns)s。") % {"columns": "、".join(unknown)}))
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        names = {"name": "姓名", "certificate_number": "证书编号", "specialties": "专业"}
        problems.append(RowProblem(1, _("缺少必需的列：%(columns)s。") % {"columns": "、".join(names[m] for m in missing)}))
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicated:
        problems.append(RowProblem(1, _("列名重复：%(columns)s。") % {"columns": "、".join(duplicated)}))
    if problems:
        return [], problems
    rows = []
    line = reader.line_num
    try:
        for values in reader:
            start, line = line + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue  # blank lines are allowed (spreadsheets leave them)
            if len(rows) >= MAX_IMPORT_ROWS:
                problems.append(RowProblem(start, _("行数超过上限（%(max)s 行）。") % {"max": MAX_IMPORT_ROWS}))
                break
            if len(values) > len(columns):
                problems.append(RowProblem(start, _("列数（%(got)s）多于表头（%(expected)s）。") % {"got": len(values), "expected": len(columns)}))
                continue
            data = {key: value for key, value in zip(columns, values) if key}
            rows.append((start, data))
    except csv.Error as exc:
        problems.append(RowProblem(line + 1, _("CSV 格式错误：%(error)s") % {"error": exc}))
    return rows, problems


@transaction.atomic
def experts_import_csv(*, by: Actor, content: bytes, filename: str = "") -> ImportResult:
    """Import experts from a CSV file (UTF-8, optional BOM, header row; columns in CSV_COLUMNS;
    specialties and conflicts separated by semicolons). All or nothing: if any row is bad, or a
    certificate number repeats within the file or is already in the pool, ImportRefused lists every
    problem by line number and nothing is imported."""
    _authorise(by)
    rows, problems = _parse_csv(content)
    if not problems and not rows:
        problems.append(RowProblem(2, _("文件中没有专家数据。")))
    prepared = []
    first_line: dict[str, int] = {}
    for line, data in rows:
        try:
            cleaned = clean_expert_data(data)
            conflicts = [clean_credit_code(code, label=_("回避单位统一社会信用代码")) for code in split_codes(data.get("conflicts", ""))]
        except DomainError as exc:
            problems.append(RowProblem(line, str(exc.message)))
            continue
        number = cleaned["certificate_number"]
        if number in first_line:
            problems.append(RowProblem(line, _("证书编号“%(number)s”与第 %(first)s 行重复。") % {"number": number, "first": first_line[number]}))
            continue
        first_line[number] = line
        prepared.append((line, cleaned, conflicts))
    existing = set(Expert.objects.filter(certificate_number__in=list(first_line)).values_list("certificate_number", flat=True))
    for line, cleaned, _conflicts in prepared:
        if cleaned["certificate_number"] in existing:
            problems.append(RowProblem(line, _("证书编号“%(number)s”已在专家库中。") % {"number": cleaned["certificate_number"]}))
    if problems:
        raise ImportRefused(sorted(problems, key=lambda p: p.line))
    result = ImportResult(sha256=hashlib.sha256(content).hexdigest())
    for _line, cleaned, conflicts in prepared:
        expert = Expert.objects.create(**cleaned)
        ExpertConflict.objects.bulk_create([ExpertConflict(expert=expert, organisation_credit_code=code) for code in dict.fromkeys(conflicts)])
        result.created.append(expert)
    record_event(by=by, action="evaluation.pool_import", payload={
        "file": filename[:200], "sha256": result.sha256, "count": len(result.created),
        "experts": [{"public_id": str(e.public_id), "certificate_number": e.certificate_number} for e in result.created],
    }, object_type="evaluation.expert", object_id="import")
    return result
