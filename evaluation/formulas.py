"""Scoring formulas of the bid evaluation (评标计分公式), as a specification in code.

Pure: no Django. The scheme these formulas serve is the one written into the tender documents
(tendering/scheme.py); only its criteria and its price formula are used (R49).

Numbers
-------
* All arithmetic is `decimal.Decimal`, at 34 significant digits whatever the caller's context.
  Floats (e.g. 0.5 in a scheme dict) are read through their shortest text form, so 0.5 is exactly
  0.5. Bid prices, the benchmark price and the ceiling price are integer fen (分).
* Rounding happens in exactly two places, both ROUND_HALF_UP (四舍五入):
  - `round_score` quantizes a score to 2 decimals. Every score this module returns has been
    through it, once, at the end. Intermediate values (panel averages, weighted parts, deviations)
    are NOT rounded while they are combined, so a total is the rounded exact sum of its parts and
    may differ by 0.01 from the sum of the rounded parts shown next to it.
  - `round_fen` rounds the benchmark price (评标基准价) to whole fen, once, after the mean, the
    ceiling-price weighting and the coefficient K have been applied. Price scores are computed
    from that rounded benchmark, which is the figure announced to the bidders.

Bad input raises `FormulaError` (a ValueError) carrying a Simplified Chinese message template (the
msgid the Django layer translates) and its parameters, like `tendering.scheme.SchemeError`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from functools import wraps

from tendering.scheme import BENCHMARK_METHODS, MAX_K_PERCENT, SCORED_CATEGORIES, validate


def _(message: str) -> str:
    """Marks a msgid for extraction; the Django layer translates it when showing the message."""
    return message


SUBJECTIVE_CATEGORIES = ("technical", "commercial")  # scored by each expert
DROP_EXTREMES_ABOVE = 5  # more than this many bids (or experts): drop one highest and one lowest
MAX_CANDIDATES = 3  # R53: the report ranks at most 3 candidates
TIE_BREAKS = ("total", "price_score", "lower_price", "technical")
MIN_K_COEFFICIENT = 1 - Decimal(MAX_K_PERCENT) / 100

_CONTEXT = Context(prec=34)
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


class FormulaError(ValueError):
    """Bad input to a formula; `template % params` is the (Chinese) message."""

    def __init__(self, template: str, params: dict | None = None):
        self.template = template
        self.params = dict(params or {})
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Step:
    """One line of a calculation as the report explains it: a msgid template and its parameters."""

    template: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


def _exact(function):
    @wraps(function)
    def wrapper(*args, **kwargs):
        with localcontext(_CONTEXT):
            return function(*args, **kwargs)

    return wrapper


# --- reading numbers -------------------------------------------------------------------------

def _decimal(value, label: str) -> Decimal:
    if isinstance(value, bool):
        raise FormulaError(_("%(label)s不是有效的数字。"), {"label": label})
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidOperation
            number = Decimal(repr(value))
        elif isinstance(value, (int, Decimal, str)):
            number = Decimal(value)
        else:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise FormulaError(_("%(label)s不是有效的数字。"), {"label": label}) from None
    if not number.is_finite():
        raise FormulaError(_("%(label)s不是有效的数字。"), {"label": label})
    return number


def _non_negative(value, label: str) -> Decimal:
    number = _decimal(value, label)
    if number < 0:
        raise FormulaError(_("%(label)s不能为负数。"), {"label": label})
    return number


def _in_range(value, label: str, low, high, *, low_open: bool = False) -> Decimal:
    number = _decimal(value, label)
    if number > high or number < low or (low_open and number == low):
        template = _("%(label)s必须大于%(min)s且不超过%(max)s。") if low_open else _("%(label)s必须在%(min)s至%(max)s之间。")
        raise FormulaError(template, {"label": label, "min": str(low), "max": str(high)})
    return number


def _fen(value, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FormulaError(_("%(label)s必须是大于0的整数（单位：分）。"), {"label": label})
    return value


def _drop_threshold(value) -> None:
    """More than `value` bids (experts) → drop one highest and one lowest; None: never. At least 2, so
    that something is left."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
        raise FormulaError(_("去掉最高、最低值的家数门槛必须是不小于2的整数。"))


def _full_marks(value) -> Decimal:
    marks = _decimal(value, _("满分"))
    if marks <= 0:
        raise FormulaError(_("满分必须大于0。"))
    return marks


# --- the two roundings -----------------------------------------------------------------------

