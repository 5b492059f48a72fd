"""`TabularModel`: a tabular network plus its fitted `TableEncoder`, saved as one file.

The network (`TabularMLP`, `FTTransformer`, or any functional model taking the
encoder's input dict) sees only encoded arrays; `TabularModel` keeps the encoder's
vocabularies, medians, means and IDF weights in its config and the task's
post-processing (class names, target scale), so a `.keras` file predicts on raw
rows: `keras.saving.load_model("m.keras").predict(frame)`.
"""

from __future__ import annotations

import copy

import keras
import numpy as np

from kerasdl import backend as kbackend
from kerasdl.models.base import SubclassedModel, composed_dtype_policy
from kerasdl.models.tabular.encoder import TableEncoder

TASKS = ("classification", "regression")
INPUT_KEYS = ("numeric", "categorical", "dense")

#: Rows per compiled prediction call; fewer rows are padded to a power of two
#: (at least `_MIN_ROWS`), so a model compiles a handful of shapes, not one per size.
PREDICT_CHUNK = 1024
_MIN_ROWS = 16


def padded_rows(n: int) -> int:
    """The row count a prediction batch of `n` rows is padded to."""
    size = _MIN_ROWS
    while size < n:
        size *= 2
    return size


def chunked_logits(logits_fn, encoded: dict, keys, chunk: int = PREDICT_CHUNK):
    """Run `logits_fn(*arrays)` on `encoded` in padded chunks; NumPy `(n, units)`.

    Every call sees `padded_rows(rows)` rows (at most `chunk`), so a compiled
    function meets only a few input shapes whatever the number of rows.
    """
    n = len(encoded[keys[0]])
    outputs = []
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        size = padded_rows(stop - start)
        arrays = []
        for key in keys:
            part = encoded[key][start:stop]
            pad = np.zeros((size - len(part), *part.shape[1:]), dtype=part.dtype)
            arrays.append(np.concatenate([part, pad]))
        out = keras.ops.convert_to_numpy(logits_fn(*arrays))
        outputs.append(np.asarray(out, dtype="float32")[: stop - start])
    return np.concatenate(outputs)


