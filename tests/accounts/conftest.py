"""Organisations and users of every role, set up directly (the services under test are not)."""

import itertools

import pytest

from accounts import credit_code
from accounts.models import Organisation, User
from audit.actor import Actor

_serial = itertools.count(1)


def new_code(division: str = "441900") -> str:
    return credit_code.complete(f"91{division}{next(_serial):09d}")


def make_org(kind: str, *, status: str = "approved", name: str | None = None, **fields) -> Organisation:
    number = next(_serial)
    fields.setdefault("legal_representative", "张三")
    fields.setdefault("address", "东莞市南城街道")
    fields.setdefault("contact_phone", "0769-22000000")
    return Organisation.objects.create(
        kind=kind, status=status, name=name or f"{kind}单位{number}", credit_code=fields.pop("credit_code", None) or new_code(), **fields
    )


def make_user(role: str, organisation: Organisation | None, *, admin: bool = True, username: str | None = None) -> User:
    return User.objects.create_user(
        username=username or f"{role}{next(_serial)}", password="Pw-for-tests-2026", role=role,
        organisation=organisation, is_org_admin=admin,
    )


def actor(user, ip: str = "192.0.2.10") -> Actor:
    return Actor.from_user(user, ip=ip)


@pytest.fixture
def centre_user(db):
    return make_user("centre", make_org("centre", name="东莞市公共资源交易中心"))


@pytest.fixture
def centre(centre_user):
    return actor(centre_user)


@pytest.fixture
def users_by_role(db):
    """One user per role, each of a verified organisation (experts belong to none)."""
    users = {role: make_user(role, make_org(role)) for role in ("bidder", "tenderer", "agency", "centre", "regulator")}
    users["expert"] = make_user("expert", None, admin=False)
    return users


@pytest.fixture
def visitor():
    return Actor(user_id=None, name="", role="", organisation_id=None, ip="198.51.100.7", user=None)

