"""The evaluation report's statement (评标报告): everything the report says, as one JSON object,
and its hash. Pure: no Django (the service gathers the plain data from the database).

The PDF (evaluation/report_pdf.py) renders this object and nothing else, and its hash is what
every serving member signs (evaluation/report_signing.py), so the report can be checked without
the PDF. Dissents are written after the statement is fixed and are NOT part of it (R53: a member
who disagrees writes why instead of signing).

    statement_sha256 = SHA-256( canonical_json(statement) )      lowercase hex

canonical_json is the audit chain's (audit/chain.py: keys sorted, no whitespace, UTF-8, no
floats). Scores are strings with 2 decimals ("27.50"), money integer fen, times UTC
("2026-03-01T01:30:00Z"). Layout: docs/evaluation-report.md.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from audit.chain import canonical_json
from evaluation import formulas

REPORT_TYPE = "etender-evaluation-report"
FORMAT_VERSION = 1
SUBJECTIVE = ("technical", "commercial")
MAX_CANDIDATES = 3  # R53


def _(message: str) -> str:
    """Marks a msgid for extraction; the Django layer translates it."""
    return message


class ReportDataError(ValueError):
    """The data cannot make a report (e.g. more than 3 candidates, a score by no panel seat).
    `template` is a Simplified Chinese msgid the Django layer translates, `params` its values."""

    def __init__(self, template: str, params: dict | None = None):
        self.template, self.params = template, params or {}
        super().__init__(template % self.params if self.params else template)


# --- plain values -------------------------------------------------------------------------------


def utc(moment) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        return moment
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def score_text(value) -> str | None:
    """A score as a string with exactly 2 decimals (half up), or None."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ReportDataError(_("分值“%(value)s”不是数字。"), {"value": str(value)}) from None
    return str(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def plain(value):
    """`value` made fit for canonical JSON: decimals and floats as strings, times as UTC strings,
    tuples as lists. Used for the stored benchmark working and the scheme's formula."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def sha256_text(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


# --- the statement ------------------------------------------------------------------------------


def _criteria(criteria: list[dict]) -> list[dict]:
    out = []
    for c in criteria:
        out.append({
            "code": str(c["code"]), "name": str(c.get("name", "")), "category": str(c["category"]),
            "max_score": score_text(c.get("max_score")) if c.get("category") != "qualification" else None,
            "weight": plain(c.get("weight", 1)) if c.get("category") != "qualification" else None,
        })
    return out


def _members(members: list[dict], chair_seat) -> list[dict]:
    out = []
    for m in sorted(members, key=lambda m: (m["seat"], m.get("round", 0))):
        out.append({
            "seat": int(m["seat"]), "round": int(m.get("round", 0)), "kind": str(m["kind"]),
            "specialty": str(m.get("specialty") or ""), "name": str(m.get("name") or ""),
            "title": str(m.get("title") or ""), "employer": str(m.get("employer") or ""),
            "status": str(m["status"]), "status_reason": str(m.get("status_reason") or ""),
            "serving": bool(m["serving"]), "venue": str(m.get("venue") or "host"),
            "checked_in_at": utc(m.get("checked_in_at")),
            "chair": bool(m["serving"]) and chair_seat is not None and int(m["seat"]) == int(chair_seat),
        })
    return out


def _bids(bids: list[dict]) -> list[dict]:
    return [
        {"bid": int(b["bid"]), "bidder": {"id": int(b["bidder_id"]), "name": str(b["bidder_name"]),
                                          "credit_code": str(b.get("credit_code") or "")},
         "price_fen": b.get("price_fen")}
        for b in sorted(bids, key=lambda b: b["bid"])
    ]


def _verdicts(verdicts: list[dict], seats: set) -> list[dict]:
    out = []
    for v in verdicts:
        if v.get("void"):
            continue
        if v["member"] not in seats:
            raise ReportDataError(_("有一条资格审查意见不属于在任的评标委员会成员（已回避或拒绝参加的成员的意见应已作废）。"))
        out.append({"bid": int(v["bid"]), "criterion": str(v["criterion"]), "member": int(v["member"]),
                    "passed": bool(v["passed"]), "reason": str(v.get("reason") or "")})
    return sorted(out, key=lambda v: (v["bid"], v["criterion"], v["member"]))


def _scores(scores: list[dict], seats: set) -> list[dict]:
    out = []
    for s in scores:
        if s.get("void"):
            continue
        if s["member"] not in seats:
            raise ReportDataError(_("有一条评分不属于在任的评标委员会成员（已回避或拒绝参加的成员的评分应已作废）。"))
        out.append({"bid": int(s["bid"]), "criterion": str(s["criterion"]), "member": int(s["member"]),
                    "value": score_text(s["value"]), "reason": str(s.get("reason") or "")})
    return sorted(out, key=lambda s: (s["bid"], s["criterion"], s["member"]))


def _aggregates(scores: list[dict], criteria: list[dict]) -> list[dict]:
    """Per bid: the panel's score on each subjective criterion (formulas.subjective_average: one
    highest and one lowest dropped above 5 experts), and each expert's subjective total (the sum of
    that expert's technical and commercial scores: the score spread the chart shows)."""
    category = {c["code"]: c["category"] for c in criteria}
    by_bid_criterion: dict = defaultdict(list)
    by_bid_member: dict = defaultdict(lambda: defaultdict(Decimal))
    for s in scores:
        by_bid_criterion[(s["bid"], s["criterion"])].append(Decimal(s["value"]))
        if category.get(s["criterion"]) in SUBJECTIVE:
            by_bid_member[s["bid"]][s["member"]] += Decimal(s["value"])
    out = []
    for bid in sorted({s["bid"] for s in scores}):
        out.append({
            "bid": bid,
            "criteria": [
                {"criterion": code, "experts": len(by_bid_criterion[(bid, code)]),
                 "panel_score": score_text(formulas.subjective_average(by_bid_criterion[(bid, code)]))}
                for code in [c["code"] for c in criteria] if by_bid_criterion.get((bid, code))
            ],
            "expert_totals": [{"member": m, "total": score_text(t)} for m, t in sorted(by_bid_member[bid].items())],
        })
    return out


