"""Who may do what with organisations, users and API tokens. Every accounts page, API endpoint
and service checks one of these rules."""

from accounts.permissions import acting_member, has_role, is_centre_staff, is_regulator, public, rule


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
    """Centre staff for any organisation (and for experts, who belong to none); an organisation's
    administrator for its own, unless it is suspended."""
    if is_centre_staff(user):
        return True
    return _member_of(user, organisation) and user.is_org_admin and organisation.status != "suspended"


@rule("accounts.manage_tokens")
def manage_tokens(user, owner):
    """Everyone manages their own API tokens, and only their own."""
    return owner is not None and owner.pk == user.pk


@rule("accounts.list_bidder_register")
def list_bidder_register(user, obj):
    return acting_member(user, "tenderer", "agency", "centre") or has_role(user, "regulator")


@rule("accounts.read_notifications")
def read_notifications(user, organisation):
    return organisation is not None and user.organisation_id == organisation.pk
