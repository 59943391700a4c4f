"""Every write of the cross-region app: partners and agreements (agreements.py), the outbox
(outbox.py), federation tokens (federation.py). The inbox (crossregion/inbox.py) calls handlers."""
