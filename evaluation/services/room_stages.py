"""What the evaluation room's stages compute, read from the scheme written in the tender documents
(R49) and the panel's sheets: the bids under evaluation, the qualification majority, the outlier
gate, the price stage (benchmark, price scores, abnormally low prices) and the ranking. Used by
evaluation/services/room.py inside its transactions and by the room's snapshot; writes only
BidResult rows and session.benchmark (the services call it, nothing else does).

Defaults for what a scheme may leave out (docs/evaluation-room.md, "Scheme options"):
- a subjective criterion's score step: criterion "step", else scheme "score_step", else 0.5;
- the outlier tolerance: criterion "outlier_tolerance" (points), else scheme
  "outlier_tolerance_percent" of the criterion's max score, else 20 % of it;
- the abnormally low threshold (P21): price_formula "abnormally_low_percent", else 15 (% below the
  benchmark);
- the ranking's tie-breaks: scheme "tie_breaks", else formulas.TIE_BREAKS.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.utils.translation import gettext as _

from config.errors import DomainError
from django.db.models import Count
from evaluation import formulas
from evaluation.models import BidResult, MemberStatus, PanelMember, QualificationVerdict, Score, StageKind
from opening.models import BidOpening, DecryptionStatus

DEFAULT_STEP = Decimal("0.5")
DEFAULT_OUTLIER_PERCENT = Decimal(20)
DEFAULT_ABNORMALLY_LOW_PERCENT = Decimal(15)
SERVING = (MemberStatus.DRAWN, MemberStatus.CONFIRMED)


# --- the scheme -------------------------------------------------------------------------------

def scheme_of(session) -> dict:
    return session.lot.tender.evaluation_scheme or {}


def criteria(scheme: dict, *categories: str) -> list[dict]:
    return [c for c in scheme.get("criteria", []) if isinstance(c, dict) and c.get("category") in categories]


def qualification_criteria(scheme: dict) -> list[dict]:
    return criteria(scheme, "qualification")


def subjective_criteria(scheme: dict) -> list[dict]:
    return criteria(scheme, *formulas.SUBJECTIVE_CATEGORIES)


def price_criterion(scheme: dict) -> dict | None:
    found = criteria(scheme, "price")
    return found[0] if found else None


def step_of(scheme: dict, criterion: dict) -> Decimal:
    value = criterion.get("step", scheme.get("score_step", DEFAULT_STEP))
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def tolerance_of(scheme: dict, criterion: dict) -> Decimal:
    """How far (points) a score may lie from the panel's mean before it needs a written reason."""
    if "outlier_tolerance" in criterion:
        value = criterion["outlier_tolerance"]
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    percent = scheme.get("outlier_tolerance_percent", DEFAULT_OUTLIER_PERCENT)
    percent = Decimal(repr(percent)) if isinstance(percent, float) else Decimal(percent)
    max_score = criterion["max_score"]
    max_score = Decimal(repr(max_score)) if isinstance(max_score, float) else Decimal(max_score)
    return max_score * percent / 100


def abnormally_low_percent(scheme: dict) -> Decimal:
    value = (scheme.get("price_formula") or {}).get("abnormally_low_percent", DEFAULT_ABNORMALLY_LOW_PERCENT)
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def formula_error(error: formulas.FormulaError) -> DomainError:
    message = _(error.template) % error.params if error.params else _(error.template)
    return DomainError(message, code="formula")


# --- the panel and the bids ------------------------------------------------------------------

def serving_members(session) -> list[PanelMember]:
    return list(PanelMember.objects.filter(drawing_id=session.drawing_id, status__in=SERVING).order_by("seat", "round"))


def panel_complete(session, members: list[PanelMember] | None = None) -> bool:
    """Every seat of the drawing is filled by a serving member who has checked in."""
    members = serving_members(session) if members is None else members
    return len(members) >= session.drawing.panel_size and all(m.checked_in_at for m in members)


