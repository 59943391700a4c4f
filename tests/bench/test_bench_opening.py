"""Smoke test of `python -m bench.opening` with 4 bids of 1 MiB and one worker: it migrates a
private platform, builds, seals and submits the bids, opens the room, releases every key, lets a
db_worker decrypt them while a WebSocket client watches the room, cleans up, and reports every
figure on its last line. No timing is asserted (this is a measurement, not a check of speed)."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_opening_small_run_reads_every_price_and_reports_every_figure(tmp_path):
    # Private SQLite (a DATABASE_URL would put it on that PostgreSQL server), and never the
    # environment's Redis: the run would fail on this unreachable one.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    done = subprocess.run(
        [sys.executable, "-m", "bench.opening", "--bids", "4", "--size-mib", "1", "--workers", "1",
         "--dir", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=90,  # ~35 s, most of it waiting for the deadline
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    # Every bid was released, decrypted and its price read, as sealed.
    assert result["all_prices_read"] is True
    checks = result["checks"]
    assert checks["opened"] == 4 and checks["failed"] == 0 and checks["failures"] == {}
    assert checks["prices_match"] is True and checks["session_state"] == "decrypted"
    assert checks["decryption_ended_seen_on_socket"] is True and checks["socket_events_in_order_once"] is True
    assert checks["socket_error"] is None
    assert result["release"]["count"] == 4
    assert (result["bids"], result["size_mib"], result["workers"]) == (4, 1, 1)
    assert result["database"] == "sqlite" and result["channel_layer"] in ("redis", "memory")
    assert result["plaintext_bytes"] > 4 * 1024 * 1024 and result["sealed_bytes"] > result["plaintext_bytes"]

    # The figures are all there.
    assert result["pipeline"]["seconds"] > 0 and result["pipeline"]["mib_per_s"] > 0
    assert result["raw_aes_gcm"]["mib_per_s"] > 0
    assert result["ratio"] > 0
    assert result["targets"] == {"ratio_min": 0.5}
    assert isinstance(result["met"]["ratio"], bool)
    events = result["room_events"]
    assert events["count"] >= 8  # at least a release and a price reading per bid
    assert {"price_read", "key_released", "decryption_progress"} <= set(events["by_kind"])
    assert events["p50_ms"] is not None
    assert events["max_ms"] >= events["p99_ms"] >= events["p50_ms"]
    rss = result["workers_rss"]
    assert len(rss["peak_mib"]) == 1 and rss["max_peak_mib"] > 0
    info = result["info"]
    one = info["one_bid_in_process"]
    assert one["open_sealed_s"] > 0 and one["verify_pack_s"] > 0 and 0 < one["share_open_sealed"] < 1
    assert info["raw_aes_gcm_plus_3_sha256"]["mib_per_s"] > 0 and info["ratio_vs_aes_gcm_plus_3_sha256"] > 0
    assert info["db_poller_price_read_delay"]["count"] == 4

    # The verdict is said in words too, and nothing is left behind.
    assert ("all targets met" in done.stderr) or ("TARGETS MISSED" in done.stderr)
    assert list(tmp_path.iterdir()) == []
