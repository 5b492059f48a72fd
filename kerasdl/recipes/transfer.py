"""Transfer learning, the training recipe (Yosinski et al., 2014; the Keras guide
"Transfer learning & fine-tuning"): train a new head on a frozen backbone, then
unfreeze the backbone's top blocks and train again at a lower learning rate.

```python
source = ResNet18((8, 8, 1), num_classes=5)          # trained on digits 0-4
source.fit(x_04, y_04, epochs=20)
model = build_transfer_model(source, num_classes=5)  # new head for digits 5-9
histories = fit_transfer(model, x_59, y_59, head_epochs=30,
                         fine_tune_blocks=2, fine_tune_epochs=30)
```

The models (`build_transfer_model`, `freeze_backbone`, `unfreeze_top_blocks`, ...)
are in `kerasdl.models.transfer`.
"""

from __future__ import annotations

import numpy as np

from kerasdl._checks import check_float, check_int
from kerasdl.data.dataset import check_xy
from kerasdl.models.transfer.backbones import (
    backbone_blocks,
    freeze_backbone,
    get_backbone,
    unfreeze_top_blocks,
)
from kerasdl.training.optimizers import get_optimizer


def _compile(model, optimizer, learning_rate, loss, metrics):
    model.compile(
        optimizer=get_optimizer(optimizer, learning_rate),
        loss=loss,
        metrics=list(metrics),
    )


def fit_transfer(
    model,
    x,
    y,
    *,
    validation_data=None,
    head_epochs=10,
    fine_tune_blocks=2,
    fine_tune_epochs=10,
    learning_rate=1e-3,
    fine_tune_learning_rate=None,
    optimizer="adam",
    batch_size=32,
    train_batchnorm=False,
    loss="sparse_categorical_crossentropy",
    metrics=("accuracy",),
    callbacks=(),
    verbose="auto",
):
    """Train the head with the backbone frozen, then fine-tune its top blocks.

    Each phase compiles the model afresh (Keras needs a recompile after
    `trainable` changes) with a new optimizer. If the fit is interrupted, the
    model keeps the weights it has reached.

    Args:
        model: A model made by `build_transfer_model`.
        x: Images `(n, height, width, channels)`.
        y: Integer labels `(n,)` (with the default loss).
        validation_data: `(x_val, y_val)`, or None.
        head_epochs: Epochs of phase 1 (>= 1).
        fine_tune_blocks: Blocks unfrozen in phase 2 (0 skips phase 2).
        fine_tune_epochs: Epochs of phase 2 (0 skips it).
        learning_rate: Phase 1 learning rate.
        fine_tune_learning_rate: Phase 2 learning rate (default
            `learning_rate / 10`); must not exceed `learning_rate`.
        optimizer: A name for `kerasdl.training.get_optimizer`.
        batch_size: Batch size of both phases.
        train_batchnorm: See `unfreeze_top_blocks`.
        loss: As for `compile`.
        metrics: As for `compile`.
        callbacks: Callbacks for both phases.
        verbose: As for `fit`.

    Returns:
        A dict: `"head"` (the phase 1 `History.history`), `"fine_tune"` (phase 2's,
        or None), `"unfrozen_blocks"` (names) and `"trainable_params"` per phase.
    """
    get_backbone(model)
    x, y = check_xy(x, y)
    expected = tuple(model.inputs[0].shape[1:])
    # None in the model's input shape (a keras.applications backbone built
    # without `input_shape`) accepts any size.
    if x.ndim != len(expected) + 1 or any(
        want is not None and want != got for want, got in zip(expected, x.shape[1:])
    ):
        raise ValueError(
            f"`x` must hold images of shape {expected}; received x.shape={x.shape}."
        )
    head_epochs = check_int("head_epochs", head_epochs)
    fine_tune_blocks = check_int("fine_tune_blocks", fine_tune_blocks, minimum=0)
    fine_tune_epochs = check_int("fine_tune_epochs", fine_tune_epochs, minimum=0)
    learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_open=True)
    if fine_tune_learning_rate is None:
        fine_tune_learning_rate = learning_rate / 10
    fine_tune_learning_rate = check_float(
        "fine_tune_learning_rate",
        fine_tune_learning_rate,
        low=0.0,
        high=learning_rate,
        low_open=True,
    )
    batch_size = check_int("batch_size", batch_size)
    blocks = backbone_blocks(get_backbone(model))
    if fine_tune_blocks > len(blocks):
        raise ValueError(
            f"`fine_tune_blocks` must be at most {len(blocks)} (the backbone's "
            f"blocks); received fine_tune_blocks={fine_tune_blocks}."
        )

    def fit(epochs):
        history = model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            validation_data=validation_data,
            callbacks=list(callbacks),
            verbose=verbose,
        )
        return history.history

    result = {"unfrozen_blocks": [], "trainable_params": {}, "fine_tune": None}
    freeze_backbone(model)
    _compile(model, optimizer, learning_rate, loss, metrics)
    result["trainable_params"]["head"] = _count(model.trainable_weights)
    result["head"] = fit(head_epochs)
    if fine_tune_blocks and fine_tune_epochs:
        result["unfrozen_blocks"] = unfreeze_top_blocks(
            model, fine_tune_blocks, train_batchnorm=train_batchnorm
        )
        _compile(model, optimizer, fine_tune_learning_rate, loss, metrics)
        result["trainable_params"]["fine_tune"] = _count(model.trainable_weights)
        result["fine_tune"] = fit(fine_tune_epochs)
    return result


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))
