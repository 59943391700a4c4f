"""The evaluation room in the browser, on the real stack (daphne on a private SQLite folder,
tests/browser/evaluation_room_stack.py): the chair (seat 1) and a member (seat 2) in two chromium
contexts; seats 3-5 act through the services in a child process. The member's verdicts show up
in the chair's page as progress only; the chair locks the qualification; the member's scores never
appear in the chair's page before the lock, then do; price, ranking and the hand-over to the
report, all driven from the pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.evaluation_room_stack import EvaluationStack

pytestmark = pytest.mark.browser
WAIT = 15_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = EvaluationStack(tmp_path_factory.mktemp("evaluation-room"))
    try:
        stack.migrate()
        stack.world = stack.make_world()
        stack.start_all()
        stack.wait_http()
        yield stack
    finally:
        stack.stop()


def open_room(browser, stack, seat: int):
    context = browser.new_context(locale="zh-CN")
    context.add_cookies([{"name": stack.world["cookie_name"], "value": stack.world["cookies"][str(seat)], "url": stack.url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{stack.url}/evaluation/lots/{stack.world['lot']}/room/")
    expect(page.locator("#connection-status")).to_have_text("已连接", timeout=WAIT)
    return context, page, errors


def test_two_members_in_their_browsers_to_the_report(browser, stack):
    chair_context, chair, chair_errors = open_room(browser, stack, 1)
    member_context, member, member_errors = open_room(browser, stack, 2)
    try:
        expect(chair.locator("#chair-controls")).to_be_visible()
        expect(member.locator("#chair-controls")).to_be_hidden()

        # Qualification: the member passes everything in the page; the chair sees 8 / 8 for seat 2.
        selects = member.locator("#qualification-table select")
        expect(selects).to_have_count(4 * 2, timeout=WAIT)
        for n in range(selects.count()):
            selects.nth(n).select_option("pass")
            expect(member.locator("#qualification-status")).to_have_text("已完成。", timeout=WAIT)
        expect(chair.locator("#members-table tbody tr").nth(1)).to_contain_text("8 / 8", timeout=WAIT)
        chair_selects = chair.locator("#qualification-table select")
        for n in range(chair_selects.count()):
            chair_selects.nth(n).select_option("pass")
            expect(chair.locator("#qualification-status")).to_have_text("已完成。", timeout=WAIT)
        stack.act("qualification")
        chair.locator("#lock-stage").click()
        expect(member.locator("#scoring-card")).to_be_visible(timeout=WAIT)
        expect(member.locator("#qualification-table")).to_contain_text("合格 5 / 不合格 0", timeout=WAIT)

        # Scoring: distinctive values from the member; the chair sees counts, never these values.
        inputs = member.locator("#scoring-table input.score")
        expect(inputs).to_have_count(4 * 3, timeout=WAIT)
        values = {"T1": "23.5", "T2": "7.5", "C1": "8.5"}
        for n in range(inputs.count()):
            code = inputs.nth(n).get_attribute("aria-label")
            inputs.nth(n).fill(values[code])
            inputs.nth(n).dispatch_event("change")
            expect(member.locator("#scoring-status")).to_have_text("已完成。", timeout=WAIT)
        expect(chair.locator("#members-table tbody tr").nth(1)).to_contain_text("12 / 12", timeout=WAIT)
        assert "23.5" not in chair.locator("body").inner_text()
        chair_inputs = chair.locator("#scoring-table input.score")
        for n in range(chair_inputs.count()):
            code = chair_inputs.nth(n).get_attribute("aria-label")
            chair_inputs.nth(n).fill({"T1": "24", "T2": "8", "C1": "8"}[code])
            chair_inputs.nth(n).dispatch_event("change")
            expect(chair.locator("#scoring-status")).to_have_text("已完成。", timeout=WAIT)
        stack.act("scoring")
        expect(chair.locator("#members-table tbody tr").nth(4)).to_contain_text("12 / 12", timeout=WAIT)
        chair.locator("#lock-stage").click()
        expect(chair.locator("#price-card")).to_be_visible(timeout=WAIT)
        expect(chair.locator("#scoring-table")).to_contain_text("23.50", timeout=WAIT)  # revealed after the lock
        expect(chair.locator("#benchmark")).to_contain_text("元")
        expect(chair.locator("#price-table tbody tr")).to_have_count(4)

        expect(chair.locator("#lock-stage")).to_contain_text("报价评分")
        chair.locator("#lock-stage").click()
        expect(member.locator("#ranking-card")).to_be_visible(timeout=WAIT)
        expect(member.locator("#ranking-table tbody tr")).to_have_count(4)
        expect(member.locator("#ranking-table tbody tr").first).to_contain_text(stack.world["bidders"][0])
        expect(chair.locator("#lock-stage")).to_contain_text("汇总与排序", timeout=WAIT)
        chair.locator("#lock-stage").click()
        expect(member.locator("#room-state")).to_have_text("评标报告签署中", timeout=WAIT)
        expect(member.locator("#event-log")).to_contain_text("汇总与排序")
    finally:
        chair_context.close()
        member_context.close()
    assert not chair_errors and not member_errors, (chair_errors, member_errors)
