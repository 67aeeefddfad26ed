"""Launches at the same moment: exactly one Harken runs, the others bring it forward.

Real processes race through the real single-instance code
(``tests/support/instance_probe.py``): each waits for a common starting gun on
stdin, so they claim the instance at the same moment. Before the lock, two
launches both ran 5 times in 5.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Launch:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.instance_probe"],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.line() == "ready"

    def line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def quit(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=30)


@pytest.fixture
def launches(tmp_path: Path) -> Iterator[tuple[dict[str, str], list[Launch]]]:
    sockets = tmp_path / "sockets"  # a private socket and lock directory
    sockets.mkdir()
    env = {**os.environ, "TMPDIR": str(sockets), "QT_QPA_PLATFORM": "offscreen"}
    started: list[Launch] = []
    yield env, started
    for launch in started:
        if launch.proc.poll() is None:
            launch.proc.kill()
            launch.proc.wait(timeout=10)
        for stream in (launch.proc.stdin, launch.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def race(env: dict[str, str], started: list[Launch], count: int) -> list[Launch]:
    group = [Launch(env) for _ in range(count)]
    started.extend(group)
    for launch in group:  # everyone is up and waiting: fire
        launch.go()
    return group


@pytest.mark.parametrize("round_no", range(3))
def test_launches_at_the_same_moment_start_exactly_one(
    round_no: int, launches: tuple[dict[str, str], list[Launch]]
) -> None:
    env, started = launches
    group = race(env, started, 4)
    said = {launch: launch.line() for launch in group}
    firsts = [launch for launch, word in said.items() if word == "first"]
    assert len(firsts) == 1, sorted(said.values())
    others = [launch for launch in group if launch not in firsts]
    assert all(launch.proc.wait(timeout=30) == 0 for launch in others)
    (first,) = firsts
    assert [first.line() for _ in others] == ["activated"] * len(others)  # brought forward
    assert first.quit() == 0


def test_after_a_quit_the_next_launch_is_first_and_no_third_starts_beside_a_survivor(
    launches: tuple[dict[str, str], list[Launch]],
) -> None:
    env, started = launches
    (first,) = race(env, started, 1)
    assert first.line() == "first"
    (second,) = race(env, started, 1)
    assert second.line() == "second" and second.proc.wait(timeout=30) == 0
    (third,) = race(env, started, 1)  # the second quit: still no room beside the first
    assert third.line() == "second"
    assert first.quit() == 0
    (fourth,) = race(env, started, 1)  # the first quit: the lock is free again
    assert fourth.line() == "first"
    assert fourth.quit() == 0
