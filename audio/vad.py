"""Silero voice activity detection, one 32 ms frame at a time.

faster-whisper bundles the Silero v6 ONNX model but only runs it over a
whole recording. Hands-free listening needs it live, so this runs the same
session frame by frame, carrying what the batch call carries between
frames: the LSTM state (``h``, ``c``) and the last 64 samples of the previous
frame, which the model reads as context in front of each 512-sample frame.
Fed the same audio, the streamed probabilities equal the batch ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import AudioErrorKind, CaptureError

FRAME_SAMPLES = 512  # at 16 kHz: what the model was trained on
CONTEXT_SAMPLES = 64
_STATE_SHAPE = (1, 1, 128)


def default_model_path() -> str:
    """The model file that ships inside the faster-whisper package."""
    from faster_whisper.utils import get_assets_path

    return os.path.join(get_assets_path(), "silero_vad_v6.onnx")


class SileroVad:
    """Streaming speech probability per 512-sample, 16 kHz float32 frame.

    ``speech_prob(frame)`` returns 0..1 and advances the state; ``reset()``
    starts a fresh stream. One intra-op thread: a frame costs ~0.1 ms, and
    the VAD must not compete with Whisper for the cores.
    """

    def __init__(self, model_path: str | None = None) -> None:
        path = model_path or default_model_path()
        if not Path(path).is_file():
            raise CaptureError(
                AudioErrorKind.MODEL,
                f"The voice detection model is missing ({path}). Reinstall Harken "
                "(it comes with the faster-whisper package).",
            )
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.enable_cpu_mem_arena = False
        opts.log_severity_level = 4
        try:
            self._session: Any = onnxruntime.InferenceSession(
                path, providers=["CPUExecutionProvider"], sess_options=opts
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf errors
            raise CaptureError(
                AudioErrorKind.MODEL,
                f"The voice detection model {path} could not be loaded; the file may be "
                "damaged. Reinstall Harken.",
            ) from exc
        names = {i.name for i in self._session.get_inputs()}
        if names != {"input", "h", "c"}:
            raise CaptureError(
                AudioErrorKind.MODEL,
                f"{path} is not the Silero VAD model Harken expects (inputs {sorted(names)}).",
            )
        self._input = np.zeros((1, CONTEXT_SAMPLES + FRAME_SAMPLES), dtype=np.float32)
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)

    def reset(self) -> None:
        self._input[:] = 0.0
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)

    def speech_prob(self, frame: npt.NDArray[np.float32]) -> float:
        if frame.shape != (FRAME_SAMPLES,):
            raise ValueError(f"a VAD frame is {FRAME_SAMPLES} samples, got shape {frame.shape}")
        inp = self._input
        inp[0, CONTEXT_SAMPLES:] = frame  # the first 64 hold the previous frame's tail
        prob, self._h, self._c = self._session.run(None, {"input": inp, "h": self._h, "c": self._c})
        inp[0, :CONTEXT_SAMPLES] = inp[0, -CONTEXT_SAMPLES:]
        return float(prob.reshape(-1)[0])
