"""Tables over a scored file: per article (stance and tone mix, main actors) and per actor
(sentences by stance and tone, and over time when the rows carry a ``date``).

Actors are the canonical speakers of each article (`speakers.canonical_speakers`), grouped
across articles by `speakers.speaker_key`; a bare description ("the company", "a ministry
spokesman") is an actor of its own article only, its key suffixed with the article's id.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .schema import STANCES, TONES

REQUIRED = ("doc_id", "sentence_index", "text", "speaker", "stance", "tone")
METADATA = ("date", "source", "url", "title")  # carried per article when the scorer kept them
FORMATS = ("csv", "parquet")
PERIODS = {"month": "M", "week": "W"}


def read_scores(path: str | Path) -> pd.DataFrame:
    """A scored file (.jsonl, .csv, .parquet from `stance score`), sorted by article and
    sentence, with ``actor`` (canonical speaker in its article) and ``actor_key`` added."""
    path = Path(path)
    readers = {".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False), ".csv": pd.read_csv,
               ".parquet": pd.read_parquet}
    if path.suffix not in readers:
        raise ValueError(f"{path}: unknown scores format {path.suffix!r} (use .jsonl, .csv or .parquet)")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        frame = readers[path.suffix](path)
    except (ValueError, OSError) as err:  # parser and Arrow errors derive from these
        raise ValueError(f"{path}: unreadable {path.suffix[1:]} file ({str(err).splitlines()[0][:120]})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected the output of `stance score`")
    for head, labels in (("stance", STANCES), ("tone", TONES)):
        bad = frame.index[~frame[head].isin(labels)]
        if len(bad):
            raise ValueError(f"{path}: row {bad[0] + 1}: unknown {head} {frame[head][bad[0]]!r}")
    if "date" in frame.columns:
        dates = pd.to_datetime(frame["date"], errors="coerce", utc=True, format="mixed")
        bad = frame.index[dates.isna() & frame["date"].notna()]
        if len(bad):
            raise ValueError(f"{path}: row {bad[0] + 1}: unreadable date {frame['date'][bad[0]]!r}")
        frame["date"] = dates.dt.tz_localize(None)
    frame["doc_id"] = frame["doc_id"].astype(str)
    frame = frame.sort_values(["doc_id", "sentence_index"], kind="stable").reset_index(drop=True)
    frame["speaker"] = frame["speaker"].astype(object).where(frame["speaker"].notna(), None)
    return _with_actors(frame)


def _with_actors(frame: pd.DataFrame) -> pd.DataFrame:
    from .speakers import canonical_speakers, is_generic, speaker_key

    actors: list[str | None] = []
    for _, speakers in frame.groupby("doc_id", sort=False)["speaker"]:
        actors.extend(canonical_speakers(list(speakers)))
    frame["actor"] = actors
    keys = {a: speaker_key(a) for a in set(actors) if a}
    # "the company" names a different company in each article: its key stays in its article
    frame["actor_key"] = [None if not a else f"{keys[a]} ({d})" if is_generic(a) else keys[a]
                          for a, d in zip(actors, frame["doc_id"])]
    return frame


def _counts(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sentences per group, by stance and by tone (every label a column, zeros included)."""
    parts = [frame.groupby(by, sort=False).size().rename("sentences")]
    for head, labels in (("stance", STANCES), ("tone", TONES)):
        table = pd.crosstab([frame[c] for c in by], frame[head]).reindex(columns=list(labels), fill_value=0)
        parts.append(table.add_prefix(f"{head}_"))
    return pd.concat(parts, axis=1).fillna(0).astype(int)


def _main(row: pd.Series, head: str, labels: tuple[str, ...], skip: str) -> str:
    counts = {label: row[f"{head}_{label}"] for label in labels if label != skip}
    best = max(counts, key=counts.get)
    return best if counts[best] else skip


