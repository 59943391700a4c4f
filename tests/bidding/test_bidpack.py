"""The bid package (bid.json + documents in a ZIP): deterministic streaming packing, the checks of
the opening, and the refusal of every hostile ZIP with its own BidPackError. Pure: no database."""

import hashlib
import io
import json
import os
import tracemalloc
import warnings
import zipfile

import pytest

from accounts.credit_code import complete
from bidding import bidpack
from bidding.bidpack import (
    BidPackError,
    CompressionBomb,
    CorruptZip,
    DocumentMismatch,
    DuplicateEntry,
    EmptyFolder,
    EncryptedEntry,
    InvalidSummary,
    MissingDocument,
    NotAZip,
    PackFolderError,
    PriceMismatch,
    SpecialEntry,
    SpecialFileInFolder,
    SymlinkEntry,
    SymlinkInFolder,
    TooLarge,
    TooManyEntries,
    UnlistedFile,
    UnsafePath,
    UnsupportedCompression,
    pack,
    read_summary,
    verify_pack,
)

BIDDER = complete("91441900MA4UABCDE")
SUMMARY = {
    "tender": "12",
    "lot": "1",
    "bidder": BIDDER,
    "price_fen": 123456789,
    "price_capital": "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分",
    "duration_days": 180,
    "quality": "合格",
    "project_manager": {"name": "张三", "certificate": "粤144123456789"},
}
FILES = {"技术标/方案.pdf": b"%PDF-1.7 technical proposal", "商务标/报价.xlsx": b"price list", "资格.pdf": b""}


def make_folder(root, files=FILES):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def packed(tmp_path, files=FILES, **summary_changes) -> bytes:
    out = io.BytesIO()
    pack(make_folder(tmp_path / "bid", files), SUMMARY | summary_changes, out)
    return out.getvalue()


def summary_json(files=FILES, **changes) -> dict:
    documents = [{"path": n, "size": len(c), "sha256": hashlib.sha256(c).hexdigest()} for n, c in sorted(files.items())]
    return {"format": "etender-bid", "version": 1, **SUMMARY, "documents": documents, **changes}


