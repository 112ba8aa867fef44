"""Data-parallel training on MPI: the same numbers on 1 or N processes.

Every rank of an MPI job makes the same call, ``xpnet.train(model, X, y, ...,
comm=MPI.COMM_WORLD)``. ``batch_size`` is the global batch. Each step, rank
``r`` of ``N`` takes the positions ``[B r / N, B (r + 1) / N)`` of the
batch's ``B`` positions in the epoch's order (the shuffle order and dropout
masks come from the seeded host generator, the same on every rank), weighs
each of its rows as its share of the batch's mean (``1 / B``, or ``w_i / W``
with sample weights), computes the gradient of that share, and one allreduce
of one flat buffer sums the shares into the batch's gradient. Every rank then
applies the same update: the parameters stay identical on every rank and
equal a one-process run's up to the rounding of the sum, whatever ``N`` is,
including short batches in which a rank has no rows.

The protocol of :func:`xpnet.train` with a communicator of more than one rank:

1. argument checks, on every rank alike, before any communication;
2. :meth:`DataParallel.connect`: one allgather of host names (each rank's
   GPU is its rank among the ranks of its node, modulo the GPUs there);
3. setting up (device, data checks: each rank checks its share of the rows
   for NaN and infinity), then :meth:`DataParallel.agreement`: one allgather
   in which every rank learns whether every rank succeeded and was called
   with the same arguments; if not, every rank raises the same error, naming
   the rank;
4. :meth:`DataParallel.start`: every rank takes rank 0's initial weights,
   optimizer state and random generator (one broadcast);
5. training: one allreduce of the gradients per step, one allreduce of the
   stacked metrics per host sync; rank 0 alone writes checkpoints and prints.

A failure after step 3 on one rank would leave the others waiting in a
collective forever, so :meth:`DataParallel.guard` prints it, names the rank
and ends the whole job with ``MPI_Abort``; so does an uncaught exception
anywhere in the process (:func:`abort_on_uncaught`, what ``python -m mpi4py``
does). A rank killed by a signal ends the job through ``mpiexec``.

Gradients on a device that is not the host (CuPy, PyTorch CUDA,
array-api-strict's simulated accelerator) are staged through host memory: one
device-to-host and one host-to-device copy of the flat buffer per step.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import shutil
import sys
import time
import traceback
from typing import Any, Callable

import numpy as np  # host buffers for MPI, by design (as in data.py)

from .backend import array_namespace, to_numpy
from .loop import TINY
from .model import pairs_of
from .errors import (InvalidArgumentError, InvalidTypeError, MissingDependencyError, RankFailedError,
                     TrainingDivergedError, XpnetError)

__all__ = ["DataParallel", "data_parallel", "abort_on_uncaught", "is_collective", "world", "cli_run",
           "mpi_info", "MPI_ENV"]

#: Environment variables set by MPI launchers (MPICH/Intel MPI hydra, Open MPI, MVAPICH, PMIx): a process
#: that has one of them was started by ``mpiexec``/``srun``.
MPI_ENV = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_RANK")

# Errors every rank raises at the same point from the same (reduced) numbers: no rank waits for another.
_COLLECTIVE = (TrainingDivergedError,)


def _mpi() -> Any:
    try:
        return importlib.import_module("mpi4py.MPI")
    except ImportError as exc:
        raise MissingDependencyError(
            f"data-parallel training needs mpi4py and an MPI library ({exc}); pip install 'xpnet[mpi]'"
        ) from None


def data_parallel(comm: Any) -> "DataParallel | None":
    """``train(comm=...)``: None for one process (no communicator, or one of a single rank), else the run's
    :class:`DataParallel`. Checks the type only: no communication."""
    if comm is None:
        return None
    MPI = _mpi()
    if isinstance(comm, MPI.Comm) and comm == MPI.COMM_NULL:
        raise InvalidArgumentError("comm is MPI.COMM_NULL; pass MPI.COMM_WORLD or another communicator "
                                   "that holds this rank")
    if not isinstance(comm, MPI.Intracomm):
        raise InvalidTypeError(
            "comm must be an mpi4py intracommunicator such as MPI.COMM_WORLD, or None; "
            f"got {type(comm).__name__}"
        )
    if comm.Get_size() == 1:
        return None  # one rank: the one-process loop, exactly its numbers
    abort_on_uncaught()
    return DataParallel(comm, MPI)


class DataParallel:
    """One rank's side of a data-parallel run: its rows of each batch, the sums across ranks, the protocol.

    The loop (:mod:`xpnet.loop`) asks it which positions of a batch are this
    rank's (:meth:`span`), how to weigh them (:meth:`weights`), and calls
    :meth:`reduce_grads` once per step and :meth:`reduce_metrics` once per host sync.

    Attributes
    ----------
    rank, size : int
        This process's rank in the communicator and the number of ranks.
    is_root : bool
        True on rank 0, the one that writes checkpoints and prints.
    local_rank : int
        The rank among the ranks on this node (after :meth:`connect`): its GPU.
    allreduce_seconds : float
        Time spent in the gradient allreduce so far (the communication of the steps).
    """

    def __init__(self, comm: Any, MPI: Any) -> None:
        self.comm, self.MPI = comm, MPI
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.is_root = self.rank == 0
        self.local_rank = self.local_size = None
        self.backend = None
        self.allreduce_seconds, self.steps = 0.0, 0

    def __repr__(self) -> str:
        return f"DataParallel(rank {self.rank} of {self.size})"

    # -- rows and weights (called by the loop) ------------------------------------------
    def span(self, start: int, stop: int) -> tuple[int, int]:
        """This rank's positions ``[lo, hi)`` of the batch at positions ``[start, stop)``: a balanced
        contiguous share, empty when the batch has fewer rows than there are ranks."""
        count = stop - start
        return start + count * self.rank // self.size, start + count * (self.rank + 1) // self.size

    def weights(self, Wb: Any, W: Any, order: Any, start: int, stop: int, xp: Any) -> tuple[Any, Any]:
        """``(row weights, the batch's weight total or None)``: each row's share of the whole batch's mean.

        Unweighted, every row weighs ``1 / B`` (a number, whatever this rank's row count);
        with sample weights ``W``, ``w_i / W_batch``, the total over the whole
        batch, which every rank computes from the same positions.
        """
        if W is None:
            return 1.0 / (stop - start), None
        batch = W[start:stop, :] if order is None else xp.take(W, order[start:stop], axis=0)
        total = xp.sum(batch)
        return Wb / xp.maximum(total, TINY), total  # weights all 0: a zero loss and a zero gradient

    # -- sums across ranks --------------------------------------------------------------
    def reduce_grads(self, grads: list) -> list:
        """The sum over the ranks of each gradient: one flat buffer, one allreduce (through host memory)."""
        xp = array_namespace(grads[0])
        flat = xp.concat([xp.reshape(g, (-1,)) for g in grads])
        host = _writable(to_numpy(flat))  # NumPy: the same memory; a device: one copy to the host
        start = time.perf_counter()
        self.comm.Allreduce(self.MPI.IN_PLACE, host, op=self.MPI.SUM)
        self.allreduce_seconds += time.perf_counter() - start
        self.steps += 1
        summed = self.backend.asarray(host)  # a device: one copy back
        out, offset = [], 0
        for g in grads:
            size = math.prod(g.shape)
            out.append(xp.reshape(summed[offset:offset + size], g.shape))
            offset += size
        return out

    def reduce_metrics(self, host: np.ndarray) -> np.ndarray:
        """The sum over the ranks of a sync's stacked per-epoch metrics (each rank's share): one allreduce."""
        host = np.ascontiguousarray(host)
        out = np.empty_like(host)
        self.comm.Allreduce(host, out, op=self.MPI.SUM)
        return out

    # -- the protocol before training ---------------------------------------------------
    def connect(self) -> None:
        """The first collective: each rank learns its rank among the ranks of its node (for its GPU)."""
        names = self.comm.allgather(self.MPI.Get_processor_name())
        mine = names[self.rank]
        self.local_rank, self.local_size = names[:self.rank].count(mine), names.count(mine)

    def share(self, n: int) -> tuple[int, int]:
        """The rows ``[lo, hi)`` of ``n`` that this rank checks (and evaluates, for validation data)."""
        return self.span(0, n)

    @contextlib.contextmanager
    def agreement(self) -> Any:
        """Run a block on every rank, then agree (one allgather): if the block raised on any rank, or
        the ranks' ``expect(...)`` values differ, every rank raises the same error, naming the rank.

        No collective may run inside the block (a rank that raised would miss it).
        """
        box = _Expected()
        error: Exception | None = None
        try:
            yield box
        except Exception as exc:  # noqa: BLE001 - reported to every rank just below
            error = exc
        mine = None if error is None else (type(error).__module__, type(error).__qualname__, str(error))
        outcomes = self.comm.allgather((mine, box.values))
        failure = _first_failure(outcomes, self.size) or _mismatch(outcomes)
        if failure is not None:
            failure.xpnet_all_ranks = True  # type: ignore[attr-defined]
            raise failure from error
        if error is not None:  # cannot happen: this rank's own error is among the outcomes
            raise error

    def start(self, run: Any) -> None:
        """Every rank starts from rank 0's weights, optimizer state and random generator (one broadcast of
        one flat buffer, one of the generator's state)."""
        self.backend = run.backend
        lists = [key for key, value in run.opt_state.items() if isinstance(value, list)]
        arrays = self._from_root_arrays(run.params + [a for key in lists for a in run.opt_state[key]])
        run.params, arrays = arrays[:len(run.params)], arrays[len(run.params):]
        run.model._params = pairs_of(run.params)
        for key in lists:
            count = len(run.opt_state[key])
            run.opt_state[key], arrays = arrays[:count], arrays[count:]
        state = run.rng.bit_generator.state if self.is_root else None
        run.rng.bit_generator.state = self.comm.bcast(state, root=0)

    def _from_root_arrays(self, arrays: list) -> list:
        """Rank 0's values of ``arrays`` (one dtype), as new arrays on this rank's device: one broadcast."""
        be = self.backend
        host = np.concatenate([to_numpy(a).reshape(-1) for a in arrays])
        self.comm.Bcast(host, root=0)
        out, offset = [], 0
        for a in arrays:
            size = math.prod(a.shape)
            out.append(be.xp.asarray(be.asarray(host[offset:offset + size].reshape(a.shape)), copy=True))
            offset += size
        return out

    def from_root(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` run on rank 0; its result, or its exception, on every rank (one broadcast)."""
        outcome = None
        if self.is_root:
            try:
                outcome = ("ok", fn())
            except Exception as exc:  # noqa: BLE001 - raised on every rank just below
                outcome = ("error", exc)
        status, value = self.comm.bcast(outcome, root=0)
        if status == "error":
            value.xpnet_all_ranks = True
            raise value
        return value

    # -- failures -----------------------------------------------------------------------
    @contextlib.contextmanager
    def guard(self) -> Any:
        """Around the training loop: an exception that only this rank may have raised ends every rank."""
        try:
            yield
        except BaseException as exc:
            if not is_collective(exc):
                self.abort(exc)
            raise

    def abort(self, exc: BaseException, code: int = 1) -> None:
        """Print ``exc`` naming this rank, then end every rank of the job (``MPI_Abort``)."""
        _report_and_abort(self.comm, exc, code)


def is_collective(exc: BaseException) -> bool:
    """True for an error every rank raises at the same point (so none waits for another): an agreement's,
    one rank 0 sent to all, or a divergence (decided from metrics and weights every rank has alike)."""
    return isinstance(exc, _COLLECTIVE) or bool(getattr(exc, "xpnet_all_ranks", False))


class _Expected:
    """What the ranks must agree on, set inside :meth:`DataParallel.agreement`'s block."""

    def __init__(self) -> None:
        self.values: dict = {}

    def expect(self, **values: Any) -> None:
        self.values.update(values)


def _first_failure(outcomes: list, size: int) -> Exception | None:
    failed = [(rank, mine) for rank, (mine, _) in enumerate(outcomes) if mine is not None]
    if not failed:
        return None
    rank, (module, qualname, message) = failed[0]
    others = [r for r, _ in failed[1:]]
    where = f"rank {rank} of {size}" + (f" (and rank{'s' if len(others) > 1 else ''} "
                                        f"{', '.join(map(str, others))})" if others else "")
    cls = _exception_class(module, qualname)
    if cls is None:
        return RankFailedError(f"{where} failed before training started: {qualname}: {message}")
    return cls(f"{where}: {message}")


def _exception_class(module: str, qualname: str) -> type | None:
    """The xpnet exception class of that name (rebuilt on every rank from its message), else None."""
    try:
        cls = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError):
        return None
    return cls if isinstance(cls, type) and issubclass(cls, XpnetError) else None


def _mismatch(outcomes: list) -> Exception | None:
    root = outcomes[0][1]
    for rank, (_, values) in enumerate(outcomes[1:], start=1):
        differ = sorted(k for k in set(root) | set(values) if root.get(k) != values.get(k))
        if differ:
            what = "; ".join(f"{k}={values.get(k)!r} on rank {rank}, {root.get(k)!r} on rank 0"
                             for k in differ[:3])
            return InvalidArgumentError(
                f"every rank must make the same train() call with the same data, but {what}; "
                "give every rank the same arguments and the whole data set (each takes its rows)"
            )
    return None


def _writable(host: np.ndarray) -> np.ndarray:
    return host if host.flags.writeable and host.flags.c_contiguous else np.array(host, copy=True)


# -- uncaught exceptions --------------------------------------------------------------
def _report_and_abort(comm: Any, exc: BaseException, code: int, tb: Any = None, brief: bool = False) -> None:
    rank, size = comm.Get_rank(), comm.Get_size()
    what = "was interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
    if not brief:
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__)))
    why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    sys.stderr.write(f"xpnet: rank {rank} of {size} {what} ({why}); ending all {size} ranks (MPI_Abort), "
                     "as the others would wait for it forever\n")
    sys.stderr.flush()
    sys.stdout.flush()
    comm.Abort(code)
    os._exit(code)  # MPICH's MPI_Abort may return while the launcher ends the job: do nothing more here


_HOOKED = False


def abort_on_uncaught() -> None:
    """Install (once) a ``sys.excepthook`` that ends the whole MPI job on an uncaught exception in a world
    of more than one rank, naming the rank, as ``python -m mpi4py`` does; otherwise the other ranks would
    wait forever for this one in their next collective. Other processes are left alone."""
    global _HOOKED
    if _HOOKED:
        return
    previous = sys.excepthook

    def hook(kind: type, exc: BaseException, tb: Any) -> None:
        MPI = sys.modules.get("mpi4py.MPI")
        if MPI is None or not MPI.Is_initialized() or MPI.Is_finalized() or MPI.COMM_WORLD.Get_size() == 1:
            previous(kind, exc, tb)
        elif is_collective(exc):  # every rank has it and ends: no one waits; rank 0 tells
            if MPI.COMM_WORLD.Get_rank() == 0:
                previous(kind, exc, tb)
        else:
            _report_and_abort(MPI.COMM_WORLD, exc, 1, tb)

    sys.excepthook, _HOOKED = hook, True


# -- the command line ------------------------------------------------------------------
def world() -> Any:
    """``MPI.COMM_WORLD`` when this process was started by an MPI launcher in a world of more than one
    rank, else None. Imports mpi4py only when a launcher's variables are set (``MPI_ENV``).

    Raises
    ------
    MissingDependencyError
        Started by ``mpiexec -n N`` (N > 1) without mpi4py: N separate runs would each write the same files.
    """
    found = {name: os.environ[name].strip() for name in MPI_ENV if name in os.environ}
    if not found or all(value == "1" for name, value in found.items() if name.endswith("_SIZE")) and \
            "PMIX_RANK" not in found:
        return None
    try:
        MPI = _mpi()
    except MissingDependencyError as exc:
        raise MissingDependencyError(f"this process was started by an MPI launcher; {exc}") from None
    return MPI.COMM_WORLD if MPI.COMM_WORLD.Get_size() > 1 else None


@contextlib.contextmanager
def cli_run(comm: Any, show_traceback: bool = False) -> Any:
    """Around a command of ``xpnet`` run by ``mpiexec -n N`` (``comm`` from :func:`world`; None: nothing
    changes): ranks other than 0 print nothing to stdout; an error every rank has is reported by rank 0
    alone (the others exit with status 2 quietly); an error of one rank ends the job, naming it."""
    if comm is None:
        yield
        return
    root = comm.Get_rank() == 0
    with contextlib.ExitStack() as stack:
        if not root:
            stack.enter_context(contextlib.redirect_stdout(open(os.devnull, "w")))
        try:
            yield
        except BaseException as exc:
            if not is_collective(exc):
                _report_and_abort(comm, exc, 2, brief=not show_traceback)
            if root:
                raise
            raise SystemExit(2) from None


def mpi_info() -> list[str] | None:
    """Lines for ``xpnet info``: mpi4py's version, the MPI library and standard, ``mpiexec``, this
    process's rank; None without mpi4py."""
    try:
        import mpi4py
    except ImportError:
        return None
    try:
        from mpi4py import MPI
    except ImportError as exc:  # mpi4py without a usable MPI library
        return [f"mpi4py {mpi4py.__version__}: the MPI library does not load ({exc})"]
    library = " ".join(MPI.Get_library_version().strip().splitlines()[0].split())
    major, minor = MPI.Get_version()
    launcher = shutil.which("mpiexec") or shutil.which("mpirun") or "not found on PATH"
    return [f"mpi4py {mpi4py.__version__}, {library} (MPI {major}.{minor})", f"mpiexec: {launcher}",
            f"this process: rank {MPI.COMM_WORLD.Get_rank()} of {MPI.COMM_WORLD.Get_size()}"]
