"""int8 copies of ONNX graphs: plain dynamic quantisation, and SmoothQuant for frozen encoders.

Dynamic int8 quantises each MatMul's activations with one scale per batch. mpnet's activations
carry a few outlier channels (the GELU output of layers 6-10 reaches 60-100 where the median
channel stays under 3), so one scale wipes out the small channels: quantising every weight
MatMul naively gave embeddings with cosine 0.88 to fp32. SmoothQuant (Xiao et al. 2023) moves
that range from the activations into the weights before quantising: ``X W = (X / s) (s W)``
with ``s_j = max|X_j|^a / max|W_j|^(1 - a)`` per input channel, measured on calibration
sentences. The ``/ s`` is one elementwise Mul in front of each weight MatMul (shared by the
Q, K and V projections), cheap beside the products it makes quantisable.
"""

from __future__ import annotations

import logging
import os
from importlib import resources
from pathlib import Path

import numpy as np

from .encoder import load_tokenizer, session, tokenize

INT8_FILE = "encoder.int8-smooth.onnx"
# a for the FFN output projections (GELU outliers: move most of the range into the weights)
# and for the other MatMuls (LayerNorm outputs: the paper's default). Chosen by cosine to fp32
# on labels/articles sentences: 0.991 mean; 0.8 / 0.5 beat 0.7 / 0.5 (0.988) and 0.9 / 0.5 (0.987).
ALPHA_FFN_OUTPUT = 0.8
ALPHA_OTHER = 0.5


def quantize(in_path: Path, out_path: Path, per_channel: bool = True) -> Path:
    """Dynamic int8 quantisation of the weights (per channel: much closer to fp32 than per tensor)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(in_path), str(out_path), per_channel=per_channel, weight_type=QuantType.QInt8)
    return out_path


def calibration_sentences() -> list[str]:
    """256 sentences of the training split (labels/, our own writing), one per line: enough to
    find each channel's range, and fixed, so the int8 graph (and its embedding cache) is the same
    on every machine and every retrain."""
    text = resources.files("stance").joinpath("calibration.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def weight_matmuls(graph) -> dict[str, list]:
    """MatMul nodes whose second input is a weight, grouped by the activation they multiply."""
    weights = {i.name for i in graph.initializer}
    groups: dict[str, list] = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights:
            groups.setdefault(node.input[0], []).append(node)
    return groups


def activation_ranges(path: Path, tensors: list[str], texts: list[str], batch_size: int = 32) -> dict:
    """Per-channel max |x| of ``tensors`` over the real (unpadded) tokens of ``texts``."""
    import onnx

    graph = onnx.load(str(path))
    for name in tensors:
        graph.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    probe = path.with_name(f".probe.{os.getpid()}.onnx")
    onnx.save(graph, str(probe), save_as_external_data=True, location=probe.name + ".data")
    try:
        runner = session(probe)
        tokenizer = load_tokenizer(path.with_name("tokenizer.json"))
        ranges: dict[str, np.ndarray] = {}
        for start in range(0, len(texts), batch_size):
            batch = tokenize(tokenizer, texts[start:start + batch_size])
            real = batch["attention_mask"].astype(bool)
            for name, values in zip(tensors, runner.run(tensors, batch)):
                top = np.abs(values[real]).max(0)
                ranges[name] = np.maximum(ranges.get(name, top), top)
    finally:
        for leftover in (probe, probe.with_name(probe.name + ".data")):
            leftover.unlink(missing_ok=True)
    return ranges


def smooth(graph, ranges: dict[str, np.ndarray]) -> None:
    """Rescale ``graph`` in place: each weight MatMul's input divided by s, its weight rows multiplied."""
    from onnx import helper, numpy_helper

    weights = {i.name: i for i in graph.initializer}
    for activation, nodes in weight_matmuls(graph).items():
        alpha = ALPHA_FFN_OUTPUT if "/output/dense/" in nodes[0].name else ALPHA_OTHER
        arrays = [numpy_helper.to_array(weights[n.input[1]]) for n in nodes]
        weight_range = np.max([np.abs(w).max(1) for w in arrays], axis=0)
        s = (np.maximum(ranges[activation], 1e-5) ** alpha / np.maximum(weight_range, 1e-5) ** (1 - alpha))
        s = s.astype(np.float32)
        for node, w in zip(nodes, arrays):
            weights[node.input[1]].CopyFrom(numpy_helper.from_array(w * s[:, None], node.input[1]))
        scale, smoothed = f"{activation}/smooth_scale", f"{activation}/smoothed"
        graph.initializer.append(numpy_helper.from_array((1 / s).astype(np.float32), scale))
        position = list(graph.node).index(nodes[0])
        graph.node.insert(position, helper.make_node("Mul", [activation, scale], [smoothed], name=f"{activation}/smooth"))
        for node in nodes:
            node.input[0] = smoothed


def quantize_encoder(folder: Path, out_name: str = INT8_FILE) -> Path:
    """An int8 copy of a frozen encoder graph beside it (made once, atomically): SmoothQuant
    over every weight MatMul, then dynamic int8 weights, per channel.

    ``reduce_range`` (7-bit weights) avoids the int16 overflow of the u8*s8 products of CPUs
    without VNNI (AVX2 only): without it mpnet's embeddings came out with cosine ~0 to fp32
    there. Activations are quantised per batch, so a sentence's vector moves slightly (~1e-3)
    with the sentences batched beside it.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = Path(folder)
    out = folder / out_name
    if out.exists():
        return out
    source = folder / "encoder.onnx"
    graph = onnx.load(str(source))
    ranges = activation_ranges(source, list(weight_matmuls(graph.graph)), calibration_sentences())
    smooth(graph.graph, ranges)
    tmp = folder / f".{out_name}.{os.getpid()}.tmp"
    smoothed = tmp.with_suffix(".fp32.onnx")
    onnx.save(graph, str(smoothed), save_as_external_data=True, location=smoothed.name + ".data")
    logging.disable(logging.WARNING)  # its "consider pre-processing" advice is for static quantisation
    try:
        quantize_dynamic(str(smoothed), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True, op_types_to_quantize=["MatMul"],
                         extra_options={"MatMulConstBOnly": True})
    finally:
        logging.disable(logging.NOTSET)
        for leftover in (smoothed, smoothed.with_name(smoothed.name + ".data")):
            leftover.unlink(missing_ok=True)
    os.replace(tmp, out)
    return out
