"""Files the bid tool reads and writes, and passphrases.

Every output is written to a hidden temporary file next to its destination and only given its
name once complete, so a refused or interrupted command leaves no output file behind, and an
existing file is never overwritten unless the command allows --force (keygen never does: losing
a key file makes the bidder's sealed bids unreadable)."""

from __future__ import annotations

import getpass
import json
import os
import tempfile
from pathlib import Path

from bidding.tool.messages import ToolError


class OutputFile:
    """`with OutputFile(path) as f:` writes `path` on success, and nothing at all on failure.

    The temporary file is created with mode 0600: key files and plaintext bids are secret."""

    def __init__(self, path: str | os.PathLike, *, force: bool = False):
        self.path = Path(path)
        self.force = force
        self._temp: str | None = None
        self.file = None
        refuse_existing(self.path, force=force)

    def __enter__(self):
        directory = self.path.parent
        if not directory.is_dir():
            raise ToolError(f"输出文件夹不存在：{directory}", f"the output folder does not exist: {directory}")
        descriptor, self._temp = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".partial")
        self.file = os.fdopen(descriptor, "w+b")
        return self.file

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.file.flush()
                os.fsync(self.file.fileno())
            self.file.close()
            if exc_type is None:
                self._publish()
        finally:
            if self._temp is not None and os.path.exists(self._temp):
                os.unlink(self._temp)
        return False

    def _publish(self) -> None:
        if self.force:
            os.replace(self._temp, self.path)
            return
        try:
            # A hard link never replaces an existing name: no race with another writer.
            os.link(self._temp, self.path)
        except FileExistsError:
            refuse_existing(self.path, force=False)
        except OSError:
            # File systems without hard links (some network or FAT drives).
            refuse_existing(self.path, force=False)
            os.rename(self._temp, self.path)


def refuse_existing(path: Path, *, force: bool) -> None:
    if path.is_dir():
        raise ToolError(f"输出路径是一个文件夹：{path}", f"the output path is a folder: {path}")
    if path.exists() and not force:
        raise ToolError(
            f"输出文件已存在，不会覆盖：{path}", f"the output file already exists and is not overwritten: {path}"
        )


def read_bytes(path: str | os.PathLike, *, limit: int | None = None) -> bytes:
    with open(path, "rb") as f:
        data = f.read(limit + 1 if limit is not None else -1)
    if limit is not None and len(data) > limit:
        raise ToolError(f"文件太大：{path}", f"the file is too large: {path}")
    return data


def read_json(path: str | os.PathLike, what_zh: str, what_en: str) -> object:
    data = read_bytes(path, limit=1 << 20)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ToolError(f"{what_zh}不是有效的 UTF-8 JSON：{path}", f"the {what_en} is not valid UTF-8 JSON: {error}") from None


def passphrase(env_var: str | None, *, confirm: bool = False) -> str:
    """From the environment variable named by --passphrase-env (for scripts and tests), else typed
    at a prompt without echo; twice when creating a key file."""
    if env_var:
        value = os.environ.get(env_var)
        if value is None:
            raise ToolError(f"环境变量 {env_var} 未设置", f"the environment variable {env_var} is not set")
        return value
    try:
        first = getpass.getpass("口令（passphrase）: ")
        second = getpass.getpass("再次输入口令（passphrase again）: ") if confirm else first
    except EOFError:  # no terminal and nothing on stdin
        raise ToolError("未输入口令；在脚本中请用 --passphrase-env", "no passphrase given; in scripts use --passphrase-env") from None
    if first != second:
        raise ToolError("两次输入的口令不一致", "the two passphrases differ")
    return first
