"""Which URLs an away expert signed in through federation may use at the host (pure; no Django).

A federated user is confined to ONE lot's evaluation: its room (page and WebSocket), its report
(page, PDF, the chair's draft, the member's signature and dissent) and its clarifications panel —
what a home expert does in that evaluation — plus what every page needs (static files, the
JavaScript catalogue, the language switch, the clock, signing out) and the federated sign-in
endpoint itself (to come in again with a fresh token). Everything else is refused (403).
crossregion/confinement.py applies this to every HTTP request and WebSocket.
"""

from __future__ import annotations

import re

# Open to a federated user whatever the lot (prefixes).
COMMON_PREFIXES = ("/static/", "/i18n/setlang/", "/jsi18n/")
COMMON_PATHS = frozenset({"/time/", "/accounts/logout/", "/crossregion/federated-login/", "/favicon.ico"})

_LOT_PAGES = re.compile(
    r"\A/evaluation/lots/(?P<lot>[0-9]+)/(?:room/|report/|report\.pdf|report/draft/|report/dissent/|clarifications/)\Z"
)
_LOT_API = re.compile(
    r"\A/api/v1/evaluation/lots/(?P<lot>[0-9]+)/report/(?:signature/|dissent/|pdf/)\Z"
)
_LOT_SOCKET = re.compile(r"\A/ws/evaluation/(?P<lot>[0-9]+)/\Z")
# A clarification's attachment: allowed when the clarification belongs to the lot (checked by the caller).
CLARIFICATION_ATTACHMENT = re.compile(r"\A/evaluation/clarifications/attachments/(?P<pk>[0-9]+)/\Z")


def lot_of_path(path: str) -> int | None:
    """The lot a confined page or API endpoint belongs to, or None when the path is none of them."""
    match = _LOT_PAGES.match(path) or _LOT_API.match(path)
    return int(match["lot"]) if match else None


def http_allowed(path: str, lot_id: int | None) -> bool:
    """May a user confined to `lot_id` (None: to nothing) request `path`? Attachments are the
    caller's (CLARIFICATION_ATTACHMENT)."""
    if path in COMMON_PATHS or path.startswith(COMMON_PREFIXES):
        return True
    return lot_id is not None and lot_of_path(path) == lot_id


def socket_allowed(path: str, lot_id: int | None) -> bool:
    """May a user confined to `lot_id` open the WebSocket at `path`? Only that lot's evaluation room."""
    match = _LOT_SOCKET.match(path)
    return lot_id is not None and match is not None and int(match["lot"]) == lot_id
