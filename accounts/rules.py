"""Who may do what with organisations, users and API tokens. Every accounts page, API endpoint
and service checks one of these rules."""

from accounts.permissions import acting_member, is_centre_staff, is_regulator, public, rule


def _member_of(user, organisation) -> bool:
    """A user of this organisation whose role matches its kind (its real staff)."""
    return organisation is not None and user.organisation_id == organisation.pk and user.role == organisation.kind


@public
@rule("accounts.register_organisation")
def register_organisation(user, obj):
    """Self-registration is for visitors; a signed-in user already belongs somewhere."""
    return user is None


@rule("accounts.view_organisation")
def view_organisation(user, organisation):
    if is_centre_staff(user) or is_regulator(user):
        return True
    return organisation is not None and user.organisation_id == organisation.pk


@rule("accounts.list_organisations")
def list_organisations(user, obj):
    return is_centre_staff(user) or is_regulator(user)


@rule("accounts.edit_organisation")
def edit_organisation(user, organisation):
    """Edit, submit and request changes. Administrators of a suspended organisation may still
    correct its data; they just cannot act in tenders."""
    return _member_of(user, organisation) and user.is_org_admin


@rule("accounts.review_organisation")
def review_organisation(user, organisation):
    return is_centre_staff(user)


@rule("accounts.suspend_organisation")
def suspend_organisation(user, organisation):
    # Staff never suspend their own centre: that would lock every reviewer out.
    return is_centre_staff(user) and organisation is not None and organisation.pk != user.organisation_id


@rule("accounts.view_users")
def view_users(user, organisation):
    return is_centre_staff(user) or is_regulator(user) or (organisation is not None and user.organisation_id == organisation.pk)


@rule("accounts.manage_users")
def manage_users(user, organisation):
    """Add, enable and disable users. An organisation's own administrator manages its users
    (unless it is suspended); centre staff also create and manage experts, who belong to no
    organisation. Nobody manages another organisation's users: whoever could add a user to a
    bidder could then sign in as that bidder. So centre staff manage only their own centre's
    users (as its administrator), and regulators only their own."""
    if organisation is None:
        return is_centre_staff(user)
    return _member_of(user, organisation) and user.is_org_admin and organisation.status != "suspended"


@rule("accounts.manage_tokens")
def manage_tokens(user, owner):
    """Everyone manages their own API tokens, and only their own."""
    return owner is not None and owner.pk == user.pk


@rule("accounts.list_bidder_register")
def list_bidder_register(user, obj):
    # Regulators read it only while their own organisation is verified and not suspended.
    return acting_member(user, "tenderer", "agency", "centre", "regulator")


@rule("accounts.read_notifications")
def read_notifications(user, organisation):
    return organisation is not None and user.organisation_id == organisation.pk
