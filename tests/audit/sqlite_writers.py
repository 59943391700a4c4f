"""Helper process for test_concurrency: 8 writer threads appending to the file database in
PLATFORM_DATA_DIR. Usage: python -m tests.audit.sqlite_writers <threads> <events-each>"""

import sys

import django

if __name__ == "__main__":
    django.setup()
    from tests.audit.test_concurrency import _append_concurrently

    _append_concurrently(int(sys.argv[1]), int(sys.argv[2]))
