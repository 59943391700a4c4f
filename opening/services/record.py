"""Objections at the opening and the opening record (开标记录表). Built in the next step of issue 4;
until then the opening can end without a record."""

from __future__ import annotations


def record_ready_to_end(session) -> str | None:
    """Why the opening cannot end yet because of its record, or None."""
    return None
