"""Notices of the publicity and the award (公示、公告、通知书) as A4 PDFs with the Chinese font
embedded (config/pdf.py). A notice prints its `fields` (what the platform took from the record when
it was drafted and issued) and the drafter's text, and ends with who drafted it and who at the
centre approved it, and when."""

from __future__ import annotations

import io
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from config.pdf import chinese_font

WIDTH, HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 20 * mm, WIDTH - 20 * mm, HEIGHT - 20 * mm, 18 * mm
LABEL_WIDTH = 42 * mm


def local_time(value: str | datetime | None) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def yuan(fen: int | None) -> str:
    if fen is None:
        return "—"
    whole, cents = divmod(int(fen), 100)
    return _("%(amount)s 元") % {"amount": f"{whole:,}.{cents:02d}"}


class _Writer:
    def __init__(self, pdf: canvas.Canvas, font: str):
        self.pdf, self.font, self.y = pdf, font, TOP

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.pdf.showPage()
            self.y = TOP

    def wrap(self, text: str, width: float, size: float) -> list[str]:
        lines: list[str] = []
        for paragraph in (text or "").split("\n"):
            line = ""
            for char in paragraph:
                if line and stringWidth(line + char, self.font, size) > width:
                    lines.append(line)
                    line = ""
                line += char
            lines.append(line)
        return lines or [""]

    def title(self, text: str, size: float = 18) -> None:
        self.need(size * 2)
        self.pdf.setFont(self.font, size)
        self.pdf.drawCentredString(WIDTH / 2, self.y - size, text)
        self.y -= size * 1.8

    def heading(self, text: str) -> None:
        self.need(12 * mm)
        self.y -= 2 * mm
        self.pdf.setFont(self.font, 12)
        self.pdf.drawString(LEFT, self.y - 12, text)
        self.y -= 8 * mm

    def row(self, label: str, value: str) -> None:
        step = 5.2 * mm
        self.need(step)
        self.pdf.setFont(self.font, 10)
        self.pdf.drawString(LEFT, self.y - 10, label)
        for line in self.wrap(value, RIGHT - LEFT - LABEL_WIDTH, 10):
            self.need(step)
            self.pdf.setFont(self.font, 10)
            self.pdf.drawString(LEFT + LABEL_WIDTH, self.y - 10, line)
            self.y -= step
        self.y -= 0.8 * mm

    def paragraph(self, text: str, size: float = 10.5) -> None:
        step = size * 0.55 * mm
        for line in self.wrap(text, RIGHT - LEFT, size):
            self.need(step)
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(LEFT, self.y - size, line)
            self.y -= step
        self.y -= 1.5 * mm


def _project_rows(out: _Writer, fields: dict) -> None:
    tender, lot = fields["tender"], fields["lot"]
    out.row(_("招标项目编号"), tender["code"])
    out.row(_("招标项目名称"), tender["title"])
    out.row(_("标段"), f"{lot['number']:02d} {lot['name']}")
    out.row(_("招标人"), tender["tenderer"])
    if tender.get("agency"):
        out.row(_("招标代理机构"), tender["agency"])


def _candidates(out: _Writer, candidates: list[dict]) -> None:
    for candidate in candidates:
        out.need(20 * mm)
        out.paragraph(_("第%(rank)s中标候选人：%(name)s（%(code)s）") % {
            "rank": candidate["candidate_rank"], "name": candidate["name"], "code": candidate["credit_code"]}, size=11)
        out.row(_("投标报价"), yuan(candidate.get("price_fen")))
        out.row(_("评标得分"), candidate.get("total") or "—")


def _publicity(out: _Writer, fields: dict) -> None:
    out.heading(_("一、项目信息"))
    _project_rows(out, fields)
    report = fields.get("report", {})
    out.row(_("评标报告"), _("第 %(version)s 版，定稿于 %(time)s") % {"version": report.get("version", "—"), "time": local_time(report.get("finalised_at"))})
    out.heading(_("二、中标候选人"))
    _candidates(out, fields["candidates"])
    out.heading(_("三、公示期"))
    period = fields.get("period") or {}
    if period:
        out.row(_("公示期"), f"{local_time(period['starts_at'])} — {local_time(period['ends_at'])}")
    else:
        out.row(_("公示期"), _("不少于 %(days)s 日，自交易中心审核发布之时起算") % {"days": fields["days"]})
    out.paragraph(_("投标人或者其他利害关系人对评标结果有异议的，应当在公示期内通过本平台提出；招标人自收到异议之日起3日内作出答复，"
                    "作出答复前暂停招标投标活动（R54）。"))


