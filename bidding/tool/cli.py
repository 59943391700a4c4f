"""The command line of the bid tool: argparse, dispatch, and exit codes.

    0    done
    1    refused: bad input, a wrong passphrase, a tampered or truncated file, a file in the way,
         the platform's refusal, the platform unreachable, a receipt that does not verify
    2    usage: unknown command or option, missing argument (argparse's own code)
    130  interrupted (Ctrl-C); an upload continues when the same command is run again
"""

from __future__ import annotations

import argparse
import sys

from bidding import bidpack, keyfile
from bidding.sealing import header as sealed
from bidding.tool import bids, keys, remote, upload
from bidding.tool.client import DEFAULT_SERVER, SERVER_ENV, TOKEN_ENV
from bidding.tool.messages import Interrupted, ToolError, UsageError, describe_error, text

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bidding.tool",
        description=text(
            "投标工具：在本机生成密钥、打包、密封并核验投标文件（离线），并向平台登记公钥、递交、撤回投标和开标时提交数据密钥（联网）",
            "bid tool: keys, packing, sealing and checking bids offline; registering keys, submitting, withdrawing and "
            "releasing data keys online",
        ),
        epilog=text("退出码：0 成功，1 被拒绝（输入有误、口令错误、文件被篡改、平台拒绝或无法连接），2 用法错误，130 已中断",
                    "exit codes: 0 done, 1 refused (bad input, wrong passphrase, tampered file, refused by or cannot reach "
                    "the platform), 2 usage, 130 interrupted"),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("keygen", help=text("生成投标人密钥文件", "create a bidder key file"))
    p.add_argument("--out", required=True, help=text("密钥文件路径，不会覆盖已有文件", "key file to create; never overwritten"))
    p.add_argument("--label", default="", help=text("密钥文件的标签，如单位名与电脑", "a label, e.g. company and computer"))
    _passphrase_env(p)
    # For tests only: a low PBKDF2 count keeps them fast. Hidden; the default is keyfile's.
    p.add_argument("--iterations", type=int, default=keyfile.DEFAULT_ITERATIONS, help=argparse.SUPPRESS)
    p.set_defaults(run=keys.keygen)

    p = commands.add_parser("show-key", help=text("显示密钥文件的公钥与指纹，无需口令", "show public keys and fingerprints, no passphrase"))
    p.add_argument("keyfile", help=text("密钥文件", "key file"))
    p.add_argument("--json", action="store_true", help=text("以 JSON 输出公开部分", "print the public part as JSON"))
    p.set_defaults(run=keys.show_key)

    p = commands.add_parser("pack", help=text("把文件夹和开标一览表打包为投标包 ZIP", "pack a folder and the opening summary into a bid ZIP"))
    p.add_argument("folder", help=text("投标文件所在文件夹", "folder of bid documents"))
    p.add_argument("--summary", required=True, help=text("开标一览表 JSON，见 docs/bid-tool.md", "opening summary JSON, see docs/bid-tool.md"))
    p.add_argument("--out", required=True, help=text("输出的投标包 ZIP", "bid ZIP to write"))
    p.add_argument("--compress", action="store_true", help=text("压缩；默认仅存储", "deflate entries (default: stored)"))
    _force(p)
    p.set_defaults(run=bids.pack)

    p = commands.add_parser("seal", help=text("用自己的密钥密封投标包", "seal a bid ZIP with your own keys"))
    p.add_argument("bid", help=text("投标包 ZIP", "bid ZIP"))
    p.add_argument("--keys", required=True, help=text("投标人密钥文件", "bidder key file"))
    _binding(p, required=True)
    p.add_argument("--out", required=True, help=text("输出的密封投标文件", "sealed file to write"))
    p.add_argument("--custodial-key", metavar="PUB.JWK.JSON", help=text("招标项目的托管公钥 JWK", "the tender's custodial public key, JWK"))
    _passphrase_env(p)
    _progress(p)
    _force(p)
    p.set_defaults(run=bids.seal)

    p = commands.add_parser("verify", help=text("不解密核验密封投标文件", "check a sealed file without decrypting it"))
    p.add_argument("sealed", help=text("密封投标文件", "sealed file"))
    key = p.add_mutually_exclusive_group()
    key.add_argument("--signing-key-jwk", metavar="PUB.JSON", help=text("签名公钥 JWK，或 show-key --json 的输出", "signing public key: JWK or show-key --json output"))
    key.add_argument("--keys", help=text("投标人密钥文件，只读公开部分，无需口令", "bidder key file; public part only, no passphrase"))
    _binding(p, required=False)
    _progress(p)
    p.set_defaults(run=bids.verify)

    p = commands.add_parser("open", help=text("在本机解密自己的密封投标文件并核对", "decrypt your own sealed file locally and check it"))
    p.add_argument("sealed", help=text("密封投标文件", "sealed file"))
    p.add_argument("--keys", required=True, help=text("投标人密钥文件", "bidder key file"))
    p.add_argument("--out", required=True, help=text("输出的投标包 ZIP", "bid ZIP to write"))
    _binding(p, required=False)
    _passphrase_env(p)
    _progress(p)
    _force(p)
    p.set_defaults(run=bids.open_bid)

    # ---- the commands that talk to the platform (API token from the environment)

    p = commands.add_parser("register-key", help=text("向平台登记密钥文件的公钥（联网）", "register the key file's public keys with the platform (online)"))
    p.add_argument("--keys", required=True, help=text("投标人密钥文件，只读公开部分，无需口令", "bidder key file; public part only, no passphrase"))
    _yes(p, text("轮换时不再确认", "do not ask before rotating keys"))
    _server(p)
    p.set_defaults(run=remote.register_key)

    p = commands.add_parser("upload", help=text("把密封投标文件上传递交，可断点续传，取回并核验回执（联网）", "submit a sealed file: resumable upload, verified receipt (online)"))
    p.add_argument("sealed", help=text("密封投标文件", "sealed file"))
    p.add_argument("--lot", required=True, help=text("标段编号，须与密封绑定一致", "lot id; must be the one the file is sealed for"))
    _progress(p, text("总是显示进度条（字节数与速度）；默认仅在终端中上传大文件时显示", "always show the progress bar with bytes and speed (default: large files on a terminal)"))
    _server(p)
    p.set_defaults(run=upload.upload)

    p = commands.add_parser("status", help=text("本单位的投标与未完成的上传（联网）", "your organisation's bids and open uploads (online)"))
    p.add_argument("--lot", help=text("只看此标段", "only this lot"))
    _server(p)
    p.set_defaults(run=remote.status)

    p = commands.add_parser("withdraw", help=text("截标前撤回已递交的投标（联网）", "withdraw the bid in force before the deadline (online)"))
    p.add_argument("bid", metavar="BID_ID", help=text("投标编号（见 status）", "bid id (see status)"))
    p.add_argument("--reason", default="", help=text("撤回原因", "reason for withdrawing"))
    _yes(p, text("不再确认", "do not ask for confirmation"))
    _server(p)
    p.set_defaults(run=remote.withdraw)

    p = commands.add_parser("release-key", help=text("开标时在本机解出数据密钥并提交给平台，私钥不离开本机（联网）", "at the opening: unwrap the data key locally and release it; the private key stays here (online)"))
    p.add_argument("sealed", help=text("递交的密封投标文件", "the sealed file that was submitted"))
    p.add_argument("--keys", required=True, help=text("投标人密钥文件", "bidder key file"))
    p.add_argument("--bid", required=True, metavar="BID_ID", help=text("投标编号（见 status）", "bid id (see status)"))
    _passphrase_env(p)
    _server(p)
    p.set_defaults(run=remote.release_key)
    return parser