def _results(results: list[dict]) -> list[dict]:
    out = []
    for r in results:
        out.append({
            "bid": int(r["bid"]), "price_fen": r.get("price_fen"), "qualified": r.get("qualified"),
            "qualification_reasons": plain(r.get("qualification_reasons") or []),
            "technical": score_text(r.get("technical")), "commercial": score_text(r.get("commercial")),
            "price_score": score_text(r.get("price_score")), "deviation_percent": str(r.get("deviation_percent") or ""),
            "total": score_text(r.get("total")), "rank": r.get("rank"), "candidate_rank": r.get("candidate_rank"),
            "abnormally_low": bool(r.get("abnormally_low")), "rejected": bool(r.get("rejected")),
            "rejection_reason": str(r.get("rejection_reason") or ""),
        })
    return sorted(out, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["bid"]))


def _candidates(results: list[dict], bidders: dict) -> list[dict]:
    ranked = sorted((r for r in results if r["candidate_rank"] is not None), key=lambda r: r["candidate_rank"])
    if len(ranked) > MAX_CANDIDATES:
        raise ReportDataError(_("中标候选人有%(count)s名，评标报告最多推荐%(max)s名（R53）。"), {"count": len(ranked), "max": MAX_CANDIDATES})
    if [r["candidate_rank"] for r in ranked] != list(range(1, len(ranked) + 1)):
        raise ReportDataError(_("中标候选人的排序应从第1名起连续排列。"))
    return [{"candidate_rank": r["candidate_rank"], "bid": r["bid"], "bidder": bidders.get(r["bid"], ""), "total": r["total"]}
            for r in ranked]


