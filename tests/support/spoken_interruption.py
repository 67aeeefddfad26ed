"""The spoken interruption the end-to-end tests replay as a microphone.

A question, then 3 s after it (past the continuation window: speech within 1.8 s of
the end of a turn continues it) "Stop. What is the capital of France?". The server
streams the story's first pieces and then stalls until the client hangs up, then
answers the interruption with "Paris.". Replies go by what was said ("dragon",
"capital"): an early request its turn did not take over (app.agent.early_request)
must not use up the next reply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.support.barge_in_script import INTERRUPTIONS, QUESTION
from tests.support.speech import SpeechLibrary, silence, write_wav
from tests.support.sse_server import ScriptedServer, Stall, openai_stream, sse_reply


def spoken_interruption(speech: SpeechLibrary, server: ScriptedServer, path: Path) -> Path:
    """Write the two utterances to ``path`` (a WAV) and script ``server``'s two replies."""
    first = speech.say(QUESTION)
    second = speech.say(INTERRUPTIONS[0])
    audio = np.concatenate([silence(0.5), first, silence(3.0), second, silence(1.2)])
    story = [f"Once upon a time {i}. " for i in range(3)]
    server.answer(
        "dragon", sse_reply(openai_stream(story, delay_s=0.05, done=False)[:4] + [Stall()])
    )
    server.answer("capital", sse_reply(openai_stream(["Paris."], delay_s=0.02)))
    return write_wav(path, audio)
