"""The NumPy training plan: the epochs of a plain-SGD run as bound NumPy calls.

:func:`training_plan` is what :meth:`xpnet.Backend.training_plan` answers
on NumPy: a :class:`NumpyPlan` when the run is one it computes, else None and
the loop runs its generic epoch (:func:`xpnet.loop._run_epoch`). It computes
plain SGD (no momentum, no weight decay) with the built-in optimizer, the
built-in hidden activations of :data:`~.numpy_step.HIDDEN` and a matched
output/loss pair, without sample weights or dropout, on one process; any
other run, and every run while the environment variable ``XPNET_GENERIC`` is
set (to anything but ``0``), takes the generic path.

A plan holds the run's parameters (small ones in one flat buffer: see
:mod:`.numpy_step`), the buffers of a step, and per batch size a
:class:`~.numpy_step.Step`. Each epoch it draws the shuffle order exactly as
the generic epoch does, gathers the batch into fixed buffers
(``np.take(..., out=, mode="clip")``) or takes the rows in order as views, runs
the step, and returns the epoch's metrics as 0-D arrays for the loop to keep
until its next host sync. The epoch loss and accuracy are combined from the
per-batch ones exactly as the generic epoch combines them. A full-batch run
of a small network keeps its output logits instead and computes the metrics
of up to :data:`DEFER_BYTES` worth of epochs in one go, at the latest when
the loop reads them (:meth:`NumpyPlan.settle`).
"""

from __future__ import annotations

import operator
import os
from typing import Any

import numpy as np

from . import numpy_step
from .blas import numpy_gemm
from .numpy_metrics import KINDS, slot_metrics, truth_of
from .numpy_step import HIDDEN, Batch, Rate, Step, StepBuffers

__all__ = ["DEFER_BYTES", "NumpyPlan", "training_plan", "why_generic"]

#: A full-batch run keeps at most this many bytes of output logits to compute its metrics in batches.
DEFER_BYTES = 1 << 18


def training_plan(run: Any) -> NumpyPlan | None:
    """A :class:`NumpyPlan` for ``run``, or None when the run takes the generic path (:func:`why_generic`)."""
    return None if why_generic(run) else NumpyPlan(run, numpy_gemm())


def why_generic(run: Any) -> str | None:
    """Why ``run`` takes the generic path (None: the NumPy plan computes it)."""
    net, opt = run.model, run.optimizer
    X, T, weights = run.data
    checks = (
        (os.environ.get("XPNET_GENERIC", "") not in ("", "0"), "XPNET_GENERIC is set"),
        (getattr(run.parallel, "size", 1) != 1, "a data-parallel run"),
        (not (type(X) in (np.ndarray, np.memmap) and type(T) is np.ndarray), "not NumPy arrays"),
        (weights is not None, "sample weights"),
        (run.dropout > 0, "dropout"),
        (not _plain_sgd(opt, run.opt_state), f"optimizer {opt.name!r} (plain SGD only)"),
        (not all(_builtin_activation(a) and a.name in HIDDEN for a in net.hidden), "hidden activations"),
        (not (_builtin_activation(net.output) and _builtin_loss(net.loss_fn)
              and (net.output.name, net.loss_fn.name) in KINDS), "output and loss"),
    )
    return next((why for failed, why in checks if failed), None)


def _plain_sgd(opt: Any, state: Any) -> bool:
    from ..optim import sgd

    hyper = opt.hyperparams
    return (opt.name == "sgd" and getattr(opt.update, "__code__", None) is sgd().update.__code__
            and hyper.get("momentum") == 0 and hyper.get("weight_decay") == 0
            and isinstance(state, dict) and state.get("momentum") is None and isinstance(state.get("t"), int)
            and "lr" in state)


def _builtin_activation(act: Any) -> bool:
    from ..activations import ACTIVATIONS

    return ACTIVATIONS.get(act.name) is act


def _builtin_loss(loss: Any) -> bool:
    from ..losses import LOSSES

    return LOSSES.get(loss.name) is loss


