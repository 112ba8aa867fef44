"""An L-layer deep network for binary classification (ReLU hidden layers, sigmoid output).

This reproduces the classic "deep neural network - application" program: a
network of sizes ``[n_x, 20, 7, 5, 1]`` with ReLU hidden layers and a sigmoid
output, He-initialized, trained by full-batch gradient descent on binary
cross-entropy with learning rate 0.0075 for 2500 iterations, then scored on
a training and a held-out test set. The original classifies 64x64 cat
pictures; here the data are built in and need no download: a random "teacher"
network labels standard-normal inputs (``xpnet.datasets.teacher``), the
inputs are standardized with the training set's statistics, and the last
rows are held out for testing.

Run it with ``python examples/deep_binary.py [--backend torch] [--epochs 2500]``.
"""

from __future__ import annotations

import argparse

import xpnet
from xpnet import datasets


def main(backend="numpy", epochs=2500, lr=0.0075, n_train=1000, n_test=250, n_features=20,
         seed=1, dtype="float32", verbose=True) -> dict:
    """Train the ``[n_x, 20, 7, 5, 1]`` network; return loss and train/test accuracy."""
    X, y = datasets.teacher(n_samples=n_train + n_test, n_features=n_features, n_classes=2, seed=0)
    X_train, mean, std = datasets.standardize(X[:n_train])
    X_test, _, _ = datasets.standardize(X[n_train:], mean, std)
    y_train, y_test = y[:n_train], y[n_train:]

    model = xpnet.MLP([n_features, 20, 7, 5, 1], hidden="relu", output="sigmoid", init="he",
                      seed=seed, dtype=dtype, backend=backend)
    history = xpnet.train(model, X_train, y_train, epochs=epochs, lr=lr,
                          verbose=max(1, epochs // 10) if verbose else False)
    train_acc = float((xpnet.to_numpy(model.predict(X_train)) == y_train).mean())
    test_acc = float((xpnet.to_numpy(model.predict(X_test)) == y_test).mean())
    if verbose:
        print(f"{model}")
        print(f"train accuracy {train_acc:.2%}  test accuracy {test_acc:.2%}")
    return {"loss": history.loss[-1], "train_accuracy": train_acc, "test_accuracy": test_acc,
            "loss_history": history.loss}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", help="numpy, array_api_strict, torch, jax or cupy")
    parser.add_argument("--epochs", type=int, default=2500, help="iterations of full-batch gradient descent")
    parser.add_argument("--lr", type=float, default=0.0075)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=250)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()
    main(args.backend, args.epochs, args.lr, args.n_train, args.n_test, args.n_features,
         args.seed, args.dtype)
