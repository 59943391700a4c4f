"""Permission rules: report (see evaluation/rules.py)."""

from accounts.permissions import rule  # noqa: F401
