"""The user's settings: a dataclass tree stored as TOML in the platform config dir.

Reading never fails: unknown keys are ignored (logged), a value of the wrong
type falls back to that field's default with a message, a UTF-8 byte-order
mark is accepted, a file that is not TOML at all is moved aside
(``settings.toml.corrupt-YYYYmmdd-HHMMSS``) and reported, and a config folder
that cannot be used (a file in its place) gives defaults and a message, so
the user loses nothing silently. Writing is atomic (temp file +
``os.replace``). API keys never live here (see ``app.config.secrets``).

This file holds only what the user chose in the window. Environment variables
and command-line flags are laid over it in memory (``app.config.overlay``)
and are never written back.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_type_hints

import tomli_w

from app.agent.phrases import BACKCHANNELS, STOP_PHRASES
from app.config import paths
from app.config.presets import PRESETS

WORDS = tuple[str, ...]  # a list of phrases in the file

log = logging.getLogger(__name__)

FILE_NAME = "settings.toml"


@dataclass
class ProviderSettings:
    preset: str = "openai"
    kind: str = "openai"
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_version: str = ""  # Azure only


@dataclass
class LocalSettings:
    """The in-process llama.cpp model (provider preset "local")."""

    model_path: str = ""  # a .gguf file
    chat_format: str = ""  # "" = the model's own template (GGUF metadata); or a format name
    context_length: int = 4096  # tokens
    threads: int = 0  # 0 = llama.cpp's choice (half the cores)
    max_reply_tokens: int = 1024  # a spoken reply longer than this is cut


@dataclass
class AudioSettings:
    input_device: str = ""  # a device *name* (survives re-plugging); "" = system default
    output_device: str = ""
    input_mode: str = "push_to_talk"  # "push_to_talk" | "hands_free"
    barge_in: bool = True
    hangover_ms: int = 500
    # Shorter pause after a finished sentence, longer mid-phrase, within these bounds.
    adaptive_hangover: bool = True
    hangover_min_ms: int = 200
    hangover_max_ms: int = 1500
    # Smart Turn (assets/models/smart-turn/) confirms or vetoes an end the words suggest.
    # Off by default: on our benchmark audio it vetoed clear ends (1.59 s vs 0.75 s to the
    # request) and kept no more sentences whole (tests/bench/bench_turn_taking.py).
    turn_model: bool = False
    # At a pause that sounds finished, request the reply at once and hold it until the turn
    # is confirmed (app/agent/early_request.py); a request the user talks on over is dropped.
    early_request: bool = True
    # Hands-free: a reply is heard only once I have been quiet this long after speaking (0: at
    # once). It is requested and shown at once; the wait keeps a thinking pause that sounded
    # finished ("Remind me to call …") from being answered aloud (app/agent/reply_pause.py).
    speak_after_ms: int = 1300
    whisper_model: str = "bundled"  # "bundled", a local model directory, or a model name
    speech_output: bool = True
    voice: str = "piper-joe"  # "piper-joe" | "system"
    # Remove the speakers' sound from the microphone (off for a headset: nothing to remove).
    echo_cancellation: bool = True


@dataclass
class SttSettings:
    """Speech recognition on this computer ("local") or on an OpenAI-compatible server."""

    mode: str = "local"  # "local" | "server"
    url: str = ""  # the server's base URL with /v1, e.g. http://localhost:8000/v1
    model: str = "whisper-1"
    timeout_ms: int = 5000  # no answer by then: local Whisper transcribes that utterance


@dataclass
class BargeInSettings:
    """Said alone over a reply, these let it go on (backchannels) or cancel it (stop phrases);
    anything else interrupts it as a new instruction (``app.agent.phrases``)."""

    backchannels: tuple[str, ...] = BACKCHANNELS
    stop_phrases: tuple[str, ...] = STOP_PHRASES


@dataclass
class UiSettings:
    show_latency: bool = True
    close_to_tray: bool = True
    theme: str = "system"  # "system" follows the desktop; "light" | "dark" force one


@dataclass
class AgentSettings:
    system_prompt: str = ""  # "" = the built-in prompt


@dataclass
class HotkeySettings:
    global_hotkey: str = "<ctrl>+<alt>+space"
    enabled: bool = True


@dataclass
class ToolSettings:
    allow_clipboard_read: bool = False
    allow_clipboard_write: bool = False


@dataclass
class Settings:
    provider: ProviderSettings = field(default_factory=ProviderSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    barge_in: BargeInSettings = field(default_factory=BargeInSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    agent: AgentSettings = field(default_factory=AgentSettings)
    hotkey: HotkeySettings = field(default_factory=HotkeySettings)
    tools: ToolSettings = field(default_factory=ToolSettings)
    local: LocalSettings = field(default_factory=LocalSettings)
    stt: SttSettings = field(default_factory=SttSettings)


CHOICES: dict[str, tuple[str, ...]] = {
    "provider.kind": ("openai", "anthropic", "azure", "local"),
    "provider.preset": tuple(p.id for p in PRESETS),
    "audio.input_mode": ("push_to_talk", "hands_free"),
    "audio.voice": ("piper-joe", "system"),
    "ui.theme": ("system", "light", "dark"),
    "stt.mode": ("local", "server"),
}
RANGES: dict[str, tuple[int, int]] = {
    "audio.hangover_ms": (100, 5000),
    "local.context_length": (256, 131072),
    "local.threads": (0, 256),
    "local.max_reply_tokens": (16, 32768),
    "audio.hangover_min_ms": (100, 5000),
    "audio.hangover_max_ms": (100, 5000),
    "audio.speak_after_ms": (0, 3000),
    "stt.timeout_ms": (500, 120000),
}


def tool_permissions(settings: Settings) -> frozenset[str]:
    """The tool permissions granted in Settings (names as in ``app.agent.tools.builtin``)."""
    t = settings.tools
    granted = {"clipboard_read": t.allow_clipboard_read, "clipboard_write": t.allow_clipboard_write}
    return frozenset(name for name, on in granted.items() if on)


def saved_base_urls(settings: Settings) -> dict[str, str]:
    """Preset id → base URL saved in the file (binds API keys saved by earlier versions)."""
    p = settings.provider
    return {p.preset: p.base_url} if p.base_url else {}


@dataclass(frozen=True)
class LoadResult:
    settings: Settings
    messages: tuple[str, ...] = ()  # sentences to show the user
    moved_to: Path | None = None  # where a corrupt file was moved


def settings_path() -> Path:
    return paths.config_dir(strict=False) / FILE_NAME


def load_settings(path: Path | None = None) -> LoadResult:
    path = path or settings_path()
    blocked = paths.not_a_folder(path.parent)
    if blocked:
        log.warning("settings folder unusable: %s", blocked)
        return LoadResult(Settings(), (f"{blocked} Default settings are used for now.",))
    try:
        raw_text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark is fine
    except FileNotFoundError:
        return LoadResult(Settings())
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            return _corrupt(path, "it is not UTF-8 text")
        return LoadResult(
            Settings(), (f"Could not read the settings file {path} ({exc}); using defaults.",)
        )
    try:
        raw = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        return _corrupt(path, str(exc))
    messages: list[str] = []
    settings = _build(Settings, raw, "", messages)
    return LoadResult(settings, tuple(messages))


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically: a crash leaves either the old file or the new one."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = tomli_w.dumps(asdict(settings)).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _corrupt(path: Path, reason: str) -> LoadResult:
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while aside.exists():
        aside = aside.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        n += 1
    try:
        os.replace(path, aside)
    except OSError as exc:
        log.warning("could not move the corrupt settings file aside: %s", exc)
        return LoadResult(
            Settings(),
            (f"The settings file {path} is damaged ({reason}) and defaults are used for now.",),
        )
    log.warning("settings file %s is corrupt (%s); moved to %s", path, reason, aside)
    message = (
        f"Your settings file was damaged ({reason}), so Harken started with default settings. "
        f"The old file was kept as {aside}."
    )
    return LoadResult(Settings(), (message,), moved_to=aside)


def _build(cls: Any, raw: Mapping[str, Any], prefix: str, messages: list[str]) -> Any:
    hints = get_type_hints(cls)
    default = cls()
    values: dict[str, Any] = {}
    known = {f.name for f in fields(cls)}
    for key in raw:
        if key not in known:
            log.info("ignoring unknown setting %s%s", prefix, key)
    for f in fields(cls):
        name = f"{prefix}{f.name}"
        if f.name not in raw:
            continue
        value, typ = raw[f.name], hints[f.name]
        if is_dataclass(typ):
            if isinstance(value, dict):
                values[f.name] = _build(typ, value, f"{name}.", messages)
            else:
                messages.append(f"Setting [{name}] should be a section; using its defaults.")
            continue
        problem = check_value(name, value, typ)
        if problem:
            messages.append(
                f"Setting {name} {problem}; using the default ({getattr(default, f.name)!r})."
            )
            continue
        values[f.name] = tuple(value) if typ == WORDS else value
    return replace(default, **values)


def check_value(name: str, value: Any, typ: Any) -> str | None:
    if typ is bool and not isinstance(value, bool):
        return f"should be true or false, not {value!r}"
    if typ is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"should be a whole number, not {value!r}"
    if typ is str and not isinstance(value, str):
        return f"should be text, not {value!r}"
    if typ == WORDS and (
        not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        return f"should be a list of words or phrases, not {value!r}"
    if name in CHOICES and value not in CHOICES[name]:
        return f"should be one of {', '.join(CHOICES[name])}, not {value!r}"
    if name in RANGES and not RANGES[name][0] <= value <= RANGES[name][1]:
        low, high = RANGES[name]
        return f"should be between {low} and {high}, not {value!r}"
    return None
