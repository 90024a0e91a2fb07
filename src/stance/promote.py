"""`stance promote`: move `champion` to `challenger` only if it is at least as good.

Both are evaluated on the genre-shift split (text in the genres real feeds carry) and on the
frozen test split. The gate is applied to the genre-shift split (to the test split only when
there is none): the challenger passes if its stance macro-F1 is at least the champion's minus
the recipe's ``promotion.tolerance`` and no stance class's F1 drops by more than
``promotion.max_class_drop``. The test split is shown beside it. The decision and the numbers are
recorded as tags on the challenger's version. Every former champion is remembered in order
(a tag on the registered model; the last one also holds the alias `previous`), so each
`stance rollback` goes one step further back.
"""

from __future__ import annotations

import json

from .schema import STANCES

DEFAULT_GATE = {"tolerance": 0.01, "max_class_drop": 0.05}
HISTORY_TAG = "stance.champion_history"  # former champions, oldest first (JSON list of versions)


def champion_history() -> list[str]:
    """Former champions, oldest first; stores from before the history have only `previous`."""
    from . import registry

    tag = registry.model_tag(HISTORY_TAG)
    if tag is not None:
        return json.loads(tag)
    previous = registry.alias_version("previous")
    return [previous] if previous else []


def move_champion(version: str) -> str | None:
    """Give `champion` to ``version``, remembering the one it replaces; return that one."""
    from . import registry

    current = registry.alias_version("champion")
    if current and current != version:
        # history first: a crash before the alias moves leaves an entry rollback skips
        registry.set_model_tag(HISTORY_TAG, json.dumps((champion_history() + [current])[-100:]))
        registry.set_alias("previous", current)
    registry.set_alias("champion", version)
    return current


def evaluate_version(version: str, test: list[dict], shift: list[dict] | None = None) -> dict:
    """Metrics of a registered version on the test split and (``gs_*``) the genre-shift split."""
    from . import evaluate
    from .predict import load

    predictor = load(f"models:/stance/{version}")
    metrics = evaluate.evaluate(test, predictor.predict_proba([r["text"] for r in test]))
    if shift:
        metrics.update(evaluate.evaluate(shift, predictor.predict_proba([r["text"] for r in shift]), prefix="gs_"))
    return metrics


def gate(challenger: dict, champion: dict, tolerance: float, max_class_drop: float,
         prefix: str = "") -> tuple[bool, list[str]]:
    """(passes, reasons) for the promotion rule on the split whose metrics start with ``prefix``."""
    split = "genre-shift" if prefix == "gs_" else "test"
    reasons = []
    if challenger[f"{prefix}stance_macro_f1"] < champion[f"{prefix}stance_macro_f1"] - tolerance:
        reasons.append(f"{split} stance macro-F1 {challenger[f'{prefix}stance_macro_f1']:.4f} < champion "
                       f"{champion[f'{prefix}stance_macro_f1']:.4f} - tolerance {tolerance}")
    for s in STANCES:
        drop = champion[f"{prefix}stance_f1_{s}"] - challenger[f"{prefix}stance_f1_{s}"]
        if drop > max_class_drop:
            reasons.append(f"{split} {s} F1 drops by {drop:.4f} (> {max_class_drop})")
    return not reasons, reasons


def side_by_side(challenger: dict, champion: dict, names: tuple[str, str]) -> str:
    split_keys = ["stance_macro_f1", "tone_macro_f1", "hard_stance_macro_f1"] + [f"stance_f1_{s}" for s in STANCES]
    keys = [f"gs_{k}" for k in split_keys] + split_keys
    lines = [f"{'metric':<26}{names[0]:>14}{names[1]:>14}{'change':>10}"]
    for k in keys:
        if k in challenger and k in champion:
            lines.append(f"{k:<26}{champion[k]:>14.4f}{challenger[k]:>14.4f}{challenger[k] - champion[k]:>+10.4f}")
    return "\n".join(lines)


def promote(labels: str = "labels", force: bool = False) -> dict:
    """Evaluate challenger vs champion and move the aliases if the gate passes (or ``force``)."""
    from . import registry

    registry.use_tracking(existing=True)
    challenger_v, champion_v = registry.alias_version("challenger"), registry.alias_version("champion")
    if challenger_v is None:
        raise ValueError("no version has the alias 'challenger': train one with stance train")
    versions = {v["version"]: v for v in registry.list_versions()}
    settings = {**DEFAULT_GATE, **json.loads(versions[challenger_v]["tags"].get("promotion") or "{}")}
    if champion_v is None or champion_v == challenger_v:
        registry.set_alias("champion", challenger_v)
        return {"promoted": True, "table": "", "reasons": [], "challenger": challenger_v, "champion": champion_v}
    from .data import load_genre_shift_rows, load_test_rows

    test, shift = load_test_rows(labels), load_genre_shift_rows(labels)
    new, old = evaluate_version(challenger_v, test, shift), evaluate_version(champion_v, test, shift)
    prefix = "gs_" if shift else ""
    passes, reasons = gate(new, old, settings["tolerance"], settings["max_class_drop"], prefix)
    table = side_by_side(new, old, (f"champion v{champion_v}", f"challenger v{challenger_v}"))
    promoted = passes or force
    decision = ("promoted" if passes else "forced" if force else "refused") + (
        f": {'; '.join(reasons)}" if reasons else f": stance macro-F1 within tolerance {settings['tolerance']} "
                                                  f"and no class drops more than {settings['max_class_drop']}")
    registry.set_version_tags(challenger_v, {
        "promote.decision": decision, "promote.against": champion_v, "promote.table": table,
        "promote.split": "genre-shift" if prefix else "test",
        "promote.stance_macro_f1": f"{new[prefix + 'stance_macro_f1']:.4f}",
        "promote.champion_stance_macro_f1": f"{old[prefix + 'stance_macro_f1']:.4f}"})
    if promoted:
        move_champion(challenger_v)
    return {"promoted": promoted, "passes": passes, "table": table, "reasons": reasons, "decision": decision,
            "challenger": challenger_v, "champion": champion_v}


def rollback() -> tuple[str, str | None]:
    """Give `champion` back to the champion before it; each rollback goes one step further back.
    Returns (restored, demoted)."""
    from . import registry

    registry.use_tracking(existing=True)
    history, current = champion_history(), registry.alias_version("champion")
    while history and history[-1] == current:  # left by a crash between the two steps of a move
        history.pop()
    if not history:
        raise ValueError(f"nothing further to roll back to: stance/{current} is the oldest champion on record"
                         if current else "no champion and no former champion: nothing to roll back to")
    restored = history.pop()
    registry.set_alias("champion", restored)
    registry.set_model_tag(HISTORY_TAG, json.dumps(history))
    if history:
        registry.set_alias("previous", history[-1])
    elif registry.alias_version("previous"):
        registry.delete_alias("previous")
    if current:
        registry.set_version_tags(current, {"promote.decision": f"rolled back to v{restored}"})
    return restored, current
