"""The opening record (开标记录表) as an A4 PDF with the Chinese font embedded (config/pdf.py).

`render_pdf` draws the record statement (opening/record_statement.py) and nothing else, so the
PDF says exactly what the hash covers; the published PDF adds an appendix with each bidder's
answer: its signature of the hash with the fingerprint of the key that made it, or its written
disagreement, so anyone can check the signatures (docs/opening-record.md)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from config.pdf import chinese_font
from opening.record_statement import RECORD_TYPE

WIDTH, HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 20 * mm, WIDTH - 20 * mm, HEIGHT - 20 * mm, 18 * mm
LABEL_WIDTH = 40 * mm
MONO = "Courier"


@dataclass(frozen=True)
class Answer:
    """One line of the appendix: a checked-in bidder's answer to the record (or none)."""

    bidder: str
    credit_code: str
    response: str  # "confirmed", "disagreed" or "" (no answer by the deadline)
    at: datetime | None = None
    key_fingerprint: str = ""
    signature: str = ""
    text: str = ""


def local_time(value: str | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def yuan(fen: int | None) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return _("%(amount)s 元") % {"amount": f"{sign}{whole:,}.{cents:02d}"}


class _Writer:
    """A cursor down A4 pages: rows of label and wrapped value, paragraphs and headings."""

    def __init__(self, pdf: canvas.Canvas, font: str):
        self.pdf, self.font, self.y = pdf, font, TOP

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.pdf.showPage()
            self.y = TOP

    def wrap(self, text: str, width: float, font: str, size: float) -> list[str]:
        lines: list[str] = []
        for paragraph in (text or "").split("\n"):
            line = ""
            for char in paragraph:
                if line and stringWidth(line + char, font, size) > width:
                    lines.append(line)
                    line = ""
                line += char
            lines.append(line)
        return lines or [""]

    def title(self, text: str, size: float = 18) -> None:
        self.need(size * 1.6)
        self.pdf.setFont(self.font, size)
        self.pdf.drawCentredString(WIDTH / 2, self.y - size, text)
        self.y -= size * 1.8

    def heading(self, text: str) -> None:
        self.need(12 * mm)
        self.y -= 3 * mm
        self.pdf.setFont(self.font, 12)
        self.pdf.drawString(LEFT, self.y - 12, text)
        self.y -= 8 * mm

    def row(self, label: str, value: str, *, mono: bool = False, indent: float = 0) -> None:
        font, size = (MONO, 8) if mono else (self.font, 10)
        if mono:  # hashes and signatures: 64 hex digits a line (a signature's r, then its s)
            lines = [value[i : i + 64] for i in range(0, len(value), 64)] or [""]
        else:
            lines = self.wrap(value, RIGHT - LEFT - LABEL_WIDTH - indent, font, size)
        step = 5.2 * mm
        self.need(step)
        self.pdf.setFont(self.font, 10)
        self.pdf.drawString(LEFT + indent, self.y - 10, label)
        for line in lines:
            self.need(step)
            self.pdf.setFont(font, size)
            self.pdf.drawString(LEFT + indent + LABEL_WIDTH, self.y - 10, line)
            self.y -= step
        self.y -= 0.8 * mm

    def paragraph(self, text: str, *, size: float = 10, indent: float = 0) -> None:
        step = size * 0.52 * mm
        for line in self.wrap(text, RIGHT - LEFT - indent, self.font, size):
            self.need(step)
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(LEFT + indent, self.y - size, line)
            self.y -= step
        self.y -= 1 * mm


def _status_text(bid: dict) -> str:
    labels = {
        "opened": _("已解密"),
        "failed": _("解密失败"),
        "awaiting": _("待解密"),
        "released": _("已释放密钥"),
        "decrypting": _("解密中"),
    }
    return labels.get(bid["status"], bid["status"])


def _failure_rows(out: _Writer, failure: dict) -> None:
    side = _("投标人原因") if failure["side"] == "bidder" else _("非投标人原因")
    counted = _("视为撤销投标文件（E31）") if failure["counted_as"] == "revoked" else _("视为撤回投标文件（E31）")
    out.row(_("失败原因"), failure["detail"] or failure["code"], indent=6 * mm)
    out.row(_("原因归属"), f"{side}，{counted}", indent=6 * mm)


def _bid_block(out: _Writer, number: int, bid: dict) -> None:
    out.need(16 * mm)
    out.paragraph(f"{number}. {bid['bidder']['name']}（{bid['bidder']['credit_code']}）", size=11)
    indent = 6 * mm
    via = _("（托管解密）") if bid["released_via"] == "custodial" else ""
    out.row(_("解密状态"), _status_text(bid) + via, indent=indent)
    if bid["status"] == "opened":
        out.row(_("投标报价（小写）"), yuan(bid["price_fen"]), indent=indent)
        out.row(_("投标报价（大写）"), bid["price_in_words"] or "—", indent=indent)
        if bid["price_mismatch"]:
            out.row(_("大小写不一致"), _("以大写金额为准（P19）：按 %(amount)s 计") % {"amount": yuan(bid["price_prevailing_fen"])}, indent=indent)
        duration = _("%(days)s 日历天") % {"days": bid["duration_days"]} if bid["duration_days"] is not None else "—"
        out.row(_("工期"), duration, indent=indent)
        out.row(_("质量标准"), bid["quality"] or "—", indent=indent)
        manager = bid["project_manager"] or "—"
        if bid["project_manager_certificate"]:
            manager += _("（证书编号 %(number)s）") % {"number": bid["project_manager_certificate"]}
        out.row(_("项目经理"), manager, indent=indent)
        out.row(_("唱标时间"), local_time(bid["read_at"]), indent=indent)
    elif bid["failure"]:
        _failure_rows(out, bid["failure"])
    out.row(_("递交时间"), local_time(bid["received_at"]), indent=indent)


def _objections(out: _Writer, statement: dict) -> None:
    out.heading(_("五、异议及答复"))
    period = statement["objection_period"]
    if period["opened_at"]:
        out.row(_("异议期"), f"{local_time(period['opened_at'])} — {local_time(period['closed_at'])}")
    if not statement["objections"]:
        out.paragraph(_("开标过程中无投标人提出异议。"))
        return
    for number, objection in enumerate(statement["objections"], 1):
        out.need(16 * mm)
        out.paragraph(_("%(number)s. %(bidder)s 于 %(time)s 提出异议：") % {
            "number": number, "bidder": objection["bidder"]["name"], "time": local_time(objection["raised_at"])}, size=10)
        out.paragraph(objection["text"], indent=6 * mm)
        out.paragraph(_("主持人于 %(time)s 答复：") % {"time": local_time(objection["answered_at"])}, indent=6 * mm)
        out.paragraph(objection["answer"] or "—", indent=6 * mm)


def _appendix(out: _Writer, statement_hash: str, answers: list[Answer], published_at, published_by: str) -> None:
    out.pdf.showPage()
    out.y = TOP
    out.title(_("附录：投标人确认及签名"), size=14)
    out.row(_("记录哈希（SHA-256）"), statement_hash, mono=True)
    out.row(_("公布时间"), local_time(published_at))
    out.row(_("公布人"), published_by)
    out.paragraph(_("签名算法：ECDSA P-256 / SHA-256，签名内容为上述记录哈希的 64 位小写十六进制文本（ASCII），"
                    "签名为 r‖s 共 64 字节的十六进制。公钥为投标人在平台登记的签名公钥，以其指纹标识。"), size=9)
    for number, answer in enumerate(answers, 1):
        out.need(24 * mm)
        out.paragraph(f"{number}. {answer.bidder}（{answer.credit_code}）", size=11)
        indent = 6 * mm
        if answer.response == "confirmed":
            out.row(_("意见"), _("已签名确认"), indent=indent)
            out.row(_("签名公钥指纹"), answer.key_fingerprint, mono=True, indent=indent)
            out.row(_("签名"), answer.signature, mono=True, indent=indent)
            out.row(_("签名时间"), local_time(answer.at), indent=indent)
        elif answer.response == "disagreed":
            out.row(_("意见"), _("书面提出不同意见"), indent=indent)
            out.row(_("不同意见"), answer.text, indent=indent)
            out.row(_("提出时间"), local_time(answer.at), indent=indent)
        else:
            out.row(_("意见"), _("在确认期限内未签名确认，也未提出不同意见"), indent=indent)


def render_pdf(statement: dict, statement_hash: str, *, answers: list[Answer] | None = None, published_at=None,
               published_by: str = "") -> bytes:
    """The record as a PDF: the draft to be confirmed (answers None) or the published record
    with the appendix of answers."""
    font = chinese_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(_("开标记录表"))
    pdf.setAuthor(statement["platform"]["name"])
    pdf.setSubject(f"{RECORD_TYPE} lot {statement['lot']['id']} v{statement['version']} sha256 {statement_hash}")
    pdf.setKeywords(font.note)
    pdf.setCreator("etender")
    out = _Writer(pdf, font.name)
    out.title(_("开标记录表"))
    if answers is None:
        out.paragraph(_("（第 %(version)s 版，待投标人确认）") % {"version": statement["version"]}, size=10)
    else:
        out.paragraph(_("（第 %(version)s 版，已公布）") % {"version": statement["version"]}, size=10)

    tender, lot, host = statement["tender"], statement["lot"], statement["host"]
    out.heading(_("一、项目信息"))
    out.row(_("招标项目编号"), tender["code"])
    out.row(_("招标项目名称"), tender["title"])
    out.row(_("标段"), f"{lot['number']:02d} {lot['name']}")
    out.row(_("开标时间"), local_time(statement["opened_at"]) + _("（北京时间）"))
    out.row(_("主持人"), f"{host['name']}（{host['organisation']}）" if host["organisation"] else host["name"] or "—")
    out.row(_("交易平台"), statement["platform"]["name"])

    decryption = statement["decryption"]
    out.heading(_("二、解密"))
    out.row(_("开始解密时间"), local_time(decryption["started_at"]))
    out.row(_("解密时限"), _("%(minutes)s 分钟") % {"minutes": decryption["window_minutes"]})
    out.row(_("解密截止时间"), local_time(decryption["window_ends_at"]))
    out.row(_("解密结束时间"), local_time(decryption["ended_at"]))
    out.row(_("有效投标文件"), _("%(valid)s 份（共 %(total)s 份）") % {"valid": statement["valid_bids"], "total": len(statement["bids"])})

    out.heading(_("三、投标人签到"))
    for participant in statement["participants"]:
        state = _("签到 %(time)s") % {"time": local_time(participant["checked_in_at"])} if participant["checked_in"] else _("未签到（缺席）")
        out.paragraph(f"{participant['name']}（{participant['credit_code']}）：{state}")
    absent = [p["name"] for p in statement["participants"] if not p["checked_in"]]
    out.paragraph(_("缺席投标人：%(names)s") % {"names": "、".join(absent)} if absent else _("投标人均已签到。"))

    out.heading(_("四、解密及唱标情况"))
    for number, bid in enumerate(statement["bids"], 1):
        _bid_block(out, number, bid)

    _objections(out, statement)

    out.heading(_("六、记录哈希及审计"))
    out.row(_("记录哈希（SHA-256）"), statement_hash, mono=True)
    audit = statement["audit_head"]
    out.row(_("审计链头序号"), f"#{audit['seq']}")
    out.row(_("审计链头哈希"), audit["hash"], mono=True)
    out.row(_("生成时间"), local_time(statement["drafted_at"]))
    out.row(_("生成人"), statement["drafted_by"])
    out.paragraph(_("记录哈希是本表全部内容（规范 JSON 记录声明）的 SHA-256；审计链头为生成本表时平台审计链的最新事件，"
                    "涵盖开标全过程。在场投标人以本单位登记的签名密钥对记录哈希签名确认，或书面提出不同意见。"), size=9)
    if answers is not None:
        _appendix(out, statement_hash, answers, published_at, published_by)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
