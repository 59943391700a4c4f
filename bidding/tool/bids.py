"""pack, seal, verify and open: a bid from a folder to a sealed file and back, offline.

Formats: docs/bid-package.md (the ZIP and bid.json), docs/sealed-bid-format.md (the sealed file)."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

from bidding import bidpack, keyfile, sealing
from bidding.capital_numerals import CapitalNumeralError, parse_capital, to_capital
from bidding.sealing import header as sealed
from bidding.tool import files
from bidding.tool.messages import ToolError, UsageError, grouped, size, text, yuan
from bidding.tool.progress import ProgressBar, ProgressReader, wanted

# The opening summary a bidder writes: bid.json's fields without those pack fills in itself.
SUMMARY_FIELDS = tuple(k for k in bidpack.SUMMARY_KEYS if k not in ("format", "version", "documents"))
_CHUNK = 1 << 20


# --------------------------------------------------------------------------------------- pack


def pack(args, out) -> int:
    folder, target = Path(args.folder), Path(args.out)
    if not folder.is_dir():
        raise ToolError(f"不是文件夹：{folder}", f"not a folder: {folder}")
    if target.resolve().parent.is_relative_to(folder.resolve()):
        raise ToolError(
            f"输出文件不能放在要打包的文件夹里：{target}", f"the output file must not be inside the folder being packed: {target}"
        )
    summary = _load_summary(args.summary)
    compression = zipfile.ZIP_DEFLATED if args.compress else zipfile.ZIP_STORED
    with files.OutputFile(target, force=args.force) as f:
        bid = bidpack.pack(folder, summary, f, compression=compression)
        f.seek(0)
        digest = _sha256(f)
        zip_size = f.tell()
    print(text(f"已打包：{target}", f"packed: {target}"), file=out)
    print(text("文件数", "documents") + f"：{len(bid['documents'])}，" + text("合计", "total") + "：" + size(sum(d["size"] for d in bid["documents"])), file=out)
    print(text("投标包大小", "package size") + "：" + size(zip_size), file=out)
    print(text("投标包 SHA-256", "package SHA-256") + "：" + digest, file=out)
    _print_summary_fields(bid, out)
    return 0


def _load_summary(path) -> dict:
    summary = files.read_json(path, "开标一览表", "summary")
    if not isinstance(summary, dict):
        raise ToolError("开标一览表必须是一个 JSON 对象", "the summary must be a JSON object")
    missing = [k for k in SUMMARY_FIELDS if k not in summary]
    unknown = sorted(set(summary) - set(SUMMARY_FIELDS))
    if missing or unknown:
        raise ToolError(
            f"开标一览表缺少字段 {missing}，或有多余字段 {unknown}；应恰好包含 {list(SUMMARY_FIELDS)}",
            f"the summary lacks {missing} or has unknown {unknown}; it must have exactly {list(SUMMARY_FIELDS)}",
        )
    _check_price(summary)
    return summary


def _check_price(summary: dict) -> None:
    """Refuse a price in capital numerals that says another amount than the figures, naming both,
    before anything is written (bidpack refuses it too, in English only)."""
    fen, capital = summary["price_fen"], summary["price_capital"]
    if isinstance(fen, bool) or not isinstance(fen, int) or not isinstance(capital, str):
        return  # bidpack's schema check names the wrong type
    try:
        in_words = parse_capital(capital)
    except CapitalNumeralError:
        return  # bidpack: "price_capital is not readable"
    if in_words != fen:
        try:
            expected = to_capital(fen)
        except CapitalNumeralError:
            expected = "—"
        raise ToolError(
            f"大写金额“{capital}”为 {yuan(in_words)}，与小写金额 price_fen = {fen} 分（{yuan(fen)}）不一致；"
            f"按小写金额应写作“{expected}”。请更正其中之一",
            f"the price in words {capital!r} is {in_words} fen but the price in figures (price_fen) is {fen} fen; "
            "correct one of them",
        )


# --------------------------------------------------------------------------------------- seal


def seal(args, out) -> int:
    binding = _binding(args, required=True)
    source, target = Path(args.bid), Path(args.out)
    files.refuse_existing(target, force=args.force)
    custodial = _public_jwk_file(args.custodial_key, "托管公钥", "custodial key") if args.custodial_key else None
    package = _check_package(source, binding)
    keys = _unlock(args)
    with open(source, "rb") as plaintext, files.OutputFile(target, force=args.force) as f:
        total = os.fstat(plaintext.fileno()).st_size
        bar = ProgressBar("密封（sealing）", total, enabled=wanted(args.progress, total))
        header = sealing.seal(
            ProgressReader(plaintext, bar), f, recipient_public_key=keys.public.decryption,
            signing_private_key=keys.signing, binding=binding, custodial_public_key=custodial, plaintext_size=total,
        )
        bar.finish()
    print(text(f"已密封：{target}", f"sealed: {target}"), file=out)
    print_header(header, out)
    print(text("报价", "price") + "：" + f"{yuan(package.price_fen)}（{package.price_capital}）", file=out)
    return 0


def _check_package(path: Path, binding: sealing.Binding) -> bidpack.BidSummary:
    """Only a complete, consistent bid package for this tender and lot is sealed: a mistake found
    now costs nothing, one found at the opening costs the bid."""
    with open(path, "rb") as f:
        summary = bidpack.verify_pack(f)
    if (summary.tender, summary.lot) != (binding.tender, binding.lot):
        raise ToolError(
            f"投标包的 bid.json 写的是项目 {summary.tender} 标段 {summary.lot}，与 --tender {binding.tender} --lot {binding.lot} 不符",
            f"bid.json is for tender {summary.tender}, lot {summary.lot}, not tender {binding.tender}, lot {binding.lot}",
        )
    if summary.price_mismatch:
        raise ToolError(
            f"投标包中大写金额“{summary.price_capital}”（{yuan(summary.price_capital_fen)}）与小写金额 {yuan(summary.price_fen)} 不一致",
            f"the price in words is {summary.price_capital_fen} fen but the price in figures is {summary.price_fen} fen",
        )
    return summary


# ------------------------------------------------------------------------------------- verify


def verify(args, out) -> int:
    expected = _binding(args, required=False)
    signing_key = None
    if args.keys:
        signing_key = keyfile.load_public(files.read_bytes(args.keys, limit=keyfile.MAX_FILE_BYTES)).signing
    elif args.signing_key_jwk:
        signing_key = _public_jwk_file(args.signing_key_jwk, "签名公钥", "signing key", member="signing")
    with open(args.sealed, "rb") as f:
        total = os.fstat(f.fileno()).st_size
        bar = ProgressBar("核验（verifying）", total, enabled=wanted(args.progress, total))
        reader = ProgressReader(f, bar)
        if signing_key is not None:
            header = sealing.verify(reader, signing_public_key=signing_key, expected_binding=expected)
        else:
            header = _verify_unsigned(reader, expected)
        bar.finish()
    print_header(header, out)
    if signing_key is None:
        print(
            text(
                "结论：文件头、大小与密文 SHA-256 完好，但未核验签名（未提供 --keys 或 --signing-key-jwk）",
                "verdict: header, sizes and ciphertext SHA-256 intact, but the signature was NOT checked "
                "(give --keys or --signing-key-jwk)",
            ),
            file=out,
        )
    else:
        bound_zh, bound_en = ("，绑定相符", ", binding as expected") if expected else ("", "")
        print(
            text(
                f"结论：完好。签名有效{bound_zh}，大小与密文 SHA-256 相符",
                f"verdict: intact. Signature valid{bound_en}, sizes and ciphertext SHA-256 match",
            ),
            file=out,
        )
    return 0


def _verify_unsigned(f, expected: sealing.Binding | None) -> sealing.SealedHeader:
    """sealing.verify without the signature: form, binding, sizes and the segments' hash."""
    header, _signature = sealing.read_header(f)
    sealing.check_binding(header, expected)
    digest, remaining = hashlib.sha256(), header.ciphertext_size
    while remaining:
        chunk = f.read(min(_CHUNK, remaining))
        if not chunk:
            raise sealed.Truncated(f"the file ends inside the segments ({header.ciphertext_size - remaining} of {header.ciphertext_size} bytes)")
        digest.update(chunk)
        remaining -= len(chunk)
    if f.read(1):
        raise sealed.SizeMismatch(f"bytes follow the {header.ciphertext_size} bytes of segments the header declares")
    if digest.hexdigest() != header.ciphertext_sha256:
        raise sealed.Tampered("the segments do not match the ciphertext SHA-256 in the header")
    return header


