"""The on-disk embedding cache: same vectors as encoding, only new texts encoded, damage rebuilt."""

import numpy as np
import pytest

from stance.encoder import OnnxEncoder, cached_embeddings, pooled_encoder_onnx


class CountingEncoder:
    """The real MiniLM ONNX encoder, counting the sentences it is asked to encode."""

    def __init__(self):
        self.inner = OnnxEncoder(pooled_encoder_onnx("minilm"))
        self.encoded = 0

    def run(self, texts, batch_size=32):
        self.encoded += len(texts)
        return self.inner.run(texts, batch_size)


@pytest.fixture(scope="module")
def encoder():
    return CountingEncoder()


def test_cache_returns_the_encoders_vectors_and_encodes_only_new_text(encoder, tmp_path):
    texts = ["The ministry denied the report.", "Troops repelled the attack.", "Talks resume on Monday."]
    first = cached_embeddings(encoder, "minilm-test", texts[:2], cache=tmp_path)
    assert encoder.encoded == 2
    np.testing.assert_allclose(first, encoder.inner.run(texts[:2])["embedding"], atol=1e-6)
    again = cached_embeddings(encoder, "minilm-test", texts + texts[:1], cache=tmp_path)
    assert encoder.encoded == 3  # only the new sentence was encoded
    np.testing.assert_allclose(again[:2], first, atol=0)
    np.testing.assert_allclose(again[3], first[0], atol=0)
    assert again.shape == (4, 384)


def test_a_damaged_cache_is_rebuilt(encoder, tmp_path):
    (tmp_path / "embeddings").mkdir()
    (tmp_path / "embeddings" / "minilm-test.npz").write_bytes(b"not a numpy file")
    before = encoder.encoded
    vectors = cached_embeddings(encoder, "minilm-test", ["A sentence."], cache=tmp_path)
    assert encoder.encoded == before + 1 and vectors.shape == (1, 384)
    assert cached_embeddings(encoder, "minilm-test", ["A sentence."], cache=tmp_path).shape == (1, 384)
    assert encoder.encoded == before + 1