class NumpyPlan:
    """A run's parameters, step buffers and steps; :meth:`run_epoch` trains one epoch."""

    def __init__(self, run: Any, gemm: Any) -> None:
        net = run.model
        X, T, _ = run.data
        self.n = n = X.shape[0]
        self.bs = bs = n if run.batch_size is None else min(run.batch_size, n)
        self.kind, self.dtype = KINDS[(net.output.name, net.loss_fn.name)], net.dtype
        self.T, self.truth = T, truth_of(self.kind, T)
        self.rate, self.lr, self.in_order = Rate(), None, Batch()
        self.gathered = _gather_buffers(X, T, self.truth, bs) if run.shuffle and bs < n else None
        rows = {bs, n - (n - 1) // bs * bs}
        self.batches = {m: self._batch(X, T, m) for m in rows}
        contiguous = self.gathered is not None or X.flags.c_contiguous
        params, grads, updates = self._adopt_new(run, gemm if contiguous else None)
        buffers = StepBuffers(net.sizes, bs, net.dtype)
        self.make_step = lambda m, outputs=None: Step(net, params, grads, buffers, m, self.batches[m], self.rate,
                                                      gemm, updates, outputs)
        self.steps = {m: self.make_step(m) for m in rows}
        k = net.sizes[-1]
        slots = min(run.sync_every, run.epochs - run.epoch, DEFER_BYTES // (n * k * np.dtype(net.dtype).itemsize))
        self.deferred = _Deferred(self, net, slots, run.sync_every) if bs == n and slots > 1 else None

    # -- parameters -------------------------------------------------------------------------------
    def _adopt_new(self, run: Any, gemm: Any) -> tuple[list, list, list]:
        """Lay the run's parameters out for the step: ``(params, grads, updates)`` per layer and the
        ``(parameter, gradient)`` pairs of the update; ``run.params`` and the model get the plan's arrays."""
        values = list(run.params)
        fuse_min, own_min = numpy_step.FUSE_MIN, numpy_step.OWN_MIN
        fused = [gemm is not None and W.size >= fuse_min and gemm.supports(W) for W in values[0::2]]
        own = [W.size >= own_min and not f for W, f in zip(values[0::2], fused)]
        in_flat = [i for i, a in enumerate(values) if i % 2 or not (fused[i // 2] or own[i // 2])]
        P = np.empty(sum(values[i].size for i in in_flat), values[0].dtype)
        G = np.empty_like(P)
        arrays, grads, offset = list(values), [None] * len(values), 0
        for i in in_flat:
            size, shape = values[i].size, values[i].shape
            arrays[i], grads[i] = P[offset:offset + size].reshape(shape), G[offset:offset + size].reshape(shape)
            arrays[i][...] = values[i]
            offset += size
        updates = [(P, G)]
        for l, is_own in enumerate(own):
            if is_own:
                grads[2 * l] = np.empty(values[2 * l].shape, values[2 * l].dtype)
                updates.append((arrays[2 * l], grads[2 * l]))
        self.params = arrays
        self._hand_over(run)
        return list(zip(arrays[0::2], arrays[1::2])), list(zip(grads[0::2], grads[1::2])), updates

    def _hand_over(self, run: Any) -> None:
        run.params = list(self.params)
        run.model._params = list(zip(self.params[0::2], self.params[1::2]))

    def _take_over(self, run: Any) -> None:
        """Take over parameters a callback put into ``run.params`` since the last epoch (values copied in)."""
        for mine, theirs in zip(self.params, run.params):
            if mine is not theirs:
                np.copyto(mine, np.asarray(theirs))
        self._hand_over(run)

    # -- epochs -----------------------------------------------------------------------------------
    def run_epoch(self, run: Any, hold: Any) -> list:
        """One pass over the data, as :func:`xpnet.loop._run_epoch`; returns the epoch's metrics (0-D arrays)."""
        if not all(map(operator.is_, run.params, self.params)) or len(run.params) != len(self.params):
            self._take_over(run)
        lr = run.opt_state["lr"]
        if lr != self.lr:  # the first epoch, or a schedule's new rate: the update operations read it
            self.lr = lr
            self.rate.set(lr, self.dtype)
        if self.bs < self.n:
            return self._minibatches(run, hold)
        hold.busy = True
        if self.deferred is not None:
            self.deferred.next_step()()
            self._stepped(run)
            return self.deferred.add()
        step = self.steps[self.n]
        step()
        self._stepped(run)
        losses, hits = slot_metrics(self.kind, step.Z[-1][None], step.A[None], self.T, self.truth, step.softmax)
        return [losses[0]] if hits is None else [losses[0], hits[0]]

    def _stepped(self, run: Any) -> None:
        """Count the step in the optimizer's state, as :func:`xpnet.optim.sgd`'s update does."""
        run.opt_state = {"t": run.opt_state["t"] + 1, "lr": self.lr, "momentum": None}

    def _minibatches(self, run: Any, hold: Any) -> list:
        n, bs = self.n, self.bs
        order = run.rng.permutation(n) if self.gathered is not None else None  # the generic epoch's draw
        losses, hits = [], []
        for start in range(0, n, bs):
            stop = min(start + bs, n)
            hold.busy = True
            batch = self._load_batch(run.data, order, start, stop)
            step = self.steps[stop - start]
            step()
            self._stepped(run)
            loss, hit = slot_metrics(self.kind, step.Z[-1][None], step.A[None], batch.T, batch.truth, step.softmax)
            losses.append(loss[0])
            if hit is not None:
                hits.append(hit[0])
            if stop < n:
                hold.leave()
        last = n - (len(losses) - 1) * bs
        # loop._epoch_mean and the sum of the per-batch counts, with the same operations
        metrics = [(np.add.reduce(np.array(losses[:-1])) * bs + losses[-1] * last) / n]
        return metrics + ([np.add.reduce(np.array(hits))] if hits else [])

    def _batch(self, X: np.ndarray, T: np.ndarray, rows: int) -> Batch:
        """The batch of ``rows`` rows: the whole data set, the gather buffers, or (in order) views set per step."""
        if rows == self.n:
            return Batch(X, T, self.truth, fixed=True)
        if self.gathered is not None:
            return Batch(*[None if buf is None else buf[:rows] for buf in self.gathered], fixed=True)
        return self.in_order

    def _load_batch(self, data: tuple, order: Any, start: int, stop: int) -> Batch:
        X, T, _ = data
        batch = self.batches[stop - start]
        if order is None:  # views of the rows in order
            batch.X, batch.T = X[start:stop], T[start:stop]
            batch.truth = None if self.truth is None else self.truth[start:stop]
            return batch
        idx = order[start:stop]
        for source, out in zip((X, T, self.truth), (batch.X, batch.T, batch.truth)):
            if out is not None:
                np.take(source, idx, axis=0, out=out, mode="clip")  # mode="raise" buffers out: slower
        return batch

    def settle(self) -> None:
        """Compute the metrics of every epoch returned so far (the loop calls it before reading them)."""
        if self.deferred is not None:
            self.deferred.settle()


def _gather_buffers(X: np.ndarray, T: np.ndarray, truth: Any, rows: int) -> list:
    """Buffers for one shuffled batch of ``X``, ``T`` and the truth its hits are counted against."""
    return [None if a is None else np.empty((rows, *a.shape[1:]), a.dtype) for a in (X, T, truth)]


class _Deferred:
    """The metrics of a full-batch run, computed for up to ``slots`` epochs at once.

    Epoch after epoch, the step of :meth:`next_step` writes its output logits
    and activations into the next slot (one step per slot, built when first
    needed), and :meth:`add` returns the epoch's metrics as 0-D views of a
    ring of values that :meth:`settle` fills, when the slots are full or the
    loop is about to read them. The loop reads every epoch's metrics at most
    ``sync_every`` epochs after the epoch, and a view is written again only
    ``ring`` epochs later (at least twice that): the views are made once.
    """

    def __init__(self, plan: NumpyPlan, net: Any, slots: int, sync_every: int) -> None:
        self.plan = plan
        self.Z = np.empty((slots, plan.n, net.sizes[-1]), net.dtype)
        self.A = self.Z if net.output.name == "identity" else np.empty_like(self.Z)
        self.steps: list = [None] * slots
        width = 1 if plan.truth is None else 2
        self.values = values = np.empty((2 * max(slots, sync_every), width), net.dtype)
        self.rows = [tuple(values[p, c, ...] for c in range(width)) for p in range(len(values))]
        self.used = self.cursor = 0  # epochs kept in the slots; the ring position of the next epoch

    def next_step(self) -> Any:
        """The step that writes its outputs into the next slot."""
        used = self.used
        step = self.steps[used]
        if step is None:
            step = self.steps[used] = self.plan.make_step(self.plan.n, (self.Z[used], self.A[used]))
        return step

    def add(self) -> list:
        """The metrics of the epoch whose step just wrote the next slot."""
        row = self.rows[self.cursor]
        self.cursor = (self.cursor + 1) % len(self.rows)
        self.used += 1
        if self.used == len(self.Z):
            self.settle()
        return list(row)  # a list of its own: the loop appends validation metrics to it

    def settle(self) -> None:
        used = self.used
        if not used:
            return
        plan = self.plan
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # as inside the loop
            losses, hits = slot_metrics(plan.kind, self.Z[:used], self.A[:used], plan.T, plan.truth)
        positions = np.arange(self.cursor - used, self.cursor) % len(self.values)
        self.values[positions, 0] = losses
        if hits is not None:
            self.values[positions, 1] = hits
        self.used = 0
