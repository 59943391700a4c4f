"""The evaluation report (评标报告) as an A4 PDF with the Chinese font embedded (config/pdf.py).

`render_pdf` draws the report statement (evaluation/report_statement.py) and nothing else, so the
PDF says exactly what the hash covers, plus a chart of the score spread per bid (each expert's
subjective total, drawn from the statement's figures). The final PDF adds an appendix with every
serving member's signature (and the fingerprint of the key that made it) or written dissent."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from config.pdf import chinese_font
from evaluation.report_statement import REPORT_TYPE

WIDTH, HEIGHT = A4
MARGIN = 18 * mm
CONTENT = WIDTH - 2 * MARGIN
MONO = "Courier"


@dataclass(frozen=True)
class Answer:
    """One serving member's answer to the report: a signature, a dissent, or none yet."""

    seat: int
    name: str
    response: str  # "signed", "dissent" or ""
    at: datetime | None = None
    key_fingerprint: str = ""
    signature: str = ""
    text: str = ""


def local_time(value) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def yuan(fen) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _kind(kind: str) -> str:
    return {"expert": _("评标专家"), "representative": _("招标人代表")}.get(kind, kind)


def _status(status: str) -> str:
    return {"drawn": _("已抽中"), "confirmed": _("已确认参加"), "declined": _("拒绝参加"), "recused": _("申请回避")}.get(status, status)


def _category(category: str) -> str:
    return {"qualification": _("资格审查"), "technical": _("技术"), "commercial": _("商务"), "price": _("报价")}.get(category, category)


def _stage(stage: str) -> str:
    return {"qualification": _("资格审查"), "scoring": _("技术和商务评分"), "price": _("报价评分"), "ranking": _("汇总与排序")}.get(stage, stage)


def _step_text(step) -> str:
    if isinstance(step, dict) and "template" in step:
        params = step.get("params") or {}
        try:
            return _(step["template"]) % params if params else _(step["template"])
        except (KeyError, TypeError, ValueError):
            return step["template"]
    return str(step)


