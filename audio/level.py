"""Input level in dBFS for the microphone meter.

``LevelMeter.update`` measures each block (RMS and peak, floored at
-100 dBFS) and keeps a display value that jumps up at once and falls back
slowly, like a peak programme meter, so speech reads as a steady bar
instead of flicker. ``normalised`` maps that value to 0..1 for a widget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .capture import SAMPLE_RATE_HZ

FLOOR_DBFS = -100.0


@dataclass(frozen=True)
class Level:
    rms_dbfs: float
    peak_dbfs: float


def to_dbfs(amplitude: float) -> float:
    """20·log10(amplitude) against full scale 1.0, never below ``FLOOR_DBFS``."""
    if amplitude <= 10 ** (FLOOR_DBFS / 20):
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * float(np.log10(amplitude)))


class LevelMeter:
    """Block levels plus a smoothed display level.

    ``release_db_per_s``: how fast the display falls after a loud block
    (attack is instant). ``range_db``: the span shown by ``normalised``:
    ``-range_db`` dBFS maps to 0 and 0 dBFS to 1.
    """

    def __init__(
        self,
        *,
        release_db_per_s: float = 24.0,
        range_db: float = 60.0,
        sample_rate_hz: int = SAMPLE_RATE_HZ,
    ) -> None:
        self.release_db_per_s = release_db_per_s
        self.range_db = range_db
        self.sample_rate_hz = sample_rate_hz
        self.smoothed_dbfs = FLOOR_DBFS
        self.last = Level(FLOOR_DBFS, FLOOR_DBFS)

    def update(self, block: npt.NDArray[np.floating]) -> Level:
        data = np.asarray(block, dtype=np.float32).reshape(-1)
        if len(data) == 0:
            return self.last
        rms = float(np.sqrt(np.mean(np.square(data, dtype=np.float64))))
        peak = float(np.max(np.abs(data)))
        level = Level(rms_dbfs=to_dbfs(rms), peak_dbfs=to_dbfs(peak))
        fallen = self.smoothed_dbfs - self.release_db_per_s * len(data) / self.sample_rate_hz
        self.smoothed_dbfs = max(level.rms_dbfs, fallen, FLOOR_DBFS)
        self.last = level
        return level

    @property
    def normalised(self) -> float:
        """The smoothed level as 0..1 over the meter's ``range_db``."""
        return float(np.clip((self.smoothed_dbfs + self.range_db) / self.range_db, 0.0, 1.0))

    def reset(self) -> None:
        self.smoothed_dbfs = FLOOR_DBFS
        self.last = Level(FLOOR_DBFS, FLOOR_DBFS)
