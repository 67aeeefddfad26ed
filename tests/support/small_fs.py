"""A real, small file system for tests of a full or read-only disk: a tmpfs mounted for one test.

Mounting needs root (CAP_SYS_ADMIN); elsewhere the test is skipped with that
reason. ``fill`` takes every free byte, as a full disk would.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(path: Path, size_kib: int = 512) -> Iterator[Path]:
    """Mount a tmpfs of ``size_kib`` at ``path`` (created) for the block; unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; run the tests as root (CI does)")
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (no CAP_SYS_ADMIN?): {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def fill(path: Path) -> Path:
    """Take all free space on the file system holding ``path``; returns the filler file."""
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 16, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:  # ENOSPC: nothing of this size fits any more
                continue
    finally:
        os.close(fd)
    return filler
