"""evaluation/formulas.py: hand-worked tables (the working is in the comments), every FormulaError,
and the properties that truly hold for any input."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.formulas import (
    FormulaError,
    abnormally_low_bids,
    benchmark_price,
    candidates,
    check_score,
    deviation_percent,
    is_abnormally_low,
    low_price_score,
    lowest_evaluated_price_ranking,
    outliers,
    price_score,
    rank,
    round_fen,
    round_score,
    score_lot,
    subjective_average,
)
from tendering.scheme import default_scheme

# --- rounding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.345", "2.35"),  # half up at the .005 boundary
        ("2.344999", "2.34"),
        ("2.325", "2.33"),  # banker's rounding would give 2.32
        ("2.335", "2.34"),
        (2.345, "2.35"),  # a float is read through its text: Decimal(2.345) would be 2.34499999...
        (7, "7.00"),
        ("0.004999", "0.00"),
        ("0.005", "0.01"),
    ],
)
def test_round_score_is_half_up_to_two_decimals(value, expected):
    assert round_score(value) == D(expected)
    assert str(round_score(value)) == expected


def test_round_fen_is_half_up_to_whole_fen():
    assert round_fen(D("2.5")) == 3  # banker's rounding would give 2
    assert round_fen(D("2.4999")) == 2
    assert round_fen(D("1008800.4656")) == 1008800


# --- benchmark price -------------------------------------------------------------------------

SEVEN = [1_000_000, 1_020_000, 980_000, 1_050_000, 950_003, 1_100_000, 900_000]


def test_benchmark_seven_bids_drops_extremes_weights_ceiling_and_applies_k():
    # 7 valid bids > 5: drop the highest 1,100,000 and the lowest 900,000.
    # A = (1,000,000 + 1,020,000 + 980,000 + 1,050,000 + 950,003) / 5 = 5,000,003 / 5 = 1,000,000.6
    # B = A × 0.8 + 1,200,000 × 0.2 = 800,000.48 + 240,000 = 1,040,000.48
    # K = 1 − 3/100 = 0.97; B × K = 1,008,800.4656 → 1,008,800 fen
    result = benchmark_price(SEVEN, method="average_minus_k", k_percent=3, max_price_fen=1_200_000,
                             max_price_weight=D("0.2"))
    assert result.dropped_fen == (1_100_000, 900_000)
    assert result.used_fen == (1_000_000, 1_020_000, 980_000, 1_050_000, 950_003)
    assert result.mean == D("1000000.6")
    assert result.combined == D("1040000.48")
    assert result.k == D("0.97")
    assert result.value_fen == 1_008_800
    messages = [step.message for step in result.steps]
    assert messages[0] == "有效报价7家，多于5家，去掉一个最高报价1100000分和一个最低报价900000分。"
    assert messages[-1] == "评标基准价 = 1040000.48 × K（0.97），四舍五入到分 = 1008800分。"
    assert len(messages) == 4


def test_benchmark_with_drawn_coefficient():
    # Same 7 bids, no ceiling weighting: A = 1,000,000.6; K drawn at the opening 0.955
    # 1,000,000.6 × 0.955 = 955,000.573 → 955,001 fen
    result = benchmark_price(SEVEN, method="average", k_coefficient=D("0.955"))
    assert result.k == D("0.955")
    assert result.combined == result.mean == D("1000000.6")
    assert result.value_fen == 955_001


def test_benchmark_drops_only_with_more_than_the_threshold():
    five = [100, 200, 300, 400, 1000]  # exactly 5: nothing dropped; mean 2000 / 5 = 400
    assert benchmark_price(five, method="average").value_fen == 400
    assert benchmark_price(five, method="average").dropped_fen == ()
    # 6 bids with a repeated highest and lowest: only ONE of each goes: (10 + 5 + 7 + 8) / 4 = 7.5 → 8
    result = benchmark_price([10, 10, 5, 5, 7, 8], method="average")
    assert result.dropped_fen == (10, 5)
    assert sorted(result.used_fen) == [5, 7, 8, 10]
    assert result.value_fen == 8
    # threshold as a parameter; None never drops: (100 + 200 + 300 + 400 + 1000) / 5
    assert benchmark_price(five, method="average", drop_extremes_above=3).value_fen == 300  # (200+300+400)/3
    assert benchmark_price(five + [2000], method="average", drop_extremes_above=None).value_fen == 667  # 4000/6


def test_benchmark_rounds_half_up_once():
    assert benchmark_price([2, 3], method="average").value_fen == 3  # 2.5 → 3
    # 1001 × 0.97 = 970.97 → 971
    assert benchmark_price([1001], method="average_minus_k", k_percent=3).value_fen == 971


def test_benchmark_lowest():
    result = benchmark_price(SEVEN, method="lowest")
    assert result.value_fen == 900_000
    assert result.k == 1
    assert [s.message for s in result.steps] == ["评标基准价取最低有效投标报价：900000分。"]


# --- price scores ----------------------------------------------------------------------------

PRICE_RULE = {"full_marks": 50, "deduct_above_per_percent": 1, "deduct_below_per_percent": 0.5}


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (1_000_000, "50.00"),  # at the benchmark: full marks
        (1_030_000, "47.00"),  # +3%: 50 − 3 × 1
        (970_000, "48.50"),  # −3%: 50 − 3 × 0.5
        (1_012_345, "48.77"),  # +1.2345%: 48.7655 → 48.77
        (1_023_550, "47.65"),  # +2.355%: 47.645 → 47.65 (half up, banker's would give 47.64)
        (1_600_000, "0.00"),  # +60%: 50 − 60 = −10, floored at 0
        (100_000, "5.00"),  # −90%: 50 − 45
    ],
)
def test_price_score_table(price, expected):
    assert price_score(price, 1_000_000, **PRICE_RULE) == D(expected)


def test_price_score_without_deduction_below_keeps_full_marks():
    assert price_score(500_000, 1_000_000, full_marks=50, deduct_above_per_percent=1,
                       deduct_below_per_percent=0) == D("50.00")


def test_deviation_percent_is_unrounded():
    assert deviation_percent(1_030_000, 1_000_000) == D(3)
    assert deviation_percent(970_000, 1_000_000) == D(-3)
    assert deviation_percent(2, 3) == D("-33.33333333333333333333333333333333")  # 34 digits, not rounded


@pytest.mark.parametrize(
    ("price", "weight", "expected"),
    [
        (800_000, D("0.5"), "50.00"),  # the lowest price: full weight × 100
        (1_000_000, D("0.5"), "40.00"),  # 0.8 × 50
        (900_000, D("0.5"), "44.44"),  # 0.888… × 50 = 44.444…
        (960_000, D("0.5"), "41.67"),  # 0.8333… × 50 = 41.666…
        (1_000_000, 0.3, "24.00"),  # 0.8 × 30
    ],
)
def test_low_price_score_table(price, weight, expected):
    assert low_price_score(price, 800_000, weight=weight) == D(expected)


def test_abnormally_low_against_benchmark_is_strict():
    assert not is_abnormally_low(850_000, 1_000_000, threshold_percent=15)  # exactly −15%
    assert is_abnormally_low(849_999, 1_000_000, threshold_percent=15)
    assert not is_abnormally_low(1_200_000, 1_000_000, threshold_percent=15)


def test_abnormally_low_against_the_others():
    # D: others' mean 1,000,000, −30% → flagged; A: others' mean (2,000,000 + 700,000) / 3 = 900,000
    prices = {"A": 1_000_000, "B": 1_000_000, "C": 1_000_000, "D": 700_000}
    assert abnormally_low_bids(prices, threshold_percent=20) == ["D"]
    assert abnormally_low_bids(prices, threshold_percent=30) == []  # exactly −30% is not more


# --- lowest evaluated price ------------------------------------------------------------------


def test_lowest_evaluated_price_ranking():
    # A 1,000,000 + 20,000 − 5,000 = 1,015,000;  B 1,010,000;  C and E 990,000 + 25,000 = 1,015,000;
    # D 1,015,000. B first; at 1,015,000 the lower bid price goes first: C = E (tied), then A, then D.
    ranking = lowest_evaluated_price_ranking([
        {"bid": "A", "price_fen": 1_000_000, "adjustments_fen": [20_000, -5_000]},
        {"bid": "B", "price_fen": 1_010_000},
        {"bid": "C", "price_fen": 990_000, "adjustments_fen": [25_000]},
        {"bid": "D", "price_fen": 1_015_000, "adjustments_fen": []},
        {"bid": "E", "price_fen": 990_000, "adjustments_fen": [25_000]},
    ])
    assert [(r.bid, r.evaluated_fen, r.rank, r.tied) for r in ranking] == [
        ("B", 1_010_000, 1, False),
        ("C", 1_015_000, 2, True),
        ("E", 1_015_000, 2, True),
        ("A", 1_015_000, 4, False),
        ("D", 1_015_000, 5, False),
    ]
    assert ranking[3].adjustment_fen == 15_000


# --- the panel's subjective scores -----------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([20, 22, 25, 18, 24], "21.80"),  # 5 experts: no drop, 109 / 5
        ([20, 22, 25, 18, 24, 28, 10], "21.80"),  # 7: drop 28 and 10, then the same five
        (["8", "8.5", "9", "7", "9.5", "6"], "8.13"),  # 6: drop 9.5 and 6; 32.5 / 4 = 8.125 → 8.13
        ([1, 1, 2], "1.33"),  # 4 / 3
        ([2, 2, 1], "1.67"),  # 5 / 3
        ([30, 30, 30, 30, 30, 0], "30.00"),  # one 30 and the 0 dropped
    ],
)
def test_subjective_average_table(scores, expected):
    assert subjective_average(scores) == D(expected)


def test_subjective_average_threshold_is_a_parameter():
    assert subjective_average([1, 2, 6], drop_extremes_above=2) == D("2.00")  # 3 > 2: only the 2 is left
    assert subjective_average([30, 30, 30, 30, 30, 0], drop_extremes_above=None) == D("25.00")  # 150 / 6


def test_check_score():
    assert check_score(7.5, max_score=10, step=0.5) == D("7.5")
    assert check_score(0.3, max_score=10, step=0.1) == D("0.3")  # exact: 0.3 % 0.1 as floats is not 0
    assert check_score("10", max_score=10, step=1) == 10
    assert check_score(0, max_score=10, step=D("0.5")) == 0
    assert check_score("7.3", max_score=10, step=None) == D("7.3")


def test_outliers_against_the_panel_mean():
    # mean = (20 + 22 + 21 + 29 + 20) / 5 = 22.4; e4 is 6.6 away, e2 0.4, e1 and e5 2.4, e3 1.4
    scores = {"e1": 20, "e2": 22, "e3": 21, "e4": 29, "e5": 20}
    assert outliers(scores, tolerance=5) == ["e4"]
    assert outliers(scores, tolerance=D("6.6")) == []  # not further than the tolerance
    assert outliers(scores, tolerance=2) == ["e1", "e4", "e5"]


# --- ranking ---------------------------------------------------------------------------------


def _entry(bid, total, price_score, price_fen, technical):
    return {"bid": bid, "total": D(total), "price_score": D(price_score), "price_fen": price_fen,
            "technical": D(technical)}


RANK_ENTRIES = [
    _entry("A", "90.00", "45", 1_000_000, "35"),
    _entry("B", "92.50", "45", 1_000_000, "35"),
    _entry("C", "90.00", "46", 1_000_000, "35"),  # beats A on price score
    _entry("D", "90.00", "45", 990_000, "35"),  # beats A on the lower price
    _entry("E", "90.00", "45", 1_000_000, "36"),  # beats A on technical
    _entry("F", "90.00", "45", 1_000_000, "35"),  # the same as A on every rule
    _entry("G", "80.00", "40", 1_000_000, "30"),
]


def test_rank_with_tie_breaks_in_order():
    ranked = rank(RANK_ENTRIES)
    assert [(r.bid, r.rank, r.tied, r.decided_by) for r in ranked] == [
        ("B", 1, False, None),
        ("C", 2, False, "total"),
        ("D", 3, False, "price_score"),
        ("E", 4, False, "lower_price"),
        ("A", 5, True, "technical"),
        ("F", 5, True, None),
        ("G", 7, False, "total"),
    ]


def test_rank_on_totals_only_leaves_ties_for_lots():
    ranked = rank(RANK_ENTRIES, tie_breaks=("total",))
    assert [(r.bid, r.rank, r.tied) for r in ranked] == [
        ("B", 1, False), ("A", 2, True), ("C", 2, True), ("D", 2, True), ("E", 2, True), ("F", 2, True),
        ("G", 7, False),
    ]
    # a different order of rules: the lower price first, then the technical score
    ranked = rank(RANK_ENTRIES, tie_breaks=("lower_price", "technical"))
    assert [r.bid for r in ranked][:3] == ["B", "D", "E"]


def test_candidates_at_most_three():
    ranked = rank(RANK_ENTRIES)
    assert [c.bid for c in candidates(ranked)] == ["B", "C", "D"]
    assert [c.bid for c in candidates(ranked, limit=1)] == ["B"]
    third_place_tie = rank(RANK_ENTRIES, tie_breaks=("total",))
    assert [(c.bid, c.tied) for c in candidates(third_place_tie)] == [("B", False), ("A", True), ("C", True)]


# --- a whole lot -----------------------------------------------------------------------------

SCORES = {
    # default scheme: T1 (30), T2 (10) technical, C1 (10) commercial, P1 price (50); weights 1
    "X": {"e1": {"T1": 25, "T2": 8, "C1": 7}, "e2": {"T1": 26, "T2": 8.5, "C1": 8}, "e3": {"T1": 27, "T2": 9, "C1": 9}},
    "Y": {"e1": {"T1": 28, "T2": 9, "C1": 9}, "e2": {"T1": 28, "T2": 9, "C1": 9}, "e3": {"T1": 29, "T2": 9, "C1": 10}},
    "Z": {"e1": {"T1": 20, "T2": 7, "C1": 6}, "e2": {"T1": 21, "T2": 7, "C1": 6}, "e3": {"T1": 22, "T2": 7, "C1": 6}},
}
PRICES = {"X": 1_000_000, "Y": 1_100_000, "Z": 900_000}


def test_score_lot_default_scheme():
    # 3 bids, no drop: A = 1,000,000; K = 0.97 → benchmark 970,000
    # X: +30,000 / 970,000 = +3.0927835…%  → P1 = 50 − 3.0927835 = 46.9072165 → 46.91
    #    T1 (25+26+27)/3 = 26, T2 8.5, C1 8 → total 26 + 8.5 + 8 + 46.9072165 = 89.4072165 → 89.41
    # Y: +130,000 / 970,000 = +13.4020618…% → P1 = 36.5979381 → 36.60
    #    T1 85/3 = 28.3333…, T2 9, C1 28/3 = 9.3333… → total 83.2646… → 83.26
    # Z: −70,000 / 970,000 = −7.2164948…% → P1 = 50 − 3.6082474 = 46.3917526 → 46.39
    #    T1 21, T2 7, C1 6 → total 80.3917526 → 80.39
    result = score_lot(default_scheme(), prices_fen=PRICES, subjective_scores=SCORES, score_step=D("0.5"))
    assert result.benchmark.value_fen == 970_000
    rows = {b.bid: b for b in result.bids}
    assert [b.bid for b in result.bids] == ["X", "Y", "Z"]
    assert [(b.rank, b.tied) for b in result.bids] == [(1, False), (2, False), (3, False)]
    assert rows["X"].total == D("89.41") and rows["Y"].total == D("83.26") and rows["Z"].total == D("80.39")
    assert rows["X"].price_score == D("46.91") and rows["Y"].price_score == D("36.60")
    assert rows["Z"].price_score == D("46.39")
    assert rows["X"].deviation_percent == D("3.09") and rows["Z"].deviation_percent == D("-7.22")
    assert rows["Y"].technical == D("37.33") and rows["Y"].commercial == D("9.33")
    assert rows["Y"].criteria["T1"].score == D("28.33") and rows["Y"].criteria["T1"].weighted == D("28.33")
    assert list(rows["X"].criteria) == ["T1", "T2", "C1", "P1"]
    assert [c.bid for c in result.candidates] == ["X", "Y", "Z"]


def test_score_lot_relative_weights_keep_the_100_point_scale():
    # T1 weight 2: Σ w × max = 2×30 + 10 + 10 + 50 = 130, each part × 100 / 130.
    # X: (2 × 26 + 8.5 + 8 + 46.9072165) / 1.3 = 115.4072165 / 1.3 = 88.7747819… → 88.77; T1 part 52 / 1.3 = 40
    scheme = default_scheme()
    scheme["criteria"][2]["weight"] = 2
    result = score_lot(scheme, prices_fen=PRICES, subjective_scores=SCORES)
    x = next(b for b in result.bids if b.bid == "X")
    assert x.total == D("88.77")
    assert x.criteria["T1"].score == D("26.00") and x.criteria["T1"].weighted == D("40.00")
    # full marks on every criterion is still 100: 2×30 + 10 + 10 + 50 = 130 → 100
    full = {"X": {"e1": {"T1": 30, "T2": 10, "C1": 10}}}
    assert score_lot(scheme, prices_fen={"X": 1_000_000}, subjective_scores=full,
                     k_coefficient=1).bids[0].total == D("100.00")


def test_score_lot_drawn_k_replaces_k_percent():
    result = score_lot(default_scheme(), prices_fen=PRICES, subjective_scores=SCORES, k_coefficient=D("0.98"))
    assert result.benchmark.value_fen == 980_000  # 1,000,000 × 0.98


# --- every FormulaError ----------------------------------------------------------------------


def _scheme_without_criteria():
    return {"criteria": []}


ERRORS = [
    # reading numbers
    (lambda: round_score("abc"), "分值不是有效的数字。"),
    (lambda: round_score(float("nan")), "分值不是有效的数字。"),
    (lambda: round_score(True), "分值不是有效的数字。"),
    (lambda: round_score(D("Infinity")), "分值不是有效的数字。"),
    (lambda: round_score([1]), "分值不是有效的数字。"),
    # benchmark price
    (lambda: benchmark_price([], method="average"), "没有有效投标报价，无法计算评标基准价。"),
    (lambda: benchmark_price([100, 0], method="average"), "投标报价必须是大于0的整数（单位：分）。"),
    (lambda: benchmark_price([100, -5], method="average"), "投标报价必须是大于0的整数（单位：分）。"),
    (lambda: benchmark_price([100, 10.5], method="average"), "投标报价必须是大于0的整数（单位：分）。"),
    (lambda: benchmark_price([100], method="median"), "评标基准价计算方法无效：median。"),
    (lambda: benchmark_price([100], method="average_minus_k", k_percent=11), "下浮比例K%必须在0至10之间。"),
    (lambda: benchmark_price([100], method="average_minus_k", k_percent=-1), "下浮比例K%必须在0至10之间。"),
    (lambda: benchmark_price([100], method="average", k_coefficient=D("1.01")), "下浮系数K必须在0.9至1之间。"),
    (lambda: benchmark_price([100], method="average", k_coefficient=D("0.89")), "下浮系数K必须在0.9至1之间。"),
    (lambda: benchmark_price([100], method="average_minus_k", k_percent=3, k_coefficient=D("0.97")),
     "下浮系数K只能给出一种：下浮比例或系数。"),
    (lambda: benchmark_price([100], method="average", k_percent=3), "只有“平均值下浮K%”法使用下浮比例K%。"),
    (lambda: benchmark_price([100], method="lowest", k_coefficient=1), "最低价法不使用下浮系数K和最高投标限价权重。"),
    (lambda: benchmark_price([100], method="lowest", max_price_fen=200, max_price_weight=D("0.1")),
     "最低价法不使用下浮系数K和最高投标限价权重。"),
    (lambda: benchmark_price([100], method="average", max_price_weight=D("1.5"), max_price_fen=200),
     "最高投标限价权重必须在0至1之间。"),
    (lambda: benchmark_price([100], method="average", max_price_weight=D("0.2")),
     "最高投标限价权重大于0时必须给出最高投标限价。"),
    (lambda: benchmark_price([100], method="average", max_price_fen=0), "最高投标限价必须是大于0的整数（单位：分）。"),
    (lambda: benchmark_price([100], method="average", drop_extremes_above=1),
     "去掉最高、最低值的家数门槛必须是不小于2的整数。"),
    (lambda: benchmark_price([100], method="average", drop_extremes_above=-5),
     "去掉最高、最低值的家数门槛必须是不小于2的整数。"),
    # price scores
    (lambda: deviation_percent(100, 0), "评标基准价必须是大于0的整数（单位：分）。"),
    (lambda: price_score(0, 100, **PRICE_RULE), "投标报价必须是大于0的整数（单位：分）。"),
    (lambda: price_score(100, 100, full_marks=0, deduct_above_per_percent=1, deduct_below_per_percent=1),
     "满分必须大于0。"),
    (lambda: price_score(100, 100, full_marks=50, deduct_above_per_percent=-1, deduct_below_per_percent=1),
     "高于基准价每1%扣分不能为负数。"),
    (lambda: price_score(100, 100, full_marks=50, deduct_above_per_percent=1, deduct_below_per_percent=-1),
     "低于基准价每1%扣分不能为负数。"),
    (lambda: low_price_score(90, 100, weight=D("0.5")), "投标报价90分低于最低投标报价100分。"),
    (lambda: low_price_score(100, 100, weight=0), "报价权重必须大于0且不超过1。"),
    (lambda: low_price_score(100, 100, weight=D("1.1")), "报价权重必须大于0且不超过1。"),
    (lambda: is_abnormally_low(100, 100, threshold_percent=-1), "异常低价阈值必须在0至100之间。"),
    (lambda: abnormally_low_bids({"A": 100}, threshold_percent=10), "至少需要2家有效报价才能与其他报价比较。"),
    # lowest evaluated price
    (lambda: lowest_evaluated_price_ranking([]), "没有通过评审的投标，无法排序。"),
    (lambda: lowest_evaluated_price_ranking([{"bid": "A", "price_fen": 100, "adjustments_fen": [-100]}]),
     "投标人A的评审价格不大于0。"),
    (lambda: lowest_evaluated_price_ranking([{"bid": "A", "price_fen": 100, "adjustments_fen": [1.5]}]),
     "价格调整必须是整数（单位：分）。"),
    (lambda: lowest_evaluated_price_ranking([{"bid": "A", "price_fen": 100}, {"bid": "A", "price_fen": 90}]),
     "投标人A重复。"),
    # the panel's scores
    (lambda: check_score("10.5", max_score=10, step=D("0.5")), "评分10.5超出范围（0至10分）。"),
    (lambda: check_score(-0.5, max_score=10, step=D("0.5")), "评分-0.5超出范围（0至10分）。"),
    (lambda: check_score("7.3", max_score=10, step=D("0.5")), "评分7.3不符合0.5分的评分步长。"),
    (lambda: check_score(7, max_score=10, step=0), "评分步长必须大于0。"),
    (lambda: check_score(7, max_score=0, step=1), "满分必须大于0。"),
    (lambda: subjective_average([]), "没有专家评分。"),
    (lambda: subjective_average([1, 2, 3], drop_extremes_above=0), "去掉最高、最低值的家数门槛必须是不小于2的整数。"),
    (lambda: outliers({}, tolerance=1), "没有专家评分。"),
    (lambda: outliers({"e1": 1}, tolerance=-1), "评分偏差容许值不能为负数。"),
    # ranking
    (lambda: rank(RANK_ENTRIES, tie_breaks=("coin",)), "未知的并列排序规则：coin。"),
    (lambda: rank(RANK_ENTRIES + RANK_ENTRIES[:1]), "投标人A重复。"),
    (lambda: candidates(rank(RANK_ENTRIES), limit=4), "推荐的中标候选人应为1至3名。"),
    (lambda: candidates(rank(RANK_ENTRIES), limit=0), "推荐的中标候选人应为1至3名。"),
    # a whole lot
    (lambda: score_lot(_scheme_without_criteria(), prices_fen=PRICES, subjective_scores=SCORES),
     "评标办法至少需要一项评审因素。"),
    (lambda: score_lot(default_scheme(), prices_fen={"X": 1_000_000}, subjective_scores=SCORES),
     "报价与专家评分的投标人不一致。"),
    (lambda: score_lot(default_scheme(), prices_fen={"X": 1}, subjective_scores={"X": {}}), "投标人X没有专家评分。"),
    (lambda: score_lot(default_scheme(), prices_fen={"X": 1},
                       subjective_scores={"X": {"e1": {"T1": 1, "T2": 1, "C1": 1, "T9": 1}}}),
     "评审因素“T9”不在评标办法的主观评分因素中（R49）。"),
    (lambda: score_lot(default_scheme(), prices_fen={"X": 1}, subjective_scores={"X": {"e1": {"T1": 1, "C1": 1}}}),
     "投标人X缺少专家e1对“T2”的评分。"),
    (lambda: score_lot(default_scheme(), prices_fen={"X": 1},
                       subjective_scores={"X": {"e1": {"T1": 31, "T2": 1, "C1": 1}}}),
     "评分31超出范围（0至30分）。"),
]


@pytest.mark.parametrize(("call", "message"), ERRORS, ids=[message for _call, message in ERRORS])
def test_formula_errors(call, message):
    with pytest.raises(FormulaError) as raised:
        call()
    assert raised.value.message == message
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)
    # the template is the msgid the Django layer translates; the parameters fill it in
    assert "%(" not in raised.value.template or raised.value.template % raised.value.params == message


# --- properties ------------------------------------------------------------------------------

fen = st.integers(min_value=1, max_value=10**12)
marks = st.decimals(min_value=D("0.01"), max_value=100, places=2)
per_percent = st.decimals(min_value=0, max_value=10, places=2)


@given(price=fen, benchmark=fen, full=marks, above=per_percent, below=per_percent)
def test_price_score_is_within_zero_and_full_marks(price, benchmark, full, above, below):
    score = price_score(price, benchmark, full_marks=full, deduct_above_per_percent=above,
                        deduct_below_per_percent=below)
    assert 0 <= score <= full


@given(benchmark=fen, a=st.integers(0, 10**12), b=st.integers(0, 10**12), above=per_percent, below=per_percent)
def test_price_score_on_one_side_of_the_benchmark_closer_never_scores_lower(benchmark, a, b, above, below):
    rule = {"full_marks": 50, "deduct_above_per_percent": above, "deduct_below_per_percent": below}
    near, far = sorted((a, b))
    # above the benchmark: the lower price never scores lower
    assert price_score(benchmark + near, benchmark, **rule) >= price_score(benchmark + far, benchmark, **rule)
    # below it (only there, since E2 may be > 0): the price nearer the benchmark never scores lower
    if far < benchmark:
        assert price_score(benchmark - near, benchmark, **rule) >= price_score(benchmark - far, benchmark, **rule)


@given(lowest=fen, a=st.integers(0, 10**12), b=st.integers(0, 10**12),
       weight=st.decimals(min_value=D("0.01"), max_value=1, places=2))
def test_low_price_score_lower_price_never_scores_lower(lowest, a, b, weight):
    low, high = sorted((lowest + a, lowest + b))
    assert low_price_score(low, lowest, weight=weight) >= low_price_score(high, lowest, weight=weight)
    assert 0 <= low_price_score(high, lowest, weight=weight) <= weight * 100
    assert low_price_score(lowest, lowest, weight=weight) == round_score(weight * 100)


@given(st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=1, max_size=15))
def test_subjective_average_is_within_the_scores(scores):
    assert min(scores) <= subjective_average(scores) <= max(scores)


@given(st.lists(fen, min_size=1, max_size=20))
def test_plain_average_benchmark_is_within_the_prices_and_keeps_every_price(prices):
    result = benchmark_price(prices, method="average")
    assert min(prices) <= result.value_fen <= max(prices)
    assert sorted(result.used_fen + result.dropped_fen) == sorted(prices)


@given(st.decimals(min_value=-10**6, max_value=10**6, places=6))
def test_round_score_moves_at_most_half_a_cent(value):
    rounded = round_score(value)
    assert abs(rounded - value) <= D("0.005")
    assert round_score(rounded) == rounded


_small = st.integers(0, 3)


@given(st.lists(st.tuples(_small, _small, _small, _small), min_size=1, max_size=12))
def test_rank_is_consistent_with_totals_and_tie_breaks(rows):
    entries = [_entry(i, t, p, 1_000_000 + price, tech) for i, (t, p, price, tech) in enumerate(rows)]
    ranked = rank(entries)
    assert sorted(r.bid for r in ranked) == list(range(len(rows)))

    def key(r):
        return (-r.total, -r.price_score, r.price_fen, -r.technical)

    for position, r in enumerate(ranked):
        if position:
            before = ranked[position - 1]
            assert before.total >= r.total
            assert key(before) <= key(r)
            assert r.rank == (before.rank if key(before) == key(r) else position + 1)
        else:
            assert r.rank == 1
        assert r.tied == (sum(1 for other in ranked if key(other) == key(r)) > 1)
