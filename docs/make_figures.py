"""Make the figures the README shows: the flower's decision boundary and its training curves.

    python docs/make_figures.py            # writes docs/flower_boundary.png, docs/flower_history.png

Needs matplotlib (``pip install matplotlib``). The classic flower network
(2-4-1, tanh hidden layer, sigmoid output, N(0, 0.01^2) initial weights,
full-batch gradient descent with learning rate 1.2 for 10,000 iterations) is
trained on a stratified 80% of the 400 points and validated on the other 20%,
so the history shows both curves; the boundary figure shows all 400 points.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import xpnet
from xpnet import datasets
from xpnet.plot import plot_decision_boundary, plot_history

HERE = Path(__file__).resolve().parent


def main(out: Path = HERE, epochs: int = 10_000) -> dict:
    X, y = datasets.flower()
    X_train, X_val, y_train, y_val = datasets.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    model = xpnet.MLP([2, 4, 1], hidden="tanh", output="sigmoid", init="normal", seed=0)
    history = xpnet.train(model, X_train, y_train, epochs=epochs, lr=1.2, validation_data=(X_val, y_val))
    accuracy = float(np.mean(xpnet.to_numpy(model.predict(X)) == y))
    out.mkdir(parents=True, exist_ok=True)
    boundary, curves = out / "flower_boundary.png", out / "flower_history.png"
    plot_decision_boundary(model, X, y, boundary,
                           title=f"flower, 2-4-1 tanh/sigmoid: {accuracy:.1%} of the 400 points")
    plot_history(history, curves, title=f"flower, lr 1.2, {epochs:,} iterations (80/20 split)")
    return {"accuracy": accuracy, "val_accuracy": history.val_accuracy[-1],
            "files": [str(boundary), str(curves)]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    parser.add_argument("--epochs", type=int, default=10_000)
    args = parser.parse_args()
    result = main(args.out, args.epochs)
    print(f"accuracy {result['accuracy']:.1%} (validation {result['val_accuracy']:.1%}); wrote "
          + ", ".join(result["files"]))
