"""The opening room's browser modules that need no page (static/js/opening/state.js and
connection.js), tested with Node: the one Playwright ships with, so nothing else is needed. The
tests themselves are in tests/opening/js/room_client.test.mjs."""

import subprocess
from pathlib import Path

import playwright

SCRIPT = Path(__file__).parent / "js" / "room_client.test.mjs"
NODE = Path(playwright.__file__).parent / "driver" / "node"


def test_room_state_and_connection_in_node():
    run = subprocess.run([str(NODE), str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ok ") == 8 and "FAIL" not in run.stdout
