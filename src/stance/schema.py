"""Label sets, field names and the scorer's output columns: the one place they are defined.

The label sets follow ../shared/codebook.md (and labels/CODEBOOK.md); every other module
imports them from here.
"""

STANCES = ("threat", "denial", "appeal", "claim_of_success", "none")
TONES = ("hostile", "conciliatory", "alarmed", "confident", "neutral")
HEADS = {"stance": STANCES, "tone": TONES}

# Fields every labelled row must have; the rest are optional provenance.
REQUIRED_FIELDS = ("id", "doc_id", "text", "stance", "tone", "speaker")
OPTIONAL_FIELDS = ("hard", "context", "paragraph", "quote", "annotator", "source", "added")

REGISTERED_MODEL = "stance"


def proba_columns(head: str) -> list[str]:
    """Column names of one head's per-label probabilities, e.g. ``p_stance_threat``."""
    return [f"p_{head}_{label}" for label in HEADS[head]]


PREDICTION_COLUMNS = (
    ["stance", "stance_score", "tone", "tone_score"]
    + proba_columns("stance")
    + proba_columns("tone")
)
# One row per sentence in every scored output (jsonl, csv, parquet). `speaker` is one name per
# actor within an article, `speaker_key` groups actors across articles; `quote` is direct,
# reported or none. The input's own fields (date, source, url, ...) follow as extra columns.
SCORE_COLUMNS = (
    ["doc_id", "sentence_index", "start", "end", "text", "speaker", "speaker_key", "quote"]
    + PREDICTION_COLUMNS
    + ["model_version"]
)
