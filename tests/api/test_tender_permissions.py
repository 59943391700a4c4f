"""Who may call which tender endpoint: every role against every endpoint, with the status code
each must get. A refused call leaves no trace in the audit chain (nothing changed)."""

import pytest

from audit.models import AuditEvent
from tests.api.conftest import ROLES

OK, CREATED, UNAUTHENTICATED, FORBIDDEN, HIDDEN = 200, 201, 401, 403, 404


def expect(anonymous, bidder, tenderer, other_tenderer, agency, centre, regulator):
    return dict(zip(ROLES, (anonymous, bidder, tenderer, other_tenderer, agency, centre, regulator), strict=True))


OWNERS_ONLY = expect(UNAUTHENTICATED, FORBIDDEN, OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN)

# endpoint: (tender state needed, method, path, payload builder, expected status per role)
MATRIX = {
    "list": (None, "get", "/api/v1/tenders/", None, expect(OK, OK, OK, OK, OK, OK, OK)),
    "detail published": ("published", "get", "/api/v1/tenders/{pk}/", None, expect(OK, OK, OK, OK, OK, OK, OK)),
    "detail draft": ("draft", "get", "/api/v1/tenders/{pk}/", None, expect(HIDDEN, HIDDEN, OK, HIDDEN, OK, OK, OK)),
    "create": (
        None, "post", "/api/v1/tenders/", "create",
        expect(UNAUTHENTICATED, FORBIDDEN, CREATED, FORBIDDEN, CREATED, FORBIDDEN, FORBIDDEN),
    ),
    "update draft": ("draft", "patch", "/api/v1/tenders/{pk}/", {"title": "新名称"}, OWNERS_ONLY),
    "submit": ("draft", "post", "/api/v1/tenders/{pk}/submit/", None, OWNERS_ONLY),
    "publish": ("approved", "post", "/api/v1/tenders/{pk}/publish/", None, OWNERS_ONLY),
    "clarify": (
        "published", "post", "/api/v1/tenders/{pk}/clarifications/",
        {"kind": "clarification", "title": "澄清一", "body": "图纸说明", "affects_bids": False},
        {**OWNERS_ONLY, "tenderer": CREATED, "agency": CREATED},
    ),
    "cancel": (
        "published", "post", "/api/v1/tenders/{pk}/cancel/", {"reason": "项目取消"},
        expect(UNAUTHENTICATED, FORBIDDEN, OK, FORBIDDEN, OK, OK, FORBIDDEN),
    ),
    "create project": (
        None, "post", "/api/v1/projects/", "project",
        # Only the tenderer creates its projects; the agency works on the projects that mandate it.
        expect(UNAUTHENTICATED, FORBIDDEN, CREATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ),
    "workspace": (None, "get", "/api/v1/workspace/tenders/", None, expect(UNAUTHENTICATED, OK, OK, OK, OK, OK, OK)),
}
CASES = [(endpoint, role) for endpoint in MATRIX for role in ROLES]


def _payload(kind, people, project):
    if kind == "create":
        return {
            "project": project.pk, "title": "新招标", "bid_deadline": "2099-01-01T09:00:00+08:00",
            "lots": [{"name": "第一标段", "maximum_price_fen": 100_000_00}],
        }
    if kind == "project":
        return {"tenderer": people["tenderer"].organisation_id, "code": "P-NEW-1", "name": "新项目"}
    return kind


@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e}-{r}" for e, r in CASES])
def test_role_endpoint_matrix(endpoint, role, api, people, project, make_tender):
    state, method, path, payload, expected = MATRIX[endpoint]
    tender = make_tender(state) if state else None
    client = api(role)
    events_before = AuditEvent.objects.count()

    response = getattr(client, method)(path.format(pk=tender.pk if tender else ""), _payload(payload, people, project), format="json")

    assert response.status_code == expected[role], response.content.decode()
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == events_before
        assert "detail" in response.json()
    if tender is not None and response.status_code >= 400:
        tender.refresh_from_db()
        assert tender.state == state
