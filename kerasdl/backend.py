"""The backend seam: the one module (with `kerasdl/_backends/`) that knows the backend.

Everything else in kerasdl is written with `keras.ops` and runs on any backend. What
cannot be, lives here behind a small interface chosen once, at import:

- `value_and_input_gradient(fn, x)` / `input_gradient(fn, x)`: the gradient of a scalar
  function with respect to its *input* (Grad-CAM, saliency maps, the WGAN-GP penalty).
  It composes: called inside a `MultiOptimizerModel` phase, the result can itself be
  differentiated with respect to weights (a gradient of a gradient).
- `MultiOptimizerModel`, `Phase` and `OptimizerGroup`: the pattern for custom train
  steps with more than one optimizer (GANs, actor-critic). A subclass lists its
  phases, each a loss written with ordinary stateful Keras calls, the variables it
  updates and the optimizer that updates them; the per-backend step runs them in
  order. On JAX the step is stateless (the phases run under `keras.StatelessScope`
  over the state that Keras's JAX trainer passes in, and `optimizer.stateless_apply`),
  so it is jit-compiled like any Keras train step.
- `set_random_seed(seed)` and `enable_determinism()`: what reproducible runs need;
  `global_random_state()`, `set_global_random_state(state)` and
  `seeded_global_generator(seed)` for the global generators Keras draws from
  besides its `SeedGenerator`s (NumPy's for JAX's shuffling, torch's on torch).
- `sublayers`, `is_functional`, `graph_calls`, `run_graph`, `producing_layer`:
  the private Keras internals kerasdl needs (no public API does this), each one small
  function in `kerasdl/_backends/keras_internals.py`, checked by a test.
- `distribution_impl()` and `supported_distributions()`: the per-backend half of
  `kerasdl.training.distribute` (Keras's `keras.distribution` on JAX,
  `tf.distribute.MirroredStrategy` on TensorFlow).
- `write_scalars`, `write_histograms` and `close_summaries`: TensorBoard event files
  (with `tf.summary`, which serves every backend since TensorFlow is a dependency;
  imported on first use only).
- `flash_attention_flag()`: the `flash_attention` argument for
  `keras.ops.dot_product_attention` that this backend accepts.
- `keras_dropout_rnn_cell()`: the Keras class that `keras.layers.RNN` recognises as
  a cell with per-sequence dropout masks (private in Keras; named only here).

Supported backends: TensorFlow, JAX and PyTorch (`_backends/torch.py`: eager, with
`torch.autograd.grad`). On other backends the functions here raise a clear
`NotImplementedError`.
"""

from __future__ import annotations

import contextlib
import importlib
import random
import sys
from collections.abc import Callable, Sequence

import keras
import numpy as np

from kerasdl._backends import SUPPORTED_BACKENDS
from kerasdl._backends.global_random import (
    global_random_state as global_random_state,
)
from kerasdl._backends.global_random import (
    seeded_global_generator as seeded_global_generator,
)
from kerasdl._backends.global_random import (
    set_global_random_state as set_global_random_state,
)
from kerasdl._backends.keras_internals import (
    KerasInternalsError as KerasInternalsError,
)
from kerasdl._backends.keras_internals import graph_calls as graph_calls
from kerasdl._backends.keras_internals import is_functional as is_functional
from kerasdl._backends.keras_internals import producing_layer as producing_layer
from kerasdl._backends.keras_internals import run_graph as run_graph
from kerasdl._backends.keras_internals import set_keras_seed
from kerasdl._backends.keras_internals import sublayers as sublayers
from kerasdl._backends.multi_optimizer import (
    MultiOptimizerModel as MultiOptimizerModel,
)
from kerasdl._backends.multi_optimizer import OptimizerGroup as OptimizerGroup
from kerasdl._backends.multi_optimizer import Phase as Phase
from kerasdl._backends.selected import (
    BACKEND,
    _distribute_impl,
    _impl,
    _require_impl,
)


