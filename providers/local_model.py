"""Loading a GGUF model into llama.cpp, in-process, with errors a person can act on.

``llama_cpp`` (the optional ``local`` extra) is imported only here and only
when a model is loaded, so Harken starts and runs without it. Loading is
blocking and slow (seconds for a 1-2 GB file): :func:`load_model` is meant
for a worker thread and reports progress (0..1) through a callback, which
can also abort the load (a newer choice of model replaced it).

The chat format comes from the model's own ``tokenizer.chat_template``
metadata unless one is chosen; a model without a template falls back to
ChatML (llama-cpp-python's own fallback, Llama 2, fits few current models).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.util
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ErrorKind, ProviderError

GGUF_MAGIC = b"GGUF"
FALLBACK_CHAT_FORMAT = "chatml"
FROM_METADATA = ""  # chat_format value: use the model's own template
# Formats llama-cpp-python knows by name, offered in Settings beside "from the model's metadata".
COMMON_CHAT_FORMATS = (
    "chatml",
    "llama-3",
    "mistral-instruct",
    "gemma",
    "qwen",
    "llama-2",
    "zephyr",
    "chatml-function-calling",
)
LLAMA_CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
    "-DGGML_BMI2=ON -DLLAVA_BUILD=OFF"
)
INSTALL_COMMAND = f"CMAKE_ARGS=\"{LLAMA_CMAKE_ARGS}\" pip install 'harken[local]'"

ProgressCallback = Callable[[float], bool]  # fraction loaded → keep going?
log = logging.getLogger("llama.cpp")


class LocalModelError(ProviderError):
    """The local model cannot be used; the message says what to do."""

    kind = ErrorKind.MODEL


class LocalExtraMissing(LocalModelError):
    """llama-cpp-python is not installed (or its native library does not load)."""


class ModelFileMissing(LocalModelError):
    """No model file was chosen, or it is not where the settings say."""


class ModelFileUnreadable(LocalModelError):
    """The file exists but llama.cpp cannot load it (not GGUF, truncated, unsupported)."""


class ModelLoadAborted(LocalModelError):
    """The load was stopped by its progress callback (another model was chosen)."""


@dataclass(frozen=True)
class LocalModelConfig:
    """``chat_format`` "" takes the model's template; ``threads`` 0 lets llama.cpp choose;
    ``max_reply_tokens`` bounds a reply whose request sets no limit (llama.cpp would otherwise
    go on until the context is full)."""

    model_path: str
    chat_format: str = FROM_METADATA
    context_length: int = 4096
    threads: int = 0
    max_reply_tokens: int = 1024

    @property
    def display_name(self) -> str:
        return Path(self.model_path).stem or "local model"


@dataclass
class LoadedModel:
    """A model ready to generate. ``lock`` serialises generations: llama.cpp has one
    context (one KV cache) per model, so one reply at a time runs on it."""

    config: LocalModelConfig
    llama: Any
    chat_format: str  # the format in use: a name, or "chat_template.default" (from metadata)
    has_tool_template: bool = False  # the metadata template asks for <tool_call> tags
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.config.display_name

    def close(self) -> None:
        with self.lock:
            close = getattr(self.llama, "close", None)
            if close is not None:
                close()


def llama_cpp_available() -> bool:
    """Whether the ``local`` extra is installed (without importing it)."""
    return importlib.util.find_spec("llama_cpp") is not None


def import_llama_cpp() -> Any:
    """The ``llama_cpp`` module, or :class:`LocalExtraMissing` with the install command."""
    try:
        llama_cpp = importlib.import_module("llama_cpp")
    except ImportError as exc:
        detail = "" if isinstance(exc, ModuleNotFoundError) else f" ({exc})"
        raise LocalExtraMissing(
            "Local models need the llama.cpp extra, which is not installed"
            f"{detail}. Install it with: {INSTALL_COMMAND}",
            provider="Local model",
        ) from exc
    _route_native_log(llama_cpp)
    return llama_cpp


_LOG_LEVELS = {3: logging.WARNING, 4: logging.ERROR}  # ggml_log_level: 1 debug, 2 info, 5 cont
_native_log_callback: Any = None  # kept alive while llama.cpp holds it


def _route_native_log(llama_cpp: Any) -> None:
    """llama.cpp's own log (a thousand lines per load) goes to the ``llama.cpp`` logger,
    not straight to stderr: warnings and errors reach the log file, the rest only at debug."""
    global _native_log_callback
    low_level: Any = getattr(llama_cpp, "llama_cpp", None)
    callback_type = getattr(low_level, "llama_log_callback", None)
    if _native_log_callback is not None or callback_type is None:
        return

    def forward(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", "replace").rstrip()
        if message:
            log.log(_LOG_LEVELS.get(level, logging.DEBUG), "%s", message)

    _native_log_callback = callback_type(forward)
    low_level.llama_log_set(_native_log_callback, ctypes.c_void_p(0))


def check_model_file(path: str) -> Path:
    """The model file, after cheap checks that give clearer messages than llama.cpp's."""
    if not path.strip():
        raise ModelFileMissing(
            "No local model file is chosen. Pick a .gguf file in Settings → Provider "
            "(or pass --local-model PATH).",
            provider="Local model",
        )
    file = Path(path).expanduser()
    if not file.is_file():
        raise ModelFileMissing(
            f"The local model file {file} does not exist. Pick a .gguf file in "
            "Settings → Provider.",
            provider="Local model",
        )
    try:
        with file.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelFileUnreadable(
            f"The local model file {file} cannot be read ({exc.strerror or exc}).",
            provider="Local model",
        ) from exc
    if magic != GGUF_MAGIC:
        raise ModelFileUnreadable(
            f"{file.name} is not a GGUF model file. Harken runs llama.cpp models in GGUF "
            "format (for example a Q4_K_M .gguf from Hugging Face).",
            provider="Local model",
        )
    return file


