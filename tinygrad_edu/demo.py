"""A one-minute demo: a tiny MLP written with bare Tensor ops learns two interleaved spirals."""

from __future__ import annotations

import numpy as np

from .creation import randn
from .engine import no_grad
from .rng import generator, manual_seed
from .tensor import Tensor


def spirals(points_per_class: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals in the plane, labels 0 and 1."""
    rng = generator()
    t = np.sqrt(rng.random(points_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0, 0.02, (2 * points_per_class, 2))
    y = np.concatenate([np.zeros(points_per_class), np.ones(points_per_class)])
    return x.astype(np.float32), y.astype(np.float32)


def run_demo(steps: int = 1500, hidden: int = 32, lr: float = 0.05, momentum: float = 0.9,
             seed: int = 0) -> list[float]:
    """Fit a 2-32-32-1 tanh MLP with full-batch gradient descent and momentum; print the loss."""
    manual_seed(seed)
    x_np, y_np = spirals()
    x, y = Tensor(x_np), Tensor(y_np).reshape(-1, 1)
    params = [
        randn(2, hidden) * 1.0, randn(hidden) * 0.0, randn(hidden, hidden) * (1 / hidden**0.5),
        randn(hidden) * 0.0, randn(hidden, 1) * (1 / hidden**0.5), randn(1) * 0.0,
    ]
    for p in params:
        p.requires_grad_()
    velocity = [np.zeros_like(p.data) for p in params]
    w1, b1, w2, b2, w3, b3 = params
    losses = []
    print(f"fitting a 2-{hidden}-{hidden}-1 MLP to {len(x_np)} points on two spirals")
    for step in range(steps + 1):
        logits = ((x @ w1 + b1).tanh() @ w2 + b2).tanh() @ w3 + b3
        # binary cross-entropy from logits, stable form: max(z, 0) - z*y + log(1 + exp(-|z|))
        loss = (logits.relu() - logits * y + (1 + (-logits.abs()).exp()).log()).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with no_grad():
            for p, v in zip(params, velocity):
                v *= momentum
                v += p.grad.data
                p.data -= lr * v
        accuracy = float(((logits.data > 0) == (y.data > 0.5)).mean())
        losses.append(loss.item())
        if step % max(steps // 10, 1) == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {accuracy:.1%}")
    return losses
