"""Kunstner et al. 2024, "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent
on Language Models", appendix (reweighting): GD on class-reweighted cross-entropy, weights
w_k ∝ π_k^-p with p = 0 (plain), 0.5 (∝ 1/√π_k) and 1 (∝ 1/π_k). Reweighting speeds up the rare
classes under GD; the figure shows the unweighted per-bucket losses and the average unweighted
loss ('mean_loss', also in members.csv as final_mean_loss) for each p.

The model is a config-string choice (the ml_collections convention):
Run:     python -m dynamics.main --config=configs/heavy_tail_reweighting.py --workdir=/tmp/heavy_tail_reweighting
         (linear softmax model on step-Zipf data as configs/heavy_tail_linear.py, but d = 256 < n and W = 0)
         python -m dynamics.main --config=configs/heavy_tail_reweighting.py:transformer \
             --workdir=/tmp/heavy_tail_reweighting_transformer
         (the transformer of configs/heavy_tail_transformer.py)
Runtime (3 exponents x 3 GD learning rates, vmapped in one program; 300 full-batch steps), CPU time on a 2-core CPU: linear 1.4 min, transformer 3.5 min (measured 3.3 and
         11 min wall-clock while the machine was shared, load average ~10).
The learning rate is selected per exponent for the lowest final unweighted average loss
('mean_loss'), the quantity being compared.
"""
import importlib.util
import os

from dynamics import sweep

MODELS = ("linear", "transformer")


def _base_config(name: str):
    """get_config() of configs/NAME.py, the experiment this one reweights."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"configs_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def get_config(model: str = "linear"):
    """model: 'linear' (default; configs/heavy_tail_linear.py) or 'transformer'
    (configs/heavy_tail_transformer.py), given as configs/heavy_tail_reweighting.py:transformer."""
    model = model or "linear"
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; valid choices: {', '.join(MODELS)}")
    c = _base_config("heavy_tail_linear" if model == "linear" else "heavy_tail_transformer")
    # Every section and field is the base experiment's (see its file for the comments); changed here:
    c.optimizer.name = "gd"  # plain gradient descent for every member
    c.loss.reweight_exponent = 0.0  # p in w_k ∝ π_k^-p (swept below)
    c.train.per_class_grad_norm = False  # not needed for this figure
    c.select.rule = "best_lr"  # per exponent, the learning rate with the lowest final select.metric
    c.select.metric = "mean_loss"  # the unweighted average loss, the quantity being compared
    c.figures = ("reweighting",)  # per-bucket unweighted loss per p, and mean_loss of every p
    if model == "linear":
        # Not the paper's d > n regime of heavy_tail_linear: its GD step sizes (<= 0.1 at m = 8) are not those
        # of the transformer, and get_sweep() serves both; with d < n and W = 0, lr 0.3-3 is stable here.
        c.data.input_dim = 256  # d < n = 2048
        c.model.init_scale = 0.0  # W = 0, b = 0
    return c


def get_sweep():
    """Exponents p in {0, 0.5, 1} x GD learning rates (all floats: one vmapped program)."""
    return sweep.product(sweep.axis("loss.reweight_exponent", [0.0, 0.5, 1.0]),
                         sweep.axis("optimizer.learning_rate", [0.3, 1.0, 3.0]))
