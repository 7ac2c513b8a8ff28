"""Files written crash-safely: a temporary file in the same folder, fsync, then `os.replace`."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO


@contextlib.contextmanager
def replaced_atomically(target: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces `target` once the block ends without an exception.

    Readers see the old file or the whole new one, never part of it. On failure the temporary file
    (".<name>.<random><suffix>" beside `target`) is removed and the exception propagates.

    Raises:
        OSError: the file cannot be written or swapped in.
    """
    target = os.fspath(target)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(target)),
                               prefix=f".{os.path.basename(target)}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
