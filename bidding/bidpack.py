"""The bid package: the plaintext inside a sealed bid. A ZIP holding the documents and `bid.json`,
the opening summary (schema v1 in docs/bid-package.md). Pure: imports nothing from Django.

`pack` writes a deterministic ZIP from a folder, streaming and hashing each file. `read_summary`
and `verify_pack` read one at the opening without extracting anything to disk: the package comes
from a bidder, so every structural trick a hostile ZIP can play is refused with its own
`BidPackError` subclass before any entry is decompressed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from accounts import credit_code
from bidding.capital_numerals import UPPER_BOUND_FEN, CapitalNumeralError, parse_capital

FORMAT_NAME, FORMAT_VERSION = "etender-bid", 1
SUMMARY_NAME = "bid.json"
MAX_SAFE_INTEGER = (1 << 53) - 1
MAX_ENTRIES = 10_000
MAX_TOTAL_SIZE = 4 << 30  # uncompressed bytes of all entries
MAX_RATIO = 100  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 1 << 20  # small entries may compress well (text, XML) without being bombs
MAX_SUMMARY_SIZE = 1 << 20
MAX_NAME_BYTES = 1024
MAX_DURATION_DAYS = 3650
PRICE_WORDS_DIFFER = "price_words_differ_from_figures"
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # ZIP's epoch: packing the same folder gives the same bytes
_CHUNK = 1 << 20
_CENTRAL_ENTRY = struct.Struct("<4s4B4HL2L5H2L")
_TEXT_LIMITS = {"tender": 200, "lot": 200, "quality": 200, "name": 50, "certificate": 100}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FILE_TYPE_REGULAR, _FILE_TYPE_DIRECTORY, _FILE_TYPE_SYMLINK = 0o100000, 0o040000, 0o120000


class BidPackError(Exception):
    """Base of every error a bid package (or packing one) can cause; the message says what."""


class PackFolderError(BidPackError):
    """The folder to pack cannot be packed as it is (not a folder, the output is inside it...)."""


class EmptyFolder(PackFolderError):
    pass


class SymlinkInFolder(PackFolderError):
    """A symbolic link could point outside the folder, so none is followed."""


class SpecialFileInFolder(PackFolderError):
    pass


class FileChanged(PackFolderError):
    pass


class PriceMismatch(BidPackError):
    """Packing refuses a price in figures that differs from the price in capital numerals."""


class InvalidSummary(BidPackError):
    """bid.json is missing, unreadable, or does not follow schema v1."""


class NotAZip(BidPackError):
    pass


class CorruptZip(BidPackError):
    pass


class TooManyEntries(BidPackError):
    pass


class TooLarge(BidPackError):
    pass


class CompressionBomb(BidPackError):
    pass


class UnsafePath(BidPackError):
    """An entry name that could escape a folder or fool a reader: absolute, `..`, `\\`, `C:`..."""


class SymlinkEntry(BidPackError):
    pass


class SpecialEntry(BidPackError):
    """A device, FIFO or socket entry."""


class DuplicateEntry(BidPackError):
    pass


class EncryptedEntry(BidPackError):
    pass


class UnsupportedCompression(BidPackError):
    pass


class MissingDocument(BidPackError):
    pass


class UnlistedFile(BidPackError):
    pass


class DocumentMismatch(BidPackError):
    """A document's size or SHA-256 differs from what bid.json declares."""


@dataclass(frozen=True)
class Document:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BidSummary:
    """What the opening reads from a verified package. `price_fen` is the price in figures as
    written, `price_capital_fen` the price in words; the words prevail (P19)."""

    tender: str
    lot: str
    bidder: str
    price_fen: int
    price_capital: str
    price_capital_fen: int
    prevailing_price_fen: int
    duration_days: int
    quality: str
    project_manager_name: str
    project_manager_certificate: str
    documents: tuple[Document, ...]
    flags: tuple[str, ...]

    @property
    def price_mismatch(self) -> bool:
        return PRICE_WORDS_DIFFER in self.flags


# ---------------------------------------------------------------- names and the summary schema


