"""The audio half of the end of turn: Smart Turn v3.2 says whether a pause sounds final.

Whisper puts a full stop after almost any fragment ("What is the capital
of?"), so the words alone cannot always tell a thinking pause from the end.
Smart Turn (Daily, BSD-2-Clause; ``assets/models/smart-turn/``, fetched from
the ``pipecat-ai`` wheel by ``scripts/fetch_smart_turn.py``) listens to the last
8 s of audio — intonation, a trailing "uh" — and returns the probability that
the speaker has finished. Its input is Whisper's 80-bin log-mel spectrogram of
those 8 s (waveform normalised to zero mean and unit variance first), which
faster-whisper's own feature extractor computes exactly, so pipecat is not needed.

On our audio (tests/bench/bench_turn_taking.py) it separates real speech well
(jfk.flac: 0.01-0.03 inside the sentence, 0.95 at its end) but not espeak-ng's
flat synthetic prosody (0.74-0.98 after "What is the capital of", 0.01 at the
end of "… penguins"), which is why ``end_of_turn`` only lets it *confirm* an
end the words already suggest, or veto one — and why it is off by default
(``[audio] turn_model``): on the benchmark it vetoed clear ends.

One inference takes ~0.1 s on one core; it runs in its own worker thread with
one intra-op thread, beside Whisper's pass over the same pause.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import AudioErrorKind, TranscriptionError

log = logging.getLogger(__name__)

MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
SAMPLE_RATE_HZ = 16000
WINDOW_S = 8
_WINDOW = WINDOW_S * SAMPLE_RATE_HZ
_FRAMES = 800  # 10 ms hops over 8 s


class SmartTurnModel:
    """Loads the ONNX model once (in its worker) and scores pauses: ``submit(audio)``."""

    def __init__(self, model_path: str | Path) -> None:
        self.model_path = Path(model_path)
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "harken-turn-model")
        self._session: Any = None
        self._features: Any = None
        self._lock = threading.Lock()
        self._loaded: concurrent.futures.Future[None] | None = None

    def start_loading(self) -> None:
        """Load in the worker now (else the first ``submit`` loads it)."""
        if self._loaded is None:
            self._loaded = self._executor.submit(self._load)

    def submit(self, audio: npt.NDArray[np.float32]) -> concurrent.futures.Future[float]:
        """Probability (0..1) that the speaker is done, for audio that ends at the pause."""
        return self._executor.submit(self.complete_prob, np.array(audio, dtype=np.float32))

    def wait_loaded(self, timeout: float | None = None) -> None:
        """Block until the model is loaded; raises ``TranscriptionError`` if it cannot be."""
        self.start_loading()
        assert self._loaded is not None
        self._loaded.result(timeout)

    def complete_prob(self, audio: npt.NDArray[np.float32]) -> float:
        """The model's verdict on ``audio`` (16 kHz mono float32), blocking."""
        self._load()
        window = np.asarray(audio, dtype=np.float32)[-_WINDOW:]
        window = np.pad(window, (_WINDOW - len(window), 0))  # silence before, as in training
        window = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
        mel = self._features(window, padding=0)[:, :_FRAMES].astype(np.float32)
        outputs = self._session.run(None, {"input_features": mel[None]})
        return float(np.asarray(outputs[0]).reshape(-1)[0])

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            if not self.model_path.is_file():
                raise TranscriptionError(
                    AudioErrorKind.MODEL,
                    f"The end-of-turn model is missing ({self.model_path}); run "
                    "scripts/setup.sh to fetch it. Pauses are judged by the words alone.",
                )
            import onnxruntime
            from faster_whisper.feature_extractor import FeatureExtractor

            opts = onnxruntime.SessionOptions()
            opts.inter_op_num_threads = 1
            opts.intra_op_num_threads = 1
            opts.log_severity_level = 4
            try:
                session = onnxruntime.InferenceSession(
                    str(self.model_path), providers=["CPUExecutionProvider"], sess_options=opts
                )
            except Exception as exc:  # onnxruntime's own Fail/InvalidProtobuf errors
                raise TranscriptionError(
                    AudioErrorKind.MODEL,
                    f"The end-of-turn model {self.model_path} could not be loaded (damaged?); "
                    "run scripts/setup.sh again. Pauses are judged by the words alone.",
                ) from exc
            self._features = FeatureExtractor(chunk_length=WINDOW_S)
            self._session = session
            log.debug("end-of-turn model loaded from %s", self.model_path)
