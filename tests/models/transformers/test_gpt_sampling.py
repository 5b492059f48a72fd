"""sample_next_token: greedy, temperature, top-k and top-p sampling rules."""

import numpy as np

from kerasdl.models.transformers.sampling import sample_next_token


def test_sampling_rules():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    rng = np.random.default_rng(0)
    draws = [
        sample_next_token(logits, "top_k", top_k=2, rng=rng)[0] for _ in range(400)
    ]
    assert set(draws) == {0, 1}
    assert abs(np.mean(np.array(draws) == 0) - 0.5 / 0.8) < 0.08
    # top_p=0.7: 0.5 alone is short of 0.7, so {0, 1} are kept; 2 and 3 never.
    draws = [
        sample_next_token(logits, "top_p", top_p=0.7, rng=rng)[0] for _ in range(400)
    ]
    assert set(draws) == {0, 1}
    # Low temperature is nearly greedy; a high one nearly uniform.
    cold = [
        sample_next_token(logits, "temperature", temperature=0.05, rng=rng)[0]
        for _ in range(100)
    ]
    assert set(cold) == {0}
    hot = [
        sample_next_token(logits, "temperature", temperature=50.0, rng=rng)[0]
        for _ in range(800)
    ]
    assert min(np.bincount(hot, minlength=4)) > 120
    assert sample_next_token(logits, "greedy")[0] == 0
