"""Who may take part in the custodial fallback (docs/custodial-fallback.md). Custodians are
centre staff and regulators: neither the tenderer's side, which could want to read bids early,
nor a bidder. opening/services/custodial.py decides *when* (only once the opening has started)."""

from accounts.permissions import acting_member, rule


def may_be_custodian(user) -> bool:
    return acting_member(user, "centre", "regulator")


@rule("opening.register_custodian_key")
def register_custodian_key(user, _obj=None):
    return may_be_custodian(user)


@rule("opening.custodian")
def custodian(user, arrangement):
    """A custodian named in the tender's arrangement, while its organisation may act."""
    return arrangement is not None and may_be_custodian(user) and arrangement.shares.filter(custodian=user).exists()
