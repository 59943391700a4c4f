from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class PlatformLanguageMiddleware(LocaleMiddleware):
    """zh-Hans first: the platform speaks Simplified Chinese unless the user chose English with
    the language switch (its cookie). The browser's Accept-Language is not consulted, so a
    bidder on an English-language system still sees the platform as the centre publishes it."""

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in dict(settings.LANGUAGES):
            chosen = settings.LANGUAGE_CODE
        translation.activate(chosen)
        request.LANGUAGE_CODE = translation.get_language()
