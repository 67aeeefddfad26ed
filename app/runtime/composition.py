"""The composition root: the one place that constructs devices, models and clients.

Headless mode and the window both call ``build_components`` with
``RuntimeOptions`` (from flags or from settings) and get a wired controller,
input pump, transcriber and speech output back. Two parts can be handed in
instead of built (tests do): an already loaded transcriber, and the factory
that opens the microphone (e.g. one over a fake ``sounddevice``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.agent import events as ev
from app.agent.controller import AgentController
from app.agent.input_pump import InputPump
from app.agent.live_transcription import SPEAK_AFTER_S, LiveOptions, LiveTranscription
from app.agent.phrases import Phrases
from app.agent.tools import build_default_registry
from app.config.logging_setup import register_secret
from app.config.paths import resource_path
from app.config.settings import Settings, tool_permissions
from app.config.stt_config import SttConfig
from app.runtime.local_model_host import LocalModelHost
from app.runtime.shutdown import SHUTDOWN_DEADLINE_S, close_all
from app.version import user_agent
from audio.capture import AudioSource
from audio.echo_canceller import EchoCanceller, EchoReference
from audio.file_source import FileSource
from audio.held_speech import HeldSpeech
from audio.microphone import MicrophoneSource
from audio.playback import SpeechPlayer
from audio.remote_transcriber import RemoteTranscriber
from audio.segmenter import SpeechSegmenter
from audio.server_stt import FallbackTranscriber
from audio.speech_output import SpeechOutput
from audio.transcriber import Transcriber, WhisperTranscriber
from audio.tts import EspeakTts, PiperTts, Tts
from audio.turn_model import MODEL_FILE as SMART_TURN_FILE
from audio.turn_model import SmartTurnModel
from audio.vad import SileroVad
from providers import Provider, ProviderConfig, create_provider, new_http_client

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = (
    "You are Harken, a helpful voice assistant on the user's desktop. Your replies are "
    "spoken aloud, so answer briefly and conversationally; use Markdown only when the user "
    "asks for code or a list. If a reply was cut off by the user, do not repeat it: follow "
    "the new instruction."
)


@dataclass
class RuntimeOptions:
    """Everything the components need, from the settings in effect for this run."""

    provider: ProviderConfig
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT
    whisper_model: str | None = None
    speech_output: bool = True
    voice: str = "piper-joe"
    echo_cancellation: bool = True  # off for a headset (nothing to cancel)
    barge_in: bool = True
    hands_free: bool = True
    hangover_s: float = 0.5
    speculation: bool = True  # transcribe at pauses and show partials while the user speaks
    adaptive_hangover: bool = True
    hangover_min_s: float = 0.2
    hangover_max_s: float = 1.5
    turn_model: bool = False  # Smart Turn, when its file is in assets/models/smart-turn/
    early_request: bool = True  # request the reply at a pause that sounds finished (held)
    speak_after_s: float = SPEAK_AFTER_S  # hands-free: heard once the user was quiet this long
    input_device: str | int | None = None
    output_device: str | int | None = None
    permissions: frozenset[str] = frozenset()
    stt: SttConfig | None = None  # a transcription server; None: local Whisper only
    phrases: Phrases = field(default_factory=Phrases)  # backchannels and stop phrases

    @classmethod
    def from_settings(
        cls, settings: Settings, provider: ProviderConfig, stt: SttConfig | None = None
    ) -> RuntimeOptions:
        audio = settings.audio
        model = audio.whisper_model.strip()
        return cls(
            provider=provider,
            system_prompt=settings.agent.system_prompt.strip() or DEFAULT_SYSTEM_PROMPT,
            whisper_model=None if model in ("", "bundled") else model,
            speech_output=audio.speech_output,
            voice=audio.voice,
            echo_cancellation=audio.echo_cancellation,
            barge_in=audio.barge_in,
            hands_free=audio.input_mode == "hands_free",
            hangover_s=audio.hangover_ms / 1000,
            adaptive_hangover=audio.adaptive_hangover,
            hangover_min_s=audio.hangover_min_ms / 1000,
            hangover_max_s=audio.hangover_max_ms / 1000,
            turn_model=audio.turn_model,
            early_request=audio.early_request,
            speak_after_s=audio.speak_after_ms / 1000,
            input_device=_device(audio.input_device),
            output_device=_device(audio.output_device),
            permissions=tool_permissions(settings),
            stt=stt,
            phrases=Phrases(settings.barge_in.backchannels, settings.barge_in.stop_phrases),
        )


def _device(name: str) -> str | int | None:
    name = name.strip()
    if not name:
        return None
    return int(name) if name.isdigit() else name


@dataclass
class Components:
    controller: AgentController
    pump: InputPump
    transcriber: WhisperTranscriber
    speech: SpeechOutput
    tts: Tts
    client: Any
    options: RuntimeOptions
    provider_config: ProviderConfig
    local_host: LocalModelHost
    stt_description: str = ""
    # What transcribes final utterances: ``transcriber``, or a server with it as fallback.
    stt: Transcriber | None = None
    emit: Callable[[ev.Event], None] = lambda _event: None
    local_description: str = "local Whisper"
    # Opens the microphone for the device in the options; None: the real microphone,
    # echo-cancelled against ``echo_reference`` when the options ask for it.
    microphone_factory: Callable[[str | int | None], AudioSource] | None = None
    # What the speech player writes (the echo canceller's reference).
    echo_reference: EchoReference | None = None
    _echo_canceller: EchoCanceller | None = None
    echo_warning: str | None = None

    def file_source(self, path: str, *, realtime: bool) -> FileSource:
        return FileSource(path, realtime=realtime)

    def microphone_source(self) -> AudioSource:
        if self.microphone_factory is not None:
            return self.microphone_factory(self.options.input_device)
        return MicrophoneSource(self.options.input_device, echo_canceller=self.echo_canceller())

    def echo_canceller(self) -> EchoCanceller | None:
        """The microphone's echo canceller when the options ask for one (made on first use;
        None, with ``echo_warning`` set, when WebRTC's canceller cannot load here)."""
        if not self.options.echo_cancellation or self.echo_reference is None:
            return None
        if self._echo_canceller is None and self.echo_warning is None:
            try:
                self._echo_canceller = EchoCanceller(self.echo_reference)
            except Exception as exc:  # ImportError, or a wheel that does not load here
                self.echo_warning = (
                    f"Echo cancellation is unavailable ({exc}); on speakers Harken may hear "
                    "itself. Use a headset or push-to-talk, or reinstall Harken."
                )
                log.warning("%s", self.echo_warning)
        return self._echo_canceller

    async def wait_loaded(self, *, microphone: bool = True) -> list[str]:
        """Wait for the speech models; returns warnings (fallbacks) to show. A local LLM
        starts loading here too, but is not waited for (see ``wait_local_model``).
        ``microphone``: the live microphone will be used, so load its echo canceller."""
        self.local_host.start()
        warnings: list[str] = []
        self.local_description = await self.transcriber.wait_loaded()
        self.stt_description = self._describe_stt()
        if self.transcriber.load_warning:
            warnings.append(self.transcriber.load_warning)
        speech_warning = await self.speech.wait_loaded()
        if speech_warning:
            warnings.append(speech_warning)
        if microphone and self.microphone_factory is None:
            await asyncio.to_thread(self.echo_canceller)  # loads WebRTC off the loop
            if self.echo_warning:
                warnings.append(self.echo_warning)
        return warnings

    async def wait_local_model(self) -> list[str]:
        """Wait for the local model, if one is configured; returns its error, if any."""
        if self.local_host.source is None:
            return []
        error = await self.local_host.wait()
        return [error] if error else []

    def reconfigure_provider(self, config: ProviderConfig) -> Provider:
        register_secret(config.api_key)
        provider = _provider(config, self.client, self.local_host)
        self.controller.provider = provider
        self.controller.settings.model = config.model
        self.provider_config = config
        return provider

    @property
    def stt_engine(self) -> str:
        """ "server" when final transcripts come from a transcription server, else "local"."""
        return "server" if self.options.stt is not None else "local"

    def reconfigure_stt(self, config: SttConfig | None) -> None:
        """Settings → Audio → Speech recognition changed: applies from the next utterance."""
        self.options.stt = config
        self.stt = stt_transcriber(config, self.transcriber, self.client, self.emit)
        self.controller.transcriber = self.stt
        if self.pump.live is not None:
            self.pump.live.speculative.final = self.stt if config is not None else None
        if self.pump.held is not None:  # push-to-talk's final pass too
            self.pump.held.speculative.final = self.stt if config is not None else None
        self.stt_description = self._describe_stt()

    def _describe_stt(self) -> str:
        server, local = self.options.stt, self.local_description
        if server is None:
            return local
        return f"{server.describe()} (server; {local} on this computer for previews and fallback)"

    def _log_echo_stats(self) -> None:
        if self._echo_canceller is not None:
            self._echo_canceller.log_stats()

    async def aclose(self, deadline_s: float = SHUTDOWN_DEADLINE_S) -> None:
        """Close everything, each part whatever the others do: a part that raises is
        logged and the rest still close; past ``deadline_s`` in all, the rest is
        abandoned (logged) so that quitting always finishes."""
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("live transcription", lambda: self.pump.live.close() if self.pump.live else None),
            ("held speech", lambda: self.pump.held.close() if self.pump.held else None),
            ("controller", self.controller.close),
            ("local model", self.local_host.aclose),
            ("echo canceller", self._log_echo_stats),
            ("speech output", self.speech.close),
            ("transcriber", lambda: asyncio.to_thread(self.transcriber.close)),
            ("HTTP client", self.client.aclose),
        ]
        await close_all(steps, deadline_s)