def name() -> str:
    """The Keras backend in use (`"tensorflow"`, `"jax"`, ...)."""
    return BACKEND


def supported_distributions() -> tuple[str, ...]:
    """The distribution kinds this backend can train with (empty if none)."""
    return () if _distribute_impl is None else _distribute_impl.DISTRIBUTIONS


def distribution_impl():
    """The backend's half of `kerasdl.training.distribute` (`_backends/distribute_*`).

    Raises:
        NotImplementedError: On a backend without distributed training.
    """
    if _distribute_impl is None:  # pragma: no cover - unsupported backends only
        raise NotImplementedError(
            "Distributed training is implemented for the "
            f"{', '.join(SUPPORTED_BACKENDS)} backends; KERAS_BACKEND is {BACKEND!r}."
        )
    return _distribute_impl


def enable_determinism() -> None:
    """Make backend kernels deterministic (TensorFlow op determinism; JAX on CPU is)."""
    _require_impl("enable_determinism").enable_determinism()


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras (and TensorFlow when it is the backend or loaded).

    Same effect as `keras.utils.set_random_seed`, except that on a non-TensorFlow
    backend it does not import TensorFlow just to seed it (which costs seconds and
    log noise per process, for `tf.data` pipelines kerasdl does not use there).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer; received {seed!r}.")
    if BACKEND == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    try:
        set_keras_seed(seed)
    except KerasInternalsError:  # pragma: no cover - tests/test_keras_internals.py
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)
    if hasattr(_impl, "seed_global_generator"):  # torch
        _impl.seed_global_generator(seed)


def steps_per_execution(requested: int) -> int:
    """The `steps_per_execution` to give Keras's `compile` for `requested`.

    Several train steps per compiled call save per-step overhead on TensorFlow and
    JAX. Keras on torch runs each step as its own eager call and accepts only 1, so
    there `requested` is lowered to 1 (the steps and the result are the same; only
    how they are dispatched differs).
    """
    return 1 if BACKEND == "torch" else int(requested)


def set_attribute_before_init(layer, name: str, value) -> bool:
    """Set an attribute of a Keras layer whose `__init__` has not run yet, where the
    backend needs it done by hand; True when done (the caller then stops).

    On torch a Keras layer is a `torch.nn.Module`, which refuses a sub-module
    assigned before `Module.__init__` (run by Keras's `Layer.__init__`), as the
    keras-hub functional pattern does (`self.dense = Dense(...)`, then
    `super().__init__(inputs, outputs)`). There the value becomes a plain attribute:
    the functional graph tracks the layer and its weights. Elsewhere (and after
    `__init__`) this returns False and the caller's normal `__setattr__` goes on.
    """
    if BACKEND != "torch" or "_modules" in layer.__dict__:
        return False
    object.__setattr__(layer, name, value)
    return True


def fresh_models_per_call():
    """Context for code that builds a new model per call by design (CV folds).

    On TensorFlow it hides the "triggered tf.function retracing" warning, which is
    expected there and would blame the user; other warnings pass. Elsewhere a no-op.
    """
    if _impl is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _impl.fresh_models_per_call()


def value_and_input_gradient(fn: Callable, x):
    """Evaluate a scalar function and its gradient with respect to its input.

    Args:
        fn: A function of one tensor returning a scalar tensor, written with Keras
            layers/ops (e.g. `lambda x: ops.sum(model(x)[:, k])`). Layers inside it
            should run in inference mode unless it is called from a
            `MultiOptimizerModel` phase.
        x: The input (NumPy array or backend tensor, floating point).

    Returns:
        `(value, gradient)` with `gradient` shaped like `x`.

    Example:
        >>> value, grad = value_and_input_gradient(lambda x: ops.sum(x**2), x)  # 2x
    """
    impl = _require_impl("value_and_input_gradient")
    x = keras.ops.convert_to_tensor(x)
    if not keras.backend.is_float_dtype(x.dtype):
        raise ValueError(
            f"x must be floating point to take a gradient; received dtype {x.dtype}."
        )
    return impl.value_and_input_gradient(_checked_scalar(fn), x)


