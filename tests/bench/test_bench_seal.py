"""Smoke test of `python -m bench.seal` at 2 MiB: it runs, round-trips, cleans up and reports every
figure on its last line. No timing is asserted (this is a measurement, not a check of speed)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_seal_small_run_reports_a_correct_round_trip(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.seal", "--size-mib", "2", "--runs", "1", "--dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["plaintext_bytes"] == 2 * 1024 * 1024
    assert result["segments"] == 2
    assert result["sealed_bytes"] > result["plaintext_bytes"]
    assert result["round_trip"]["ok"] is True
    assert result["round_trip"]["opened_sha256"] == result["round_trip"]["plaintext_sha256"]
    for phase in ("seal", "open"):
        assert set(result[phase]) >= {"seconds", "mib_per_s", "rss_growth_mib"}
    for phase in ("raw_encrypt", "raw_decrypt"):
        assert set(result[phase]) >= {"seconds", "mib_per_s"}
    assert set(result["ratios"]) == {"seal", "open"}
    assert result["targets"] == {"ratio_min": 0.6, "rss_growth_max_mib": 64}
    assert set(result["met"]) == {"seal_ratio", "open_ratio", "seal_rss", "open_rss", "all"}
    assert all(isinstance(value, bool) for value in result["met"].values())
    assert result["django_imported"] is False
    # The verdict is said in words too, and the temporary files are gone.
    assert ("all targets met" in done.stderr) or ("TARGETS MISSED" in done.stderr)
    assert list(tmp_path.iterdir()) == []
