"""Permission rules: clarification (see evaluation/rules.py)."""

from accounts.permissions import rule  # noqa: F401
