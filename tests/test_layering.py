"""The layering rules of DESIGN.md, checked by importing every module in a fresh process.

- ``audio/`` and ``providers/`` import neither Qt nor ``app``;
- the agent core, configuration, runtime and self-test parts of ``app`` import no Qt
  (only ``app.desktop`` does);
- loading Whisper does not load the HTTP stack (the cancellation token is light).
"""

import subprocess
import sys

QT = ("PySide6", "qasync", "shiboken6")


def _imported_after(packages: list[str], banned: tuple[str, ...]) -> list[str]:
    code = (
        "import sys, pkgutil, importlib\n"
        f"for name in {packages!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {banned!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [name for name in out.stdout.strip().split(",") if name]


def test_core_packages_do_not_import_qt_or_app() -> None:
    assert _imported_after(["audio", "providers"], (*QT, "app")) == []


def test_the_app_outside_the_desktop_imports_no_qt() -> None:
    packages = ["app.agent", "app.config", "app.runtime", "app.selftest"]
    assert _imported_after(packages, QT) == []


def test_loading_whisper_does_not_load_the_http_stack() -> None:
    code = "import sys, audio.transcriber; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
