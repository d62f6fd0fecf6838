"""Content its owners extend without code: a topic and a platform added as data alone.

The additions (tests/data/new_topic.yaml: `fake_accounts` with six examples, new_platform.yaml:
`tiktok`) and the paraphrases to recognise (new_topic_test.jsonl, new_platform_test.jsonl) were
written by a separate session that never saw the knowledge base or the matcher. The first score,
before anyone looked at the paraphrases, was 0.15 for the topic and 0.65 for the platform; the
misses led to general changes (compounds with the examples' words, particle verbs, common verbs as
function words, and the shared vocabulary's `impersonate` and `report` concepts).

Those two concepts were written after reading the misses, so the topic is also measured from its
examples alone, with them taken out of a copy of the vocabulary: 0.35 before the matcher learnt to
scale up a topic whose examples share few words (cohesion calibration), 0.65 after. A second topic
(new_topic_phishing.yaml, `phishing_messages`: six examples written first, then fifteen paraphrases
written separately, before the matcher was run on them) is a fresh check of the same: 0.00 with the
matcher of the time, 0.20 after (0.27 beside the vocabulary's concepts). From six examples that
share almost no words, paraphrases in other words ("imiterar", "bluffmejl", "upphovsrätten") are
out of reach without a word list of their own: `python -m knowledge check` warns of such a topic,
and words added to vocabulary.yaml close the gap (0.95 for `fake_accounts`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cards.message import card_actions
from knowledge.answers import Composer
from knowledge.evaluation import evaluate, read_examples, same_question
from knowledge.loader import DATA_DIR, load_knowledge_base
from knowledge.matcher import Matcher
from tests.bot_harness import RunningBot, all_text, card_of, submit_values, test_settings
from tests.test_matcher_everyday import ANSWERED_SINCE_ASKED, EVERYDAY

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def append_entry(path: Path, entry: str) -> None:
    """Add one YAML entry (a mapping, as a communicator writes it) to the list in `path`."""
    lines = entry.rstrip("\n").splitlines()
    block = "\n".join(("  - " if i == 0 else "    ") + line if line.strip() else "" for i, line in enumerate(lines))
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + block + "\n", encoding="utf-8")


def copy_with_additions(target: Path, *topics: str) -> Path:
    """The shipped knowledge base with `fake_accounts` and `tiktok` (and `topics`, files under
    tests/data) added as YAML, the way a communicator adds them."""
    shutil.copytree(DATA_DIR, target)
    for name in ("new_topic.yaml", *topics):
        append_entry(target / "topics.yaml", (DATA / name).read_text(encoding="utf-8"))
    append_entry(target / "platforms.yaml", (DATA / "new_platform.yaml").read_text(encoding="utf-8"))
    return target


def without_concepts(data_dir: Path, *ids: str) -> Path:
    """Take concepts out of the copy's vocabulary (the matcher must do without them)."""
    path = data_dir / "vocabulary.yaml"
    vocabulary = yaml.safe_load(path.read_text(encoding="utf-8"))
    vocabulary["concepts"] = [c for c in vocabulary["concepts"] if c["id"] not in ids]
    path.write_text(yaml.safe_dump(vocabulary, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return data_dir


HAND_ADDED = ("impersonate", "report")
"""Concepts written after reading `fake_accounts`'s misses."""


def _check(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge", "--data", str(data_dir), "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> Path:
    """A copy of the knowledge base with `fake_accounts` and `tiktok` added as YAML only."""
    return copy_with_additions(tmp_path_factory.mktemp("kb") / "data")


@pytest.fixture(scope="module")
def matcher(extended) -> Matcher:
    return Matcher(load_knowledge_base(extended))


def test_the_additions_pass_the_check_warning_only_of_out_of_scope_questions_they_answer(extended):
    """The new topic has no asked questions yet: the check lists the out-of-scope questions of
    asked.yaml it answers, with their file and line, for the owner to move or keep; nothing else."""
    result = _check(extended)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 15 topics, 5 platforms")
    warnings = result.stderr.splitlines()
    assert warnings, "asked.yaml's out-of-scope questions about fake accounts are answered now"
    for line in warnings:
        assert "asked.yaml:" in line and "warning: out-of-scope question" in line, line
        assert "is answered by 'fake_accounts'" in line or "is answered by 'tiktok" not in line, line


@pytest.mark.parametrize("paraphrases", ["new_topic_test.jsonl", "new_platform_test.jsonl"])
def test_a_topic_or_platform_added_as_data_is_recognised_in_new_paraphrases(matcher, paraphrases):
    report = evaluate(matcher, read_examples(DATA / paraphrases))
    assert report.accuracy >= 0.85, "\n".join(report.lines())


@pytest.fixture(scope="module")
def examples_only_kb(tmp_path_factory):
    """Both new topics, and the vocabulary without the concepts written for `fake_accounts`."""
    data = copy_with_additions(tmp_path_factory.mktemp("kb") / "data", "new_topic_phishing.yaml")
    return load_knowledge_base(without_concepts(data, *HAND_ADDED))


@pytest.fixture(scope="module")
def examples_only(examples_only_kb) -> Matcher:
    return Matcher(examples_only_kb)


def test_the_examples_only_copy_has_both_topics_and_no_hand_added_concepts(examples_only_kb):
    assert {"fake_accounts", "phishing_messages"} <= {t.id for t in examples_only_kb.topics}
    assert not {c.id for c in examples_only_kb.concepts} & set(HAND_ADDED)


@pytest.mark.parametrize(
    "paraphrases, floor",
    [
        # 0.65; 0.35 before calibration; 0.45 since one example no longer makes a word specific
        # ("impersonating", "fakekonto": each in one example)
        pytest.param("new_topic_test.jsonl", 0.45, id="fake_accounts"),
        pytest.param("new_topic_phishing_test.jsonl", 0.2, id="phishing_messages"),  # 0.20; 0.00 before
    ],
)
def test_a_topic_added_with_examples_alone_recognises_what_it_can(examples_only, paraphrases, floor):
    """The figure from the examples alone: a floor against regressions, not the target."""
    report = evaluate(examples_only, read_examples(DATA / paraphrases))
    assert report.accuracy >= floor, "\n".join(report.lines())


@pytest.mark.xfail(
    strict=True,
    reason="issue 10's 0.8 for a topic from six examples alone is not reached (0.20): "
    "paraphrases in words its examples lack need vocabulary",
)
def test_a_fresh_topic_from_examples_alone_reaches_the_target(examples_only):
    report = evaluate(examples_only, read_examples(DATA / "new_topic_phishing_test.jsonl"))
    assert report.accuracy >= 0.8, "\n".join(report.lines())


def test_a_topic_from_few_examples_is_a_check_warning_with_file_and_line(tmp_path):
    data = without_concepts(copy_with_additions(tmp_path / "data"), *HAND_ADDED)
    result = _check(data)
    assert result.returncode == 0, result.stderr
    warning = next(row for row in result.stderr.splitlines() if "share few words" in row)
    assert warning.startswith(f"{data / 'topics.yaml'}:") and "'fake_accounts'" in warning
    # ...and names the words to give synonyms for (the examples' words no concept covers)
    named = warning.split("does not know yet: ", 1)[1].rstrip(")").split(", ")
    assert {"falskt", "utger", "fejkad", "låtsas"} <= set(named), named
    assert not {"konto", "instagram", "vad"} & set(named)


def test_the_new_topics_do_not_take_everyday_questions(examples_only):
    answered = {q: examples_only.match(q).topic for q in EVERYDAY if examples_only.match(q).topic is not None}
    assert answered == ANSWERED_SINCE_ASKED  # the shipped topics' two, none by the new ones


NEAR_THE_NEW_TOPICS = """
hur anmäler jag mig till kursen i excel
var anmäler jag en skada på min bil
hur sjukanmäler jag mig
vem ska jag anmäla till julfesten
kan jag byta namn på min e-postadress
hur byter jag profilbild i teams
var finns kommunens logga i hög upplösning
hur gör jag en kopia av ett dokument
larmet var falskt i morse
ska jag strunta i uppdateringen av windows
det finns ett fel i min lönespecifikation, vad gör jag
min kollega låtsas vara sjuk
hur skapar jag ett nytt konto i ekonomisystemet
vilken profil ska jag välja i skrivaren
vad gör jag om någon tagit min parkeringsplats
How do I report a broken window in the office?
how do I change my display name in outlook
hur rapporterar jag min arbetstid
vem äger loggan vi använder på affischerna
vi har fått ett falskt brandlarm igen
jag fick ett mejl om nya lönerutiner, var hittar jag dem
hur lägger jag till en länk i min mejlsignatur
kan jag klicka i flera rutor i formuläret
vi fick ett meddelande om att vattnet stängs av i morgon
""".strip().splitlines()
"""Everyday questions with the new topics' words (anmäla, falsk, logga, mejl, länk, meddelande),
written before they were run: a topic learnt from few examples must not take them."""


def test_everyday_questions_with_the_new_topics_words_are_rarely_answered(examples_only):
    """At most one until asked.yaml; with it two, by shipped topics, not the new ones: "ska jag
    strunta i uppdateringen av windows" (why_2fa) and "How do I report a broken window in the
    office?" (recovery_codes)."""
    answered = [q for q in NEAR_THE_NEW_TOPICS if examples_only.match(q).topic is not None]
    assert len(answered) <= 2, answered


def test_the_additions_leave_the_shipped_topics_as_good(matcher):
    report = evaluate(matcher, read_examples(DATA / "blind3.jsonl"))
    assert report.accuracy >= 0.96, "\n".join(report.lines())
    assert report.rejection_rate >= 0.95, "\n".join(report.lines())


def test_a_platform_added_as_data_is_no_longer_another_platform(matcher, extended):
    match = matcher.match("tvåfaktor på tiktok")
    assert (match.topic, match.platforms) == ("enable_2fa", ["tiktok"])
    answer = Composer(load_knowledge_base(extended)).compose(match)
    assert "https://support.tiktok.com/" in [str(link.url) for link in answer.links]


async def test_the_bot_answers_the_new_topic_and_platform_from_a_knowledge_dir(fake_connector, teams, extended):
    bot = await RunningBot(fake_connector, test_settings(KNOWLEDGE_DIR=str(extended))).start()
    try:
        replies = await bot.send(teams.message("någon har gjort ett falskt konto i vårt namn, vad gör jag?"))
        assert "Falska konton" in all_text(replies[0])
        replies = await bot.send(teams.message("hur slår jag på tvåstegsverifiering på tiktok?"))
        urls = [a["url"] for a in card_actions(card_of(replies[0])) if a["type"] == "Action.OpenUrl"]
        assert urls == ["https://support.tiktok.com/"]
        replies = await bot.send(teams.card_submit({"cmd": "ask", "topic": "fake_accounts"}))
        assert "Falska konton" in all_text(replies[0])
        replies = await bot.send(teams.message("hur slår jag på tvåfaktor?"))
        assert {"cmd": "ask", "topic": "enable_2fa", "platform": "tiktok"} in submit_values(replies[0])
    finally:
        await bot.stop()


def test_a_topic_with_too_few_examples_is_refused_with_file_and_line(tmp_path):
    data = copy_with_additions(tmp_path / "data")
    text = (data / "topics.yaml").read_text(encoding="utf-8")
    cut = text.index('  - "Någon har skapat en fejkad Facebooksida i vårt namn"')
    (data / "topics.yaml").write_text(text[:cut], encoding="utf-8")  # two examples left
    result = _check(data)
    assert result.returncode == 1
    line = next(row for row in result.stderr.splitlines() if "examples" in row)
    assert line.startswith(f"{data / 'topics.yaml'}:") and "at least 5" in line


def test_an_example_taken_for_another_topic_is_a_warning_with_file_and_line(tmp_path):
    data = copy_with_additions(tmp_path / "data")
    mixed_up = "Hur slår jag på tvåfaktorsinloggning på Instagram?"
    path = data / "topics.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + f'\n      - "{mixed_up}"\n', encoding="utf-8")
    result = _check(data)
    assert result.returncode == 0, result.stderr
    warning = next(row for row in result.stderr.splitlines() if mixed_up in row)
    number = len(path.read_text(encoding="utf-8").rstrip("\n").splitlines())
    assert warning.startswith(f"{path}:{number}: warning:") and "'enable_2fa'" in warning


def test_a_word_sharing_a_long_beginning_with_an_examples_word_is_related_but_a_guess(examples_only):
    analysis = examples_only.lexicon.analyse_text("någon försöker impersonera oss")
    assert "~impersonating" in analysis.features  # "impersonating" is in an example
    assert "~impersonating" in analysis.guessed  # never the only evidence for a topic


def test_a_sparse_topic_is_scaled_up_only_for_a_question_about_the_domain(examples_only):
    assert {topic for topic, _ in examples_only.sparse_topics()} == {"fake_accounts", "phishing_messages"}
    assert examples_only.match("det finns en falsk profil som heter nästan likadant som vår sida").topic == (
        "fake_accounts"
    )
    assert examples_only.match("larmet var falskt i morse").topic is None


def test_a_word_of_a_topics_own_answer_weighs_less_against_it(tmp_path):
    """blind10's `giveaway_contests` answer says how "vinnaren meddelas"; its examples never say it."""
    matcher = Matcher(load_knowledge_base(with_blind_additions(tmp_path / "data", "blind10")))
    assert matcher.match("Hur meddelar vi vinnaren i en tävling på ett korrekt sätt?").topic == "giveaway_contests"
    assert matcher.match("Hur meddelar jag min chef att jag är sjuk?").topic is None


BLIND_ADDITIONS = {
    # Per set: its new topics from examples alone (first run, then now), the set with them added,
    # and its rejection then. The vocabulary's concepts for the work around the bot's topics
    # (image, video, consent, archive, crisis...; in a second round passwords, sound, events,
    # giveaways, paying, languages, corrections, policies...) lifted them; the first round was
    # written after blind4-8 were read, the second from a list of the work's areas by a session that
    # saw no set, so only blind9's and blind26-33's topics measure them blind.
    "blind4": (0.78, 0.99, 1.0),  # remove access, threats, personal data: 0.53 first, 0.87 in session 4
    "blind5": (0.8, 0.97, 0.95),  # image rights, archiving, accessibility: 0.32 first, 0.80 in session 4
    "blind6": (0.72, 0.96, 0.95),  # image consent, accessibility: 0.25 first, 0.68 in session 4
    "blind7": (0.71, 0.97, 0.95),  # fake accounts, personal data in messages: 0.36 first, 0.67 in session 4
    # political neutrality, pausing scheduled posts: 0.42 first, 0.56 in session 4. With the additions a
    # single shared word answers out-of-scope questions: "fler följare", "vilket parti ska jag
    # rösta på" (political_neutrality), "en story på Instagram" (blind6's accessible_posts).
    "blind8": (0.62, 0.94, 0.92),
    "blind9": (0.77, 0.94, 0.92),  # starting a new account, crisis posting: 0.40 first, 0.73 in session 4
    "blind10": (0.68, 0.94, 0.96),  # giveaways, paid advertising: 0.42 first, 0.56 in session 4
    "blind11": (0.68, 0.94, 0.96),  # paid promotion, response times: 0.69 first, 0.69 in session 4 (0.78 before)
    "blind12": (0.66, 0.95, 0.84),  # retiring an account, correcting a post: 0.51 first, 0.67 in session 4
    "blind13": (0.77, 0.94, 1.0),  # retiring an account, posts in other languages: 0.44 first, 0.80 in session 4
    "blind14": (0.53, 0.96, 0.92),  # account statistics, graphic profile: 0.53 first, 0.64 in session 4
    "blind15": (0.68, 0.98, 1.0),  # live streaming, sharing others' posts: 0.56 first, 0.64 in session 4
    "blind26": (0.66, 0.97, 0.88),  # strong passwords, music in videos: 0.62 first, 0.67 in session 4
    # password management, comment policy: 0.62 first, 0.64 in session 4 (0.69 before). `comment_policy` sits beside
    # moderate_discussion and close_comments: with the additions the set scores 0.81 (0.87 without).
    "blind27": (0.55, 0.9, 0.88),
    "blind28": (0.6, 0.93, 0.96),  # active sessions, media inquiries: 0.69 first, 0.67 in session 4
    "blind29": (0.64, 0.92, 0.92),  # logging in on a shared computer, Facebook events: 0.51 first, 0.53 in session 4
    "blind30": (0.6, 0.96, 0.96),  # the verified badge, AI-made content: 0.62 first, 0.64 in session 4
    "blind31": (0.51, 0.95, 1.0),  # backup administrators, the verified badge: 0.51 first, 0.58 in session 4
    "blind32": (0.44, 0.98, 0.96),  # hashtags, writing tone: 0.47 first, 0.42 in session 4
    "blind33": (0.46, 0.95, 1.0),  # notifications, renaming an account: 0.56 first, 0.56 in session 4
    # reviews of a venue, a private profile as a page's admin: 0.56 first, 0.58 in session 4. With the
    # additions the set scores 0.72 (0.81 without): the private profile takes long 2FA questions.
    "blind34": (0.62, 0.84, 1.0),
    "blind35": (0.6, 0.98, 0.96),  # a private profile as admin, third-party apps: 0.64 first, 0.64 in session 4
    # an authenticator app, blocking a user: 0.33 first, 0.31 in session 4; the app sits inside enable_2fa
    # and what_is_2fa, so with the additions the set scores 0.83 (0.86 without).
    "blind36": (0.37, 0.91, 0.96),
    # influencers, private and work accounts apart: 0.51 first, 0.42 with the third session's last
    # matcher, not read
    "blind37": (0.44, 0.95, 1.0),
    # the first runs of the sets written after the third session's last change, not read
    "blind38": (0.66, 0.9, 0.88),  # misinformation about a unit, training new staff: 0.62
    "blind39": (0.86, 0.91, 0.84),  # voter questions, reporting content to the platform: 0.87, 0.89 in session 4
    "blind40": (0.42, 0.91, 0.92),  # the e-mail and phone tied to an account, election disinformation: 0.58
    # the first runs of the sets written at the fourth session's start, not read
    "blind41": (0.53, 0.94, 0.92),  # how often to post, filtering words in comments: 0.56
    "blind42": (0.68, 0.94, 0.96),  # polls in posts, location tags: 0.69
    # the first runs of the sets written during the fourth session, after its last change, not read
    "blind43": (0.51, 0.93, 0.92),  # fault reports in comments, away messages: 0.49, 0.51 in session 4
    "blind44": (0.51, 0.94, 0.96),  # 2FA on an account colleagues share, hiding or deleting a comment: 0.58
    # written in the fifth session, first runs with asked.yaml (b93c936), not read
    "blind45": (0.55, 0.92, 0.92),  # connecting Instagram to a Facebook page, image sizes: 0.556
    "blind46": (0.57, 0.9, 0.92),  # pinning a post, quoting others' texts: 0.578
    "blind47": (0.62, 0.91, 0.80),  # links in posts, stories: 0.622 on its first run
    "blind48": (0.71, 0.84, 0.92),  # a security key, handing the channel over before leave: 0.711
}
MEET_THE_TARGET = {"blind39"}
"""Sets whose new topics reach issue 10's 0.85 from their examples alone: blind39 (0.867) on its first
run, as now. blind4 reached 0.87 after its misses were read; since the matcher learns from asked.yaml
it is at 0.78 (the other topics' thousands of asked questions know more of the words)."""
"""Topics (and for blind4 and blind8-11 a platform: YouTube, Snapchat, Pinterest, Twitch, Threads)
from the writers of the blind sets, who never saw the knowledge base (tests/data/blind*/README.md):
per set, the floor for its topics' new paraphrases from their examples alone (against regressions;
the target is 0.85), and the floors for the set's own questions and its out-of-scope rejection
once they are added. Fifth session: the floors are the figures with asked.yaml (the set's own
questions left out of it), new topics 0.38-0.87 (mean 0.619, 0.645 before asked.yaml), the sets with
their additions 0.847-0.994 (0.70-0.93 before)."""


def with_blind_additions(target: Path, name: str) -> Path:
    """The shipped knowledge base with a blind set's new topics (and platform) added as YAML, and
    without the set's own questions in asked.yaml (it is scored as a set the matcher never saw)."""
    folder = DATA / name
    shutil.copytree(DATA_DIR, target)
    own = {same_question(e.q) for e in read_examples(folder / f"{name}.jsonl")}
    asked_file = target / "asked.yaml"
    asked = yaml.safe_load(asked_file.read_text(encoding="utf-8"))
    asked["asked"] = {
        key: [q for q in questions if same_question(q) not in own] for key, questions in asked["asked"].items()
    }
    asked_file.write_text(yaml.safe_dump(asked, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for topic in yaml.safe_load((folder / "new_topics.yaml").read_text(encoding="utf-8")):
        append_entry(target / "topics.yaml", yaml.safe_dump(topic, allow_unicode=True, sort_keys=False))
    if (folder / "new_platform.yaml").exists():
        append_entry(target / "platforms.yaml", (folder / "new_platform.yaml").read_text(encoding="utf-8"))
    return target


@pytest.fixture(scope="module", params=sorted(BLIND_ADDITIONS))
def blind_additions(request, tmp_path_factory) -> tuple[str, Matcher]:
    data = with_blind_additions(tmp_path_factory.mktemp("kb") / "data", request.param)
    result = _check(data)
    assert result.returncode == 0, result.stderr
    return request.param, Matcher(load_knowledge_base(data))


# First runs: YouTube and Snapchat 1.00, Pinterest 0.80 (the mechanism in other words; 0.93 now),
# Twitch 0.93, Threads 0.87
@pytest.mark.parametrize("name", ["blind4", "blind8", "blind9", "blind10", "blind11"])
def test_a_platform_from_a_writer_who_never_saw_the_knowledge_base_is_recognised(tmp_path, name):
    matcher = Matcher(load_knowledge_base(with_blind_additions(tmp_path / "data", name)))
    report = evaluate(matcher, read_examples(DATA / name / "new_platform_test.jsonl"))
    assert report.accuracy >= 0.85, "\n".join(report.lines())


def test_topics_from_a_writer_who_never_saw_the_knowledge_base_recognise_what_they_can(blind_additions):
    """A floor against regressions, not the target: paraphrases in words the examples lack
    ("textning", "WCAG", "stock photos") need vocabulary."""
    name, matcher = blind_additions
    report = evaluate(matcher, read_examples(DATA / name / "new_topics_test.jsonl"))
    assert report.accuracy >= BLIND_ADDITIONS[name][0], "\n".join(report.lines())


@pytest.mark.xfail(strict=True, reason="topics from six examples each: 0.44-0.80 of new paraphrases, not 0.85")
def test_topics_from_a_writer_who_never_saw_the_knowledge_base_reach_the_target(blind_additions):
    name, matcher = blind_additions
    if name in MEET_THE_TARGET:
        pytest.skip("reaches the target: held by the floor of the test above")
    assert evaluate(matcher, read_examples(DATA / name / "new_topics_test.jsonl")).accuracy >= 0.85


def test_a_blind_sets_additions_leave_the_shipped_topics_as_good(blind_additions):
    name, matcher = blind_additions
    report = evaluate(matcher, read_examples(DATA / name / f"{name}.jsonl"))
    assert report.accuracy >= BLIND_ADDITIONS[name][1], "\n".join(report.lines())
    assert report.rejection_rate >= BLIND_ADDITIONS[name][2], "\n".join(report.lines())


def test_a_sparse_topics_boost_never_lifts_it_past_a_topic_that_scored_higher(tmp_path):
    """blind36's `authenticator_app` was added with six examples of codes, sms and logging in; its
    boost (for examples that share few words) took how to turn 2FA on. The boost may lift a topic
    to an answer, not past one that scored higher without it."""
    matcher = Matcher(load_knowledge_base(with_blind_additions(tmp_path / "data", "blind36")))
    match = matcher.match("How do I turn on two-factor login for our Facebook page?")
    assert match.topic == "enable_2fa", match
    assert matcher.match("Kan jag logga in med en app i stället för att få koden på sms?").topic == "authenticator_app"


def with_example(target: Path, topic: str, example: str) -> Path:
    """A copy of the shipped knowledge base with one more example for `topic`, written into its
    `examples:` list the way a communicator adds one."""
    shutil.copytree(DATA_DIR, target)
    path = target / "topics.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"  - id: {topic}")
    at = next(i for i in range(start, len(lines)) if lines[i].strip() == "examples:") + 1
    lines.insert(at, f"      - {example}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


@pytest.mark.parametrize(
    "question, topic",
    [
        ("Kan man dela upp bevakningen av kontot mellan flera kollegor med ett schema?", "monitor_channel"),
        (
            "Måste bevakningen skötas av samma person som administrerar kontot, "
            "eller kan ansvaret delas mellan flera medarbetare?",
            "monitor_channel",
        ),
        ("vad innebär tvåfaktorsautentisering för oss som delar på ett konto", "what_is_2fa"),
    ],
)
def test_a_word_one_new_example_happens_to_use_does_not_take_other_questions(tmp_path, question, topic):
    """An example added to account_hijacked says "delar" (shares) in passing. One example is not
    evidence that the word is specific to that topic, so questions about sharing the watch, or 2FA
    on a shared account, keep their topics (they fell out of scope when a word from one example
    weighed like a term a topic's examples share)."""
    data = with_example(tmp_path / "data", "account_hijacked", "Vår sida delar plötsligt reklam för kryptovaluta")
    matcher = Matcher(load_knowledge_base(data))
    assert matcher.match("Vår sida delar plötsligt reklam för kryptovaluta, är vi kapade?").topic == "account_hijacked"
    assert matcher.match(question).topic == topic, matcher.match(question)


@pytest.mark.parametrize(
    "name, question, topic",
    [
        ("blind13", "Ska vi avpublicera eller radera sidan direkt?", "avveckla_konto"),
        ("blind5", "stock photos från typ Unsplash, är det ok att köra i stadens kanaler?", "image_rights"),
        ("blind14", "Vi vill byta namn på sidan efter omorganisationen, vad gäller då?", "graphic_profile"),
    ],
)
def test_a_topic_with_few_examples_learns_from_its_answer_too(tmp_path, name, question, topic):
    """A topic added with a handful of examples also learns from its answer, sentence by sentence:
    blind13's answer says "avpublicera", blind5's speaks of image banks, blind14's of an account's
    name; none of their examples does. (Fifth session: blind31's "bock" and blind14's "emoji i
    kontots namn" were taken over by the questions asked.yaml holds, "varför..." by why_2fa.)"""
    matcher = Matcher(load_knowledge_base(with_blind_additions(tmp_path / "data", name)))
    assert matcher.match(question).topic == topic, matcher.match(question)
