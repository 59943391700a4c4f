"""The first centre of a platform: `centre_bootstrap` and `manage.py create_centre`."""

import json

import pytest
from django.core.management import CommandError, call_command

from accounts import credit_code, services
from accounts.models import Organisation, OrganisationStatus, User
from audit.actor import Actor
from audit.models import AuditEvent
from audit.selectors import verify_chain
from config.errors import DomainError
from tests.accounts.conftest import actor, make_org, make_user

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("create_centre")
CODE = credit_code.complete("12441900MB0000001")
CENTRE = {"name": "东莞市公共资源交易中心", "credit_code": CODE, "username": "chen", "password": "Strong-pass-2026"}


def bootstrap(by=SYSTEM, **changes):
    return services.centre_bootstrap(by=by, **(CENTRE | changes))


def nothing_was_created():
    return not Organisation.objects.exists() and not User.objects.exists() and not AuditEvent.objects.exists()


def test_the_first_centre_is_verified_with_its_administrator_and_every_step_is_audited():
    centre = bootstrap(legal_representative="陈交易", display_name="陈交易")
    admin = User.objects.get(username="chen")
    assert centre.kind == "centre" and centre.status == OrganisationStatus.APPROVED and centre.can_act
    assert centre.submitted_at and centre.reviewed_at and centre.legal_representative == "陈交易"
    assert admin.organisation == centre and admin.role == "centre" and admin.is_org_admin and admin.check_password("Strong-pass-2026")
    assert not admin.is_superuser and not admin.is_staff
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.action for e in events] == ["organisation.register", "organisation.submit", "organisation.approve"]
    assert {e.actor_name for e in events} == {"create_centre"} and {e.role for e in events} == {"system"}
    assert json.loads(events[-1].body)["payload"] == {"from": "pending", "to": "approved", "bootstrap": True}
    assert verify_chain().ok


def test_its_administrator_then_verifies_other_organisations_and_adds_experts():
    bootstrap()
    admin = User.objects.get(username="chen")
    bidder = make_org("bidder", status="pending")
    services.organisation_approve(by=actor(admin), organisation=bidder)
    assert Organisation.objects.get(pk=bidder.pk).status == OrganisationStatus.APPROVED
    expert = services.user_create(by=actor(admin), organisation=None, username="wang", password="Strong-pass-2026", role="expert")
    assert expert.role == "expert"


@pytest.mark.parametrize("status", ["approved", "pending", "draft"])
def test_refused_once_any_centre_exists_and_nothing_changes(status):
    existing = make_org("centre", status=status, name="已有交易中心")
    with pytest.raises(DomainError) as refused:
        bootstrap()
    assert refused.value.code == "centre_exists" and "已有交易中心" in str(refused.value)
    assert list(Organisation.objects.all()) == [existing] and not User.objects.exists() and not AuditEvent.objects.exists()


def test_a_second_bootstrap_is_refused():
    bootstrap()
    with pytest.raises(DomainError):
        bootstrap(name="另一个交易中心", credit_code=credit_code.complete("12441900MB0000009"), username="li")
    assert Organisation.objects.count() == 1 and User.objects.count() == 1 and AuditEvent.objects.count() == 3


def test_only_the_platform_itself_bootstraps():
    staff = make_user("regulator", make_org("regulator"))
    for by in (actor(staff), Actor(user_id=None, name="", role="", organisation_id=None, ip="198.51.100.7")):
        with pytest.raises(DomainError):
            bootstrap(by=by)
    assert not Organisation.objects.filter(kind="centre").exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"credit_code": "12441900MB00000010"}, "credit_code"), ({"password": "123"}, "password"), ({"username": " "}, "username_required"), ({"name": ""}, "name_required")],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_is_created(changes, code):
    with pytest.raises(DomainError) as refused:
        bootstrap(**changes)
    assert refused.value.code == code
    assert nothing_was_created()


# manage.py create_centre ------------------------------------------------------------------------

def test_command_without_prompts_takes_the_password_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("PLATFORM_CENTRE_PASSWORD", "Strong-pass-2026")
    call_command("create_centre", "--noinput", "--name", CENTRE["name"], "--credit-code", CODE, "--username", "chen", "--display-name", "陈交易")
    assert "verified" in capsys.readouterr().out
    admin = User.objects.get(username="chen")
    assert admin.display_name == "陈交易" and admin.organisation.status == OrganisationStatus.APPROVED


def test_command_asks_for_what_is_missing(monkeypatch):
    monkeypatch.delenv("PLATFORM_CENTRE_PASSWORD", raising=False)
    answers = iter([CENTRE["name"], CODE, "chen", "陈交易", "", "", "", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Strong-pass-2026")
    call_command("create_centre")
    assert Organisation.objects.get().legal_representative == "陈交易"


def test_command_refuses_mismatched_passwords(monkeypatch):
    monkeypatch.delenv("PLATFORM_CENTRE_PASSWORD", raising=False)
    typed = iter(["Strong-pass-2026", "Strong-pass-2027"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    with pytest.raises(CommandError, match="differ"):
        call_command("create_centre", "--name", CENTRE["name"], "--credit-code", CODE, "--username", "chen", "--legal-representative", "x",
                     "--address", "x", "--contact-phone", "x", "--display-name", "x", "--email", "a@example.com")
    assert nothing_was_created()


def test_command_without_prompts_needs_every_required_field_and_the_password(monkeypatch):
    monkeypatch.delenv("PLATFORM_CENTRE_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="PLATFORM_CENTRE_PASSWORD"):
        call_command("create_centre", "--noinput", "--name", CENTRE["name"], "--credit-code", CODE, "--username", "chen")
    with pytest.raises(CommandError, match="--username"):
        call_command("create_centre", "--noinput", "--name", CENTRE["name"], "--credit-code", CODE)
    assert nothing_was_created()


def test_command_reports_a_refusal_as_an_error(monkeypatch):
    monkeypatch.setenv("PLATFORM_CENTRE_PASSWORD", "Strong-pass-2026")
    make_org("centre", name="已有交易中心")
    with pytest.raises(CommandError, match="已有交易中心"):
        call_command("create_centre", "--noinput", "--name", CENTRE["name"], "--credit-code", CODE, "--username", "chen")


def test_command_help_warns_against_createsuperuser():
    from accounts.management.commands.create_centre import Command

    assert "createsuperuser" in Command.help and "audit trail" in Command.help
