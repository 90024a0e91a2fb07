"""Fine-tune a sentence encoder (MiniLM or mpnet) with two classification heads (stance, tone) on CPU; export to ONNX.

Torch and transformers are needed here only: the exported ONNX graph is what scoring runs.
One shared encoder, mean pooling, a linear head per label set; the summed cross-entropy of the
heads is minimised with AdamW and a linear warm-up/decay; the epoch with the best dev macro-F1
(mean of the heads) is kept, and training stops after ``patience`` epochs without improvement.
"""

from __future__ import annotations

import copy
import os
import random
import time
from pathlib import Path

import numpy as np

from .encoder import MAX_LENGTH, base_model_path, export_onnx, keep_layers, mean_pool
from .schema import HEADS


def _set_seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_module(n_labels: dict[str, int], dropout: float = 0.1, layers: int | None = None,
                 encoder: str = "minilm"):
    """A pretrained encoder + one linear head per label set; forward returns one logits tensor per head.

    ``layers`` keeps only the first N transformer layers (fewer layers: proportionally faster
    training and inference, at some cost in accuracy that fine-tuning partly recovers).
    """
    import torch
    from transformers import AutoModel

    class MultiHead(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = keep_layers(AutoModel.from_pretrained(str(base_model_path(encoder))), layers)
            size = self.encoder.config.hidden_size
            self.dropout = torch.nn.Dropout(dropout)
            self.heads = torch.nn.ModuleDict({h: torch.nn.Linear(size, n) for h, n in n_labels.items()})

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            pooled = self.dropout(mean_pool(hidden, attention_mask))
            return tuple(self.heads[h](pooled) for h in n_labels)

    return MultiHead()


def tokenize_dataset(rows: list[dict], max_length: int = MAX_LENGTH, encoder: str = "minilm"):
    """A `datasets.Dataset` of token ids and label indices, tokenised with `datasets.map`."""
    import datasets
    from transformers import AutoTokenizer

    from .data import to_dataset

    datasets.disable_progress_bars()
    tokenizer = AutoTokenizer.from_pretrained(str(base_model_path(encoder)))
    dataset = to_dataset(rows)
    dataset = dataset.map(lambda batch: tokenizer(batch["text"], truncation=True, max_length=max_length),
                          batched=True, remove_columns=["id", "doc_id", "speaker", "hard"])
    dataset = dataset.add_column("weight", [float(r.get("weight", 1.0)) for r in rows])
    dataset.pad_id = tokenizer.pad_token_id or 0  # mpnet pads with 1: its position ids skip the pad id
    return dataset


def _batches(dataset, batch_size: int, shuffle: bool, rng: random.Random):
    """Batches of similar length (less padding): shuffle, then sort within windows of 20 batches."""
    import torch

    index = list(range(len(dataset)))
    if shuffle:
        rng.shuffle(index)
    lengths = [len(ids) for ids in dataset["input_ids"]]
    window = batch_size * 20
    for start in range(0, len(index), window):
        chunk = sorted(index[start : start + window], key=lambda i: lengths[i])
        batches = [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        if shuffle:
            rng.shuffle(batches)
        for batch in batches:
            width = max(lengths[i] for i in batch)
            ids = torch.full((len(batch), width), getattr(dataset, "pad_id", 0), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, : lengths[i]] = torch.tensor(dataset[i]["input_ids"])
                mask[row, : lengths[i]] = 1
            labels = {h: torch.tensor([dataset[i][h] for i in batch]) for h in HEADS}
            labels["weight"] = torch.tensor([dataset[i]["weight"] for i in batch], dtype=torch.float32)
            labels["index"] = batch
            yield ids, mask, labels


def predict_logits(module, dataset, batch_size: int = 64) -> dict[str, np.ndarray]:
    import torch

    module.eval()
    result = {h: np.zeros((len(dataset), len(labels)), dtype=np.float32) for h, labels in HEADS.items()}
    with torch.no_grad():
        for ids, mask, labels in _batches(dataset, batch_size, shuffle=False, rng=random.Random(0)):
            for h, logits in zip(HEADS, module(ids, mask)):
                result[h][labels["index"]] = logits.numpy()  # batches are length-sorted: put rows back
    return result


def _macro_f1(dataset, logits) -> float:
    from sklearn.metrics import f1_score

    scores = [f1_score(dataset[h], logits[h].argmax(1), average="macro", labels=range(len(HEADS[h])),
                       zero_division=0) for h in HEADS]
    return float(np.mean(scores))


def train_module(train_rows: list[dict], dev_rows: list[dict] | None, epochs: int = 6, lr: float = 5e-5,
                 head_lr: float = 1e-3, batch_size: int = 16, weight_decay: float = 0.01,
                 warmup: float = 0.1, patience: int = 2, seed: int = 13, max_steps: int | None = None,
                 class_weight: bool = True, layers: int | None = None, encoder: str = "minilm", log=print,
                 soft: dict[str, np.ndarray] | None = None) -> tuple[object, list[dict]]:
    """Fine-tune and return (best module, per-epoch history of loss and dev macro-F1).

    With ``soft`` (a teacher's probabilities per head, one row per training row) the loss is the
    cross-entropy against those distributions instead of the labels: distillation."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(os.cpu_count() or 1)
    _set_seed(seed)
    rng = random.Random(seed)
    train_set = tokenize_dataset(train_rows, encoder=encoder)
    dev_set = tokenize_dataset(dev_rows, encoder=encoder) if dev_rows else None
    module = build_module({h: len(v) for h, v in HEADS.items()}, layers=layers, encoder=encoder)
    module.encoder_name = encoder
    weights = {}
    for h, labels in HEADS.items():
        counts = np.bincount(train_set[h], minlength=len(labels)).astype(float)
        w = counts.sum() / (len(labels) * np.maximum(counts, 1)) if class_weight else np.ones(len(labels))
        weights[h] = torch.tensor(np.sqrt(w), dtype=torch.float32)  # sqrt: soften extreme weights
    losses = {h: torch.nn.CrossEntropyLoss(weight=weights[h], reduction="none") for h in HEADS}
    groups = [{"params": module.encoder.parameters(), "lr": lr},
              {"params": module.heads.parameters(), "lr": head_lr}]
    optimizer = torch.optim.AdamW(groups, weight_decay=weight_decay)
    steps_per_epoch = (len(train_set) + batch_size - 1) // batch_size
    total = min(max_steps or 10**9, steps_per_epoch * epochs)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, warmup * total)) * max(0.0, (total - s) / total))
    history, best, best_state, stale, step = [], -float("inf"), None, 0, 0
    for epoch in range(epochs):
        module.train()
        started, running = time.perf_counter(), []
        for ids, mask, labels in _batches(train_set, batch_size, shuffle=True, rng=rng):
            outputs = module(ids, mask)
            row_weight = labels["weight"]
            if soft is None:
                loss = sum((losses[h](out, labels[h]) * row_weight).mean() for h, out in zip(HEADS, outputs))
            else:
                loss = sum((-(torch.as_tensor(soft[h][labels["index"]]) * out.log_softmax(-1)).sum(-1)
                            * row_weight).mean() for h, out in zip(HEADS, outputs))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running.append(loss.item())
            step += 1
            if step >= total:
                break
        entry = {"epoch": epoch, "loss": float(np.mean(running)), "seconds": time.perf_counter() - started}
        if dev_set is not None:
            entry["dev_macro_f1"] = _macro_f1(dev_set, predict_logits(module, dev_set))
        history.append(entry)
        log(f"epoch {epoch}: " + " ".join(f"{k}={v:.4f}" for k, v in entry.items() if k != "epoch"))
        score = entry.get("dev_macro_f1", -entry["loss"])
        if score > best:
            best, best_state, stale = score, copy.deepcopy(module.state_dict()), 0
        else:
            stale += 1
            if stale >= patience:
                break
        if step >= total:
            break
    module.load_state_dict(best_state)
    module.eval()
    return module, history


def export_module(module, folder: Path) -> Path:
    """Write ``model.onnx`` (outputs: one logits array per head) and the tokenizer into ``folder``."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    # eager attention traces to a plain graph (SDPA's mask logic warns and bakes in shapes)
    module.encoder.set_attn_implementation("eager")
    export_onnx(module, folder / "model.onnx", [f"{h}_logits" for h in HEADS])
    shutil.copy(base_model_path(getattr(module, "encoder_name", "minilm")) / "tokenizer.json",
                folder / "tokenizer.json")
    return folder
