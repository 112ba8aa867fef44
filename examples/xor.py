"""XOR with sigmoid networks: the classic first backpropagation program.

The textbook XOR program trains a tiny network of sigmoid units on the four
points (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0 with squared error and plain
full-batch gradient descent, once with one hidden layer (2-3-1) and once with
two (2-3-2-1). XOR is not linearly separable, so it is the smallest problem
that needs a hidden layer. Sigmoid + squared error is not a matched pair: the
output gradient goes through the general chain rule, ``(a - t) * a * (1 - a)``.

Run it with ``python examples/xor.py [--backend torch] [--epochs 5000]``.
"""

from __future__ import annotations

import argparse

import xpnet
from xpnet import datasets

NETS = {"2-3-1": [2, 3, 1], "2-3-2-1": [2, 3, 2, 1]}


def main(backend="numpy", epochs=5000, lr=5.0, seed=0, dtype="float32", verbose=True) -> dict:
    """Train both XOR networks; return ``{name: {"loss", "accuracy", "loss_history", "outputs"}}``."""
    X, y = datasets.xor()
    results = {}
    for name, sizes in NETS.items():
        model = xpnet.MLP(sizes, hidden="sigmoid", output="sigmoid", loss="mse",
                          init="xavier", seed=seed, dtype=dtype, backend=backend)
        history = xpnet.train(model, X, y, epochs=epochs, lr=lr)
        outputs = xpnet.to_numpy(model.forward(X))[:, 0]
        accuracy = float((xpnet.to_numpy(model.predict(X)) == y).mean())
        results[name] = {"loss": history.loss[-1], "accuracy": accuracy,
                         "loss_history": history.loss, "outputs": outputs.tolist()}
        if verbose:
            print(f"{name:>8}: loss {history.loss[-1]:.6f}  accuracy {accuracy:.0%}  "
                  f"outputs {' '.join(f'{o:.3f}' for o in outputs)}  (targets {y.tolist()})")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", help="numpy, array_api_strict, torch, jax or cupy")
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--lr", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()
    main(args.backend, args.epochs, args.lr, args.seed, args.dtype)
