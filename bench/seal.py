"""Benchmark of sealing: `python -m bench.seal [--size-mib 512] [--dir D] [--keep] [--runs 3]`.

Seals a random file of N MiB with the real `bidding.sealing.seal` (file to file) and opens it again
with `read_header` + `unwrap_data_key` + `open_sealed` (file to file, signature and binding
checked), each in a fresh Python process, and checks that the opened bytes have the input's SHA-256.
Baseline, measured in the same run: `cryptography`'s AESGCM with a 256-bit key encrypting the same
number of bytes in memory, 1 MiB segments with distinct nonces, into reused buffers (`encrypt_into`,
`decrypt_into`), no file I/O; and decrypting likewise (a ring of 8 ciphertexts under 8 nonces).
Targets: seal/raw_encrypt >= 0.6 and open/raw_decrypt >= 0.6 (throughput ratios), and peak RSS
growth <= 64 MiB while sealing and while opening. Missing a target still exits 0 (this measures);
a round trip that does not give back the input exits 1.

Files live in a temporary directory under --dir (default: the repository's var/, on the same disk
as the checkout), removed at the end unless --keep. The input is written in 4 MiB chunks by this
(parent) process, never held whole. Files are written through the page cache and fsync'ed between
phases, outside the timed part: the figures are those of the code, not of the disk. Every phase
deletes its own output of the previous run just before writing it again, so all phases meet the
page cache alike; on a virtual machine a first run, writing to memory the guest has not used yet,
is often much slower, hence the best of --runs.

RSS: each measured phase runs in its own process. Right before the phase it resets the kernel's
high-water mark (`/proc/self/clear_refs` = 5) and reads VmRSS; afterwards VmHWM minus that VmRSS is
the growth. `getrusage().ru_maxrss` alone is not usable in a child: Linux carries the parent's RSS
into it across exec. (Without clear_refs the fallback is ru_maxrss minus VmRSS, reported as such.)
Extra figures under "info" say where the time goes and are not targets: SHA-256 and the allocating
`encrypt` in memory, a plain 1 MiB file copy, and seal/open against encrypt (decrypt) plus SHA-256
of the same bytes in memory, the least work the format asks for (it hashes every ciphertext byte
when sealing and when opening). Imports nothing from Django.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1 << 20
SEGMENT = 1 << 20  # bidding.sealing.SEGMENT_SIZE; checked in main
RATIO_TARGET = 0.6
RSS_TARGET_MIB = 64
REPO = Path(__file__).resolve().parent.parent
INPUT, SEALED, OPENED, COPY, KEYS = "plaintext.bin", "sealed.bin", "opened.bin", "copy.bin", "keys.json"


# ---------------------------------------------------------------- memory of this process
def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class _Rss:
    """Peak RSS growth of the code between `start()` and `stop()`, in MiB."""

    def start(self) -> None:
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")  # reset VmHWM to the current RSS
            self.method = "VmHWM after clear_refs reset, minus VmRSS before"
        except OSError:
            self.method = "ru_maxrss minus VmRSS before (no clear_refs: may include earlier peaks)"
        self.before = _status_kib("VmRSS") or 0

    def stop(self) -> dict:
        ru_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        peak = _status_kib("VmHWM") if self.method.startswith("VmHWM") else ru_kib
        return {
            "rss_before_mib": round(self.before / 1024, 1),
            "rss_peak_mib": round(peak / 1024, 1),
            "rss_growth_mib": round((peak - self.before) / 1024, 1),
            "ru_maxrss_mib": round(ru_kib / 1024, 1),
            "rss_method": self.method,
        }


# ---------------------------------------------------------------- phases (each in its own process)
def _binding():
    from bidding.sealing import Binding

    return Binding(tender="1001", lot="1", bidder="42")


def _keys(work: Path) -> dict:
    from cryptography.hazmat.primitives.asymmetric import ec

    scalars = json.loads((work / KEYS).read_text())
    return {name: ec.derive_private_key(int(value, 16), ec.SECP256R1()) for name, value in scalars.items()}


def phase_seal(work: Path) -> dict:
    from bidding import sealing

    keys, binding = _keys(work), _binding()
    (work / SEALED).unlink(missing_ok=True)
    rss = _Rss()
    rss.start()
    began = time.perf_counter()
    with open(work / INPUT, "rb") as plaintext, open(work / SEALED, "wb") as out:
        header = sealing.seal(plaintext, out, recipient_public_key=keys["decrypt"].public_key(),
                              signing_private_key=keys["sign"], binding=binding)
    seconds = time.perf_counter() - began
    return {"seconds": seconds, **rss.stop(), "segments": header.segment_count, "sealed_bytes": header.file_size}


def phase_open(work: Path) -> dict:
    from bidding import sealing

    keys, binding = _keys(work), _binding()
    (work / OPENED).unlink(missing_ok=True)
    rss = _Rss()
    rss.start()
    began = time.perf_counter()
    with open(work / SEALED, "rb") as sealed, open(work / OPENED, "wb") as out:
        header, _ = sealing.read_header(sealed)
        data_key = sealing.unwrap_data_key(header, keys["decrypt"])
        sealed.seek(0)
        sealing.open_sealed(sealed, out, data_key=data_key, signing_public_key=keys["sign"].public_key(),
                            expected_binding=binding)
    seconds = time.perf_counter() - began
    return {"seconds": seconds, **rss.stop()}


def phase_raw(work: Path, size: int) -> dict:
    """AES-256-GCM alone, in memory: the same bytes in 1 MiB segments, reused buffers."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, prefix, count = AESGCM(os.urandom(32)), os.urandom(7), size // SEGMENT
    plain = os.urandom(SEGMENT)
    sealed_buf, opened_buf = bytearray(SEGMENT + 16), bytearray(SEGMENT)

    def nonce(i):
        return prefix + i.to_bytes(4, "big") + (b"\x01" if i == count - 1 else b"\x00")

    ring = [(nonce(i), aead.encrypt(nonce(i), plain, None)) for i in range(min(8, count))]
    aead.encrypt_into(nonce(0), plain, None, sealed_buf)  # warm up
    began = time.perf_counter()
    for i in range(count):
        aead.encrypt_into(nonce(i), plain, None, sealed_buf)
    encrypt_s = time.perf_counter() - began
    began = time.perf_counter()
    for i in range(count):
        aead.decrypt_into(*ring[i % len(ring)], None, opened_buf)
    decrypt_s = time.perf_counter() - began
    if bytes(opened_buf) != plain:
        raise SystemExit("raw AES-GCM decrypt gave other bytes")

    # For information: the allocating API the sealing module uses, and SHA-256 (the format hashes
    # every ciphertext byte once, when sealing and when opening).
    began = time.perf_counter()
    for i in range(count):
        aead.encrypt(nonce(i), plain, None)
    encrypt_alloc_s = time.perf_counter() - began
    digest, began = hashlib.sha256(), time.perf_counter()
    for _ in range(count):
        digest.update(sealed_buf)
    sha256_s = time.perf_counter() - began
    return {"encrypt_s": encrypt_s, "decrypt_s": decrypt_s, "encrypt_alloc_s": encrypt_alloc_s, "sha256_s": sha256_s}


