"""The command line of the bid tool: argparse, dispatch, and exit codes.

    0  done
    1  refused: bad input, a wrong passphrase, a tampered or truncated file, a file in the way
    2  usage: unknown command or option, missing argument (argparse's own code)
"""

from __future__ import annotations

import argparse
import sys

from bidding import bidpack, keyfile
from bidding.sealing import header as sealed
from bidding.tool import bids, keys
from bidding.tool.messages import ToolError, UsageError, describe_error, text

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
# Commands of issue 3 that need the platform's API; listed so the help shows the whole workflow.
NOT_YET_AVAILABLE = ("register-key", "upload", "status", "withdraw", "release-key")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bidding.tool",
        description=text("投标工具：在本机生成密钥、打包、密封并核验投标文件", "bid tool: keys, packing, sealing and checking bids, offline"),
        epilog=text("退出码：0 成功，1 被拒绝（输入有误、口令错误、文件被篡改），2 用法错误",
                    "exit codes: 0 done, 1 refused (bad input, wrong passphrase, tampered file), 2 usage"),
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

    for name in NOT_YET_AVAILABLE:
        p = commands.add_parser(name, help=text("尚未提供，需连接平台", "not yet available: needs the platform API"))
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        p.set_defaults(run=None)
    return parser


def _passphrase_env(p) -> None:
    p.add_argument("--passphrase-env", metavar="VAR", help=text("从环境变量 VAR 读取口令（用于脚本），否则提示输入", "read the passphrase from environment variable VAR (scripts); else prompt"))


def _progress(p) -> None:
    p.add_argument("--progress", action="store_true", help=text("总是显示进度条；默认仅在终端中处理大文件时显示", "always show the progress bar (default: large files on a terminal)"))


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
    if args.run is None:
        print("错误：" + text(f"{args.command} 尚未提供", f"{args.command} is not yet available"), file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args, out)
    except UsageError as error:
        print("错误：" + describe_error(error), file=sys.stderr)
        return EXIT_USAGE
    except (ToolError, keyfile.KeyFileError, sealed.SealedBidError, bidpack.BidPackError, OSError) as error:
        print("错误：" + describe_error(error), file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("\n" + text("已中断，未写出任何文件", "interrupted; no output file was written"), file=sys.stderr)
        return 130
