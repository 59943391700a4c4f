from accounts.permissions import acting_member, has_role, is_centre_staff, rule


@rule("accounts.review_organisation")
def review_organisation(user, organisation):
    return is_centre_staff(user)


@rule("accounts.view_organisation")
def view_organisation(user, organisation):
    if is_centre_staff(user) or has_role(user, "regulator"):
        return True
    return organisation is not None and user.organisation_id == organisation.pk


@rule("accounts.edit_organisation")
def edit_organisation(user, organisation):
    # Members of a suspended organisation may still correct its data; they just cannot act.
    return organisation is not None and user.organisation_id == organisation.pk and user.role == organisation.kind


@rule("accounts.manage_tokens")
def manage_tokens(user, obj):
    return True  # every signed-in user manages only their own tokens (services scope by user)


@rule("accounts.list_bidder_register")
def list_bidder_register(user, obj):
    return acting_member(user, "tenderer", "agency", "centre") or has_role(user, "regulator")
