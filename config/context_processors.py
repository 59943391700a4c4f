from django.conf import settings
from django.utils.translation import gettext, gettext_noop

# The demo regions' names (Dongguan, the default, and its partner Zhongshan), listed for the message
# catalogue; another region's name shows untranslated.
gettext_noop("东莞")
gettext_noop("中山")


def platform(request):
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated and user.organisation_id:
        from accounts.notifications import unread_count

        unread = unread_count(user.organisation_id)
    return {
        "unread_notifications": unread,
        "platform_region_code": settings.PLATFORM_REGION_CODE,
        "platform_region_name": gettext(settings.PLATFORM_REGION_NAME),
        "platform_sandbox": settings.PLATFORM_SANDBOX,
    }
