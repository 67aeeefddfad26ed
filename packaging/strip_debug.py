"""Remove debugging information from the bundle's own native files (build.sh runs it).

Some libraries arrive with their DWARF debug sections: libpython from a
source-built interpreter (pyenv) and ctranslate2's extension module alone
carry ~85 MB nobody uses at run time. PyInstaller's ``strip=True`` strips every
binary, and that breaks the libraries that wheels vendor under ``<pkg>.libs/``
(auditwheel rewrote them with patchelf, and ``strip`` then produces "ELF load
command address/offset not page-aligned" — numpy's OpenBLAS fails to load).
So this strips only ELF files that do have a ``.debug_info`` section, only
with ``--strip-debug`` (symbols stay), and never inside a ``*.libs`` folder.

    python packaging/strip_debug.py dist/harken
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path


def has_debug_info(path: Path) -> bool:
    """True for a 64-bit little-endian ELF file with a ``.debug_info`` section."""
    try:
        with path.open("rb") as f:
            header = f.read(64)
            if len(header) < 64 or header[:4] != b"\x7fELF" or header[4:6] != b"\x02\x01":
                return False
            (shoff,) = struct.unpack_from("<Q", header, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", header, 0x3A)
            if not shoff or not shnum or shstrndx >= shnum:
                return False
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            names_offset, names_size = struct.unpack_from("<QQ", table, shstrndx * shentsize + 0x18)
            f.seek(names_offset)
            names = f.read(names_size)
    except (OSError, struct.error):
        return False
    for index in range(shnum):
        (name_at,) = struct.unpack_from("<I", table, index * shentsize)
        if names[name_at : names.find(b"\0", name_at)] == b".debug_info":
            return True
    return False


def strip_tree(root: Path) -> tuple[int, int]:
    """Strip debug info below ``root``; returns (files stripped, bytes saved)."""
    strip = shutil.which("strip")
    if strip is None:
        print(
            "strip_debug: `strip` (binutils) is not installed; bundle left as is", file=sys.stderr
        )
        return 0, 0
    count = saved = 0
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if any(part.endswith(".libs") for part in path.relative_to(root).parts):
            continue  # patchelf-ed wheel libraries: strip would break them
        if not has_debug_info(path):
            continue
        before = path.stat().st_size
        subprocess.run([strip, "--strip-debug", str(path)], check=True)
        count += 1
        saved += before - path.stat().st_size
    return count, saved


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: strip_debug.py BUNDLE_DIR", file=sys.stderr)
        return 2
    count, saved = strip_tree(Path(argv[0]))
    print(f"strip_debug: removed {saved / 1e6:.0f} MB of debug info from {count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