def _reopenings(reopenings: list[dict]) -> list[dict]:
    out = [{"stage": str(r["stage"]), "reason": str(r["reason"]), "by": int(r["by"]), "at": utc(r["at"]),
            "snapshot": plain(r.get("snapshot") or {})} for r in reopenings]
    return sorted(out, key=lambda r: (r["at"] or "", r["stage"]))


def _clarifications(clarifications: list[dict]) -> list[dict]:
    out = []
    for c in sorted(clarifications, key=lambda c: c["number"]):
        out.append({
            "number": int(c["number"]), "bid": int(c["bid"]), "reason": str(c.get("reason") or "general"),
            "status": str(c["status"]), "asked_by": int(c["asked_by"]), "asked_at": utc(c.get("asked_at")),
            "deadline": utc(c.get("deadline")), "question": str(c["question"]), "question_sha256": sha256_text(c["question"]),
            "answer": str(c.get("answer") or ""), "answered_at": utc(c.get("answered_at")),
            "answer_sha256": str(c.get("answer_sha256") or ""), "signing_key_fingerprint": str(c.get("signing_key_fingerprint") or ""),
        })
    return out


def build_statement(
    *, version: int, platform: dict, tender: dict, lot: dict, session: dict, criteria: list[dict], price_formula: dict,
    members: list[dict], chair_seat: int | None, bids: list[dict], verdicts: list[dict], scores: list[dict],
    results: list[dict], benchmark: dict, reopenings: list[dict], clarifications: list[dict], drafted_at, drafted_by: dict,
    audit_head: tuple[int, str],
) -> dict:
    """The report statement from plain data (see docs/evaluation-report.md for each field). The
    order of the inputs does not matter: every list is sorted here, so the same facts always give
    the same statement and hash."""
    panel = _members(members, chair_seat)
    seats = {m["seat"] for m in panel if m["serving"]}
    if chair_seat is not None and chair_seat not in seats:
        raise ReportDataError(_("组长不是在任的评标委员会成员。"))
    crit = _criteria(criteria)
    score_rows = _scores(scores, seats)
    result_rows = _results(results)
    bid_rows = _bids(bids)
    bidders = {b["bid"]: b["bidder"]["name"] for b in bid_rows}
    return {
        "type": REPORT_TYPE,
        "v": FORMAT_VERSION,
        "version": int(version),
        "platform": {"region_code": str(platform["region_code"]), "name": str(platform["name"])},
        "tender": {"id": int(tender["id"]), "code": str(tender["code"]), "title": str(tender["title"])},
        "lot": {"id": int(lot["id"]), "number": int(lot["number"]), "name": str(lot["name"])},
        "session": {"starts_at": utc(session.get("starts_at")), "ends_at": utc(session.get("ends_at"))},
        "scheme": {"criteria": crit, "price_formula": plain(price_formula or {})},
        "panel": panel,
        "chair": int(chair_seat) if chair_seat is not None else None,
        "bids": bid_rows,
        "qualification": _verdicts(verdicts, seats),
        "scores": score_rows,
        "aggregates": _aggregates(score_rows, crit),
        "benchmark": plain(benchmark or {}),
        "results": result_rows,
        "ranking": [{"rank": r["rank"], "bid": r["bid"], "bidder": bidders.get(r["bid"], ""), "total": r["total"]}
                    for r in result_rows if r["rank"] is not None],
        "candidates": _candidates(result_rows, bidders),
        "outliers": [s for s in score_rows if s["reason"]],
        "rescoring": _reopenings(reopenings),
        "clarifications": _clarifications(clarifications),
        "drafted_at": utc(drafted_at),
        "drafted_by": {"seat": drafted_by.get("seat"), "name": str(drafted_by.get("name") or "")},
        "audit_head": {"seq": int(audit_head[0]), "hash": str(audit_head[1])},
    }


def statement_text(statement: dict) -> str:
    """The canonical JSON text the hash is taken over."""
    return canonical_json(statement)


def statement_hash(statement: dict) -> str:
    return hashlib.sha256(statement_text(statement).encode("utf-8")).hexdigest()
