"""Fetch the Smart Turn v3.2 end-of-turn model (and its licence) into assets/models/smart-turn/.

The model ships inside the ``pipecat-ai`` wheel (BSD-2-Clause). Harken does not
depend on pipecat (its dependencies are heavy): this downloads the pinned wheel
with ``pip download --no-deps``, checks its hash, and extracts the ONNX file and
the licence. Idempotent: nothing is downloaded when the file is already there
with the right hash. Without the model Harken still runs; pauses are then
judged by the words alone. Exit code 0 on success or when already present, 1
when it could not be fetched (setup.sh goes on with a warning).

    python scripts/fetch_smart_turn.py [--dest DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "pipecat_ai-1.14.0-py3-none-any.whl"
REQUIREMENT = "pipecat-ai==1.14.0"
WHEEL_SHA256 = "0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44"
MEMBER = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
LICENCE_MEMBER = "pipecat_ai-1.14.0.dist-info/licenses/LICENSE"
DEFAULT_DEST = Path(__file__).resolve().parents[1] / "assets" / "models" / "smart-turn"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def present(dest: Path) -> bool:
    model = dest / Path(MEMBER).name
    return model.is_file() and (dest / "LICENSE").is_file() and sha256(model) == MODEL_SHA256


def fetch(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "-d", tmp, REQUIREMENT],
            check=True,
        )  # fmt: skip
        wheel = Path(tmp) / WHEEL
        if sha256(wheel) != WHEEL_SHA256:
            raise RuntimeError(f"{WHEEL} does not have the expected hash")
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            licence = archive.read(LICENCE_MEMBER)
            (dest / Path(MEMBER).name).write_bytes(archive.read(MEMBER))
        notice = (
            "smart-turn-v3.2-cpu.onnx: Smart Turn v3.2 by Daily, extracted from the "
            f"{WHEEL} wheel (pipecat/audio/turn/smart_turn/data/).\n\n"
        )
        (dest / "LICENSE").write_bytes(notice.encode() + licence)
    if not present(dest):
        raise RuntimeError("the extracted model does not have the expected hash")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    args = parser.parse_args()
    if present(args.dest):
        return 0
    try:
        fetch(args.dest)
    except (subprocess.CalledProcessError, RuntimeError, OSError, KeyError) as exc:
        print(f"fetch_smart_turn: could not fetch the end-of-turn model: {exc}", file=sys.stderr)
        return 1
    print(f"fetch_smart_turn: {args.dest / Path(MEMBER).name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
