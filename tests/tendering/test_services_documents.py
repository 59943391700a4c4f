"""Tender documents: streamed, hashed, versioned, signed by the platform's Ed25519 key."""

import hashlib
import os
import stat

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile

from audit import platform_key
from config.errors import DomainError, IllegalTransition
from tendering import selectors, services
from tendering.models import TenderDocument
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.usefixtures("clock")


def test_upload_hashes_versions_and_signs(owner, settings):
    tender = factories.make_tender(owner, documents=False)
    first = factories.upload(owner, tender, content=b"v1")
    second = factories.upload(owner, tender, content=b"version two")
    other = factories.upload(owner, tender, title="工程量清单", content=b"bill")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert second.sha256 == hashlib.sha256(b"version two").hexdigest() and second.size == 11
    with second.file.open("rb") as stored:
        assert stored.read() == b"version two"
    first.refresh_from_db()
    assert first.superseded_by == second
    assert set(selectors.current_documents(tender)) == {other, second}
    statement = platform_key.document_statement(tender_code=tender.code, title=second.title, version=2, size=11, sha256=second.sha256)
    assert platform_key.verify(statement, second.signature)
    assert second.signing_key_id == platform_key.platform_key_id()
    forged = platform_key.document_statement(tender_code=tender.code, title=second.title, version=2, size=11, sha256="0" * 64)
    assert not platform_key.verify(forged, second.signature)


def test_too_large_document_refused_and_nothing_stored(owner, settings):
    settings.PLATFORM_MAX_DOCUMENT_BYTES = 10
    tender = factories.make_tender(owner, documents=False)
    with pytest.raises(DomainError):
        factories.upload(owner, tender, content=b"x" * 11)
    with pytest.raises(DomainError):
        factories.upload(owner, tender, content=b"")
    assert not TenderDocument.objects.exists()


def stored_files(settings) -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()] if settings.MEDIA_ROOT.exists() else []


def test_a_file_that_under_reports_its_size_is_caught_while_streamed(owner, settings):
    """The declared size comes from the client; the limit is enforced on the bytes actually read."""
    settings.PLATFORM_MAX_DOCUMENT_BYTES = 10
    tender = factories.make_tender(owner, documents=False)
    lying = ContentFile(b"x" * 5000, name="big.pdf")
    lying.size = 3  # what a client could claim
    with pytest.raises(DomainError) as error:
        services.tender_document_upload(by=actor(owner), tender=tender, title="招标文件", uploaded_file=lying)
    assert error.value.code == "too_large"
    assert not TenderDocument.objects.exists()
    assert stored_files(settings) == []


def test_after_submission_documents_come_only_with_a_clarification(owner):
    tender = factories.make_tender(owner, state="submitted")
    with pytest.raises(IllegalTransition):
        factories.upload(owner, tender)
    tender = factories.make_tender(owner, state="published")
    clarification = services.clarification_issue(by=actor(owner), tender=tender, kind="amendment", title="修改1", body="见附件")
    document = factories.upload(owner, tender, title="修改1附件", clarification=clarification)
    assert document.clarification == clarification


def test_upload_only_by_owner(owner):
    tender = factories.make_tender(owner, documents=False)
    with pytest.raises(PermissionDenied):
        services.tender_document_upload(by=actor(factories.person("bidder")), tender=tender, title="x", uploaded_file=ContentFile(b"x", name="x"))
    assert not TenderDocument.objects.exists()


def test_platform_key_is_generated_once_private_and_stable(settings):
    path = platform_key.key_path()
    assert not path.exists()
    key_id = platform_key.platform_key_id()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert key_id == hashlib.sha256(platform_key.public_key_bytes()).hexdigest()[:16] and len(key_id) == 16
    platform_key._cache.clear()
    assert platform_key.platform_key_id() == key_id  # read back from the file
    signature = platform_key.sign(b"hello")
    assert len(signature) == 128 and platform_key.verify(b"hello", signature)
    assert not platform_key.verify(b"hello!", signature)
    assert not platform_key.verify(b"hello", "zz")
