"""Smoke test of `python -m bench.scoring` with one room of 3 experts, 3 bids × 2 criteria, 3 s of
scoring and no stress run: it migrates a private platform, builds the room up to the scoring stage
through the room's services, serves it with daphne (two on a private redis-server when one is on
the PATH, else one on the in-memory layer), lets every expert score over the room's WebSocket,
cleans up, and reports every figure on its last line. No timing is asserted (this is a
measurement), but every score must reach every other member, once, and be matched to its event."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_scoring_small_run_delivers_every_progress_event_once_and_reports_every_figure(tmp_path):
    layer = "redis" if shutil.which("redis-server") else "memory"
    # Private SQLite (a DATABASE_URL would put it on that PostgreSQL server), and never the
    # environment's Redis: the run would fail on this unreachable one.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    done = subprocess.run(
        [sys.executable, "-m", "bench.scoring", "--rooms", "1", "--experts", "3", "--bids", "3", "--criteria", "2",
         "--duration", "3", "--no-stress", "--layer", layer, "--dir", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False,  # ~45 s, half of it migrating
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert (result["rooms"], result["experts_per_room"], result["experts"]) == (1, 3, 3)
    assert (result["bids"], result["criteria"]) == (3, 2)
    assert result["database"] == "sqlite" and result["channel_layer"] == layer
    assert result["daphnes"] == (2 if layer == "redis" else 1)

    # Every expert scored about once a second, every score was accepted and stored, and its
    # progress event reached every other member exactly once, matched to the score.
    steady = result["steady"]
    assert steady["per_expert_per_s"] == 1 and steady["offered_per_s"] == 3
    assert 6 <= steady["submissions"] <= 12
    assert steady["accepted"] == steady["submissions"] and steady["refused"] == 0 and steady["unanswered"] == 0
    assert steady["not_seen_by_every_other"] == 0 and steady["match_mismatches"] == 0
    assert steady["drained"] is True
    checks = result["checks"]
    assert checks["scores_in_database"] == checks["scores_expected"] == steady["accepted"]
    assert checks["socket_errors"] == [] and checks["error_messages"] == 0
    assert checks["tracebacks_in_daphne_logs"] == 0
    assert result["lost"] == 0 and result["duplicated"] == 0 and result["clients_behind_at_end"] == 0
    assert result["connections_dropped"] == 0 and checks["reconnects"] == 0 and result["never_delivered"] == 0
    assert steady["lost"] == 0 and steady["duplicated"] == 0 and steady["gaps_seen"] == 0

    # The figures are all there.
    latency = steady["latency_to_every_other"]
    assert latency["count"] == steady["accepted"]
    assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert result["p50_ms"] == latency["p50_ms"] and result["p99_ms"] == latency["p99_ms"]
    assert 0 < steady["latency_to_first_other"]["p50_ms"] <= latency["p50_ms"]
    assert steady["command_result_rtt"]["p50_ms"] > 0
    raw = result["raw_redis_publish_subscribe"]
    if layer == "redis":
        assert raw["idle"]["samples"] == 2000 and raw["idle"]["lost"] == 0 and raw["idle"]["p99_ms"] > 0
        assert raw["during_steady"]["samples"] > 0
        assert result["ratio"]["p99"] > 0 and result["ratio"]["p50"] > 0
    else:
        assert raw["idle"] is None and result["ratio"]["p99"] is None
    assert result["stress"] is None and result["stress_p99_passed_100ms_at_per_s"] is None
    assert result["targets"] == {"p99_ms_max": 50.0, "stress_limit_p99_ms": 100.0, "lost": 0, "duplicated": 0}
    assert result["met"]["no_lost_or_duplicated"] is True and isinstance(result["met"]["p99"], bool)
    assert result["verdict"] == ("met" if result["met"]["p99"] else "missed")

    # The verdict is said in words too, and nothing is left behind.
    assert ("all targets met" in done.stderr) or ("TARGET MISSED" in done.stderr)
    assert list(tmp_path.iterdir()) == []
