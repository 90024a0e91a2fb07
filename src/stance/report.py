"""`stance report`: one self-contained HTML page over a scored file.

The page holds its data inline (compact JSON) and a small script that draws one page of
articles at a time, each sentence highlighted by stance (colour) and tone (underline), with
speaker and probabilities on hover; filters by stance, tone and actor; a table of actors; and
charts of stance by actor and over time, drawn by matplotlib as inline SVG. Nothing is
fetched from the network.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import pandas as pd

from .schema import STANCES, TONES
from .summaries import actors_table, read_scores

# stance colours (Okabe-Ito, distinguishable with colour blindness); `none` is not highlighted
STANCE_COLOURS = {"threat": "#D55E00", "denial": "#0072B2", "appeal": "#009E73",
                  "claim_of_success": "#E69F00", "none": "#BBBBBB"}
TOP_ACTORS_CHART = 15   # actors drawn in the by-actor charts
TOP_ACTORS_TABLE = 300  # rows of the actor table
MAX_ARTICLES = 4000     # articles embedded (~10 MB of wire copy); more are left out, and the page says so


def _article_texts(frame: pd.DataFrame, articles: list[str] | str | None) -> tuple[dict[str, tuple], int]:
    """Per article, its text and each sentence's (start, end) in it: the article's own text
    when ``articles`` is given and the scored offsets agree with it, else the sentences
    rebuilt (`_join`); and how many articles had to be rebuilt."""
    given: dict[str, str] = {}
    if isinstance(articles, (str, Path)):
        articles = [articles]
    if articles:
        from .articles import find_inputs, read_file

        for path in find_inputs(articles):
            given.update(read_file(path))
    texts, rebuilt = {}, 0
    for doc_id, rows in frame.groupby("doc_id", sort=False):
        text, spans = given.get(doc_id), list(zip(rows["start"].astype(int), rows["end"].astype(int)))
        if text is None or any(text[s:e] != t for (s, e), t in zip(spans, rows["text"])):
            (text, spans), rebuilt = _join(rows), rebuilt + 1
        texts[doc_id] = (text, spans)
    return texts, rebuilt


def _join(rows: pd.DataFrame) -> tuple[str, list[tuple[int, int]]]:
    """The sentences joined where their offsets put them: the gap before one becomes a space,
    or a blank line when it is two characters or more (a paragraph break, most likely)."""
    text, spans = "", []
    for start, sentence in zip(rows["start"], rows["text"]):
        gap = int(start) - len(text) if text else 0
        text += ("\n\n" + " " * (gap - 2)) if gap >= 2 else " " if text else ""
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence
    return text, spans


def _compact(frame: pd.DataFrame, texts: dict[str, tuple], actor_ids: dict[str, int]) -> list[list]:
    """Per article: [doc_id, metadata line, text, sentences], each sentence
    [start, end, stance, tone, actor id or -1, p(stance), p(tone), speaker as written]."""
    meta_cols = [c for c in ("date", "source", "url", "title") if c in frame.columns]
    out = []
    for doc_id, rows in frame.groupby("doc_id", sort=False):
        first = rows.iloc[0]
        meta = " · ".join(str(first[c])[:10] if c == "date" else str(first[c])
                          for c in meta_cols if pd.notna(first[c]))
        text, spans = texts[doc_id]
        sentences = [[start, end, STANCES.index(r.stance), TONES.index(r.tone),
                      actor_ids.get(r.actor_key, -1) if r.actor_key else -1,
                      round(float(r.stance_score), 2), round(float(r.tone_score), 2), r.speaker or ""]
                     for (start, end), r in zip(spans, rows.itertuples())]
        out.append([doc_id, meta, text, sentences])
    return out


def _svg(figure) -> str:
    """A matplotlib figure as inline SVG (text kept as text: small and searchable)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9}):
        # no RDF metadata block: nothing in the page names an outside address but SVG's namespaces
        figure.savefig(buffer, format="svg", bbox_inches="tight",
                       metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def _stacked_bars(table: pd.DataFrame, title: str, horizontal: bool) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 0.3 * len(table) + 1.2) if horizontal else (7, 3))
    ax = figure.subplots()
    base = [0] * len(table)
    labels = [str(i) for i in table.index]
    for stance in [s for s in STANCES if s != "none"]:
        values = table[stance].tolist()
        draw = ax.barh if horizontal else ax.bar
        draw(labels, values, **({"left": base} if horizontal else {"bottom": base}),
             color=STANCE_COLOURS[stance], label=stance.replace("_", " "))
        base = [b + v for b, v in zip(base, values)]
    if horizontal:
        ax.invert_yaxis()
    else:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_title(title, loc="left")
    ax.legend(frameon=False, fontsize=8, ncols=4, **({"loc": "lower right"} if horizontal else
                                                   {"loc": "upper center", "bbox_to_anchor": (0.5, -0.3)}))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def charts(frame: pd.DataFrame, names: dict[str, str]) -> dict[str, str]:
    """Inline SVG charts: statements by stance for the top actors, and per month when the
    rows carry dates (an explanation instead of a chart when they do not)."""
    statements = frame[frame["stance"] != "none"]
    spoken = statements[statements["actor_key"].notna()]
    by_actor = pd.crosstab(spoken["actor_key"], spoken["stance"]).reindex(columns=list(STANCES), fill_value=0)
    by_actor = by_actor.loc[by_actor.sum(axis=1).sort_values(ascending=False, kind="stable").index[:TOP_ACTORS_CHART]]
    by_actor.index = [names[k] for k in by_actor.index]
    out = {"actors": _stacked_bars(by_actor, f"Statements by stance: the {len(by_actor)} most quoted actors",
                                   horizontal=True) if len(by_actor) else "<p>No attributed statements.</p>"}
    dated = statements[statements["date"].notna()] if "date" in statements.columns else statements.iloc[:0]
    if len(dated):
        months = dated["date"].dt.to_period("M").astype(str)
        by_month = pd.crosstab(months, dated["stance"]).reindex(columns=list(STANCES), fill_value=0)
        out["time"] = _stacked_bars(by_month, "Statements by stance per month", horizontal=False)
    else:
        out["time"] = "<p>The scored rows carry no <code>date</code>, so there is no chart over time " \
                      "(score a .jsonl with a <code>date</code> per article to get one).</p>"
    return out


