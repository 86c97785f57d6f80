"""Benign overfitting, then grokking, on XOR cluster data with flipped labels (Xu, Wang, Frei, Vardi,
Hu 2024, "Benign Overfitting and Grokking in ReLU Networks for XOR Cluster Data", Thms. 3.1-3.2):
a two-layer ReLU network trained by GD from a small initialisation fits every training label,
the flipped ones included, after its first step while its test accuracy is near chance; later
its test accuracy becomes near Bayes-optimal while the flipped labels stay fitted.

Scalings (our own estimates below, of the regime the paper analyses; its assumptions' exact form
and constants were not checked against the paper's text; numbers checked over 12 data/init seeds:
step 1 train accuracy 1.0, flipped 1.0, test 0.49-0.56; final test accuracy 0.995-1.0):
  * d >> sqrt(n) ||mu||^2 and d >> n: after one step the network is close to the linear classifier
    sum_i y_i x_i, whose own-sample term ||x_i||^2 ~ d fits every label (flipped ones too), while on
    XOR clusters a linear classifier gets one of ±mu right and the other wrong: test accuracy ~1/2;
  * ||mu||^2 >> sqrt(d / n): a neuron aligned with a cluster separates it from the noise, so the
    clusters can be learned once the ReLU activation patterns follow them (the later phase);
  * initialisation omega_init = 0.3 x step size: large enough that the first step leaves the
    activation patterns of test points as they were (so the step-1 network is linear), small enough
    that the initial output (~omega sqrt(d)) is below the first step's (~alpha d / 4n);
  * step size alpha small: the loss stays near log 2 for tens of steps, so features grow before
    the memorised noise saturates the logistic loss.
The training set is stratified by default (data.sampling = "stratified": 10 samples and 2 flips
per cluster, see xor_clusters); data.sampling = "iid" is the paper's sampling (clusters uniform,
flips independent). Success rate of the claim over seeds 0-11 (configs/grokking_xor_seeds.py;
success = train accuracy 1.0 and test <= 0.6 at step 1, test >= Bayes - 0.05 at the end with the
flipped labels still fitted): stratified 12/12, iid 3/12 here (1/12 at the claim test's d = 5000,
||mu|| = 20, 150 steps). The i.i.d. failures stall (test accuracy 0.60-0.90, flat from step ~200
on, training loss 0.01): at n = 40 i.i.d. sampling gives clusters of 5-16 samples with 0-50% of
their labels flipped. A larger n concentrates this, but at the d this CPU affords the first step
then no longer memorises (n = 160, d = 20000: step-1 train accuracy 0.88-0.94).

Measured (seed 0): step 0 train accuracy 0.575; step 1 train accuracy 1.0 (the 8 flipped labels
included), test accuracy 0.545; test accuracy >= 99% at step 74 (members.csv grokking_time 73)
and 1.0 at step 600 against a Bayes-optimal 1.000, the flipped labels still fitted.
agreement.csv: final test accuracy against the Bayes accuracy (tolerance 0.02, the claim test's).

Run:     python -m dynamics.main --config=configs/grokking_xor.py --workdir=/tmp/grokking_xor
Small:   python -m dynamics.main --config=configs/grokking_xor.py:small --workdir=/tmp/grokking_xor_small   (tests, notebooks, figures --small)
Runtime: 52 s on the shared 2-core CPU (load ~4.8; 31 s of CPU), 600 GD steps.
         small: 5.6 s of CPU (dynamics.main).
No paper variant: the authors published no code and their experiment's n, d, ||mu||, width, step size
and initialisation were not available to this project, so there is no paper size to restore.
"""
from dynamics import config


def get_config(variant=""):
    c = config.defaults(data="xor_clusters", model="two_layer_relu")  # n = 40, d = 20000, ||mu|| = 30; m = 100
    c.model.init_scale = 3e-4  # omega_init: w_j ~ N(0, omega_init^2 I_d), a fraction of the step size
    c.optimizer.learning_rate = 1e-3  # step size alpha (full-batch GD, as in the paper): loss near log 2 for many steps
    c.train.num_steps = 600  # GD steps
    c.train.num_log_points = 60  # log-spaced records; steps 0, 1, 2, ... are all logged
    c.train.extra_metrics = ("flipped_label_accuracy",)  # train accuracy on clean / flipped samples
    c.figures = ("grokking_xor",)  # train (clean, flipped) and test accuracy against the Bayes accuracy
    if config.variant(variant, ("small",)) == "small":  # tests/test_grokking_claims.py's instance
        c.data.input_dim = 5000  # d: still >> sqrt(n) ||mu||^2 = 2530
        c.data.mean_norm = 20.0  # ||mu||^2 = 400 >> sqrt(d / n) = 11
        c.data.num_test = 500  # fewer test samples
        c.model.init_scale = 2e-4  # omega_init below the first step's output at this d
        c.train.num_steps = 150  # test accuracy >= 0.994 by then
        c.train.chunk_steps = 150  # one compiled chunk
        c.train.num_log_points = 20  # fewer records (steps 0-3 still logged)
    return c
