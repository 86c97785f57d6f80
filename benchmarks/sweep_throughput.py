"""One vmapped sweep vs the same members one after another vs a plain PyTorch loop (the seed paper's way).

Run: pip install -e '.[bench]' && python benchmarks/sweep_throughput.py
The heavy-tail linear problem (step-Zipf inputs U[0,1], zero init, full batch) is swept over
4 optimizers x 8 learning rates x 2 data seeds and run three ways in this one process:
  (a) dynamics.train.run on the whole sweep: one compiled program for the four optimizers (a traced
      index picks each member's), members vmapped (m = 5) or, too large for the cache, one after
      another inside it (m = 8: dynamics.memory.one_at_a_time);
  (b) dynamics.train.run once per member (each run compiles its own program);
  (c) a plain PyTorch implementation, one run at a time, as the paper's code runs.
Before timing, (c) is checked against (b): per-class losses after 10 steps agree to 1e-4.
Every way records the per-class loss at the same logged steps.
"""
import argparse
import os
import platform
import time

import numpy as np
import torch

from dynamics import sweep, train
from dynamics.config import load_named
from dynamics.data import build_dataset

RATES = {"gd": np.geomspace(0.03, 10.0, 8), "adam": np.geomspace(1e-3, 0.3, 8),
         "sign": np.geomspace(1e-4, 3e-2, 8), "normalized_gd": np.geomspace(0.03, 10.0, 8)}


def base_config(groups: int, dim: int, steps: int) -> dict:
    config = load_named("heavy_tail_linear")[0]
    config["data"].update(num_classes=2**groups - 1, num_samples=groups * 2**groups, input_dim=dim)
    config["model"]["init_scale"] = 0.0  # W = 0, b = 0: the reference below starts there too
    config["train"].update(num_steps=steps, chunk_steps=min(steps + 1, 250), num_log_points=20,
                           per_class_grad_norm=False)
    config["select"]["rule"] = "none"
    return config


def members(rates_per_optimizer: int, seeds: int) -> list:
    return sweep.chain(*[
        sweep.product(sweep.axis("optimizer.name", [name]),
                      sweep.axis("optimizer.learning_rate", [float(r) for r in rates[:: 8 // rates_per_optimizer]]),
                      sweep.axis("data.seed", list(range(seeds))))
        for name, rates in RATES.items()])


def torch_run(config: dict, member: dict, log_steps: np.ndarray) -> np.ndarray:
    """The experiment in plain PyTorch: per-class loss [L, C] at the logged steps."""
    torch.manual_seed(0)
    data = build_dataset(dict(config["data"], seed=member["data.seed"]))
    x, y = torch.from_numpy(data.x), torch.from_numpy(data.y.astype(np.int64))
    num_classes = data.num_classes
    model = torch.nn.Linear(x.shape[1], num_classes)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    name, lr = member["optimizer.name"], member["optimizer.learning_rate"]
    adam = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8) if name == "adam" else None
    counts = torch.bincount(y, minlength=num_classes).clamp(min=1).float()
    out = np.zeros((len(log_steps), num_classes), np.float32)
    logged = {int(s): i for i, s in enumerate(log_steps)}
    for step in range(int(log_steps[-1]) + 1):
        per_sample = torch.nn.functional.cross_entropy(model(x), y, reduction="none")
        if step in logged:
            out[logged[step]] = (torch.zeros(num_classes).index_add_(0, y, per_sample.detach()) / counts).numpy()
        if step == log_steps[-1]:
            break
        model.zero_grad()
        per_sample.mean().backward()
        with torch.no_grad():
            if adam is not None:
                adam.step()
                continue
            grads = [p.grad for p in model.parameters()]
            norm = torch.sqrt(sum((g**2).sum() for g in grads))
            for p, g in zip(model.parameters(), grads):
                direction = {"gd": g, "sign": torch.sign(g), "normalized_gd": g / norm}[name]
                p -= lr * direction
    return out


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def compare(groups: int, dim: int, steps: int, rates: int, seeds: int, sequential: bool) -> None:
    config = base_config(groups, dim, steps)
    sweep_members = members(rates, seeds)
    quiet = dict(progress=lambda line: None)
    print(f"\n== m={groups} (C={2**groups - 1}, N={groups * 2**groups}), d={dim}, {len(sweep_members)} members, "
          f"{steps} steps ==")
    check = base_config(groups, dim, 10)
    probe = [m for m in members(1, 1)]
    reference = train.run(check, probe, **quiet)
    worst = max(np.max(np.abs(torch_run(check, m, reference.step) - reference.records["per_class_loss"][i]))
                for i, m in enumerate(probe))
    print(f"check: max |loss_torch - loss_dynamics| over classes and 10 steps = {worst:.2e} (must be <= 1e-4)")
    assert worst <= 1e-4, worst
    history, t_sweep = timed(lambda: train.run(config, sweep_members, **quiet))
    print(f"(a) one vmapped sweep:           {t_sweep:8.1f} s")
    t_seq = None
    if sequential:
        _, t_seq = timed(lambda: [train.run(config, [m], **quiet) for m in sweep_members])
        print(f"(b) members one after another:   {t_seq:8.1f} s   (b)/(a) = {t_seq / t_sweep:.1f}")
    _, t_torch = timed(lambda: [torch_run(config, m, history.step) for m in sweep_members])
    print(f"(c) plain PyTorch, one at a time: {t_torch:8.1f} s   (c)/(a) = {t_torch / t_sweep:.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--default_rates", type=int, default=2, help="learning rates per optimizer at m=8")
    parser.add_argument("--large", action="store_true", help="also m=9, d=512")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}")
    compare(groups=5, dim=64, steps=1000, rates=8, seeds=2, sequential=True)
    compare(groups=8, dim=256, steps=1000, rates=args.default_rates, seeds=1, sequential=False)
    if args.large:
        compare(groups=9, dim=512, steps=1000, rates=args.default_rates, seeds=1, sequential=False)


if __name__ == "__main__":
    main()
