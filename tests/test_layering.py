"""audio/ and providers/ must stay free of Qt and of app/ (DESIGN.md layout rule)."""

import subprocess
import sys


def test_core_packages_do_not_import_qt_or_app() -> None:
    code = (
        "import sys, pkgutil, importlib, audio, providers\n"
        "for pkg in (audio, providers):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'qasync', 'app'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported: {out.stdout.strip()}"
