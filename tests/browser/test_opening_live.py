"""A complete online opening, live, on the real stack (issue 4): daphne, the background worker and
the chronograph in their own processes against a private SQLite database (tests/browser/
opening_stack.py); a host and two bidders in three browser contexts of Debian's chromium; the
third bidder outside the browser, as a bidder with its own software would be: a WebSocket client
speaking the room's protocol (check-in, the record answer) and the bid tool
(`python -m bidding.tool release-key`, with its API token).

The deadline of the accelerated tender passes, the chronograph opens the room; everyone signs in
through the login page and enters it; the three check in; the host starts decryption; each
browser bidder chooses its key file and types its passphrase in the page, the bid tool releases
the third key; the worker decrypts and the three price readings (figures and words) appear live in
all three pages; one bidder's page is reloaded in the middle and catches up; a bidder raises an
objection, the host answers, both see it; the host closes the period, drafts the record; the two
browser bidders sign it in the page, the third disagrees in writing over its socket, after
resuming it from the last event it had; the host publishes; the PDF downloads and names the
bidders; the host ends the opening; in the database the lot is in evaluation, the audit chain and
the record's signatures verify."""

from __future__ import annotations

import io
import json
import re
import subprocess
import time

import pytest
from playwright.sync_api import expect

from bidding.capital_numerals import to_capital
from tests.browser.opening_stack import PYTHON, REPO, HttpSession, RoomSocket, Stack

pytestmark = pytest.mark.browser

WAIT = 20_000  # ms, for anything that crosses the worker (decryption, the consumer's look in the database)
OBJECTION = "第二家投标人的唱标工期是否与投标文件一致？"
ANSWER = "已核对，唱标与投标文件一致。"
DISAGREEMENT = "本单位对开标记录表中的签到时间有不同意见。"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("opening-live"))
    try:
        began = time.monotonic()
        stack.migrate()
        stack.world = stack.make_world()
        stack.start_all()
        stack.wait_http()
        stack.ready_after = time.monotonic() - began
        yield stack
    finally:
        stack.stop()


def figures(fen: int) -> str:
    """The price in figures as the page shows it (room.js money(): thousands separators, 元)."""
    return f"{fen // 100:,}.{fen % 100:02d} 元"


def sign_in(browser, base: str, username: str, password: str, errors: list):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.on("pageerror", lambda error: errors.append(f"{username}: {error}"))
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def choose_key(page, bidder: dict, passphrase: str) -> None:
    page.set_input_files("#key-file", bidder["keyfile"])
    page.fill("#passphrase", passphrase)


def enter_room(page, base: str, room: str) -> None:
    page.goto(base + room)
    # The snapshot has arrived over the socket once room.js has drawn the state.
    expect(page.locator("#room-state")).to_have_class(re.compile(r"\bstate-\w+"), timeout=WAIT)
    expect(page.locator("#connection-status")).to_have_text("已连接")


def wait_room_open(stack: Stack, session: HttpSession, room: str) -> None:
    """The room page answers 404 until the chronograph has opened the room at the deadline."""
    end = time.time() + 60
    while time.time() < end:
        stack.check_alive()
        status, _ = session.get(room)
        if status == 200:
            return
        time.sleep(0.25)
    raise AssertionError(f"the room did not open:\n{stack.log_tail('chronograph')}")


