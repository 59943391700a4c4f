"""The evaluation report signed in the browser: a key file made by keyfile.js (as the keys page
does), its signing key registered as the member's ExpertKey, the report hash signed with
static/js/evaluation/report_sign.js signReportHash, and the signature accepted by report_sign;
another member's key file is refused."""

from __future__ import annotations

import pytest

from config.errors import DomainError
from evaluation import report_signing
from evaluation.models import ReportSignature
from evaluation.services.report import expert_key_register, report_draft, report_sign
from tests.evaluation.report_world import reporting
from tests.evaluation.world import clock, eval_world  # noqa: F401
from tests.tendering.conftest import _fast_and_isolated  # noqa: F401

pytestmark = pytest.mark.browser

PASSPHRASE = "评标报告签名 test passphrase"

CREATE = """async (passphrase) => {
    const { createKeyFile, readPublicPart } = await import("/static/js/sealbid/keyfile.js");
    const text = await createKeyFile(passphrase, { iterations: 1000, label: "expert" });
    return [text, readPublicPart(text).signing.publicJwk];
}"""

SIGN = """async ([text, passphrase, hashHex]) => {
    const { openKeyFile } = await import("/static/js/sealbid/keyfile.js");
    const { signReportHash } = await import("/static/js/evaluation/report_sign.js");
    const keys = await openKeyFile(text, passphrase);
    return await signReportHash(keys, hashHex);
}"""


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_sync_playwright():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_a_member_signs_the_report_in_the_browser(page, eval_world):
    rep = reporting(eval_world, with_keys=False)
    member, other = rep.members[1], rep.members[2]
    files = {}
    for m in (member, other):
        text, jwk = page.evaluate(CREATE, PASSPHRASE)
        expert_key_register(by=rep.by(m), public_jwk={k: jwk[k] for k in ("kty", "crv", "x", "y")})
        files[m.pk] = text
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    wrong = page.evaluate(SIGN, [files[other.pk], PASSPHRASE, report.statement_sha256])
    with pytest.raises(DomainError) as refused:
        report_sign(by=rep.by(member), report=report, signature_b64=wrong)
    assert refused.value.code == "bad_signature"
    signature = page.evaluate(SIGN, [files[member.pk], PASSPHRASE, report.statement_sha256])
    assert len(report_signing.decode(signature)) == 64
    report_sign(by=rep.by(member), report=report, signature_b64=signature)
    assert ReportSignature.objects.get(report=report).member == member
