"""投标回执: the platform's signed statement that it received a sealed bid, as JSON and as a PDF.

The statement is canonical JSON (as in the audit trail) signed with the platform's Ed25519 key
(audit/platform_key.py). It names the audit event that recorded the bid, so a regulator can find
the receipt in the hash chain, and the SHA-256 of the sealed file, so the bidder can prove which
bytes it handed in. Format: docs/bid-upload-api.md, "Receipt".
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from audit import platform_key
from audit.chain import canonical_json
from config.pdf import chinese_font

RECEIPT_TYPE = "etender-bid-receipt"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def statement_of(bid, *, audit_event) -> dict:
    lot, tender, bidder = bid.lot, bid.lot.tender, bid.bidder
    return {
        "type": RECEIPT_TYPE,
        "v": 1,
        "platform": {"region_code": settings.PLATFORM_REGION_CODE, "name": settings.PLATFORM_REGION_NAME},
        "bid": bid.pk,
        "bid_version": bid.version,
        "tender": {"id": tender.pk, "code": tender.code},
        "lot": {"id": lot.pk, "number": lot.number},
        "bidder": {"id": bidder.pk, "name": bidder.name, "credit_code": bidder.credit_code},
        "sealed_size": bid.size,
        "sealed_sha256": bid.sha256,
        "ciphertext_sha256": bid.ciphertext_sha256,
        "signer_key_fingerprint": bid.signing_key.fingerprint,
        "decryption_key_fingerprint": bid.decryption_key.fingerprint,
        "upload_started_at": _utc(bid.upload_started_at),
        "received_at": _utc(bid.received_at),
        "audit": {"seq": audit_event.seq, "hash": audit_event.hash},
    }


def sign_receipt(bid, *, audit_event) -> dict:
    statement = statement_of(bid, audit_event=audit_event)
    return {
        "statement": statement,
        "signature": platform_key.sign(canonical_json(statement).encode("utf-8")),
        "key_id": platform_key.platform_key_id(),
    }


def verify_receipt(receipt: dict, public_raw: bytes | None = None) -> bool:
    """True if the receipt's signature is the platform's (default: this platform's key)."""
    try:
        data = canonical_json(receipt["statement"]).encode("utf-8")
        return platform_key.verify(data, receipt["signature"], public_raw)
    except (KeyError, TypeError, ValueError):
        return False


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def render_pdf(bid) -> bytes:
    """The receipt as an A4 PDF with the Chinese font embedded."""
    receipt = bid.receipt
    statement = receipt["statement"]
    font = chinese_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(_("投标回执"))
    pdf.setAuthor(settings.PLATFORM_REGION_NAME)
    pdf.setSubject(f"{RECEIPT_TYPE} bid {bid.pk} v{bid.version}")
    pdf.setKeywords(font.note)
    pdf.setCreator("etender")
    width, height = A4
    x, y = 20 * mm, height - 25 * mm
    pdf.setFont(font.name, 18)
    pdf.drawCentredString(width / 2, y, _("投标回执"))
    y -= 14 * mm
    local = timezone.localtime
    rows = [
        (_("招标项目"), f"{bid.lot.tender.code} {bid.lot.tender.title}"),
        (_("标段"), f"{bid.lot.number:02d} {bid.lot.name}"),
        (_("投标人"), f"{bid.bidder.name}（{bid.bidder.credit_code}）"),
        (_("投标文件版本"), str(bid.version)),
        (_("开始上传时间"), local(bid.upload_started_at).strftime("%Y-%m-%d %H:%M:%S")),
        (_("递交时间"), local(bid.received_at).strftime("%Y-%m-%d %H:%M:%S") + _("（北京时间，以平台服务器时间为准）")),
        (_("文件大小"), _("%(size)s 字节") % {"size": f"{bid.size:,}"}),
        (_("文件 SHA-256"), bid.sha256),
        (_("密文 SHA-256"), bid.ciphertext_sha256),
        (_("签名公钥指纹"), bid.signing_key.fingerprint),
        (_("解密公钥指纹"), bid.decryption_key.fingerprint),
        (_("审计事件"), f"#{statement['audit']['seq']} {statement['audit']['hash']}"),
        (_("平台签名密钥"), receipt["key_id"] + " (Ed25519)"),
    ]
    for label, value in rows:
        pdf.setFont(font.name, 10)
        pdf.drawString(x, y, label)
        for line in _wrap(value, 48):
            pdf.drawString(x + 38 * mm, y, line)
            y -= 6 * mm
        y -= 1 * mm
    y -= 4 * mm
    pdf.setFont(font.name, 9)
    pdf.drawString(x, y, _("平台签名（Ed25519，对下列回执声明的规范 JSON）："))
    y -= 5 * mm
    pdf.setFont("Courier", 7)
    for line in _wrap(receipt["signature"], 64):
        pdf.drawString(x, y, line)
        y -= 4 * mm
    y -= 2 * mm
    pdf.setFont(font.name, 9)
    pdf.drawString(x, y, _("回执声明："))
    y -= 5 * mm
    pdf.setFont(font.name, 7)
    for line in _wrap(canonical_json(statement), 95):
        if y < 20 * mm:
            pdf.showPage()
            y = height - 20 * mm
            pdf.setFont(font.name, 7)
        pdf.drawString(x, y, line)
        y -= 4 * mm
    y -= 4 * mm
    pdf.setFont(font.name, 8)
    pdf.drawString(x, max(y, 12 * mm), _("平台在开标前无法读取密封的投标文件。可用平台公钥（/api/v1/platform/key/）核验本回执的签名。"))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
