"""GPTLanguageModel: shapes, causality, cached == uncached generation and
save/load (the character-LM recipe and its helpers are tested in
tests/recipes/test_char_lm_recipe.py)."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from kerasdl.models.transformers.gpt import GPTLanguageModel, sample_next_token
from kerasdl.testing import check_model

RNG = np.random.default_rng(0)


def _model(**kwargs):
    settings = dict(num_layers=2, num_heads=2, hidden_dim=16, dropout=0.0, seed=0)
    settings.update(kwargs)
    return GPTLanguageModel(23, 12, **settings)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def test_logits_shape_and_model_contract(tmp_path):
    model = _model(tie_embeddings=False)
    tokens = RNG.integers(0, 23, (4, 9))
    out = check_model(
        model,
        tokens,
        np.roll(tokens, -1, axis=1),
        loss="sparse_categorical_crossentropy",
        tmp_dir=tmp_path,
    )
    assert out.shape == (4, 9, 23)


def test_logits_at_t_do_not_depend_on_later_tokens():
    model = _model()
    tokens = RNG.integers(0, 23, (2, 10))
    logits = _np(model(tokens))
    for t in (0, 4, 8):
        changed = tokens.copy()
        changed[:, t + 1 :] = (changed[:, t + 1 :] + 7) % 23
        np.testing.assert_allclose(
            _np(model(changed))[:, : t + 1], logits[:, : t + 1], atol=1e-5
        )
        assert not np.allclose(_np(model(changed))[:, t + 1 :], logits[:, t + 1 :])


def test_tied_head_is_the_token_embedding():
    tokens = RNG.integers(0, 23, (1, 3))
    tied, untied = _model(), _model(tie_embeddings=False)
    tied(tokens), untied(tokens)
    assert not any("lm_head" in w.path for w in tied.weights)
    # The untied model has its own (16 x 23) kernel and 23 biases.
    assert untied.count_params() - tied.count_params() == 16 * 23 + 23
    # The tied logits are the final features times the embedding table.
    table = _np(tied.token_embedding.embeddings)
    features = _np(
        tied.final_norm(
            tied.blocks[1](
                tied.blocks[0](tied.position_embedding(tied.token_embedding(tokens)))
            )
        )
    )
    np.testing.assert_allclose(_np(tied(tokens)), features @ table.T, atol=1e-5)


@pytest.mark.parametrize(
    "method, options",
    [
        ("greedy", {}),
        ("temperature", {"temperature": 0.8}),
        ("top_k", {"top_k": 4}),
        ("top_p", {"top_p": 0.9}),
    ],
)
def test_cached_and_uncached_generation_give_the_same_tokens(method, options):
    model = _model()
    prompt = RNG.integers(0, 23, (2, 3))
    cached = model.generate(prompt, 8, method=method, seed=5, **options)
    full = model.generate(prompt, 8, method=method, seed=5, use_cache=False, **options)
    np.testing.assert_array_equal(cached, full)
    np.testing.assert_array_equal(cached[:, :3], prompt)
    assert cached.shape == (2, 11)


def test_greedy_generation_follows_the_argmax_of_the_full_model():
    model = _model()
    prompt = np.array([3, 1, 4])
    out = model.generate(prompt, 5)
    assert out.shape == (8,)
    for t in range(3, 8):
        expected = _np(model(out[None, :t]))[0, -1].argmax()
        assert out[t] == expected


def test_generation_and_sampling_check_their_arguments():
    model = _model()
    with pytest.raises(ValueError, match="max_len=12"):
        model.generate(np.ones(5, int), 8)
    with pytest.raises(ValueError, match=r"prompt ids must be in \[0, 23\)"):
        model.generate(np.array([1, 30]), 2)
    with pytest.raises(ValueError, match="integer ids"):
        model.generate(np.array([1.5]), 2)
    with pytest.raises(ValueError, match="method must be one of"):
        model.generate(np.array([1]), 2, method="beam")
    with pytest.raises(ValueError, match="needs top_k"):
        model.generate(np.array([1]), 2, method="top_k")
    with pytest.raises(ValueError, match="top_p"):
        sample_next_token(np.zeros((1, 3)), "top_p", top_p=1.5)
    with pytest.raises(ValueError, match="temperature"):
        sample_next_token(np.zeros((1, 3)), "temperature", temperature=0)
    with pytest.raises(ValueError, match="`hidden_dim` must be divisible by"):
        GPTLanguageModel(10, 8, num_heads=3, hidden_dim=16)
    with pytest.raises(ValueError, match="max_len=12; received tokens of length 13"):
        model(np.zeros((1, 13), "int32"))
    with pytest.raises(ValueError, match="rank 2"):
        model(np.zeros((13,), "int32"))


def test_suppressed_tokens_are_never_generated():
    model = _model()
    prompt = RNG.integers(0, 23, (3, 2))
    free = model.generate(prompt, 9, method="greedy")
    banned = np.unique(free[:, 2:])[:3]  # tokens greedy decoding does pick
    out = model.generate(prompt, 9, method="greedy", suppress_tokens=banned)
    assert not np.isin(out[:, 2:], banned).any()
    sampled = model.generate(
        prompt, 9, method="temperature", temperature=5.0, seed=0, suppress_tokens=[0]
    )
    assert (sampled[:, 2:] != 0).all()
    with pytest.raises(ValueError, match="suppress_tokens"):
        model.generate(prompt, 2, suppress_tokens=[99])
