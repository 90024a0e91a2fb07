"""The finetune family: a sentence encoder fine-tuned with two heads, run as an ONNX graph."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..schema import HEADS
from .base import Family


class FinetuneModel(Family):
    """A sentence encoder (MiniLM or mpnet) fine-tuned with a stance head and a tone head; inference is the exported ONNX graph."""

    family = "finetune"

    def __init__(self, epochs=6, lr=5e-5, head_lr=1e-3, batch_size=16, patience=2, seed=13,
                 max_steps=None, quantize="auto", threads=None, inference_batch_size=32, layers=None,
                 encoder="minilm"):
        self._params = {"epochs": epochs, "lr": lr, "head_lr": head_lr, "batch_size": batch_size, "layers": layers,
                        "encoder": encoder,
                        "patience": patience, "seed": seed, "max_steps": max_steps, "quantize": quantize,
                        "threads": threads, "inference_batch_size": inference_batch_size}
        self.model_file_ = "model.onnx"

    def fit(self, texts, targets, dev=None, sample_weight=None) -> FinetuneModel:
        return self._fit(texts, targets, dev, sample_weight)

    def _fit(self, texts, targets, dev=None, sample_weight=None, soft=None) -> FinetuneModel:
        from ..finetune import export_module, train_module

        weights = sample_weight if sample_weight is not None else [1.0] * len(texts)
        rows = [{"id": str(i), "doc_id": "", "text": t, "speaker": None, "hard": False, "weight": weights[i],
                 **{h: targets[h][i] for h in HEADS}} for i, t in enumerate(texts)]
        dev_rows = None
        if dev is not None:
            dev_rows = [{"id": str(i), "doc_id": "", "text": t, "speaker": None, "hard": False,
                         **{h: dev[1][h][i] for h in HEADS}} for i, t in enumerate(dev[0])]
        p = self._params
        module, self.history_ = train_module(rows, dev_rows, epochs=p["epochs"], lr=p["lr"],
                                             head_lr=p["head_lr"], batch_size=p["batch_size"],
                                             patience=p["patience"], seed=p["seed"], max_steps=p["max_steps"],
                                             layers=p["layers"], encoder=p["encoder"], soft=soft)
        self.folder_ = self.work_dir_ = export_module(module, Path(tempfile.mkdtemp(prefix="stance-finetune-")))
        self._open()
        return self

    def _open(self):
        from ..encoder import OnnxEncoder

        self.encoder_ = OnnxEncoder(self.folder_, self.model_file_, threads=self._params["threads"])

    def logits(self, texts):
        out = self.encoder_.run(texts, self._params["inference_batch_size"])
        return {h: out[f"{h}_logits"].astype(np.float64) for h in HEADS}

    def quantized(self) -> FinetuneModel:
        """A copy that runs the int8 (dynamic, per-channel) quantised graph."""
        from ..quantize import quantize

        copy = type(self)(**self._params)
        copy.folder_, copy.model_file_ = self.folder_, "model.int8.onnx"
        copy.work_dir_ = getattr(self, "work_dir_", None)
        copy.temperature_ = dict(self.temperature_ or {})
        if not (Path(self.folder_) / copy.model_file_).exists():
            quantize(Path(self.folder_) / "model.onnx", Path(self.folder_) / copy.model_file_)
        copy._open()
        return copy

    def params(self) -> dict:
        return {**self._params, "model_file": self.model_file_}

    def save(self, path: Path) -> None:
        if Path(self.folder_) != path:
            for name in (self.model_file_, "tokenizer.json"):
                shutil.copy(Path(self.folder_) / name, path / name)

    @classmethod
    def load(cls, path: Path, params: dict) -> FinetuneModel:
        params = dict(params)
        model_file = params.pop("model_file", "model.onnx")
        model = cls(**params)
        model.folder_, model.model_file_ = path, model_file
        model._open()
        return model
