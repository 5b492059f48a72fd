"""JAX implementations of the `kerasdl.backend` seam (stateless, jit-compatible)."""

from __future__ import annotations

import contextlib

import jax
import keras


def enable_determinism() -> None:
    # XLA on CPU is deterministic; nothing to switch on.
    return None


def fresh_models_per_call():
    return contextlib.nullcontext()


def value_and_input_gradient(fn, x):
    return jax.value_and_grad(fn)(x)


def value_and_weight_gradients(fn, variables):
    def f(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(None)

    return jax.value_and_grad(f)([v.value for v in variables])


def multi_optimizer_train_step(model, state, data):
    """Keras's JAX trainer calls this with `(trainable, non_trainable, optimizer,
    metrics)` values and expects `(logs, new_state)` back. Every variable is read from
    and written to `values` (a dict keyed by variable id, a JAX pytree), never to the
    Keras variables themselves.

    A phase repeated k times (a WGAN critic) runs k - 1 times in a `lax.fori_loop`
    and once more unrolled for its logs, so the compiled step holds two copies of
    the phase rather than k (compilation time would grow with k otherwise)."""
    groups = (
        model.trainable_variables,
        model.non_trainable_variables,
        model.optimizer.variables,
        model.metrics_variables,
    )
    values = {}
    by_id = {}
    for variables, current in zip(groups, state):
        for variable, value in zip(variables, current):
            values[id(variable)] = value
            by_id[id(variable)] = variable
    non_trainable_ids = [id(v) for v in model.non_trainable_variables]

    def mapping(values):
        return [(by_id[key], value) for key, value in values.items()]

    def run_phase(values, phase, ids, optimizer):
        """One update of one phase: returns the new values and the phase's logs."""

        def loss_and_updates(phase_values):
            merged = dict(values)
            merged.update(zip(ids, phase_values))
            with keras.StatelessScope(state_mapping=mapping(merged)) as scope:
                loss, phase_logs = phase.compute(data)
            updated = {k: scope.get_current_value(by_id[k]) for k in non_trainable_ids}
            return loss, (phase_logs, updated)

        phase_values = [values[k] for k in ids]
        (_, (phase_logs, updated)), grads = jax.value_and_grad(
            loss_and_updates, has_aux=True
        )(phase_values)
        values = dict(values)
        values.update(updated)
        optimizer_values = [values[id(v)] for v in optimizer.variables]
        new_phase_values, new_optimizer_values = optimizer.stateless_apply(
            optimizer_values, grads, phase_values
        )
        if phase.constraint is not None:
            new_phase_values = [phase.constraint(v) for v in new_phase_values]
        values.update(zip(ids, new_phase_values))
        values.update(zip([id(v) for v in optimizer.variables], new_optimizer_values))
        return values, phase_logs

    logs = {}
    for phase, variables in zip(model._phases, model._phase_variables):
        optimizer = model.optimizer.optimizers[phase.optimizer]
        ids = [id(v) for v in variables]
        if phase.repeats > 1:
            values = jax.lax.fori_loop(
                0,
                phase.repeats - 1,
                lambda _, v, phase=phase, ids=ids, opt=optimizer: run_phase(
                    v, phase, ids, opt
                )[0],
                values,
            )
        values, phase_logs = run_phase(values, phase, ids, optimizer)
        logs.update(phase_logs)

    bookkeeping = model.metrics_variables + [model.optimizer.iterations]
    with keras.StatelessScope(state_mapping=mapping(values)) as scope:
        model.optimizer.iterations.assign_add(1)
        results = model.update_phase_metrics(logs)
    values.update((id(v), scope.get_current_value(v)) for v in bookkeeping)

    new_state = tuple([values[id(v)] for v in variables] for variables in groups)
    return results, new_state


def compile_function(fn, variables, hot_loop=False):
    def pure(values, *arrays):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(*arrays)

    jitted = jax.jit(pure)

    def call(*arrays):
        return jitted([v.value for v in variables], *arrays)

    return call


def _setter(variable):
    """Assign a value computed by our own jitted code: it already has the variable's
    shape and dtype, so Keras's checks in `assign` (8 us a call) are skipped."""
    return getattr(variable, "_direct_assign", variable.assign)


def compile_update(loss_fn, optimizer, trainable, state, after_update, repeats):
    """One jitted pure step over the variables' values; the new values are written
    back to the Keras variables after each call. State variables the step did not
    assign (a target network between copies) are not returned nor written back."""
    optimizer_variables = list(optimizer.variables)
    changed = []  # indices of the state variables the step assigns (set when traced)

    def step(train_values, state_values, optimizer_values, *arrays):
        def loss_of(values):
            mapping = list(zip(trainable, values)) + list(zip(state, state_values))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                loss, logs = loss_fn(*arrays)
                new_state = [scope.get_current_value(v) for v in state]
            return loss, (logs, new_state)

        (_, (logs, new_state)), grads = jax.value_and_grad(loss_of, has_aux=True)(
            train_values
        )
        new_train, new_optimizer = optimizer.stateless_apply(
            optimizer_values, grads, train_values
        )
        if after_update is not None:
            mapping = list(zip(trainable, new_train)) + list(zip(state, new_state))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                after_update()
                new_state = [scope.get_current_value(v) for v in state]
        changed[:] = [
            i for i, (a, b) in enumerate(zip(state_values, new_state)) if a is not b
        ]
        return new_train, [new_state[i] for i in changed], new_optimizer, logs

    def scanned(train_values, state_values, optimizer_values, *arrays):
        # Only the changed state variables travel through the scan's carry.
        def body(carry, xs):
            train_values, changed_values, optimizer_values = carry
            full_state = list(state_values)
            for i, value in zip(changed, changed_values):
                full_state[i] = value
            new_train, new_changed, new_optimizer, logs = step(
                train_values, full_state, optimizer_values, *xs
            )
            return (new_train, new_changed, new_optimizer), logs

        # Trace one step first to learn which state variables it assigns.
        jax.eval_shape(
            step, train_values, state_values, optimizer_values, *[a[0] for a in arrays]
        )
        carry = (train_values, [state_values[i] for i in changed], optimizer_values)
        (new_train, new_changed, new_optimizer), logs = jax.lax.scan(
            body, carry, arrays
        )
        logs = {k: v.mean() for k, v in logs.items()}
        return new_train, new_changed, new_optimizer, logs

    jitted = jax.jit(step if repeats == 1 else scanned)
    setters = {
        "train": [_setter(v) for v in trainable],
        "state": [_setter(v) for v in state],
        "optimizer": [_setter(v) for v in optimizer_variables],
    }

    def update(*arrays):
        new_train, new_state, new_optimizer, logs = jitted(
            [v.value for v in trainable],
            [v.value for v in state],
            [v.value for v in optimizer_variables],
            *arrays,
        )
        for setter, value in zip(setters["train"], new_train):
            setter(value)
        for i, value in zip(changed, new_state):
            setters["state"][i](value)
        for setter, value in zip(setters["optimizer"], new_optimizer):
            setter(value)
        return logs

    return update


def compile_input_gradient(fn, variables):
    """`fn(x, *args) -> (value, aux)` jitted with its gradient w.r.t. `x`; the
    variables' values are passed in at each call (later updates are seen)."""

    def pure(values, x, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            (value, aux), grad = jax.value_and_grad(fn, has_aux=True)(x, *args)
        return value, aux, grad

    jitted = jax.jit(pure)

    def call(x, *args):
        return jitted([v.value for v in variables], x, *args)

    return call