def value_and_weight_gradients(fn: Callable, variables: Sequence):
    """Evaluate a scalar function of a model's weights and its gradient w.r.t. them.

    Args:
        fn: A zero-argument function returning a scalar, written with ordinary
            Keras calls (e.g. `lambda: ops.mean(loss(y, model(x, training=False)))`).
        variables: The Keras variables to differentiate with respect to (e.g.
            `model.trainable_variables`).

    Returns:
        `(value, gradients)`, one gradient per variable (zeros where `fn` does not
        depend on a variable). Nothing is updated: use it to inspect a model (the
        per-layer gradient norms of `kerasdl.doctor.TrainingDiagnostics`), not to
        train it.
    """
    impl = _require_impl("value_and_weight_gradients")
    variables = list(variables)
    if not variables:
        raise ValueError("variables is empty; pass e.g. model.trainable_variables.")
    return impl.value_and_weight_gradients(_checked_scalar(lambda _: fn()), variables)


def input_gradient(fn: Callable, x):
    """The gradient of scalar `fn` at `x` (see `value_and_input_gradient`)."""
    return value_and_input_gradient(fn, x)[1]


def _checked_scalar(fn):
    def wrapped(x):
        value = fn(x)
        if len(keras.ops.shape(value)) != 0:
            raise ValueError(
                "fn must return a scalar to take its input gradient; received shape "
                f"{tuple(keras.ops.shape(value))}. Reduce it first, e.g. ops.sum(...)."
            )
        return value

    return wrapped


# ------------------------------------------------------------------------------------
# TensorBoard summaries (every backend; TensorFlow is imported on first use)
# ------------------------------------------------------------------------------------


def write_scalars(log_dir, step: int, values: dict) -> None:
    """Append scalars to the TensorBoard event file in `log_dir` (created if missing).

    Args:
        log_dir: Folder of the event file (one TensorBoard "run").
        step: The x-axis value (e.g. the training step).
        values: `{tag: number}`; non-finite numbers are skipped.
    """
    from kerasdl._backends import summaries

    summaries.write_scalars(log_dir, step, values)


def write_histograms(log_dir, step: int, values: dict, buckets: int = 30) -> None:
    """Append histograms to the TensorBoard event file in `log_dir`.

    Args:
        log_dir: Folder of the event file (one TensorBoard "run").
        step: The x-axis value (e.g. the training step).
        values: `{tag: array}` (NumPy arrays of any shape; flattened, and their
            non-finite entries dropped; an array with none left is skipped).
        buckets: Number of histogram buckets.
    """
    from kerasdl._backends import summaries

    summaries.write_histograms(log_dir, step, values, buckets)


def close_summaries(log_dir) -> None:
    """Flush and close the event file that `write_*` opened in `log_dir`, if any."""
    if "kerasdl._backends.summaries" in sys.modules:
        sys.modules["kerasdl._backends.summaries"].close(log_dir)


# ------------------------------------------------------------------------------------
# Custom train steps with several optimizers
# ------------------------------------------------------------------------------------


# ------------------------------------------------------------------------------------
# Compiled functions and updates outside `fit` (reinforcement learning)
# ------------------------------------------------------------------------------------


def _variable_list(variables, what: str) -> list:
    variables = list(variables)
    for variable in variables:
        if not isinstance(variable, keras.Variable):
            raise ValueError(
                f"{what} must hold Keras variables (e.g. model.weights); "
                f"received {type(variable).__name__}."
            )
    return variables