def bid_openings(session) -> list[BidOpening]:
    """The bids under evaluation: those opened at the lot's opening, in the order received."""
    return list(
        BidOpening.objects.filter(session__lot_id=session.lot_id, status=DecryptionStatus.OPENED)
        .select_related("bid__bidder").order_by("bid__received_at", "pk")
    )


def results_by_bid(session) -> dict[int, BidResult]:
    return {r.bid_id: r for r in BidResult.objects.filter(session=session)}


def bid_ids(session) -> list[int]:
    """The ids of the bids under evaluation, in the order received (bid_openings without building
    the rows: the scoring path asks for them on every score)."""
    return list(
        BidOpening.objects.filter(session__lot_id=session.lot_id, status=DecryptionStatus.OPENED)
        .order_by("bid__received_at", "pk").values_list("bid_id", flat=True)
    )


def qualified_bid_ids(session, *, ordered_ids: list[int] | None = None) -> list[int]:
    """Bids that passed the qualification review and were not rejected, in the order received."""
    passed = set(BidResult.objects.filter(session=session, qualified=True, rejected=False).values_list("bid_id", flat=True))
    return [bid_id for bid_id in (bid_ids(session) if ordered_ids is None else ordered_ids) if bid_id in passed]


def stage_scope(session, kind: str, *, ordered_ids: list[int] | None = None) -> tuple[list[int], list[str]]:
    """(bids, criterion codes) every member's sheet of the stage covers."""
    scheme = scheme_of(session)
    if kind == StageKind.QUALIFICATION:
        return (bid_ids(session) if ordered_ids is None else ordered_ids), [c["code"] for c in qualification_criteria(scheme)]
    if kind == StageKind.SCORING:
        return qualified_bid_ids(session, ordered_ids=ordered_ids), [c["code"] for c in subjective_criteria(scheme)]
    return [], []


def sheet_model(kind: str):
    return {StageKind.QUALIFICATION: QualificationVerdict, StageKind.SCORING: Score}.get(kind)


def progress(session, kind: str, members: list[PanelMember] | None = None, *,
             scope: tuple[list[int], list[str]] | None = None) -> dict[int, dict]:
    """{member id: {"seat", "done", "total"}} for a sheet stage: counts, never values."""
    model = sheet_model(kind)
    members = serving_members(session) if members is None else members
    bids, codes = stage_scope(session, kind) if scope is None else scope
    total = len(bids) * len(codes)
    done = {}
    if model is not None and total:
        done = dict(model.objects.filter(session=session, void=False, bid_id__in=bids, criterion__in=codes,
                                         member__in=[m.pk for m in members])
                    .order_by().values("member_id").annotate(n=Count("id")).values_list("member_id", "n"))
    return {m.pk: {"seat": m.seat, "done": done.get(m.pk, 0), "total": total} for m in members}


# --- qualification ---------------------------------------------------------------------------

def tally_qualification(session) -> list[dict]:
    """By majority per criterion per bid (a tie fails: more passes than fails are needed); a bid
    failing any criterion is not qualified. Writes BidResult.qualified and the reasons."""
    scheme = scheme_of(session)
    names = {c["code"]: c.get("name", c["code"]) for c in qualification_criteria(scheme)}
    verdicts = list(QualificationVerdict.objects.filter(session=session, void=False).select_related("member"))
    rows = []
    for opening in bid_openings(session):
        failures = []
        for code, name in names.items():
            mine = [v for v in verdicts if v.bid_id == opening.bid_id and v.criterion == code]
            passes = sum(1 for v in mine if v.passed)
            fails = len(mine) - passes
            if passes <= fails:
                failures.append({"criterion": code, "name": name, "pass": passes, "fail": fails,
                                 "reasons": [v.reason for v in sorted(mine, key=lambda v: v.member.seat) if not v.passed]})
        result, _created = BidResult.objects.get_or_create(session=session, bid_id=opening.bid_id)
        result.price_fen = opening.price_prevailing_fen
        result.qualified = not failures
        result.qualification_reasons = failures
        result.save(update_fields=["price_fen", "qualified", "qualification_reasons"])
        rows.append({"bid": opening.bid_id, "qualified": result.qualified, "failures": failures})
    return rows


