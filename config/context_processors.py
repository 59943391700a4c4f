from django.conf import settings
from django.utils.translation import gettext, gettext_noop

# The default region's name, listed for the message catalogue; another region's name shows untranslated.
gettext_noop("东莞")


def platform(request):
    return {
        "platform_region_code": settings.PLATFORM_REGION_CODE,
        "platform_region_name": gettext(settings.PLATFORM_REGION_NAME),
        "platform_sandbox": settings.PLATFORM_SANDBOX,
    }
