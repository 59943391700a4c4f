"""The evaluation scheme (评标办法) written into the tender documents, and its validation.

Pure: no Django. Only criteria written in the tender documents may be used (R49), so the scheme is
fixed with the tender and must be complete and coherent before publication. A scheme is a dict:

    {
      "criteria": [
        {"code": "Q1", "name": "营业执照", "category": "qualification"},            # pass/fail
        {"code": "T1", "name": "施工组织设计", "category": "technical", "max_score": 30, "weight": 1},
        {"code": "C1", "name": "企业业绩", "category": "commercial", "max_score": 20, "weight": 1},
        {"code": "P1", "name": "投标报价", "category": "price", "max_score": 50, "weight": 1},
      ],
      "price_formula": {"benchmark": "average_minus_k", "k_percent": 3,
                        "deduct_above_per_percent": 1, "deduct_below_per_percent": 0.5},
    }

Scored criteria (technical, commercial, price) have max_score > 0, and their max scores add up to
100. `weight` (default 1, 0 < weight <= 10) is the relative weight of a criterion when the panel's
scores for it are combined; it does not change the 100-point scale. Qualification criteria are
pass/fail and carry no score. Exactly one criterion is the price criterion; its formula gives full
marks at the benchmark price and deducts points per 1% above or below it.

`validate` returns a list of `SchemeError`; each has a Simplified Chinese message template (the
msgid the Django layer translates) and its parameters.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from numbers import Real


def _(message: str) -> str:
    """Marks a msgid for extraction; the Django layer translates it when showing the error."""
    return message


CATEGORIES = ("technical", "commercial", "price", "qualification")
SCORED_CATEGORIES = ("technical", "commercial", "price")
BENCHMARK_METHODS = ("average", "lowest", "average_minus_k")
TOTAL_SCORE = 100
MAX_WEIGHT = 10
MAX_K_PERCENT = 10  # 下浮系数 K: local rules keep it within a few percent
MAX_DEDUCTION_PER_PERCENT = 10
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$")


@dataclass(frozen=True)
class SchemeError:
    template: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template

    def __str__(self) -> str:
        return self.message


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _validate_criterion(index: int, item, seen_codes: set, errors: list) -> None:
    where = {"n": index}
    if not isinstance(item, dict):
        errors.append(SchemeError(_("第%(n)s项评审因素格式错误。"), where))
        return
    code = item.get("code")
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        errors.append(SchemeError(_("第%(n)s项评审因素的编号无效（字母或数字，最多16位）。"), where))
    elif code in seen_codes:
        errors.append(SchemeError(_("评审因素编号“%(code)s”重复。"), {"code": code}))
    else:
        seen_codes.add(code)
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(SchemeError(_("第%(n)s项评审因素缺少名称。"), where))
    category = item.get("category")
    if category not in CATEGORIES:
        errors.append(SchemeError(_("第%(n)s项评审因素的类别无效。"), where))
        return
    max_score = item.get("max_score")
    if category == "qualification":
        if max_score not in (None, 0):
            errors.append(SchemeError(_("第%(n)s项为资格审查因素，只判定合格与否，不能设分值。"), where))
        return
    if not _is_number(max_score) or max_score <= 0:
        errors.append(SchemeError(_("第%(n)s项评审因素的满分必须大于0。"), where))
    weight = item.get("weight", 1)
    if not _is_number(weight) or not 0 < weight <= MAX_WEIGHT:
        errors.append(SchemeError(_("第%(n)s项评审因素的权重必须大于0且不超过%(max)s。"), {**where, "max": MAX_WEIGHT}))


def _validate_price_formula(formula, errors: list) -> None:
    if not isinstance(formula, dict):
        errors.append(SchemeError(_("缺少报价评分公式。")))
        return
    method = formula.get("benchmark")
    if method not in BENCHMARK_METHODS:
        errors.append(SchemeError(_("评标基准价计算方法无效（可选：平均值、最低价、平均值下浮K%）。")))
    if method == "average_minus_k":
        k = formula.get("k_percent")
        if not _is_number(k) or not 0 <= k <= MAX_K_PERCENT:
            errors.append(SchemeError(_("下浮系数K必须在0%%至%(max)s%%之间。"), {"max": MAX_K_PERCENT}))
    for key, label in (("deduct_above_per_percent", _("高于基准价每1%扣分")), ("deduct_below_per_percent", _("低于基准价每1%扣分"))):
        value = formula.get(key)
        if not _is_number(value) or not 0 <= value <= MAX_DEDUCTION_PER_PERCENT:
            errors.append(SchemeError(_("“%(label)s”必须在0至%(max)s分之间。"), {"label": label, "max": MAX_DEDUCTION_PER_PERCENT}))


def validate(scheme) -> list[SchemeError]:
    """R49: only criteria written in the tender documents are used, so the scheme must be complete
    before publication. Every problem of the scheme; an empty list means it may be published."""
    if not isinstance(scheme, dict):
        return [SchemeError(_("评标办法格式错误。"))]
    criteria = scheme.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        return [SchemeError(_("评标办法至少需要一项评审因素。"))]
    errors: list[SchemeError] = []
    seen_codes: set = set()
    for index, item in enumerate(criteria, start=1):
        _validate_criterion(index, item, seen_codes, errors)
    scored = [c for c in criteria if isinstance(c, dict) and c.get("category") in SCORED_CATEGORIES]
    scores = [c.get("max_score") for c in scored]
    if all(_is_number(s) for s in scores):
        total = sum(scores)
        if abs(total - TOTAL_SCORE) > 1e-9:
            errors.append(SchemeError(_("评分因素满分合计应为%(expected)s分，当前为%(total)s分。"), {"expected": TOTAL_SCORE, "total": _plain(total)}))
    price_count = sum(1 for c in scored if c.get("category") == "price")
    if price_count != 1:
        errors.append(SchemeError(_("评标办法必须有且只有一项报价评分因素，当前有%(count)s项。"), {"count": price_count}))
    if price_count:
        _validate_price_formula(scheme.get("price_formula"), errors)
    return errors


def _plain(number) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


_DEFAULT = {
    "criteria": [
        {"code": "Q1", "name": "营业执照及资质证书", "category": "qualification"},
        {"code": "Q2", "name": "项目经理注册证书", "category": "qualification"},
        {"code": "T1", "name": "施工组织设计", "category": "technical", "max_score": 30, "weight": 1},
        {"code": "T2", "name": "质量与安全保证措施", "category": "technical", "max_score": 10, "weight": 1},
        {"code": "C1", "name": "企业类似工程业绩", "category": "commercial", "max_score": 10, "weight": 1},
        {"code": "P1", "name": "投标报价", "category": "price", "max_score": 50, "weight": 1},
    ],
    "price_formula": {
        "benchmark": "average_minus_k",
        "k_percent": 3,
        "deduct_above_per_percent": 1,
        "deduct_below_per_percent": 0.5,
    },
}


def default_scheme() -> dict:
    """A valid comprehensive-evaluation scheme (综合评估法) for the demo and the tests."""
    return copy.deepcopy(_DEFAULT)
