"""GradientDiagnostics: a `fit` callback that writes the diagnostics plots and numbers
every few epochs.

The trainer calls `on_step_end(step, model, logs)` after each optimizer step and
`on_epoch_end(epoch, model, logs)` after each epoch. The callback copies the
gradients of the last step of an epoch it will report on, then writes
gradient_flow_epochNNN.png, activations_epochNNN.png, weights_epochNNN.png and
diagnostics_epochNNN.json into `out_dir`. Given a fixed `batch`, it also records the
activations on it, and works from that batch's gradients when the trainer never
calls on_step_end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from . import plots
from .autograd import grad
from .diagnostics import (
    ActivationStats,
    activation_stats,
    gradient_stats,
    parameter_layers,
    record_activations,
    snapshot_gradients,
    weight_stats,
)
from .engine import no_grad
from .files import write_text
from .nn import Module
from .nn import functional as F  # noqa: N812 (PyTorch's convention)
from .plots import have_matplotlib as plots_available
from .tensor import Tensor, from_numpy


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else from_numpy(np.asarray(value))


class GradientDiagnostics:
    """Write gradient flow, activation and weight plots plus a JSON of their numbers
    to `out_dir` at every epoch divisible by `every`.

    batch=(x, y) is a fixed batch: its activations are recorded (in eval mode, so
    dropout and batch norm statistics are left alone), and its gradients under
    `loss_fn` (default cross-entropy) stand in when no training step was seen.
    plots=None draws the PNGs when matplotlib is installed; False writes only JSON.
    """

    def __init__(self, out_dir: str | os.PathLike, every: int = 1,
                 batch: tuple[Any, Any] | None = None,
                 loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
                 bins: int = 40, plots: bool | None = None) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientDiagnostics: every must be a positive int, got {every!r}")
        if batch is not None and not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise ValueError("GradientDiagnostics: batch must be an (inputs, targets) pair, "
                             f"got {type(batch).__name__}")
        have = plots_available()
        if plots and not have:
            raise ImportError("GradientDiagnostics: plots=True needs matplotlib: "
                              "pip install 'tinygrad_edu[plot]'")
        self.out_dir = Path(out_dir)
        self.every = every
        self.batch = None if batch is None else (_as_tensor(batch[0]), _as_tensor(batch[1]))
        self.loss_fn = loss_fn or F.cross_entropy
        self.bins = bins
        self.plots = have if plots is None else bool(plots)
        self.written: list[Path] = []
        self._next_epoch: int | None = None  # unknown until the first on_epoch_end
        self._grads: dict[str, np.ndarray] | None = None

    def due(self, epoch: int) -> bool:
        """Whether the end of `epoch` gets plots and numbers."""
        return epoch % self.every == 0

    # -- the callback protocol -----------------------------------------------------------
    def on_train_begin(self, *args: Any, **kwargs: Any) -> None:
        self._grads = None

    def on_step_end(self, step: int, model: Module, logs: Any = None) -> None:
        """Keep a copy of this step's gradients: the last one of the epoch is reported."""
        if self._next_epoch is None or self.due(self._next_epoch):
            self._grads = snapshot_gradients(model)

    def on_epoch_end(self, epoch: int, model: Module,
                     logs: Any = None) -> dict[str, Path]:
        """Write this epoch's files (if due); returns their paths by kind."""
        self._next_epoch = epoch + 1
        grads, self._grads = self._grads, None
        if not self.due(epoch):
            return {}
        source, grads = self._gradients(model, grads)
        layers = gradient_stats(model, grads)
        weights = weight_stats(model, self.bins)
        activations = self._activations(model)
        report = {
            "epoch": epoch,
            "gradient_source": source,
            "gradients": [layer.to_dict() for layer in layers],
            "weights": [w.to_dict() for w in weights],
            "activations": [a.to_dict() for a in activations],
        }
        stem = f"epoch{epoch:03d}"
        paths = {"json": write_text(self.out_dir / f"diagnostics_{stem}.json",
                                    json.dumps(report, indent=1, allow_nan=False) + "\n")}
        if self.plots:
            paths["gradient_flow"] = plots.plot_gradient_flow(
                layers, self.out_dir / f"gradient_flow_{stem}.png",
                title=f"Gradient flow after epoch {epoch} ({source})")
            matrices = [w for w in weights if len(w.shape) >= 2] or weights
            paths["weights"] = plots.plot_weight_histograms(
                matrices, self.out_dir / f"weights_{stem}.png",
                title=f"Weights after epoch {epoch}")
            if activations:
                paths["activations"] = plots.plot_activation_histograms(
                    activations, self.out_dir / f"activations_{stem}.png",
                    title=f"Activations on the fixed batch after epoch {epoch}")
        self.written.extend(paths.values())
        return paths

    def on_train_end(self, *args: Any, **kwargs: Any) -> None:
        self._grads = None

    # -- measuring -----------------------------------------------------------------------
    def _gradients(self, model: Module,
                   snapshot: dict[str, np.ndarray] | None) -> tuple[str, dict[str, np.ndarray]]:
        """(where they came from, gradients by parameter name)."""
        if snapshot:
            return "last training step", snapshot
        if self.batch is not None:
            return "fixed batch", self._batch_gradients(model)
        current = snapshot_gradients(model)
        if current:  # the trainer left the last step's .grad in place
            return "parameters' .grad", current
        raise ValueError(
            "GradientDiagnostics: no gradients to report: the trainer did not call "
            "on_step_end and no parameter has a .grad; pass a fixed batch, "
            "GradientDiagnostics(out_dir, batch=(x, y))")

    def _batch_gradients(self, model: Module) -> dict[str, np.ndarray]:
        """The gradients of loss_fn on the fixed batch, in eval mode; returned, not
        accumulated, so the parameters' own .grad stay as they are."""
        assert self.batch is not None
        x, y = self.batch
        named = [(name, p) for _, _, params in parameter_layers(model) for name, p in params
                 if p.requires_grad]
        if not named:
            raise ValueError(f"GradientDiagnostics: no parameter of {type(model).__name__} "
                             "requires grad")
        x, y = _on_model_device(x, model), _on_model_device(y, model)
        with _eval_mode(model):
            loss = self.loss_fn(model(x), y)
            grads = grad(loss, [p for _, p in named], allow_unused=True)
        return {name: g.data.copy() for (name, _), g in zip(named, grads) if g is not None}

    def _activations(self, model: Module) -> list[ActivationStats]:
        if self.batch is None:
            return []
        x = _on_model_device(self.batch[0], model)
        with _eval_mode(model), no_grad(), record_activations(model) as record:
            model(x)
        return activation_stats(record, self.bins)


def _on_model_device(t: Tensor, model: Module) -> Tensor:
    """The fixed batch where the model's parameters are (a model trained on a GPU is
    probed there), as a training loop moves each batch."""
    param = next(iter(model.parameters()), None)
    return t if param is None or t.device == param.device else t.to(param.device)


@contextmanager
def _eval_mode(model: Module) -> Iterator[None]:
    """Eval mode for the block; the model's own mode comes back after it."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)
