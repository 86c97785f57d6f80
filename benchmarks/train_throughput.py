"""Steps/s of the heavy_tail_linear GD member, the FLOP/s it implies, this machine's matmul FLOP/s, and
the steps/s of the step's own two matmuls run bare (the limit the trainer's overhead is measured against).

Run: python benchmarks/train_throughput.py [--repeats=5] [--variant=paper] [--precision=bfloat16] [--peak_size=8192]
All are measured in this one process, side by side in every repeat; the ratios are the trainer's share of each.
--precision sets train.matmul_precision and the peak's matmul precision alike (the bfloat16 peak is that of
bfloat16 inputs: the device's own; the trainer keeps float32 arrays, which a GPU then multiplies in TF32); give a
--peak_size big enough to reach the accelerator's peak (8192). The last line, "RESULT ...", is for benchmarks/accelerator_check.sh.
A step of the linear softmax model costs two N x d x C matmuls (logits = XW and the gradient X^T R),
so 4 N d C flops; everything else in the step (softmax, optimizer, finiteness checks) is counted as overhead.
"""
import argparse
import os
import platform
import statistics
import time

import jax
import jax.numpy as jnp

from dynamics import config as config_lib
from dynamics import train


def heavy_tail_config(variant: str = "", precision: str = "float32", chunk_steps: int = 100):
    config, _ = config_lib.load_named("heavy_tail_linear", variant)
    config["train"].update(num_log_points=2, per_class_grad_norm=False, chunk_steps=chunk_steps, num_steps=10_000,
                           matmul_precision=precision)
    return config


def matmul_flops(n: int = 2048, repeats: int = 20, dtype=jnp.float32) -> float:
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), dtype)
    f = jax.jit(lambda a: a @ a)
    f(a).block_until_ready()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(a).block_until_ready()
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times)


def bare_steps_per_second(n: int, d: int, c: int, steps: int, chunks: int = 5) -> float:
    """Median steps/s of the step's own two matmuls alone, scanned as the trainer scans its steps:
    logits = X W [N, C] and the gradient X^T R [d, C] (R: the logits, standing in for the residual)."""
    x = jax.random.uniform(jax.random.PRNGKey(0), (n, d))

    def body(w, _):
        return w - 1e-9 * (x.T @ (x @ w)), None

    chunk = jax.jit(lambda w: jax.lax.scan(body, w, None, length=steps)[0], donate_argnums=0)
    w = jnp.zeros((d, c))
    rates = []
    for i in range(chunks + 1):
        t = time.perf_counter()
        w = chunk(w).block_until_ready()
        if i:  # the first call compiles
            rates.append(steps / (time.perf_counter() - t))
    return statistics.median(rates)


def train_steps_per_second(config, chunks: int = 5) -> float:
    """Median steps/s over chunks of the compiled, scanned GD step (compilation excluded)."""
    _, groups = train.plan(config, [{"optimizer.name": "gd", "optimizer.learning_rate": 0.3}])
    program = train.compile_group(groups[0])
    states, records = program.states, program.records
    steps = config["train"]["chunk_steps"]
    rates = []
    for i in range(chunks + 1):
        t = time.perf_counter()
        states, records = program.chunk(program.numbers, program.data, states, records, jnp.int32(1 + i * steps))
        jax.block_until_ready(states)
        if i:  # the first call compiles
            rates.append(steps / (time.perf_counter() - t))
    return statistics.median(rates)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variant", default="", help="heavy_tail_linear's variant ('' or paper)")
    parser.add_argument("--precision", default="float32", choices=train.MATMUL_PRECISIONS)
    parser.add_argument("--peak_size", type=int, default=2048, help="n of the n x n matmul whose FLOP/s is the peak")
    parser.add_argument("--chunks", type=int, default=5, help="timed chunks per repeat")
    parser.add_argument("--chunk_steps", type=int, default=100)
    args = parser.parse_args()
    jax.config.update("jax_default_matmul_precision", args.precision)  # the peak's and the trainer's
    config = heavy_tail_config(args.variant, args.precision, args.chunk_steps)
    data = config["data"]
    n, d, c = data["num_samples"], data["input_dim"], data["num_classes"]
    flops_per_step = 4 * n * d * c
    results = []
    for _ in range(args.repeats):  # the three side by side in every repeat
        peak = matmul_flops(args.peak_size, dtype=jnp.bfloat16 if args.precision == "bfloat16" else jnp.float32)
        rate = train_steps_per_second(config, args.chunks)
        bare = bare_steps_per_second(n, d, c, args.chunk_steps, args.chunks)
        results.append((peak, rate, rate * flops_per_step, bare))
    peak, rate, achieved, bare = (statistics.median(col) for col in zip(*results))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__} "
          f"on {jax.devices()[0].platform}")
    print(f"heavy_tail_linear GD member (N={n}, d={d}, C={c}): {rate:.1f} steps/s = {achieved / 1e9:.1f} GFLOP/s")
    print(f"dense matmul {args.peak_size}x{args.peak_size} ({args.precision} precision"
          f"{', bfloat16 inputs' if args.precision == 'bfloat16' else ''}): {peak / 1e9:.1f} GFLOP/s")
    print(f"the step's own two matmuls alone (X W and X^T R, scanned): {bare:.1f} steps/s")
    print(f"ratios (medians of {args.repeats} runs): {achieved / peak:.2f} of the matmul peak (target 0.85), "
          f"{rate / bare:.2f} of the bare matmul pair (target 0.9)")
    print(f"RESULT steps_per_s={rate:.1f} gflops={achieved / 1e9:.1f} peak_gflops={peak / 1e9:.1f} "
          f"ratio={achieved / peak:.2f} bare_steps_per_s={bare:.1f} ratio_bare={rate / bare:.2f}")


if __name__ == "__main__":
    main()