def compile_function(
    fn: Callable, variables: Sequence, hot_loop: bool = False
) -> Callable:
    """Compile a function of arrays that reads Keras variables (jit / tf.function).

    For code that calls a model many times outside `fit`/`predict`, e.g. an RL agent
    choosing one action per environment step, where Keras's `predict_on_batch` costs
    more than the network itself.

    Args:
        fn: `fn(*arrays)` → a tensor or a tuple/dict of tensors, written with Keras
            calls (`model(x, training=False)`). It must not update variables and must
            not draw random numbers (sample from its outputs with NumPy instead).
        variables: Every Keras variable `fn` reads (e.g. `model.weights`). On JAX
            they are passed in at each call, so later updates to them are seen;
            a variable read but not listed would be frozen at its first value.
        hot_loop: Called thousands of times with the same shapes (acting): on
            torch, `torch.compile`d after a warm-up, as `compile_update` is.

    Returns:
        `compiled(*arrays)` returning backend tensors (`keras.ops.convert_to_numpy`
        turns them into NumPy arrays). Calls with a new input shape compile again.
    """
    impl = _require_impl("compile_function")
    if not callable(fn):
        raise ValueError(f"fn must be callable; received {fn!r}.")
    return impl.compile_function(
        fn, _variable_list(variables, "variables"), hot_loop=bool(hot_loop)
    )


def compile_update(
    loss_fn: Callable,
    optimizer,
    trainable_variables: Sequence,
    state_variables: Sequence = (),
    after_update: Callable | None = None,
    repeats: int = 1,
) -> Callable:
    """Compile one gradient update of `trainable_variables`, for training loops of
    one's own (an RL agent's), where `fit` does not fit.

    Args:
        loss_fn: `loss_fn(*arrays)` → a scalar loss, or `(loss, logs)` with `logs`
            a dict of scalars. Written with ordinary Keras calls.
        optimizer: A Keras optimizer (its `global_clipnorm`, `clipnorm` and learning
            rate schedule apply). Built on `trainable_variables` here if it is not.
        trainable_variables: The variables the optimizer updates.
        state_variables: Every other variable `loss_fn` or `after_update` reads or
            assigns (a target network, BatchNorm statistics). On JAX, a variable read
            but not listed would be frozen at its value when the update compiled.
        after_update: Optional zero-argument function run after each optimizer step,
            inside the compiled update, that assigns `state_variables` (e.g. Polyak
            averaging of a target network: `t.assign(tau * o + (1 - tau) * t)`).
        repeats: Updates per call. With `repeats > 1` every array passed to the
            update has a leading axis of that length and update i uses slice i
            (`lax.scan` on JAX, an unrolled loop on TensorFlow): k updates cost one
            call, which matters when the network is small and a call's overhead
            (~0.1-0.5 ms) is most of the work.

    Returns:
        `update(*arrays)` that applies one step to the Keras variables themselves and
        returns `{"loss": loss, **logs}` as scalar backend tensors (`float(...)`
        them when needed: converting waits for the step to finish); with
        `repeats > 1`, their means over the updates.
    """
    impl = _require_impl("compile_update")
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable; received {loss_fn!r}.")
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            f"optimizer must be a Keras optimizer; received {optimizer!r}."
        )
    trainable = _variable_list(trainable_variables, "trainable_variables")
    if not trainable:
        raise ValueError("trainable_variables is empty; nothing to update.")
    state = _variable_list(state_variables, "state_variables")
    overlap = {id(v) for v in trainable} & {id(v) for v in state}
    if overlap:
        raise ValueError(
            "state_variables must not repeat trainable_variables; "
            f"received {len(overlap)} variable(s) in both."
        )
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1; received {repeats!r}.")
    if not optimizer.built:
        optimizer.build(trainable)

    def checked(*arrays):
        out = loss_fn(*arrays)
        loss, logs = out if isinstance(out, tuple) else (out, {})
        if len(keras.ops.shape(loss)) != 0:
            raise ValueError(
                "loss_fn must return a scalar loss; received shape "
                f"{tuple(keras.ops.shape(loss))}."
            )
        return loss, {"loss": loss, **logs}

    return impl.compile_update(
        checked, optimizer, trainable, state, after_update, repeats
    )


