"""SmoothQuant int8 of the frozen mpnet encoder (the default model's), against its fp32 graph."""

import logging
import shutil

import numpy as np
import onnx
import pytest

from stance.encoder import OnnxEncoder, pooled_encoder_onnx
from stance.quantize import (
    INT8_FILE,
    activation_ranges,
    calibration_sentences,
    quantize_encoder,
    smooth,
    weight_matmuls,
)


@pytest.fixture(scope="module")
def mpnet_copy(tmp_path_factory):
    """The pooled mpnet graph in a private folder, so the int8 graph is made fresh here."""
    folder = tmp_path_factory.mktemp("mpnet")
    source = pooled_encoder_onnx("mpnet", layers=10)  # as the default recipe keeps it
    for name in ("encoder.onnx", "tokenizer.json"):
        shutil.copy(source / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def sentences(all_rows):
    calibration = set(calibration_sentences())
    return [r["text"] for r in all_rows if r["text"] not in calibration][:64]


def cosine(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.slow
def test_smoothing_alone_leaves_the_fp32_embeddings_unchanged(mpnet_copy, sentences):
    graph = onnx.load(str(mpnet_copy / "encoder.onnx"))
    groups = weight_matmuls(graph.graph)
    assert len(groups) == 10 * 4  # 10 layers kept; per layer: Q/K/V (one input), attention output, FFN in, FFN out
    ranges = activation_ranges(mpnet_copy / "encoder.onnx", list(groups), calibration_sentences()[:32])
    smooth(graph.graph, ranges)
    onnx.save(graph, str(mpnet_copy / "smoothed.onnx"), save_as_external_data=True, location="smoothed.data")
    fp32 = OnnxEncoder(mpnet_copy).run(sentences)["embedding"]
    smoothed = OnnxEncoder(mpnet_copy, "smoothed.onnx").run(sentences)["embedding"]
    assert cosine(fp32, smoothed).min() > 0.9999


@pytest.mark.slow
def test_smoothquant_int8_is_close_to_fp32_where_naive_int8_is_not(mpnet_copy, sentences):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = quantize_encoder(mpnet_copy)
    assert path.name == INT8_FILE and quantize_encoder(mpnet_copy) == path  # made once
    assert not [p.name for p in mpnet_copy.iterdir() if p.name.startswith(".")]  # no temporary files left
    logging.disable(logging.WARNING)
    try:  # the same settings without smoothing: every weight MatMul, 7-bit per-channel weights
        quantize_dynamic(str(mpnet_copy / "encoder.onnx"), str(mpnet_copy / "naive.onnx"), weight_type=QuantType.QInt8,
                         per_channel=True, reduce_range=True, op_types_to_quantize=["MatMul"],
                         extra_options={"MatMulConstBOnly": True})
    finally:
        logging.disable(logging.NOTSET)
    fp32 = OnnxEncoder(mpnet_copy).run(sentences)["embedding"]
    int8 = OnnxEncoder(mpnet_copy, INT8_FILE).run(sentences)["embedding"]
    naive = OnnxEncoder(mpnet_copy, "naive.onnx").run(sentences)["embedding"]
    assert cosine(fp32, int8).mean() > 0.98 and cosine(fp32, int8).min() > 0.95
    assert cosine(fp32, naive).mean() < 0.95  # what the smoothing fixes: GELU outlier channels