def load_turn_model() -> SmartTurnModel | None:
    """The bundled Smart Turn model (loading in its worker), or None when it is not there
    (scripts/setup.sh fetches it; without it the words alone judge a pause)."""
    path = resource_path(f"models/smart-turn/{SMART_TURN_FILE}")
    if not path.is_file():
        log.info("no end-of-turn model at %s: pauses are judged by the words alone", path)
        return None
    return SmartTurnModel(path)


def live_options(options: RuntimeOptions) -> LiveOptions:
    """What the live transcription needs from the run's options."""
    return LiveOptions(
        speculate=options.speculation,
        adaptive=options.adaptive_hangover,
        hangover_min_s=options.hangover_min_s,
        hangover_max_s=options.hangover_max_s,
        turn_model=options.turn_model,
        early_request=options.early_request,
        speak_after_s=options.speak_after_s,
    )


def stt_transcriber(
    config: SttConfig | None,
    local: WhisperTranscriber,
    client: Any,
    emit: Callable[[ev.Event], None],
) -> Transcriber:
    """Local Whisper, or the server with local Whisper as its fallback (``audio.server_stt``)."""
    if config is None:
        return local
    register_secret(config.api_key)
    remote = RemoteTranscriber(
        config.url,
        api_key=config.api_key,
        model=config.model,
        client=client,
        timeout_s=config.deadline_s,
    )
    return FallbackTranscriber(
        remote,
        local,
        server_url=config.url,
        deadline_s=config.deadline_s,
        on_notice=lambda text: emit(ev.Status(text=text)),
    )