def _result(out: _Writer, fields: dict) -> None:
    out.heading(_("一、项目信息"))
    _project_rows(out, fields)
    winner = fields["winner"]
    out.heading(_("二、中标结果"))
    out.row(_("中标人"), f"{winner['name']}（{winner['credit_code']}）")
    out.row(_("中标价"), yuan(winner.get("price_fen")))
    out.row(_("定标方法"), fields["method_label"])
    decision = fields.get("decision") or {}
    if decision.get("tally"):
        out.row(_("计票结果"), "；".join(_("第%(rank)s候选人 %(votes)s 票") % {"rank": rank, "votes": votes}
                                      for rank, votes in sorted(decision["tally"].items(), key=lambda item: int(item[0]))))
    if decision.get("lot_drawing"):
        drawing = decision["lot_drawing"]
        out.row(_("抽签"), _("进入抽签：第%(finalists)s候选人；抽中第%(rank)s候选人") % {
            "finalists": "、".join(str(rank) for rank in drawing["finalists"]), "rank": winner["candidate_rank"]})
        out.row(_("抽签种子"), drawing["seed_hex"])
    out.row(_("定标时间"), local_time(decision.get("decided_at")))


def _award_notice(out: _Writer, fields: dict) -> None:
    recipient = fields["recipient"]
    out.paragraph(_("%(name)s：") % {"name": recipient["name"]}, size=12)
    out.paragraph(_("你方递交的“%(tender)s”第%(lot)s标段投标文件，经评标委员会评审、招标人依法定标，确定你方为中标人。") % {
        "tender": fields["tender"]["title"], "lot": f"{fields['lot']['number']:02d}"})
    _project_rows(out, fields)
    out.row(_("中标价"), yuan(fields["winner"].get("price_fen")))
    out.row(_("合同签订期限"), _("自本通知书发出之日起30日内（%(due)s 前），按招标文件和中标人的投标文件订立书面合同（L46）。") % {
        "due": local_time(fields.get("contract_due_at"))} if fields.get("contract_due_at") else _("自本通知书发出之日起30日内（L46）。"))


def _non_award_notice(out: _Writer, fields: dict) -> None:
    recipient = fields["recipient"]
    out.paragraph(_("%(name)s：") % {"name": recipient["name"]}, size=12)
    out.paragraph(_("感谢你方参加“%(tender)s”第%(lot)s标段的投标。经评标委员会评审、招标人依法定标，该标段的中标人为 %(winner)s，你方未中标。") % {
        "tender": fields["tender"]["title"], "lot": f"{fields['lot']['number']:02d}", "winner": fields["winner"]["name"]})
    _project_rows(out, fields)
    out.row(_("中标价"), yuan(fields["winner"].get("price_fen")))


RENDERERS = {
    "candidate_publicity": _publicity,
    "result": _result,
    "award_notice": _award_notice,
    "non_award_notice": _non_award_notice,
}


def render_pdf(*, kind: str, kind_label: str, title: str, body: str, fields: dict, drafted: str, approved: str,
               issued_at: datetime | None) -> bytes:
    font = chinese_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(title)
    pdf.setAuthor(settings.PLATFORM_REGION_NAME)
    pdf.setSubject(f"etender notice {kind} lot {fields['lot']['id']}")
    pdf.setKeywords(font.note)
    pdf.setCreator("etender")
    out = _Writer(pdf, font.name)
    out.title(kind_label)
    out.paragraph(title, size=11)
    RENDERERS[kind](out, fields)
    if body.strip():
        out.heading(_("说明"))
        out.paragraph(body)
    out.heading(_("发布信息"))
    out.row(_("起草"), drafted)
    out.row(_("交易中心审核"), approved)
    out.row(_("发出时间"), local_time(issued_at) + _("（北京时间）"))
    out.row(_("交易平台"), settings.PLATFORM_REGION_NAME)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