def clear_qualification(session) -> None:
    """The qualification reopened: no conclusion until it locks again (rejections stay)."""
    BidResult.objects.filter(session=session).update(qualified=None, qualification_reasons=[])


# --- scoring: the outlier gate ---------------------------------------------------------------

def _scores_by_cell(session, members) -> dict[tuple[int, str], list[Score]]:
    bids, codes = stage_scope(session, StageKind.SCORING)
    cells: dict[tuple[int, str], list[Score]] = {}
    for score in Score.objects.filter(session=session, void=False, bid_id__in=bids, criterion__in=codes, member__in=members):
        cells.setdefault((score.bid_id, score.criterion), []).append(score)
    return cells


def outlier_scores(session, members: list[PanelMember] | None = None) -> list[Score]:
    """Every score further from its panel mean than the scheme's tolerance (formulas.outliers)."""
    members = serving_members(session) if members is None else members
    scheme = scheme_of(session)
    by_code = {c["code"]: c for c in subjective_criteria(scheme)}
    flagged = []
    for (_bid, code), scores in _scores_by_cell(session, members).items():
        if len(scores) < 2:
            continue
        try:
            far = set(formulas.outliers({s.pk: s.value for s in scores}, tolerance=tolerance_of(scheme, by_code[code])))
        except formulas.FormulaError as error:
            raise formula_error(error) from None
        flagged += [s for s in scores if s.pk in far]
    return flagged


def unexplained_outliers(session, members=None) -> list[Score]:
    return [s for s in outlier_scores(session, members) if not s.reason.strip()]


# --- price stage ------------------------------------------------------------------------------

def _benchmark_json(result: formulas.BenchmarkResult) -> dict:
    return {
        "method": result.method, "value_fen": result.value_fen, "used_fen": list(result.used_fen),
        "dropped_fen": list(result.dropped_fen), "mean": str(result.mean), "combined": str(result.combined), "k": str(result.k),
        "steps": [{"template": s.template, "params": {k: (v if isinstance(v, int) else str(v)) for k, v in s.params.items()}}
                  for s in result.steps],
    }


def compute_price(session) -> dict:
    """The benchmark from the qualified bids' prevailing prices (P19), each bid's deviation and price
    score under the scheme's formula, and the abnormally low flag (P21). Writes BidResult and
    session.benchmark; returns what the room shows."""
    scheme = scheme_of(session)
    formula = scheme.get("price_formula") or {}
    criterion = price_criterion(scheme)
    results = results_by_bid(session)
    qualified = qualified_bid_ids(session)
    if not qualified:
        raise DomainError(_("没有通过资格审查的投标，无法计算报价得分。"), code="no_valid_bids")
    if criterion is None:
        raise DomainError(_("评标办法没有报价评分因素。"), code="formula")
    clear_price(session)
    prices = {bid: results[bid].price_fen for bid in qualified}
    method = formula.get("benchmark")
    threshold = abnormally_low_percent(scheme)
    try:
        benchmark = formulas.benchmark_price(
            prices.values(), method=method,
            k_percent=formula.get("k_percent", 0) if method == "average_minus_k" else 0,
        )
        rows = []
        for bid, price in prices.items():
            result = results[bid]
            result.deviation_percent = str(formulas.round_score(formulas.deviation_percent(price, benchmark.value_fen)))
            result.price_score = formulas.price_score(
                price, benchmark.value_fen, full_marks=criterion["max_score"],
                deduct_above_per_percent=formula.get("deduct_above_per_percent", 0),
                deduct_below_per_percent=formula.get("deduct_below_per_percent", 0),
            )
            result.abnormally_low = formulas.is_abnormally_low(price, benchmark.value_fen, threshold_percent=threshold)
            result.save(update_fields=["deviation_percent", "price_score", "abnormally_low"])
            rows.append(price_row(result))
    except formulas.FormulaError as error:
        raise formula_error(error) from None
    session.benchmark = {**_benchmark_json(benchmark), "abnormally_low_percent": str(threshold), "bids": list(prices)}
    session.save(update_fields=["benchmark"])
    return {"benchmark": session.benchmark, "rows": rows}


