"""The offline bid tool, `python -m bidding.tool`: keygen, show-key, pack, seal, verify and open.

Driven in-process through `main(argv)`, and as a subprocess with a clean environment (no
DJANGO_SETTINGS_MODULE) to prove it runs on a bidder's machine without the platform. Every refusal
exits 1 with a message naming the problem and leaves no output file (not even a partial one)."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from accounts.credit_code import complete
from bidding import keyfile, sealing
from bidding.tool import main
from bidding.tool.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
OTHER_PASSPHRASE = "another bidder's passphrase"
FAST = ["--iterations", "1000"]  # tests only; the tool's default is keyfile.DEFAULT_ITERATIONS
BIDDER_CODE = complete("91441900MA4UABCDE")
SUMMARY = {
    "tender": "12",
    "lot": "1",
    "bidder": BIDDER_CODE,
    "price_fen": 123456789,
    "price_capital": "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分",
    "duration_days": 180,
    "quality": "合格",
    "project_manager": {"name": "张三", "certificate": "粤144123456789"},
}
BINDING = ["--tender", "12", "--lot", "1", "--bidder", "7"]


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.setenv("PP", PASSPHRASE)
    monkeypatch.setenv("OTHER_PP", OTHER_PASSPHRASE)
    monkeypatch.setenv("WRONG_PP", "not the passphrase at all")
    docs = tmp_path / "docs"
    (docs / "资格").mkdir(parents=True)
    (docs / "投标函.pdf").write_bytes(b"%PDF-1.7 letter of tender")
    (docs / "资格" / "营业执照.txt").write_text("营业执照", encoding="utf-8")
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def run(*argv):
    return main([str(a) for a in argv])


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def keygen(work, name="keys.json", env="PP"):
    assert run("keygen", "--out", work / name, "--passphrase-env", env, *FAST) == 0
    return work / name


@pytest.fixture
def sealed(work):
    """A key file, a packed bid and its sealed file, made with the tool."""
    keys = keygen(work)
    assert run("pack", work / "docs", "--summary", work / "summary.json", "--out", work / "bid.zip") == 0
    assert run("seal", work / "bid.zip", "--keys", keys, *BINDING, "--out", work / "bid.sealed", "--passphrase-env", "PP") == 0
    return work / "bid.sealed"


def refused(capsys, code, *expected):
    """The command exited with `code` and its message on stderr names each of `expected`."""
    err = capsys.readouterr().err
    assert err.startswith("错误："), err
    for text in expected:
        assert text in err, err
    return err


# ------------------------------------------------------------------------- without Django


def clean_env(**extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO")}
    env.update(PYTHONPATH=str(REPO), **extra)
    return env


def test_help_runs_without_django_settings():
    result = subprocess.run([sys.executable, "-m", "bidding.tool", "--help"], cwd=REPO, env=clean_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for command in ("keygen", "show-key", "pack", "seal", "verify", "open", "register-key", "upload", "status", "withdraw", "release-key"):
        assert command in result.stdout


def test_importing_the_tool_does_not_import_django():
    code = "import sys, bidding.tool; sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=clean_env(), capture_output=True, text=True)
    assert result.returncode == 0, "bidding.tool imported django" + result.stderr


def test_round_trip_as_a_subprocess_with_a_clean_environment(work):
    env = clean_env(PP=PASSPHRASE)

    def tool(*argv):
        return subprocess.run([sys.executable, "-m", "bidding.tool", *map(str, argv)], cwd=work, env=env, capture_output=True, text=True)

    steps = [
        ("keygen", "--out", "keys.json", "--label", "Acme 笔记本", "--passphrase-env", "PP", *FAST),
        ("show-key", "keys.json"),
        ("pack", "docs", "--summary", "summary.json", "--out", "bid.zip"),
        ("seal", "bid.zip", "--keys", "keys.json", *BINDING, "--out", "bid.sealed", "--passphrase-env", "PP"),
        ("verify", "bid.sealed", "--keys", "keys.json", *BINDING),
        ("open", "bid.sealed", "--keys", "keys.json", "--out", "opened.zip", "--passphrase-env", "PP"),
    ]
    results = [tool(*step) for step in steps]
    for step, result in zip(steps, results):
        assert result.returncode == 0, (step, result.stderr)
    assert (work / "opened.zip").read_bytes() == (work / "bid.zip").read_bytes()
    assert "投标函.pdf" in results[-1].stdout and "资格/营业执照.txt" in results[-1].stdout
    assert "结论：完好" in results[4].stdout


# ------------------------------------------------------------------------------ round trip


def test_round_trip_in_process(work, capsys):
    keys = keygen(work)
    created = capsys.readouterr().out
    public = keyfile.load_public(keys.read_bytes())
    grouped_decryption = " ".join(public.fingerprints.decryption[i:i + 4] for i in range(0, 64, 4))
    assert grouped_decryption in created
    assert public.fingerprints.signing[:4] + " " + public.fingerprints.signing[4:8] in created
    assert oct(keys.stat().st_mode & 0o777) == "0o600"

    assert run("show-key", keys) == 0
    assert grouped_decryption in capsys.readouterr().out

    assert run("pack", work / "docs", "--summary", work / "summary.json", "--out", work / "bid.zip") == 0
    with zipfile.ZipFile(work / "bid.zip") as archive:
        assert sorted(archive.namelist()) == ["bid.json", "投标函.pdf", "资格/营业执照.txt"]
    capsys.readouterr()

    assert run("seal", work / "bid.zip", "--keys", keys, *BINDING, "--out", work / "bid.sealed", "--passphrase-env", "PP") == 0
    out = capsys.readouterr().out
    with open(work / "bid.sealed", "rb") as f:
        header, _ = sealing.read_header(f)
    assert header.ciphertext_sha256 in out
    assert header.binding == sealing.Binding("12", "1", "7")
    assert grouped_decryption in out  # sealed to the bidder's own decryption key
    assert f"{header.file_size:,} B" in out

    assert run("verify", work / "bid.sealed", "--keys", keys, *BINDING) == 0
    assert "结论：完好" in capsys.readouterr().out

    assert run("open", work / "bid.sealed", "--keys", keys, "--out", work / "opened.zip", "--passphrase-env", "PP") == 0
    out = capsys.readouterr().out
    assert (work / "opened.zip").read_bytes() == (work / "bid.zip").read_bytes()
    assert "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分" in out and "1,234,567.89 元" in out
    assert "大写金额与小写金额一致" in out


def test_keygen_asks_for_the_passphrase_twice(work, monkeypatch, capsys):
    answers = iter([PASSPHRASE, PASSPHRASE])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert run("keygen", "--out", work / "keys.json", *FAST) == 0
    keyfile.unlock((work / "keys.json").read_bytes(), PASSPHRASE)


def test_keygen_default_iterations_are_keyfiles_and_the_option_is_hidden():
    parser = build_parser()
    assert parser.parse_args(["keygen", "--out", "k.json"]).iterations == keyfile.DEFAULT_ITERATIONS
    keygen_help = parser._subparsers._group_actions[0].choices["keygen"].format_help()
    assert "--iterations" not in keygen_help


def test_seal_with_a_custodial_key_lists_it(work, capsys):
    keys = keygen(work)
    assert run("pack", work / "docs", "--summary", work / "summary.json", "--out", work / "bid.zip") == 0
    custodial = keyfile.load_public(keygen(work, "custodian.json").read_bytes()).decryption
    (work / "custodial.jwk.json").write_text(json.dumps(keyfile.public_jwk(custodial)))
    capsys.readouterr()
    assert run("seal", work / "bid.zip", "--keys", keys, *BINDING, "--out", work / "bid.sealed",
               "--custodial-key", work / "custodial.jwk.json", "--passphrase-env", "PP") == 0
    assert "托管密钥指纹" in capsys.readouterr().out
    with open(work / "bid.sealed", "rb") as f:
        header, _ = sealing.read_header(f)
    assert [r.role for r in header.recipients] == ["bidder", "custodial"]
    assert header.recipients[1].key_fingerprint == sealing.fingerprint(custodial)


def test_verify_with_a_signing_jwk_or_show_key_json(work, sealed, capsys):
    assert run("show-key", work / "keys.json", "--json") == 0
    (work / "public.json").write_text(capsys.readouterr().out, encoding="utf-8")
    bare = json.loads((work / "public.json").read_text(encoding="utf-8"))["signing"]
    (work / "signing.jwk.json").write_text(json.dumps(bare))
    for path in ("public.json", "signing.jwk.json"):
        assert run("verify", sealed, "--signing-key-jwk", work / path) == 0
        assert "结论：完好" in capsys.readouterr().out


def test_verify_without_a_key_says_the_signature_was_not_checked(sealed, capsys):
    assert run("verify", sealed) == 0
    assert "未核验签名" in capsys.readouterr().out


def test_progress_bar_on_request_only(work, sealed, capsys):
    assert run("verify", sealed, "--keys", work / "keys.json") == 0
    assert capsys.readouterr().err == ""  # stderr is not a terminal here
    assert run("verify", sealed, "--keys", work / "keys.json", "--progress") == 0
    err = capsys.readouterr().err
    assert "核验（verifying） [" in err and "100.0%" in err


def test_open_flags_a_price_in_words_that_differs(work, capsys):
    """A package sealed by another tool with words ≠ figures opens, with the P19 flag shown."""
    keys = keygen(work)
    content = b"document"
    import hashlib

    bid = {"format": "etender-bid", "version": 1, **SUMMARY, "price_capital": "壹佰元整",
           "documents": [{"path": "a.pdf", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}]}
    with zipfile.ZipFile(work / "odd.zip", "w") as archive:
        archive.writestr("a.pdf", content)
        archive.writestr("bid.json", json.dumps(bid, ensure_ascii=False))
    unlocked = keyfile.unlock(keys.read_bytes(), PASSPHRASE)
    with open(work / "odd.zip", "rb") as plain, open(work / "odd.sealed", "wb") as out:
        sealing.seal(plain, out, recipient_public_key=unlocked.public.decryption, signing_private_key=unlocked.signing,
                     binding=sealing.Binding("12", "1", "7"))
    capsys.readouterr()
    assert run("open", work / "odd.sealed", "--keys", keys, "--out", work / "opened.zip", "--passphrase-env", "PP") == 0
    out = capsys.readouterr().out
    assert "price_words_differ_from_figures" in out and "以大写金额为准" in out

    # ...but the tool itself refuses to seal such a package.
    assert run("seal", work / "odd.zip", "--keys", keys, *BINDING, "--out", work / "again.sealed", "--passphrase-env", "PP") == 1
    refused(capsys, 1, "壹佰元整", "不一致")
    assert not (work / "again.sealed").exists()


# --------------------------------------------------------------------------- refusals


def test_wrong_passphrase_is_refused_and_writes_nothing(work, sealed, capsys):
    before = listing(work)
    assert run("seal", work / "bid.zip", "--keys", work / "keys.json", *BINDING, "--out", work / "x.sealed", "--passphrase-env", "WRONG_PP") == 1
    refused(capsys, 1, "口令不正确", "wrong")
    assert run("open", sealed, "--keys", work / "keys.json", "--out", work / "x.zip", "--passphrase-env", "WRONG_PP") == 1
    refused(capsys, 1, "口令不正确")
    assert listing(work) == before


def test_pack_refuses_a_capital_price_that_does_not_match_naming_both(work, capsys):
    (work / "summary.json").write_text(json.dumps({**SUMMARY, "price_capital": "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角"}, ensure_ascii=False), encoding="utf-8")
    before = listing(work)
    assert run("pack", work / "docs", "--summary", work / "summary.json", "--out", work / "bid.zip") == 1
    err = refused(capsys, 1, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角", "123456780", "123456789", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分")
    assert "不一致" in err
    assert listing(work) == before


def test_pack_refuses_a_summary_with_missing_or_unknown_fields(work, capsys):
    summary = {k: v for k, v in SUMMARY.items() if k != "quality"} | {"documents": []}
    (work / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    assert run("pack", work / "docs", "--summary", work / "summary.json", "--out", work / "bid.zip") == 1
    refused(capsys, 1, "quality", "documents")
    assert not (work / "bid.zip").exists()


def test_pack_refuses_a_bad_credit_code_and_leaves_no_zip(work, capsys):
    (work / "summary.json").write_text(json.dumps({**SUMMARY, "bidder": "91441900MA4UABCDE0"}), encoding="utf-8")
    before = listing(work)
    assert run("pack", work / "docs", "--summary", work / "summary.json", "--out", work / "bid.zip") == 1
    refused(capsys, 1, "bid.json", "credit code")
    assert listing(work) == before


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "where, verify_says, open_says",
    [
        ("last byte", "已被篡改", "已被篡改"),  # a segment: the hash (verify) and the tag (open)
        ("header", "签名无效", "签名无效"),  # a digit of the header's time: well-formed, but no longer signed
    ],
)
def test_tampered_sealed_file_is_refused(work, sealed, capsys, where, verify_says, open_says):
    data = sealed.read_bytes()
    flip_byte(sealed, -1 if where == "last byte" else data.index(b'"created":"') + len(b'"created":"') + 3)
    before = listing(work)
    assert run("verify", sealed, "--keys", work / "keys.json") == 1
    refused(capsys, 1, verify_says)
    assert run("open", sealed, "--keys", work / "keys.json", "--out", work / "opened.zip", "--passphrase-env", "PP") == 1
    refused(capsys, 1, open_says)
    assert listing(work) == before


def test_tampering_in_a_later_segment_removes_the_partial_plaintext(work, capsys):
    (work / "docs" / "图纸.bin").write_bytes(os.urandom(1_500_000))  # two 1 MiB segments
    keys = keygen(work)
    assert run("pack", work / "docs", "--summary", work / "summary.json", "--out", work / "bid.zip") == 0
    assert run("seal", work / "bid.zip", "--keys", keys, *BINDING, "--out", work / "bid.sealed", "--passphrase-env", "PP") == 0
    flip_byte(work / "bid.sealed", -1)
    capsys.readouterr()
    before = listing(work)
    assert run("open", work / "bid.sealed", "--keys", keys, "--out", work / "opened.zip", "--passphrase-env", "PP") == 1
    refused(capsys, 1, "已被篡改", "segment 1 of 2")
    assert listing(work) == before  # segment 0 was decrypted, and then removed


def test_truncated_sealed_file_is_refused(work, sealed, capsys):
    sealed.write_bytes(sealed.read_bytes()[:-10])
    before = listing(work)
    assert run("verify", sealed, "--keys", work / "keys.json") == 1
    refused(capsys, 1, "被截断", "ends inside")
    assert run("open", sealed, "--keys", work / "keys.json", "--out", work / "opened.zip", "--passphrase-env", "PP") == 1
    refused(capsys, 1, "被截断")
    assert listing(work) == before


def test_a_plain_zip_is_not_a_sealed_bid(work, sealed, capsys):
    assert run("verify", work / "bid.zip") == 1
    refused(capsys, 1, "不是密封投标文件")


def test_verify_against_another_bidders_key_is_refused(work, sealed, capsys):
    other = keygen(work, "other.json", env="OTHER_PP")
    assert run("verify", sealed, "--keys", other) == 1
    refused(capsys, 1, "签名无效", "not by the expected key")
    assert run("open", sealed, "--keys", other, "--out", work / "opened.zip", "--passphrase-env", "OTHER_PP") == 1
    refused(capsys, 1, "不是用此密钥密封的")
    assert not (work / "opened.zip").exists()


def test_wrong_tender_binding_is_refused(work, sealed, capsys):
    assert run("verify", sealed, "--keys", work / "keys.json", "--tender", "13", "--lot", "1", "--bidder", "7") == 1
    refused(capsys, 1, "绑定的项目、标段或投标人不符", "tender 12", "tender 13")
    assert run("open", sealed, "--keys", work / "keys.json", "--out", work / "o.zip", "--tender", "12", "--lot", "1",
               "--bidder", "8", "--passphrase-env", "PP") == 1
    refused(capsys, 1, "bidder 8")
    assert not (work / "o.zip").exists()
    # Sealing a package for tender 12 as a bid for tender 13 is refused before anything is written.
    assert run("seal", work / "bid.zip", "--keys", work / "keys.json", "--tender", "13", "--lot", "1", "--bidder", "7",
               "--out", work / "x.sealed", "--passphrase-env", "PP") == 1
    refused(capsys, 1, "项目 12", "--tender 13")
    assert not (work / "x.sealed").exists()


def test_keygen_never_overwrites_an_existing_key_file(work, capsys):
    keys = keygen(work)
    original = keys.read_bytes()
    capsys.readouterr()
    assert run("keygen", "--out", keys, "--passphrase-env", "PP", *FAST) == 1
    refused(capsys, 1, "已存在", "not overwritten")
    assert keys.read_bytes() == original
    assert listing(work).count("keys.json") == 1 and not [n for n in listing(work) if n.endswith(".partial")]


def test_other_outputs_are_not_overwritten_without_force(work, sealed, capsys):
    original = sealed.read_bytes()
    assert run("seal", work / "bid.zip", "--keys", work / "keys.json", *BINDING, "--out", sealed, "--passphrase-env", "PP") == 1
    refused(capsys, 1, "已存在")
    assert sealed.read_bytes() == original
    assert run("seal", work / "bid.zip", "--keys", work / "keys.json", *BINDING, "--out", sealed, "--passphrase-env", "PP", "--force") == 0


def test_keygen_refuses_a_weak_or_mistyped_passphrase(work, monkeypatch, capsys):
    monkeypatch.setenv("SHORT", "short")
    assert run("keygen", "--out", work / "keys.json", "--passphrase-env", "SHORT", *FAST) == 1
    refused(capsys, 1, "口令太弱", "12")
    answers = iter([PASSPHRASE, PASSPHRASE + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert run("keygen", "--out", work / "keys.json", *FAST) == 1
    refused(capsys, 1, "两次输入的口令不一致")
    assert not (work / "keys.json").exists()


@pytest.mark.parametrize(
    "argv, named",
    [
        (["show-key", "{w}/missing.json"], "missing.json"),
        (["pack", "{w}/no-folder", "--summary", "{w}/summary.json", "--out", "{w}/x.zip"], "no-folder"),
        (["pack", "{w}/docs", "--summary", "{w}/no-summary.json", "--out", "{w}/x.zip"], "no-summary.json"),
        (["seal", "{w}/no-bid.zip", "--keys", "{w}/keys.json", *BINDING, "--out", "{w}/x.sealed", "--passphrase-env", "PP"], "no-bid.zip"),
        (["seal", "{w}/bid.zip", "--keys", "{w}/no-keys.json", *BINDING, "--out", "{w}/x.sealed", "--passphrase-env", "PP"], "no-keys.json"),
        (["verify", "{w}/no.sealed"], "no.sealed"),
        (["open", "{w}/no.sealed", "--keys", "{w}/keys.json", "--out", "{w}/x.zip", "--passphrase-env", "PP"], "no.sealed"),
        (["open", "{w}/bid.sealed", "--keys", "{w}/keys.json", "--out", "{w}/no-folder/x.zip", "--passphrase-env", "PP"], "no-folder"),
        (["seal", "{w}/bid.zip", "--keys", "{w}/keys.json", *BINDING, "--out", "{w}/x.sealed", "--passphrase-env", "UNSET_VAR"], "UNSET_VAR"),
    ],
)
def test_missing_files_are_refused_by_name(work, sealed, capsys, argv, named):
    capsys.readouterr()
    before = listing(work)
    assert main([a.replace("{w}", str(work)) for a in argv]) == 1
    refused(capsys, 1, named)
    assert listing(work) == before


def test_usage_errors_exit_2(work, capsys):
    assert main(["seal", "bid.zip"]) == 2  # argparse: --keys, --out ... are required
    assert main(["frobnicate"]) == 2
    assert main(["verify", str(work / "x"), "--tender", "12"]) == 2  # binding: all three or none
    assert "--tender" in capsys.readouterr().err
    assert main(["upload", "bid.sealed"]) == 2  # --lot is required
    assert "--lot" in capsys.readouterr().err
    assert main(["--help"]) == 0
