"""static/js/sealbid/bidpack.js and capital_numerals.js, in Chromium, against their Python
originals: the browser's bid package is byte for byte the one bidding.bidpack.pack writes for the
same documents and summary (and verify_pack accepts it), every refusal of pack is a refusal in the
browser with its code, and the capital numerals and credit codes agree on thousands of inputs.

No database: the static files are served from the source tree (tests/browser/conftest.py)."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest

from accounts import credit_code
from bidding import bidpack, capital_numerals

pytestmark = pytest.mark.browser

BIDDER = credit_code.complete("91441900MA4UABCDE")
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
TEST_PAGE = """<!doctype html><meta charset="utf-8"><title>bidpack</title>
<input type="file" id="files" multiple><input type="file" id="folder" webkitdirectory>
<script>
window.b64 = (blob) => new Promise((resolve) => {
  const reader = new FileReader();
  reader.onload = () => resolve(reader.result.split(",")[1]);
  reader.readAsDataURL(blob);
});
window.refusal = (error) => ({ok: false, name: error.name, code: error.code, field: error.field || null, message: error.message});
</script>"""


@pytest.fixture
def page(browser, static_server):
    """A blank page of the static server's origin (so the modules import), with a file chooser
    for documents and one for a folder."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(f"{static_server}/static/js/sealbid/bidpack.js")
    page.set_content(TEST_PAGE)
    yield page
    context.close()
    assert not errors, errors


def js_pack(page, selector: str, summary: dict, *, folder: bool = False) -> dict:
    """Pack the files chosen in `selector` in the browser: {"ok", "zip" (bytes), "bid"} or the refusal."""
    result = page.evaluate(
        """async ([selector, summary, folder]) => {
          const m = await import("/static/js/sealbid/bidpack.js");
          const chosen = document.querySelector(selector).files;
          const progress = [];
          try {
            const files = folder ? m.documentsFromFolder(chosen) : chosen;
            const {blob, bid} = await m.packDocuments(files, summary, {onProgress: (done, total) => progress.push([done, total])});
            return {ok: true, zip: await b64(blob), bid, progress, type: blob.type};
          } catch (error) { return refusal(error); }
        }""",
        [selector, summary, folder],
    )
    if result["ok"]:
        result["zip"] = base64.b64decode(result["zip"])
    return result


def py_pack(folder: Path, summary: dict) -> tuple[bytes, dict]:
    out = io.BytesIO()
    bid = bidpack.pack(folder, summary, out)
    return out.getvalue(), bid


def write(folder: Path, files: dict[str, bytes]) -> list[Path]:
    paths = []
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        paths.append(path)
    return paths


# ---------------------------------------------------------------- the same bytes as bidpack.pack


def test_the_browser_package_is_byte_for_byte_the_python_one(page, tmp_path):
    rng = random.Random(3)
    files = {
        "报价单.pdf": b"%PDF-1.7 price list",
        "a.txt": b"technical proposal\n",
        "Z.txt": b"upper case sorts before lower case",
        "empty.bin": b"",
        "big.bin": rng.randbytes(9 * 1024 * 1024 + 13),  # crosses the 4 MiB read slices
        "\U0001d11e.txt": b"beyond U+FFFF",  # code-point order puts it after U+FB01, UTF-16 order before
        "\ufb01le.txt": b"U+FB01",
        "e\u0301te\u0301.txt": b"a decomposed name, packed in NFC",
    }
    paths = write(tmp_path / "docs", files)
    page.set_input_files("#files", paths)
    result = js_pack(page, "#files", SUMMARY)
    assert result["ok"], result
    expected, expected_bid = py_pack(tmp_path / "docs", SUMMARY)
    assert result["zip"] == expected
    assert result["bid"] == expected_bid and result["type"] == "application/zip"
    names = [info.filename for info in zipfile.ZipFile(io.BytesIO(result["zip"])).infolist()]
    assert names[-1] == "bid.json" and "\u00e9t\u00e9.txt" in names
    assert names.index("\ufb01le.txt") < names.index("\U0001d11e.txt")
    summary = bidpack.verify_pack(io.BytesIO(result["zip"]))
    assert summary.price_fen == summary.prevailing_price_fen == SUMMARY["price_fen"] and not summary.flags
    assert {d.path: d.sha256 for d in summary.documents} == {
        unicodedata.normalize("NFC", name): hashlib.sha256(content).hexdigest() for name, content in files.items()
    }
    total = sum(len(content) for content in files.values())
    assert result["progress"][0] == [0, total] and result["progress"][-1] == [total, total]


