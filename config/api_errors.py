"""One shape for API errors: domain errors raised by services become 400 with a clear message."""

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError


# Refusals whose HTTP status says more than 400 (the sealed-bid upload protocol relies on them).
STATUS_BY_CODE = {
    "chunk_conflict": status.HTTP_409_CONFLICT,
    "upload_closed": status.HTTP_409_CONFLICT,
    "out_of_range": status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
    "opening_not_started": status.HTTP_409_CONFLICT,
    "window_closed": status.HTTP_409_CONFLICT,
    "already_released": status.HTTP_409_CONFLICT,
    "finalising": status.HTTP_503_SERVICE_UNAVAILABLE,
    "storage_full": status.HTTP_503_SERVICE_UNAVAILABLE,
}
RETRY_AFTER_SECONDS = {"finalising": 5, "storage_full": 300}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response({"detail": str(exc.message), "code": exc.code}, status=STATUS_BY_CODE.get(exc.code, status.HTTP_400_BAD_REQUEST))
        if exc.code in RETRY_AFTER_SECONDS:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS[exc.code])
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    return drf_exception_handler(exc, context)
