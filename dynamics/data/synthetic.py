"""Synthetic classification data: a frequency law over classes and a law for the inputs."""
import numpy as np

from dynamics.data import laws
from dynamics.data.dataset import Dataset
from dynamics.errors import ConfigError, check_choice, check_range

INPUTS = ("uniform", "gaussian", "gaussian_mixture", "barcodes")


def synthetic(law: str = "step_zipf", num_classes: int = 255, num_samples: int = 2048, exponent: float = 1.0,
              ratio: float = 10.0, inputs: str = "uniform", input_dim: int = 256, input_mean: float = 0.5,
              class_separation: float = 0.0, seed: int = 0) -> Dataset:
    """Labels from a frequency law; inputs from one of INPUTS. The defaults are Kunstner et al. 2024's
    linear experiment at m = 8 groups (step-Zipf, 255 classes, n = 2048, U[0, 1] inputs).

    law, num_classes, num_samples: the class counts (dynamics.data.laws.class_counts); exponent is
      used by law=zipf, ratio (majority/minority) by law=two_class.
    input_dim: d; input_mean: the inputs' shared offset (0.5 gives U[0, 1]); class_separation: the
      class means' spread (gaussian_mixture only); seed: the data's own seed, fixed across members.

    uniform: i.i.d. U[mean-1/2, mean+1/2] per coordinate, independent of the label (Kunstner et
      al. 2024's linear experiment uses U[0, 1], i.e. input_mean=0.5: all samples share a mean).
    gaussian: i.i.d. N(mean, 1/12) per coordinate (the variance of U[0,1]), independent of the label.
    gaussian_mixture: class means drawn N(0, class_separation^2/d), plus gaussian noise as above.
    barcodes: x = e_y, an orthogonal one-hot code per class (input_dim must be >= num_classes).
    """
    check_choice("input law (data.inputs)", inputs, INPUTS)
    if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
        raise ConfigError(f"data.input_dim must be a positive integer, got {input_dim!r}")
    check_range("data.input_mean", input_mean)
    check_range("data.class_separation", class_separation, 0.0)
    counts = laws.class_counts(law, num_classes, num_samples, exponent, ratio)
    y = laws.labels_from_counts(counts)
    rng = np.random.default_rng(seed)
    shape = (len(y), input_dim)
    if inputs == "uniform":
        x = rng.uniform(-0.5, 0.5, shape) + input_mean
    elif inputs == "gaussian":
        x = rng.normal(0.0, np.sqrt(1 / 12), shape) + input_mean
    elif inputs == "gaussian_mixture":
        means = rng.normal(0.0, class_separation / np.sqrt(input_dim), (num_classes, input_dim))
        x = means[y] + rng.normal(0.0, np.sqrt(1 / 12), shape) + input_mean
    else:
        if input_dim < num_classes:
            raise ConfigError(f"barcodes need data.input_dim >= data.num_classes ({num_classes}), got {input_dim}")
        x = np.eye(input_dim)[y] + input_mean
    return Dataset(x=x.astype(np.float32), y=y, class_counts=counts)
