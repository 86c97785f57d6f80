"""Gradient starvation records (Pezeshki et al. 2021): the network's responses to the data's features."""
from dynamics import losses
from dynamics.errors import ConfigError


def feature_responses(model, params, data, config) -> dict:
    """Extra metric 'feature_responses': 'feature_response' z = Uᵀ(y ŷ) [F], the response to each
    feature of YΦ = U S Vᵀ (U: data.extras['feature_loadings'] [N, F], as the authors' toy_fig_6.py
    records it), and 'class_margin' [2], the mean margin y ŷ of each class's samples (NaN: no sample).
    Binary: y = +1 for class 0, −1 for class 1, ŷ = z_0 − z_1, so y ŷ = logit of the label − the other."""
    if data.extras is None or "feature_loadings" not in data.extras:
        raise ConfigError("metric feature_responses needs data with extras['feature_loadings'] (two_features)")
    if data.class_counts.shape[-1] != 2 or data.y.ndim != 1:
        raise ConfigError("metric feature_responses needs two classes and one label per sample")
    logits = model.apply(params, data.x)
    margins = (1.0 - 2.0 * data.y) * (logits[:, 0] - logits[:, 1])
    return {"feature_response": data.extras["feature_loadings"].T @ margins,
            "class_margin": losses.per_class_mean(margins, data.y, 2)}
