"""Who did something, from where: passed explicitly to every service that writes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings


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
    """The address of the client, as recorded with every audit event (E49).

    REMOTE_ADDR is the peer that connected to daphne. Only when that peer is one of our own
    reverse proxies (settings.PLATFORM_TRUSTED_PROXIES) do we look at X-Forwarded-For, and then
    from the right: each proxy appends the address it saw, so the rightmost entry that is not
    one of our proxies was written by our first proxy and is the real client. Entries to its
    left came from the client and may be forged. A client that connects directly cannot move
    its recorded address by sending the header at all.
    """
    remote = meta.get("REMOTE_ADDR") or None
    trusted = _trusted_networks(tuple(settings.PLATFORM_TRUSTED_PROXIES))
    if remote is None or not _is_trusted(remote, trusted):
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop if _parse(hop) is not None else remote
    # Every hop is one of our proxies (or there is no header): the leftmost is the furthest we know.
    return hops[0] if hops else remote


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple:
    # Single addresses or networks ("10.0.0.5", "10.0.0.0/24"); config/settings.py has checked them.
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(address: str):
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _is_trusted(address: str, networks) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in network for network in networks)
