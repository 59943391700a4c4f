"""Background jobs of the cross-region app (django-tasks, database backend: they survive restarts).
A job is idempotent: a message already delivered, failed or not yet due is left alone."""

from django_tasks import task


@task()
def deliver(message_id: int) -> str:
    """One delivery attempt of an outbox message (crossregion/services/outbox.py)."""
    from crossregion.services.outbox import deliver as deliver_now

    return deliver_now(message_id)
