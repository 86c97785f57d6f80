"""The decoder-only transformer: causal, correct shapes, rotary positions relative, config checks; the CNN."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics.errors import ConfigError
from dynamics.models import build_model
from dynamics.models.transformer import rotary


def transformer_config(**changes):
    config = dict(name="transformer", init_scale=1.0, width=16, depth=2, num_heads=2, mlp_ratio=2,
                  positions="learned", tie_embeddings=False)
    config.update(changes)
    return config


@pytest.mark.parametrize("positions,tie", [("learned", False), ("rotary", True)])
@pytest.mark.slow
def test_transformer_is_causal(positions, tie):
    """Changing the token at position t changes no logit at positions < t (and does change position t)."""
    tokens = np.random.default_rng(0).integers(0, 11, (3, 10)).astype(np.int32)
    model = build_model(transformer_config(positions=positions, tie_embeddings=tie), tokens[:1], 11)
    params = jax.jit(model.init)(jax.random.PRNGKey(0))
    positions_changed = (0, 4, 9)
    variants = [tokens]
    for t in positions_changed:
        changed = tokens.copy()
        changed[:, t] = (changed[:, t] + 1 + np.arange(3)) % 11
        variants.append(changed)
    logits, *others = np.asarray(jax.jit(model.apply)(params, np.concatenate(variants))).reshape(4, 3, 10, 11)
    for t, other in zip(positions_changed, others):
        np.testing.assert_array_equal(other[:, :t], logits[:, :t])
        assert np.max(np.abs(other[:, t] - logits[:, t])) > 1e-6


def test_tied_embeddings_share_the_input_table():
    tokens = np.zeros((1, 4), np.int32)
    tied = build_model(transformer_config(tie_embeddings=True), tokens, 7)
    untied = build_model(transformer_config(tie_embeddings=False), tokens, 7)
    p_tied = jax.jit(tied.init)(jax.random.PRNGKey(0))
    p_untied = jax.eval_shape(untied.init, jax.random.PRNGKey(0))
    assert "head" not in p_tied and "head" in p_untied
    assert tied.classifier(p_tied).shape == (7, 16) and p_untied["head"]["kernel"].shape == (16, 7)
    logits, features = jax.jit(lambda p: (tied.apply(p, tokens), tied.features(p, tokens)))(p_tied)
    np.testing.assert_allclose(np.asarray(logits[0]), np.asarray(features @ tied.classifier(p_tied).T), atol=1e-5)


def test_rotary_scores_depend_only_on_the_offset():
    """RoPE (Su et al. 2021): <R_s q, R_t k> depends on t - s only, and rotation keeps norms."""
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(1, 1, 1, 8)), rng.normal(size=(1, 1, 1, 8))
    q_all, k_all = rotary(jnp.tile(q, (1, 6, 1, 1))), rotary(jnp.tile(k, (1, 6, 1, 1)))
    scores = np.einsum("d,td->t", np.asarray(q_all[0, 1, 0]), np.asarray(k_all[0, :, 0]))
    shifted = np.einsum("d,td->t", np.asarray(q_all[0, 3, 0]), np.asarray(k_all[0, :, 0]))
    np.testing.assert_allclose(scores[:4], shifted[2:], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(q_all[0, :, 0], axis=-1), np.linalg.norm(q), rtol=1e-5)


@pytest.mark.parametrize("change,message", [
    (dict(width=15), "divisible"), (dict(positions="sinusoidal"), "position encoding"),
    (dict(width=6, num_heads=2, positions="rotary"), "even head width"), (dict(depth=0), "depth"),
])
def test_transformer_rejects_bad_config(change, message):
    with pytest.raises(ConfigError, match=message):
        build_model(transformer_config(**change), np.zeros((1, 4), np.int32), 5)


def test_transformer_needs_token_windows():
    with pytest.raises(ConfigError, match="token windows"):
        build_model(transformer_config(), np.zeros((1, 4), np.float32), 5)


def test_cnn_on_barcoded_digit_shapes():
    images = np.zeros((2, 8, 8, 1), np.float32)
    model = build_model(dict(name="cnn", init_scale=1.0, channels=(4, 4), hidden=8, pool=True), images[:1], 13)
    shapes = jax.eval_shape(lambda: (lambda p: (model.apply(p, images), model.features(p, images),
                                                model.classifier(p)))(model.init(jax.random.PRNGKey(0))))
    assert [s.shape for s in shapes] == [(2, 13), (2, 8), (13, 8)]
    with pytest.raises(ConfigError, match="images"):
        build_model(dict(name="cnn", init_scale=1.0, channels=(4,), hidden=8, pool=False), np.zeros((1, 64)), 3)