def check_path(name: str) -> str:
    """A document path as the package stores it: relative, '/'-separated, nothing that could
    leave a folder or read differently on Windows. Returns the name or raises UnsafePath."""
    if not name:
        raise UnsafePath("an entry has an empty name")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise UnsafePath(f"the entry name {name[:80]!r}... is longer than {MAX_NAME_BYTES} bytes")
    bad = next((char for char in name if unicodedata.category(char) in ("Cc", "Cf", "Cs")), None)
    if bad is not None:
        raise UnsafePath(f"the entry name {name!r} contains the control character U+{ord(bad):04X}")
    if "\\" in name:
        raise UnsafePath(f"the entry name {name!r} contains a backslash")
    if name.startswith("/"):
        raise UnsafePath(f"the entry name {name!r} is an absolute path")
    if re.match(r"[A-Za-z]:", name):
        raise UnsafePath(f"the entry name {name!r} starts with a drive letter")
    if ":" in name:
        raise UnsafePath(f"the entry name {name!r} contains ':'")
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise UnsafePath(f"the entry name {name!r} has an empty, '.' or '..' component")
    return name


def _text(value, where: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidSummary(f"bid.json: {where} must be a non-empty string of at most {limit} characters")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in value):
        raise InvalidSummary(f"bid.json: {where} contains a control character")
    return value


