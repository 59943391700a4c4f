"""The permission registry is the one authorisation layer: every rule name the code asks for
exists, nothing goes around it, and its building blocks behave."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from accounts import permissions
from accounts.permissions import acting_member, can, registered_rules, require, rule
from tests.accounts.conftest import make_org, make_user

APPS = ["accounts", "audit", "tendering", "bidding", "opening", "evaluation", "crossregion", "config"]
# require(user, "app.action", ...) / can(user, "app.action") / {% can "app.action" %}, across lines.
RULE_USE = re.compile(r"\b(?:require|can)\(\s*[^,()]+,\s*[\"']([a-z_]+\.[a-z_]+)[\"']", re.S)
TEMPLATE_RULE_USE = re.compile(r"\bcan[ _:]+[\"']([a-z_]+\.[a-z_]+)[\"']")


def _sources(suffixes):
    for app in APPS + ["templates"]:
        for path in (Path(settings.BASE_DIR) / app).rglob("*"):
            if path.suffix in suffixes and "migrations" not in path.parts:
                yield path


def test_every_rule_name_used_in_code_or_templates_is_registered():
    used = {}
    for path in _sources({".py"}):
        for name in RULE_USE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(name, path)
    for path in _sources({".html"}):
        for name in TEMPLATE_RULE_USE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(name, path)
    assert used, "the scan found no rule uses at all; the pattern is broken"
    missing = {name: str(path) for name, path in used.items() if name not in registered_rules()}
    assert not missing


def test_no_second_authorisation_layer():
    """Django's model permissions and staff flags are not how this platform decides who may act."""
    other_layer = re.compile(r"\.has_perm\(|permission_required|user_passes_test|\.is_staff\b")
    offenders = [str(p) for p in _sources({".py"}) if "admin.py" != p.name and other_layer.search(p.read_text(encoding="utf-8"))]
    assert not offenders


def test_rule_names_are_app_dot_action():
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", name) for name in registered_rules())
    assert "accounts.review_organisation" in registered_rules()


def test_asking_for_an_unknown_rule_is_a_programming_error():
    with pytest.raises(RuntimeError):
        can(AnonymousUser(), "accounts.no_such_rule")


def test_a_rule_cannot_be_registered_twice():
    with pytest.raises(RuntimeError):
        rule("accounts.review_organisation")(lambda user, obj: True)


@pytest.mark.django_db
def test_anonymous_and_inactive_users_pass_only_public_rules():
    assert not can(AnonymousUser(), "accounts.manage_tokens")
    assert not can(None, "accounts.view_organisation")
    assert can(AnonymousUser(), "accounts.register_organisation")
    staff = make_user("centre", make_org("centre"))
    assert can(staff, "accounts.review_organisation")
    staff.is_active = False
    assert not can(staff, "accounts.review_organisation")
    with pytest.raises(permissions.PermissionDenied):
        require(staff, "accounts.review_organisation")


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "acts"), [("draft", False), ("pending", False), ("rejected", False), ("approved", True), ("suspended", False)])
def test_only_members_of_a_verified_unsuspended_organisation_act(status, acts):
    member = make_user("bidder", make_org("bidder", status=status))
    assert acting_member(member, "bidder") is acts
    assert not acting_member(member, "tenderer")  # and only in their own role


@pytest.mark.django_db
def test_experts_belong_to_no_organisation_and_never_act_as_one():
    expert = make_user("expert", None)
    assert not acting_member(expert, "expert")