def compile_input_gradient(fn: Callable, variables: Sequence) -> Callable:
    """Prepare the input gradient of `fn` for many calls (Grad-CAM, saliency maps).

    Like `value_and_input_gradient`, plus values returned alongside (`aux`) and
    compiled where the backend needs it: on JAX the gradient is jit-compiled once
    per input shape (eager JAX compiles each operation of a model separately, which
    costs seconds for a small CNN), with the variables passed in at each call; on
    TensorFlow it runs eagerly (one eager call of a small model costs less than
    tracing a `tf.function`).

    Args:
        fn: `fn(x, *args)` → `(value, aux)`: a scalar `value` to differentiate with
            respect to `x`, and any structure of tensors `aux`. Written with Keras
            calls in inference mode; it must not update variables nor draw random
            numbers.
        variables: Every Keras variable `fn` reads (e.g. `model.variables`). On JAX
            a variable read but not listed would be frozen at its first value.

    Returns:
        `gradient_fn(x, *args)` → `(value, aux, gradient)`, `gradient` shaped like
        `x` (zeros where `value` does not depend on it); `x` must be floating point.

    Example:
        >>> grad_fn = compile_input_gradient(
        ...     lambda x, k: (ops.sum(model(x)[:, 0] * k), model(x)), model.variables)
        >>> value, outputs, grad = grad_fn(images, 2.0)
    """
    impl = _require_impl("compile_input_gradient")
    if not callable(fn):
        raise ValueError(f"fn must be callable; received {fn!r}.")

    def checked(x, *args):
        out = fn(x, *args)
        if not isinstance(out, tuple) or len(out) != 2:
            raise ValueError(
                f"fn must return a pair (value, aux); received {type(out).__name__}."
            )
        value, aux = out
        if len(keras.ops.shape(value)) != 0:
            raise ValueError(
                "fn must return a scalar value to take its input gradient; received "
                f"shape {tuple(keras.ops.shape(value))}. Reduce it first, e.g. "
                "ops.sum(...)."
            )
        return value, aux

    compiled = impl.compile_input_gradient(
        checked, _variable_list(variables, "variables")
    )

    def gradient_fn(x, *args):
        x = keras.ops.convert_to_tensor(x)
        if not keras.backend.is_float_dtype(x.dtype):
            raise ValueError(
                f"x must be floating point to take a gradient; received dtype "
                f"{x.dtype}."
            )
        return compiled(x, *args)

    return gradient_fn


# ---------------------------------------------------------------------------
# The one Keras class that recurrent cells must inherit from


_KERAS_DROPOUT_RNN_CELL = ("keras.src.layers.rnn.dropout_rnn_cell", "DropoutRNNCell")


def keras_dropout_rnn_cell() -> type | None:
    """Keras's `DropoutRNNCell`, or None where this Keras no longer has it there.

    `keras.layers.RNN` draws a cell's dropout masks before its time loop (which keeps
    the loop stateless, as JAX needs) and forgets them after each call only for cells
    that are instances of this class, which Keras does not export. kerasdl's cells
    inherit from it for that `isinstance` check alone and write the mask handling
    themselves (`kerasdl.layers.recurrent.dropout`). This is the one place that names
    the private module; `tests/test_backend.py` fails with a clear message if Keras
    moves it.
    """
    module_name, class_name = _KERAS_DROPOUT_RNN_CELL
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, class_name, None)
    return found if isinstance(found, type) else None


def flash_attention_flag() -> bool | None:
    """The `flash_attention` argument to pass to `keras.ops.dot_product_attention`.

    The global setting (`keras.config.is_flash_attention_enabled()`: None lets the
    backend decide, True/False force it), except on TensorFlow, which has no flash
    kernel and raises for True: there always None.
    """
    if BACKEND == "tensorflow":
        return None
    return keras.config.is_flash_attention_enabled()
