"""GenerationHold: a generation thread waits while the user talks over the reply, and never
longer than it must (a release, a stop or the age limit ends the wait)."""

from __future__ import annotations

import threading

from providers.generation_hold import GenerationHold

HANG_S = 5.0


def waiter(hold: GenerationHold, stop: threading.Event) -> tuple[threading.Thread, list[float]]:
    waited: list[float] = []
    thread = threading.Thread(target=lambda: waited.append(hold.wait(stop.is_set)))
    thread.start()
    return thread, waited


def test_an_unheld_wait_returns_at_once() -> None:
    hold = GenerationHold()
    assert not hold.held
    assert hold.wait(lambda: False) == 0.0
    assert hold.waits == 0


def test_a_wait_lasts_until_the_release() -> None:
    hold = GenerationHold()
    release = hold.take()
    thread, waited = waiter(hold, threading.Event())
    thread.join(0.3)  # it must still be waiting after this
    assert thread.is_alive() and hold.held
    release()
    thread.join(HANG_S)
    assert not thread.is_alive() and waited[0] >= 0.25
    assert not hold.held and hold.waits == 1


def test_overlapping_holds_all_have_to_be_released_and_release_twice_is_harmless() -> None:
    hold = GenerationHold()
    first, second = hold.take(), hold.take()
    first()
    first()  # a second release of the same handle must not release the other one
    assert hold.held
    second()
    assert not hold.held


def test_a_stop_ends_a_held_wait() -> None:
    hold = GenerationHold()
    hold.take()
    stop = threading.Event()
    thread, waited = waiter(hold, stop)
    thread.join(0.1)  # let it reach the wait
    stop.set()
    hold.wake()
    thread.join(HANG_S)
    assert not thread.is_alive() and waited[0] < 1.0


def test_a_stop_is_seen_even_without_a_wake() -> None:
    hold = GenerationHold()
    hold.take()
    stop = threading.Event()
    thread, _ = waiter(hold, stop)
    stop.set()
    thread.join(HANG_S)
    assert not thread.is_alive()


def test_a_forgotten_hold_expires() -> None:
    hold = GenerationHold(max_s=0.3)
    hold.take()  # never released
    assert hold.held
    thread, waited = waiter(hold, threading.Event())
    thread.join(HANG_S)
    assert not thread.is_alive() and 0.2 <= waited[0] < 2.0
    assert not hold.held
