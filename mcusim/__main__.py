"""``python -m mcusim`` and the ``mcusim`` console script: the CLI.

Ctrl-C while the CLI is still being imported (rich, numpy, unicorn take a moment) ends the
program quietly with 130, like Ctrl-C later on (cli.main handles that), never with a traceback
or a crash.
"""

import os
import signal
import sys


def _interrupted_while_starting(signum: int, frame: object) -> None:
    sys.stderr.write("interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def run() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    from . import interrupts
    from .cli import main

    interrupts.install()

    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = main(sys.argv[1:])
    if code == 130:
        # Interrupted: an extension module (numpy, unicorn) may have been stopped half-way
        # through its import, and finalizing it can crash the interpreter. Nothing is left to
        # clean up (reports are written atomically), so leave without finalizing.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    run()
