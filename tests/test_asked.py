"""asked.yaml: questions people asked, filed under the topic that answers them or as out of scope.
The matcher learns from them; a communicator teaches it a wording by adding a line (data only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from knowledge.loader import DATA_DIR, KnowledgeBaseError, asked_lines, load_knowledge_base
from knowledge.matcher import ANSWER_THRESHOLD, Matcher, matcher_for
from knowledge.models import OUT_OF_SCOPE
from tests.bot_harness import RunningBot, all_text, test_settings
from tests.test_new_content import _check, append_entry

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _file(data_dir: Path, key: str, *questions: str) -> None:
    """Add questions under `key` of the copy's asked.yaml, the way a communicator would."""
    path = data_dir / "asked.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index(f"  {key}:") + 1
    lines[at:at] = [f'    - "{q}"' for q in questions]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    return Matcher(load_knowledge_base())


def test_the_shipped_asked_questions_are_filed_under_topics_and_out_of_scope():
    kb = load_knowledge_base()
    assert set(kb.asked) == {t.id for t in kb.topics} | {OUT_OF_SCOPE}
    assert sum(len(qs) for qs in kb.asked.values()) > 4000
    assert len(kb.asked[OUT_OF_SCOPE]) > 500


def test_a_question_filed_under_a_topic_teaches_the_matcher_its_words(tmp_path, shipped):
    """Slang no vocabulary has ("pallat": stolen) is learnt from two asked questions, and then
    recognised in other wordings."""
    assert shipped.match("någon har pallat vår facebooksida").topic is None
    assert shipped.match("kontot är pallat").topic is None
    data = _copy(tmp_path)
    _file(data, "account_hijacked", "Någon har pallat vårt konto", "vår instagram är pallat, vad gör vi")
    taught = Matcher(load_knowledge_base(data))
    assert taught.match("någon har pallat vår facebooksida").topic == "account_hijacked"
    assert taught.match("kontot är pallat").topic == "account_hijacked"
    assert taught.match("någon har norpat vårt konto").topic is None  # a word it was not taught


def test_a_question_filed_as_out_of_scope_is_no_longer_answered_nor_its_like(tmp_path, shipped):
    """One of the two everyday questions the matcher answers since it learns from asked.yaml
    (tests/test_matcher_everyday.py): filed as out of scope, it and a rewording are not answered."""
    assert shipped.match("datorn är jätteseg, kan du fixa den").topic == "enable_2fa"
    assert shipped.match("datorn har blivit seg, kan du fixa det").topic == "enable_2fa"
    data = _copy(tmp_path)
    _file(data, OUT_OF_SCOPE, "datorn är jätteseg, kan du fixa den")
    taught = Matcher(load_knowledge_base(data))
    for question in ("datorn är jätteseg, kan du fixa den", "datorn har blivit seg, kan du fixa det"):
        match = taught.match(question)
        # not answered; 2FA is close enough to be offered back ("Menade du…?", "Ingen av dem")
        assert match.topic is None and match.score < ANSWER_THRESHOLD, match
    assert taught.match("hur slår jag på tvåfaktor från datorn?").topic == "enable_2fa"


def test_a_word_only_out_of_scope_questions_use_counts_against_the_topics(shipped):
    """ "omröstning" is known only from out-of-scope questions: beside a platform it is not 2FA
    there (a platform alone is)."""
    assert shipped.match("Hur gör jag en omröstning på LinkedIn?").topic is None
    assert shipped.match("hur gör jag på LinkedIn?").topic == "enable_2fa"


def test_a_question_said_exactly_as_an_example_is_its_topic(shipped):
    """Many asked questions ask what two-factor login is; the examples say "Tvåfaktorsinloggning"
    alone is turning it on."""
    assert shipped.match("tvåfaktor").topic == "enable_2fa"
    assert shipped.match("vad är tvåfaktor?").topic == "what_is_2fa"


def test_nearest_an_out_of_scope_question_a_plausible_topic_is_still_offered(shipped):
    """Issue 10's "spara" is not "spärra": out of scope, with the comment topics offered back."""
    match = shipped.match("hur länge ska vi spara raderade kommentarer")
    assert match.topic is None and match.near_miss
    assert "close_comments" not in [c.topic for c in match.candidates][:1]
    assert OUT_OF_SCOPE not in [c.topic for c in match.candidates]