@_exact
def round_score(value) -> Decimal:
    """A score to 2 decimals, half up (2.345 → 2.35, 2.344999 → 2.34). The only score rounding."""
    return _decimal(value, _("分值")).quantize(_CENT, rounding=ROUND_HALF_UP)


@_exact
def round_fen(value) -> int:
    """An amount to whole fen, half up. Used once, for the benchmark price."""
    return int(_decimal(value, _("金额")).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- benchmark price (评标基准价) --------------------------------------------------------------

@dataclass(frozen=True)
class BenchmarkResult:
    method: str
    value_fen: int  # the benchmark price, rounded once to whole fen
    used_fen: tuple  # the prices that entered the mean (input order)
    dropped_fen: tuple  # the single highest and single lowest, when dropped
    mean: Decimal  # A: mean of used prices (lowest price for "lowest"), unrounded
    combined: Decimal  # B = A × (1 − w) + ceiling × w, unrounded (= A when w = 0)
    k: Decimal  # the coefficient K the combined value is multiplied by
    steps: tuple  # Step lines explaining the calculation, for the evaluation report


@_exact
def benchmark_price(
    prices_fen: Iterable[int],
    *,
    method: str,
    k_percent=0,
    k_coefficient=None,
    drop_extremes_above: int | None = DROP_EXTREMES_ABOVE,
    max_price_fen: int | None = None,
    max_price_weight=0,
) -> BenchmarkResult:
    """The benchmark price of the valid bids.

    "lowest": the lowest valid price (K and the ceiling weighting do not apply).
    "average" / "average_minus_k": A = mean of the valid prices; when there are MORE than
    `drop_extremes_above` of them (None: never), the single highest and the single lowest are
    dropped first. B = A × (1 − w) + ceiling price × w, with w = `max_price_weight` in [0, 1].
    Benchmark = B × K, rounded half up to whole fen. K is `k_coefficient` when given (drawn at the
    opening, between 1 − MAX_K_PERCENT% and 1); otherwise, for "average_minus_k", K = 1 − k_percent/100
    ("average minus K%"), and for "average", K = 1.
    """
    prices = tuple(_fen(p, _("投标报价")) for p in prices_fen)
    if not prices:
        raise FormulaError(_("没有有效投标报价，无法计算评标基准价。"))
    if method not in BENCHMARK_METHODS:
        raise FormulaError(_("评标基准价计算方法无效：%(method)s。"), {"method": str(method)})
    k_pct = _in_range(k_percent, _("下浮比例K%"), 0, MAX_K_PERCENT)
    weight = _in_range(max_price_weight, _("最高投标限价权重"), 0, 1)
    if max_price_fen is not None:
        _fen(max_price_fen, _("最高投标限价"))
    _drop_threshold(drop_extremes_above)

    if method == "lowest":
        if k_coefficient is not None or k_pct or weight:
            raise FormulaError(_("最低价法不使用下浮系数K和最高投标限价权重。"))
        lowest = min(prices)
        steps = (Step(_("评标基准价取最低有效投标报价：%(lowest)s分。"), {"lowest": lowest}),)
        return BenchmarkResult(method, lowest, prices, (), Decimal(lowest), Decimal(lowest), Decimal(1), steps)

    if k_pct and method != "average_minus_k":
        raise FormulaError(_("只有“平均值下浮K%”法使用下浮比例K%。"))
    if k_coefficient is not None:
        if k_pct:
            raise FormulaError(_("下浮系数K只能给出一种：下浮比例或系数。"))
        k = _in_range(k_coefficient, _("下浮系数K"), MIN_K_COEFFICIENT, 1)
    else:
        k = 1 - k_pct / _HUNDRED
    if weight and max_price_fen is None:
        raise FormulaError(_("最高投标限价权重大于0时必须给出最高投标限价。"))

    steps = []
    used, dropped = list(prices), ()
    if drop_extremes_above is not None and len(prices) > drop_extremes_above:
        high, low = max(prices), min(prices)
        used.remove(high)
        used.remove(low)
        dropped = (high, low)
        steps.append(Step(
            _("有效报价%(count)s家，多于%(threshold)s家，去掉一个最高报价%(high)s分和一个最低报价%(low)s分。"),
            {"count": len(prices), "threshold": drop_extremes_above, "high": high, "low": low},
        ))
    mean = Decimal(sum(used)) / len(used)
    steps.append(Step(_("%(count)s家报价的算术平均值A = %(mean)s分。"), {"count": len(used), "mean": str(mean)}))
    combined = mean
    if weight:
        combined = mean * (1 - weight) + Decimal(max_price_fen) * weight
        steps.append(Step(
            _("B = A × (1 − %(w)s) + 最高投标限价%(max)s分 × %(w)s = %(b)s分。"),
            {"w": str(weight), "max": max_price_fen, "b": str(combined)},
        ))
    value = round_fen(combined * k)
    steps.append(Step(
        _("评标基准价 = %(b)s × K（%(k)s），四舍五入到分 = %(value)s分。"),
        {"b": str(combined), "k": str(k), "value": value},
    ))
    return BenchmarkResult(method, value, tuple(used), dropped, mean, combined, k, tuple(steps))


# --- price scores ----------------------------------------------------------------------------

@_exact
def deviation_percent(price_fen: int, benchmark_fen: int) -> Decimal:
    """(price − benchmark) / benchmark × 100, unrounded: positive above the benchmark."""
    price, benchmark = _fen(price_fen, _("投标报价")), _fen(benchmark_fen, _("评标基准价"))
    return Decimal(price - benchmark) * _HUNDRED / benchmark


def _price_score(price_fen, benchmark_fen, *, full_marks, deduct_above_per_percent, deduct_below_per_percent):
    marks = _full_marks(full_marks)
    above = _non_negative(deduct_above_per_percent, _("高于基准价每1%扣分"))
    below = _non_negative(deduct_below_per_percent, _("低于基准价每1%扣分"))
    deviation = deviation_percent(price_fen, benchmark_fen)
    deduction = deviation * above if deviation > 0 else -deviation * below
    return min(marks, max(Decimal(0), marks - deduction))


@_exact
def price_score(price_fen: int, benchmark_fen: int, *, full_marks, deduct_above_per_percent,
                deduct_below_per_percent) -> Decimal:
    """Full marks at the benchmark; minus E1 per 1% above it, minus E2 per 1% below it
    (proportionally for fractions of 1%); never below 0 or above full marks. Rounded."""
    return round_score(_price_score(price_fen, benchmark_fen, full_marks=full_marks,
                                    deduct_above_per_percent=deduct_above_per_percent,
                                    deduct_below_per_percent=deduct_below_per_percent))


@_exact
def low_price_score(price_fen: int, lowest_fen: int, *, weight) -> Decimal:
    """Low-price-first formula (低价优先法): lowest ÷ price × weight × 100, where weight (0 < w ≤ 1)
    is the price criterion's share of 100 (0.5 → at most 50). Rounded."""
    price, lowest = _fen(price_fen, _("投标报价")), _fen(lowest_fen, _("最低投标报价"))
    share = _in_range(weight, _("报价权重"), 0, 1, low_open=True)
    if price < lowest:
        raise FormulaError(_("投标报价%(price)s分低于最低投标报价%(lowest)s分。"), {"price": price, "lowest": lowest})
    return round_score(Decimal(lowest) / price * share * _HUNDRED)


@_exact
def is_abnormally_low(price_fen: int, benchmark_fen: int, *, threshold_percent) -> bool:
    """P21: a price more than `threshold_percent` % below the benchmark is flagged; the panel asks
    the bidder for a written explanation before deciding."""
    threshold = _in_range(threshold_percent, _("异常低价阈值"), 0, 100)
    return deviation_percent(price_fen, benchmark_fen) < -threshold


@_exact
def abnormally_low_bids(prices_by_bid: Mapping, *, threshold_percent) -> list:
    """P21 variant: the bids whose price is more than `threshold_percent` % below the mean of the
    OTHER bids' prices (input order). Needs at least 2 bids."""
    threshold = _in_range(threshold_percent, _("异常低价阈值"), 0, 100)
    prices = {bid: _fen(p, _("投标报价")) for bid, p in prices_by_bid.items()}
    if len(prices) < 2:
        raise FormulaError(_("至少需要2家有效报价才能与其他报价比较。"))
    total = sum(prices.values())
    flagged = []
    for bid, price in prices.items():
        others_mean = Decimal(total - price) / (len(prices) - 1)
        if (Decimal(price) - others_mean) * _HUNDRED / others_mean < -threshold:
            flagged.append(bid)
    return flagged


# --- lowest evaluated price (经评审的最低投标价法) ----------------------------------------------

@dataclass(frozen=True)
class EvaluatedPrice:
    bid: object
    price_fen: int
    adjustment_fen: int  # sum of the quantified adjustments (positive adds, negative subtracts)
    evaluated_fen: int
    rank: int
    tied: bool  # same evaluated price and same bid price as another bid: lots must be drawn


def lowest_evaluated_price_ranking(entries: Iterable[Mapping]) -> list[EvaluatedPrice]:
    """Bids that passed the review, each {"bid", "price_fen", "adjustments_fen": [fen, ...]},
    ranked by evaluated price = price + adjustments, ascending; an equal evaluated price goes to the
    lower bid price; what is still equal shares the rank and is flagged `tied`."""
    rows = []
    seen = set()
    for entry in entries:
        bid = entry["bid"]
        if bid in seen:
            raise FormulaError(_("投标人%(bid)s重复。"), {"bid": str(bid)})
        seen.add(bid)
        price = _fen(entry["price_fen"], _("投标报价"))
        adjustments = list(entry.get("adjustments_fen", ()))
        for amount in adjustments:
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise FormulaError(_("%(label)s必须是整数（单位：分）。"), {"label": _("价格调整")})
        adjustment = sum(adjustments)
        if price + adjustment <= 0:
            raise FormulaError(_("投标人%(bid)s的评审价格不大于0。"), {"bid": str(bid)})
        rows.append((bid, price, adjustment, price + adjustment))
    if not rows:
        raise FormulaError(_("没有通过评审的投标，无法排序。"))
    rows.sort(key=lambda r: (r[3], r[1]))
    keys = [(r[3], r[1]) for r in rows]
    return [
        EvaluatedPrice(bid, price, adjustment, evaluated, keys.index(keys[i]) + 1, keys.count(keys[i]) > 1)
        for i, (bid, price, adjustment, evaluated) in enumerate(rows)
    ]


# --- the panel's subjective scores -----------------------------------------------------------

@_exact
def check_score(value, *, max_score, step) -> Decimal:
    """One expert's score for one criterion: within [0, max_score] and a multiple of `step`
    (None: any value). Returns it as a Decimal."""
    score = _decimal(value, _("评分"))
    maximum = _full_marks(max_score)
    if not 0 <= score <= maximum:
        raise FormulaError(_("评分%(value)s超出范围（0至%(max)s分）。"), {"value": str(score), "max": str(maximum)})
    if step is not None:
        increment = _decimal(step, _("评分步长"))
        if increment <= 0:
            raise FormulaError(_("评分步长必须大于0。"))
        if score % increment != 0:
            raise FormulaError(_("评分%(value)s不符合%(step)s分的评分步长。"), {"value": str(score), "step": str(increment)})
    return score


def _panel_mean(scores, drop_extremes_above) -> Decimal:
    values = sorted(_decimal(s, _("评分")) for s in scores)
    if not values:
        raise FormulaError(_("没有专家评分。"))
    _drop_threshold(drop_extremes_above)
    if drop_extremes_above is not None and len(values) > drop_extremes_above:
        values = values[1:-1]
    return sum(values) / len(values)


@_exact
def subjective_average(scores: Iterable, *, drop_extremes_above: int | None = DROP_EXTREMES_ABOVE) -> Decimal:
    """The panel's score for one criterion of one bid: the mean of the experts' scores, after
    dropping one highest and one lowest when there are MORE than `drop_extremes_above` experts.
    Rounded."""
    return round_score(_panel_mean(scores, drop_extremes_above))


@_exact
def outliers(scores_by_expert: Mapping, *, tolerance) -> list:
    """The experts (input order) whose score is further than `tolerance` points from the panel's
    plain mean; their score needs a written reason before the scores are locked."""
    limit = _non_negative(tolerance, _("评分偏差容许值"))
    scores = {expert: _decimal(s, _("评分")) for expert, s in scores_by_expert.items()}
    if not scores:
        raise FormulaError(_("没有专家评分。"))
    mean = sum(scores.values()) / len(scores)
    return [expert for expert, score in scores.items() if abs(score - mean) > limit]


# --- ranking ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ranked:
    bid: object
    rank: int  # competition ranking: 1, 1, 3 when the first two stay tied
    total: Decimal
    price_score: Decimal
    price_fen: int
    technical: Decimal
    tied: bool  # still equal to another bid after every tie-break: lots must be drawn
    decided_by: str | None  # the rule that put it below the bid before it (None for the first / tied)


_TIE_KEYS = {
    "total": lambda e: -e["total"],
    "price_score": lambda e: -e["price_score"],
    "lower_price": lambda e: e["price_fen"],
    "technical": lambda e: -e["technical"],
}


@_exact
def rank(entries: Iterable[Mapping], *, tie_breaks: Iterable[str] = TIE_BREAKS) -> list[Ranked]:
    """Entries {"bid", "total", "price_score", "price_fen", "technical"}, ranked by total
    (descending, always the first rule); equal totals are separated by the other rules in
    `tie_breaks`, in order: "price_score" (higher first), "lower_price", "technical" (higher
    first). Bids still equal share the rank and are flagged `tied` (drawing of lots)."""
    rules = ["total"] + [r for r in tie_breaks if r != "total"]
    for rule in rules:
        if rule not in _TIE_KEYS:
            raise FormulaError(_("未知的并列排序规则：%(rule)s。"), {"rule": str(rule)})
    rows, seen = [], set()
    for entry in entries:
        if entry["bid"] in seen:
            raise FormulaError(_("投标人%(bid)s重复。"), {"bid": str(entry["bid"])})
        seen.add(entry["bid"])
        rows.append({
            "bid": entry["bid"],
            "total": _decimal(entry["total"], _("总分")),
            "price_score": _decimal(entry["price_score"], _("报价得分")),
            "price_fen": _fen(entry["price_fen"], _("投标报价")),
            "technical": _decimal(entry["technical"], _("技术得分")),
        })
    keys = [tuple(_TIE_KEYS[r](row) for r in rules) for row in rows]
    order = sorted(range(len(rows)), key=lambda i: keys[i])
    sorted_keys = [keys[i] for i in order]
    ranked = []
    for position, i in enumerate(order):
        key, row = keys[i], rows[i]
        decided_by = None
        if position and sorted_keys[position - 1] != key:
            decided_by = next(r for r, a, b in zip(rules, sorted_keys[position - 1], key) if a != b)
        ranked.append(Ranked(row["bid"], sorted_keys.index(key) + 1, row["total"], row["price_score"],
                             row["price_fen"], row["technical"], sorted_keys.count(key) > 1, decided_by))
    return ranked


LOT_ALGORITHM = "sha256(seed || ':' || rank || ':' || bid id) ascending, hex"


def lot_order(seed: bytes, rank: int, bids: Iterable[int]) -> list[int]:
    """Drawing of lots (抽签) among bids still tied at `rank` after every tie-break: the order is
    fixed by the seed (LOT_ALGORITHM), so anyone holding the recorded seed can draw it again."""
    return sorted(bids, key=lambda bid: hashlib.sha256(seed + f":{rank}:{bid}".encode("ascii")).hexdigest())


def candidates(ranked: list[Ranked], limit: int = MAX_CANDIDATES) -> list[Ranked]:
    """R53: at most 3 recommended candidates, in rank order. A `tied` candidate (e.g. a tie for
    third place) means lots must be drawn before the report is signed."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_CANDIDATES:
        raise FormulaError(_("推荐的中标候选人应为1至%(max)s名。"), {"max": MAX_CANDIDATES, "limit": str(limit)})
    return list(ranked[:limit])


# --- a whole lot -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionScore:
    code: str
    category: str
    score: Decimal  # the panel's score on the criterion's own scale (0..max_score), rounded
    weighted: Decimal  # its part of the 100-point total, rounded (see score_lot)


@dataclass(frozen=True)
class BidScore:
    bid: object
    price_fen: int
    deviation_percent: Decimal  # from the benchmark, rounded to 2 decimals for the report
    price_score: Decimal  # on the price criterion's own scale, rounded
    criteria: dict  # code -> CriterionScore, in the scheme's order (price criterion included)
    technical: Decimal  # sum of the technical criteria's weighted parts, rounded once
    commercial: Decimal
    total: Decimal  # sum of all weighted parts, rounded once
    rank: int
    tied: bool


@dataclass(frozen=True)
class LotResult:
    benchmark: BenchmarkResult
    bids: list  # BidScore, in rank order
    candidates: list  # Ranked, at most 3


def _weight(criterion) -> Decimal:
    return _decimal(criterion.get("weight", 1), _("权重"))


def _category_sum(parts: dict, category: str) -> Decimal:
    return sum((part for cat, _score, part in parts.values() if cat == category), Decimal(0))


@_exact
def score_lot(
    scheme: Mapping,
    *,
    prices_fen: Mapping,
    subjective_scores: Mapping,
    k_coefficient=None,
    max_price_fen: int | None = None,
    max_price_weight=0,
    drop_extremes_above: int = DROP_EXTREMES_ABOVE,
    score_step=None,
    tie_breaks: Iterable[str] = TIE_BREAKS,
) -> LotResult:
    """The comprehensive evaluation (综合评估法) of one lot.

    `prices_fen`: {bid: price} of the valid bids (those that passed the qualification review).
    `subjective_scores`: {bid: {expert: {criterion code: score}}}, every technical and commercial
    criterion scored by every expert for every bid; each score is checked against the criterion's
    max_score (and `score_step`). Criteria not in the scheme are refused (R49).

    Per criterion: technical/commercial → `subjective_average` of the experts (drop one highest and
    one lowest with MORE than `drop_extremes_above` experts); price → `price_score` against the
    benchmark price of all valid prices. Weights: the scheme's `weight` is the relative weight of a
    criterion on the 100-point scale, so a criterion with score s, max m and weight w contributes
    w × s × 100 / Σ(w_i × m_i) to the total; all weights 1 (max scores adding up to 100) is the
    plain sum of the criterion scores. Totals and category sums are rounded once from the
    unrounded parts. Ranked with `rank`.
    """
    errors = validate(scheme)
    if errors:
        raise FormulaError(errors[0].template, errors[0].params)
    scored = [c for c in scheme["criteria"] if c["category"] in SCORED_CATEGORIES]
    subjective = [c for c in scored if c["category"] in SUBJECTIVE_CATEGORIES]
    price_criterion = next(c for c in scored if c["category"] == "price")
    formula = scheme["price_formula"]
    scale = _HUNDRED / sum(_weight(c) * _decimal(c["max_score"], _("满分")) for c in scored)

    if set(prices_fen) != set(subjective_scores):
        raise FormulaError(_("报价与专家评分的投标人不一致。"))
    method = formula["benchmark"]
    benchmark = benchmark_price(
        prices_fen.values(), method=method,
        k_percent=formula.get("k_percent", 0) if method == "average_minus_k" and k_coefficient is None else 0,
        k_coefficient=k_coefficient, drop_extremes_above=drop_extremes_above,
        max_price_fen=max_price_fen, max_price_weight=max_price_weight,
    )

    known = {c["code"] for c in subjective}
    parts_by_bid, entries = {}, []
    for bid, price in prices_fen.items():
        panel = subjective_scores[bid]
        if not panel:
            raise FormulaError(_("投标人%(bid)s没有专家评分。"), {"bid": str(bid)})
        for code in sorted({code for by_code in panel.values() for code in by_code} - known, key=str):
            raise FormulaError(_("评审因素“%(code)s”不在评标办法的主观评分因素中（R49）。"), {"code": str(code)})
        exact = {}  # code -> the unrounded score on the criterion's own scale
        for criterion in subjective:
            code = criterion["code"]
            values = []
            for expert, by_code in panel.items():
                if code not in by_code:
                    raise FormulaError(_("投标人%(bid)s缺少专家%(expert)s对“%(code)s”的评分。"),
                                       {"bid": str(bid), "expert": str(expert), "code": code})
                values.append(check_score(by_code[code], max_score=criterion["max_score"], step=score_step))
            exact[code] = _panel_mean(values, drop_extremes_above)
        exact[price_criterion["code"]] = _price_score(
            price, benchmark.value_fen, full_marks=price_criterion["max_score"],
            deduct_above_per_percent=formula["deduct_above_per_percent"],
            deduct_below_per_percent=formula["deduct_below_per_percent"],
        )
        # code -> (category, score, weighted part of the 100-point total), all unrounded
        parts = {c["code"]: (c["category"], exact[c["code"]], exact[c["code"]] * _weight(c) * scale) for c in scored}
        parts_by_bid[bid] = parts
        entries.append({
            "bid": bid,
            "total": round_score(sum(part for _category, _score, part in parts.values())),
            "price_score": round_score(exact[price_criterion["code"]]),
            "price_fen": price,
            "technical": round_score(_category_sum(parts, "technical")),
        })

    ranked = rank(entries, tie_breaks=tie_breaks)
    bids = []
    for row in ranked:
        parts = parts_by_bid[row.bid]
        criteria = {
            code: CriterionScore(code, category, round_score(score), round_score(part))
            for code, (category, score, part) in parts.items()
        }
        bids.append(BidScore(
            bid=row.bid, price_fen=row.price_fen,
            deviation_percent=round_score(deviation_percent(row.price_fen, benchmark.value_fen)),
            price_score=row.price_score, criteria=criteria, technical=row.technical,
            commercial=round_score(_category_sum(parts, "commercial")), total=row.total, rank=row.rank, tied=row.tied,
        ))
    return LotResult(benchmark, bids, candidates(ranked))
