"""Fine-tuning, ONNX export, torch-free loading and calibration, on tiny real models and data."""

import subprocess
import sys

import numpy as np
import pytest

from stance.evaluate import expected_calibration_error
from stance.models import fit_temperature, softmax


def test_temperature_scaling_lowers_ece_on_overconfident_scores():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 5)) * 1.5
    y = np.array([rng.choice(5, p=p) for p in softmax(true_logits)])
    overconfident = 4.0 * true_logits  # right ranking, far too sure
    t = fit_temperature(overconfident, y)
    assert 3.0 < t < 5.5
    before = expected_calibration_error(y, softmax(overconfident))
    after = expected_calibration_error(y, softmax(overconfident / t))
    assert after < before / 3 and after < 0.03


@pytest.fixture(scope="module")
def tiny_finetune(all_rows, tmp_path_factory):
    """One-layer MiniLM fine-tuned for a few steps on 96 real sentences, exported to ONNX."""
    from stance.finetune import export_module, train_module

    rows = all_rows[:96]
    module, history = train_module(rows, rows[:32], epochs=5, batch_size=16, lr=3e-4, head_lr=1e-2,
                                   layers=1, patience=5, log=lambda m: None)
    folder = export_module(module, tmp_path_factory.mktemp("tiny") / "onnx")
    return module, history, folder, rows


@pytest.mark.slow
def test_training_loss_goes_down(tiny_finetune):
    _, history, _, _ = tiny_finetune
    assert len(history) == 5
    assert history[-1]["loss"] < 0.7 * history[0]["loss"]
    assert all("dev_macro_f1" in h for h in history)


@pytest.mark.slow
def test_onnx_matches_torch(tiny_finetune):
    import torch

    from stance.encoder import OnnxEncoder, load_tokenizer, tokenize

    module, _, folder, rows = tiny_finetune
    texts = [r["text"] for r in rows[:20]]
    onnx_out = OnnxEncoder(folder, "model.onnx").run(texts, batch_size=7)
    batch = tokenize(load_tokenizer(folder / "tokenizer.json"), texts)
    with torch.no_grad():
        torch_out = module(torch.tensor(batch["input_ids"]), torch.tensor(batch["attention_mask"]))
    for head, expected in zip(("stance", "tone"), torch_out):
        np.testing.assert_allclose(onnx_out[f"{head}_logits"], expected.numpy(), atol=1e-4)


@pytest.mark.slow
def test_exported_model_scores_without_torch(tiny_finetune, tmp_path):
    from stance.models import FinetuneModel, save_model_dir

    _, _, folder, _ = tiny_finetune
    model = FinetuneModel.load(folder, {"layers": 1})
    model.temperature_ = {"stance": 1.5, "tone": 1.2}
    save_model_dir(model, tmp_path / "m")
    code = ("import sys; from stance.predict import load; p = load(sys.argv[1]); "
            "out = p.predict(['The army said it downed 12 drones.', 'Talks resumed.']); "
            "assert len(out) == 2 and abs(sum(out[0]['stance_proba'].values()) - 1) < 1e-6; "
            "assert 'torch' not in sys.modules, 'torch was imported'; print('ok')")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m")], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


@pytest.mark.slow
def test_int8_model_stays_close_to_fp32(tiny_finetune):
    from stance.models import FinetuneModel

    _, _, folder, rows = tiny_finetune
    fp32 = FinetuneModel.load(folder, {"layers": 1})
    int8 = fp32.quantized()
    texts = [r["text"] for r in rows[:40]]
    a, b = fp32.predict_proba(texts)["stance"], int8.predict_proba(texts)["stance"]
    assert np.abs(a - b).max() < 0.1
    assert (a.argmax(1) == b.argmax(1)).mean() >= 0.9


@pytest.mark.slow
def test_embed_family_round_trip(all_rows, tmp_path):
    from stance.models import build_model, load_model_dir, save_model_dir
    from stance.schema import HEADS

    rows = all_rows[:120]
    model = build_model("embed", {"C": 1.0}).fit([r["text"] for r in rows], {h: [r[h] for r in rows] for h in HEADS})
    texts = [r["text"] for r in all_rows[200:210]]
    save_model_dir(model, tmp_path / "embed")
    again = load_model_dir(tmp_path / "embed")
    np.testing.assert_allclose(again.predict_proba(texts)["stance"], model.predict_proba(texts)["stance"], atol=1e-6)
    embeddings = again._encode(texts)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)  # L2-normalised


@pytest.mark.slow
def test_mpnet_embed_family_round_trip_with_mlp_head(all_rows, tmp_path):
    from stance.models import build_model, load_model_dir, save_model_dir
    from stance.schema import HEADS

    rows = all_rows[:150]
    model = build_model("embed", {"encoder": "mpnet", "layers": 10, "head": "mlp", "hidden": 32})
    model.fit([r["text"] for r in rows], {h: [r[h] for r in rows] for h in HEADS})
    texts = [r["text"] for r in all_rows[200:210]]
    save_model_dir(model, tmp_path / "embed")
    again = load_model_dir(tmp_path / "embed")
    assert again.cache_key_ is None  # a loaded model encodes; only training reads the cache
    np.testing.assert_allclose(again.predict_proba(texts)["stance"], model.predict_proba(texts)["stance"], atol=1e-5)
    embeddings = again._encode(texts)
    assert embeddings.shape == (10, 768)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_mpnet_finetune_exports_an_onnx_graph_that_matches_torch(all_rows, tmp_path):
    import torch

    from stance.encoder import OnnxEncoder
    from stance.finetune import export_module, tokenize_dataset, train_module

    rows = all_rows[:32]
    module, history = train_module(rows, None, epochs=1, batch_size=16, layers=1, encoder="mpnet",
                                   max_steps=2, log=lambda m: None)
    assert len(history) == 1 and np.isfinite(history[0]["loss"])
    folder = export_module(module, tmp_path / "onnx")
    texts = [r["text"] for r in all_rows[40:44]]
    onnx = OnnxEncoder(folder, "model.onnx").run(texts)["stance_logits"]
    data = tokenize_dataset([{**r, "text": t} for r, t in zip(all_rows[40:44], texts)], encoder="mpnet")
    assert data.pad_id == 1  # mpnet's <pad>, which its position ids skip
    with torch.no_grad():
        for i in range(len(texts)):
            ids = torch.tensor([data[i]["input_ids"]])
            expected = module(ids, torch.ones_like(ids))[0].numpy()[0]
            np.testing.assert_allclose(onnx[i], expected, atol=1e-3)