class _Doc:
    def __init__(self, font: str):
        self.font = font
        self.story: list = []
        self.body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=11)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8, leading=10.5)
        self.mono = ParagraphStyle("mono", parent=self.body, fontName=MONO, fontSize=7.5, leading=10, wordWrap=None)
        self.s_h1 = ParagraphStyle("h1", parent=self.body, fontSize=18, leading=24, alignment=1, spaceAfter=4)
        self.s_h2 = ParagraphStyle("h2", parent=self.body, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
        self.s_h3 = ParagraphStyle("h3", parent=self.body, fontSize=10, leading=15, spaceBefore=4, spaceAfter=2)

    def p(self, text: str, style=None) -> None:
        self.story.append(Paragraph(_escape(text), style or self.body))

    def h2(self, text: str) -> None:
        self.p(text, self.s_h2)

    def h3(self, text: str) -> None:
        self.p(text, self.s_h3)

    def hash(self, label: str, value: str) -> None:
        self.story.append(Paragraph(_escape(label), self.body))
        for start in range(0, len(value), 64):
            self.story.append(Paragraph(_escape(value[start:start + 64]), self.mono))

    def table(self, header: list[str], rows: list[list], widths: list[float] | None = None) -> None:
        cells = [[Paragraph(_escape(str(c)), self.cell) for c in header]]
        cells += [[Paragraph(_escape("—" if c is None or c == "" else str(c)), self.cell) for c in row] for row in rows]
        table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        self.story.append(table)
        self.story.append(Spacer(1, 3 * mm))

    def rows(self, pairs: list[tuple[str, str]]) -> None:
        self.table([_("项目"), _("内容")], [list(p) for p in pairs], widths=[40 * mm, CONTENT - 40 * mm])


def _escape(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def spread_chart(statement: dict, font: str) -> Drawing:
    """Per bid, a strip of every expert's subjective total (technical + commercial) on one axis,
    with the range as a line and the panel's subjective score (the results' technical +
    commercial) as a bar: how far the experts' judgements lay apart."""
    names = {b["bid"]: b["bidder"]["name"] for b in statement["bids"]}
    results = {r["bid"]: r for r in statement["results"]}
    rows = [a for a in statement["aggregates"] if a["expert_totals"]]
    subjective_max = sum(Decimal(c["max_score"]) for c in statement["scheme"]["criteria"]
                         if c["category"] in ("technical", "commercial") and c["max_score"])
    values = [Decimal(e["total"]) for a in rows for e in a["expert_totals"]]
    for r in results.values():
        if r["technical"] is not None and r["commercial"] is not None:
            values.append(Decimal(r["technical"]) + Decimal(r["commercial"]))
    # The axis spans the data (in steps of 5 points, within 0..the subjective full marks), so the
    # spread between experts is visible rather than squeezed into a corner of 0..100.
    full = subjective_max or Decimal(100)
    low = max(Decimal(0), ((min(values) - 1) // 5) * 5) if values else Decimal(0)
    high = min(max(full, max(values)), ((max(values) + 1) // 5 + 1) * 5) if values else full
    if high - low < 10:
        high = min(max(full, high), low + 10)
        low = max(Decimal(0), high - 10)
    label_w, row_h, axis_h = 42 * mm, 10 * mm, 10 * mm
    height = len(rows) * row_h + axis_h + 6 * mm
    drawing = Drawing(CONTENT, height)
    x0, x1 = label_w, CONTENT - 8 * mm

    def x(value: Decimal) -> float:
        return x0 + float((value - low) / (high - low)) * (x1 - x0)

    step = max(Decimal(1), ((high - low) / 10).to_integral_value())
    tick = low
    while tick <= high:
        drawing.add(Line(x(tick), axis_h, x(tick), height - 2 * mm, strokeColor=colors.lightgrey, strokeWidth=0.3))
        drawing.add(String(x(tick), axis_h - 4 * mm, f"{tick:.0f}", fontName=font, fontSize=7, textAnchor="middle"))
        tick += step
    drawing.add(Line(x0, axis_h, x1, axis_h, strokeColor=colors.black, strokeWidth=0.5))
    for index, row in enumerate(rows):
        y = height - 4 * mm - (index + 1) * row_h + row_h / 2
        label = names.get(row["bid"], str(row["bid"]))
        drawing.add(String(0, y - 2.5, label[:14], fontName=font, fontSize=7.5))
        totals = [(Decimal(e["total"]), e["member"]) for e in row["expert_totals"]]
        drawing.add(Line(x(min(t for t, _m in totals)), y, x(max(t for t, _m in totals)), y, strokeColor=colors.grey, strokeWidth=1))
        result = results.get(row["bid"])
        if result and result["technical"] is not None and result["commercial"] is not None:
            panel = Decimal(result["technical"]) + Decimal(result["commercial"])
            drawing.add(Rect(x(panel) - 0.8, y - 4 * mm, 1.6, 8 * mm, fillColor=colors.HexColor("#c0392b"), strokeColor=None))
        seen: dict = {}
        for value, seat in totals:  # equal totals are stacked, each dot labelled with its seat
            offset = seen.get(value, 0)
            seen[value] = offset + 1
            dy = (offset + 1) // 2 * 2.6 * mm * (1 if offset % 2 else -1)
            drawing.add(Circle(x(value), y + dy, 1.2 * mm, fillColor=colors.HexColor("#2e86c1"), strokeColor=colors.white, strokeWidth=0.4))
            drawing.add(String(x(value), y + dy - 0.9, str(seat), fontName=font, fontSize=4.5, fillColor=colors.white, textAnchor="middle"))
    return drawing


def render_pdf(statement: dict, statement_hash: str, *, answers: list[Answer] | None = None, finalised_at=None) -> bytes:
    """The report as a PDF: for signing (answers None) or final, with the appendix of answers."""
    font = chinese_font()
    doc = _Doc(font.name)
    tender, lot = statement["tender"], statement["lot"]
    seats = {m["seat"]: m for m in statement["panel"] if m["serving"]}
    serving = sorted(seats)
    bidders = {b["bid"]: b["bidder"]["name"] for b in statement["bids"]}
    criteria = statement["scheme"]["criteria"]

    doc.p(_("评标报告"), doc.s_h1)
    state = _("定稿") if answers is not None else _("待评标委员会成员签署")
    doc.p(_("（第 %(version)s 版，%(state)s）") % {"version": statement["version"], "state": state}, doc.small)

    doc.h2(_("一、项目信息"))
    doc.rows([
        (_("招标项目编号"), tender["code"]), (_("招标项目名称"), tender["title"]),
        (_("标段"), f"{lot['number']:02d} {lot['name']}"),
        (_("评标时间"), f"{local_time(statement['session']['starts_at'])} — {local_time(statement['session']['ends_at'])}"),
        (_("交易平台"), statement["platform"]["name"]),
    ])

    doc.h2(_("二、评标委员会"))
    doc.table([_("席位"), _("类别"), _("专业"), _("姓名"), _("职称"), _("工作单位"), _("状态")], [
        [f"{m['seat']}" + (_("（组长）") if m["chair"] else ""), _kind(m["kind"]), m["specialty"], m["name"], m["title"], m["employer"],
         _status(m["status"]) + (f"：{m['status_reason']}" if m["status_reason"] else "")]
        for m in statement["panel"]
    ], widths=[16 * mm, 20 * mm, 12 * mm, 22 * mm, 22 * mm, 40 * mm, CONTENT - 132 * mm])
    chair = seats.get(statement["chair"])
    doc.p(_("评标委员会由 %(count)s 名成员组成，组长：%(chair)s。") % {"count": len(serving), "chair": chair["name"] if chair else "—"})

    doc.h2(_("三、评标办法"))
    doc.table([_("编号"), _("评审因素"), _("类别"), _("满分"), _("权重")],
              [[c["code"], c["name"], _category(c["category"]), c["max_score"], c["weight"]] for c in criteria],
              widths=[16 * mm, 70 * mm, 24 * mm, 24 * mm, CONTENT - 134 * mm])

    doc.h2(_("四、资格审查"))
    verdicts = statement["qualification"]
    qual_codes = [c["code"] for c in criteria if c["category"] == "qualification"]
    for bid in statement["bids"]:
        rows = []
        for code in qual_codes:
            marks = {v["member"]: v for v in verdicts if v["bid"] == bid["bid"] and v["criterion"] == code}
            if not marks:
                continue
            rows.append([code] + [("✓" if marks[s]["passed"] else "✗ " + marks[s]["reason"]) if s in marks else "—" for s in serving])
        result = next((r for r in statement["results"] if r["bid"] == bid["bid"]), None)
        verdict = "—" if result is None or result["qualified"] is None else (_("合格") if result["qualified"] else _("不合格"))
        doc.h3(f"{bid['bidder']['name']}：{verdict}")
        if rows:
            width = (CONTENT - 16 * mm) / max(len(serving), 1)
            doc.table([_("因素")] + [_("专家%(seat)s") % {"seat": s} for s in serving], rows, widths=[16 * mm] + [width] * len(serving))

    doc.h2(_("五、技术和商务评分（各专家评分）"))
    scores = statement["scores"]
    aggregates = {a["bid"]: a for a in statement["aggregates"]}
    scored = [c for c in criteria if c["category"] in ("technical", "commercial")]
    for bid in statement["bids"]:
        own = [s for s in scores if s["bid"] == bid["bid"]]
        if not own:
            continue
        agg = aggregates.get(bid["bid"], {"criteria": [], "expert_totals": []})
        panel = {c["criterion"]: c["panel_score"] for c in agg["criteria"]}
        rows = []
        for c in scored:
            values = {s["member"]: s["value"] for s in own if s["criterion"] == c["code"]}
            rows.append([f"{c['code']} {c['name']}（{c['max_score']}）"] + [values.get(s, "—") for s in serving] + [panel.get(c["code"])])
        totals = {e["member"]: e["total"] for e in agg["expert_totals"]}
        rows.append([_("合计")] + [totals.get(s, "—") for s in serving] + [""])
        doc.h3(bid["bidder"]["name"])
        width = (CONTENT - 50 * mm - 20 * mm) / max(len(serving), 1)
        doc.table([_("评审因素（满分）")] + [_("专家%(seat)s") % {"seat": s} for s in serving] + [_("评委会得分")], rows,
                  widths=[50 * mm] + [width] * len(serving) + [20 * mm])
    doc.p(_("评委会得分为各专家评分的算术平均值；专家超过 5 人时先去掉一个最高分和一个最低分；保留两位小数，四舍五入。"), doc.small)

    doc.h2(_("六、评分分布图"))
    doc.p(_("每个投标人一行：蓝点为每位专家（点内数字为席位号）的技术和商务评分合计，灰线为最高与最低之间的范围，红线为评委会得分。"), doc.small)
    doc.story.append(spread_chart(statement, font.name))

    doc.h2(_("七、报价评分"))
    benchmark = statement["benchmark"]
    if benchmark:
        doc.p(_("评标基准价：%(value)s 元（方法：%(method)s）") % {"value": yuan(benchmark.get("value_fen")), "method": benchmark.get("method", "—")})
        for step in benchmark.get("steps") or []:
            doc.p("· " + _step_text(step), doc.small)
    doc.table([_("投标人"), _("评审价格（元）"), _("偏差率（%）"), _("报价得分"), _("明显偏低")], [
        [bidders.get(r["bid"]), yuan(r["price_fen"]), r["deviation_percent"], r["price_score"], _("是") if r["abnormally_low"] else _("否")]
        for r in statement["results"]
    ], widths=[60 * mm, 32 * mm, 26 * mm, 24 * mm, CONTENT - 142 * mm])

    doc.h2(_("八、汇总与排序"))
    doc.table([_("排名"), _("投标人"), _("技术"), _("商务"), _("报价"), _("总分"), _("备注")], [
        [r["rank"], bidders.get(r["bid"]), r["technical"], r["commercial"], r["price_score"], r["total"],
         (_("否决：%(reason)s") % {"reason": r["rejection_reason"]}) if r["rejected"] else ""]
        for r in statement["results"]
    ], widths=[14 * mm, 56 * mm, 18 * mm, 18 * mm, 18 * mm, 18 * mm, CONTENT - 142 * mm])

    doc.h2(_("九、中标候选人"))
    if statement["candidates"]:
        doc.table([_("排序"), _("中标候选人"), _("总分")],
                  [[_("第%(n)s名") % {"n": c["candidate_rank"]}, c["bidder"], c["total"]] for c in statement["candidates"]],
                  widths=[24 * mm, 110 * mm, CONTENT - 134 * mm])
    else:
        doc.p(_("无中标候选人。"))
    for group in (benchmark or {}).get("lots", {}).get("groups", []):
        doc.p(_("并列第%(rank)s名的投标人（%(bids)s）经全部排序规则仍得分相同，锁定排序时抽签决定先后：%(order)s。") % {
            "rank": group["rank"], "bids": _("、").join(str(bidders.get(b, b)) for b in group["bids"]),
            "order": _("、").join(str(bidders.get(b, b)) for b in group["order"])}, doc.small)
    if (benchmark or {}).get("lots"):
        doc.p(_("抽签种子：%(seed)s（算法：%(algorithm)s）") % {"seed": benchmark["lots"]["seed_hex"],
                                                          "algorithm": benchmark["lots"]["algorithm"]}, doc.small)

    doc.h2(_("十、偏离说明"))
    if statement["outliers"]:
        doc.table([_("投标人"), _("因素"), _("专家"), _("评分"), _("说明")],
                  [[bidders.get(o["bid"]), o["criterion"], o["member"], o["value"], o["reason"]] for o in statement["outliers"]],
                  widths=[40 * mm, 14 * mm, 14 * mm, 16 * mm, CONTENT - 84 * mm])
    else:
        doc.p(_("无超出容许偏差的评分。"))

    doc.h2(_("十一、重新评审记录"))
    if statement["rescoring"]:
        doc.table([_("时间"), _("评审阶段"), _("提出人"), _("原因")],
                  [[local_time(r["at"]), _stage(r["stage"]), _("专家%(seat)s") % {"seat": r["by"]}, r["reason"]] for r in statement["rescoring"]],
                  widths=[30 * mm, 30 * mm, 20 * mm, CONTENT - 80 * mm])
    else:
        doc.p(_("评标过程中没有重新评审。"))

    doc.h2(_("十二、澄清"))
    if statement["clarifications"]:
        for c in statement["clarifications"]:
            doc.h3(_("澄清 %(n)s：%(bidder)s") % {"n": c["number"], "bidder": bidders.get(c["bid"], "")})
            doc.p(_("问题：%(q)s") % {"q": c["question"]})
            doc.p(_("答复：%(a)s") % {"a": c["answer"] or "—"})
            doc.p(_("问题哈希 %(q)s；答复哈希 %(a)s") % {"q": c["question_sha256"], "a": c["answer_sha256"] or "—"}, doc.small)
    else:
        doc.p(_("评标过程中没有澄清。"))

    doc.h2(_("十三、报告哈希及审计"))
    doc.hash(_("报告哈希（SHA-256）"), statement_hash)
    audit = statement["audit_head"]
    doc.p(_("审计链头：#%(seq)s") % {"seq": audit["seq"]})
    doc.hash(_("审计链头哈希"), audit["hash"])
    doc.p(_("生成时间：%(time)s；生成人：%(name)s（组长）") % {"time": local_time(statement["drafted_at"]), "name": statement["drafted_by"]["name"]})
    doc.p(_("报告哈希是本报告全部内容（规范 JSON 报告声明）的 SHA-256。每位评标委员会成员以本人登记的签名密钥对报告哈希签名，"
            "或书面提出不同意见（R53）。签名算法：ECDSA P-256 / SHA-256，签名内容为报告哈希的 64 位小写十六进制文本。"), doc.small)

    if answers is not None:
        doc.story.append(PageBreak())
        doc.p(_("附录：评标委员会成员签名及不同意见"), doc.s_h1)
        doc.hash(_("报告哈希（SHA-256）"), statement_hash)
        doc.p(_("定稿时间：%(time)s") % {"time": local_time(finalised_at)})
        for answer in answers:
            block = []
            doc_block = _Doc(font.name)
            doc_block.h3(_("专家%(seat)s %(name)s") % {"seat": answer.seat, "name": answer.name})
            if answer.response == "signed":
                doc_block.p(_("已签名（%(time)s）") % {"time": local_time(answer.at)})
                doc_block.hash(_("签名公钥指纹"), answer.key_fingerprint)
                doc_block.hash(_("签名（DER，base64）"), answer.signature)
            elif answer.response == "dissent":
                doc_block.p(_("书面提出不同意见（%(time)s）：") % {"time": local_time(answer.at)})
                doc_block.p(answer.text)
            else:
                doc_block.p(_("未签名，也未提出不同意见。"))
            block.extend(doc_block.story)
            doc.story.append(KeepTogether(block))

    buffer = io.BytesIO()
    title = _("评标报告")
    pdf = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN, invariant=True,
        title=title, author=statement["platform"]["name"], creator="etender", keywords=font.note,
        subject=f"{REPORT_TYPE} lot {lot['id']} v{statement['version']} sha256 {statement_hash}",
    )

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(font.name, 7.5)
        canvas.drawString(MARGIN, 10 * mm, f"{tender['code']} · {lot['number']:02d} · {title} v{statement['version']} · SHA-256 {statement_hash[:16]}…")
        canvas.drawRightString(WIDTH - MARGIN, 10 * mm, str(document.page))
        canvas.restoreState()

    pdf.build(doc.story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