def price_row(result: BidResult) -> dict:
    return {"bid": result.bid_id, "price_fen": result.price_fen, "deviation_percent": result.deviation_percent,
            "price_score": _str(result.price_score), "abnormally_low": result.abnormally_low}


def clear_price(session) -> None:
    # A rejected bid keeps what it was rejected on (its price score and abnormally low flag, P21).
    BidResult.objects.filter(session=session, rejected=False).update(price_score=None, deviation_percent="", abnormally_low=False)
    session.benchmark = {}
    session.save(update_fields=["benchmark"])


# --- ranking ----------------------------------------------------------------------------------

def compute_ranking(session) -> dict:
    """The whole lot by formulas.score_lot: each subjective criterion averaged over the panel
    (formulas.subjective_average's rule), the price score, the weighted totals, the ranking with
    the scheme's tie-breaks and at most 3 candidates (R53). Writes BidResult."""
    scheme = scheme_of(session)
    results = results_by_bid(session)
    qualified = qualified_bid_ids(session)
    if not qualified:
        raise DomainError(_("没有通过资格审查的投标，无法排序。"), code="no_valid_bids")
    clear_ranking(session)
    codes = {c["code"] for c in subjective_criteria(scheme)}
    panel: dict[int, dict[int, dict[str, Decimal]]] = {bid: {} for bid in qualified}
    for score in Score.objects.filter(session=session, void=False, bid_id__in=qualified, criterion__in=codes).select_related("member"):
        panel[score.bid_id].setdefault(score.member.seat, {})[score.criterion] = score.value
    try:
        lot = formulas.score_lot(
            scheme, prices_fen={bid: results[bid].price_fen for bid in qualified}, subjective_scores=panel,
            tie_breaks=scheme.get("tie_breaks", formulas.TIE_BREAKS),
        )
    except formulas.FormulaError as error:
        raise formula_error(error) from None
    candidate_rank = {row.bid: n for n, row in enumerate(lot.candidates, start=1)}
    rows = []
    for scored in lot.bids:
        result = results[scored.bid]
        result.technical, result.commercial, result.total = scored.technical, scored.commercial, scored.total
        result.price_score, result.rank = scored.price_score, scored.rank
        result.deviation_percent = str(scored.deviation_percent)
        result.candidate_rank = candidate_rank.get(scored.bid)
        result.save(update_fields=["technical", "commercial", "total", "price_score", "rank", "deviation_percent", "candidate_rank"])
        rows.append({**ranking_row(result), "tied": scored.tied,
                     "criteria": {code: {"score": str(c.score), "weighted": str(c.weighted)} for code, c in scored.criteria.items()}})
    return {"rows": rows, "candidates": [{"bid": row.bid, "candidate_rank": candidate_rank[row.bid], "tied": row.tied} for row in lot.candidates],
            "tied": any(row.tied for row in lot.candidates)}


LOTS_SEED_FROM = "sha256('etender-lots-v1:' || panel drawing seed || ':' || session id)"


def lots_seed(session) -> bytes:
    """The seed of the ranking's drawing of lots (LOTS_SEED_FROM)."""
    drawing_seed = bytes.fromhex(session.drawing.seed_hex or "")
    if not drawing_seed:
        raise DomainError(_("本次评标的专家抽取没有随机种子，无法抽签决定并列的中标候选人。"), code="no_lots_seed")
    return hashlib.sha256(b"etender-lots-v1:" + drawing_seed + f":{session.pk}".encode("ascii")).digest()


