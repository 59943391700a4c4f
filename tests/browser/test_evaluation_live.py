"""A complete evaluation, live, on the real stack (issue 5, "Tests"): daphne, the background worker
and the chronograph on a private SQLite database (tests/browser/evaluation_stack.py); a lot in
evaluation with 4 opened bids and a panel of 5 drawn by the real drawing service; five experts in
five browser contexts of Debian's chromium, everything done in their pages:

- each signs in through the login page, creates a key file on /evaluation/keys/ (in the browser),
  downloads it and registers its signing key;
- each enters the room, checks in with the integrity pledge; the chair is elected by the votes
  (4 for seat 1, 1 for seat 2);
- qualification: every expert passes every criterion of every bid; the chair locks;
- scoring: every expert scores every technical and commercial criterion of every bid; a score off
  the step is refused in the page; while scoring, expert 2's page shows the others' progress live
  but never expert 3's distinctive value (neither in the DOM nor in any WebSocket frame it
  received) until the chair locks; expert 4 is an outlier on one score: the page flags it, the
  chair's lock is refused until expert 4 writes the reason, then the lock reveals all values;
- the price stage shows the benchmark; the chair locks price and ranking; the room hands over to
  the report;
- the chair drafts the report; all five sign it in their pages (key file unlocked in the page);
  the report is final in every page; the PDF downloads and names the candidates; the room says so;
- `manage.py report_verify <lot>`, `drawing_verify <drawing>` and `audit_verify` pass.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.evaluation_stack import EvaluationStack

pytestmark = pytest.mark.browser

WAIT = 20_000  # ms
KEY_WAIT = 60_000  # key-file creation and unlocking run PBKDF2 (600 000 iterations) in five pages at once
PASSPHRASE = "评标专家签名密钥口令 live %d"
CODES = ("T1", "T2", "C1")
DISTINCT = "27.5"  # expert 3's score for T1 of the first bid: nobody else types it, nothing else shows it
OUTLIER_SEAT, OUTLIER_BID, OUTLIER_VALUE = 4, 3, "12"  # mean 19.2, 7.2 away (tolerance: 20 % of 30 = 6)
OUTLIER_REASON = "该投标人施工组织设计中的关键线路安排不合理，故评分较低。"


def score(seat: int, bid_index: int, code: str) -> str:
    """What each expert types: T1 falls with the bid's order, so the ranking is clear."""
    if code == "T1":
        if (seat, bid_index) == (3, 0):
            return DISTINCT
        if (seat, bid_index) == (OUTLIER_SEAT, OUTLIER_BID):
            return OUTLIER_VALUE
        return str(24 - bid_index)
    return {"T2": "8", "C1": "7.5"}[code]


def distinct_value(text: str) -> bool:
    """Whether expert 3's value (27.5 / "27.50") is in `text`; a time like 12:34:27.51 is not it."""
    return re.search(r"(?<![\d:.])27\.50?(?![\d])", text) is not None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = EvaluationStack(tmp_path_factory.mktemp("evaluation-live"))
    try:
        began = time.monotonic()
        stack.world = stack.make_world()  # migrates, then makes the world
        stack.start_all()
        stack.wait_http()
        stack.ready_after = time.monotonic() - began
        yield stack
    finally:
        stack.stop()


@dataclass
class Expert:
    seat: int
    username: str
    name: str
    context: object = None
    page: object = None
    errors: list = field(default_factory=list)
    frames: list = field(default_factory=list)  # (time, text) of every WebSocket frame received
    key_path: Path | None = None
    fingerprint: str = ""

    @property
    def passphrase(self) -> str:
        return PASSPHRASE % self.seat


def open_login(browser, base: str, expert: Expert, next_url: str) -> None:
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the lock confirmations
    page.on("pageerror", lambda error: expert.errors.append(str(error)))
    page.on("websocket", lambda socket: socket.on(
        "framereceived", lambda payload: expert.frames.append((time.monotonic(), payload if isinstance(payload, str) else payload.decode()))))
    page.goto(f"{base}/accounts/login/?next={next_url}")
    expert.context, expert.page = context, page


def submit_login(expert: Expert, password: str) -> None:
    expert.page.fill("#id_username", expert.username)
    expert.page.fill("#id_password", password)
    expert.page.click("form[action$='/accounts/login/'] button[type=submit]", no_wait_after=True)


def members_row(page, seat: int):
    return page.locator("#members-table tbody tr").nth(seat - 1)