def build_components(
    options: RuntimeOptions,
    *,
    emit: Callable[[ev.Event], None],
    transcriber: WhisperTranscriber | None = None,
    microphone_factory: Callable[[str | int | None], AudioSource] | None = None,
) -> Components:
    """Construct and wire everything; models start loading in the background.

    ``transcriber`` replaces the one built from ``options.whisper_model`` (it is
    closed with the components); ``microphone_factory`` replaces ``MicrophoneSource``."""
    config = options.provider
    register_secret(config.api_key)
    client = new_http_client(user_agent=user_agent())
    if transcriber is None:
        transcriber = WhisperTranscriber(options.whisper_model)
    transcriber.start_loading()
    stt = stt_transcriber(options.stt, transcriber, client, emit)
    tts: Tts = EspeakTts() if options.voice == "system" else PiperTts()
    local_host = LocalModelHost(emit)
    holder: list[AgentController] = []
    reference = EchoReference()
    speech = SpeechOutput(
        tts,
        SpeechPlayer(tts.sample_rate_hz, device=options.output_device, tap=reference.push),
        enabled=options.speech_output,
        on_event=lambda name, turn_id, detail: holder[0].speech_event(name, turn_id, detail),
    )
    controller = AgentController(
        provider=_provider(config, client, local_host),
        model=config.model,
        transcriber=stt,
        speech=speech,
        tools=build_default_registry(),
        emit=emit,
        system_prompt=options.system_prompt,
        barge_in=options.barge_in,
        phrases=options.phrases,
    )
    controller.settings.permissions = options.permissions
    holder.append(controller)
    segmenter = SpeechSegmenter(SileroVad(), hangover_s=options.hangover_s)
    turn_model = load_turn_model()
    if turn_model is not None and options.turn_model:
        turn_model.start_loading()  # else on first use, if turned on in Settings
    live = LiveTranscription(
        controller,
        segmenter,
        transcriber,
        emit=emit,
        options=live_options(options),
        turn_model=turn_model,
    )
    held = HeldSpeech(
        transcriber,
        SileroVad(),
        on_partial=lambda utterance_id, text: emit(
            ev.PartialTranscript(utterance_id=utterance_id, text=text)
        ),
    )
    held.enabled = options.speculation
    pump = InputPump(
        controller, segmenter, emit=emit, hands_free=options.hands_free, live=live, held=held
    )
    if options.stt is not None:  # partials and pause passes stay local (audio.server_stt)
        live.speculative.final = stt
        held.speculative.final = stt  # push-to-talk: the final pass on the server too
    return Components(
        controller=controller,
        pump=pump,
        transcriber=transcriber,
        stt=stt,
        emit=emit,
        speech=speech,
        tts=tts,
        client=client,
        options=options,
        provider_config=config,
        microphone_factory=microphone_factory,
        local_host=local_host,
        echo_reference=reference,
    )


def _provider(config: ProviderConfig, client: Any, local_host: LocalModelHost) -> Provider:
    """The provider for ``config``; a local one runs on the host's (kept) model."""
    if config.kind == "local" and config.local is not None:
        return create_provider(config, client, local_source=local_host.source_for(config.local))
    local_host.release()
    return create_provider(config, client)
