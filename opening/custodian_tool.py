"""The custodian's tool: open one's own custodial share on one's own machine, so the private key
never reaches the platform. No Django; docs/custodial-fallback.md walks through it.

    python -m opening.custodian_tool unwrap-share --keys custodian-keys.json --package share.json

The key file is a bidder-format key file (`python -m bidding.tool keygen`); its decryption key is
the one registered as the custodian key. The package is what the opening room (command
`share_package`) or GET /api/v1/tenders/<id>/custodial-share/ hands out once the opening has
started. The tool prints the share as 64 hex digits, to release in the opening room (command
`release_share`) or with POST /api/v1/tenders/<id>/custodial-share/release/.

Exit codes: 0 done, 1 refused (wrong key file or passphrase, altered package), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys

from bidding import keyfile
from bidding.tool import files
from bidding.tool.messages import ToolError, describe_error, grouped, text
from opening import custody


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m opening.custodian_tool",
        description=text("托管人工具：在本机用本人的密钥文件解出托管份额，私钥不离开本机",
                         "custodian's tool: open your custodial share locally with your own key file; the private key stays here"),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = commands.add_parser("unwrap-share", help=text("解出托管份额（离线）", "open a custodial share (offline)"))
    p.add_argument("--keys", required=True, help=text("托管人密钥文件（与投标人密钥文件格式相同）", "custodian key file (the bidder key file format)"))
    p.add_argument("--package", required=True, help=text("从平台下载的托管份额 JSON", "the share package JSON downloaded from the platform"))
    p.add_argument("--passphrase-env", metavar="VAR", help=text("从环境变量 VAR 读取口令（用于脚本），否则提示输入",
                                                                "read the passphrase from environment variable VAR (scripts); else prompt"))
    p.add_argument("--json", action="store_true", help=text("以 JSON 输出", "print JSON"))
    p.set_defaults(run=unwrap_share)
    return parser


def unwrap_share(args, out) -> int:
    document = files.read_json(args.package, "托管份额", "share package")
    binding, _, _ = custody.parse_package(document)
    data = files.read_bytes(args.keys, limit=keyfile.MAX_FILE_BYTES)
    public = keyfile.load_public(data)
    if public.fingerprints.decryption != binding.custodian_key:
        raise ToolError(
            f"该份额包装给密钥 {grouped(binding.custodian_key)}，不是此密钥文件的解密密钥 {grouped(public.fingerprints.decryption)}",
            "the share is wrapped to another key than this key file's decryption key",
        )
    keys = keyfile.unlock(data, files.passphrase(args.passphrase_env))
    share = custody.unwrap_share(document, keys.decryption)
    if args.json:
        print(json.dumps({"tender": binding.tender, "index": share.index, "share": share.value_bytes().hex()}), file=out)
        return 0
    print(text(f"招标项目 {binding.tender} 的托管份额 {share.index}（共 {binding.custodians} 份，{binding.threshold} 份可恢复）",
               f"custodial share {share.index} of {binding.custodians} for tender {binding.tender}, {binding.threshold} needed"), file=out)
    print(text("托管公钥指纹", "custodial key fingerprint") + "：" + grouped(binding.custodial_key), file=out)
    print(share.value_bytes().hex(), file=out)
    return 0


def main(argv: list[str] | None = None, *, out=None) -> int:
    out = out if out is not None else sys.stdout
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return args.run(args, out)
    except custody.CustodyError as error:
        print("错误：" + text("托管份额无效", str(error)), file=sys.stderr)
        return 1
    except (ToolError, keyfile.KeyFileError, OSError) as error:
        print("错误：" + describe_error(error), file=sys.stderr)
        return 1


if __name__ == "__main__":
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    sys.exit(main())
