"""Errors a user can cause. Services raise them inside `transaction.atomic`, so nothing changes."""


class DomainError(Exception):
    """A request the rules refuse, with a message fit to show the user (translatable)."""

    code = "invalid"

    def __init__(self, message, *, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code


class IllegalTransition(DomainError):
    code = "illegal_transition"


class DeadlineError(DomainError):
    code = "deadline"


class NotAllowed(DomainError):
    """A rule about who may act (suspended organisation, another organisation's object)."""

    code = "not_allowed"
