import time

from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache


def home(request):
    return redirect("tendering:announcements")


@never_cache
def server_time(request):
    """The platform clock every deadline is judged by; pages sync their live clock to it."""
    return JsonResponse({"epoch_ms": int(time.time() * 1000), "tz": "Asia/Shanghai"})
