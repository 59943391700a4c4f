import sys

from bidding.tool.cli import main

if __name__ == "__main__":
    for stream in (sys.stdout, sys.stderr):
        # A console that cannot show Chinese gets escapes instead of a crash.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    sys.exit(main())
