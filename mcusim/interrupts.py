"""Ctrl-C that Python could not deliver.

The CLI turns SIGINT into KeyboardInterrupt, which Python raises wherever the main thread happens
to be. If that is a weakref callback or a ``__del__`` (the import system runs one while it
imports numpy or Unicorn), Python cannot propagate the exception: it prints "Exception ignored
in ..." and goes on, and the user's Ctrl-C would be lost. The CLI's unraisable hook records such an
interrupt quietly instead; the places that wait for long work (the emulation loop, the end of a
command) call :func:`raise_if_lost` and raise it again where it can propagate.
"""

from __future__ import annotations

import sys

_lost = False


def _unraisable(hook_args: sys.UnraisableHookArgs) -> None:
    global _lost
    if hook_args.exc_type is not None and issubclass(hook_args.exc_type, KeyboardInterrupt):
        _lost = True
        return
    sys.__unraisablehook__(hook_args)


def install() -> None:
    """Record KeyboardInterrupts that Python swallows (the CLI calls this; a library user keeps
    their own hook)."""
    sys.unraisablehook = _unraisable


def raise_if_lost() -> None:
    """Raise the KeyboardInterrupt that a swallowing context took, once."""
    global _lost
    if _lost:
        _lost = False
        raise KeyboardInterrupt
