"""The user's settings: a dataclass tree stored as TOML in the platform config dir.

Reading never fails: unknown keys are ignored (logged), a value of the wrong
type falls back to that field's default with a message, and a file that is
not TOML at all is moved aside (``settings.toml.corrupt-YYYYmmdd-HHMMSS``) and
reported, so the user loses nothing silently. Writing is atomic (temp file +
``os.replace``). API keys never live here (see ``app.config.secrets``).

Environment variables override the file and command-line flags override both
(``resolve``); overridden values are for this run only and never saved back.
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

from app.config import paths

log = logging.getLogger(__name__)

FILE_NAME = "settings.toml"


@dataclass(frozen=True)
class Preset:
    """A provider the settings dialog offers; ``base_url`` follows the official SDKs."""

    id: str
    label: str
    kind: str  # "openai" | "anthropic" | "azure" | "local"
    base_url: str
    default_model: str = ""
    needs_key: bool = True


CLAUDE = "claude-3-5-haiku-latest"
PRESETS: tuple[Preset, ...] = (
    Preset("openai", "OpenAI", "openai", "https://api.openai.com/v1", "gpt-4o-mini"),
    Preset("anthropic", "Anthropic", "anthropic", "https://api.anthropic.com", CLAUDE),
    Preset("azure", "Azure OpenAI", "azure", "", ""),
    Preset("ollama", "Ollama", "openai", "http://localhost:11434/v1", needs_key=False),
    Preset("lmstudio", "LM Studio", "openai", "http://localhost:1234/v1", needs_key=False),
    Preset("llamacpp", "llama.cpp server", "openai", "http://localhost:8080/v1", needs_key=False),
    Preset("local", "Local model (in-process)", "local", "", needs_key=False),
    Preset("custom", "Custom OpenAI-compatible", "openai", "", needs_key=False),
)
KIND_DEFAULT_PRESET = {
    "openai": "openai",
    "anthropic": "anthropic",
    "azure": "azure",
    "local": "local",
}
API_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
}
AZURE_DEFAULT_API_VERSION = "2024-10-21"
CUSTOM = next(p for p in PRESETS if p.id == "custom")


def preset(preset_id: str) -> Preset:
    """The preset with this id; the custom preset for an unknown id."""
    for p in PRESETS:
        if p.id == preset_id:
            return p
    return CUSTOM


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
    hangover_min_ms: int = 400
    hangover_max_ms: int = 1200
    whisper_model: str = "bundled"  # "bundled", a local model directory, or a model name
    speech_output: bool = True
    voice: str = "piper-joe"  # "piper-joe" | "system"


@dataclass
class SttSettings:
    """Speech recognition on this computer ("local") or on an OpenAI-compatible server."""

    mode: str = "local"  # "local" | "server"
    url: str = ""  # the server's base URL with /v1, e.g. http://localhost:8000/v1
    model: str = "whisper-1"
    timeout_ms: int = 5000  # no answer by then: local Whisper transcribes that utterance


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
    "stt.timeout_ms": (500, 120000),
}


def tool_permissions(settings: Settings) -> frozenset[str]:
    """The tool permissions granted in Settings (names as in ``app.agent.tools.builtin``)."""
    t = settings.tools
    granted = {"clipboard_read": t.allow_clipboard_read, "clipboard_write": t.allow_clipboard_write}
    return frozenset(name for name, on in granted.items() if on)


@dataclass(frozen=True)
class LoadResult:
    settings: Settings
    messages: tuple[str, ...] = ()  # sentences to show the user
    moved_to: Path | None = None  # where a corrupt file was moved


def settings_path() -> Path:
    return paths.config_dir() / FILE_NAME


def load_settings(path: Path | None = None) -> LoadResult:
    path = path or settings_path()
    try:
        raw_text = path.read_bytes().decode("utf-8")
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
        problem = _check(name, value, typ)
        if problem:
            messages.append(
                f"Setting {name} {problem}; using the default ({getattr(default, f.name)!r})."
            )
            continue
        values[f.name] = value
    return replace(default, **values)


def _check(name: str, value: Any, typ: Any) -> str | None:
    if typ is bool and not isinstance(value, bool):
        return f"should be true or false, not {value!r}"
    if typ is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"should be a whole number, not {value!r}"
    if typ is str and not isinstance(value, str):
        return f"should be text, not {value!r}"
    if name in CHOICES and value not in CHOICES[name]:
        return f"should be one of {', '.join(CHOICES[name])}, not {value!r}"
    if name in RANGES and not RANGES[name][0] <= value <= RANGES[name][1]:
        low, high = RANGES[name]
        return f"should be between {low} and {high}, not {value!r}"
    return None


# -- environment and command-line overrides ----------------------------------------------

ENV_VARS = (
    "HARKEN_PROVIDER",
    "HARKEN_BASE_URL",
    "HARKEN_MODEL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
    "HARKEN_LOCAL_MODEL",
    "HARKEN_STT_URL",
)
# Flat command-line names → dotted setting paths ("provider" and "api_key" are special).
FLAG_FIELDS = {
    "base_url": "provider.base_url",
    "model": "provider.model",
    "api_version": "provider.api_version",
    "input_device": "audio.input_device",
    "output_device": "audio.output_device",
    "input_mode": "audio.input_mode",
    "barge_in": "audio.barge_in",
    "hangover_ms": "audio.hangover_ms",
    "adaptive_hangover": "audio.adaptive_hangover",
    "whisper_model": "audio.whisper_model",
    "speech_output": "audio.speech_output",
    "system_prompt": "agent.system_prompt",
    "local_model": "local.model_path",
    "chat_format": "local.chat_format",
    "context_length": "local.context_length",
    "threads": "local.threads",
    "stt_url": "stt.url",
    "stt_model": "stt.model",
}


@dataclass(frozen=True)
class Resolved:
    """Settings in effect for this run. ``overridden`` lists the dotted fields set by the
    environment or flags (the dialog shows them as such); ``api_key`` is the key given by a
    flag or environment variable, or None (then the keyring's key is used)."""

    settings: Settings
    api_key: str | None = None
    api_key_source: str | None = None
    overridden: frozenset[str] = frozenset()


class OverrideError(ValueError):
    """A flag or environment variable with a value Harken cannot use."""


def resolve(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Resolved:
    """File < environment < flags. ``overrides`` takes flat flag names (``model``,
    ``base_url``, ``provider``, ``api_key``…, see FLAG_FIELDS) or dotted paths
    (``audio.barge_in``); None values mean "not given". Raises OverrideError."""
    env = os.environ if env is None else env
    s = _copy(settings)
    touched: set[str] = set()
    key: str | None = None
    key_source: str | None = None

    if env.get("HARKEN_PROVIDER"):
        _switch_provider(s, env["HARKEN_PROVIDER"], "HARKEN_PROVIDER", touched)
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "local_model" in flags and "provider" not in flags:
        flags["provider"] = "local"  # --local-model alone means "reply with this model"
    if "provider" in flags:
        _switch_provider(s, str(flags.pop("provider")), "--provider", touched)

    kind = s.provider.kind
    kind_url = {"openai": "OPENAI_BASE_URL", "azure": "AZURE_OPENAI_ENDPOINT"}.get(kind)
    for var, path in (
        (kind_url, "provider.base_url"),
        ("HARKEN_BASE_URL", "provider.base_url"),
        ("HARKEN_MODEL", "provider.model"),
        ("OPENAI_API_VERSION" if kind == "azure" else None, "provider.api_version"),
        ("HARKEN_LOCAL_MODEL", "local.model_path"),
        ("HARKEN_STT_URL", "stt.url"),
    ):
        if var and env.get(var):
            _set(s, path, env[var], var)
            touched.add(path)
    key_var = API_KEY_ENV.get(kind)
    if key_var and env.get(key_var):
        key, key_source = env[key_var], key_var

    if "api_key" in flags:
        key, key_source = str(flags.pop("api_key")), "--api-key"
    for name, value in flags.items():
        path = FLAG_FIELDS.get(name, name)
        _set(s, path, value, f"--{name.replace('_', '-')}")
        touched.add(path)
    if s.provider.kind == "azure" and not s.provider.api_version:
        s.provider.api_version = AZURE_DEFAULT_API_VERSION
    if "stt.url" in touched and s.stt.url.strip():  # a server URL given means "use it"
        s.stt.mode = "server"
        touched.add("stt.mode")
    return Resolved(s, key, key_source, frozenset(touched))


def _copy(settings: Settings) -> Settings:
    return Settings(**{f.name: replace(getattr(settings, f.name)) for f in fields(settings)})


def _switch_provider(s: Settings, value: str, source: str, touched: set[str]) -> None:
    value = value.strip().lower()
    ids = {p.id for p in PRESETS}
    if value in KIND_DEFAULT_PRESET:
        if s.provider.kind == value:
            return  # already that kind (perhaps through a local preset): keep the details
        chosen = preset(KIND_DEFAULT_PRESET[value])
    elif value in ids:
        chosen = preset(value)
    else:
        raise OverrideError(
            f"{source}={value!r} is not a provider Harken knows: use openai, anthropic, "
            f"azure or local (or a preset: {', '.join(sorted(ids))})."
        )
    if s.provider.preset == chosen.id:
        return
    s.provider = ProviderSettings(
        preset=chosen.id, kind=chosen.kind, base_url=chosen.base_url, model=chosen.default_model
    )
    touched.update({"provider.preset", "provider.kind", "provider.base_url", "provider.model"})


def _set(s: Settings, path: str, value: Any, source: str) -> None:
    section_name, _, name = path.partition(".")
    section = getattr(s, section_name, None)
    names = {f.name for f in fields(section)} if is_dataclass(section) else set()
    if section is None or name not in names:
        raise OverrideError(f"{source}: there is no setting called {path!r}.")
    typ = get_type_hints(type(section))[name]
    if typ is int and isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise OverrideError(f"{source} needs a whole number, not {value!r}.") from None
    if typ is str and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    problem = _check(path, value, typ)
    if problem:
        raise OverrideError(f"{source}: {path} {problem}.")
    setattr(section, name, value)
