"""Reference baselines, in the style of the tools our users have today.

``lexicon``: a dictionary coder. A few dozen cue patterns per stance and tone, written from
the codebook's cue lists; the first stance in the codebook's tie order whose patterns match
wins. ``zeroshot``: each label's codebook description is embedded with MiniLM, and a sentence
takes the label whose description is nearest. Neither learns from our labels (``fit`` only
embeds the descriptions), so they show what training buys.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .models import Family
from .schema import HEADS

STANCE_CUES = {
    "threat": [
        r"\bwill be (?:destroyed|crushed|sunk|eliminated|wiped out|punished|targeted|annihilated)",
        r"\bwill (?:respond|retaliate|strike|pay|regret|face|not hesitate|hit back)", r"\bretaliat",
        r"\bwarn(?:ed|s|ing)? (?:that|of|it would|they would)", r"\bconsequences\b", r"\bor else\b",
        r"\ball options (?:are|remain) on the table", r"\bor (?:die|be destroyed|face)\b", r"\bultimatum",
        r"\bthreaten(?:ed|s)?\b", r"\bwould (?:strike|respond|retaliate|pay|face)", r"\bmercilessly\b",
        r"\bwipe (?:out|off)", r"\bdestroy (?:any|every|all)\b", r"\bno mercy\b", r"\bprice\b.*\bpay",
        r"\bteach (?:them|him|it) a lesson", r"\bsanctions would follow", r"\bwill be held (?:accountable|responsible)",
        r"\bcrush\b", r"\bdecisive (?:response|action)", r"\bforce will be used", r"\bpunish",
    ],
    "denial": [
        r"\bden(?:y|ied|ies|ial)\b", (r"\breject(?:ed|s)? (?:the|a|an|any|this|those|these|such)?\s*"
                                    r"(?:claim|report|accusation|allegation|account|charge)"), r"\bfalse\b", r"\bfabricat", r"\bbaseless\b",
        r"\bthere (?:is|was|are|were) no\b", r"\bdid not\b", r"\bhas nothing to do with\b", r"\bnot true\b",
        r"\buntrue\b", r"\blies?\b", r"\bdismiss(?:ed|es)? (?:the|reports|claims|as)", r"\bgroundless\b",
        r"\bunfounded\b", r"\bfake\b", r"\bpropaganda\b", r"\bno evidence\b", r"\bnever (?:happened|took place)",
        r"\bnot (?:involved|responsible)\b", r"\bdisinformation\b", r"\bnonsense\b", r"\babsurd\b",
    ],
    "appeal": [
        r"\burg(?:ed|es|ing)\b", r"\bcall(?:ed|s|ing)? (?:on|for|upon)\b", r"\bask(?:ed|s)?\b", r"\bappeal",
        r"\bdemand", r"\bmust\b", r"\bshould\b", r"\bi request\b", r"\bwe call\b", r"\bimplor", r"\bbeg(?:ged)?\b",
        r"\bplead", r"\binvite[ds]?\b", r"\bit is time for\b", r"\bneeds? to\b", r"\bplease\b",
        r"\bpress(?:ed|es)? (?:for|the|on)", r"\bencourag", r"\bexhort", r"\binsist(?:ed|s)? that\b.*\b(?:must|should)",
    ],
    "claim_of_success": [
        r"\b(?:downed|shot down|intercepted|repelled|liberated|recaptured|captured|seized|destroyed)\b",
        r"\bsuccess(?:ful|fully)?\b", r"\bproductive\b", r"\bprogress\b", r"\bvictory\b", r"\bachiev",
        r"\bfulfilled\b", r"\bwon\b", r"\bgain(?:ed|s)\b", r"\brecord\b", r"\bneutrali[sz]ed\b", r"\beliminated\b",
        r"\bbreakthrough\b", r"\bsecured\b", r"\bkilled \d+", r"\brestored\b", r"\bfreed\b", r"\bbrokered\b",
        r"\bagreed\b", r"\bdelivered\b", r"\barrested\b", r"\btook control\b", r"\bpushed back\b",
    ],
}
TONE_CUES = {
    "hostile": [r"\bterroris", r"\bcriminal", r"\bregime\b", r"\blies\b", r"\bfabricat", r"\bmercilessly\b",
                r"\bthugs?\b", r"\bpuppet", r"\bbandits?\b", r"\bbarbar", r"\bnazi", r"\baggress", r"\bcrush",
                r"\bdestroy", r"\bpropaganda\b", r"\bcoward", r"\bgenocid", r"\bwar crim", r"\bmurder"],
    "conciliatory": [r"\bwelcome", r"\bthank", r"\bgrateful\b", r"\bgood faith\b", r"\bproductive\b",
                     r"\bconstructive\b", r"\bsympath", r"\bcondolence", r"\bfriend", r"\bpartner",
                     r"\bcooperat", r"\bdialogue\b", r"\bpeace(?:ful)?\b", r"\breconcil", r"\bwarm\b", r"\btogether\b"],
    "alarmed": [r"\bcatastroph", r"\bhorri", r"\bgrave\b", r"\bdisaster", r"\bmassacre", r"\bterrified\b",
                r"\burgent", r"\bdire\b", r"\bfamine\b", r"\bstarv", r"\bdesperate\b", r"\bcollapse",
                r"\bvery difficult\b", r"\bdeeply concerned\b", r"\balarm", r"\bnightmare\b", r"\bdying\b"],
    "confident": [r"\bno threat\b", r"\bsuccessfully\b", r"\bfully under control\b", r"\bwill prevail\b",
                  r"\bconfident\b", r"\bfirmly\b", r"\bstrong(?:er)?\b", r"\bvictory\b", r"\bnothing to fear\b",
                  r"\bcalm\b", r"\bunder control\b", r"\bwill win\b", r"\bready\b", r"\bnever\b"],
}


class LexiconModel(Family):
    """Dictionary event coder: cue patterns per label; tie order from the codebook."""

    family = "lexicon"

    def __init__(self):
        self._params = {}
        self.patterns_ = {
            "stance": {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in STANCE_CUES.items()},
            "tone": {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in TONE_CUES.items()},
        }

    def fit(self, texts, targets, dev=None, sample_weight=None) -> LexiconModel:
        return self

    def logits(self, texts):
        out = {}
        for head, labels in HEADS.items():
            default = "none" if head == "stance" else "neutral"
            scores = np.zeros((len(texts), len(labels)))
            for i, text in enumerate(texts):
                # the first label (in codebook tie order) with any matching cue wins
                winner = next((label for label in labels if label in self.patterns_[head]
                               and any(p.search(text) for p in self.patterns_[head][label])), default)
                scores[i, labels.index(winner)] = 3.0
            out[head] = scores
        return out

    def save(self, path: Path) -> None:
        pass

    @classmethod
    def load(cls, path: Path, params: dict) -> LexiconModel:
        return cls()


# Each label's meaning, from the codebook, as the zero-shot model's "prototype" sentence.
DESCRIPTIONS = {
    "stance": {
        "threat": "A statement that announces or implies harm, punishment or a coercive consequence for a "
                  "target, now or on a condition; an ultimatum: they will be destroyed, we will retaliate.",
        "denial": "A statement that rejects a claim, report, accusation or responsibility as untrue, or says "
                  "something reported is not happening: the report is false and fabricated, there is no.",
        "appeal": "A statement that asks, urges, calls on, begs or demands that another actor do or stop doing "
                  "something: we call on them to, they must, we urge.",
        "claim_of_success": "A statement that asserts an achievement, gain, victory or working result of the "
                            "speaker's own side: our forces downed drones, liberated the village, successful talks.",
        "none": "A sentence with no statement: background facts, narration, numbers, descriptions of meetings, "
                "accusations, predictions or questions.",
    },
    "tone": {
        "hostile": "Aggressive, menacing, contemptuous, insulting or accusatory words: criminal regime, lies, terrorists.",
        "conciliatory": "Warm, cooperative, sympathetic, de-escalating or grateful words: we welcome, thank you, good faith.",
        "alarmed": "Urgent, fearful, grave, distressed words warning of disaster: catastrophe, horrible, grave concern.",
        "confident": "Assured, triumphant, defiant, calmly in control: fully under control, we will prevail.",
        "neutral": "Matter-of-fact, procedural, reportorial wording: the ministry said, according to officials.",
    },
}


class ZeroShotModel(Family):
    """Nearest codebook description in MiniLM embedding space (cosine similarity as logits)."""

    family = "zeroshot"

    def __init__(self, scale: float = 20.0):
        self._params = {"scale": scale}

    def fit(self, texts=None, targets=None, dev=None, sample_weight=None) -> ZeroShotModel:
        self._open_encoder()
        self.prototypes_ = {h: self.encoder_.run([DESCRIPTIONS[h][label] for label in labels])["embedding"]
                            for h, labels in HEADS.items()}
        return self

    def _open_encoder(self):
        from .encoder import OnnxEncoder, pooled_encoder_onnx

        self.encoder_ = OnnxEncoder(pooled_encoder_onnx())

    def logits(self, texts):
        x = self.encoder_.run(texts)["embedding"]
        return {h: self._params["scale"] * x @ self.prototypes_[h].T for h in HEADS}

    def save(self, path: Path) -> None:
        np.savez(path / "prototypes.npz", **self.prototypes_)

    @classmethod
    def load(cls, path: Path, params: dict) -> ZeroShotModel:
        model = cls(**params)
        model._open_encoder()
        with np.load(path / "prototypes.npz") as saved:
            model.prototypes_ = {h: saved[h] for h in HEADS}
        return model