def make_logits_fn(network, keys):
    """A compiled `fn(*arrays) -> logits` for `network` on inputs named `keys`.

    Built on `kerasdl.backend.compile_function`: it reads the network's variables at
    each call, so weights assigned later (a new fold's) are seen without compiling
    again.
    """
    keys = tuple(keys)

    def logits(*arrays):
        return network(dict(zip(keys, arrays)), training=False)

    return kbackend.compile_function(logits, network.variables)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, returned as float32 rows summing to 1."""
    z = logits.astype("float64")
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype("float32")


def _json_label(label):
    """A class label as a JSON value (NumPy scalars become Python ones)."""
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, (str, bool, int, float)) or label is None:
        return label
    return str(label)


@keras.saving.register_keras_serializable(package="kerasdl")
class TabularModel(SubclassedModel):
    """A tabular network that predicts on raw table rows.

    `call` runs the network on an encoded input dict (what `fit` trains on);
    `predict` takes raw rows, encodes them with the stored encoder and returns
    class probabilities (softmax over the network's logits) or values on the
    target's own scale.

    Args:
        network: A Keras model taking the encoder's input dict (only the keys the
            encoder produces) and returning logits `(batch, n_classes)` or
            standardized values `(batch, 1)`.
        encoder: The fitted `TableEncoder` (or its `get_config()` dict).
        task: `"classification"` or `"regression"`.
        class_names: The training labels, index-aligned with the logits
            (classification); strings, numbers or booleans.
        target_mean, target_std: Regression targets are predicted as
            `network_output * target_std + target_mean`.
        dtype: Dtype policy of the model (e.g. `"mixed_bfloat16"`), which must be
            the network's (build it with the same `dtype=`); None takes the
            network's.
        **kwargs: Passed to `SubclassedModel`: `name`, `trainable`.

    Call arguments:
        inputs: `{"numeric": float32, "categorical": int32, "dense": float32}`,
            the keys `encoder.transform` returns.

    Example:
        >>> model = TabularModel(network, encoder, class_names=["a", "b"])
        >>> model.save("model.keras")
        >>> loaded = keras.saving.load_model("model.keras")
        >>> loaded.predict(raw_frame)          # (n, 2) probabilities
        >>> loaded.predict_labels(raw_frame)   # array(['a', 'b', ...])
    """

    def __init__(
        self,
        network,
        encoder,
        *,
        task: str = "classification",
        class_names=None,
        target_mean: float = 0.0,
        target_std: float = 1.0,
        dtype=None,
        **kwargs,
    ):
        if not isinstance(network, keras.Model):
            raise ValueError(
                f"network must be a Keras model; received {type(network).__name__}."
            )
        dtype = composed_dtype_policy(dtype, {"network": network}, "TabularModel")
        super().__init__(dtype=dtype, **kwargs)
        if isinstance(encoder, dict):
            encoder = TableEncoder.from_config(encoder)
        if not isinstance(encoder, TableEncoder):
            raise ValueError(
                "encoder must be a fitted TableEncoder or its config; received "
                f"{type(encoder).__name__}."
            )
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}; received {task!r}.")
        self.network = network
        self.encoder = encoder
        self.task = task
        self.input_keys = tuple(encoder.input_shapes())
        if task == "classification":
            if class_names is None or len(class_names) < 2:
                raise ValueError(
                    "class_names must list at least 2 classes for classification; "
                    f"received {class_names!r}."
                )
            self.class_names = [_json_label(c) for c in class_names]
        else:
            self.class_names = None
        target_std = float(target_std)
        if not np.isfinite(target_std) or target_std <= 0:
            raise ValueError(f"target_std must be > 0; received {target_std!r}.")
        self.target_mean = float(target_mean)
        self.target_std = target_std
        self._logits_fn = None
        self.built = True

    # === Forward ===

    def call(self, inputs, training=None):
        return self.network(inputs, training=training)

    def compute_output_shape(self, input_shape):
        return self.network.compute_output_shape(input_shape)

    # === Raw rows ===

    def encode(self, x) -> dict[str, np.ndarray]:
        """Encode raw rows (DataFrame, dict of columns, list of row dicts)."""
        return self.encoder.transform(x)

    def predict_logits(self, x, batch_size: int | None = None) -> np.ndarray:
        """The network's raw outputs on raw rows, NumPy `(n, units)`."""
        return self.encoded_logits(self.encode(x), batch_size=batch_size)

    def encoded_logits(self, encoded: dict, batch_size: int | None = None):
        """The network's raw outputs on already encoded rows, NumPy `(n, units)`.

        Runs one compiled function over row counts padded to a power of two (at
        most `batch_size`, default 1024, rows a call): repeated predictions on
        the same or similar row counts do not compile again.
        """
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or batch_size < 1
        ):
            raise ValueError(
                f"batch_size must be an integer >= 1; received {batch_size!r}."
            )
        if self._logits_fn is None:
            self._logits_fn = make_logits_fn(self.network, self.input_keys)
        chunk = PREDICT_CHUNK if batch_size is None else batch_size
        return chunked_logits(self._logits_fn, encoded, self.input_keys, chunk)

    def finish(self, logits: np.ndarray) -> np.ndarray:
        """Network outputs to probabilities (classification) or target values."""
        if self.task == "classification":
            return softmax(logits)
        return logits[:, 0].astype("float64") * self.target_std + self.target_mean

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Predict on raw rows.

        Args:
            x: A pandas `DataFrame` with the feature columns, a dict of columns, a
                list of row dicts, or (for a model fitted on a numeric array) a 2-D
                array. Missing cells and unseen categories are fine.
            batch_size: Rows per compiled call (default 1024).
            verbose, steps, callbacks: Accepted for Keras compatibility; unused (the
                prediction runs as a few compiled calls, without a progress bar).

        Returns:
            Classification: float32 `(n, n_classes)` probabilities, columns in
            `class_names` order. Regression: float64 `(n,)` values on the target's
            scale.
        """
        return self.finish(self.predict_logits(x, batch_size=batch_size))

    def predict_labels(self, x) -> np.ndarray:
        """The most probable class of each raw row, as the training labels."""
        if self.task != "classification":
            raise ValueError(
                "predict_labels needs a classification model; this one is a "
                "regression model (use predict)."
            )
        names = np.asarray(self.class_names, dtype=object)
        labels = names[np.argmax(self.predict_logits(x), axis=1)]
        if all(isinstance(c, str) for c in self.class_names):
            return labels.astype(str)
        return labels

    # === Config ===

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "network": keras.saving.serialize_keras_object(self.network),
                "encoder": self.encoder.get_config(),
                "task": self.task,
                "class_names": self.class_names,
                "target_mean": self.target_mean,
                "target_std": self.target_std,
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        # Keras's functional from_config consumes the dict it is given: copy it.
        config["network"] = keras.saving.deserialize_keras_object(
            copy.deepcopy(config["network"]), custom_objects=custom_objects
        )
        return cls(**config)