def release_with_tool(stack: Stack, bidder: dict, passphrase: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in stack.env.items() if not k.startswith(("DJANGO_", "PLATFORM_"))}
    env.update({"LIVE_PASSPHRASE": passphrase, "LIVE_TOKEN": bidder["token"]})
    return subprocess.run(
        [PYTHON, "-m", "bidding.tool", "release-key", bidder["sealed"], "--keys", bidder["keyfile"],
         "--bid", str(bidder["bid"]), "--passphrase-env", "LIVE_PASSPHRASE", "--token-env", "LIVE_TOKEN",
         "--server", stack.url],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def test_complete_opening_live_host_and_bidders(stack, browser):
    world, base = stack.world, stack.url
    room = f"/opening/lots/{world['lot']}/"
    passphrase, password = world["passphrase"], world["password"]
    first, second, third = world["bidders"]
    errors: list[str] = []
    times = {"stack ready": stack.ready_after}
    mark = time.monotonic()

    def lap(name):
        nonlocal mark
        now = time.monotonic()
        times[name] = round(now - mark, 1)
        mark = now

    try:
        # Everyone signs in while the tender's deadline approaches.
        host = sign_in(browser, base, world["host"]["username"], password, errors)
        bidder_pages = [sign_in(browser, base, b["username"], password, errors) for b in (first, second)]
        pages = [host, *bidder_pages]
        b1, b2 = bidder_pages
        outside = HttpSession(base)
        outside.login(third["username"], password)
        wait_room_open(stack, outside, room)
        lap("signed in, room opened by the chronograph")

        for page in pages:
            enter_room(page, base, room)
            expect(page.locator("#room-state")).to_have_text("签到中")
        expect(host.locator("#my-role")).to_have_text("主持人")
        expect(b1.locator("#my-role")).to_have_text("投标人")
        expect(host.locator("#absent-list li")).to_have_count(3)
        expect(host.locator("#start-decryption")).to_be_disabled()

        # Check-in: two in their pages, the third over its own socket.
        for page in bidder_pages:
            page.click("#check-in")
            expect(page.locator("#checkin-status")).to_have_class("message success", timeout=WAIT)
            expect(page.locator("#check-in")).to_be_hidden()
        socket = RoomSocket(base, world["lot"], outside.cookie("sessionid"))
        snapshot = socket.hello()["state"]
        assert snapshot["viewer"]["role"] == "bidder" and snapshot["session"]["state"] == "checkin"
        assert [row["own"] for row in snapshot["bids"] if row["bid"] == third["bid"]] == [True]
        result = socket.command("check_in")
        assert result["ok"], result
        for page in pages:
            expect(page.locator("#checked-in-list li")).to_have_count(3, timeout=WAIT)
            for bidder in world["bidders"]:
                expect(page.locator("#checked-in-list")).to_contain_text(bidder["name"])
        socket.close()  # it comes back later, from the last event it had
        seen_by_socket = socket.last_seq
        lap("check-in")

        # The host starts decryption with a 10-minute window; the countdown runs everywhere.
        expect(host.locator("#start-decryption")).to_be_enabled()
        host.fill("#window-minutes", "10")
        host.click("#start-decryption")
        for page in pages:
            expect(page.locator("#room-state")).to_have_text("解密中", timeout=WAIT)
            expect(page.locator("#window-countdown")).not_to_be_empty(timeout=WAIT)
        expect(host.locator("#host-status")).to_have_class("message success")

        # Each browser bidder decrypts its own bid with its key file; the third uses the bid tool.
        for page, bidder in ((b1, first), (b2, second)):
            expect(page.locator("#release-key")).to_be_enabled(timeout=WAIT)
            choose_key(page, bidder, passphrase)
            page.click("#release-key")
        for page in bidder_pages:
            expect(page.locator("#decrypt-status")).to_have_class("message success", timeout=WAIT)
            expect(page.locator("#decrypt-status")).to_have_text("数据密钥已释放，平台正在解密。")
        for page in pages:
            expect(page.locator("#reading-table tbody tr")).to_have_count(2, timeout=WAIT)
        # Mid-way, the second bidder's page is reloaded: it comes back with the snapshot (two
        # readings) and follows what happens next live.
        b2.reload()
        expect(b2.locator("#connection-status")).to_have_text("已连接", timeout=WAIT)
        expect(b2.locator("#reading-table tbody tr")).to_have_count(2)
        done = release_with_tool(stack, third, passphrase)
        assert done.returncode == 0, done.stderr + done.stdout
        assert "私钥未离开本机" in done.stdout, done.stdout
        lap("keys released")

        # The price readings (唱标), live, in all three pages: figures and words.
        for page in pages:
            expect(page.locator("#reading-table tbody tr")).to_have_count(3, timeout=WAIT)
            for bidder in world["bidders"]:
                row = page.locator(f"#reading-table tbody tr[data-bid='{bidder['bid']}']")
                expect(row).to_contain_text(bidder["name"])
                expect(row).to_contain_text(figures(bidder["price_fen"]))
                expect(row).to_contain_text(to_capital(bidder["price_fen"]))
                expect(row).to_contain_text("365")
                expect(row).to_contain_text("张工")
            expect(page.locator("#bids-table tbody tr[data-status='opened']")).to_have_count(3, timeout=WAIT)
            expect(page.locator("#failures-table tbody tr")).to_have_count(0)
        # The last result ends the decryption phase by itself.
        for page in pages:
            expect(page.locator("#room-state")).to_have_text("解密结束", timeout=WAIT)
        # The reloaded page has caught up: the same readings and the same room log as the host.
        assert b2.locator("#reading-table tbody").inner_text() == host.locator("#reading-table tbody").inner_text()
        host_log = host.locator("#event-log li").evaluate_all("items => items.map(li => li.dataset.seq)")
        expect(b2.locator("#event-log li")).to_have_count(len(host_log), timeout=WAIT)
        assert b2.locator("#event-log li").evaluate_all("items => items.map(li => li.dataset.seq)") == host_log
        lap("prices read")

        # An objection: the host opens the period, a bidder raises it, the host answers; all see both.
        host.click("#open-objections")
        expect(b1.locator("#raise-objection")).to_be_enabled(timeout=WAIT)
        b1.fill("#objection-text", OBJECTION)
        b1.click("#raise-objection")
        expect(b1.locator("#objection-status")).to_have_class("message success", timeout=WAIT)
        expect(host.locator("#objection-list")).to_contain_text(OBJECTION, timeout=WAIT)
        host.fill("#objection-list textarea", ANSWER)
        host.click("#objection-list li button")
        for page in pages:
            expect(page.locator("#objection-list .answer")).to_contain_text(ANSWER, timeout=WAIT)
            expect(page.locator("#objection-list")).to_contain_text(OBJECTION)
            expect(page.locator("#objection-list")).to_contain_text(first["name"])
        host.click("#close-objections")
        expect(host.locator("#objection-period")).to_have_text("异议期未开放", timeout=WAIT)
        lap("objection")

        # The record: the host drafts it; everyone sees the same hash.
        expect(host.locator("#draft-record")).to_be_enabled(timeout=WAIT)
        host.click("#draft-record")
        expect(host.locator("#record-sha256")).to_have_text(re.compile("^[0-9a-f]{64}$"), timeout=WAIT)
        record_sha256 = host.locator("#record-sha256").inner_text()
        for page in bidder_pages:
            expect(page.locator("#record-sha256")).to_have_text(record_sha256, timeout=WAIT)
            expect(page.locator("#record-answer-form")).to_be_visible()
        # The two browser bidders sign it in the page with their key files (the reloaded page
        # chooses its key file again).
        choose_key(b2, second, passphrase)
        for page in bidder_pages:
            page.click("#confirm-record")
            expect(page.locator("#record-status")).to_have_class("message success", timeout=WAIT)
            expect(page.locator("#record-status")).to_have_text("已签名确认开标记录表。")
            expect(page.locator("#record-answer-form")).to_be_hidden(timeout=WAIT)

        # The third comes back on a new socket from the last event it had: it gets exactly what
        # it missed, once, in order; then answers the record in writing.
        socket = RoomSocket(base, world["lot"], outside.cookie("sessionid"))
        socket.last_seq = seen_by_socket
        socket.send({"type": "hello", "after": seen_by_socket})
        socket.send({"type": "ping"})
        missed = []
        while (message := socket.receive())["type"] != "pong":
            assert message["type"] == "event", message
            missed.append(message)
        assert [m["seq"] for m in missed] == list(range(seen_by_socket + 1, seen_by_socket + 1 + len(missed)))
        kinds = [m["kind"] for m in missed]
        for kind in ("decryption_started", "key_released", "price_read", "decryption_ended", "objection_raised",
                     "objection_answered", "record_drafted", "record_confirmed"):
            assert kind in kinds, kinds
        assert kinds.count("price_read") == 3
        drafted = next(m for m in missed if m["kind"] == "record_drafted")
        assert drafted["payload"]["sha256"] == record_sha256
        result = socket.command("disagree_record", {"text": DISAGREEMENT})
        assert result["ok"], result
        socket.close()
        for page in pages:
            expect(page.locator("#record-answers tbody tr")).to_have_count(3, timeout=WAIT)
            expect(page.locator("#record-answers")).to_contain_text(DISAGREEMENT, timeout=WAIT)
        lap("record answered")

        # The host publishes; the PDF downloads and names the bidders.
        expect(host.locator("#publish-record")).to_be_enabled(timeout=WAIT)
        host.click("#publish-record")
        for page in pages:
            expect(page.locator("#record-summary")).to_contain_text("已公布", timeout=WAIT)
        answer = b1.request.get(base + b1.locator("#record-pdf").get_attribute("href"))
        assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
        pdf = answer.body()
        assert pdf.startswith(b"%PDF")
        from pypdf import PdfReader

        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        flat = re.sub(r"\s+", "", text)
        for bidder in world["bidders"]:
            assert bidder["name"] in flat, bidder["name"]
            assert to_capital(bidder["price_fen"]) in flat
        assert record_sha256 in flat
        assert re.sub(r"\s+", "", DISAGREEMENT) in flat
        assert re.sub(r"\s+", "", ANSWER) in flat

        # The host ends the opening: the lot goes to evaluation.
        expect(host.locator("#finish")).to_be_visible()
        host.click("#finish")
        for page in pages:
            expect(page.locator("#room-state")).to_have_text("开标结束", timeout=WAIT)
        lap("published and finished")
    except Exception:
        for name in ("daphne", "worker", "chronograph"):
            print(f"----- {name}.log\n{stack.log_tail(name)}")
        raise

    # The database agrees.
    found = stack.query(
        "import json; from tendering.models import Lot; from opening.models import OpeningSession;"
        f"lot = Lot.objects.get(pk={world['lot']}); s = OpeningSession.objects.get(lot=lot);"
        "print(json.dumps({'lot': lot.state, 'session': s.state, 'checkins': s.checkins.count(),"
        " 'bids': sorted((b.bid_id, b.status, b.price_fen) for b in s.bids.all()),"
        " 'objections': [(o.text, o.answer) for o in s.objections.all()]}, ensure_ascii=False))"
    )
    assert found["lot"] == "evaluating"
    assert found["session"] == "finished"
    assert found["checkins"] == 3
    assert found["bids"] == sorted([[b["bid"], "opened", b["price_fen"]] for b in world["bidders"]])
    assert found["objections"] == [[OBJECTION, ANSWER]]
    assert stack.manage("audit_verify").startswith("OK ")
    verified = stack.manage("opening_record_verify", str(world["lot"]))
    assert f"VERIFIED the opening record of lot {world['lot']}" in verified
    assert verified.count("signature by key") == 2 and "disagreed in writing" in verified
    assert not errors, errors
    lap("database checked")
    print("timings (s):", json.dumps(times))
