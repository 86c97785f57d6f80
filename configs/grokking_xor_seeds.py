"""grokking_xor over seeds, with the paper's i.i.d. training sampling and the stratified one: how
often does Xu et al.'s claim hold? One vmapped run of 24 members (seed = data.seed = 0..11, each
with data.sampling = iid and stratified).

The claim, per member (thresholds ours): at step 1 every training label is fitted, the flipped ones
included (train accuracy 1.0), while test accuracy <= 0.6 (near chance); at the last step test
accuracy >= Bayes - 0.05 (near Bayes-optimal, theory/xor_clusters.py) and the flipped labels are
still fitted. Read it off with

    from dynamics.history import History; from theory.xor_clusters import bayes_accuracy
    h = History.load(DIR); r = h.records; one = list(h.step).index(1)
    early = (r["accuracy"][:, one] == 1) & (r["test_accuracy"][:, one] <= 0.6)
    late = (r["test_accuracy"][:, -1] >= bayes_accuracy(h.config["data"]["mean_norm"]) - 0.05) \
        & (r["flipped_train_accuracy"][:, -1] == 1)

Variants: get_config() is grokking_xor's setting (d = 20000, ||mu|| = 30, 600 steps);
get_config("small") is tests/test_grokking_claims.py's XOR instance (d = 5000, ||mu|| = 20,
omega_init = 2e-4, 150 steps).

Run:     python -m dynamics.main --config=configs/grokking_xor_seeds.py --workdir=/tmp/xor_seeds
         python -m dynamics.main --config=configs/grokking_xor_seeds.py:small --workdir=/tmp/xor_seeds_small
Runtime: 313 s on the shared 2-core CPU (124 s of CPU; 24 members x 600 steps in one program);
         small: 43 s (14 s of CPU; 18.7 s of CPU measured again with dynamics.main).

Measured (success of the claim, seeds 0-11):
                      iid (the paper's)   stratified
  default (d = 20000)       3/12             12/12    early 12/12 both; iid final test 0.60-0.99
  small   (d = 5000)        1/12             12/12    iid: 11/12 early, 2/12 late
"""
from dynamics import config, sweep

NUM_SEEDS = 12  # seeds per sampling


def get_config(variant=""):
    c = config.based_on("grokking_xor", variant)  # grokking_xor's setting (small: the claim test's instance)
    c.figures = ()  # no figure: the readout is the table in the docstring
    return c


def get_sweep(variant=""):
    """seed = data.seed (init and data together) x sampling; all in one vmapped program (both variants)."""
    seeds = sweep.zip(sweep.axis("seed", range(NUM_SEEDS)), sweep.axis("data.seed", range(NUM_SEEDS)))
    return sweep.product(sweep.axis("data.sampling", ["iid", "stratified"]), seeds)
