"""What every model family shares: softmax, label alignment, temperature calibration, `Family`."""

from __future__ import annotations

import numpy as np

from ..schema import HEADS

FORMAT_VERSION = 1
META_FILE = "stance_model.json"


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def align_log_proba(proba: np.ndarray, classes: list[str], head: str) -> np.ndarray:
    """Log-probabilities in the head's full label order (a label unseen in training gets ~0)."""
    out = np.full((proba.shape[0], len(HEADS[head])), 1e-9)
    for j, label in enumerate(classes):
        out[:, HEADS[head].index(label)] = np.maximum(proba[:, j], 1e-9)
    return np.log(out)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        p = softmax(logits / np.exp(log_t))
        return -np.log(np.maximum(p[np.arange(len(y)), y], 1e-12)).mean()

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


class Family:
    """What every family shares: calibrated probabilities and the metadata it is saved with."""

    family = ""
    temperature_: dict[str, float] | None = None  # set by `calibrate`; None means T = 1

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        logits = self.logits(texts)
        temperature = self.temperature_ or {}
        return {h: softmax(logits[h] / temperature.get(h, 1.0)) for h in HEADS}

    def calibrate(self, texts: list[str], targets: dict[str, list[str]]) -> dict[str, float]:
        """Fit one temperature per head on held-out (dev) sentences."""
        logits = self.logits(texts)
        self.temperature_ = {h: fit_temperature(logits[h], np.array([HEADS[h].index(y) for y in targets[h]]))
                             for h in HEADS}
        return self.temperature_

    def params(self) -> dict:
        return dict(self._params)
