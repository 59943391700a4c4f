"""Browser tests: Playwright for Python drives Debian's chromium (/usr/bin/chromium, installed by
`make deps`; never a downloaded browser). A small static server serves /static/ from the
repository's static/ folder and /tests/ from this folder (the test page and its harness)."""

import functools
import http.server
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    """/static/... from static/, /tests/... from tests/browser/; nothing else."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".html": "text/html"}

    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, folder in (("/static/", ROOT / "static"), ("/tests/", HERE)):
            if path.startswith(prefix):
                target = (folder / path[len(prefix):]).resolve()
                if target.is_relative_to(folder):
                    return str(target)
        return str(HERE / "does-not-exist")

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def static_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StaticHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    """Chromium, one per test module: Playwright's sync API allows one instance per thread at a
    time, and a module may start its own (test_bidpack_js.py does), so none outlives its module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, static_server):
    """The harness page, loaded, with the sealbid modules on `window.sb` and helpers on `window.h`."""
    context = browser.new_context()
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{static_server}/tests/sealbid.html")
    tab.wait_for_function("window.harnessReady === true", timeout=10_000)
    yield tab
    context.close()
    assert not errors, f"uncaught errors on the page: {errors}"