def handmade(entries, summary=None, *, compression=zipfile.ZIP_STORED) -> io.BytesIO:
    """A ZIP written entry by entry: `entries` maps a name or ZipInfo to bytes; bid.json is added
    (from `summary`, or listing the entries) unless summary is False."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names some tests write
        with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
            for name, content in entries:
                archive.writestr(name, content)
            if summary is not False:
                listed = {n if isinstance(n, str) else n.filename: c for n, c in entries}
                data = summary if summary is not None else summary_json(listed)
                archive.writestr("bid.json", data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False))
    buffer.seek(0)
    return buffer


def patch_central(data: bytes, index: int, offset: int, value: bytes) -> io.BytesIO:
    """Overwrite bytes at `offset` in the index-th central directory entry."""
    position = -1
    for _ in range(index + 1):
        position = data.index(b"PK\x01\x02", position + 1)
    data = bytearray(data)
    data[position + offset:position + offset + len(value)] = value
    return io.BytesIO(bytes(data))


# ------------------------------------------------------------------ round trip and determinism


def test_a_packed_folder_verifies_with_its_summary_and_hashes(tmp_path):
    summary = verify_pack(io.BytesIO(packed(tmp_path)))
    assert (summary.tender, summary.lot, summary.bidder) == ("12", "1", BIDDER)
    assert summary.price_fen == summary.prevailing_price_fen == 123456789
    assert summary.flags == () and not summary.price_mismatch
    assert (summary.duration_days, summary.quality) == (180, "合格")
    assert (summary.project_manager_name, summary.project_manager_certificate) == ("张三", "粤144123456789")
    assert {d.path: (d.size, d.sha256) for d in summary.documents} == {
        name: (len(content), hashlib.sha256(content).hexdigest()) for name, content in FILES.items()
    }


def test_pack_returns_the_bid_json_it_wrote(tmp_path):
    out = io.BytesIO()
    bid = pack(make_folder(tmp_path), SUMMARY, out)
    assert bid == summary_json()
    assert read_summary(io.BytesIO(out.getvalue())) == bid
    assert json.loads(zipfile.ZipFile(out).read("bid.json")) == bid


def test_names_are_utf8_sorted_with_bid_json_last_and_fixed_metadata(tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(packed(tmp_path)))
    infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(FILES) + ["bid.json"]
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.external_attr >> 16 == 0o100644 for i in infos)
    assert all(i.flag_bits & 0x800 for i in infos if not i.filename.isascii())


def test_the_same_folder_packs_to_the_same_bytes(tmp_path):
    first = packed(tmp_path / "a")
    reversed_files = dict(reversed(list(FILES.items())))  # created in another order
    second = packed(tmp_path / "b", reversed_files)
    for path in (tmp_path / "b" / "bid").rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
        if path.is_file():
            path.chmod(0o600)
    assert first == second == packed(tmp_path / "b", reversed_files)


def test_a_file_output_and_a_memory_output_get_the_same_bytes(tmp_path):
    folder = make_folder(tmp_path / "bid")
    with open(tmp_path / "bid.zip", "wb") as out:
        pack(folder, SUMMARY, out)
    memory = io.BytesIO()
    pack(folder, SUMMARY, memory)
    assert (tmp_path / "bid.zip").read_bytes() == memory.getvalue()


def test_deflated_packages_are_deterministic_and_verify(tmp_path):
    folder = make_folder(tmp_path / "bid", {"a.txt": b"word " * 1000})
    outs = [io.BytesIO(), io.BytesIO()]
    for out in outs:
        pack(folder, SUMMARY, out, compression=zipfile.ZIP_DEFLATED)
    assert outs[0].getvalue() == outs[1].getvalue()
    assert zipfile.ZipFile(outs[0]).getinfo("a.txt").compress_type == zipfile.ZIP_DEFLATED
    assert verify_pack(io.BytesIO(outs[0].getvalue())).documents[0].size == 5000


def test_a_large_document_streams_in_bounded_memory(tmp_path):
    folder = tmp_path / "bid"
    folder.mkdir()
    digest = hashlib.sha256()
    with open(folder / "图纸.dwg", "wb") as big:
        for _ in range(32):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            big.write(chunk)
    tracemalloc.start()
    try:
        with open(tmp_path / "bid.zip", "wb") as out:
            pack(folder, SUMMARY, out)
        _, pack_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with open(tmp_path / "bid.zip", "rb") as package:
            summary = verify_pack(package)
        _, verify_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.documents[0].sha256 == digest.hexdigest()
    assert pack_peak < 8 << 20 and verify_peak < 8 << 20, (pack_peak, verify_peak)


# ------------------------------------------------------------------ packing refusals


def test_pack_refuses_words_that_differ_from_figures_naming_both(tmp_path):
    out = io.BytesIO()
    with pytest.raises(PriceMismatch, match=r"'壹仟元整' is 100000 fen .*\(price_fen\) is 100001 fen"):
        pack(make_folder(tmp_path), SUMMARY | {"price_fen": 100001, "price_capital": "壹仟元整"}, out)
    assert out.getvalue() == b""


def test_pack_refuses_unreadable_words(tmp_path):
    with pytest.raises(InvalidSummary, match="price_capital is not readable"):
        pack(make_folder(tmp_path), SUMMARY | {"price_capital": "一千元"}, io.BytesIO())


def test_pack_refuses_a_price_beyond_capital_numerals(tmp_path):
    with pytest.raises(InvalidSummary, match="cannot be written in capital numerals"):
        pack(make_folder(tmp_path), SUMMARY | {"price_fen": 10**14}, io.BytesIO())


def test_pack_refuses_a_summary_listing_documents(tmp_path):
    with pytest.raises(InvalidSummary, match="must not list documents"):
        pack(make_folder(tmp_path), SUMMARY | {"documents": []}, io.BytesIO())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration_days": 0}, "duration_days must be an integer from 1 to 3650"),
        ({"bidder": "91441900MA4UABCDE0"}, "credit code"),
        ({"quality": ""}, "quality must be a non-empty string"),
        ({"surprise": 1}, "unknown"),
        ({"version": 2}, "version 1"),
    ],
)
def test_pack_refuses_an_invalid_summary_before_writing(tmp_path, change, message):
    out = io.BytesIO()
    with pytest.raises(InvalidSummary, match=message):
        pack(make_folder(tmp_path), SUMMARY | change, out)
    assert out.getvalue() == b""


def test_pack_refuses_a_missing_summary_field(tmp_path):
    summary = dict(SUMMARY)
    del summary["quality"]
    with pytest.raises(InvalidSummary, match=r"lacks \['quality'\]"):
        pack(make_folder(tmp_path), summary, io.BytesIO())


def test_pack_refuses_an_empty_folder(tmp_path):
    (tmp_path / "bid" / "empty-subfolder").mkdir(parents=True)
    with pytest.raises(EmptyFolder, match="holds no files"):
        pack(tmp_path / "bid", SUMMARY, io.BytesIO())


def test_pack_refuses_what_is_not_a_folder(tmp_path):
    with pytest.raises(PackFolderError, match="is not a folder"):
        pack(tmp_path / "missing", SUMMARY, io.BytesIO())


def test_pack_refuses_a_symlink_to_a_file_outside(tmp_path):
    (tmp_path / "secret.txt").write_bytes(b"secret")
    folder = make_folder(tmp_path / "bid")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    out = io.BytesIO()
    with pytest.raises(SymlinkInFolder, match="link.txt is a symbolic link"):
        pack(folder, SUMMARY, out)
    assert out.getvalue() == b""


def test_pack_refuses_a_symlinked_folder(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.pdf").write_bytes(b"x")
    folder = make_folder(tmp_path / "bid")
    (folder / "技术标" / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(SymlinkInFolder, match="技术标/more is a symbolic link"):
        pack(folder, SUMMARY, io.BytesIO())


def test_pack_refuses_a_fifo(tmp_path):
    folder = make_folder(tmp_path / "bid")
    os.mkfifo(folder / "pipe")
    with pytest.raises(SpecialFileInFolder, match="pipe is not a regular file"):
        pack(folder, SUMMARY, io.BytesIO())


def test_pack_refuses_an_output_file_inside_the_folder(tmp_path):
    folder = make_folder(tmp_path / "bid")
    with open(folder / "out.zip", "wb") as out, pytest.raises(PackFolderError, match="output file out.zip is inside"):
        pack(folder, SUMMARY, out)


def test_pack_refuses_a_bid_json_in_the_folder(tmp_path):
    folder = make_folder(tmp_path / "bid", FILES | {"bid.json": b"{}"})
    with pytest.raises(PackFolderError, match="its own bid.json"):
        pack(folder, SUMMARY, io.BytesIO())


def test_pack_refuses_a_file_name_with_a_backslash(tmp_path):
    folder = make_folder(tmp_path / "bid", {"a\\b.pdf": b"x"})
    with pytest.raises(UnsafePath, match="backslash"):
        pack(folder, SUMMARY, io.BytesIO())


def test_pack_refuses_more_files_than_a_package_holds(tmp_path):
    folder = make_folder(tmp_path / "bid", {f"{i}.pdf": b"x" for i in range(5)})
    with pytest.raises(TooManyEntries, match="at most 4 documents"):
        pack(folder, SUMMARY, io.BytesIO(), max_entries=5)


def test_pack_refuses_files_beyond_the_size_limit(tmp_path):
    with pytest.raises(TooLarge, match="at most 10"):
        pack(make_folder(tmp_path / "bid"), SUMMARY, io.BytesIO(), max_total_size=10)


def test_pack_refuses_an_unknown_compression(tmp_path):
    with pytest.raises(ValueError, match="ZIP_STORED or zipfile.ZIP_DEFLATED"):
        pack(make_folder(tmp_path), SUMMARY, io.BytesIO(), compression=zipfile.ZIP_LZMA)


# ------------------------------------------------------------------ words and figures at the opening


def test_words_differing_from_figures_are_flagged_and_the_words_prevail():
    package = handmade([("a.pdf", b"a")], summary_json({"a.pdf": b"a"}, price_fen=100001, price_capital="壹仟元整"))
    summary = verify_pack(package)
    assert summary.price_mismatch and summary.flags == (bidpack.PRICE_WORDS_DIFFER,)
    assert (summary.price_fen, summary.price_capital_fen, summary.prevailing_price_fen) == (100001, 100000, 100000)


def test_allowed_variants_of_the_words_are_read():
    package = handmade([("a.pdf", b"a")], summary_json({"a.pdf": b"a"}, price_fen=1050, price_capital="人民币拾元伍角"))
    assert verify_pack(package).prevailing_price_fen == 1050


# ------------------------------------------------------------------ bid.json at the opening


def test_a_missing_bid_json_is_refused():
    with pytest.raises(InvalidSummary, match="no bid.json"):
        read_summary(handmade([("a.pdf", b"a")], summary=False))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"{", "not UTF-8 JSON"),
        (b'{"a": 1, "a": 2}', "repeats a key"),
        (b'{"a": NaN}', "contains NaN"),
        (b"[]", "must be an object"),
        (b"[" * 100_000, "not UTF-8 JSON"),
    ],
)
def test_a_bid_json_that_is_not_json_is_refused(raw, message):
    with pytest.raises(InvalidSummary, match=message):
        read_summary(handmade([("a.pdf", b"a")], summary=raw))


def test_an_oversized_bid_json_is_refused():
    with pytest.raises(InvalidSummary, match="at most 1048576"):
        read_summary(handmade([("a.pdf", b"a")], summary=b" " * (bidpack.MAX_SUMMARY_SIZE + 1)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "zip"}, "format must be 'etender-bid'"),
        ({"version": True}, "version 1"),
        ({"tender": ""}, "tender must be a non-empty string"),
        ({"lot": 1}, "lot must be a non-empty string"),
        ({"bidder": BIDDER.lower()}, "credit code"),
        ({"price_fen": 0}, "price_fen must be an integer from 1 to 9007199254740991"),
        ({"price_fen": 2**53}, "price_fen must be an integer from 1"),
        ({"price_fen": 100.0}, "price_fen must be an integer"),
        ({"price_fen": True}, "price_fen must be an integer"),
        ({"price_capital": 100}, "price_capital must be a string"),
        ({"price_capital": "壹仟元整整"}, "price_capital is not readable"),
        ({"duration_days": 3651}, "duration_days must be an integer from 1 to 3650"),
        ({"quality": "合格\u202e"}, "control character"),
        ({"project_manager": {"name": "张三"}}, r"lacks \['certificate'\]"),
        ({"project_manager": "张三"}, "project_manager must be an object"),
        ({"documents": []}, "list of 1 to"),
        ({"documents": [{"path": "a.pdf", "size": 1}]}, r"lacks \['sha256'\]"),
        ({"documents": [{"path": "a.pdf", "size": -1, "sha256": "0" * 64}]}, "size must be an integer"),
        ({"documents": [{"path": "a.pdf", "size": 1, "sha256": "A" * 64}]}, "64 lower-case hex"),
        ({"documents": [{"path": "../a.pdf", "size": 1, "sha256": "0" * 64}]}, r"path: .*'\.\.'"),
        ({"documents": [{"path": "bid.json", "size": 1, "sha256": "0" * 64}]}, "may not be bid.json"),
        ({"documents": [{"path": "a.pdf", "size": 1, "sha256": "0" * 64}] * 2}, "listed twice"),
        ({"extra": 1}, r"unknown \['extra'\]"),
    ],
)
def test_bid_json_violating_schema_v1_is_refused(change, message):
    with pytest.raises(InvalidSummary, match=message):
        read_summary(handmade([("a.pdf", b"a")], summary_json({"a.pdf": b"a"}, **change)))


# ------------------------------------------------------------------ documents at the opening


def test_a_listed_document_missing_from_the_zip_is_refused():
    package = handmade([("a.pdf", b"a")], summary_json({"a.pdf": b"a", "b.pdf": b"b"}))
    with pytest.raises(MissingDocument, match="b.pdf"):
        verify_pack(package)


def test_an_unlisted_file_in_the_zip_is_refused():
    package = handmade([("a.pdf", b"a"), ("extra.exe", b"x")], summary_json({"a.pdf": b"a"}))
    with pytest.raises(UnlistedFile, match="extra.exe"):
        verify_pack(package)


def test_a_document_of_another_size_is_refused():
    package = handmade([("a.pdf", b"ab")], summary_json({"a.pdf": b"a"}))
    with pytest.raises(DocumentMismatch, match="'a.pdf' is 2 bytes; bid.json declares 1"):
        verify_pack(package)


def test_a_document_with_another_hash_is_refused():
    package = handmade([("a.pdf", b"b")], summary_json({"a.pdf": b"a"}))
    with pytest.raises(DocumentMismatch, match="'a.pdf' has SHA-256"):
        verify_pack(package)


def test_folder_entries_are_allowed():
    package = handmade([("技术标/", b""), ("技术标/a.pdf", b"a")], summary_json({"技术标/a.pdf": b"a"}))
    assert [d.path for d in verify_pack(package).documents] == ["技术标/a.pdf"]


# ------------------------------------------------------------------ hostile ZIPs


def test_bytes_that_are_not_a_zip_are_refused():
    with pytest.raises(NotAZip, match="not a ZIP"):
        verify_pack(io.BytesIO(b"%PDF-1.7 not a zip at all"))


def test_an_empty_file_is_refused():
    with pytest.raises(NotAZip):
        verify_pack(io.BytesIO(b""))


def test_a_truncated_zip_is_refused(tmp_path):
    data = packed(tmp_path)
    with pytest.raises(BidPackError):
        verify_pack(io.BytesIO(data[: len(data) // 2]))


def test_a_damaged_entry_is_refused(tmp_path):
    data = bytearray(packed(tmp_path))
    position = data.index(b"%PDF-1.7")
    data[position] ^= 1  # the document's bytes no longer match its CRC-32
    with pytest.raises(CorruptZip, match="Bad CRC-32"):
        verify_pack(io.BytesIO(bytes(data)))


def test_too_many_entries_are_refused():
    entries = [(f"{i}.pdf", b"x") for i in range(6)]
    with pytest.raises(TooManyEntries, match="more than 5 entries"):
        verify_pack(handmade(entries), max_entries=5)


def test_a_huge_central_directory_is_refused_before_it_is_read():
    entries = [(f"{i:0500d}.pdf", b"") for i in range(10)]
    with pytest.raises(TooManyEntries, match="directory is .* bytes, more than 2 entries need"):
        verify_pack(handmade(entries, summary=False), max_entries=2)


def test_a_total_size_beyond_the_limit_is_refused():
    with pytest.raises(TooLarge, match="more than 100 bytes"):
        verify_pack(handmade([("a.pdf", b"x" * 101)]), max_total_size=100)


def test_a_compression_bomb_is_refused_before_it_is_inflated():
    package = handmade([("zeros.pdf", bytes(8 << 20))], compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(CompressionBomb, match=r"'zeros.pdf' would expand \d+ bytes to 8388608, more than 100 times"):
        verify_pack(package)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/etc/passwd", "absolute path"),
        ("../../outside.pdf", "'..'"),
        ("技术标/../../outside.pdf", "'..'"),
        ("a\\..\\b.pdf", "backslash"),
        ("C:/Windows/a.pdf", "drive letter"),
        ("c:a.pdf", "drive letter"),
        ("a.pdf:stream", "contains ':'"),
        ("a//b.pdf", "empty"),
        ("./a.pdf", "'.'"),
        ("a\x01.pdf", "control character"),
        ("报价\u202eexe.pdf", "control character"),
        ("x" * 1025, "longer than 1024 bytes"),
    ],
)
def test_escaping_or_misleading_paths_are_refused(name, message):
    with pytest.raises(UnsafePath, match=message):
        verify_pack(handmade([(name, b"x")], summary=False))


def test_a_nul_byte_in_a_name_is_refused(tmp_path):
    data = handmade([("a.pdfXevil", b"x")], summary=False).getvalue().replace(b"a.pdfXevil", b"a.pdf\x00evil")
    with pytest.raises(UnsafePath, match="NUL byte"):
        verify_pack(io.BytesIO(data))


def test_a_non_ascii_name_not_marked_utf8_is_refused():
    data = handmade([("方案.pdf", b"x")], summary=False).getvalue()
    with pytest.raises(UnsafePath, match="not ASCII and not marked UTF-8"):
        verify_pack(patch_central(data, 0, 8, b"\x00\x00"))


def test_a_name_marked_utf8_that_is_not_is_refused():
    data = handmade([("ab.pdf", b"x")], summary=False).getvalue()
    data = patch_central(data, 0, 8, b"\x00\x08").getvalue()
    position = data.index(b"PK\x01\x02") + 46
    data = data[:position] + b"\xff\xfe" + data[position + 2:]
    with pytest.raises(UnsafePath, match="marked UTF-8 but is not"):
        verify_pack(io.BytesIO(data))


def test_a_symlink_entry_is_refused():
    info = zipfile.ZipInfo("link.pdf")
    info.external_attr = 0o120777 << 16
    with pytest.raises(SymlinkEntry, match="'link.pdf' is a symbolic link"):
        verify_pack(handmade([(info, b"/etc/passwd")]))


def test_a_device_entry_is_refused():
    info = zipfile.ZipInfo("dev.pdf")
    info.external_attr = 0o020666 << 16
    with pytest.raises(SpecialEntry, match="not a regular file"):
        verify_pack(handmade([(info, b"")]))


def test_a_duplicate_name_is_refused():
    with pytest.raises(DuplicateEntry, match="'a.pdf' appears twice"):
        verify_pack(handmade([("a.pdf", b"a"), ("a.pdf", b"b")]))


def test_names_equal_after_unicode_normalisation_are_duplicates():
    with pytest.raises(DuplicateEntry, match="appears twice"):
        verify_pack(handmade([("caf\u00e9.pdf", b"a"), ("cafe\u0301.pdf", b"b")]))


def test_an_encrypted_entry_is_refused():
    data = handmade([("a.pdf", b"a")]).getvalue()
    with pytest.raises(EncryptedEntry, match="'a.pdf' is encrypted"):
        verify_pack(patch_central(data, 0, 8, b"\x01\x00"))


def test_an_unsupported_compression_method_is_refused():
    with pytest.raises(UnsupportedCompression, match="method 12"):
        verify_pack(handmade([("a.pdf", b"a" * 100)], compression=zipfile.ZIP_BZIP2))


def test_a_stored_entry_whose_sizes_differ_is_refused(tmp_path):
    data = handmade([("a.pdf", b"abc")]).getvalue()
    with pytest.raises(CorruptZip, match="stored but its sizes differ"):
        verify_pack(patch_central(data, 0, 24, (2).to_bytes(4, "little")))


def test_a_local_header_naming_another_file_is_refused():
    data = handmade([("a.pdf", b"a")]).getvalue()
    data = data.replace(b"a.pdf", b"b.pdf", 1)  # only the local header: central says a.pdf
    with pytest.raises(CorruptZip, match="differ"):
        verify_pack(io.BytesIO(data))


def test_a_non_seekable_input_is_refused():
    class Pipe(io.RawIOBase):
        def readable(self):
            return True

    with pytest.raises(BidPackError, match="seekable"):
        verify_pack(Pipe())


# ------------------------------------------------------------------ robustness (Hypothesis)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _valid_packages() -> list[bytes]:
    files = {"技术标/方案.pdf": b"%PDF " * 50, "b.txt": b"b"}
    packages = []
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        packages.append(handmade(list(files.items()), summary_json(files), compression=compression).getvalue())
    return packages


VALID_PACKAGES = _valid_packages()


def _opens_or_refuses(data: bytes):
    try:
        summary = verify_pack(io.BytesIO(data))
    except BidPackError:
        return
    assert isinstance(summary, bidpack.BidSummary)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise_anything_but_bid_pack_error(data):
    _opens_or_refuses(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_after_a_zip_signature_never_raise_anything_but_bid_pack_error(tail):
    _opens_or_refuses(b"PK\x03\x04" + tail + b"PK\x05\x06" + tail[:18])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    package=st.sampled_from(VALID_PACKAGES),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=4),
)
def test_mutated_packages_never_raise_anything_but_bid_pack_error(package, edits):
    data = bytearray(package)
    for position, value in edits:
        data[position % len(data)] = value
    _opens_or_refuses(bytes(data))


@settings(max_examples=200, deadline=None)
@given(package=st.sampled_from(VALID_PACKAGES), cut=st.integers(min_value=0), length=st.integers(min_value=1, max_value=64))
def test_packages_with_bytes_cut_out_never_raise_anything_but_bid_pack_error(package, cut, length):
    cut %= len(package)
    _opens_or_refuses(package[:cut] + package[cut + length:])