def test_a_chosen_folder_packs_with_its_subfolders_like_the_bid_tool(page, tmp_path):
    files = {"技术标/方案.pdf": b"%PDF-1.7 technical proposal", "商务标/报价.xlsx": b"price list", "资格.pdf": b"",
             "商务标/附件/授权书.pdf": b"power of attorney"}
    write(tmp_path / "投标文件", files)
    page.set_input_files("#folder", tmp_path / "投标文件")
    result = js_pack(page, "#folder", SUMMARY, folder=True)
    assert result["ok"], result
    assert result["zip"] == py_pack(tmp_path / "投标文件", SUMMARY)[0]
    assert sorted(d["path"] for d in result["bid"]["documents"]) == sorted(files)


def test_a_large_document_is_packed_from_slices_to_the_same_bytes(page, tmp_path):
    """64 MiB: the package's SHA-256 is computed in the browser, not shipped back."""
    folder = tmp_path / "large"
    folder.mkdir()
    block = random.Random(5).randbytes(1 << 20)
    with open(folder / "drawings.dwg", "wb") as out:
        for index in range(64):
            out.write(bytes([index]) + block[1:])
    page.set_input_files("#files", [folder / "drawings.dwg"])
    digest = page.evaluate(
        """async (summary) => {
          const m = await import("/static/js/sealbid/bidpack.js");
          const {Sha256, toHex} = await import("/static/js/sealbid/sha256.js");
          const {blob} = await m.packDocuments(document.querySelector("#files").files, summary);
          const hash = new Sha256();
          for (let at = 0; at < blob.size; at += 8 << 20) hash.update(new Uint8Array(await blob.slice(at, at + (8 << 20)).arrayBuffer()));
          return [blob.size, toHex(hash.digest())];
        }""",
        SUMMARY,
    )
    expected, _ = py_pack(folder, SUMMARY)
    assert digest == [len(expected), hashlib.sha256(expected).hexdigest()]


# ---------------------------------------------------------------- the same refusals


def _refused_by_python(folder: Path, summary: dict) -> type:
    with pytest.raises(bidpack.BidPackError) as caught:
        py_pack(folder, summary)
    return type(caught.value)


@pytest.mark.parametrize("files,summary,code,field,python_error", [
    ({"a.pdf": b"x"}, {**SUMMARY, "price_capital": "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角"}, "price_mismatch", None, bidpack.PriceMismatch),
    ({"a.pdf": b"x"}, {**SUMMARY, "price_capital": "壹佰贰拾叁万肆仟伍佰陆拾柒圆捌角玖分零"}, "invalid_summary", "price_capital", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "bidder": BIDDER[:-1] + ("0" if BIDDER[-1] != "0" else "1")}, "invalid_summary", "bidder", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "bidder": BIDDER.lower()}, "invalid_summary", "bidder", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "duration_days": 0}, "invalid_summary", "duration_days", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "duration_days": 3651}, "invalid_summary", "duration_days", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "price_fen": 0, "price_capital": "零元整"}, "invalid_summary", "price_fen", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "price_fen": 10**14, "price_capital": "壹元整"}, "invalid_summary", "price_fen", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "quality": " \u3000 "}, "invalid_summary", "quality", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "quality": "合格\u200b"}, "invalid_summary", "quality", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "quality": "优" * 201}, "invalid_summary", "quality", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "project_manager": {"name": "张三"}}, "invalid_summary", "project_manager", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "project_manager": {"name": "张" * 51, "certificate": "1"}}, "invalid_summary",
     "project_manager.name", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "extra": 1}, "invalid_summary", "summary", bidpack.InvalidSummary),
    ({"a.pdf": b"x"}, {**SUMMARY, "documents": []}, "invalid_summary", "documents", bidpack.InvalidSummary),
    ({"a.pdf": b"x", "bid.json": b"{}"}, SUMMARY, "reserved_name", None, bidpack.PackFolderError),
    ({"a:b.pdf": b"x"}, SUMMARY, "unsafe_path", None, bidpack.UnsafePath),
    ({"a\\b.pdf": b"x"}, SUMMARY, "unsafe_path", None, bidpack.UnsafePath),
    ({"a\u202eb.pdf": b"x"}, SUMMARY, "unsafe_path", None, bidpack.UnsafePath),
    ({"\u00e9.pdf": b"x", "e\u0301.pdf": b"y"}, SUMMARY, "duplicate_entry", None, bidpack.DuplicateEntry),
])
def test_what_pack_refuses_the_browser_refuses(page, tmp_path, files, summary, code, field, python_error):
    paths = write(tmp_path / "docs", files)
    assert _refused_by_python(tmp_path / "docs", summary) is python_error
    page.set_input_files("#files", paths)
    result = js_pack(page, "#files", summary)
    assert (result["ok"], result.get("name"), result.get("code"), result.get("field")) == (False, "BidPackError", code, field), result