def test_a_new_topic_is_not_overruled_and_check_lists_the_out_of_scope_questions_it_answers(tmp_path):
    data = _copy(tmp_path)
    append_entry(data / "topics.yaml", (DATA / "new_topic.yaml").read_text(encoding="utf-8"))
    _file(data, OUT_OF_SCOPE, "Det finns ett falskt konto som utger sig för att vara vår förskola")
    matcher = Matcher(load_knowledge_base(data))
    assert ("Det finns ett falskt konto som utger sig för att vara vår förskola", "fake_accounts") in (
        matcher.taken_from_outside
    )
    assert matcher.match("Det finns ett falskt konto som utger sig för att vara vår förskola").topic == (
        "fake_accounts"
    )
    result = _check(data)
    assert result.returncode == 0, result.stderr
    line = asked_lines(data)["Det finns ett falskt konto som utger sig för att vara vår förskola"].line
    assert (
        f"asked.yaml:{line}: warning: out-of-scope question 'Det finns ett falskt konto som utger sig för att "
        "vara vår förskola' is answered by 'fake_accounts'"
    ) in result.stderr


def test_asked_questions_under_an_unknown_topic_fail_with_file_line_and_reason(tmp_path):
    data = _copy(tmp_path)
    path = data / "asked.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  fake_acounts:\n    - Ett falskt konto\n", encoding="utf-8")
    line = len(path.read_text(encoding="utf-8").splitlines()) - 1
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(data)
    (problem,) = raised.value.problems
    assert problem.file == path and problem.line == line
    assert "fake_acounts" in problem.reason and "no topic has this id" in problem.reason
    result = _check(data)
    assert result.returncode == 1 and f"asked.yaml:{line}: asked.fake_acounts" in result.stderr


def test_an_empty_asked_question_fails_with_file_and_line(tmp_path):
    data = _copy(tmp_path)
    _file(data, "thanks", "")
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(data)
    (problem,) = raised.value.problems
    assert problem.file == data / "asked.yaml" and "at least 1 character" in problem.reason
    assert problem.line == asked_lines(data)[""].line


def test_a_topic_may_not_be_called_out_of_scope(tmp_path):
    data = _copy(tmp_path)
    topic = yaml.safe_load((DATA / "new_topic.yaml").read_text(encoding="utf-8"))
    topic["id"] = OUT_OF_SCOPE
    append_entry(data / "topics.yaml", yaml.safe_dump(topic, allow_unicode=True, sort_keys=False))
    with pytest.raises(KnowledgeBaseError, match="kept for the questions the bot should not answer"):
        load_knowledge_base(data)


def test_a_knowledge_base_without_asked_yaml_still_loads_and_matches(tmp_path):
    data = _copy(tmp_path)
    (data / "asked.yaml").unlink()
    kb = load_knowledge_base(data)
    assert kb.asked == {}
    assert Matcher(kb).match("hur slår jag på tvåfaktor på instagram").topic == "enable_2fa"


def test_one_matcher_is_built_per_knowledge_base_content():
    kb = load_knowledge_base()
    assert matcher_for(kb) is matcher_for(load_knowledge_base())
    other = kb.model_copy(update={"asked": {**kb.asked, "thanks": [*kb.asked["thanks"], "tusen tack ska du ha"]}})
    assert matcher_for(other) is not matcher_for(kb)


async def test_the_bot_answers_a_wording_taught_in_asked_yaml(fake_connector, teams, tmp_path):
    data = _copy(tmp_path)
    _file(data, "account_hijacked", "Någon har pallat vårt konto", "vår instagram är pallat, vad gör vi")
    bot = await RunningBot(fake_connector, test_settings(KNOWLEDGE_DIR=str(data))).start()
    try:
        replies = await bot.send(teams.message("någon har pallat vår facebooksida"))
        assert len(replies) == 1
        assert "tagit över" in all_text(replies[0]).lower() or "kapat" in all_text(replies[0]).lower()
    finally:
        await bot.stop()
