"""An encoder cut to its first N layers: exported apart from the full one, and equal to the full
model's N-th hidden layer, mean-pooled."""

import numpy as np
import onnx

from stance.encoder import OnnxEncoder, base_model_path, pooled_encoder_onnx

TEXTS = ["The ministry denied the report on Tuesday.", "Rebels warned they would shell the port.",
         "Talks resume next week."]


def test_a_cut_encoder_is_the_full_models_nth_layer_pooled(tmp_path):
    import torch
    from transformers import AutoModel, AutoTokenizer

    full = pooled_encoder_onnx("minilm", cache=tmp_path)
    cut = pooled_encoder_onnx("minilm", cache=tmp_path, layers=3)
    assert cut != full and cut.name.startswith("minilm-pooled-l3-")
    graph = onnx.load(str(cut / "encoder.onnx"))
    assert {n.name.split("/")[3] for n in graph.graph.node if "/encoder/layer." in n.name} == {
        "layer.0", "layer.1", "layer.2"}

    embedded = OnnxEncoder(cut).run(TEXTS)["embedding"]
    base = base_model_path("minilm")
    tokens = AutoTokenizer.from_pretrained(str(base))(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = AutoModel.from_pretrained(str(base))(**tokens, output_hidden_states=True).hidden_states[3]
    mask = tokens["attention_mask"].unsqueeze(-1).float()
    pooled = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    np.testing.assert_allclose(embedded, pooled, atol=1e-4)
    assert np.abs(embedded - OnnxEncoder(full).run(TEXTS)["embedding"]).max() > 0.05  # not the full model