def test_nothing_chosen_a_name_too_long_and_too_many_documents_are_refused(page):
    refused = page.evaluate(
        """async (summary) => {
          const m = await import("/static/js/sealbid/bidpack.js");
          const attempt = async (files, options) => {
            try { await m.packDocuments(files, summary, options); return null; } catch (error) { return error.code; }
          };
          const file = (name) => new File(["x"], name);
          return {
            empty: await attempt([]),
            long: await attempt([file("名".repeat(342) + ".pdf")]),
            many: await attempt([file("a"), file("b"), file("c")], {maxEntries: 3}),
            large: await attempt([file("a"), file("b")], {maxTotalSize: 1}),
            notFile: await attempt([new Blob(["x"])]),
          };
        }""",
        SUMMARY,
    )
    assert refused == {"empty": "empty", "long": "unsafe_path", "many": "too_many_entries", "large": "too_large",
                       "notFile": "not_a_file"}


def test_a_document_changed_after_it_was_chosen_is_refused_not_packed_stale(page, tmp_path):
    paths = write(tmp_path / "docs", {"a.pdf": b"first version"})
    page.set_input_files("#files", paths)
    # The browser takes the file's snapshot (size, time) when it is chosen; under load that can lag
    # behind set_input_files, so wait until the page sees the first version before changing it.
    page.wait_for_function("document.querySelector('#files').files[0]?.size === 13")
    paths[0].write_bytes(b"second, longer version")
    assert js_pack(page, "#files", SUMMARY)["code"] == "file_changed"


# ---------------------------------------------------------------- ZIP64, as zipfile writes it


class _Sink:
    """An unseekable output that keeps every write but the bulk data (which is all zeros)."""

    def __init__(self):
        self.position, self.records = 0, []

    def write(self, data):
        if len(data) <= 4096:
            self.records.append((self.position, bytes(data)))
        self.position += len(data)
        return len(data)

    def flush(self):
        pass


def test_zip64_records_match_zipfile_for_a_document_above_2_gib(page):
    big, small = (1 << 31) + 12345, b"after the large one"
    sink, zeros = _Sink(), bytes(1 << 20)
    with zipfile.ZipFile(bidpack._Unseekable(sink), "w", allowZip64=True) as archive:
        info = bidpack._entry_info("图纸.dwg", zipfile.ZIP_STORED)
        info.file_size = big
        with archive.open(info, "w") as target:
            left = big
            while left:
                target.write(zeros[: min(left, len(zeros))])
                left -= min(left, len(zeros))
        archive.writestr(bidpack._entry_info("b.txt", zipfile.ZIP_STORED), small)
    crc = 0
    for _ in range(big >> 20):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(zeros[: big & 0xFFFFF], crc)
    entries = [{"name": "图纸.dwg", "size": big, "crc": crc, "offset": 0}]
    framing = page.evaluate(
        """async ([entries, small]) => {
          const m = await import("/static/js/sealbid/bidpack.js");
          const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
          const bytes = new TextEncoder().encode(small);
          const first = m.localHeader(entries[0].name, entries[0].size);
          const offset = first.length + entries[0].size + m.dataDescriptor(entries[0].size, entries[0].crc).length;
          entries.push({name: "b.txt", size: bytes.length, crc: m.crc32(bytes), offset});
          const start = offset + m.localHeader("b.txt", bytes.length).length + bytes.length + m.dataDescriptor(bytes.length, 0).length;
          return {
            records: [hex(first), hex(m.dataDescriptor(entries[0].size, entries[0].crc)), hex(m.localHeader("b.txt", bytes.length)),
                      small, hex(m.dataDescriptor(bytes.length, entries[1].crc))],
            directory: m.centralDirectory(entries, start).map(hex).join(""),
            start,
          };
        }""",
        [entries, small.decode()],
    )
    written = [data for _, data in sink.records]
    # zipfile writes: local header, (data), descriptor, local header, data, descriptor, directory...
    assert [written[0].hex(), written[1].hex(), written[2].hex(), written[3].decode(), written[4].hex()] == framing["records"]
    directory_start = sink.records[5][0]
    assert directory_start == framing["start"] > (1 << 31)
    assert b"".join(written[5:]).hex() == framing["directory"]
    directory = bytes.fromhex(framing["directory"])
    assert b"PK\x06\x06" in directory and directory[-22:-18] == b"PK\x05\x06"  # ZIP64 end records, then the classic one


