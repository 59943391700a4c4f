"""The published API description: /api/v1/schema/ generates with no warnings and validates."""

import pytest
from django.core.management import call_command


def test_openapi_schema_generates_without_warnings_and_validates(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an untyped field, a view it cannot
    # introspect) into a failure, so the API docs never silently lose an endpoint.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/tenders/", "/api/v1/tenders/{id}/", "/api/v1/tenders/{id}/publish/"):
        assert f"{path}:" in text


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
