"""``python -m mcusim``: the CLI (useful from a checkout or worktree without reinstalling)."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
