"""The ``harken`` command: the desktop app, or ``--headless`` for scripts and tests."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from app.runtime.exit_codes import EPILOG as EXIT_CODES
from app.runtime.exit_codes import EXIT_SIGNAL_BASE, EXIT_USAGE
from app.version import app_version

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="harken",
        description="A desktop voice assistant you can talk over.",
        epilog="Environment: OPENAI_API_KEY, OPENAI_BASE_URL, ANTHROPIC_API_KEY, "
        "AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION, HARKEN_PROVIDER, "
        "HARKEN_BASE_URL, HARKEN_MODEL, HARKEN_LOCAL_MODEL, HARKEN_STT_URL, HARKEN_STT_API_KEY "
        f"override the settings file; flags override both. {EXIT_CODES}",
    )
    p.add_argument("--version", action="version", version=f"harken {app_version()}")
    p.add_argument("--headless", action="store_true", help="run without a window, JSON on stdout")
    p.add_argument("--list-devices", action="store_true", help="list audio devices and exit")
    p.add_argument(
        "--self-test",
        action="store_true",
        help="check the models, speech, streaming and folders; exit 0 when all pass",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    g = p.add_argument_group("input (headless)")
    g.add_argument("--input", metavar="FILE", help="read an audio file as the microphone")
    g.add_argument("--realtime", action="store_true", help="pace --input like a live microphone")
    g.add_argument("--say", metavar="TEXT", action="append", help="run a typed turn (repeatable)")
    g.add_argument(
        "--no-barge-in", action="store_true", help="queue speech instead of interrupting"
    )
    g.add_argument("--no-tts", action="store_true", help="do not speak replies")
    g.add_argument(
        "--no-echo-cancellation",
        action="store_true",
        help="do not remove the speakers' sound from the microphone (for a headset)",
    )
    g.add_argument("--hangover-ms", type=int, default=None, help="silence that ends an utterance")
    g.add_argument(
        "--fixed-hangover",
        action="store_true",
        help="always wait --hangover-ms, whatever the words so far (no adaptive end of turn)",
    )
    g.add_argument(
        "--turn-model",
        action="store_true",
        help="let the Smart Turn audio model confirm or veto the end of a turn (off by default)",
    )
    g.add_argument(
        "--no-early-request",
        action="store_true",
        help="wait for the end of a turn before requesting the reply (no early request at a "
        "pause that sounds finished)",
    )
    g.add_argument(
        "--speak-after-ms",
        type=int,
        default=None,
        help="hands-free: speak a reply only once you have been quiet this long after "
        "speaking (0: at once; default 1300)",
    )
    g.add_argument(
        "--no-speculation",
        action="store_true",
        help="transcribe only after the hangover (no speculative passes, no partial transcripts)",
    )
    g.add_argument(
        "--loop-lag",
        action="store_true",
        help="measure the event loop's worst stall; report it as a loop_lag event at the end",
    )
    g.add_argument("--input-device", help="microphone name or index")
    g.add_argument("--output-device", help="speaker name or index")
    g.add_argument("--whisper-model", help="'bundled', a model directory, or a model name")
    g.add_argument(
        "--stt-url",
        metavar="URL",
        help="transcribe on this OpenAI-compatible server (base URL with /v1, e.g. "
        "http://localhost:8000/v1); local Whisper covers for it when it fails",
    )
    g.add_argument("--stt-model", help="the transcription server's model (default whisper-1)")
    g = p.add_argument_group("provider")
    g.add_argument("--provider", choices=["openai", "anthropic", "azure", "local"])
    g.add_argument("--base-url", help="e.g. http://localhost:11434/v1 (OpenAI-compatible)")
    g.add_argument("--model", help="model name (Azure: deployment name)")
    g.add_argument("--api-key", help="API key (prefer the environment variable)")
    g.add_argument("--api-version", help="Azure OpenAI api-version")
    g.add_argument("--system-prompt", help="replace the default system prompt")
    g = p.add_argument_group("local model (--provider local, needs harken[local])")
    g.add_argument(
        "--local-model", metavar="PATH", help="a .gguf model file (implies --provider local)"
    )
    g.add_argument("--chat-format", help="e.g. chatml, llama-3 (default: the model's own template)")
    g.add_argument("--context-length", type=int, help="context window in tokens (default 4096)")
    g.add_argument("--threads", type=int, help="CPU threads for generation (default: half)")
    return p


def headless_options(args: argparse.Namespace) -> Any:
    """Settings file < environment < flags → RuntimeOptions. Raises ConfigError."""
    import os

    from app.config.overlay import OverrideError, resolve
    from app.config.overrides import flag_overrides
    from app.config.provider_config import ConfigError, check_usable, provider_config
    from app.config.secrets import SecretStore
    from app.config.settings import load_settings, saved_base_urls
    from app.config.stt_config import stt_config
    from app.runtime.composition import RuntimeOptions

    loaded = load_settings()
    for message in loaded.messages:
        log.warning("%s", message)
    overrides = flag_overrides(args)
    try:
        resolved = resolve(loaded.settings, os.environ, overrides)
    except OverrideError as exc:
        raise ConfigError(str(exc)) from None
    secrets = SecretStore(saved_base_urls=saved_base_urls(loaded.settings))
    p = resolved.settings.provider
    config = provider_config(resolved, secrets.get(p.preset, p.base_url))
    check_usable(resolved, config)
    stt = stt_config(resolved.settings, secrets, os.environ)
    options = RuntimeOptions.from_settings(resolved.settings, config, stt)
    options.hands_free = True  # headless input is always voice-activated
    options.speculation = not getattr(args, "no_speculation", False)
    return options


def configured_stt(args: argparse.Namespace) -> Any:
    """The transcription server in effect (settings < environment < flags), or None."""
    from app.config.overlay import OverrideError, resolve
    from app.config.overrides import flag_overrides
    from app.config.provider_config import ConfigError
    from app.config.secrets import SecretStore
    from app.config.settings import load_settings
    from app.config.stt_config import stt_config

    try:
        resolved = resolve(load_settings().settings, os.environ, flag_overrides(args))
    except OverrideError as exc:
        raise ConfigError(str(exc)) from None
    return stt_config(resolved.settings, SecretStore(), os.environ)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from app.config.logging_setup import setup_logging

    if args.list_devices:
        from audio.devices import describe_devices

        print(describe_devices())
        return 0
    if args.self_test:
        setup_logging(verbose=args.verbose)
        from app.config.provider_config import ConfigError
        from app.selftest.runner import main as self_test

        try:
            stt = configured_stt(args)
        except ConfigError as exc:
            parser.exit(2, f"harken: {exc}\n")
        return self_test(stt=stt)
    if args.headless:
        if args.input:
            problem = _unreadable(Path(args.input))
            if problem:
                parser.exit(EXIT_USAGE, f"harken: --input: {problem}: {args.input}\n")
        if args.hangover_ms is not None and not 100 <= args.hangover_ms <= 5000:
            parser.exit(EXIT_USAGE, "harken: --hangover-ms must be between 100 and 5000\n")
        if args.speak_after_ms is not None and not 0 <= args.speak_after_ms <= 3000:
            parser.exit(EXIT_USAGE, "harken: --speak-after-ms must be between 0 and 3000\n")
        setup_logging(verbose=args.verbose)
        from app.config.provider_config import ConfigError
        from app.runtime.headless import run_headless

        try:
            options = headless_options(args)
        except ConfigError as exc:
            parser.exit(EXIT_USAGE, f"harken: {exc}\n")
        from app.runtime.shutdown import exit_watchdog

        try:
            code = asyncio.run(run_headless(options, args=args))
        except KeyboardInterrupt:  # Ctrl+C before the run's own handler was installed
            code = EXIT_SIGNAL_BASE + signal.SIGINT
        exit_watchdog(code)
        return code
    if any((args.input, args.say, args.realtime)):
        parser.exit(2, "harken: --input, --say and --realtime need --headless\n")
    from app.desktop.gui import run_gui

    if os.environ.get("HARKEN_STARTUP_MARK"):  # packaging/measure_startup.py
        from app.desktop.startup_mark import install_startup_mark

        install_startup_mark()
    return run_gui(args)


def _unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be read as ``--input`` (checked before the models load), or None."""
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a file"
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


if __name__ == "__main__":
    sys.exit(main())
