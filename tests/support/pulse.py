"""A PulseAudio virtual microphone for end-to-end capture tests.

``pulse_mic`` (session fixture; ``pytest_plugins = ["tests.support.pulse"]``
in a test module) starts a private PulseAudio daemon — its own runtime
directory and socket, so parallel test sessions and a desktop's own daemon
are left alone — with a null sink whose monitor is the default source.
Whatever is played into the sink is what the microphone hears: PortAudio
reaches the daemon through ALSA's pulse plugin, as on a desktop.

- ``PulseMic.play(path_or_audio) -> subprocess.Popen``: plays a file (any
  format faster-whisper decodes) or a 16 kHz float32 array into the sink in
  the background, via ``paplay``. Wait with ``proc.wait(timeout)``.
- ``PulseMic.sink``: the sink name; ``PulseMic.env``: the environment that
  points PulseAudio clients at the private daemon (already applied to
  ``os.environ`` for the session).

``echo_rig`` (function fixture, on top of ``pulse_mic``) adds laptop speakers:
a second null sink, ``EchoRig.speaker``, whose monitor is looped into the
microphone's sink ~40 ms late by ``module-loopback``, so whatever a client
plays on the speaker is heard by the microphone. ``EchoRig.set_coupling_db``
sets the loopback's volume (PulseAudio's volume is cubic: 46 % ≈ −20 dB,
32 % ≈ −30 dB). ``EchoRig.env`` makes a client play on the speaker
(``PULSE_SINK``); ``EchoRig.record_speaker()`` records what the speaker
plays (its monitor) with ``parec``. The loopback is unloaded at the end.

Two details make it work: a silent ``pacat`` stream keeps the null sink
clocked (otherwise audio arrives late and in bursts), and PortAudio is
re-initialised after the daemon starts because ``sounddevice`` lists devices
once, at import. Everything started here is stopped by process id at the end.
The fixture skips, with the reason, when PulseAudio cannot run here.

(PYTEST_DONT_REWRITE: test modules import this before registering it as a plugin.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.speech import SAMPLE_RATE_HZ, write_wav

SINK = "harken_test"
SPEAKER = "harken_speaker"
TOOLS = ("pulseaudio", "pactl", "pacat", "paplay", "parec")
LOOPBACK_LATENCY_MS = 40


@dataclass
class PulseMic:
    runtime_dir: Path
    env: dict[str, str]
    sink: str = SINK
    _played: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def play(self, source: Path | str | np.ndarray) -> subprocess.Popen[bytes]:
        """Start playing into the sink; returns the running ``paplay`` process."""
        wav = self.runtime_dir / f"play-{len(self._played)}.wav"
        if isinstance(source, np.ndarray):
            audio = source
        else:
            from faster_whisper import decode_audio

            audio = decode_audio(str(source), sampling_rate=SAMPLE_RATE_HZ)
        # paplay stops early on some formats (24-bit FLAC): always hand it 16-bit WAV.
        write_wav(wav, np.asarray(audio, dtype=np.float32))
        proc = subprocess.Popen(
            ["paplay", f"--device={self.sink}", str(wav)],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._played.append(proc)
        return proc

    def stop_playing(self) -> None:
        for proc in self._played:
            _stop(proc)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)


def _wait_ready(daemon: subprocess.Popen[bytes], env: dict[str, str]) -> bool:
    """True once the daemon answers ``pactl info`` (within 20 s), False if it died."""
    for _ in range(200):
        if _run(["pactl", "info"], env).returncode == 0:
            return True
        try:
            daemon.wait(timeout=0.1)  # returns early only if the daemon exited
            return False
        except subprocess.TimeoutExpired:
            continue
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def _reinit_portaudio() -> Any:
    import sounddevice

    sounddevice._terminate()
    sounddevice._initialize()
    return sounddevice


@pytest.fixture(scope="session")
def pulse_mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseMic]:
    with pulse_session(tmp_path_factory.mktemp("pulse")) as mic:
        yield mic


@contextmanager
def pulse_session(runtime: Path) -> Iterator[PulseMic]:
    """The daemon behind ``pulse_mic``, for scripts (benchmarks) as well as fixtures;
    raises pytest's skip exception, with the reason, when PulseAudio cannot run here."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"PulseAudio tools not installed: {', '.join(missing)}")
    socket = runtime / "native"
    env = {
        "PULSE_RUNTIME_PATH": str(runtime),
        "PULSE_STATE_PATH": str(runtime / "state"),
        "PULSE_SERVER": f"unix:{socket}",
    }
    full_env = {**os.environ, **env}
    log_path = runtime / "pulseaudio.log"
    log_file = open(log_path, "wb")  # closed when the session ends
    daemon = subprocess.Popen(  # in the foreground, so this process owns and reaps it
        [
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "-L",
            f"module-native-protocol-unix socket={socket} auth-anonymous=1",
            "-L",
            f"module-null-sink sink_name={SINK} rate={SAMPLE_RATE_HZ} channels=1",
        ],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    if not _wait_ready(daemon, full_env):
        _stop(daemon)
        log_file.close()
        reason = log_path.read_text(errors="replace")
        pytest.skip(f"PulseAudio could not start: {reason.strip()[-300:]}")
    clock: subprocess.Popen[bytes] | None = None
    mic = PulseMic(runtime, env)
    saved = {k: os.environ.get(k) for k in env}
    try:
        for args in (
            ["pactl", "set-default-sink", SINK],
            ["pactl", "set-default-source", f"{SINK}.monitor"],
        ):
            done = _run(args, full_env)
            if done.returncode != 0:
                pytest.skip(f"PulseAudio refused {' '.join(args)}: {done.stderr.strip()}")
        clock = subprocess.Popen(  # an endless silent stream keeps the null sink clocked
            ["pacat", "--playback", f"--device={SINK}", "--raw", "--latency-msec=20", "/dev/zero"],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.environ.update(env)
        sd = _reinit_portaudio()
        names = [str(d["name"]) for d in sd.query_devices() if d["max_input_channels"] > 0]
        if not any(n in ("pulse", "default") for n in names):
            pytest.skip(f"PortAudio does not see PulseAudio through ALSA (inputs: {names})")
        with sd.InputStream(samplerate=SAMPLE_RATE_HZ, channels=1, dtype="float32") as warm:
            warm.read(SAMPLE_RATE_HZ // 10)  # the first capture after start-up is slow
        yield mic
    finally:
        mic.stop_playing()
        if clock is not None:
            _stop(clock)
        _stop(daemon)
        log_file.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        try:
            _reinit_portaudio()  # forget the daemon's devices
        except Exception:  # PortAudio may be unusable after the daemon left; nothing to undo
            pass


def coupling_percent(db: float) -> int:
    """PulseAudio's software volume is cubic: ``percent = 100 · 10^(dB / 60)``."""
    return round(100 * 10 ** (db / 60))


@dataclass
class Recording:
    """What ``parec`` captured from a monitor; ``audio()`` stops it and returns 16 kHz float32."""

    proc: subprocess.Popen[bytes]
    path: Path

    def audio(self) -> np.ndarray:
        _stop(self.proc)
        raw = self.path.read_bytes()
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.float32) / 32768


@dataclass
class EchoRig:
    mic: PulseMic
    loopback_module: str
    speaker: str = SPEAKER
    _records: list[Recording] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """Environment for a client that should play on the speaker (PULSE_SINK)."""
        return {**self.mic.env, "PULSE_SINK": self.speaker}

    def set_coupling_db(self, db: float) -> None:
        """How loud the speaker is at the microphone (0 dB: as loud as played)."""
        env = {**os.environ, **self.mic.env}
        listing = _run(["pactl", "list", "sink-inputs"], env).stdout
        ids = [
            block.split("\n", 1)[0].strip()
            for block in listing.split("Sink Input #")[1:]
            if f"Owner Module: {self.loopback_module}\n" in block
        ]
        if not ids:
            raise RuntimeError(f"the loopback has no sink input: {listing!r}")
        done = _run(["pactl", "set-sink-input-volume", ids[0], f"{coupling_percent(db)}%"], env)
        if done.returncode != 0:
            raise RuntimeError(f"pactl set-sink-input-volume failed: {done.stderr.strip()}")

    def record_speaker(self) -> Recording:
        path = self.mic.runtime_dir / f"speaker-{len(self._records)}.raw"
        handle = open(path, "wb")  # parec writes into it until stopped
        proc = subprocess.Popen(
            [
                "parec",
                f"--device={self.speaker}.monitor",
                "--format=s16le",
                f"--rate={SAMPLE_RATE_HZ}",
                "--channels=1",
                "--latency-msec=20",
                "--raw",
            ],
            env={**os.environ, **self.mic.env},
            stdout=handle,
            stderr=subprocess.DEVNULL,
        )
        handle.close()
        recording = Recording(proc, path)
        self._records.append(recording)
        return recording


@pytest.fixture
def echo_rig(pulse_mic: PulseMic) -> Iterator[EchoRig]:
    with echo_rig_on(pulse_mic) as rig:
        yield rig


@contextmanager
def echo_rig_on(pulse_mic: PulseMic) -> Iterator[EchoRig]:
    """The speaker sink and the loopback behind ``echo_rig``, on a running daemon."""
    env = {**os.environ, **pulse_mic.env}
    loaded: list[str] = []
    clock: subprocess.Popen[bytes] | None = None
    noise: subprocess.Popen[bytes] | None = None
    rig: EchoRig | None = None
    try:
        for args in (
            [
                "pactl",
                "load-module",
                "module-null-sink",
                f"sink_name={SPEAKER}",
                f"rate={SAMPLE_RATE_HZ}",
                "channels=1",
            ],
            [
                "pactl",
                "load-module",
                "module-loopback",
                f"source={SPEAKER}.monitor",
                f"sink={SINK}",
                f"latency_msec={LOOPBACK_LATENCY_MS}",
                "source_dont_move=true",
                "sink_dont_move=true",
            ],
        ):
            done = _run(args, env)
            if done.returncode != 0:
                pytest.skip(f"PulseAudio refused {' '.join(args)}: {done.stderr.strip()}")
            loaded.append(done.stdout.strip())
        noise = subprocess.Popen(  # a microphone's own noise (~−70 dBFS): never exact zeros
            ["pacat", "--playback", f"--device={SINK}", "--raw", "--format=s16le"]
            + [f"--rate={SAMPLE_RATE_HZ}", "--channels=1", "--latency-msec=20"]
            + [f"--volume={round(65536 * coupling_percent(-66) / 100)}", "/dev/urandom"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        clock = subprocess.Popen(  # keeps the speaker sink clocked, like the microphone's
            ["pacat", "--playback", f"--device={SPEAKER}", "--raw", "--latency-msec=20"]
            + ["/dev/zero"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        rig = EchoRig(pulse_mic, loaded[1])
        rig.set_coupling_db(0.0)
        _reinit_portaudio()  # PortAudio lists devices once
        yield rig
    finally:
        for proc in (clock, noise):
            if proc is not None:
                _stop(proc)
        for rec in rig._records if rig is not None else []:
            _stop(rec.proc)
        for module in reversed(loaded):
            _run(["pactl", "unload-module", module], env)
