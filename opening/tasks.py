"""Background jobs of the opening (django-tasks, database backend: they survive restarts). Every
job is idempotent: running it again for a bid already decrypted or failed changes nothing, and
two jobs for the same bid never both decrypt it (see opening/services/decryption.py)."""

from django_tasks import task


@task()
def decrypt_bid(bid_opening_id: int) -> str:
    """Decrypt one released bid, check it and read its opening summary (唱标)."""
    from opening.services.decryption import decrypt

    return decrypt(bid_opening_id)


@task()
def resume_stalled_decryptions() -> list[int]:
    """Queue a new job for every bid whose decryption job was lost or whose worker died."""
    from opening.services.decryption import resume_stalled

    return resume_stalled()
