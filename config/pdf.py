"""PDF basics shared by every document the platform prints (receipts, opening records, reports):
a Chinese font that is embedded in the file, and metadata that says which font was used.

Debian's fonts-wqy-zenhei (installed by `make`) embeds cleanly as a TrueType subset. When it is
missing, reportlab's built-in STSong-Light CID font is used instead: it is NOT embedded (a reader
must supply it), and the PDF's metadata says so.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

WQY_ZENHEI = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FALLBACK = "STSong-Light"
_lock = threading.Lock()
_registered: dict[str, "ChineseFont"] = {}


@dataclass(frozen=True)
class ChineseFont:
    name: str
    embedded: bool

    @property
    def note(self) -> str:
        if self.embedded:
            return f"font: {self.name} (WenQuanYi Zen Hei, embedded subset)"
        return f"font: {FALLBACK} (built-in CID font, not embedded: fonts-wqy-zenhei was missing)"


def chinese_font(path: Path = WQY_ZENHEI) -> ChineseFont:
    """Register (once) and return the font to write Chinese with."""
    key = str(path)
    with _lock:
        font = _registered.get(key)
        if font is None:
            if path.exists():
                pdfmetrics.registerFont(TTFont("WQYZenHei", str(path), subfontIndex=0))
                font = ChineseFont("WQYZenHei", embedded=True)
            else:
                pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
                font = ChineseFont(FALLBACK, embedded=False)
            _registered[key] = font
        return font