# --------------------------------------------------------------------------------------- open


def open_bid(args, out) -> int:
    expected = _binding(args, required=False)
    target = Path(args.out)
    files.refuse_existing(target, force=args.force)
    with open(args.sealed, "rb") as f:
        header, _ = sealing.read_header(f)  # a plain file is refused before the passphrase is asked
    keys = _unlock(args)
    data_key = sealing.unwrap_data_key(header, keys.decryption)
    with open(args.sealed, "rb") as f, files.OutputFile(target, force=args.force) as plaintext:
        total = os.fstat(f.fileno()).st_size
        bar = ProgressBar("解密（opening）", total, enabled=wanted(args.progress, total))
        header = sealing.open_sealed(
            ProgressReader(f, bar), plaintext, data_key=data_key, signing_public_key=keys.public.signing,
            expected_binding=expected,
        )
        bar.finish()
        plaintext.seek(0)
        summary = bidpack.verify_pack(plaintext)
    print(text(f"已解密：{target}", f"opened: {target}"), file=out)
    print_header(header, out)
    print(text("投标包完好：所有文件的大小与 SHA-256 均与 bid.json 相符", "the package is intact: every document matches bid.json"), file=out)
    _print_summary_fields(_summary_dict(summary), out)
    if summary.price_mismatch:
        print(
            text(
                f"注意：大写金额（{yuan(summary.price_capital_fen)}）与小写金额（{yuan(summary.price_fen)}）不一致；开标时以大写金额为准",
                f"warning: {bidpack.PRICE_WORDS_DIFFER}: the price in words prevails at the opening (P19)",
            ),
            file=out,
        )
    else:
        print(text("大写金额与小写金额一致", "price in words matches the figures"), file=out)
    return 0


