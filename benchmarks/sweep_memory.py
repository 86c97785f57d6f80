"""Device memory of one compiled heavy_tail_linear chunk as the number of vmapped members grows.

Run: python benchmarks/sweep_memory.py
XLA's own memory analysis of the compiled program (arguments, outputs and temporaries) is read for
M members; the per-member slope tells how many members fit in a given memory.
"""
import jax
import jax.numpy as jnp

from dynamics import sweep, train
from dynamics.config import load_named

GIB = 2**30


def config(per_class_grad_norm: bool) -> dict:
    c = load_named("heavy_tail_linear")[0]
    c["train"]["per_class_grad_norm"] = per_class_grad_norm
    return c


def chunk_bytes(c: dict, members: int) -> int:
    _, groups = train.plan(c, sweep.product(sweep.axis("optimizer.name", ["adam"]),
                                            sweep.axis("optimizer.learning_rate", [1e-3 * (i + 1) for i in range(members)])))
    program = train.compile_group(groups[0])
    compiled = program.chunk.lower(program.numbers, program.data, program.states, program.records, jnp.int32(0)).compile()
    stats = compiled.memory_analysis()
    return stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes - stats.alias_size_in_bytes


def main():
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; adam members of heavy_tail_linear (N=2048, d=256, C=255)")
    for grad_norm in (False, True):
        sizes = {m: chunk_bytes(config(grad_norm), m) for m in (1, 4, 16)}
        slope = (sizes[16] - sizes[4]) / 12
        fixed = sizes[4] - 4 * slope
        print(f"per_class_grad_norm={grad_norm}: " + ", ".join(f"M={m}: {b / 2**20:.0f} MiB" for m, b in sizes.items())
              + f" -> {slope / 2**20:.1f} MiB per member + {fixed / 2**20:.0f} MiB shared;"
              f" about {int((24 * GIB - fixed) // slope)} members fit in 24 GiB")


if __name__ == "__main__":
    main()
