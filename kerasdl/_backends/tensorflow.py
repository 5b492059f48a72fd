"""TensorFlow implementations of the `kerasdl.backend` seam."""

from __future__ import annotations

import contextlib
import logging

import tensorflow as tf


class _RetracingFilter(logging.Filter):
    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def fresh_models_per_call():
    # Each fold of a cross-validation builds a new model, hence a new predict
    # function: TensorFlow's "retracing is expensive" warning is then expected.
    logger = tf.get_logger()
    retracing = _RetracingFilter()
    logger.addFilter(retracing)
    try:
        yield
    finally:
        logger.removeFilter(retracing)


def enable_determinism() -> None:
    tf.config.experimental.enable_op_determinism()


def value_and_input_gradient(fn, x):
    # Inside an outer GradientTape (a train step), the inner gradient is recorded too,
    # so the result can be differentiated again (WGAN-GP's gradient of a gradient).
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = fn(x)
    return value, tape.gradient(value, x)


def value_and_weight_gradients(fn, variables):
    with tf.GradientTape() as tape:
        value = fn(None)
    grads = tape.gradient(value, variables)
    # (tf.UnconnectedGradients.ZERO fails on Keras variables' string dtypes.)
    return value, [
        tf.zeros(v.shape, v.dtype) if g is None else g for v, g in zip(variables, grads)
    ]


def multi_optimizer_train_step(model, data):
    """Runs the phases in order. A phase repeated k times (a WGAN critic) runs k - 1
    times in a `tf.while_loop` and once more for its logs, so the traced step holds
    two copies of the phase rather than k (tracing a gradient of a gradient k times
    would cost k times the time)."""
    logs = {}
    for phase, variables in zip(model._phases, model._phase_variables):
        optimizer = model.optimizer.optimizers[phase.optimizer]

        def update(phase=phase, variables=variables, optimizer=optimizer):
            with tf.GradientTape() as tape:
                loss, phase_logs = phase.compute(data)
            grads = tape.gradient(loss, variables)
            optimizer.apply(grads, variables)
            if phase.constraint is not None:
                for variable in variables:
                    variable.assign(phase.constraint(variable.value))
            return phase_logs

        if phase.repeats > 1 and tf.inside_function():

            def body(i, update=update):
                update()
                return (i + 1,)

            tf.while_loop(lambda i, n=phase.repeats - 1: i < n, body, (tf.constant(0),))
        else:
            for _ in range(phase.repeats - 1):
                update()
        logs.update(update())
    model.optimizer.iterations.assign_add(1)
    return model.update_phase_metrics(logs)


def compile_function(fn, variables, hot_loop=False):
    # The variables are captured by the traced function and read at each call.
    return tf.function(fn, reduce_retracing=True, jit_compile=True)


def compile_update(loss_fn, optimizer, trainable, state, after_update, repeats):
    def one_update(arrays):
        with tf.GradientTape() as tape:
            loss, logs = loss_fn(*arrays)
        grads = tape.gradient(loss, trainable)
        optimizer.apply(grads, trainable)
        if after_update is not None:
            after_update()
        return logs

    @tf.function(reduce_retracing=True, jit_compile=True)
    def step(*arrays):
        if repeats == 1:
            return one_update(arrays)
        # Unrolled: the updates are sequential through the variables anyway.
        all_logs = [one_update([a[i] for a in arrays]) for i in range(repeats)]
        return {
            k: tf.add_n([logs[k] for logs in all_logs]) / repeats for k in all_logs[0]
        }

    return step


def compile_input_gradient(fn, variables):
    # A tf.function (traced once per input signature, no XLA): besides speed, it
    # avoids a TensorFlow 2.21 crash (heap corruption, the process aborts) of the
    # *eager* gradient through a 1x1 stride-2 convolution (a ResNet shortcut) with
    # oneDNN; the same gradient in a graph is fine.
    @tf.function(reduce_retracing=True)
    def call(x, *args):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value, aux = fn(x, *args)
        grad = tape.gradient(
            value, x, unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        return value, aux, grad

    def quiet_call(x, *args):
        # One tf.function per model by design: TensorFlow's retracing warning
        # (which counts across functions) would only blame the caller.
        with fresh_models_per_call():
            return call(x, *args)

    return quiet_call
