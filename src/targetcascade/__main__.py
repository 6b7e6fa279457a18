"""``python -m targetcascade``: the command line (see :mod:`targetcascade.cli`)."""

from __future__ import annotations

import sys

from targetcascade.cli import main

if __name__ == "__main__":
    sys.exit(main())
