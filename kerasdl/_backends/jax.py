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
