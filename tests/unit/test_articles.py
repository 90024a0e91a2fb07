from pathlib import Path

import pytest

from stance.articles import ArticleError, find_inputs, read_file, split_sentences

# (article text, expected sentences) - the cases wire copy throws at a splitter.
CASES = [
    ("KYIV, Ukraine (AFP) — Russian drones struck the city overnight. Officials said 12 people were hurt.",
     ["KYIV, Ukraine (AFP) — Russian drones struck the city overnight.", "Officials said 12 people were hurt."]),
    ("The U.S. Navy said the tanker was hit at 3 a.m. local time. Gen. Tomas Varga declined to comment.",
     ["The U.S. Navy said the tanker was hit at 3 a.m. local time.", "Gen. Tomas Varga declined to comment."]),
    ("Mr. Okafor met J. R. Dlamini in Pretoria on Nov. 4. They spoke for an hour.",
     ["Mr. Okafor met J. R. Dlamini in Pretoria on Nov. 4.", "They spoke for an hour."]),
    ("“We will not retreat. Every street will be defended,” the commander said. Fighting went on.",
     ["“We will not retreat.", "Every street will be defended,” the commander said.", "Fighting went on."]),
    ('"There is no threat to the city," the mayor said. Residents were not convinced.',
     ['"There is no threat to the city," the mayor said.', "Residents were not convinced."]),
    ("“Surrender or die!” the post read. Was it a bluff? Analysts were unsure.",
     ["“Surrender or die!” the post read.", "Was it a bluff?", "Analysts were unsure."]),
    ("The army said it repelled the attack.\n\nTwo drones were downed near the border\n\nTalks resume Monday.",
     ["The army said it repelled the attack.", "Two drones were downed near the border", "Talks resume Monday."]),
    ("“Why should families pay for this?” Ferrandi asked. The union did not reply.",
     ["“Why should families pay for this?” Ferrandi asked.", "The union did not reply."]),
    ("The deal was signed, said a Rwandan delegate, Amb. Claudine Mutesi. Talks ended.",
     ["The deal was signed, said a Rwandan delegate, Amb. Claudine Mutesi.", "Talks ended."]),
    ('He asked: "Why would we negotiate?" "They broke every deal," she replied.',
     ['He asked: "Why would we negotiate?"', '"They broke every deal," she replied.']),
    ("Prices rose 3.5 percent in October,\naccording to the statistics office. Markets fell.",
     ["Prices rose 3.5 percent in October,\naccording to the statistics office.", "Markets fell."]),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_split_sentences(text, expected):
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == expected
    for i, s in enumerate(sentences):
        assert s.index == i and text[s.start : s.end] == s.text


def test_split_empty_and_blank():
    assert split_sentences("") == []
    assert split_sentences("\n\n  \n") == []


def test_read_txt_and_jsonl(tmp_path):
    (tmp_path / "a.txt").write_text("One sentence here. Two sentences here.", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "x1", "text": "Hello there."}\n\n{"id": "x2", "text": "Bye now."}\n')
    assert read_file(tmp_path / "a.txt") == [("a", "One sentence here. Two sentences here.")]
    assert read_file(tmp_path / "b.jsonl") == [("x1", "Hello there."), ("x2", "Bye now.")]
    assert find_inputs([tmp_path]) == [tmp_path / "a.txt", tmp_path / "b.jsonl"]


@pytest.mark.parametrize("content,message", [
    (b"\x00\x01\x02binary", "binary file, expected UTF-8 text"),
    (b"caf\xe9 au lait", "not UTF-8 (byte 3); re-save it as UTF-8"),
    (b"   \n", "empty file"),
])
def test_unreadable_txt_names_the_file(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleError) as err:
        read_file(path)
    assert str(err.value) == f"{path}: {message}"


def test_broken_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "text": "Fine."}\n{"id": "b", "text": \n')
    with pytest.raises(ArticleError, match=r"bad.jsonl:2: broken JSON"):
        read_file(path)


def test_missing_input():
    with pytest.raises(ArticleError, match="nope.txt: no such file or folder"):
        find_inputs([Path("nope.txt")])