def draw_tied_candidates(session) -> dict:
    """At the ranking's lock: bids still tied after every tie-break (formulas.rank) within the
    candidates' places (rank 1..3) are ordered by drawing lots (formulas.lot_order), and the
    candidates (at most 3, R53) follow that order. The seed is derived from the panel drawing's
    seed (lots_seed), committed in the audit trail before the panel was drawn and secret until the
    result is published: nobody can foresee the order, reopening and locking again cannot draw
    anew, and anyone can check it once the drawing's seed is revealed. The seed, the algorithm and
    each group's drawn order are written to session.benchmark["lots"] (part of the report's signed
    statement) and returned for the audit and the room. {} when no tie touches the candidates."""
    benchmark = dict(session.benchmark or {})
    benchmark.pop("lots", None)
    results = [r for r in results_by_bid(session).values() if r.qualified and not r.rejected and r.rank is not None]
    groups: dict[int, list[int]] = {}
    for r in results:
        groups.setdefault(r.rank, []).append(r.bid_id)
    tied = {rank: sorted(bids) for rank, bids in groups.items() if len(bids) > 1 and rank <= formulas.MAX_CANDIDATES}
    lots: dict = {}
    if tied:
        seed = lots_seed(session)
        drawn = {rank: formulas.lot_order(seed, rank, bids) for rank, bids in tied.items()}
        position = {bid: n for order in drawn.values() for n, bid in enumerate(order)}
        ordered = sorted(results, key=lambda r: (r.rank, position.get(r.bid_id, 0), r.bid_id))
        for n, r in enumerate(ordered, start=1):
            r.candidate_rank = n if n <= formulas.MAX_CANDIDATES else None
            r.save(update_fields=["candidate_rank"])
        lots = {"seed_hex": seed.hex(), "seed_from": LOTS_SEED_FROM, "algorithm": formulas.LOT_ALGORITHM,
                "groups": [{"rank": rank, "bids": tied[rank], "order": drawn[rank]} for rank in sorted(tied)]}
        benchmark["lots"] = lots
    session.benchmark = benchmark
    session.save(update_fields=["benchmark"])
    return lots


def ranking_row(result: BidResult) -> dict:
    return {"bid": result.bid_id, "price_fen": result.price_fen, "technical": _str(result.technical),
            "commercial": _str(result.commercial), "price_score": _str(result.price_score), "total": _str(result.total),
            "rank": result.rank, "candidate_rank": result.candidate_rank}


def clear_ranking(session) -> None:
    BidResult.objects.filter(session=session).update(technical=None, commercial=None, total=None, rank=None, candidate_rank=None)


# --- what a locked stage reveals --------------------------------------------------------------

def _str(value) -> str | None:
    return None if value is None else str(value)


def stage_values(session, kind: str) -> dict:
    """Every member's values of a stage (revealed to the room when the chair locks it; stored in a
    StageReopening when it is reopened). Seats, never names."""
    if kind == StageKind.QUALIFICATION:
        verdicts = QualificationVerdict.objects.filter(session=session, void=False).select_related("member").order_by("bid_id", "criterion", "member__seat")
        results = results_by_bid(session)
        return {
            "verdicts": [{"seat": v.member.seat, "bid": v.bid_id, "criterion": v.criterion, "passed": v.passed, "reason": v.reason} for v in verdicts],
            "results": [{"bid": r.bid_id, "qualified": r.qualified, "failures": r.qualification_reasons} for r in results.values()],
        }
    if kind == StageKind.SCORING:
        scores = list(Score.objects.filter(session=session, void=False).select_related("member").order_by("bid_id", "criterion", "member__seat"))
        cells: dict[tuple[int, str], list[Decimal]] = {}
        for s in scores:
            cells.setdefault((s.bid_id, s.criterion), []).append(s.value)
        return {
            "scores": [{"seat": s.member.seat, "bid": s.bid_id, "criterion": s.criterion, "value": str(s.value), "reason": s.reason} for s in scores],
            "averages": [{"bid": bid, "criterion": code, "average": str(formulas.subjective_average(values))}
                         for (bid, code), values in cells.items()],
        }
    results = [r for r in results_by_bid(session).values() if r.qualified and not r.rejected]
    if kind == StageKind.PRICE:
        return {"benchmark": session.benchmark, "rows": [price_row(r) for r in results]}
    if kind == StageKind.RANKING:
        ordered = sorted(results, key=lambda r: (r.rank is None, r.rank or 0, r.bid_id))
        return {"rows": [ranking_row(r) for r in ordered]}
    return {}
