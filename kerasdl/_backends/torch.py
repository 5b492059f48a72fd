"""PyTorch implementations of the `kerasdl.backend` seam (eager, autograd).

Keras on torch runs eagerly: a Keras variable's value is a `torch.nn.Parameter`, and a
gradient is `torch.autograd.grad` of a loss computed with ordinary Keras calls. Using
`autograd.grad` (rather than `loss.backward()`) leaves every parameter's `.grad`
untouched, so a phase's update never leaks into another's, and passing
`create_graph=True` for input gradients lets a train step differentiate them again
(the WGAN-GP penalty is a gradient of a gradient).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import warnings

import keras
import torch

# True while a train step of ours runs: only there is an input gradient kept
# differentiable (elsewhere, Grad-CAM or a saliency map, it is returned detached, so
# that NumPy can read it and no graph outlives the call).
_in_train_step = contextvars.ContextVar("kerasdl_torch_train_step", default=False)


@contextlib.contextmanager
def _train_step():
    token = _in_train_step.set(True)
    try:
        yield
    finally:
        _in_train_step.reset(token)


def _nll_loss_4d_backward_works() -> bool:
    """torch's repro of pytorch/pytorch#175084: the backward of `nll_loss` on a
    non-contiguous 4-D input (what Keras's sparse categorical cross-entropy of
    probabilities `(batch, h, w, classes)` passes it, after `movedim`) fails with
    "grad_input must be contiguous" in the torch builds without the fix."""
    probs = torch.rand(1, 2, 3, 4, requires_grad=True)
    try:
        loss = torch.nn.functional.nll_loss(
            torch.movedim(probs, -1, 1), torch.zeros(1, 2, 3, dtype=torch.long)
        )
        loss.backward()
    except RuntimeError:
        return False
    return True


def _work_around_nll_loss_4d_backward() -> None:
    """Make `nll_loss`'s 4-D input contiguous, as torch's fix does, where needed:
    without it a U-Net with a softmax output cannot train with
    `sparse_categorical_crossentropy` on torch. Applied once, at import, only if
    the installed torch has the bug."""
    functional = torch.nn.functional
    if getattr(functional.nll_loss, "_kerasdl_contiguous", False):
        return
    if _nll_loss_4d_backward_works():
        return
    original = functional.nll_loss

    def nll_loss(input, target, *args, **kwargs):
        if input.dim() == 4 and not input.is_contiguous():
            input = input.contiguous()
        return original(input, target, *args, **kwargs)

    nll_loss._kerasdl_contiguous = True
    nll_loss.__doc__ = original.__doc__
    functional.nll_loss = nll_loss


_work_around_nll_loss_4d_backward()


def enable_determinism() -> None:
    # CPU kernels are deterministic already; this makes a nondeterministic one (a
    # scatter-add on GPU) warn instead of silently varying between runs.
    torch.use_deterministic_algorithms(True, warn_only=True)


def global_generator_state():
    # Keras on torch shuffles and draws an unseeded layer's dropout mask with
    # torch's global generator (not with a SeedGenerator's state).
    return torch.random.get_rng_state()


def set_global_generator_state(state) -> None:
    torch.random.set_rng_state(state)


def seed_global_generator(seed: int) -> None:
    torch.manual_seed(seed)


def fresh_models_per_call():
    return contextlib.nullcontext()


def _tensor(x):
    return x if isinstance(x, torch.Tensor) else keras.ops.convert_to_tensor(x)


def _watched(x):
    """`x` as a tensor autograd differentiates with respect to: itself when it is
    already part of a graph (an interpolate between real and generated images),
    else a detached leaf that requires grad."""
    x = _tensor(x)
    if x.requires_grad:
        return x
    return x.detach().requires_grad_(True)


def _grads(value, tensors, create_graph=False):
    """Gradients of scalar `value` w.r.t. `tensors`, zeros where it does not depend
    on one (including tensors that do not require grad, e.g. integer variables)."""
    wanted = [i for i, t in enumerate(tensors) if t.requires_grad]
    grads = [None] * len(tensors)
    if wanted and value.requires_grad:
        found = torch.autograd.grad(
            value,
            [tensors[i] for i in wanted],
            create_graph=create_graph,
            allow_unused=True,
        )
        for i, g in zip(wanted, found):
            grads[i] = g
    return [torch.zeros_like(t) if g is None else g for t, g in zip(tensors, grads)]


def _detached(structure):
    return keras.tree.map_structure(
        lambda t: t.detach() if isinstance(t, torch.Tensor) else t, structure
    )


def value_and_input_gradient(fn, x):
    x = _watched(x)
    differentiable = _in_train_step.get()
    with torch.enable_grad():
        value = fn(x)
        # Inside a train step the graph of the gradient is kept, so that the step
        # can differentiate it with respect to the weights (WGAN-GP).
        (grad,) = _grads(value, [x], create_graph=differentiable)
    if differentiable:
        return value, grad
    return value.detach(), grad


def value_and_weight_gradients(fn, variables):
    with torch.enable_grad():
        value = fn(None)
        grads = _grads(value, [v.value for v in variables])
    return value.detach(), grads


def _apply(optimizer, grads, variables):
    with torch.no_grad():
        optimizer.apply(grads, variables)


def multi_optimizer_train_step(model, data):
    """Runs the phases in order, each `repeats` times, eagerly."""
    logs = {}
    for phase, variables in zip(model._phases, model._phase_variables):
        optimizer = model.optimizer.optimizers[phase.optimizer]
        tensors = [v.value for v in variables]
        for _ in range(phase.repeats):
            with torch.enable_grad(), _train_step():
                loss, phase_logs = phase.compute(data)
                grads = _grads(loss, tensors)
            _apply(optimizer, grads, variables)
            if phase.constraint is not None:
                with torch.no_grad():
                    for variable in variables:
                        variable.assign(phase.constraint(variable.value))
        logs.update(_detached(phase_logs))
    with torch.no_grad():
        model.optimizer.iterations.assign_add(1)
        return model.update_phase_metrics(logs)


# torch.compile pays only over many calls. Compiling the DQN update takes ~45-110 s
# on a 2-core CPU, after which DQN's training costs about an eighth of the eager one
# (1.9 s against 14.4 s per 2,500 steps); a test or a short run would only pay. So a
# hot function runs eagerly for its first COMPILE_AFTER calls and through
# torch.compile after them. KERASDL_TORCH_COMPILE=0 keeps everything eager; where
# compiling fails (no C++ compiler for inductor) it warns once and stays eager.
COMPILE_AFTER = 1000


def _compiling_enabled() -> bool:
    return os.environ.get("KERASDL_TORCH_COMPILE", "1").strip() not in ("0", "false")


class _CompiledWhenHot:
    """`fn`, eager for its first `after` calls, then `torch.compile(fn)`."""

    def __init__(self, fn, after=None):
        self.fn = fn
        self.after = COMPILE_AFTER if after is None else after
        self.calls = 0
        self.compiled = None  # None: not yet; False: failed, stays eager

    def __call__(self, *args):
        if self.compiled is None:
            self.calls += 1
            if self.calls <= self.after or not _compiling_enabled():
                return self.fn(*args)
            # Tracing torch.autograd.grad makes forward, backward and the optimizer
            # step one graph (without it, three, and half the speed-up).
            patch = torch._dynamo.config.patch(trace_autograd_ops=True)
            self.compiled = patch(torch.compile(self.fn))
        if self.compiled is False:
            return self.fn(*args)
        try:
            return self.compiled(*args)
        except torch._dynamo.exc.TorchDynamoException as error:
            warnings.warn(
                "torch.compile failed, so kerasdl goes on eagerly (slower, same "
                f"results): {str(error).splitlines()[0]}",
                RuntimeWarning,
                stacklevel=2,
            )
            self.compiled = False
            return self.fn(*args)


def compile_function(fn, variables, hot_loop=False):
    # Keras layers on torch call torch's kernels directly; the variables are read at
    # each call (a compiled graph reads the same parameters in place).
    run = _CompiledWhenHot(fn) if hot_loop else fn

    def call(*arrays):
        with torch.no_grad():
            return run(*[_tensor(a) for a in arrays])

    return call


def compile_update(loss_fn, optimizer, trainable, state, after_update, repeats):
    def step(*arrays):
        tensors = [v.value for v in trainable]
        with torch.enable_grad():
            loss, logs = loss_fn(*arrays)
            grads = _grads(loss, tensors)
        _apply(optimizer, grads, trainable)
        if after_update is not None:
            with torch.no_grad():
                after_update()
        return _detached(logs)

    def steps(*arrays):
        if repeats == 1:
            return step(*arrays)
        all_logs = [step(*[a[i] for a in arrays]) for i in range(repeats)]
        return {
            key: torch.stack([logs[key] for logs in all_logs]).mean(dim=0)
            for key in all_logs[0]
        }

    # One call (`repeats` updates) is one compiled graph: a compiled function's
    # call costs more than a small network's update.
    hot_steps = _CompiledWhenHot(steps, after=max(1, COMPILE_AFTER // repeats))

    def update(*arrays):
        with _train_step():
            return hot_steps(*[_tensor(a) for a in arrays])

    return update


def compile_input_gradient(fn, variables):
    def call(x, *args):
        x = _tensor(x).detach().requires_grad_(True)
        with torch.enable_grad():
            value, aux = fn(x, *args)
            (grad,) = _grads(value, [x])
        return value.detach(), _detached(aux), grad

    return call
