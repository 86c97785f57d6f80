"""Device memory of one compiled heavy_tail_linear chunk as the number of vmapped members grows.

Run: python benchmarks/sweep_memory.py [--variant=paper] [--members=1,4,16]
XLA's own memory analysis of the compiled program (arguments, outputs and temporaries) is read for
M members; the per-member slope tells how many members fit in a given memory.
"""
import argparse

import jax

from dynamics import config as config_lib
from dynamics import sweep, train

GIB = 2**30


def config(per_class_grad_norm: bool, variant: str = "") -> dict:
    c, _ = config_lib.load_named("heavy_tail_linear", variant)
    c["train"]["per_class_grad_norm"] = per_class_grad_norm
    return c


def chunk_bytes(c: dict, members: int) -> int:
    _, groups = train.plan(c, sweep.product(sweep.axis("optimizer.name", ["adam"]),
                                            sweep.axis("optimizer.learning_rate", [1e-3 * (i + 1) for i in range(members)])))
    return train.program_bytes(groups[0], members)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", default="", help="heavy_tail_linear's variant ('' or paper)")
    parser.add_argument("--members", default="1,4,16", help="member counts M (the slope uses the last two)")
    parser.add_argument("--grad_norm", default="False,True", help="per_class_grad_norm settings to measure")
    args = parser.parse_args()
    counts = [int(m) for m in args.members.split(",")]
    data = config(False, args.variant)["data"]
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; adam members of heavy_tail_linear "
          f"(N={data['num_samples']}, d={data['input_dim']}, C={data['num_classes']})")
    for grad_norm in (g == "True" for g in args.grad_norm.split(",")):
        sizes = {m: chunk_bytes(config(grad_norm, args.variant), m) for m in counts}
        a, b = counts[-2:]
        slope = (sizes[b] - sizes[a]) / (b - a)
        fixed = sizes[a] - a * slope
        print(f"per_class_grad_norm={grad_norm}: " + ", ".join(f"M={m}: {b / 2**20:.0f} MiB" for m, b in sizes.items())
              + f" -> {slope / 2**20:.1f} MiB per member + {fixed / 2**20:.0f} MiB shared;"
              f" about {int((24 * GIB - fixed) // slope)} members fit in 24 GiB")


if __name__ == "__main__":
    main()
