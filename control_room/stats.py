"""Small statistics for the pages: rates with their uncertainty, and whether they fall by segment."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

Z_95 = 1.959963984540054  # two-sided 95 %


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Interval | None:
    """Wilson score interval for successes / trials: unlike p ± z·se it stays within [0, 1] and
    is honest for the small counts of a young campaign (3 replies of 20 is not a precise 15 %).
    None when there is no trial to estimate from."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and trials ({trials}), got {successes}")
    proportion = successes / trials
    z_squared = z * z
    denominator = 1 + z_squared / trials
    centre = (proportion + z_squared / (2 * trials)) / denominator
    half_width = z * math.sqrt(proportion * (1 - proportion) / trials + z_squared / (4 * trials * trials)) / denominator
    # rounding can leave the bounds a hair outside [0, 1] or past the proportion at 0 and 1
    low = 0.0 if successes == 0 else max(0.0, min(proportion, centre - half_width))
    high = 1.0 if successes == trials else min(1.0, max(proportion, centre + half_width))
    return Interval(low, high)


def rate_inversions(rates_by_segment: Sequence[tuple[str, float | None]]) -> list[str]:
    """Where a rate does not fall from one segment to the next (segments in order, A first):
    `C (0.12) > B (0.10)`. Segments without a rate (nobody contacted) are skipped."""
    known = [(segment, rate) for segment, rate in rates_by_segment if rate is not None and not math.isnan(rate)]
    return [
        f"{lower_segment} ({lower_rate:.2f}) > {higher_segment} ({higher_rate:.2f})"
        for (higher_segment, higher_rate), (lower_segment, lower_rate) in pairwise(known)
        if lower_rate > higher_rate
    ]