def articles_table(frame: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """One row per article: sentences and statements (stance other than none), counts per
    stance and tone, the main stance and tone, its main actors, and its metadata."""
    table = _counts(frame, ["doc_id"])
    table.insert(1, "statements", table["sentences"] - table["stance_none"])
    table["main_stance"] = table.apply(_main, axis=1, args=("stance", STANCES, "none"))
    table["main_tone"] = table.apply(_main, axis=1, args=("tone", TONES, "neutral"))
    spoken = frame[frame["actor"].notna()]
    table["actors"] = spoken.groupby("doc_id")["actor"].nunique().reindex(table.index, fill_value=0)
    table["main_actors"] = spoken.groupby("doc_id")["actor"].agg(
        lambda a: "; ".join(a.value_counts().index[:top])).reindex(table.index, fill_value="")
    meta = [c for c in METADATA if c in frame.columns]
    if meta:
        table = frame.groupby("doc_id", sort=False)[meta].first().join(table)
    return table.reset_index()


def _names(spoken: pd.DataFrame) -> pd.Series:
    """Per actor key, its commonest name; a description gets its article: "the company (pbz-014)"."""
    from .speakers import is_generic

    names = spoken.groupby("actor_key")["actor"].agg(lambda a: a.value_counts().index[0])
    docs = spoken.groupby("actor_key")["doc_id"].first()
    return pd.Series({k: f"{n} ({docs[k]})" if is_generic(n) else n for k, n in names.items()}, dtype=object)


def actors_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per actor (``actor_key``) across articles: its commonest name, articles,
    sentences attributed to it by stance and tone, and first and last date when known."""
    spoken = frame[frame["actor_key"].notna()]
    table = _counts(spoken, ["actor_key"])
    table.insert(0, "actor", _names(spoken))
    table.insert(1, "articles", spoken.groupby("actor_key")["doc_id"].nunique())
    table.insert(3, "statements", table["sentences"] - table["stance_none"])
    if "date" in spoken.columns:
        table["first_date"] = spoken.groupby("actor_key")["date"].min()
        table["last_date"] = spoken.groupby("actor_key")["date"].max()
    return table.sort_values(["statements", "sentences"], ascending=False, kind="stable").reset_index()


def actors_over_time(frame: pd.DataFrame, period: str = "month") -> pd.DataFrame | None:
    """Per actor and period (month or week, by ``date``): sentences by stance and tone; None
    when the rows carry no dates."""
    if "date" not in frame.columns or frame["date"].isna().all():
        return None
    spoken = frame[frame["actor_key"].notna() & frame["date"].notna()].copy()
    spoken["period"] = spoken["date"].dt.to_period(PERIODS[period]).dt.start_time.dt.date.astype(str)
    table = _counts(spoken, ["actor_key", "period"]).reset_index()
    table.insert(1, "actor", table["actor_key"].map(_names(spoken)))
    return table.sort_values(["actor_key", "period"], kind="stable").reset_index(drop=True)


def summarise(scores: str | Path, out_dir: str | Path, fmt: str = "csv", period: str = "month",
              force: bool = False) -> dict[str, Path]:
    """Write ``articles``, ``actors`` and (with dates) ``actors_by_<period>`` tables into
    ``out_dir``; return their paths. Existing tables are kept unless ``force``."""
    from .score import write_atomically

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r} (use {', '.join(PERIODS)})")
    frame = read_scores(scores)
    tables = {"articles": articles_table(frame), "actors": actors_table(frame),
              f"actors_by_{period}": actors_over_time(frame, period)}
    out_dir = Path(out_dir)
    paths = {name: out_dir / f"{name}.{fmt}" for name, table in tables.items() if table is not None}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{existing[0]}: already exists (use --force to overwrite)")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, path in paths.items():
        table = tables[name]
        write = (lambda tmp, t=table: t.to_csv(tmp, index=False)) if fmt == "csv" else \
            (lambda tmp, t=table: t.to_parquet(tmp, index=False))
        write_atomically(path, write)
    return paths
