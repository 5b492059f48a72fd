"""Model-parallel layouts: `kerasdl.training.distribute_layouts`."""

import keras
import pytest

from kerasdl.training.distribute_layouts import transformer_layout_map


def _weight_paths(model_fn, shape):
    """Paths and shapes of a model's weights, built without drawing initial values
    (on JAX each new weight shape would compile its initializer: seconds)."""
    from keras.src.backend.common import global_state

    with keras.StatelessScope(initialize_variables=False):
        model = model_fn()
        if not model.built:
            model.build(shape)
    paths = {v.path: tuple(v.shape) for v in model.weights}
    # Keras keeps the deferred variables to initialise at the next StatelessScope
    # exit; drop ours so that they cost nothing later.
    ours = {id(v) for v in model.weights}
    pending = global_state.get_global_attribute("uninitialized_variables") or []
    global_state.set_global_attribute(
        "uninitialized_variables", [v for v in pending if id(v) not in ours]
    )
    return paths


@pytest.mark.torch_skip("keras.distribution (DeviceMesh, LayoutMap) has no torch side")
def test_transformer_layout_map_matches_the_transformer_weights():
    """The rules split every attention and feed-forward weight of our Transformer
    models (and nothing else), with as many axes as the weight has dimensions."""
    from kerasdl.models.transformers import GPTLanguageModel, TransformerSeq2Seq
    from kerasdl.models.transformers.vit import ViTClassifier

    mesh = keras.distribution.DeviceMesh(
        (1, 1), ("batch", "model"), keras.distribution.list_devices()[:1]
    )
    layout_map = transformer_layout_map(mesh)
    models = {
        "gpt": (
            lambda: GPTLanguageModel(
                vocab_size=11, max_len=8, num_layers=2, num_heads=2, hidden_dim=8
            ),
            (None, 8),
        ),
        "vit": (
            lambda: ViTClassifier(
                (8, 8, 1),
                num_classes=3,
                patch_size=4,
                hidden_dim=8,
                num_layers=1,
                num_heads=2,
            ),
            None,
        ),
        "seq2seq": (
            lambda: TransformerSeq2Seq(
                11, 12, 6, 7, hidden_dim=8, num_layers=1, num_heads=2
            ),
            ((None, 6), (None, 7)),
        ),
    }
    expected = {
        "query_kernel": (None, "model", None),
        "key_kernel": (None, "model", None),
        "value_kernel": (None, "model", None),
        "query_bias": ("model", None),
        "key_bias": ("model", None),
        "value_bias": ("model", None),
        "output_kernel": ("model", None, None),
        "ffn_intermediate/kernel": (None, "model"),
        "ffn_intermediate/bias": ("model",),
        "ffn_output/kernel": ("model", None),
    }
    for name, (model_fn, shape) in models.items():
        paths = _weight_paths(model_fn, shape)
        split = 0
        for path, weight_shape in paths.items():
            layout = layout_map[path]
            rule = [key for key in expected if path.endswith("/" + key)]
            if rule:
                assert layout is not None, (name, path)
                assert tuple(layout.axes) == expected[rule[0]], (name, path)
                assert len(layout.axes) == len(weight_shape), (name, path)
                split += 1
            else:
                assert layout is None, (name, path)  # replicated
        # 7 attention weights (all but the output bias) per attention layer and
        # 3 feed-forward ones per block; seq2seq's decoder block also
        # cross-attends.
        assert split == {"gpt": 2 * 10, "vit": 10, "seq2seq": 10 + 17}[name], name
