"""Who may do what across regions. Centre staff register partners, draft, propose, accept and revoke
agreements and resend failed messages; regulators read everything, change nothing."""

from accounts.permissions import is_centre_staff, is_regulator, rule


@rule("crossregion.view")
def view(user, obj=None) -> bool:
    return is_centre_staff(user) or is_regulator(user)


@rule("crossregion.manage")
def manage(user, obj=None) -> bool:
    return is_centre_staff(user)
