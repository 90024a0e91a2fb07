"""The report's HTML page: markup, style and the small script that draws it (no network)."""

from __future__ import annotations

import html

# tone: an underline style per tone (colour is taken by stance)
TONE_STYLES = {"hostile": "underline wavy #b00020", "alarmed": "underline dotted #6a1b9a",
               "conciliatory": "underline double #2e7d32", "confident": "underline solid #37474f",
               "neutral": "none"}

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#222}
h1{font-size:1.4rem;margin:.2rem 0} h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.3rem .6rem;margin:.4rem 0}
.bar{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ddd;z-index:1}
.bar label{margin-right:.8rem} .legend span{margin-right:.6rem;padding:0 .25rem}
.art{border-bottom:1px solid #eee;padding:.4rem 0 .8rem} .art h3{font-size:1rem;margin:.3rem 0 0}
.meta{color:#666;font-size:.85rem} .text{white-space:pre-wrap}
.s{border-radius:3px;text-decoration-thickness:2px;text-underline-offset:3px} .s.dim{background:none!important;
text-decoration:none!important;color:#999} .st-none{background:none}
.charts{display:flex;flex-wrap:wrap;gap:1rem} .charts>div{flex:1 1 30rem;min-width:0} .charts svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:.85rem} td,th{padding:.15rem .5rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left} .scroll{max-height:24rem;overflow:auto}
button{margin:0 .3rem} select{max-width:18rem}
"""

SCRIPT = r"""
(function () {
  var t0 = performance.now();
  var D = JSON.parse(document.getElementById('data').textContent);
  var state = {stance: '', tone: '', actor: '', page: 1};
  var list = document.getElementById('articles'), status = document.getElementById('status');
  var pick = {stance: document.getElementById('f-stance'), tone: document.getElementById('f-tone'),
              actor: document.getElementById('f-actor')};
  function options(select, values) {
    values.forEach(function (v) {
      var o = document.createElement('option'); o.value = v[0]; o.textContent = v[1]; select.appendChild(o);
    });
  }
  options(pick.stance, D.stances.map(function (s) { return [s, s.replace(/_/g, ' ')]; }));
  options(pick.tone, D.tones.map(function (t) { return [t, t]; }));
  options(pick.actor, D.actors);
  function filtered() { return state.stance || state.tone || state.actor; }
  function matches(s) {
    return (!state.stance || D.stances[s[2]] === state.stance) && (!state.tone || D.tones[s[3]] === state.tone) &&
      (!state.actor || (s[4] >= 0 && D.actors[s[4]][0] === state.actor));
  }
  function hover(s) {
    var who = s[7] ? 'speaker: ' + s[7] : 'no speaker found';
    if (s[4] >= 0 && D.actors[s[4]][1] !== s[7]) who += ' (' + D.actors[s[4]][1] + ')';
    return 'stance: ' + D.stances[s[2]] + ' (' + s[5].toFixed(2) + ') · tone: ' + D.tones[s[3]] +
      ' (' + s[6].toFixed(2) + ') · ' + who;
  }
  function article(a) {
    var box = document.createElement('article'), head = document.createElement('h3'),
        meta = document.createElement('div'), body = document.createElement('div'), text = a[2], pos = 0;
    box.className = 'art'; box.dataset.doc = a[0]; head.textContent = a[0];
    meta.className = 'meta'; meta.textContent = a[1]; body.className = 'text';
    a[3].forEach(function (s) {
      if (s[0] > pos) body.appendChild(document.createTextNode(text.slice(pos, s[0])));
      var span = document.createElement('span');
      span.textContent = text.slice(s[0], s[1]);
      span.className = 's st-' + D.stances[s[2]] + ' tn-' + D.tones[s[3]] + (filtered() && !matches(s) ? ' dim' : '');
      span.dataset.stance = D.stances[s[2]]; span.dataset.tone = D.tones[s[3]];
      if (s[4] >= 0) span.dataset.actor = D.actors[s[4]][0];
      span.title = hover(s);
      body.appendChild(span); pos = s[1];
    });
    body.appendChild(document.createTextNode(text.slice(pos)));
    box.append(head, meta, body);
    return box;
  }
  function render() {
    var chosen = D.articles.filter(function (a) { return !filtered() || a[3].some(matches); });
    var pages = Math.max(1, Math.ceil(chosen.length / D.perPage));
    state.page = Math.min(Math.max(1, state.page), pages);
    var from = (state.page - 1) * D.perPage, shown = chosen.slice(from, from + D.perPage);
    list.replaceChildren.apply(list, shown.map(article));
    status.textContent = chosen.length ? 'Articles ' + (from + 1) + '–' + (from + shown.length) + ' of ' +
      chosen.length + (filtered() ? ' matching' : '') + ' (page ' + state.page + ' of ' + pages + ', ' +
      D.perPage + ' a page)' : 'No article matches these filters.';
    document.getElementById('prev').disabled = state.page <= 1;
    document.getElementById('next').disabled = state.page >= pages;
    document.body.dataset.shown = shown.length; document.body.dataset.matching = chosen.length;
  }
  function readHash() {
    var h = new URLSearchParams(location.hash.slice(1));
    ['stance', 'tone', 'actor'].forEach(function (k) { state[k] = h.get(k) || ''; pick[k].value = state[k]; });
    state.page = parseInt(h.get('page') || '1', 10) || 1;
  }
  function writeHash() {
    var h = new URLSearchParams();
    ['stance', 'tone', 'actor'].forEach(function (k) { if (state[k]) h.set(k, state[k]); });
    if (state.page > 1) h.set('page', state.page);
    history.replaceState(null, '', '#' + h.toString());
  }
  Object.keys(pick).forEach(function (k) {
    pick[k].addEventListener('change', function () { state[k] = pick[k].value; state.page = 1; writeHash(); render(); });
  });
  document.getElementById('prev').onclick = function () { state.page--; writeHash(); render(); };
  document.getElementById('next').onclick = function () { state.page++; writeHash(); render(); };
  document.querySelectorAll('a[data-actor]').forEach(function (a) {
    a.addEventListener('click', function (e) {
      e.preventDefault(); state.actor = a.dataset.actor; pick.actor.value = state.actor; state.page = 1;
      writeHash(); render(); list.scrollIntoView();
    });
  });
  window.addEventListener('hashchange', function () { readHash(); render(); });
  readHash(); render();
  document.body.dataset.ready = '1';
  document.body.dataset.initMs = Math.round(performance.now() - t0);
  document.body.dataset.readyMs = Math.round(performance.now());  // since navigation started
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>@@TITLE@@</title><style>@@STYLE@@</style></head>
<body>
<h1>@@TITLE@@</h1><p>@@SUMMARY@@</p>@@NOTES@@
<p class="legend">Stance (colour): @@STANCE_LEGEND@@ · tone (underline): @@TONE_LEGEND@@ · hover a sentence for
its speaker and probabilities.</p>
<h2>Charts</h2><div class="charts"><div id="chart-actors">@@CHART_ACTORS@@</div><div id="chart-time">@@CHART_TIME@@</div></div>
<h2>Actors</h2><p>@@ACTOR_NOTE@@ Click a name to show its statements.</p>
<div class="scroll"><table id="actors"><thead><tr><th>actor</th><th>articles</th><th>statements</th>@@ACTOR_HEAD@@</tr></thead>
<tbody>@@ACTOR_ROWS@@</tbody></table></div>
<h2>Articles</h2>
<div class="bar"><label>stance <select id="f-stance"><option value="">any</option></select></label>
<label>tone <select id="f-tone"><option value="">any</option></select></label>
<label>actor <select id="f-actor"><option value="">any</option></select></label>
<button id="prev">‹ previous</button><button id="next">next ›</button> <span id="status"></span></div>
<noscript><p class="note">The articles are drawn by the page's script; enable JavaScript to see them.</p></noscript>
<div id="articles"></div>
<script type="application/json" id="data">@@DATA@@</script>
<script>@@SCRIPT@@</script>
</body></html>
"""


def _css(colours: dict[str, str]) -> str:
    stances = "".join(f".st-{s}{{background:{c}40;box-shadow:inset 0 -2px {c}}}" for s, c in colours.items() if s != "none")
    tones = "".join(f".tn-{t}{{text-decoration:{d}}}" for t, d in TONE_STYLES.items())
    return STYLE + stances + tones


def render(title: str, data: str, charts: dict[str, str], actor_rows: str, summary: str, notes: list[str],
           shown_actors: int, total_actors: int) -> str:
    """The whole page; ``data`` is the JSON the script draws from."""
    from .report import STANCE_COLOURS
    from .schema import STANCES, TONES

    stances = [s for s in STANCES if s != "none"]
    tones = [t for t in TONES if t != "neutral"]
    parts = {
        "TITLE": html.escape(title), "STYLE": _css(STANCE_COLOURS), "SUMMARY": html.escape(summary),
        "NOTES": "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes),
        "STANCE_LEGEND": " ".join(f'<span class="s st-{s}">{s.replace("_", " ")}</span>' for s in stances),
        "TONE_LEGEND": " ".join(f'<span class="s tn-{t}">{t}</span>' for t in tones),
        "CHART_ACTORS": charts["actors"], "CHART_TIME": charts["time"],
        "ACTOR_NOTE": html.escape(f"The {shown_actors:,} actors with the most statements"
                                  + (f" of {total_actors:,}." if total_actors > shown_actors else ".")),
        "ACTOR_HEAD": "".join(f"<th>{s.replace('_', ' ')}</th>" for s in stances)
        + "".join(f"<th>{t}</th>" for t in tones),
        "ACTOR_ROWS": actor_rows, "DATA": data.replace("<", "\\u003c"), "SCRIPT": SCRIPT,
    }
    page = PAGE
    for key, value in parts.items():
        page = page.replace(f"@@{key}@@", value)
    return page