# ------------------------------------------------------------------------------------ helpers


def print_header(header: sealing.SealedHeader, out) -> None:
    rows = [
        (text("项目", "tender"), header.binding.tender),
        (text("标段", "lot"), header.binding.lot),
        (text("投标人", "bidder"), header.binding.bidder),
        (text("明文大小", "plaintext size"), size(header.plaintext_size)),
        (text("密文大小", "ciphertext size"), size(header.ciphertext_size) + f"，{header.segment_count} " + text("段", "segments")),
        (text("文件大小", "file size"), size(header.file_size)),
        (text("密文 SHA-256", "ciphertext SHA-256"), header.ciphertext_sha256),
        (text("签名密钥指纹", "signing key fingerprint"), grouped(header.signer_key_fingerprint)),
    ]
    for recipient in header.recipients:
        role = text("投标人解密密钥指纹", "bidder decryption key") if recipient.role == "bidder" else text("托管密钥指纹", "custodial key")
        rows.append((role, grouped(recipient.key_fingerprint)))
    rows += [
        (text("密封工具", "sealing tool"), f"{header.tool.name} {header.tool.version} {header.tool.fingerprint[:16]}…"),
        (text("密封时间，密封方自报", "sealed at, as claimed"), header.created),
    ]
    for label, value in rows:
        print(f"{label}：{value}", file=out)


def _print_summary_fields(bid: dict, out) -> None:
    print(text("项目 / 标段", "tender / lot") + f"：{bid['tender']} / {bid['lot']}", file=out)
    print(text("投标人统一社会信用代码", "bidder credit code") + f"：{bid['bidder']}", file=out)
    print(text("小写报价", "price in figures") + f"：{yuan(bid['price_fen'])}", file=out)
    print(text("大写报价", "price in words") + f"：{bid['price_capital']}", file=out)
    print(text("工期", "duration") + f"：{bid['duration_days']} 天", file=out)
    print(text("质量", "quality") + f"：{bid['quality']}", file=out)
    manager = bid["project_manager"]
    print(text("项目经理", "project manager") + f"：{manager['name']}（{manager['certificate']}）", file=out)
    for document in bid["documents"]:
        print(f"  {document['sha256'][:16]}…  {document['size']:>12,}  {document['path']}", file=out)


def _summary_dict(summary: bidpack.BidSummary) -> dict:
    return {
        "tender": summary.tender, "lot": summary.lot, "bidder": summary.bidder, "price_fen": summary.price_fen,
        "price_capital": summary.price_capital, "duration_days": summary.duration_days, "quality": summary.quality,
        "project_manager": {"name": summary.project_manager_name, "certificate": summary.project_manager_certificate},
        "documents": [{"path": d.path, "size": d.size, "sha256": d.sha256} for d in summary.documents],
    }


def _binding(args, *, required: bool) -> sealing.Binding | None:
    values = (args.tender, args.lot, args.bidder)
    if not any(values) and not required:
        return None
    if not all(values):
        raise UsageError("--tender、--lot 与 --bidder 须同时给出", "give --tender, --lot and --bidder together")
    try:
        return sealing.Binding(tender=args.tender, lot=args.lot, bidder=args.bidder)
    except ValueError as error:
        raise ToolError("项目、标段或投标人编号无效", str(error)) from None


def _unlock(args) -> keyfile.PrivateKeys:
    data = files.read_bytes(args.keys, limit=keyfile.MAX_FILE_BYTES)
    keyfile.load_public(data)  # a file that is not a key file is refused before the prompt
    return keyfile.unlock(data, files.passphrase(args.passphrase_env))


def _public_jwk_file(path, what_zh: str, what_en: str, *, member: str | None = None):
    """A public key from a JWK file; `member` also accepts the output of `show-key --json`."""
    document = files.read_json(path, what_zh, what_en)
    if member and isinstance(document, dict) and "kty" not in document and member in document:
        document = document[member]
    return keyfile.public_key_from_jwk(document)


def _sha256(f) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