def test_five_experts_score_one_tender_to_a_signed_report(stack, browser, tmp_path):
    from pypdf import PdfReader

    from bidding import keyfile

    world, base = stack.world, stack.url
    lot = world["lot"]
    room, report, keys = f"/evaluation/lots/{lot}/room/", f"/evaluation/lots/{lot}/report/", "/evaluation/keys/"
    bidder_names = [b["name"] for b in world["bidders"]]
    experts = [Expert(m["seat"], m["username"], m["name"]) for m in world["members"]]
    chair, e2, e3, e4, e5 = experts
    times = {"stack ready": round(stack.ready_after, 1)}
    mark = time.monotonic()

    def lap(name):
        nonlocal mark
        now = time.monotonic()
        times[name] = round(now - mark, 1)
        mark = now

    try:
        # --- sign in; a key file made in each page, downloaded, its signing key registered ----------
        # Each step is started in all five pages before waiting for any, as five people would.
        for expert in experts:
            open_login(browser, base, expert, keys)
        for expert in experts:
            submit_login(expert, world["password"])
        for expert in experts:
            expert.page.wait_for_url(f"**{keys}")
        lap("sign-in")
        for expert in experts:
            page = expert.page
            page.wait_for_function("document.body.dataset.expertKeys === 'ready'", timeout=WAIT)
            expect(page.locator("#register-key")).to_be_disabled()
            page.fill("#new-passphrase", expert.passphrase)
            page.fill("#new-passphrase-again", expert.passphrase)
            page.click("#create-key-file")
        for expert in experts:
            page = expert.page
            page.wait_for_selector("#created:not([hidden])", timeout=KEY_WAIT)
            expect(page.locator("#register-key")).to_be_disabled()  # not before the file is downloaded
            with page.expect_download() as download:
                page.click("#key-file-download")
            expert.key_path = tmp_path / f"expert-{expert.seat}-keys.json"
            download.value.save_as(expert.key_path)
            expert.fingerprint = keyfile.load_public(expert.key_path.read_bytes()).fingerprints.signing
            expect(page.locator("#register-key")).to_be_enabled()
            with page.expect_navigation():
                page.click("#register-key")
            page.wait_for_function("document.body.dataset.expertKeys === 'ready'", timeout=WAIT)
            expect(page.locator("#active-fingerprint")).to_have_text(expert.fingerprint)
        lap("keys")

        # --- the room: check-in with the pledge, the chair's election ------------------------------
        for expert in experts:
            expert.page.goto(base + room, wait_until="commit")
        for expert in experts:
            page = expert.page
            expect(page.locator("#connection-status")).to_have_text("已连接", timeout=WAIT)
            expect(page.locator("#checkin-form")).to_be_visible()
            page.click("#check-in")  # without the pledge: refused in the page
            expect(page.locator("#checkin-status")).to_have_class(re.compile(r"\berror\b"))
            page.check("#pledge")
            page.click("#check-in")
        for expert in experts:
            page = expert.page
            expect(page.locator("#checkin-status")).to_have_text("已完成。", timeout=WAIT)
            expect(page.locator("#checkin-form")).to_be_hidden(timeout=WAIT)
        for expert in experts:
            expect(expert.page.locator("#room-state")).to_have_text("推选组长", timeout=WAIT)
            expect(members_row(expert.page, 5)).to_contain_text("已签到")
        for expert in experts:
            page = expert.page
            expect(page.locator("#election-card")).to_be_visible(timeout=WAIT)
            page.select_option("#candidate", "2" if expert is e5 else "1")
            page.click("#vote")
        for expert in experts:
            expect(expert.page.locator("#election-status")).to_have_text("已完成。", timeout=WAIT)
        for expert in experts:
            page = expert.page
            expect(page.locator("#room-state")).to_have_text("评审中", timeout=WAIT)
            expect(members_row(page, 1)).to_contain_text("组长")
            if expert is chair:
                expect(page.locator("#chair-controls")).to_be_visible()
                expect(page.locator("#my-seat")).to_contain_text("组长")
            else:
                expect(page.locator("#chair-controls")).to_be_hidden()
        expect(chair.page.locator("#event-log")).to_contain_text("组长", timeout=WAIT)
        lap("check-in and election")

        # --- qualification: all pass, by majority; the chair locks -----------------------------------
        for expert in experts:
            page = expert.page
            expect(page.locator("#qualification-card")).to_be_visible(timeout=WAIT)
            selects = page.locator("#qualification-table select")
            expect(selects).to_have_count(len(bidder_names) * 2, timeout=WAIT)
            for n in range(selects.count()):
                selects.nth(n).select_option("pass")
        for expert in experts:  # progress, live, in the chair's page: counts only
            expect(members_row(chair.page, expert.seat)).to_contain_text("8 / 8", timeout=WAIT)
        expect(chair.page.locator("#lock-stage")).to_contain_text("资格审查")
        chair.page.click("#lock-stage")
        for expert in experts:
            page = expert.page
            expect(page.locator("#scoring-card")).to_be_visible(timeout=WAIT)
            expect(page.locator("#qualification-table")).to_contain_text("合格 5 / 不合格 0", timeout=WAIT)
            expect(page.locator("#qualification-table tbody tr")).to_have_count(len(bidder_names))
        lap("qualification")

        # --- scoring ---------------------------------------------------------------------------------
        def fill_scores(expert: Expert, *, off_step_first: bool = False) -> None:
            page = expert.page
            rows = page.locator("#scoring-table tbody tr")
            expect(rows).to_have_count(len(bidder_names), timeout=WAIT)
            first = True
            for r in range(rows.count()):
                row = rows.nth(r)
                bid_index = bidder_names.index(row.locator("th").inner_text().strip())
                for code in CODES:
                    field_ = row.locator(f"input.score[aria-label='{code}']")
                    if off_step_first and first:
                        field_.fill("7.3")  # the step is 0.5: refused, nothing stored
                        field_.dispatch_event("change")
                        expect(page.locator("#scoring-status")).to_have_class(re.compile(r"\berror\b"), timeout=WAIT)
                        expect(members_row(chair.page, expert.seat).locator("td").nth(3)).to_have_text("0 / 12")
                    field_.fill(score(expert.seat, bid_index, code))
                    field_.dispatch_event("change")
                    first = False

        def frames_with_distinct(expert: Expert) -> list[str]:
            return [text for _, text in expert.frames if distinct_value(text)]

        fill_scores(e3)
        expect(members_row(chair.page, 3)).to_contain_text("12 / 12", timeout=WAIT)
        # Expert 2 sees expert 3's progress live, never the value.
        expect(members_row(e2.page, 3)).to_contain_text("12 / 12", timeout=WAIT)
        assert not distinct_value(e2.page.content())
        lap("scoring: expert 3")
        for expert in (chair, e2, e4):
            fill_scores(expert)
        fill_scores(e5, off_step_first=True)
        for expert in experts:
            expect(members_row(e2.page, expert.seat)).to_contain_text("12 / 12", timeout=WAIT)
        lap("scoring: the others")

        # Everyone is done: expert 4's outlier is flagged in expert 4's page only, the lock is refused.
        outlier_row = e4.page.locator("#scoring-table tbody tr", has_text=bidder_names[OUTLIER_BID])
        outlier_reason = outlier_row.locator("td").nth(CODES.index("T1")).locator("input[type=text]")
        expect(outlier_row.locator("td").nth(0)).to_contain_text("偏离", timeout=WAIT)
        expect(outlier_reason).to_be_visible()
        expect(chair.page.locator("#outliers-pending")).to_contain_text("专家4", timeout=WAIT)
        expect(e2.page.locator("#scoring-table .message.error")).to_have_count(0)
        chair.page.click("#lock-stage")
        expect(chair.page.locator("#chair-status")).to_have_class(re.compile(r"\berror\b"), timeout=WAIT)
        expect(chair.page.locator("#chair-status")).to_contain_text("专家4")
        expect(chair.page.locator("#stage-list")).to_contain_text("技术和商务评分 — 进行中")
        assert not distinct_value(e2.page.content())  # complete but not locked: still hidden
        assert not frames_with_distinct(e2), frames_with_distinct(e2)[:1]

        lap("outlier gate")
        outlier_reason.fill(OUTLIER_REASON)
        outlier_reason.dispatch_event("change")
        expect(e4.page.locator("#scoring-status")).to_have_text("已完成。", timeout=WAIT)
        expect(chair.page.locator("#outliers-pending")).to_have_text("", timeout=WAIT)
        assert not distinct_value(e2.page.content())
        assert not frames_with_distinct(e2)
        locked_at = time.monotonic()
        chair.page.click("#lock-stage")
        expect(chair.page.locator("#price-card")).to_be_visible(timeout=WAIT)
        # After the lock: every value revealed, in expert 2's page too.
        expect(e2.page.locator("#scoring-table")).to_contain_text("专家3: 27.50", timeout=WAIT)
        expect(e2.page.locator("#scoring-table")).to_contain_text(OUTLIER_REASON)
        assert all(at >= locked_at for at, text in e2.frames if distinct_value(text))
        assert frames_with_distinct(e2)
        lap("scoring lock")

        # --- price (the benchmark), ranking, hand-over to the report ---------------------------------
        for expert in experts:
            page = expert.page
            expect(page.locator("#price-card")).to_be_visible(timeout=WAIT)
            expect(page.locator("#benchmark")).to_contain_text("元")
            expect(page.locator("#benchmark-steps li").first).to_be_visible()
            expect(page.locator("#price-table tbody tr")).to_have_count(len(bidder_names))
        expect(chair.page.locator("#lock-stage")).to_contain_text("报价评分")
        chair.page.click("#lock-stage")
        expect(chair.page.locator("#ranking-card")).to_be_visible(timeout=WAIT)
        expect(chair.page.locator("#lock-stage")).to_contain_text("汇总与排序", timeout=WAIT)
        ranking = chair.page.locator("#ranking-table tbody tr")
        expect(ranking).to_have_count(len(bidder_names))
        candidates = []
        for n in range(ranking.count()):
            cells = ranking.nth(n).locator("td")
            if cells.nth(6).inner_text().strip():
                candidates.append((int(cells.nth(6).inner_text()), cells.nth(1).inner_text().strip()))
        candidates = [name for _, name in sorted(candidates)]
        assert candidates == bidder_names[:3], candidates  # the lowest price and the best T1 first
        chair.page.click("#lock-stage")
        for expert in experts:
            expect(expert.page.locator("#room-state")).to_have_text("评标报告签署中", timeout=WAIT)
            expect(expert.page.locator("#ranking-table tbody tr")).to_have_count(len(bidder_names))
        lap("price and ranking")

        # --- the report: drafted by the chair, signed in all five pages ------------------------------
        chair.page.goto(base + report)
        with chair.page.expect_navigation():
            chair.page.click("#draft-report")
        expect(chair.page.locator("#report-state")).to_have_text("签署中")
        sha256 = chair.page.locator("#report-sha256").inner_text().strip()
        assert re.fullmatch(r"[0-9a-f]{64}", sha256)
        for expert in experts:
            page = expert.page
            if expert is not chair:
                page.goto(base + report)
            expect(page.locator("#report-sha256")).to_have_text(sha256)
            page.wait_for_function("document.body.dataset.reportSign === 'ready'", timeout=WAIT)
            page.set_input_files("#sign-key-file", str(expert.key_path))
            page.fill("#sign-passphrase", expert.passphrase)
        for expert in experts:  # five signatures in flight at once
            expert.page.click("#sign-button", no_wait_after=True)
        for expert in experts:
            expect(expert.page.locator("#sign-card")).to_have_count(0, timeout=KEY_WAIT)
        for expert in experts:
            page = expert.page
            page.reload()
            expect(page.locator("#report-state")).to_have_text("已定稿")
            expect(page.locator("#answers tbody tr")).to_have_count(5)
            expect(page.locator("#answers tbody")).not_to_contain_text("待签署")
            expect(page.locator("#answers tbody tr", has_text=expert.fingerprint[:16])).to_have_count(1)
            expect(page.locator("#draft-report")).to_have_count(0)
        lap("report signed")

        # The PDF downloads (the final one) and names the candidates.
        href = chair.page.locator("#report-pdf").get_attribute("href")
        answer = e3.page.request.get(base + href)
        assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
        assert "draft" not in answer.headers.get("content-disposition", "")
        pdf = answer.body()
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        for name in candidates:
            assert name in text, name
        assert "评标报告" in text and world["code"] in text and sha256 in text.replace("\n", "")
        assert OUTLIER_REASON[:12] in text.replace("\n", "")

        # The room knows: the session is over, the report final.
        e2.page.goto(base + room)
        expect(e2.page.locator("#room-state")).to_have_text("评标结束", timeout=WAIT)
        expect(e2.page.locator("#event-log")).to_contain_text("评标报告已定稿。")
        lap("pdf and room")
    finally:
        for expert in experts:
            if expert.context is not None:
                expert.context.close()

    # --- the records verify ---------------------------------------------------------------------
    checks = stack.verify(lot, world["drawing"])
    for name, check in checks.items():
        assert check["exit"] == 0 and "FAIL" not in check["out"], (name, check["out"])
    assert checks["report_verify"]["out"].count("OK") >= 5, checks["report_verify"]["out"]
    assert checks["audit_verify"]["out"].startswith("OK "), checks["audit_verify"]["out"]
    stack.check_alive()
    for name in ("daphne", "worker", "chronograph"):
        log = stack.log_tail(name, chars=10_000_000)
        assert "Traceback" not in log and not re.search(r'" 5\d\d ', log), (name, log[-3000:])
    errors = [f"expert {e.seat}: {error}" for e in experts for error in e.errors]
    assert not errors, errors
    lap("verify")
    print("evaluation live timings (s):", times)
