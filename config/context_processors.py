from django.conf import settings


def platform(request):
    return {
        "platform_region_code": settings.PLATFORM_REGION_CODE,
        "platform_region_name": settings.PLATFORM_REGION_NAME,
        "platform_sandbox": settings.PLATFORM_SANDBOX,
    }
