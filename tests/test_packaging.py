"""The packaging files that do not need a built bundle: install/uninstall, the desktop entry,
the macOS Info.plist template and the debug-info stripper.

The bundle itself is built and run (``--self-test``) by ``.ci/run`` after the
test suite; here ``install.sh`` gets a stand-in bundle (an executable that
answers ``--version`` and the icon it ships), since what the script does is
copy files and write the menu entry.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import plistlib
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


def _load_strip_debug() -> Any:
    # packaging/ is not a Python package (it would shadow PyPI's ``packaging``): load the file.
    spec = importlib.util.spec_from_file_location("strip_debug", PACKAGING / "strip_debug.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


strip_debug = _load_strip_debug()
has_debug_info, strip_tree = strip_debug.has_debug_info, strip_debug.strip_tree


def desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


@pytest.fixture
def fake_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "dist" / "harken"
    icon_dir = bundle / "_internal" / "assets" / "icons"
    icon_dir.mkdir(parents=True)
    shutil.copy(ROOT / "assets" / "icons" / "harken.svg", icon_dir / "harken.svg")
    exe = bundle / "harken"
    exe.write_text('#!/bin/sh\n[ "$1" = --version ] && echo "harken 9.9.9"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return bundle


def run_script(name: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    return subprocess.run(
        ["bash", str(PACKAGING / name), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_install_puts_bundle_command_entry_and_icon_in_the_users_folders(
    fake_bundle: Path, tmp_path: Path
) -> None:
    home = tmp_path / "user"
    home.mkdir()
    done = run_script("install.sh", str(fake_bundle), home=home)
    assert done.returncode == 0, done.stderr
    assert "harken 9.9.9 installed" in done.stdout
    lib = home / ".local" / "lib" / "harken"
    command = home / ".local" / "bin" / "harken"
    assert command.is_symlink() and command.resolve() == (lib / "harken").resolve()
    out = subprocess.run([str(command), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "harken 9.9.9"
    icon = home / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "harken.svg"
    assert icon.read_bytes() == (ROOT / "assets" / "icons" / "harken.svg").read_bytes()
    entry = desktop_entry(home / ".local" / "share" / "applications" / "harken.desktop")
    assert entry["Exec"] == f'"{lib / "harken"}"'  # absolute: ~/.local/bin may not be on PATH
    assert entry["TryExec"] == str(lib / "harken")
    assert entry["Icon"] == icon.stem


def test_reinstall_replaces_the_bundle_and_uninstall_keeps_user_data_unless_purged(
    fake_bundle: Path, tmp_path: Path
) -> None:
    home = tmp_path / "user"
    home.mkdir()
    assert run_script("install.sh", str(fake_bundle), home=home).returncode == 0
    lib = home / ".local" / "lib" / "harken"
    (lib / "_internal" / "stale.txt").write_text("from an older version")
    assert run_script("install.sh", str(fake_bundle), home=home).returncode == 0
    assert not (lib / "_internal" / "stale.txt").exists()

    history = home / ".local" / "share" / "harken" / "history.sqlite3"
    settings = home / ".config" / "harken" / "settings.toml"
    for path in (history, settings):
        path.parent.mkdir(parents=True)
        path.write_text("the user's")
    done = run_script("uninstall.sh", home=home)
    assert done.returncode == 0, done.stderr
    assert not lib.exists()
    assert not (home / ".local" / "bin" / "harken").exists()
    assert not (home / ".local" / "share" / "applications" / "harken.desktop").exists()
    assert history.exists() and settings.exists()
    assert "--purge" in done.stdout

    done = run_script("uninstall.sh", "--purge", home=home)
    assert done.returncode == 0, done.stderr
    assert not history.exists() and not settings.exists()


def test_uninstall_leaves_a_harken_command_it_did_not_install(tmp_path: Path) -> None:
    home = tmp_path / "user"
    other = home / ".local" / "bin" / "harken"
    other.parent.mkdir(parents=True)
    other.write_text("#!/bin/sh\n# someone's own harken\n")
    assert run_script("uninstall.sh", home=home).returncode == 0
    assert other.exists()


def test_install_without_a_bundle_says_how_to_build_one(tmp_path: Path) -> None:
    done = run_script("install.sh", str(tmp_path / "missing"), home=tmp_path)
    assert done.returncode == 1
    assert "packaging/build.sh" in done.stderr


def test_desktop_entry_template() -> None:
    entry = desktop_entry(PACKAGING / "harken.desktop")
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Harken"
    assert entry["Icon"] == "harken" and (ROOT / "assets" / "icons" / "harken.svg").is_file()
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    validator = shutil.which("desktop-file-validate")
    if validator:  # desktop-file-utils, when installed, checks the whole specification
        done = subprocess.run([validator, str(PACKAGING / "harken.desktop")], capture_output=True)
        assert done.returncode == 0, done.stdout


def test_macos_info_plist_declares_the_microphone_use() -> None:
    with (PACKAGING / "Info.plist").open("rb") as f:
        plist = plistlib.load(f)
    assert plist["CFBundleExecutable"] == "harken"
    assert plist["NSMicrophoneUsageDescription"].strip()
    assert plist["NSHighResolutionCapable"] is True


@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("strip") is None, reason="no cc")
def test_strip_debug_removes_debug_info_but_not_from_vendored_wheel_libraries(
    tmp_path: Path,
) -> None:
    source = tmp_path / "lib.c"
    source.write_text("int answer(void) { return 42; }\n")
    own = tmp_path / "bundle" / "pkg" / "_ext.so"
    vendored = tmp_path / "bundle" / "pkg.libs" / "libvendored.so"
    plain = tmp_path / "bundle" / "libplain.so"
    for path, flags in ((own, ["-g"]), (vendored, ["-g"]), (plain, [])):
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cc", *flags, "-shared", "-fPIC", str(source), "-o", str(path)], check=True)
    assert has_debug_info(own) and has_debug_info(vendored) and not has_debug_info(plain)
    assert not has_debug_info(source)  # not an ELF file at all
    plain_bytes = plain.read_bytes()

    count, saved = strip_tree(tmp_path / "bundle")

    assert count == 1 and saved > 0
    assert not has_debug_info(own)
    assert has_debug_info(vendored)  # *.libs/ is left alone (patchelf-ed by auditwheel)
    assert plain.read_bytes() == plain_bytes
    symbols = subprocess.run(["nm", "-D", str(own)], capture_output=True, text=True, check=True)
    assert "answer" in symbols.stdout  # --strip-debug keeps the symbols
