"""Smoke test of `python -m bench.upload` at 4 MiB: it migrates a private platform, seals a file,
serves it with daphne, uploads it with the bid tool, cleans up, and reports every figure on its
last line. No timing is asserted (this is a measurement, not a check of speed)."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_upload_small_run_submits_the_file_and_reports_every_figure(tmp_path):
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/must_not_be_used"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.upload", "--size-mib", "4", "--chunk-mib", "1", "--dir", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=30,  # ~7 s on an idle machine
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    # The file went through: accepted as a bid, and the receipt names its SHA-256.
    assert result["upload_ok"] is True
    assert result["checks"] == {"tool_exit_code": 0, "receipt_saved": True, "receipt_sha256_matches": True,
                                "bid_accepted": True, "bid_sha256_matches": True}
    assert result["size_mib"] == 4 and result["sealed_bytes"] > 4 * 1024 * 1024
    assert result["chunk_bytes"] == 1024 * 1024
    for part in ("cp", "upload"):
        assert result[part]["seconds"] > 0 and result[part]["mib_per_s"] > 0
    assert len(result["cp"]["runs_s"]) == 2
    assert {"chunks_s", "finalise_s", "chunks_mib_per_s"} <= set(result["upload"])
    assert result["ratio"] > 0
    rss = result["server_rss"]
    assert rss["before_mib"] > 0 and rss["peak_mib"] >= rss["before_mib"]
    assert abs(rss["growth_mib"] - (rss["peak_mib"] - rss["before_mib"])) <= 0.11  # each rounded to 0.1 MiB
    assert result["targets"] == {"ratio_min": 0.3, "rss_growth_max_mib": 128}
    assert set(result["met"]) == {"ratio", "rss", "all"}
    assert all(isinstance(value, bool) for value in result["met"].values())
    floor = result["info"]["loopback_sha256_write_floor"]
    assert floor["mib_per_s"] > 0 and floor["ratio_to_cp"] > 0 and result["info"]["upload_vs_floor"] > 0
    # The verdict is said in words too, and the temporary directory is gone (a DATABASE_URL in the
    # environment was not used: the run would have failed on that unreachable server).
    assert ("all targets met" in done.stderr) or ("TARGETS MISSED" in done.stderr)
    assert list(tmp_path.iterdir()) == []