def load_model(config: LocalModelConfig, progress: ProgressCallback | None = None) -> LoadedModel:
    """Load ``config``'s model (blocking: call it in a worker thread)."""
    llama_cpp = import_llama_cpp()
    file = check_model_file(config.model_path)
    aborted = threading.Event()

    def on_progress(fraction: float) -> bool:
        keep_going = progress(fraction) if progress is not None else True
        if not keep_going:
            aborted.set()
        return keep_going

    try:
        with _progress_reported(llama_cpp, on_progress):
            # verbose=False would point the whole process's stdout and stderr (file
            # descriptors 1 and 2) at /dev/null while the model loads — losing, from other
            # threads, headless mode's JSON events and the log. Verbose it is, for the load.
            llama = llama_cpp.Llama(
                model_path=str(file),
                n_ctx=config.context_length,
                n_threads=config.threads or None,
                chat_format=config.chat_format or None,
                verbose=True,
            )
    except ValueError as exc:
        if aborted.is_set():
            raise ModelLoadAborted(
                f"Loading {file.name} was stopped.", provider="Local model"
            ) from exc
        raise ModelFileUnreadable(
            f"llama.cpp could not load {file.name}: the file is damaged, incomplete, or a "
            "model architecture this llama.cpp does not support.",
            provider="Local model",
        ) from exc
    _quiet(llama_cpp, llama)
    metadata = getattr(llama, "metadata", {}) or {}
    template = metadata.get("tokenizer.chat_template", "")
    if not config.chat_format and not template:
        llama.chat_format = FALLBACK_CHAT_FORMAT
    return LoadedModel(
        config=config,
        llama=llama,
        chat_format=str(llama.chat_format),
        has_tool_template="<tool_call>" in template
        and llama.chat_format == "chat_template.default",
    )


def _quiet(llama_cpp: Any, llama: Any) -> None:
    """After the load: no per-reply timings on stderr, llama.cpp's own log errors only."""
    llama.verbose = False
    logger = getattr(llama_cpp, "_logger", None)
    set_verbose = getattr(logger, "set_verbose", None)
    if set_verbose is not None:
        set_verbose(False)


_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def _progress_reported(llama_cpp: Any, on_progress: ProgressCallback) -> Iterator[None]:
    """Route llama.cpp's load progress to ``on_progress`` during one ``Llama(...)`` call.

    ``Llama`` builds its model parameters from ``llama_model_default_params()`` and offers
    no way to pass llama.cpp's ``progress_callback``; for the length of the call that
    function is wrapped (under a lock, so two loads cannot interleave) to add it. Without
    the hook (another llama-cpp-python layout) the model still loads, without figures."""
    low_level: Any = getattr(llama_cpp, "llama_cpp", None)
    defaults = getattr(low_level, "llama_model_default_params", None)
    callback_type = getattr(low_level, "llama_progress_callback", None)
    if defaults is None or callback_type is None:
        yield
        return

    def report(fraction: float, _user_data: ctypes.c_void_p) -> bool:
        try:
            return bool(on_progress(float(fraction)))
        except Exception:  # a failing listener must not abort the load
            return True

    c_report = callback_type(report)  # kept alive until the load returns

    def with_progress() -> Any:
        params = defaults()
        params.progress_callback = c_report
        return params

    with _PARAMS_LOCK:
        low_level.llama_model_default_params = with_progress
        try:
            yield
        finally:
            low_level.llama_model_default_params = defaults
