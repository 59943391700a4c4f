"""What the bid tool says. Every message is Chinese first, then English in brackets:
`中文（English）`. The pure modules raise English messages; `describe_error` puts the Chinese
name of the failure in front of them, so a bidder reads what went wrong in either language."""

from __future__ import annotations

from bidding import bidpack, keyfile
from bidding.sealing import header as sealed


def text(zh: str, en: str) -> str:
    return f"{zh}（{en}）"


class ToolError(Exception):
    """A refusal of the tool itself (bad input, a file in the way...): exit code 1."""

    def __init__(self, zh: str, en: str):
        super().__init__(text(zh, en))
        self.zh, self.en = zh, en


class UsageError(ToolError):
    """Options that do not go together: exit code 2, like argparse's own usage errors."""


class Interrupted(ToolError):
    """Ctrl-C, with what it means for the command (exit code 130)."""


# Looked up along the exception's MRO, so the most specific entry wins.
_ERROR_NAMES: dict[type, str] = {
    keyfile.WrongPassphrase: "口令不正确，无法解锁密钥文件",
    keyfile.WeakPassphrase: f"口令太弱，至少需要 {keyfile.MIN_PASSPHRASE_CHARS} 个字符",
    keyfile.TamperedKeyFile: "密钥文件已被改动，不能使用",
    keyfile.UnsupportedKeyFile: "密钥文件的版本或算法不受本工具支持，请更新投标工具",
    keyfile.InvalidJWK: "公钥（JWK）无效",
    keyfile.MalformedKeyFile: "不是有效的投标人密钥文件",
    keyfile.KeyFileError: "密钥文件有误",
    sealed.UnsupportedVersion: "密封投标文件的格式版本不受本工具支持",
    sealed.NotSealed: "不是密封投标文件",
    sealed.Truncated: "密封投标文件不完整（被截断）",
    sealed.MalformedHeader: "密封投标文件的文件头格式错误，文件可能被篡改",
    sealed.SizeMismatch: "密封投标文件的大小与文件头不符，文件可能被篡改",
    sealed.Tampered: "密封投标文件已被篡改",
    sealed.BadSignature: "文件头签名无效，或不是由该签名密钥签署",
    sealed.BindingMismatch: "密封投标文件绑定的项目、标段或投标人不符",
    sealed.WrongKey: "该密封投标文件不是用此密钥密封的",
    sealed.SealedBidError: "密封投标文件有误",
    bidpack.InvalidSummary: "开标一览表（bid.json）不符合要求",
    bidpack.EmptyFolder: "文件夹中没有可打包的文件",
    bidpack.SymlinkInFolder: "文件夹中有符号链接，请复制文件本身",
    bidpack.FileChanged: "打包过程中文件被改动",
    bidpack.PackFolderError: "该文件夹无法打包",
    bidpack.PriceMismatch: "大写金额与小写金额不一致",
    bidpack.MissingDocument: "投标包缺少 bid.json 中列出的文件",
    bidpack.UnlistedFile: "投标包含有 bid.json 未列出的文件",
    bidpack.DocumentMismatch: "投标包中的文件与 bid.json 记录的大小或 SHA-256 不符",
    bidpack.BidPackError: "投标包（ZIP）无效",
}


def describe_error(error: BaseException) -> str:
    if isinstance(error, ToolError):
        return str(error)
    if isinstance(error, FileNotFoundError):
        return text(f"文件不存在：{error.filename}", f"file not found: {error.filename}")
    if isinstance(error, IsADirectoryError):
        return text(f"这是文件夹，不是文件：{error.filename}", f"is a folder, not a file: {error.filename}")
    if isinstance(error, PermissionError):
        return text(f"没有权限：{error.filename}", f"permission denied: {error.filename}")
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return text("读写文件失败", f"{where}{error.strerror or error}")
    zh = next((_ERROR_NAMES[cls] for cls in type(error).__mro__ if cls in _ERROR_NAMES), "出错")
    return text(zh, str(error))


def grouped(fingerprint: str) -> str:
    """A 64-hex-digit fingerprint in groups of four, easy to read aloud and compare."""
    return " ".join(fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4))


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor:
            return f"{n:,} B = {n / factor:.1f} {unit}"
    raise AssertionError


def yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d} 元"