def _server(p) -> None:
    group = p.add_argument_group(text("连接平台", "platform connection"))
    group.add_argument("--server", metavar="URL", help=text(f"平台地址；默认取环境变量 {SERVER_ENV}，否则 {DEFAULT_SERVER}", f"platform address; default ${SERVER_ENV}, else {DEFAULT_SERVER}"))
    group.add_argument("--token-env", metavar="VAR", default=TOKEN_ENV, help=text(f"从环境变量 VAR 读取 API 令牌，默认 {TOKEN_ENV}；不使用密码", f"read the API token from environment variable VAR (default {TOKEN_ENV}); never a password"))


def _yes(p, what: str) -> None:
    p.add_argument("--yes", "-y", action="store_true", help=what)


def _passphrase_env(p) -> None:
    p.add_argument("--passphrase-env", metavar="VAR", help=text("从环境变量 VAR 读取口令（用于脚本），否则提示输入", "read the passphrase from environment variable VAR (scripts); else prompt"))


def _progress(p, what: str | None = None) -> None:
    p.add_argument("--progress", action="store_true", help=what or text("总是显示进度条；默认仅在终端中处理大文件时显示", "always show the progress bar (default: large files on a terminal)"))


def _force(p) -> None:
    p.add_argument("--force", action="store_true", help=text("覆盖已有的输出文件", "overwrite an existing output file"))


def _binding(p, *, required: bool) -> None:
    what = text("密封绑定", "binding") if required else text("核对绑定：可选，三者同时给出", "check the binding; optional, all three together")
    group = p.add_argument_group(what)
    group.add_argument("--tender", required=required, help=text("招标项目编号", "tender id"))
    group.add_argument("--lot", required=required, help=text("标段编号", "lot id"))
    group.add_argument("--bidder", required=required, help=text("投标人编号", "bidder organisation id"))


def main(argv: list[str] | None = None, *, out=None) -> int:
    out = out if out is not None else sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2), already printed by argparse
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        return args.run(args, out)
    except Interrupted as error:
        print("\n" + describe_error(error), file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as error:
        print("错误：" + describe_error(error), file=sys.stderr)
        return EXIT_USAGE
    except (ToolError, keyfile.KeyFileError, sealed.SealedBidError, bidpack.BidPackError, OSError) as error:
        print("错误：" + describe_error(error), file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("\n" + text("已中断，未写出任何文件", "interrupted; no output file was written"), file=sys.stderr)
        return EXIT_INTERRUPTED
