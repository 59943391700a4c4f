"""The bid tool, `python -m bidding.tool`: runs on the bidder's machine without Django settings.

It imports nothing from Django (tests/bidding/test_tool.py checks), only the pure modules:
bidding.keyfile, bidding.sealing, bidding.bidpack. Usage: docs/bid-tool.md."""

from bidding.tool.cli import main

__all__ = ["main"]
