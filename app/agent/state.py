"""What the assistant is doing, derived from the facts in one pure function.

``idle → listening → transcribing → thinking → replying → idle`` (DESIGN.md).
Nothing stores the state as a fact of its own: the controller derives it
again after every change and publishes ``StateChanged`` when it differs.
"""

from __future__ import annotations

from app.agent.events import State
from app.agent.turn import Turn


def derive_state(
    *, user_speaking: bool, transcribing: bool, inputs_waiting: bool, turn: Turn | None
) -> State:
    """``transcribing``: a transcription runs; ``inputs_waiting``: inputs not yet taken up."""
    if user_speaking:
        return State.LISTENING
    if transcribing or (turn is None and inputs_waiting):
        return State.TRANSCRIBING
    if turn is not None:
        return State.THINKING if turn.first_token_at is None else State.REPLYING
    return State.IDLE
