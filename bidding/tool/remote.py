"""register-key, status, withdraw and release-key: the commands that talk to the platform, besides
upload (bidding/tool/upload.py). They authenticate with an API token taken from the environment
(the tool never asks for the password) and speak the API of docs/bid-upload-api.md."""

from __future__ import annotations

from pathlib import Path

from bidding import keyfile, sealing
from bidding.tool import files
from bidding.tool.bids import _unlock
from bidding.tool.client import ApiError, Client, server_from, token_from
from bidding.tool.messages import ToolError, grouped, size, text
from bidding.tool.receipts import local_time

STATUS_NAMES = {
    "received": "已递交（in force）",
    "replaced": "已被替换（replaced）",
    "withdrawn": "已撤回（withdrawn）",
    "revoked": "已撤销（revoked）",
    "rejected": "已否决（rejected）",
    "open": "上传中（open）",
    "accepted": "已接收（accepted）",
    "refused": "被拒绝（refused）",
    "abandoned": "已放弃（abandoned）",
}


def connect(args) -> Client:
    return Client(server_from(args.server), token_from(args.token_env))


def confirm(question: str, *, yes: bool) -> bool:
    """Ask `question` (already bilingual) unless --yes; an answer other than yes cancels."""
    if yes:
        return True
    try:
        answer = input(question + " [y/N] ")
    except EOFError:  # a script without a terminal
        raise ToolError("未确认：在脚本中请加 --yes", "not confirmed: in scripts add --yes") from None
    return answer.strip().lower() in ("y", "yes", "是")


def lot_id(value: str):
    return int(value) if value.isdigit() else value


# ------------------------------------------------------------------------------ register-key


def register_key(args, out) -> int:
    public = keyfile.load_public(files.read_bytes(args.keys, limit=keyfile.MAX_FILE_BYTES))
    mine = {"decryption": public.fingerprints.decryption, "signing": public.fingerprints.signing}
    client = connect(args)
    registered = client.get_all("/bidder-keys/")
    active = {key["purpose"]: key["fingerprint"] for key in registered if key.get("status") == "active"}
    if active == mine:
        print(text("这对公钥已经登记，并且有效", "these public keys are already registered and active"), file=out)
        _print_fingerprints(mine, out)
        return 0
    if active:
        print(
            text(
                "本单位已登记了另一对有效公钥。登记新密钥会撤销它们（轮换）：用旧密钥密封、尚未上传的投标文件将无法上传，需用新密钥重新密封；"
                "已递交的投标不受影响，开标时仍用旧密钥文件解密",
                "your organisation has other active keys. Registering these revokes them (rotation): files sealed with the old "
                "keys and not yet uploaded can no longer be uploaded and must be sealed again; bids already submitted are "
                "unaffected and are opened with the old key file",
            ),
            file=out,
        )
        _print_fingerprints(active, out)
        if not confirm(text("确认登记新密钥并撤销旧密钥？", "register the new keys and revoke the old ones?"), yes=args.yes):
            print(text("已取消，未做任何更改", "cancelled; nothing changed"), file=out)
            return 1
    answer = client.post("/bidder-keys/", {"decryption": keyfile.public_jwk(public.decryption), "signing": keyfile.public_jwk(public.signing)})
    theirs = {purpose: answer[purpose]["fingerprint"] for purpose in ("decryption", "signing")}
    if theirs != mine:
        raise ToolError(
            "平台登记的指纹与本地密钥文件的指纹不一致！请勿使用，并联系交易中心："
            f"平台 解密 {theirs['decryption']} 签名 {theirs['signing']}",
            f"the platform registered other fingerprints than those of the key file: decryption {theirs['decryption']}, "
            f"signing {theirs['signing']}; do not use it and contact the centre",
        )
    print(text("平台已登记公钥，指纹如下", "the platform registered the public keys with these fingerprints"), file=out)
    _print_fingerprints(theirs, out)
    print(
        text(
            "请与 show-key 显示的指纹逐组核对：两者必须完全相同（本工具已核对一致）",
            "compare them group by group with those show-key prints: they must be identical (this tool checked they are)",
        ),
        file=out,
    )
    return 0


def _print_fingerprints(fingerprints: dict, out) -> None:
    print(text("解密密钥指纹", "decryption key fingerprint") + "：" + grouped(fingerprints.get("decryption", "—")), file=out)
    print(text("签名密钥指纹", "signing key fingerprint") + "：" + grouped(fingerprints.get("signing", "—")), file=out)


# ------------------------------------------------------------------------------------ status