def _integer(value, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSummary(f"bid.json: {where} must be an integer from {low} to {high}")
    return value


def _keys(value, expected: tuple[str, ...], where: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidSummary(f"bid.json: {where} must be an object")
    missing, extra = [k for k in expected if k not in value], sorted(set(value) - set(expected))
    if missing or extra:
        raise InvalidSummary(f"bid.json: {where} lacks {missing} / has unknown {extra}; schema v1 has exactly {list(expected)}")
    return value


SUMMARY_KEYS = ("format", "version", "tender", "lot", "bidder", "price_fen", "price_capital", "duration_days",
                "quality", "project_manager", "documents")


def validate_summary(data, *, max_documents: int = MAX_ENTRIES - 1) -> dict:
    """Check `data` against bid.json schema v1 (docs/bid-package.md); return it or raise InvalidSummary.
    The words may differ from the figures (that is the reader's flag), but must be readable."""
    _keys(data, SUMMARY_KEYS, "the summary")
    if data["format"] != FORMAT_NAME or isinstance(data["version"], bool) or data["version"] != FORMAT_VERSION:
        raise InvalidSummary(f"bid.json: format must be {FORMAT_NAME!r} version {FORMAT_VERSION}")
    _text(data["tender"], "tender", _TEXT_LIMITS["tender"])
    _text(data["lot"], "lot", _TEXT_LIMITS["lot"])
    bidder = data["bidder"]
    try:
        if not isinstance(bidder, str) or credit_code.validate(bidder) != bidder:
            raise credit_code.CreditCodeError("format", "must be written in capitals without spaces")
    except credit_code.CreditCodeError as exc:
        raise InvalidSummary(f"bid.json: bidder must be a unified social credit code: {exc}") from None
    _integer(data["price_fen"], "price_fen", 1, MAX_SAFE_INTEGER)
    if not isinstance(data["price_capital"], str):
        raise InvalidSummary("bid.json: price_capital must be a string")
    try:
        parse_capital(data["price_capital"])
    except CapitalNumeralError as exc:
        raise InvalidSummary(f"bid.json: price_capital is not readable: {exc}") from None
    _integer(data["duration_days"], "duration_days", 1, MAX_DURATION_DAYS)
    _text(data["quality"], "quality", _TEXT_LIMITS["quality"])
    manager = _keys(data["project_manager"], ("name", "certificate"), "project_manager")
    _text(manager["name"], "project_manager.name", _TEXT_LIMITS["name"])
    _text(manager["certificate"], "project_manager.certificate", _TEXT_LIMITS["certificate"])
    documents = data["documents"]
    if not isinstance(documents, list) or not 1 <= len(documents) <= max_documents:
        raise InvalidSummary(f"bid.json: documents must be a list of 1 to {max_documents} documents")
    seen = set()
    for index, document in enumerate(documents):
        _keys(document, ("path", "size", "sha256"), f"documents[{index}]")
        if not isinstance(document["path"], str):
            raise InvalidSummary(f"bid.json: documents[{index}].path must be a string")
        try:
            check_path(document["path"])
        except UnsafePath as exc:
            raise InvalidSummary(f"bid.json: documents[{index}].path: {exc}") from None
        if document["path"] == SUMMARY_NAME:
            raise InvalidSummary(f"bid.json: documents[{index}] may not be {SUMMARY_NAME} itself")
        if unicodedata.normalize("NFC", document["path"]) in seen:
            raise InvalidSummary(f"bid.json: {document['path']!r} is listed twice")
        seen.add(unicodedata.normalize("NFC", document["path"]))
        _integer(document["size"], f"documents[{index}].size", 0, MAX_SAFE_INTEGER)
        if not isinstance(document["sha256"], str) or not _SHA256.fullmatch(document["sha256"]):
            raise InvalidSummary(f"bid.json: documents[{index}].sha256 must be 64 lower-case hex digits")
    return data


def read_price(price_fen: int, price_capital: str) -> tuple[int, tuple[str, ...]]:
    """(prevailing price in fen, flags). P19: where the amount in words and the amount in
    figures differ, the amount in words prevails; the difference is flagged, not an error,
    because deciding what follows from it belongs to the evaluation committee."""
    in_words = parse_capital(price_capital)
    return in_words, (() if in_words == price_fen else (PRICE_WORDS_DIFFER,))



# ---------------------------------------------------------------- packing


class _Unseekable:
    """Hides seek/tell so zipfile always writes data descriptors: the bytes are then the same
    whether the package goes to a file, a pipe or memory."""

    def __init__(self, out: BinaryIO):
        self._out = out

    def write(self, data) -> int:
        self._out.write(data)
        return len(data)

    def flush(self) -> None:
        self._out.flush()


def _file_identity(out) -> tuple[int, int] | None:
    try:
        info = os.fstat(out.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _collect(folder: Path, out, *, max_entries: int, max_total_size: int) -> list[tuple[str, Path, os.stat_result]]:
    """The files to pack, sorted by their name in the package. Symbolic links are refused, not
    followed, so nothing outside the folder can be packed."""
    if not folder.is_dir():
        raise PackFolderError(f"{folder} is not a folder")
    output = _file_identity(out)
    files, seen, total = [], set(), 0
    pending = [(folder, "")]
    while pending:
        directory, prefix = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = unicodedata.normalize("NFC", prefix + entry.name)
                if entry.is_symlink():
                    raise SymlinkInFolder(f"{name} is a symbolic link; copy the file itself into the folder")
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), name + "/"))
                    continue
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    raise SpecialFileInFolder(f"{name} is not a regular file (a device, FIFO or socket)")
                if output == (info.st_dev, info.st_ino):
                    raise PackFolderError(f"the output file {name} is inside the folder being packed")
                check_path(name)
                if name == SUMMARY_NAME:
                    raise PackFolderError(f"the folder has its own {SUMMARY_NAME}; pack writes that file")
                if name in seen:
                    raise DuplicateEntry(f"two files are both named {name!r} (after Unicode normalisation)")
                seen.add(name)
                total += info.st_size
                files.append((name, Path(entry.path), info))
    if not files:
        raise EmptyFolder(f"{folder} holds no files to pack")
    if len(files) + 1 > max_entries:
        raise TooManyEntries(f"{len(files)} files; a package holds at most {max_entries - 1} documents")
    if total > max_total_size:
        raise TooLarge(f"the files total {total} bytes; a package holds at most {max_total_size}")
    return sorted(files, key=lambda item: item[0])


def _entry_info(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, FIXED_DATE_TIME)
    info.compress_type = compression
    info.create_system = 3  # Unix, whatever machine packs: external_attr holds a Unix mode
    info.external_attr = (_FILE_TYPE_REGULAR | 0o644) << 16
    return info


