"""Time the whole-study analysis on a generated study of 2,000,000 ratings.

1,000 experts x 500 items x 4 rounds on a 5-point scale, with "no opinion" answers, experts
dropping out between rounds, panel groups (one too small to be shown) and opinions that
converge from round to round. Prints the wall time of ``analyse`` (stability and groups
included) and its peak memory.

    python benchmarks/stats_benchmark.py [--experts 1000] [--items 500] [--rounds 4]
                                         [--attrition 0.06] [--repeat 3]

With the default attrition the 2,000,000 possible answers shrink to about 1.8 million;
``--attrition 0`` keeps every expert and gives exactly 2,000,000 rows.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from surveyapp.stats import Settings, analyse

GROUPS = ("gemeente", "zorg", "politie_om", "ngo", "inspectie")


def generate_study(
    experts: int, items: int, rounds: int, attrition: float = 0.06, seed: int = 2024
) -> pd.DataFrame:
    """Return one row per expert, item and round the expert took part in."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform(1.5, 4.5, size=items)  # where each item's opinion settles
    first = np.clip(np.rint(centre + rng.normal(0, 1.3, size=(experts, items))), 1, 5)
    # experts still on the panel in each round: a share leaves after every round
    staying = np.ones(experts, dtype=bool)
    frames = []
    ratings = first
    for round_number in range(1, rounds + 1):
        if round_number > 1:
            staying &= rng.random(experts) >= attrition
            move = rng.random((experts, items)) < 0.35  # some experts revise toward the centre
            ratings = np.where(move, np.clip(ratings + np.sign(centre - ratings), 1, 5), ratings)
        values = ratings.copy()
        values[rng.random((experts, items)) < 0.04] = np.nan  # no opinion
        expert_ids, item_ids = np.nonzero(np.broadcast_to(staying[:, None], (experts, items)))
        frames.append(
            pd.DataFrame(
                {
                    "expert": expert_ids,
                    "item": item_ids,
                    "round": round_number,
                    "value": values[expert_ids, item_ids],
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    del frames
    group_of_expert = np.array(GROUPS, dtype=object)[rng.integers(0, len(GROUPS), size=experts)]
    group_of_expert[:3] = "klein"  # three members: below the minimum, not broken out
    # labels as strings, as they come from a CSV file; rows share the label objects
    expert_labels = np.array([f"E{number}" for number in range(experts)], dtype=object)
    item_labels = np.array([f"S{number}" for number in range(items)], dtype=object)
    expert_ids = frame["expert"].to_numpy()
    frame["group"] = pd.array(group_of_expert[expert_ids], dtype="str")
    frame["expert"] = pd.array(expert_labels[expert_ids], dtype="str")
    frame["item"] = pd.array(item_labels[frame["item"].to_numpy()], dtype="str")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=1000)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--attrition", type=float, default=0.06, help="share leaving per round")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()

    frame = generate_study(options.experts, options.items, options.rounds, options.attrition)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    settings = Settings()
    print(
        f"{len(frame):,} answers ({frame['value'].isna().sum():,} no opinion), "
        f"{frame['expert'].nunique():,} experts, {frame['item'].nunique():,} items, "
        f"{frame['round'].nunique()} rounds"
    )

    timings = []
    for _ in range(options.repeat):
        start = time.perf_counter()
        analysis = analyse(frame, settings)
        timings.append(time.perf_counter() - start)
    print(
        f"analyse: best {min(timings):.2f} s, worst {max(timings):.2f} s "
        f"over {options.repeat} runs; {len(analysis.items):,} item rows, "
        f"{len(analysis.stability):,} stability rows, {len(analysis.groups)} groups shown"
    )

    tracemalloc.start()
    analyse(frame, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"peak memory allocated by analyse (tracemalloc): {peak / 2**20:.0f} MiB")
    print(
        f"peak resident size of the process: {before:.0f} MiB after generating the data, "
        f"{max_rss:.0f} MiB at the end"
    )


if __name__ == "__main__":
    main()