def status(args, out) -> int:
    client = connect(args)
    query = f"?lot={args.lot}" if args.lot else ""
    bids = client.get_all("/bids/" + query)
    uploads = client.get_all("/bid-uploads/?status=open" + (f"&lot={args.lot}" if args.lot else ""))
    print(text("本单位的投标", "your organisation's bids") + f"：{len(bids)}", file=out)
    for bid in bids:
        print_bid(bid, out, indent="  ")
        print(file=out)
    print(text("未完成的上传", "open uploads") + f"：{len(uploads)}", file=out)
    for upload in uploads:
        received = upload.get("received_bytes", 0)
        print(
            f"  {upload.get('id')}  " + text("标段", "lot") + f" {upload.get('lot')}  "
            + f"{received:,}/{upload.get('size', 0):,} B  " + text("开始于", "started") + " " + local_time(upload.get("created_at")),
            file=out,
        )
    if uploads:
        print(
            text(
                "继续未完成的上传：对同一密封文件再次运行 upload 命令",
                "to continue an open upload, run upload again on the same sealed file",
            ),
            file=out,
        )
    return 0


def print_bid(bid: dict, out, *, indent: str = "") -> None:
    rows = [
        (text("投标编号", "bid id"), bid.get("id")),
        (text("项目 / 标段", "tender / lot"), f"{bid.get('tender')} / {bid.get('lot')}"),
        (text("版本", "version"), bid.get("version")),
        (text("状态", "status"), STATUS_NAMES.get(bid.get("status"), bid.get("status"))),
        (text("接收时间", "received at"), local_time(bid.get("received_at"))),
    ]
    if bid.get("withdrawn_at"):
        rows.append((text("撤回时间", "withdrawn at"), local_time(bid["withdrawn_at"])))
    if bid.get("size") is not None:
        rows.append((text("文件大小", "file size"), size(bid["size"])))
    rows.append(("SHA-256", bid.get("sha256")))
    for label, value in rows:
        print(f"{indent}{label}：{value}", file=out)


# ---------------------------------------------------------------------------------- withdraw


def withdraw(args, out) -> int:
    client = connect(args)
    bid = client.get(f"/bids/{args.bid}/")
    print_bid(bid, out)
    if not confirm(text(f"确认撤回投标 {bid.get('id')}？撤回后，截标前可重新递交", f"withdraw bid {bid.get('id')}? You may submit again before the deadline"), yes=args.yes):
        print(text("已取消，投标未撤回", "cancelled; the bid was not withdrawn"), file=out)
        return 1
    answer = client.post(f"/bids/{args.bid}/withdraw/", {"reason": args.reason})
    withdrawn = answer.get("bid", answer) if isinstance(answer, dict) else bid
    print(text(f"投标 {bid.get('id')} 已撤回", f"bid {bid.get('id')} withdrawn"), file=out)
    print(text("撤回时间", "withdrawn at") + "：" + local_time(withdrawn.get("withdrawn_at")), file=out)
    return 0


# ------------------------------------------------------------------------------- release-key


def release_key(args, out) -> int:
    with open(args.sealed, "rb") as f:
        header, _ = sealing.read_header(f)
    client = connect(args)
    bid = client.get(f"/bids/{args.bid}/")
    if bid.get("ciphertext_sha256") != header.ciphertext_sha256:
        raise ToolError(
            f"投标 {args.bid} 不是这个密封文件（{Path(args.sealed).name}）递交的：密文 SHA-256 不同；数据密钥未发送",
            f"bid {args.bid} was not submitted from this sealed file (ciphertext SHA-256 differs); the data key was not sent",
        )
    keys = _unlock(args)
    data_key = sealing.unwrap_data_key(header, keys.decryption)  # checks the key commitment too
    try:
        answer = client.post(f"/bids/{args.bid}/release-key/", {"data_key": data_key.hex()}, retry=True)
    except ApiError as error:
        if error.code == "opening_not_started":
            raise ToolError(
                f"开标尚未开始，平台未接收数据密钥；请在开标室开始接受数据密钥后再运行此命令。平台答复：{error.detail}",
                "the opening has not started and the platform did not take the data key; run this command again "
                "once the opening room accepts key releases",
            ) from None
        raise
    print(text(f"已向平台提交投标 {args.bid} 的数据密钥；私钥未离开本机", f"data key of bid {args.bid} released; the private key never left this machine"), file=out)
    if isinstance(answer, dict) and answer.get("detail"):
        print(answer["detail"], file=out)
    return 0