def _actor_rows(table: pd.DataFrame) -> str:
    cells = []
    for r in table.head(TOP_ACTORS_TABLE).itertuples():
        counts = "".join(f"<td>{getattr(r, 'stance_' + s)}</td>" for s in STANCES if s != "none")
        tones = "".join(f"<td>{getattr(r, 'tone_' + t)}</td>" for t in TONES if t != "neutral")
        cells.append(f'<tr><td><a href="#" data-actor="{html.escape(r.actor_key)}">{html.escape(str(r.actor))}'
                     f"</a></td><td>{r.articles}</td><td>{r.statements}</td>{counts}{tones}</tr>")
    return "\n".join(cells)


def build_report(scores: str | Path, out: str | Path, articles: list[str] | str | None = None,
                 per_page: int = 50, force: bool = False) -> dict:
    """Write the HTML report of ``scores`` to ``out``; return counts and the file's size."""
    from .report_page import render
    from .score import write_atomically

    out = Path(out)
    if out.suffix not in (".html", ".htm"):
        raise ValueError(f"{out}: the report is an HTML file (use a .html name)")
    if out.exists() and not force:
        raise FileExistsError(f"{out}: already exists (use --force to overwrite)")
    if per_page < 1:
        raise ValueError(f"--per-page must be at least 1, not {per_page}")
    frame = read_scores(scores)
    doc_ids = list(dict.fromkeys(frame["doc_id"]))
    notes = []
    if len(doc_ids) > MAX_ARTICLES:
        notes.append(f"The first {MAX_ARTICLES:,} of {len(doc_ids):,} articles are shown; "
                     f"the charts and the actor table count all of them.")
    shown = frame[frame["doc_id"].isin(set(doc_ids[:MAX_ARTICLES]))]
    texts, rebuilt = _article_texts(shown, articles)
    if rebuilt:
        notes.append(f"{rebuilt:,} article text(s) were rebuilt from the scored sentences (spacing "
                     f"between sentences approximated){'' if articles else '; pass --articles for the originals'}.")
    table = actors_table(frame)
    ranked = list(table["actor_key"])
    names = dict(zip(table["actor_key"], table["actor"]))
    data = {"stances": list(STANCES), "tones": list(TONES), "colours": STANCE_COLOURS,
            "actors": [[k, names[k]] for k in ranked], "perPage": per_page,
            "articles": _compact(shown, texts, {k: i for i, k in enumerate(ranked)})}
    versions = ", ".join(sorted(map(str, frame["model_version"].dropna().unique()))) \
        if "model_version" in frame.columns else "unknown"
    page = render(title=f"stance report: {Path(scores).name}", data=json.dumps(data, ensure_ascii=False,
                  separators=(",", ":")), charts=charts(frame, names), actor_rows=_actor_rows(table),
                  summary=f"{len(doc_ids):,} articles, {len(frame):,} sentences, "
                          f"{int((frame['stance'] != 'none').sum()):,} statements, {len(ranked):,} actors; "
                          f"model {versions}", notes=notes,
                  shown_actors=min(len(ranked), TOP_ACTORS_TABLE), total_actors=len(ranked))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    return {"articles": len(doc_ids), "sentences": len(frame), "bytes": out.stat().st_size}
