"""The evaluation scheme written into the tender documents (R49): what makes it publishable."""

import pytest

from tendering import scheme


def messages(value) -> list[str]:
    return [error.message for error in scheme.validate(value)]


def criteria_of(value) -> dict:
    return {c["code"]: c for c in value["criteria"]}


def test_default_scheme_is_valid_and_a_fresh_copy_each_time():
    first = scheme.default_scheme()
    assert scheme.validate(first) == []
    first["criteria"].clear()
    assert scheme.validate(scheme.default_scheme()) == []


@pytest.mark.parametrize("value", [None, [], "x", {}, {"criteria": []}, {"criteria": "T1"}])
def test_scheme_without_criteria_is_refused(value):
    assert messages(value)


def test_duplicate_criterion_code_is_named():
    value = scheme.default_scheme()
    value["criteria"][3]["code"] = "T1"
    assert any("“T1”重复" in m for m in messages(value))


@pytest.mark.parametrize("code", ["", None, "有中文", "A" * 17, "-x"])
def test_bad_criterion_code(code):
    value = scheme.default_scheme()
    value["criteria"][2]["code"] = code
    assert any("编号无效" in m for m in messages(value))


def test_missing_name_and_bad_category_are_reported_with_the_item_number():
    value = scheme.default_scheme()
    value["criteria"][2]["name"] = " "
    value["criteria"][4]["category"] = "beauty"
    errors = messages(value)
    assert "第3项评审因素缺少名称。" in errors
    assert "第5项评审因素的类别无效。" in errors


@pytest.mark.parametrize("max_score", [0, -5, None, "30", True])
def test_scored_criterion_needs_a_positive_max_score(max_score):
    value = scheme.default_scheme()
    criteria_of(value)["T1"]["max_score"] = max_score
    assert any("满分必须大于0" in m for m in messages(value))


def test_max_scores_must_total_one_hundred():
    value = scheme.default_scheme()
    criteria_of(value)["T1"]["max_score"] = 25
    assert "评分因素满分合计应为100分，当前为95分。" in messages(value)


def test_fractional_scores_that_total_one_hundred_are_fine():
    value = scheme.default_scheme()
    criteria_of(value)["T1"]["max_score"] = 29.5
    criteria_of(value)["T2"]["max_score"] = 10.5
    assert messages(value) == []


def test_qualification_criteria_are_pass_fail():
    value = scheme.default_scheme()
    criteria_of(value)["Q1"]["max_score"] = 5
    assert any("只判定合格与否" in m for m in messages(value))


@pytest.mark.parametrize("weight", [0, -1, 11, "1"])
def test_weight_must_be_sane(weight):
    value = scheme.default_scheme()
    criteria_of(value)["C1"]["weight"] = weight
    assert any("权重" in m for m in messages(value))


def test_exactly_one_price_criterion():
    none = scheme.default_scheme()
    criteria_of(none)["P1"]["category"] = "commercial"
    assert any("有且只有一项报价评分因素，当前有0项" in m for m in messages(none))
    two = scheme.default_scheme()
    criteria_of(two)["C1"]["category"] = "price"
    assert any("当前有2项" in m for m in messages(two))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"benchmark": "median"}, "基准价计算方法无效"),
        ({"k_percent": 12}, "下浮系数K"),
        ({"k_percent": -1}, "下浮系数K"),
        ({"k_percent": None}, "下浮系数K"),
        ({"deduct_above_per_percent": 20}, "高于基准价每1%扣分"),
        ({"deduct_below_per_percent": -0.5}, "低于基准价每1%扣分"),
    ],
)
def test_price_formula_parameters_within_sane_ranges(change, fragment):
    value = scheme.default_scheme()
    value["price_formula"].update(change)
    assert any(fragment in m for m in messages(value))


def test_k_is_only_needed_for_average_minus_k():
    value = scheme.default_scheme()
    value["price_formula"] = {"benchmark": "lowest", "deduct_above_per_percent": 1, "deduct_below_per_percent": 0}
    assert messages(value) == []


def test_missing_price_formula():
    value = scheme.default_scheme()
    del value["price_formula"]
    assert "缺少报价评分公式。" in messages(value)


def test_errors_carry_a_translatable_template_and_parameters():
    value = scheme.default_scheme()
    criteria_of(value)["T1"]["max_score"] = 25
    (error,) = scheme.validate(value)
    assert error.template == "评分因素满分合计应为%(expected)s分，当前为%(total)s分。"
    assert error.params == {"expected": 100, "total": "95"}
