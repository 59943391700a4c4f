"""Background jobs of the cross-region app (django-tasks, database backend: they survive restarts).
A job is idempotent: a message already delivered, failed or not yet due is left alone."""

from django_tasks import task


@task()
def deliver(message_id: int) -> str:
    """One delivery attempt of an outbox message (crossregion/services/outbox.py)."""
    from crossregion.services.outbox import deliver as deliver_now

    return deliver_now(message_id)


@task()
def replicate(replication_id: int) -> str:
    """Build and queue the next replication batch of one Replication, if there is one to send
    (crossregion/services/replication.py push: idempotent, waits for the previous batch)."""
    from crossregion.models import Replication
    from crossregion.services.replication import push

    replication = Replication.objects.filter(pk=replication_id).first()
    if replication is None:
        return "missing"
    batch = push(replication)
    return f"batch {batch.batch_seq}" if batch else "nothing"
