"""The one atomic file writer: wallet files, ledger-account key files, the deployment file, audit bundles.

:func:`write_atomic` writes the bytes to a new file beside the target, flushes and ``fsync``\\ s it, then puts it in
place in one step and ``fsync``\\ s the directory, so a crash or a full disk leaves the old file or the new one, never
a mix, and never a half-written file under the target's name:

* ``replace=True``: ``os.replace`` (an existing file is replaced);
* ``replace=False``: ``os.link``, which fails rather than replace (:class:`FileExistsError`; the caller turns it
  into its own error, ``wallet.exists``, ``keystore.exists``). Two processes creating the same file: one wins.

``mode`` is the new file's permission bits, set exactly (``0o600`` for secrets, whatever the umask); ``None`` lets
the umask decide, as ``open`` would. The temporary file is made with ``O_EXCL | O_NOFOLLOW`` under a random name and
is removed on every path. The directory must exist; I/O errors propagate as :class:`OSError`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["write_atomic"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, replace: bool = True, mode: int | None = 0o600
                 ) -> None:
    """Write ``data`` to ``path`` atomically (module notice). ``replace=False``: :class:`FileExistsError` if
    ``path`` exists."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data is bytes, not {type(data).__name__}")
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, _FLAGS, 0o600 if mode is not None else 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # atomic, and fails rather than replace an existing file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dfd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
