"""Seconds per call of the softmax-flow predictions for C = 10^4 classes (Zipf 1) and 200 times.

Run: python benchmarks/theory_speed.py [--classes=10000] [--times=200] [--repeats=5]
Prints one line per (function, flow): the median wall and process-CPU seconds of `repeats` calls
(CPU time is the steadier number on a shared machine), and the first call's wall time (numpy/scipy:
nothing is compiled). Times span t ∈ [0, 20/π_min], log-spaced: every class from start to its tail.
"""
import argparse
import platform
import statistics
import time

import numpy as np

from theory import softmax_flow


def zipf(num_classes: int, exponent: float = 1.0) -> np.ndarray:
    p = np.arange(1, num_classes + 1, dtype=np.float64) ** -exponent
    return p / p.sum()


def median_seconds(fn, repeats: int) -> tuple:
    """(median wall seconds, median CPU seconds of this process, first call's wall seconds)."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), wall[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=10_000)
    parser.add_argument("--times", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--flows", default="gd,sign", help="comma-separated subset of gd,sign,normalized")
    args = parser.parse_args()
    pi = zipf(args.classes)
    times = np.concatenate([[0.0], np.geomspace(1e-2, 20.0 / pi.min(), args.times - 1)])
    print(f"# {platform.processor() or platform.machine()}, C = {args.classes}, {args.times} times, "
          f"median of {args.repeats}")
    for name, fn in (("orthogonal_per_class_loss", softmax_flow.orthogonal_per_class_loss),
                     ("unigram_per_class_loss", softmax_flow.unigram_per_class_loss)):
        for flow in args.flows.split(","):
            wall, cpu, first = median_seconds(lambda: fn(pi, times, flow), args.repeats)
            print(f"{name}(flow={flow!r}): {wall:.3f} s wall, {cpu:.3f} s CPU (first call {first:.3f} s)")


if __name__ == "__main__":
    main()
