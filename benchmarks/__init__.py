"""xpnet's benchmark suite: the same training work on every backend, side by side.

Run it with ``python -m benchmarks`` (or ``nox -s bench``) from the repository
root; ``python -m benchmarks --help`` lists the options. For every workload
(see :mod:`benchmarks.workloads`) it times

* **xpnet** through its public API (``xpnet.MLP`` + ``xpnet.train``) on every
  usable backend: NumPy, PyTorch's namespace, CuPy where a GPU is present;
* **ceiling**: only the matrix multiplies the same training steps need, on the
  same library and device, into preallocated buffers: nothing can train faster;
* **plain**: a from-scratch implementation written the way the classic
  tutorials write it (dicts of ``W``/``b``, ``np.dot``, column layout, new arrays
  everywhere), on NumPy and CuPy;
* **torch**: PyTorch eager (``nn.Sequential``, autograd, ``torch.optim.SGD``);
* **sklearn**: scikit-learn's ``MLPClassifier`` (CPU only, when importable).

Each device runs in its own worker process. Results go to
``benchmarks/results/<device>.json``, a markdown table and a PNG chart
(:mod:`benchmarks.report`).
"""

__all__ = ["impls", "report", "workloads"]
