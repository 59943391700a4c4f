"""The one permission layer: named rules, checked per role and per object.

Every page view, API endpoint and WebSocket message asks `can(user, "<app>.<action>", obj)`
(or `require`, which raises). Rules are registered by each app's `rules.py`, so all of an app's
access policy is readable in one file.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

Rule = Callable[[object, object], bool]
_RULES: dict[str, Rule] = {}


def rule(name: str):
    def register(fn: Rule) -> Rule:
        if name in _RULES:
            raise RuntimeError(f"permission rule {name!r} registered twice")
        _RULES[name] = fn
        return fn

    return register


def registered_rules() -> list[str]:
    return sorted(_RULES)


def can(user, action: str, obj=None) -> bool:
    try:
        check = _RULES[action]
    except KeyError:
        raise RuntimeError(f"no permission rule named {action!r}") from None
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return bool(check(None, obj)) if getattr(check, "allows_anonymous", False) else False
    return bool(check(user, obj))


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(_("您无权执行此操作。"))


def public(fn: Rule) -> Rule:
    """Mark a rule that anonymous visitors may pass (it receives user=None)."""
    fn.allows_anonymous = True
    return fn


# Building blocks for rules -------------------------------------------------------------------

def has_role(user, *roles: str) -> bool:
    return user is not None and user.role in roles


def acting_member(user, *roles: str) -> bool:
    """A user of one of `roles` whose organisation is verified and not suspended."""
    if not has_role(user, *roles):
        return False
    organisation = user.organisation
    return organisation is not None and organisation.can_act


def is_centre_staff(user) -> bool:
    return acting_member(user, "centre")


def is_regulator(user) -> bool:
    return acting_member(user, "regulator")
