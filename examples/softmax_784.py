"""A 784-80-10 sigmoid/softmax classifier trained by minibatch SGD, after a gradient check.

This reproduces the classic "network.py"-style digit classifier: 784 inputs
(a flattened 28x28 image), one hidden layer of 80 sigmoid units, a 10-way
softmax output on cross-entropy, trained by minibatch stochastic gradient
descent with reshuffling every epoch. As in the classic exercise, a gradient
check comes first: the backpropagated gradient is compared with central
differences, in float64, on a few rows, and the relative errors must be tiny
(below 1e-6) before any training is trusted.

The original trains on MNIST; to run anywhere without a download, the data
here are synthetic with the same shape: 784 standard-normal features and 10
classes labelled by a random teacher network (``xpnet.datasets.teacher``).
That task is harder to generalize on than digits, so expect a test accuracy
well above chance (10%) but below MNIST's ~95%.

Run it with ``python examples/softmax_784.py [--backend torch] [--epochs 5]``.
"""

from __future__ import annotations

import argparse
import sys

import xpnet
from xpnet import datasets

TOLERANCE = 1e-6


def main(backend="numpy", epochs=5, batch_size=100, lr=0.5, n_train=20_000, n_test=2000,
         check_rows=10, check_entries=20, seed=0, dtype="float32", verbose=True) -> dict:
    """Gradient-check, then train the 784-80-10 network; return the errors, losses and accuracies."""
    X, y = datasets.teacher(n_samples=n_train + n_test, n_features=784, n_classes=10, seed=0)
    X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    model = xpnet.MLP([784, 80, 10], hidden="sigmoid", output="softmax", init="xavier",
                      seed=seed, dtype=dtype, backend=backend)

    # 1. gradient check (float64, a few rows, `check_entries` random entries per array)
    errors = xpnet.gradcheck(model, X_train[:check_rows], y_train[:check_rows], max_entries=check_entries)
    worst = max(e for pair in errors for e in pair)
    if verbose:
        for l, (err_W, err_b) in enumerate(errors, start=1):
            print(f"gradient check layer {l}: relative error W {err_W:.2e}  b {err_b:.2e}")
        print(f"gradient check {'passed' if worst < TOLERANCE else 'FAILED'} "
              f"(worst {worst:.2e}, tolerance {TOLERANCE:.0e})")

    # 2. minibatch SGD
    history = xpnet.train(model, X_train, y_train, epochs=epochs, batch_size=batch_size, lr=lr,
                          seed=seed, verbose=1 if verbose else False)
    train_acc = float((xpnet.to_numpy(model.predict(X_train)) == y_train).mean())
    test_acc = float((xpnet.to_numpy(model.predict(X_test)) == y_test).mean())
    if verbose:
        print(f"{model}")
        print(f"train accuracy {train_acc:.2%}  test accuracy {test_acc:.2%}")
    return {"gradcheck_errors": errors, "gradcheck_max_error": worst, "loss": history.loss[-1],
            "loss_history": history.loss, "train_accuracy": train_acc, "test_accuracy": test_acc}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", help="numpy, array_api_strict, torch, jax or cupy")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--check-rows", type=int, default=10)
    parser.add_argument("--check-entries", type=int, default=20, help="entries checked per W and b")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()
    result = main(args.backend, args.epochs, args.batch_size, args.lr, args.n_train, args.n_test,
                  args.check_rows, args.check_entries, args.seed, args.dtype)
    sys.exit(0 if result["gradcheck_max_error"] < TOLERANCE else 1)