def phase_copy(work: Path) -> dict:
    """For information: read the input and write it elsewhere, 1 MiB at a time, nothing else."""
    (work / COPY).unlink(missing_ok=True)
    buf = bytearray(SEGMENT)
    view = memoryview(buf)
    began = time.perf_counter()
    with open(work / INPUT, "rb", buffering=0) as src, open(work / COPY, "wb", buffering=0) as dst:
        while n := src.readinto(buf):
            dst.write(view[:n])
    return {"seconds": time.perf_counter() - began}  # copy.bin stays, like sealed.bin and opened.bin


def run_phase(args) -> int:
    work = Path(args.work)
    if args.phase == "seal":
        result = phase_seal(work)
    elif args.phase == "open":
        result = phase_open(work)
    elif args.phase == "raw":
        result = phase_raw(work, args.size_mib * MiB)
    else:
        result = phase_copy(work)
    result["django_imported"] = any(name == "django" or name.startswith("django.") for name in sys.modules)
    print(json.dumps(result))
    return 0


# ---------------------------------------------------------------- the parent
def _child(phase: str, work: Path, size_mib: int) -> dict:
    command = [sys.executable, "-m", "bench.seal", "--phase", phase, "--work", str(work), "--size-mib", str(size_mib)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"phase {phase} failed (exit {done.returncode}):\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def write_input(path: Path, size: int) -> str:
    """Random bytes, 4 MiB at a time; returns their SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(4 * MiB, left))
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
        f.flush()
        os.fsync(f.fileno())
    return digest.hexdigest()


def write_keys(path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    keys = {name: f"{ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value:064x}"
            for name in ("decrypt", "sign")}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # throwaway keys, removed at the end
    with os.fdopen(fd, "w") as f:
        json.dump(keys, f)


def _rate(size: int, seconds: float) -> float:
    return round(size / MiB / seconds, 1)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def measure(work: Path, size_mib: int, runs: int) -> dict:
    import cryptography

    from bidding.sealing import SEGMENT_SIZE

    if SEGMENT_SIZE != SEGMENT:
        raise SystemExit(f"bidding.sealing.SEGMENT_SIZE is {SEGMENT_SIZE}, this benchmark assumes {SEGMENT}")
    size = size_mib * MiB
    began = time.perf_counter()
    write_keys(work / KEYS)
    plaintext_sha256 = write_input(work / INPUT, size)
    _say(f"  input written: {size_mib} MiB of random bytes in {time.perf_counter() - began:.2f} s")

    seal_runs, open_runs, raw_runs, copy_runs = [], [], [], []
    opened_sha256 = None
    for run in range(1, runs + 1):
        raw = _child("raw", work, size_mib)
        raw_runs.append(raw)
        _say(f"  run {run}/{runs}: raw AES-256-GCM encrypt {_rate(size, raw['encrypt_s'])} MiB/s, "
             f"decrypt {_rate(size, raw['decrypt_s'])} MiB/s (in memory)")
        sealed = _child("seal", work, size_mib)
        _fsync(work / SEALED)
        seal_runs.append(sealed)
        _say(f"  run {run}/{runs}: seal {sealed['seconds']:.3f} s, {_rate(size, sealed['seconds'])} MiB/s, "
             f"RSS +{sealed['rss_growth_mib']} MiB")
        opened = _child("open", work, size_mib)
        _fsync(work / OPENED)
        open_runs.append(opened)
        opened_sha256 = _sha256_file(work / OPENED)
        _say(f"  run {run}/{runs}: open {opened['seconds']:.3f} s, {_rate(size, opened['seconds'])} MiB/s, "
             f"RSS +{opened['rss_growth_mib']} MiB, round trip "
             f"{'ok' if opened_sha256 == plaintext_sha256 else 'WRONG BYTES'}")
        if opened_sha256 != plaintext_sha256:
            break
        copy_runs.append(_child("copy", work, size_mib))
        _say(f"  run {run}/{runs}: plain file copy {_rate(size, copy_runs[-1]['seconds'])} MiB/s (for information)")

    # Best of the runs for every timing (noise only ever adds time); worst of the runs for memory.
    seal_s = min(r["seconds"] for r in seal_runs)
    open_s = min(r["seconds"] for r in open_runs)
    encrypt_s = min(r["encrypt_s"] for r in raw_runs)
    decrypt_s = min(r["decrypt_s"] for r in raw_runs)
    seal_ratio = round(encrypt_s / seal_s, 3)
    open_ratio = round(decrypt_s / open_s, 3)
    seal_rss = max(r["rss_growth_mib"] for r in seal_runs)
    open_rss = max(r["rss_growth_mib"] for r in open_runs)
    met = {
        "seal_ratio": seal_ratio >= RATIO_TARGET,
        "open_ratio": open_ratio >= RATIO_TARGET,
        "seal_rss": seal_rss <= RSS_TARGET_MIB,
        "open_rss": open_rss <= RSS_TARGET_MIB,
    }
    met["all"] = all(met.values())
    sha256_s = min(r["sha256_s"] for r in raw_runs)
    info = {
        "aesgcm_encrypt_allocating_mib_s": _rate(size, min(r["encrypt_alloc_s"] for r in raw_runs)),
        "sha256_memory_mib_s": _rate(size, sha256_s),
        # The least work the format asks for, in memory: encrypt (or decrypt) and SHA-256 every byte.
        "seal_vs_aesgcm_plus_sha256": round((encrypt_s + sha256_s) / seal_s, 3),
        "open_vs_aesgcm_plus_sha256": round((decrypt_s + sha256_s) / open_s, 3),
        "file_copy_mib_s": _rate(size, min(r["seconds"] for r in copy_runs)) if copy_runs else None,
        "rss_method": seal_runs[0]["rss_method"],
        "seal_ru_maxrss_mib": max(r["ru_maxrss_mib"] for r in seal_runs),
        "open_ru_maxrss_mib": max(r["ru_maxrss_mib"] for r in open_runs),
    }
    return {
        "bench": "seal",
        "python": sys.version.split()[0],
        "cryptography": cryptography.__version__,
        "runs": len(seal_runs),
        "size_mib": size_mib,
        "plaintext_bytes": size,
        "sealed_bytes": seal_runs[0]["sealed_bytes"],
        "segment_size": SEGMENT,
        "segments": seal_runs[0]["segments"],
        "seal": {"seconds": round(seal_s, 4), "mib_per_s": _rate(size, seal_s), "rss_growth_mib": seal_rss,
                 "rss_before_mib": seal_runs[0]["rss_before_mib"]},
        "open": {"seconds": round(open_s, 4), "mib_per_s": _rate(size, open_s), "rss_growth_mib": open_rss,
                 "rss_before_mib": open_runs[0]["rss_before_mib"]},
        "raw_encrypt": {"seconds": round(encrypt_s, 4), "mib_per_s": _rate(size, encrypt_s)},
        "raw_decrypt": {"seconds": round(decrypt_s, 4), "mib_per_s": _rate(size, decrypt_s)},
        "ratios": {"seal": seal_ratio, "open": open_ratio},
        "targets": {"ratio_min": RATIO_TARGET, "rss_growth_max_mib": RSS_TARGET_MIB},
        "met": met,
        "round_trip": {"ok": opened_sha256 == plaintext_sha256, "plaintext_sha256": plaintext_sha256,
                       "opened_sha256": opened_sha256},
        "django_imported": any(r["django_imported"] for r in seal_runs + open_runs + raw_runs + copy_runs),
        "info": info,
    }


def _verdict(result: dict) -> None:
    targets = result["targets"]
    for name in ("seal", "open"):
        ratio, ok = result["ratios"][name], result["met"][f"{name}_ratio"]
        base = "raw_encrypt" if name == "seal" else "raw_decrypt"
        _say(f"  {name}/{base} = {ratio} (target >= {targets['ratio_min']}): {'met' if ok else 'MISSED'}")
        growth, ok = result[name]["rss_growth_mib"], result["met"][f"{name}_rss"]
        _say(f"  {name} RSS growth = {growth} MiB (target <= {targets['rss_growth_max_mib']}): {'met' if ok else 'MISSED'}")
    if not result["round_trip"]["ok"]:
        _say("  ROUND TRIP FAILED: the opened file is not the input")
    _say("  all targets met" if result["met"]["all"] else "  TARGETS MISSED (see above); exit code stays 0: this is a measurement")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=512, help="plaintext size in MiB (default 512)")
    parser.add_argument("--dir", help="where to make the temporary directory (default: the repository's var/)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and its files")
    parser.add_argument("--runs", type=int, default=3, help="timed passes; the best time counts (default 3)")
    parser.add_argument("--phase", choices=("seal", "open", "raw", "copy"), help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.runs < 1:
        parser.error("--size-mib and --runs must be at least 1")
    if args.phase:
        return run_phase(args)

    parent = Path(args.dir) if args.dir else REPO / "var"
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-seal-", dir=parent))
    _say(f"[seal] {args.size_mib} MiB, {args.runs} run(s), files in {work}")
    try:
        result = measure(work, args.size_mib, args.runs)
    finally:
        if args.keep:
            _say(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    _verdict(result)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["round_trip"]["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