def _summary_json(summary: dict) -> bytes:
    return (json.dumps(summary, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def pack(
    folder: Path, summary: dict, out: BinaryIO, *, compression: int = zipfile.ZIP_STORED,
    max_entries: int = MAX_ENTRIES, max_total_size: int = MAX_TOTAL_SIZE,
) -> dict:
    """Write the package of `folder` to `out` and return its bid.json. `summary` holds the
    opening summary (every schema field but format, version and documents, which pack fills).
    Files are streamed and hashed as they are written; the same folder and summary always give
    the same bytes. Everything is checked before the first byte is written, except a file
    changing while it is packed; after any exception the caller must discard `out`."""
    if compression not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError("compression must be zipfile.ZIP_STORED or zipfile.ZIP_DEFLATED")
    if not isinstance(summary, dict):
        raise InvalidSummary("the opening summary must be a dict")
    if "documents" in summary:
        raise InvalidSummary("the opening summary must not list documents: pack lists and hashes the folder's files")
    fields = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **summary}
    files = _collect(Path(folder), out, max_entries=max_entries, max_total_size=max_total_size)
    provisional = [{"path": name, "size": info.st_size, "sha256": "0" * 64} for name, _, info in files]
    validate_summary({**fields, "documents": provisional}, max_documents=max_entries - 1)
    if not fields["price_fen"] < UPPER_BOUND_FEN:
        raise InvalidSummary(f"price_fen {fields['price_fen']} cannot be written in capital numerals (below 万亿元)")
    in_words = parse_capital(fields["price_capital"])
    if in_words != fields["price_fen"]:
        raise PriceMismatch(
            f"the price in words {fields['price_capital']!r} is {in_words} fen but the price in figures "
            f"(price_fen) is {fields['price_fen']} fen; correct one of them"
        )
    documents = []
    with zipfile.ZipFile(_Unseekable(out), "w", compression=compression, allowZip64=True) as archive:
        for name, path, scanned in files:
            documents.append(_pack_file(archive, name, path, scanned, compression))
        bid = {key: fields[key] for key in SUMMARY_KEYS if key != "documents"} | {"documents": documents}
        archive.writestr(_entry_info(SUMMARY_NAME, compression), _summary_json(bid))
    return bid


def _pack_file(archive: zipfile.ZipFile, name: str, path: Path, scanned: os.stat_result, compression: int) -> dict:
    # O_NOFOLLOW and the inode check: the file packed is the one scanned, not a link swapped in since.
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise FileChanged(f"{name} cannot be opened any more: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as source:
        opened = os.fstat(descriptor)
        if (opened.st_dev, opened.st_ino) != (scanned.st_dev, scanned.st_ino) or not stat.S_ISREG(opened.st_mode):
            raise FileChanged(f"{name} was replaced while the folder was being packed")
        info = _entry_info(name, compression)
        info.file_size = scanned.st_size  # lets zipfile decide on ZIP64 before writing
        digest, written = hashlib.sha256(), 0
        with archive.open(info, "w") as target:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > scanned.st_size:
                    raise FileChanged(f"{name} grew while the folder was being packed")
                digest.update(chunk)
                target.write(chunk)
    if written != scanned.st_size:
        raise FileChanged(f"{name} shrank while the folder was being packed")
    return {"path": name, "size": written, "sha256": digest.hexdigest()}


# ---------------------------------------------------------------- reading at the opening


@contextmanager
def _zip_errors():
    """Whatever zipfile or zlib say about damaged bytes becomes CorruptZip."""
    try:
        yield
    except BidPackError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, struct.error, zlib.error, NotImplementedError,
            RuntimeError, OverflowError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise CorruptZip(f"the bid package is not a readable ZIP: {exc}") from None


def _central_directory(zip_file: BinaryIO, max_entries: int) -> list[str]:
    """Walk the central directory from the raw bytes, exactly as zipfile will, and refuse any
    entry that is unsafe by its name, type, flags or method. Done before zipfile parses it, so a
    hostile directory costs at most max_entries entries of memory, and a NUL in a name (which
    zipfile silently cuts off) is seen."""
    # zipfile's own reader of the end record, so both read the same directory.
    end = zipfile._EndRecData(zip_file)
    if not end:
        raise NotAZip("the bid package is not a ZIP file")
    size, location = end[5], end[9]
    start = location - size - (76 if end[0] == b"PK\x06\x06" else 0)
    if start < 0:
        raise CorruptZip("the ZIP's central directory offset is wrong")
    if size > max_entries * (_CENTRAL_ENTRY.size + MAX_NAME_BYTES + 256):
        raise TooManyEntries(f"the ZIP's directory is {size} bytes, more than {max_entries} entries need")
    zip_file.seek(start)
    directory = zip_file.read(size)
    names, seen, offset = [], set(), 0
    while offset < size:
        if len(names) >= max_entries:
            raise TooManyEntries(f"the ZIP has more than {max_entries} entries")
        fixed = directory[offset:offset + _CENTRAL_ENTRY.size]
        if len(fixed) != _CENTRAL_ENTRY.size or fixed[:4] != b"PK\x01\x02":
            raise CorruptZip("the ZIP's central directory is damaged")
        fields = _CENTRAL_ENTRY.unpack(fixed)
        flags, method, name_length, extra_length, comment_length = fields[5], fields[6], *fields[12:15]
        external = fields[17]
        offset += _CENTRAL_ENTRY.size
        raw = directory[offset:offset + name_length]
        offset += name_length + extra_length + comment_length
        name = _entry_name(raw, flags)
        if flags & 0x41:  # bit 0: encrypted; bit 6: strong encryption
            raise EncryptedEntry(f"{name!r} is encrypted; the package itself must not be")
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsupportedCompression(f"{name!r} uses compression method {method}; only stored and deflated are allowed")
        file_type = (external >> 16) & 0o170000
        if file_type == _FILE_TYPE_SYMLINK:
            raise SymlinkEntry(f"{name!r} is a symbolic link")
        if file_type not in (0, _FILE_TYPE_REGULAR, _FILE_TYPE_DIRECTORY):
            raise SpecialEntry(f"{name!r} is not a regular file (a device, FIFO or socket)")
        check_path(name[:-1] if name.endswith("/") else name)
        key = unicodedata.normalize("NFC", name)
        if key in seen:
            raise DuplicateEntry(f"{name!r} appears twice in the ZIP")
        seen.add(key)
        names.append(name)
    return names


def _entry_name(raw: bytes, flags: int) -> str:
    if b"\x00" in raw:
        raise UnsafePath(f"the entry name {raw[:80]!r} contains a NUL byte")
    if flags & 0x800:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsafePath(f"the entry name {raw[:80]!r} is marked UTF-8 but is not") from None
    if not raw.isascii():
        raise UnsafePath(f"the entry name {raw[:80]!r} is not ASCII and not marked UTF-8")
    return raw.decode("ascii")


def _open(zip_file: BinaryIO, *, max_entries: int, max_total_size: int, max_ratio: int) -> tuple[zipfile.ZipFile, dict]:
    """The ZipFile and its file entries by name, after every structural check."""
    if not (hasattr(zip_file, "seekable") and zip_file.seekable()):
        raise BidPackError("a bid package is read from a seekable file")
    names = _central_directory(zip_file, max_entries)
    archive = zipfile.ZipFile(zip_file)
    infos = archive.infolist()
    if [info.filename for info in infos] != names:
        raise CorruptZip("the ZIP's directory reads differently on a second pass")
    total, files = 0, {}
    for info in infos:
        total += info.file_size
        if total > max_total_size:
            raise TooLarge(f"the package unpacks to more than {max_total_size} bytes")
        if info.is_dir():
            if info.file_size:
                raise CorruptZip(f"the folder entry {info.filename!r} has content")
            continue
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise CorruptZip(f"{info.filename!r} is stored but its sizes differ")
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * info.compress_size:
            raise CompressionBomb(
                f"{info.filename!r} would expand {info.compress_size} bytes to {info.file_size}, "
                f"more than {max_ratio} times"
            )
        files[info.filename] = info
    return archive, files


def _load_summary(archive: zipfile.ZipFile, files: dict, max_documents: int) -> dict:
    info = files.get(SUMMARY_NAME)
    if info is None:
        raise InvalidSummary(f"the package has no {SUMMARY_NAME}")
    if info.file_size > MAX_SUMMARY_SIZE:
        raise InvalidSummary(f"{SUMMARY_NAME} is {info.file_size} bytes; at most {MAX_SUMMARY_SIZE}")
    with archive.open(info) as entry:
        raw = entry.read(MAX_SUMMARY_SIZE + 1)

    def unique_keys(pairs):
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise InvalidSummary(f"{SUMMARY_NAME} repeats a key")
        return dict(pairs)

    def no_constants(name):
        raise InvalidSummary(f"{SUMMARY_NAME} contains {name}, which is not JSON")

    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=unique_keys, parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidSummary(f"{SUMMARY_NAME} is not UTF-8 JSON: {exc}") from None
    return validate_summary(data, max_documents=max_documents)


def read_summary(
    zip_file: BinaryIO, *, max_entries: int = MAX_ENTRIES, max_total_size: int = MAX_TOTAL_SIZE, max_ratio: int = MAX_RATIO,
) -> dict:
    """The validated bid.json of a package, after the structural checks, without hashing documents."""
    with _zip_errors():
        archive, files = _open(zip_file, max_entries=max_entries, max_total_size=max_total_size, max_ratio=max_ratio)
        return _load_summary(archive, files, max_entries - 1)


def verify_pack(
    zip_file: BinaryIO, *, max_entries: int = MAX_ENTRIES, max_total_size: int = MAX_TOTAL_SIZE, max_ratio: int = MAX_RATIO,
) -> BidSummary:
    """Check a package completely, as the opening does: structure, bid.json, then every listed
    document present with its declared size and SHA-256 (streamed, never extracted) and nothing
    unlisted. A price in words differing from the figures is flagged (see read_price), not refused."""
    with _zip_errors():
        archive, files = _open(zip_file, max_entries=max_entries, max_total_size=max_total_size, max_ratio=max_ratio)
        data = _load_summary(archive, files, max_entries - 1)
        listed = {document["path"]: document for document in data["documents"]}
        missing = sorted(set(listed) - set(files))
        if missing:
            raise MissingDocument(f"bid.json lists {len(missing)} document(s) the package lacks: {missing[:5]}")
        unlisted = sorted(set(files) - set(listed) - {SUMMARY_NAME})
        if unlisted:
            raise UnlistedFile(f"the package holds {len(unlisted)} file(s) bid.json does not list: {unlisted[:5]}")
        for path, document in listed.items():
            if files[path].file_size != document["size"]:
                raise DocumentMismatch(f"{path!r} is {files[path].file_size} bytes; bid.json declares {document['size']}")
        for path, document in listed.items():
            digest = _hash_entry(archive, files[path])
            if digest != document["sha256"]:
                raise DocumentMismatch(f"{path!r} has SHA-256 {digest}; bid.json declares {document['sha256']}")
    prevailing, flags = read_price(data["price_fen"], data["price_capital"])
    return BidSummary(
        tender=data["tender"], lot=data["lot"], bidder=data["bidder"], price_fen=data["price_fen"],
        price_capital=data["price_capital"], price_capital_fen=prevailing, prevailing_price_fen=prevailing,
        duration_days=data["duration_days"], quality=data["quality"],
        project_manager_name=data["project_manager"]["name"],
        project_manager_certificate=data["project_manager"]["certificate"],
        documents=tuple(Document(d["path"], d["size"], d["sha256"]) for d in data["documents"]), flags=flags,
    )


def _hash_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    digest, read = hashlib.sha256(), 0
    with archive.open(info) as entry:
        while chunk := entry.read(_CHUNK):
            read += len(chunk)
            digest.update(chunk)
    if read != info.file_size:
        raise CorruptZip(f"{info.filename!r} holds {read} bytes, not the {info.file_size} its entry declares")
    return digest.hexdigest()
