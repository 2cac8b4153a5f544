"""Atomic file writes: the one place that writes a file so no reader ever sees it half-written.

Every report, generated source and cached build product goes through here: the content lands
in a temporary file in the destination's directory and is renamed over the destination (a rename
within one file system is atomic). Report files get the permissions a plain ``open()`` would
give them (0666 less the umask); cache products keep the temporary file's owner-only mode.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import McusimError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def replacing(path: Path | str, *, public: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an exception the
    temporary file replaces ``path``, otherwise it is removed. ``public``: give the file the
    umask's permissions (reports) instead of mkstemp's 0600 (cache products)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise McusimError(f"cannot write {path}: {e.strerror}") from None
    os.close(fd)
    try:
        yield Path(tmp)
        if public:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: Path | str, data: str | bytes, *, public: bool = True) -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically; returns ``path``."""
    with replacing(path, public=public) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data)
    return Path(path)


def write_if_changed(path: Path | str, text: str) -> Path:
    """Write ``text`` atomically unless ``path`` already holds it (keeps mtimes, and so make,
    quiet; a concurrent build never compiles a half-written file)."""
    path = Path(path)
    if not (path.is_file() and path.read_text() == text):
        write_atomic(path, text)
    return path
