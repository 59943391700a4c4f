"""keygen and show-key: the bidder's key file (docs/bidder-key-file.md), made and read offline."""

from __future__ import annotations

import json
from pathlib import Path

from bidding import keyfile
from bidding.tool import files
from bidding.tool.messages import ToolError, grouped, text


def keygen(args, out) -> int:
    target = Path(args.out)
    files.refuse_existing(target, force=False)  # before asking for a passphrase
    secret = files.passphrase(args.passphrase_env, confirm=True)
    try:
        data = keyfile.generate(secret, label=args.label, iterations=args.iterations)
    except keyfile.WeakPassphrase:
        raise
    except ValueError as error:  # a label or iteration count keyfile refuses
        raise ToolError("参数无效", str(error)) from None
    with files.OutputFile(target) as f:
        f.write(data)
    public = keyfile.load_public(data)
    print(text(f"已生成密钥文件：{target}", f"key file created: {target}"), file=out)
    _print_public(public, out)
    print(
        text(
            "请备份此文件并牢记口令：二者缺一，开标时就无法解密您的投标文件。只向平台登记公钥",
            "back up this file and keep the passphrase: without both, your sealed bids cannot be opened. "
            "Register only the public keys with the platform",
        ),
        file=out,
    )
    return 0


def show_key(args, out) -> int:
    public = keyfile.load_public(files.read_bytes(args.keyfile, limit=keyfile.MAX_FILE_BYTES))
    if args.json:
        document = {
            "label": public.label,
            "created": public.created.isoformat().replace("+00:00", "Z"),
            "decryption": keyfile.public_jwk(public.decryption),
            "signing": keyfile.public_jwk(public.signing),
            "fingerprints": {"decryption": public.fingerprints.decryption, "signing": public.fingerprints.signing},
        }
        print(json.dumps(document, ensure_ascii=False, indent=2), file=out)
        return 0
    print(text(f"密钥文件：{args.keyfile}", f"key file: {args.keyfile}"), file=out)
    _print_public(public, out)
    print(text("解密公钥 JWK", "decryption public key, JWK") + "：" + json.dumps(keyfile.public_jwk(public.decryption)), file=out)
    print(text("签名公钥 JWK", "signing public key, JWK") + "：" + json.dumps(keyfile.public_jwk(public.signing)), file=out)
    return 0


def _print_public(public: keyfile.PublicKeys, out) -> None:
    print(text("标签", "label") + "：" + (public.label or "—"), file=out)
    print(text("创建时间", "created") + "：" + public.created.isoformat().replace("+00:00", "Z"), file=out)
    print(text("解密密钥指纹", "decryption key fingerprint") + "：" + grouped(public.fingerprints.decryption), file=out)
    print(text("签名密钥指纹", "signing key fingerprint") + "：" + grouped(public.fingerprints.signing), file=out)
