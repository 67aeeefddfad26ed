"""The providers the settings dialog offers, and what each needs (base URL, key variable).

A preset is a name for a known service: its kind of wire format, its official
base URL (following the vendors' SDKs) and a default model. Settings store the
preset id; the overlay (``app.config.overlay``) switches presets for
``--provider``/``HARKEN_PROVIDER``.
"""

from __future__ import annotations

from dataclasses import dataclass


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
