"""upload: a sealed file to the platform, in chunks, resumable, ending in a verified receipt.

    1. read the file's header and check it is bound to --lot;
    2. find the upload of this file left by an earlier run (the state file SEALED.upload.json, else
       the platform's open uploads with the same header_sha256), or create one;
    3. send the ranges the platform still misses, cut at its chunk_size, each with Content-Range;
       a chunk is tried again after a connection failure, and if the network stays down the
       command stops and says to run it again: what arrived stays on the platform;
    4. finalise; save the receipt (SEALED.receipt.json, and the PDF when offered), verify its
       Ed25519 signature with the platform's key and that it describes this very file.

API: docs/bid-upload-api.md. Usage: docs/bid-tool.md."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bidding import sealing
from bidding.tool import receipts
from bidding.tool.client import ApiError, Client, NetworkError
from bidding.tool.messages import Interrupted, ToolError, size, text
from bidding.tool.progress import ProgressBar, wanted
from bidding.tool.remote import connect, lot_id

STATE_SUFFIX, RECEIPT_SUFFIX, PDF_SUFFIX = ".upload.json", ".receipt.json", ".receipt.pdf"
FINALISE_TIMEOUT = 900.0  # the platform joins and checks the whole file before it answers
# Codes of a finalisation that refused the upload: it is closed, its chunks are gone.
REFUSING = {"tampered", "truncated", "size_mismatch", "bad_signature", "binding_mismatch", "key_not_usable", "deadline_passed", "upload_closed"}
AGAIN_ZH = "已收到的部分保存在平台上：再次运行同一命令即可从中断处继续"
AGAIN_EN = "what arrived is kept on the platform: run the same command again to continue where it stopped"


@dataclass(frozen=True)
class SealedFile:
    path: Path
    header: sealing.SealedHeader
    prefix: bytes  # preamble, header and signature: what the platform checks before any segment
    size: int

    @property
    def header_sha256(self) -> str:
        return hashlib.sha256(self.prefix).hexdigest()

    @property
    def state_path(self) -> Path:
        return self.path.with_name(self.path.name + STATE_SUFFIX)


def upload(args, out) -> int:
    local = _read_sealed(Path(args.sealed), args.lot)
    client = connect(args)
    try:
        try:
            current = _find_upload(client, local, args.lot)
            if current is None:
                current = _create(client, local, args.lot)
            if current["status"] == "accepted":
                print(text("此文件已经递交并被平台接收，以下是它的回执", "this file was already submitted and accepted; here is its receipt"), file=out)
                bid, receipt = _accepted(client, current["bid"])
            else:
                bid, receipt = _send_and_finalise(client, local, current, args)
        except NetworkError as error:
            raise NetworkError(f"{error.zh}。{AGAIN_ZH}", f"{error.en}; {AGAIN_EN}") from None
        except KeyboardInterrupt:
            raise Interrupted(f"上传已中断。{AGAIN_ZH}", f"upload interrupted; {AGAIN_EN}") from None
        _forget(local)
        return _deliver(client, local, bid, receipt, out)
    finally:
        client.close()


# ------------------------------------------------------------------------------- the file


def _read_sealed(path: Path, lot: str) -> SealedFile:
    with open(path, "rb") as f:
        header, _signature = sealing.read_header(f)
        prefix_size = f.tell()
        f.seek(0)
        prefix = f.read(prefix_size)
        file_size = os.fstat(f.fileno()).st_size
    if file_size != header.file_size:
        raise ToolError(
            f"密封投标文件的大小（{file_size:,} B）与文件头（{header.file_size:,} B）不符：文件不完整或被改动，未上传",
            f"the file has {file_size} bytes but its header declares {header.file_size}: incomplete or altered; nothing was sent",
        )
    if header.binding.lot != lot:
        raise ToolError(
            f"此密封文件绑定的是项目 {header.binding.tender} 标段 {header.binding.lot}，不是 --lot {lot}；未上传",
            f"this file is sealed for lot {header.binding.lot} (tender {header.binding.tender}), not --lot {lot}; nothing was sent",
        )
    return SealedFile(path, header, prefix, file_size)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------- the upload to use


def _find_upload(client: Client, local: SealedFile, lot: str) -> dict | None:
    """The upload an earlier run left for this file: open, or already accepted."""
    state = _load_state(local, client.server, lot)
    if state is not None:
        try:
            found = client.get(f"/bid-uploads/{state['upload']}/")
        except ApiError as error:
            if error.status != 404:
                raise
            found = None
        if found is not None and found.get("status") in ("open", "accepted") and found.get("header_sha256") == local.header_sha256:
            return found
        _forget(local)  # refused, abandoned or gone: start afresh
    found = _open_upload_of(client, local, lot)
    if found is not None:
        _save_state(local, client.server, lot, found["id"])
        return found
    # Accepted already (the answer of an earlier run was lost): its receipt, even after the deadline.
    return _open_upload_of(client, local, lot, status="accepted")


def _open_upload_of(client: Client, local: SealedFile, lot: str, status: str = "open") -> dict | None:
    for item in client.get_all(f"/bid-uploads/?lot={urllib.parse.quote(lot)}&status={status}"):
        if item.get("header_sha256") == local.header_sha256 and item.get("status") == status:
            return client.get(f"/bid-uploads/{item['id']}/")
    return None


def _create(client: Client, local: SealedFile, lot: str) -> dict:
    payload = {"lot": lot_id(lot), "size": local.size, "header": base64.b64encode(local.prefix).decode("ascii")}
    try:
        created = client.post("/bid-uploads/", payload)
    except NetworkError:
        # The request may have arrived although its answer did not: look before creating another.
        found = _open_upload_of(client, local, lot)
        if found is None:
            created = client.post("/bid-uploads/", payload)
        else:
            created = found
    except ApiError as error:
        if error.status == 403:
            raise error.with_hint(
                "只有已获取招标文件的已审核投标人才能递交投标文件：请确认本单位已获取该项目的招标文件，且令牌属于本单位的用户",
                "only verified bidders that obtained the tender documents may submit; check that yours did, and that the "
                "token is one of your organisation's users",
            ) from None
        if error.code != "replay":
            raise
        accepted = _open_upload_of(client, local, lot, status="accepted")
        if accepted is None:
            raise
        return accepted
    _save_state(local, client.server, lot, created["id"])
    return created


# ------------------------------------------------------------------------ chunks, finalise


def _pieces(missing: list, chunk_size: int):
    """The missing ranges [start, end) cut at the multiples of chunk_size."""
    for start, end in missing:
        while start < end:
            stop = min(end, (start // chunk_size + 1) * chunk_size)
            yield start, stop
            start = stop


def _send_missing(client: Client, local: SealedFile, current: dict, bar: ProgressBar) -> None:
    missing = current.get("missing") or []
    chunk_size = int(current["chunk_size"])
    bar.done = local.size - sum(end - start for start, end in missing)
    with open(local.path, "rb") as f:
        for start, end in _pieces(missing, chunk_size):
            f.seek(start)
            data = f.read(end - start)
            if len(data) != end - start:
                raise ToolError("密封投标文件在上传过程中变短了", f"the sealed file shrank during the upload (at byte {start})")
            if start == 0 and not data.startswith(local.prefix[: len(data)]):
                raise ToolError("密封投标文件在上传过程中被改动", "the sealed file changed during the upload")
            client.request(
                "PUT", f"/bid-uploads/{current['id']}/", body=data, content_type="application/octet-stream",
                headers={"Content-Range": f"bytes {start}-{end - 1}/{local.size}"}, on_sent=bar.advance,
            )


def _send_and_finalise(client: Client, local: SealedFile, current: dict, args) -> tuple[dict, dict]:
    label = text("上传", "uploading")
    bar = ProgressBar(label, local.size, enabled=wanted(args.progress, local.size), rate=True)
    try:
        for attempt in range(3):
            _send_missing(client, local, current, bar)
            try:
                answer = client.post(f"/bid-uploads/{current['id']}/finalise/", retry=True, timeout=FINALISE_TIMEOUT)
            except ApiError as error:
                if error.code == "incomplete" and attempt < 2:
                    current = client.get(f"/bid-uploads/{current['id']}/")
                    continue
                if error.code in REFUSING:
                    _forget(local)
                    raise ToolError(
                        f"平台拒绝了此投标文件：{error.detail}（{error.code}）。此次上传已作废，此前递交的投标（如有）仍然有效",
                        f"the platform refused this file: {error.code}. This upload is void; a bid submitted before, if any, stays in force",
                    ) from None
                raise
            bar.finish()
            return answer["bid"], answer["receipt"]
        raise ToolError("平台仍缺少部分数据", "the platform still misses bytes of the file after three attempts")
    finally:
        bar.stop()


def _accepted(client: Client, bid_id) -> tuple[dict, dict]:
    return client.get(f"/bids/{bid_id}/"), client.get(f"/bids/{bid_id}/receipt/")


# ------------------------------------------------------------------------- receipt, output


def _deliver(client: Client, local: SealedFile, bid: dict, receipt: dict, out) -> int:
    receipt_path = local.path.with_name(local.path.name + RECEIPT_SUFFIX)
    _write(receipt_path, json.dumps(receipt, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    pdf_path, no_pdf = _save_pdf(client, bid, local.path.with_name(local.path.name + PDF_SUFFIX))
    print(text(f"已递交：{local.path}", f"submitted: {local.path}"), file=out)
    print(text("投标编号", "bid id") + f"：{bid.get('id')}", file=out)
    print(text("版本", "version") + f"：{bid.get('version')}", file=out)
    print(text("平台接收时间", "received at") + "：" + receipts.local_time(bid.get("received_at")), file=out)
    print(text("文件大小", "file size") + "：" + size(local.size), file=out)
    print("SHA-256：" + str(bid.get("sha256")), file=out)
    print(text("回执", "receipt") + f"：{receipt_path}", file=out)
    if pdf_path is not None:
        print(text("回执 PDF", "receipt PDF") + f"：{pdf_path}", file=out)
    else:  # the JSON receipt is the signed one; the PDF is its printable copy
        print(text("回执 PDF 未能取得，以 JSON 回执为准", f"no receipt PDF ({no_pdf}); the JSON receipt is the signed one"), file=out)
    platform_key = client.get("/platform/key/")
    try:
        statement = receipts.verify(receipt, platform_key)
        receipts.check_statement(statement, header=local.header, size=local.size, sha256=_sha256(local.path))
        if bid.get("sha256") != statement["sealed_sha256"]:
            raise receipts.ReceiptError("平台记录的 SHA-256 与回执不符", "the bid's SHA-256 differs from the receipt's")
    except receipts.ReceiptError as error:
        raise receipts.ReceiptError(
            f"投标 {bid.get('id')} 已被平台接收，但回执核验失败，请保存回执并联系交易中心：{error}",
            f"bid {bid.get('id')} was accepted, but its receipt does not check out; keep it and contact the centre",
        ) from None
    print(
        text(
            f"回执核验通过：平台签名有效（密钥 {platform_key['key_id']}），所记载的大小与 SHA-256 与本地文件一致",
            f"receipt verified: the platform's signature is valid (key {platform_key['key_id']}) and it describes this file",
        ),
        file=out,
    )
    return 0


def _save_pdf(client: Client, bid: dict, path: Path) -> tuple[Path | None, str]:
    """The printable copy of the receipt, when offered: (path, "") or (None, why not)."""
    url = bid.get("receipt_pdf_url")
    if not url:
        return None, "the platform offers none"
    parts = urllib.parse.urlsplit(url)
    try:
        # JSON accepted too: the platform's refusals come as JSON.
        answer = client.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), absolute=True,
            accept="application/pdf, application/json;q=0.5",
        )
    except ApiError as error:
        return None, f"HTTP {error.status} {error.code}"
    if not answer.body.startswith(b"%PDF"):
        return None, "the answer is not a PDF"
    _write(path, answer.body)
    return path, ""


# ---------------------------------------------------------------------------- state file


def _load_state(local: SealedFile, server: str, lot: str) -> dict | None:
    try:
        state = json.loads(local.state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    wanted_state = {"server": server, "lot": lot, "size": local.size, "header_sha256": local.header_sha256}
    if not isinstance(state, dict) or any(state.get(k) != v for k, v in wanted_state.items()) or not state.get("upload"):
        return None
    return state


def _save_state(local: SealedFile, server: str, lot: str, upload_id) -> None:
    state = {
        "server": server, "lot": lot, "upload": upload_id, "size": local.size, "header_sha256": local.header_sha256,
        "saved_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    _write(local.state_path, json.dumps(state, indent=2).encode("utf-8") + b"\n")


def _forget(local: SealedFile) -> None:
    try:
        local.state_path.unlink()
    except FileNotFoundError:
        pass


def _write(path: Path, data: bytes) -> None:
    """Replace `path` at once: a crash leaves the old file or the new one, never half of one."""
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