# ---------------------------------------------------------------- capital numerals and credit codes


def _amounts(rng: random.Random, count: int) -> list[int]:
    amounts = [0, 1, 5, 10, 50, 100, 105, 110, 1000, 1001, 10000, 100000, 1000010, 100700000, 1000700000,
               10000000000, 10000100000, 1000000000000, 1000000100000, 10**14 - 1, 2**53 % 10**14, 60700, 32504]
    for _ in range(count):
        digits = rng.randint(1, 14)
        text = "".join(rng.choice("0000123456789") for _ in range(digits))
        amounts.append(int(text) % 10**14)
    return amounts


def test_to_capital_writes_what_python_writes(page):
    amounts = _amounts(random.Random(7), 3000)
    written = page.evaluate(
        """async (amounts) => { const m = await import("/static/js/sealbid/capital_numerals.js"); return amounts.map(m.toCapital); }""",
        amounts,
    )
    assert written == [capital_numerals.to_capital(amount) for amount in amounts]


def _parse_in_python(text):
    try:
        return capital_numerals.parse_capital(text)
    except capital_numerals.CapitalNumeralError:
        return None


def test_parse_capital_accepts_and_refuses_exactly_what_python_does(page):
    rng = random.Random(11)
    texts = []
    for amount in _amounts(rng, 600):
        forms = capital_numerals._renderings(amount)
        texts += rng.sample(forms, min(4, len(forms)))
        canonical = forms[0]
        for _ in range(3):  # mutations: drop, insert, swap or replace a character
            chars = list(canonical)
            at = rng.randrange(len(chars))
            kind = rng.randrange(4)
            if kind == 0 and len(chars) > 1:
                del chars[at]
            elif kind == 1:
                chars.insert(at, rng.choice("零壹贰拾佰仟万亿元圆角分整正"))
            elif kind == 2 and at + 1 < len(chars):
                chars[at], chars[at + 1] = chars[at + 1], chars[at]
            else:
                chars[at] = rng.choice("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")
            texts.append("".join(chars))
    texts += ["人民币 壹仟元整", "壹仟元整\u3000", "拾元伍角", "壹拾万零柒仟元整", "", "人民币", "壹仟元整x", "1000元",
              "壹" * 70, "零元", "伍分", "零伍分", "壹万元壹角", "壹万元零壹角整"]
    parsed = page.evaluate(
        """async (texts) => {
          const m = await import("/static/js/sealbid/capital_numerals.js");
          return texts.map((text) => { try { return m.parseCapital(text); } catch (error) {
            if (error.name !== "CapitalNumeralError") throw error; return null; } });
        }""",
        texts,
    )
    expected = [_parse_in_python(text) for text in texts]
    assert parsed == expected
    assert 1000 < sum(value is not None for value in expected) < len(expected)  # both kinds were tried


def test_yuan_typed_by_a_person_becomes_fen_without_floating_point(page):
    converted = page.evaluate(
        """async (inputs) => { const m = await import("/static/js/sealbid/capital_numerals.js"); return inputs.map(m.yuanToFen); }""",
        ["1234567.89", "1,234,567.8", "１２３.４５", "0.07", "999999999999.99", "1000000000000", "1.234", "-1", "", "1e3", "12.", "0.1"],
    )
    assert converted == [123456789, 123456780, 12345, 7, 99999999999999, None, None, None, None, None, 1200, 10]


def test_credit_codes_are_checked_as_accounts_credit_code_checks_them(page):
    rng = random.Random(13)
    codes = [credit_code.complete("91441900" + "".join(rng.choice(credit_code.ALPHABET) for _ in range(9))) for _ in range(300)]
    codes += [code[:-1] + rng.choice(credit_code.ALPHABET) for code in codes[:300]]
    codes += [codes[0].lower(), codes[0][:10] + "I" + codes[0][11:], codes[0][:4] + "A" + codes[0][5:], codes[0] + "0", " " + codes[0]]
    valid = page.evaluate(
        """async (codes) => { const m = await import("/static/js/sealbid/bidpack.js"); return codes.map(m.isCreditCode); }""",
        codes,
    )
    assert valid == [credit_code.is_valid(code) and credit_code.validate(code) == code for code in codes]
