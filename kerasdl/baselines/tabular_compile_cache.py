"""The compiled-network cache behind `KerasTabularClassifier`/`Regressor`.

Cross-validation fits the same network shape many times, and compiling it costs more
than training it on a small table. A `CompiledNetwork` (network, optimizer, initial
values) is kept in `COMPILED_CACHE`, keyed by everything that shapes its compiled
functions; a new fit restores the initial weights of its `random_state` and zeroes the
optimizer instead of building and compiling again. `fixed_size_batches` keeps every
training batch the same size and `bucket_size` rounds category counts up, so folds
meet the same shapes; `ValidationLoss` scores the held-out rows with one compiled call
per epoch for early stopping.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

import keras
import numpy as np

from kerasdl.models.tabular.tabular_model import chunked_logits, make_logits_fn

#: How many compiled networks the cache keeps (least recently used dropped first).
CACHE_SIZE = 8
COMPILED_CACHE: OrderedDict = OrderedDict()
FIT_TOKENS = itertools.count(1)
#: Initial weights kept per compiled network (one set per random_state).
_SEEDS_KEPT = 4


def clear_compiled_cache() -> None:
    """Forget every cached compiled network (fitted estimators keep working)."""
    COMPILED_CACHE.clear()


def bucket_size(n: int) -> int:
    """`n` rounded up to a power of two (at least 2)."""
    size = 2
    while size < n:
        size *= 2
    return size


class CompiledNetwork:
    """One compiled network, its optimizer, and the values to reset them to."""

    def __init__(self, network, keys):
        self.network = network
        self.keys = tuple(keys)
        self.initial = {}  # random_state -> initial values of network.variables
        self.optimizer_initial = [
            np.array(keras.ops.convert_to_numpy(v.value))
            for v in network.optimizer.variables
        ]
        self.logits_fn = make_logits_fn(network, self.keys)
        self.owner = None  # the fit token whose trained weights the network holds

    def values(self, network=None):
        """NumPy copies of the values of `network.variables` (default: ours)."""
        network = self.network if network is None else network
        return [
            np.array(keras.ops.convert_to_numpy(v.value)) for v in network.variables
        ]

    def reset(self, seed, build):
        """Initial weights of `seed` (drawn once by `build`), optimizer state zeroed."""
        self.owner = None
        if seed not in self.initial:
            self.initial[seed] = self.values(build(seed))
            while len(self.initial) > _SEEDS_KEPT:  # random_state=None fits
                self.initial.pop(next(iter(self.initial)))
        for variable, value in zip(self.network.variables, self.initial[seed]):
            variable.assign(value)
        for variable, value in zip(
            self.network.optimizer.variables, self.optimizer_initial
        ):
            variable.assign(value)

    def load(self, weights, token):
        if self.owner != token:
            self.network.set_weights(weights)
            self.owner = token


class ValidationLoss(keras.callbacks.Callback):
    """Puts the exact loss on the held-out rows in `logs["val_loss"]` each epoch.

    One compiled call on rows padded to a fixed count (instead of Keras's
    `validation_data`, whose per-epoch `evaluate` costs ~5 ms on a small table
    and compiles again for every new validation size); placed before
    `EarlyStopping`, which reads it.
    """

    def __init__(self, compiled, encoded, y, task):
        super().__init__()
        self.compiled, self.encoded, self.y, self.task = compiled, encoded, y, task

    def on_epoch_end(self, epoch, logs=None):
        logits = chunked_logits(
            self.compiled.logits_fn, self.encoded, self.compiled.keys
        )
        if self.task == "classification":
            z = logits.astype("float64")
            z = z - z.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            loss = -np.mean(log_p[np.arange(len(self.y)), self.y])
        else:
            loss = np.mean((logits[:, 0].astype("float64") - self.y) ** 2)
        if logs is not None:
            logs["val_loss"] = float(loss)


def fixed_size_batches(encoded, y, rows, batch_size, rng):
    """Endless batches of exactly `batch_size` rows: each epoch visits every row of
    `rows` once in a new order, topped up with rows drawn again to fill the last
    batch."""
    steps = -(-len(rows) // batch_size)
    while True:
        order = rng.permutation(rows)
        while len(order) < steps * batch_size:
            order = np.concatenate([order, rng.permutation(rows)])
        order = order[: steps * batch_size]
        for step in range(steps):
            index = order[step * batch_size : (step + 1) * batch_size]
            yield {k: v[index] for k, v in encoded.items()}, y[index]
