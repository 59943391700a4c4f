"""manage.py report_verify <lot_id>: a final report verifies; an altered statement, signature or
PDF does not."""

import base64
import io
from contextlib import redirect_stderr

import pytest
from django.core.management import call_command

from evaluation import report_signing
from evaluation.models import EvaluationReport, ReportSignature
from evaluation.services.report import report_dissent, report_draft, report_sign
from tests.evaluation.report_world import reporting


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def final(eval_world):
    rep = reporting(eval_world)
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    for member in rep.members[:-1]:
        report_sign(by=rep.by(member), report=report, signature_b64=report_signing.sign(rep.keys[member.pk], report.statement_sha256))
    report_dissent(by=rep.by(rep.members[-1]), report=report, text="不同意第三名的排序。")
    report.refresh_from_db()
    return rep, report


def verify(lot_id):
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stderr(err):
            call_command("report_verify", str(lot_id), stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_a_final_report_verifies(final):
    rep, _report = final
    code, out, _ = verify(rep.session.lot_id)
    assert code == 0, out
    assert f"VERIFIED the evaluation report of lot {rep.session.lot_id}" in out
    assert out.count("signature by key") == 4 and "dissent in writing" in out


def test_an_altered_statement_is_caught(final):
    rep, report = final
    statement = report.statement
    statement["candidates"][0]["total"] = "99.99"
    EvaluationReport.objects.filter(pk=report.pk).update(statement=statement)
    code, out, err = verify(rep.session.lot_id)
    assert code == 1
    assert "FAIL report hash" in out and "does not verify" in err


def test_an_altered_signature_is_caught(final):
    rep, report = final
    signature = ReportSignature.objects.filter(report=report).first()
    other = report_signing.sign(rep.keys[rep.members[-1].pk], report.statement_sha256)  # a real signature, by another key
    ReportSignature.objects.filter(pk=signature.pk).update(signature=report_signing.der_b64(base64.b64decode(other)))
    code, out, _ = verify(rep.session.lot_id)
    assert code == 1 and f"FAIL seat {signature.member.seat}: signature" in out


def test_an_altered_pdf_is_caught(final):
    rep, report = final
    with open(report.pdf.path, "ab") as f:
        f.write(b"%tampered")
    code, out, _ = verify(rep.session.lot_id)
    assert code == 1 and "FAIL PDF SHA-256" in out


def test_a_lot_without_a_report_fails(eval_world):
    code, _, err = verify(eval_world.lot.pk)
    assert code == 1 and "has no evaluation report" in err
