"""Who did something, from where: passed explicitly to every service that writes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    role: str
    organisation_id: int | None
    ip: str | None
    user: object | None = None  # the user object itself, for permission checks; not recorded

    @classmethod
    def from_user(cls, user, ip: str | None = None) -> Actor:
        return cls(
            user_id=user.pk,
            name=user.get_username(),
            role=getattr(user, "role", "") or ("superuser" if user.is_superuser else ""),
            organisation_id=getattr(user, "organisation_id", None),
            ip=ip,
            user=user,
        )

    @classmethod
    def from_request(cls, request) -> Actor:
        return cls.from_user(request.user, ip=client_ip(request.META))

    @classmethod
    def system(cls, name: str) -> Actor:
        """The platform itself (the chronograph, a background job)."""
        return cls(user_id=None, name=name, role="system", organisation_id=None, ip=None)


def client_ip(meta) -> str | None:
    # Behind the reverse proxy (docs/operations.md) REMOTE_ADDR is set from X-Forwarded-For by the
    # proxy itself; we never trust a client-supplied header here.
    return meta.get("REMOTE_ADDR") or None
