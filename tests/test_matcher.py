"""The matcher, without the SDK: accuracy, generalisation, platform extraction, robustness."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.evaluation import Example, Report, evaluate, is_right, read_examples
from knowledge.evaluation import same_question as _key
from knowledge.loader import load_knowledge_base
from knowledge.matcher import ANSWER_THRESHOLD, NEAR_MISS_THRESHOLD, Matcher, _own_texts
from knowledge.models import KnowledgeBase, Topic
from knowledge.text import normalise, without_signature

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = next(
    (d / "shared" / "eval" / "dev.jsonl" for d in ROOT.parents if (d / "shared" / "eval" / "dev.jsonl").exists()),
    ROOT.parent / "shared" / "eval" / "dev.jsonl",
)
"""DESIGN.md's `../shared/eval/dev.jsonl`, found from a git worktree too."""
DATA = ROOT / "tests" / "data"


def blind_set(number: int) -> Path:
    """The questions of blind set N, from blind4 on (tests/data/blindN/blindN.jsonl, beside its README
    and first run)."""
    return DATA / f"blind{number}" / f"blind{number}.jsonl"


HELD_OUT = DATA / "heldout.jsonl"
BLIND = DATA / "blind.jsonl"
"""Written by a separate session that saw only the guide and the topic table, never the knowledge
base or the matcher; its first score was 0.925 (rejection 1.0), and the misses led to general
vocabulary fixes (e.g. "sätta upp", "inloggningsmetod", "koll på"), not to copied sentences."""
BLIND2 = DATA / "blind2.jsonl"
"""A second blind set (100 questions, other kinds of writers) by another separate session, after
all other tuning: first score 0.95 (rejection 1.0); its five misses led to general additions
("what exactly is", "caution", "fått tillgång", "what can this bot do")."""
BLIND3 = DATA / "blind3.jsonl"
"""A third blind set (150 questions) by another separate session, scored first with the matcher that
learns from examples before anyone looked at it: 0.847 (rejection 0.92); its misses led to general
additions (particle verbs with the subject inside, "extra kod vid inloggning", common verbs as
function words, small talk's words not counting against a question)."""

BLIND4 = blind_set(4)
"""A fourth blind set (160 questions, tests/data/blind4/README.md), scored first before anyone looked
at it: 0.887 with lemmas in front of the stemmer (since dropped), 0.894 without (rejection 1.0);
after reading its misses (general vocabulary: "krävs en kod", "låsa", "valår", "utsatt",
"kommentering", "keeping an eye"; two election_risk examples on the guide's own point that hijacking
is likelier in election time) 0.944, and 0.963 after blind5's first run (below)."""
BLIND5 = blind_set(5)
"""A fifth blind set (120 questions by five kinds of writer, tests/data/blind5/README.md), scored
first with the matcher tuned on blind4: 0.875 (rejection 1.0). Its misses led to a general rule
(a question that says one of a topic's examples in full, with words around it, is answered from
it: `CONTAINED_SCORE`), the city's units as context words ("rektor", "skolans", "biblioteket"),
two enable_2fa examples in the words people use for the mechanism ("krävs en sms-kod när
någon loggar in"), and enable_2fa's `signals: {platform: 0.05}` (naming a platform is a little
evidence for the one topic answered per platform): 0.967."""

BLIND6 = blind_set(6)
"""A sixth blind set (150 questions, a help channel's inbox before an election,
tests/data/blind6/README.md), scored first with the matcher tuned on blind4 and blind5: 0.933
(rejection 0.957). Its misses led to general phrases ("2 stegs", "nätetikett", a login from
another country, a changed e-mail address), English contraction remnants ("I'd" -> "d") as
function words, and one what_is_2fa example ("Är tvåfaktor samma sak som ett extra lösenord?",
asked in blind4, blind5 and blind6 alike): 0.953."""

BLIND7 = blind_set(7)
"""A seventh blind set (150 questions, a new kind of inbox: housing, culture, sports, youth, social
services, energy; tests/data/blind7/README.md), scored first with the matcher tuned on blind4-6:
0.813 (rejection 1.0), all its misses unanswered rather than wrong. Its misses led to general
vocabulary (synonyms and phrases in ten concepts: "kommer inte fram", "det var inte jag", "lägga
sig i", "glåpord", "skillnad", "vrf", "loggat in", "påverka", politicians), more chat filler as
function words ("räcker", "känns", "ngn", "actually") and the bot's own name as capabilities:
0.953; no other set lost a question."""

BLIND8 = blind_set(8)
"""An eighth blind set (150 questions: schools, care, the press office, a port, public transport,
interns, IT support; fragments and descriptions without the right terms; tests/data/blind8/README.md),
scored first with the matcher tuned on blind4-7: 0.893 (rejection 1.0). Its misses led to general
vocabulary ("tagit sig in", "obehörig person", "bytt mobil", "varningar", "särskilt känslig"),
politics split from voting (a party is not a polling station) and more function words ("hen",
"längre", "istället", "kring"): 0.927."""

BLIND9 = blind_set(9)
"""A ninth blind set (150 questions: metaphors, descriptions without the terms, context first, simple
Swedish, English only; tests/data/blind9/README.md), scored first with the matcher tuned on blind4-8
and the vocabulary's concepts for the work around the bot's topics: 0.853 (rejection 0.96). Its
misses led to the 2FA mechanism in everyday words ("kod på telefonen", "sms med kod", "det andra
steget"), a login alert and a password that stopped working as signs of hijacking, "fula ord",
"skäl", "har du koll på", and numbers, seasons and common verbs ("läser", "förstår") as function
words: 0.947; blind7 reached 0.960 with them."""

BLIND10 = blind_set(10)
BLIND11 = blind_set(11)
"""The tenth and eleventh blind sets, written side by side (symptoms, dialect and bare keywords;
panic, follow-ups without context, jargon and questions in the negative; tests/data/blind10/ and
blind11/README.md), scored first with the matcher tuned on blind4-9: 0.840 (rejection 0.96) and
0.800 (1.0). Their misses led to porn as inappropriate, months and "hur lång tid" as when-words,
"okänd person", "i fel händer", a login from abroad and all posts deleted as signs of hijacking,
new or used-up codes, a cancelled number, "kika", "uppsikt", "hålla sig till saken", what people
ask the bot about itself ("what kind of questions", "kan du något annat"), more function words
("o", "extra", "emot", "plötsligt"), and a phrase inside a longer one no longer found again ("har
du koll på" is not also "koll på"): 0.893 and 0.880; after blind12's and blind13's, 0.893 and 0.893."""

BLIND12 = blind_set(12)
BLIND13 = blind_set(13)
"""The twelfth and thirteenth blind sets, written side by side (the ordinary help-channel inbox;
Gothenburg's own units, places and slang; tests/data/blind12/ and blind13/README.md), scored first
with the matcher tuned on blind4-11: 0.920 (rejection 0.96) and 0.873 (1.0). Their misses led to
more signs of hijacking (logged out, an unknown admin, a password change nobody made, "kan inte
logga in"), provocation as rude, ignoring as moderation, a phone holder on sick leave, "vem skulle
vilja", more function words ("ba", "asså", "tänka", "känner"): 0.967 and 0.887."""

BLIND14 = blind_set(14)
BLIND15 = blind_set(15)
"""The fourteenth and fifteenth blind sets, written side by side (staff running an account on the
side; professional communicators; tests/data/blind14/ and blind15/README.md), scored first with the
matcher tuned on blind4-13: 0.887 (rejection 1.0) and 0.907 (0.96). Their misses led to a new phone
as a lost one ("fått ny mobil"), more signs of hijacking (strange links and accounts, a password or
profile picture changed by nobody here, taking back control), lies as rude, "hätsk", evenings and
weekends as keeping watch, a shared folder or password manager as storing, intensifiers as the
first part of a compound ("jättebråk", "superadmin"): 0.920 and 0.967. Dropped: "skillnad" as a
what-word (with a platform it answered "Vad är skillnaden mellan en Facebookgrupp och en
Facebooksida?" as 2FA there) and an election_date example with "röstar" (voting questions were then
answered)."""

BLIND16 = blind_set(16)
BLIND17 = blind_set(17)
"""The sixteenth and seventeenth blind sets, written side by side (a help channel's ordinary week; a
workshop's questions typed in; tests/data/blind16/ and blind17/README.md), scored first with the
matcher tuned on blind4-15: 0.913 (rejection 0.92) and 0.940 (1.0). Their misses led to a changed
e-mail address, being removed as admin, spam sent from the account, "inte av oss" as signs of
hijacking, removing the comment function as closing, worry as care, likelihood as risk, "godmorgon",
and joining phrases ("nu när", "i och med att") as context words, so "nu när det är valår" is not a
question about when: 0.967 and 0.967."""

BLIND18 = blind_set(18)
BLIND19 = blind_set(19)
"""The eighteenth and nineteenth blind sets, written side by side (a month of a help channel's
questions as they came; five kinds of worried staff; tests/data/blind18/ and blind19/README.md),
scored first with the matcher tuned on blind4-17: 0.927 and 0.860 (rejection 0.96 both). Their
misses led to English words of hacking, care and fighting, a new number, "inte längre admin",
"känslig för", a new page or account as create (so "Hur gör jag en ny Facebooksida?" is no longer
2FA there, nor "Can we start a TikTok account?" the bot's menu), routines as advice, "vad du kan",
and a few function words ("massor", "dom", "lyckas"): 0.947 and 0.933."""

BLIND20 = blind_set(20)
BLIND21 = blind_set(21)
"""The twentieth and twenty-first blind sets, written side by side (the bot's first week in Teams;
a housing company, the traffic office, a theatre, a swimming hall and the city archive;
tests/data/blind20/ and blind21/README.md), scored first with the matcher tuned on blind4-19:
0.913 (rejection 0.92) and 0.960 (1.0), the first blind set at the target on its first run.
blind20's misses then led to an office not being an account ("kontoret"), the blue verification
badge as its own concept (not 2FA), "okänt land", "utan att vi gjort det", "tänka annorlunda",
"personligen": 0.953 (rejection 0.96); blind18 0.960, blind19 0.947."""

BLIND22 = blind_set(22)
BLIND23 = blind_set(23)
"""The twenty-second and twenty-third blind sets (care, social services, environment and planning;
a seminar's sticky notes; tests/data/blind22/ and blind23/README.md), scored with the matcher tuned
on blind4-20 and not read since: 0.940 and 0.960 (rejection 0.96 both)."""

BLIND24 = blind_set(24)
BLIND25 = blind_set(25)
"""The twenty-fourth and twenty-fifth blind sets (schools and preschools; culture and leisure;
tests/data/blind24/ and blind25/README.md), scored with the same matcher as blind22 and blind23 and
not read since: 0.953 (rejection 0.96) and 0.900 (1.0)."""

BLIND26 = blind_set(26)
BLIND27 = blind_set(27)
"""The twenty-sixth and twenty-seventh blind sets (school and preschool staff typing on their phones;
tickets from the IT service desk and managers' formal, long messages; tests/data/blind26/ and
blind27/README.md), scored with the matcher tuned on blind3-21: 0.920 and 0.813 (rejection 0.96
both). Their misses led to a message's framing as context (who passes it on, their role, "Bakgrund:",
"rent praktiskt"), an abbreviation's colon ending dropped ("sms:et"), a question measured by its four
weightiest words, and a few words: 0.947 and 0.887 (0.96 both)."""

BLIND28 = blind_set(28)
BLIND29 = blind_set(29)
"""The twenty-eighth and twenty-ninth blind sets (an ordinary week in the editors' help channel;
care, social services, libraries, culture and sports staff who describe their screens in their own
words; tests/data/blind28/ and blind29/README.md), scored with the matcher tuned on blind3-21, 26
and 27: 0.880 (rejection 1.0) and 0.833 (0.96); the matcher of the session's start scored them
0.867 and 0.820. Their misses led to quotes from the guide and a letter's greetings and signature
as framing, what is on the screen as context, and words for what could happen, a hijacker, angry
comments: 0.893 and 0.900."""

BLIND30 = blind_set(30)
BLIND31 = blind_set(31)
"""The thirtieth and thirty-first blind sets (the municipal companies' marketers and customer
service; the last week before an election; tests/data/blind30/ and blind31/README.md), scored with
the matcher tuned on blind3-21 and 26-29: 0.900 (rejection 1.0) and 0.853 (0.84); 0.907 and 0.860
counted as the bot answers several platforms. The session's starting matcher: 0.887 and 0.840.
After their misses were read: 0.927 and 0.907 (0.88)."""

BLIND34 = blind_set(34)
BLIND35 = blind_set(35)
BLIND36 = blind_set(36)
BLIND37 = blind_set(37)
"""The thirty-fourth to thirty-seventh blind sets, written side by side at the third session's start
(culture staff's long, chatty messages with a story before the question; terse one-liners typed on
a phone; elderly-care and social-services staff who seldom use social media; summer workers and
trainees with slang, emojis and English; tests/data/blind34/ to blind37/README.md), scored first
with the second session's last matcher (7d9713e): 0.747, 0.900, 0.807 and 0.907 (rejection 0.96,
0.92, 0.92, 1.0). blind34-36 were read; their misses led to a long message's questions read alone
too, a sparse topic's boost that never lifts it past a topic that scored higher, a typed @mention
as an address, possessives inside phrases ("bytt vår profilbild"), long words typed with some of
their å/ä/ö, and English and everyday Swedish words from two helpers who saw no question set: 0.807,
0.953 and 0.860. blind37 was not read: 0.913 with the session's last matcher."""

BLIND38 = blind_set(38)
BLIND39 = blind_set(39)
BLIND40 = blind_set(40)
"""The thirty-eighth to fortieth blind sets, written side by side after the third session's last
matcher change (managers and unit heads; a Teams help channel where the bot is @mentioned;
technically minded staff; tests/data/blind38/ to blind40/README.md), scored on their first run and
not read: 0.900, 0.927 and 0.887 (rejection 0.96, 0.88, 0.92); the session's starting matcher
scored them 0.880, 0.920 and 0.873, its last 0.893 (0.92), 0.933 and 0.880. blind38 and blind40
were read in the fourth session: 0.927 (0.88) and 0.913 (0.92); blind39 still not read."""

BLIND41 = blind_set(41)
BLIND42 = blind_set(42)
"""The forty-first and forty-second blind sets, written side by side at the fourth session's start
(a large administration's ordinary autumn inbox; staff writing today, in late 2026, who know the
guide is from 2019; tests/data/blind41/ and blind42/README.md), scored on their first run and not
read: 0.933 and 0.873 (rejection 0.96, 0.92)."""

BLIND43 = blind_set(43)
BLIND44 = blind_set(44)
BLIND45 = blind_set(45)
BLIND46 = blind_set(46)
"""Written in the fifth session after the matcher began learning from asked.yaml (not in it), and
scored on their first run (b93c936): 0.947 (rejection 1.0) and 0.900 (0.92); the session's
starting matcher scored them 0.913 (0.92) and 0.933 (0.96). Not read."""
BLIND47 = blind_set(47)
BLIND48 = blind_set(48)
"""Written in the sixth session (staff on the move typing on a phone; careful, wordy writers who avoid
the obvious keywords), not in asked.yaml, scored on their first run (fc0f3b2): 0.940 (rejection
0.96) and 0.860 (0.96), the same as the session's starting matcher (13c5326). Not read."""
"""The forty-third and forty-fourth blind sets, written side by side during the fourth session and
scored after its last change (staff of the technical and service administrations describing what
they see; a mix of everyone, each asking in their own way; tests/data/blind43/ and
blind44/README.md), on their first run and not read: 0.860 and 0.920 (rejection 0.92, 0.96); the
session's starting matcher scored them 0.860 and 0.913."""

BLIND32 = blind_set(32)
BLIND33 = blind_set(33)
"""The thirty-second and thirty-third blind sets (people new to the job; an international and
bilingual crowd, half in English; tests/data/blind32/ and blind33/README.md), written after the
second session's last matcher change: 0.913 and 0.867 (rejection 1.0 both); the session's starting
matcher scored them 0.887 and 0.860. Read in the third session: 0.920 and 0.927."""


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


@pytest.fixture(scope="module")
def matcher(kb):
    return Matcher(kb)


ASKED_FROM = [BLIND, BLIND2, BLIND3, *(blind_set(n) for n in (*range(4, 21), *range(25, 39), 40))]
"""The sets whose questions knowledge/data/asked.yaml holds (its header names them): the matcher has
learnt from them, so each is scored by a matcher that learnt without its questions, as a set no one
has seen. The dev set, the held-out set and blind21-24, 39 and 41-46 are not in it."""

_REPORTS: dict[Path, Report] = {}


def asked_without(kb: KnowledgeBase, path: Path) -> dict[str, list[str]]:
    """asked.yaml without the questions of `path`."""
    questions = {_key(e.q) for e in read_examples(path)}
    return {key: [q for q in qs if _key(q) not in questions] for key, qs in kb.asked.items()}


def unseen_report(matcher: Matcher, path: Path) -> Report:
    """`path` scored by a matcher that has never seen its questions: the shipped one, or, for a set
    asked.yaml learnt from, one that learnt from asked.yaml without them (the report is kept, the
    matcher is not: each holds thousands of questions)."""
    if path not in ASKED_FROM:
        return evaluate(matcher, read_examples(path))
    if path not in _REPORTS:
        kb = load_knowledge_base()
        without = Matcher(kb.model_copy(update={"asked": asked_without(kb, path)}))
        _REPORTS[path] = evaluate(without, read_examples(path))
    return _REPORTS[path]


def test_the_sets_scored_as_unseen_share_no_question_with_asked_yaml(kb):
    """The figures are for questions the matcher never learnt from: asked.yaml holds none of the dev
    set's, the held-out set's or the unread blind sets' questions, and every set it learnt from is
    scored without its own."""
    asked = {_key(q) for qs in kb.asked.values() for q in qs}
    for path in [DEV_SET, HELD_OUT, *(blind_set(n) for n in (21, 22, 23, 24, 39, 41, 42, 43, 44, 45, 46, 47, 48))]:
        assert not {_key(e.q) for e in read_examples(path)} & asked, path
    for path in ASKED_FROM:
        assert {_key(e.q) for e in read_examples(path)} & asked, path  # so it is scored without them


def test_dev_set_accuracy_and_out_of_scope_rejection_meet_the_bar(matcher):
    report = evaluate(matcher, read_examples(DEV_SET))
    assert report.accuracy >= 0.96, "\n".join(report.lines())
    assert report.rejection_rate >= 0.95, "\n".join(report.lines())


AT_THE_TARGET = [
    pytest.param(HELD_OUT, id="held-out"),
    pytest.param(BLIND, id="blind"),
    pytest.param(BLIND3, id="blind3"),
    pytest.param(BLIND4, id="blind4"),
    pytest.param(BLIND5, id="blind5"),
    pytest.param(BLIND6, id="blind6"),
    pytest.param(BLIND7, id="blind7"),
    pytest.param(BLIND8, id="blind8"),
    pytest.param(BLIND9, id="blind9"),
    pytest.param(BLIND14, id="blind14"),
    pytest.param(BLIND15, id="blind15"),
    pytest.param(BLIND16, id="blind16"),
    pytest.param(BLIND17, id="blind17"),
    pytest.param(BLIND18, id="blind18"),
    pytest.param(BLIND19, id="blind19"),
    pytest.param(BLIND20, id="blind20"),
    pytest.param(BLIND26, id="blind26"),
    pytest.param(BLIND28, id="blind28"),
    pytest.param(BLIND31, id="blind31"),
    pytest.param(BLIND32, id="blind32"),
    pytest.param(BLIND35, id="blind35"),
    pytest.param(BLIND37, id="blind37"),
    # Never read, and not in asked.yaml.
    pytest.param(BLIND21, id="blind21"),
    pytest.param(BLIND22, id="blind22"),
    pytest.param(BLIND23, id="blind23"),
    pytest.param(BLIND24, id="blind24"),
    pytest.param(BLIND41, id="blind41"),
    pytest.param(BLIND39, id="blind39"),  # since the bot's name says nothing of the topic (sixth session)
    pytest.param(BLIND44, id="blind44"),  # since a locked account is not closed comments (sixth session)
]
"""The sets at issue 10's target (0.96 top-1, 0.95 rejection) as a matcher that never saw them scores
them (`unseen_report`): each asked.yaml set by a matcher that learnt from all the others."""


@pytest.mark.parametrize("path", AT_THE_TARGET)
def test_questions_worded_differently_from_the_dev_set_do_as_well(matcher, path):
    report = unseen_report(matcher, path)
    assert report.accuracy >= 0.96, "\n".join(report.lines())
    assert report.rejection_rate >= 0.95, "\n".join(report.lines())


@pytest.mark.parametrize(
    "question, topic",
    [
        pytest.param(
            "det publiceras inlägg från vårt konto som vi inte har skrivit",
            "account_hijacked",
            id="posts-we-did-not-write",
        ),
        pytest.param("vad händer om den registrerade telefonen kommer bort", "recovery_codes", id="phone-goes-missing"),
        pytest.param("var sparar vi koderna", "recovery_codes", id="where-to-keep-codes"),
        pytest.param("jag får ingen kod", "recovery_codes", id="no-code-arrives"),
        pytest.param("vilka frågor kan du svara på", "capabilities", id="which-questions"),
        pytest.param("stort tack!", "thanks", id="big-thanks"),
        pytest.param("insta tvåfaktor hjälp tack", "enable_2fa", id="polite-words-around-a-question"),
        pytest.param("prata med en människa", "human_contact", id="a-human"),
        pytest.param("vem kan jag kontakta", "human_contact", id="whom-to-contact"),
        pytest.param("kan jag få prata med någon?", "human_contact", id="talk-to-someone"),
        pytest.param("hur sätter man upp tvåstegsverifiering", "enable_2fa", id="particle-verb-split"),
    ],
)
def test_paraphrases_without_the_examples_keywords_are_understood(matcher, question, topic):
    assert matcher.match(question).topic == topic


@pytest.mark.parametrize(
    "typed, read",
    [
        # an abbreviation's colon ending is dropped, a time is left alone
        ("Sms:et med koden", "sms med koden"),
        ("2FA:n", "2fa"),
        ("X:s hjälpcenter", "x hjälpcenter"),
        ("kl 10:30", "kl 10 30"),
        # a typed @mention at the start says whom a message is for, not what it is about
        ("@Kanalvakten och om det gäller LinkedIn då?", "och om det gäller linkedin då"),
        ("@Kanalvakten, @Lisa: hur gör man?", "hur gör man"),
        ("mejla info@goteborg.se", "mejla info goteborg se"),
        ("tack @Kanalvakten", "tack kanalvakten"),
    ],
)
def test_normalise_drops_what_says_nothing_about_the_question(typed, read):
    assert normalise(typed) == read


def test_formal_framing_and_roles_do_not_count_against_the_question(matcher):
    """A ticket passed on by the service desk or a manager ("Bakgrund: ... Fråga: ...") is about
    what it asks, not about who asks."""
    assert matcher.match("Från servicedesk: en enhetschef undrar hur man slår på tvåfaktor på Instagram").topic == (
        "enable_2fa"
    )
    assert matcher.match("Vi önskar vägledning kring begränsning av kommentarer på enskilda inlägg").topic == (
        "close_comments"
    )


def test_a_long_message_is_measured_by_its_strongest_words(matcher):
    """The context around a question (what happened first, who asks) does not dilute what it
    shares with a topic."""
    match = matcher.match(
        "Vi fick ett mejl om en inloggning från ett annat land och sedan var e-postadressen på kontot ändrad. "
        "Vad gör vi?"
    )
    assert match.topic == "account_hijacked", match


def test_a_long_messages_questions_are_read_alone_too(matcher):
    """The sentences around a question (what happened, where) do not bury it: its questions alone
    say what the message is about."""
    match = matcher.match("Folk fortsätter gräla fast vi bett dem sluta. Stänga av kommentarerna då?")
    assert match.topic == "close_comments", match


def test_a_question_that_is_sure_alone_is_not_buried_by_what_follows(matcher):
    """One sure question and then why ("Jag sitter på simhallen och har ett ärende..."): the words
    after it do not pull it below an answer."""
    match = matcher.match(
        "Kan jag få prata med en människa? Jag sitter på simhallen och har ett ärende jag helst inte skriver om här."
    )
    assert match.topic == "human_contact", match


def test_a_question_that_says_nothing_alone_leaves_the_story_its_weight(matcher):
    """ "Hur agerar vi?" after a changed profile picture says nothing alone: it is not about how to act
    in a discussion."""
    match = matcher.match("Någon har bytt namn och profilbild på vår Instagram. Hur agerar vi?")
    assert match.topic != "moderate_discussion", match


@pytest.mark.parametrize(
    "question, concept",
    [
        ("Någon har bytt vår profilbild på Instagram", "hijack"),  # "bytt profilbild"
        ("aterställningskoder vem ska ha dem", "recovery"),  # some of its å/ä/ö, not all
        ("jag fick en kod som jag inte bett om", "hijack"),
        ("Do we need someone on call over the weekend?", "monitor"),
        ("I never receive the login code by text", "lost"),
        ("nummer till it support", "contact"),
    ],
)
def test_everyday_wordings_find_their_concept(matcher, question, concept):
    assert concept in matcher.match(question).concepts


@pytest.mark.parametrize(
    "question, not_this", [("har slarvat bort koderna", "payment"), ("är 2fa samma som bankid", "minors")]
)
def test_a_compound_is_not_split_on_a_short_foreign_tail(matcher, question, not_this):
    """ "slarvat" is not "slarv" + "vat" (VAT), "bankid" not "ban" + "kid"."""
    assert not_this not in matcher.match(question).concepts


@pytest.mark.parametrize(
    "typed, read",
    [
        ("Hur gör jag detta? Med vänliga hälsningar, Birgitta", "hur gör jag detta"),
        ("tack! mvh Anna Svensson, kulturförvaltningen", "tack"),
        ("kan vi skicka hälsningar på facebook?", "kan vi skicka hälsningar på facebook"),
        (
            "Hälsningar från naturskolan: varför behövs tvåfaktor?",
            "hälsningar från naturskolan varför behövs tvåfaktor",
        ),
    ],
)
def test_a_letters_sign_off_and_signature_are_dropped(typed, read):
    assert " ".join(without_signature(normalise(typed).split())) == read


def test_what_people_quote_and_see_on_the_screen_is_context(matcher):
    """ "I guiden står det..." refers to the guide, it does not ask for the walkthrough; a box that
    came up on the screen says how they got there."""
    assert matcher.match("Guiden säger att någon ska bevaka kanalen extra noga, hur ofta ska hen kolla?").topic == (
        "monitor_channel"
    )
    assert matcher.match(
        "Det kom upp en ruta med en massa siffror, återställningskoder. Vad gör jag med dem?"
    ).topic == ("recovery_codes")


def test_spara_is_a_real_word_and_never_corrected_to_sparra(matcher):
    # "spara" (keep) is one letter from "spärra" (block); the question is about keeping data
    match = matcher.match("hur länge ska vi spara raderade kommentarer")
    assert match.topic is None
    assert "close" not in match.concepts


@pytest.mark.parametrize("word, not_this", [("video", "other_platform"), ("sparka", "store"), ("nasta", "rude")])
def test_a_real_word_is_not_a_typo_of_a_term_a_key_away(matcher, word, not_this):
    # typos swap, drop or double letters, or hit a neighbouring key; "video"/"vimeo" is neither
    assert not_this not in matcher.lexicon.analyse([word]).concepts


def test_the_dev_set_is_not_a_source_of_example_questions(kb):
    from knowledge.text import normalise

    dev = {normalise(e.q) for e in read_examples(DEV_SET)}
    examples = {normalise(q) for topic in kb.topics for q in topic.examples}
    copied = dev & examples
    # One-word small talk ("hej", "tack", "help") cannot be worded differently.
    assert {q for q in copied if len(q.split()) > 1} == set()


@pytest.mark.parametrize(
    "question, platform",
    [
        pytest.param("instagarm tvåfaktor", "instagram", id="transposed-letters"),
        pytest.param("facebok 2fa", "facebook", id="missing-letter"),
        pytest.param("linkdin tvåstegsverifiering", "linkedin", id="linkdin"),
        pytest.param("tvåfaktor på vårt instagramkonto", "instagram", id="compound-instagramkonto"),
        pytest.param("tvåfaktor för facebooksidan", "facebook", id="compound-facebooksidan"),
        pytest.param("tvåfaktor för linkedinsidorna", "linkedin", id="compound-inflected"),
        pytest.param("2fa på X", "twitter", id="x-alone"),
        pytest.param("tvåfaktor på Twitter (numera X)", "twitter", id="twitter-numera-x"),
        pytest.param("tvåfaktor face", "facebook", id="slang-face"),
        pytest.param("tvåfaktor ig", "instagram", id="slang-ig"),
        pytest.param("two factor linked in", "linkedin", id="linked-in-two-words"),
    ],
)
def test_platforms_are_found_despite_typos_slang_and_compounds(matcher, question, platform):
    match = matcher.match(question)
    assert (match.topic, match.platform) == ("enable_2fa", platform)


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("tvåfaktor på vår box", id="x-at-word-end"),
        pytest.param("tvåfaktor för xbox", id="x-at-word-start"),
        pytest.param("tvåfaktor på vårt exchange-konto", id="x-inside-word"),
        pytest.param("tvåfaktor med 2x kod", id="x-after-digit"),
        pytest.param("hur sparar jag bilden x.png", id="x-in-a-file-name"),
        pytest.param("tvåfaktor enligt X.PDF från IT", id="x-in-a-file-name-upper-case"),
    ],
)
def test_a_random_x_in_a_word_is_never_twitter(matcher, question):
    assert matcher.match(question).platform is None


def test_x_com_is_still_the_platform_x(matcher):
    assert matcher.match("tvåfaktor på x.com").platform == "twitter"


@pytest.mark.parametrize(
    "question, topic",
    [
        pytest.param("tvafaktorsinloggning", "enable_2fa", id="folded-compound"),
        pytest.param("aterstallningskoder", "recovery_codes", id="folded-recovery"),
        pytest.param("varfor ska vi ha tvastegsverifiering", "why_2fa", id="folded-why"),
        pytest.param("nar ar valet", "election_date", id="folded-when"),
        pytest.param("TVÅFAKTORSAUTENTISERINGEN PÅ INSTAGRAM", "enable_2fa", id="upper-case-inflected"),
        pytest.param("Tva\u0308faktor", "enable_2fa", id="decomposed-unicode"),
    ],
)
def test_missing_or_odd_diacritics_still_match(matcher, question, topic):
    assert matcher.match(question).topic == topic


@pytest.mark.parametrize("question", ["nästa", "nästa steg är oklart, vad betyder Redigera?", "klart"])
def test_a_swedish_word_is_not_read_as_an_english_term_one_letter_away(matcher, question):
    # folded "nasta" is one letter from "nasty" (rude); typed with ä it is not a typo of it
    assert matcher.match(question).topic is None


def test_start_alone_is_the_menu_but_starting_something_is_not(matcher):
    assert matcher.match("start").topic == "capabilities"
    assert matcher.match("Can we start a TikTok account?").topic != "capabilities"


def test_a_phrase_inside_a_longer_phrase_is_not_found_again(matcher):
    # "har du koll på" (capabilities) holds "koll på" (keeping watch)
    assert matcher.match("Vilka ämnen har du koll på?").topic == "capabilities"
    assert "monitor" not in matcher.match("Vilka ämnen har du koll på?").concepts


def test_accented_words_are_not_confused_with_their_folded_twins(matcher):
    # "väl" (well) must not be read as "val" (election)
    assert "election" not in matcher.match("jag har väl koll").concepts
    assert "election" in matcher.match("jag har koll infor val").concepts


@pytest.mark.parametrize(
    "question",
    [
        "Hur laddar jag upp en bild på Instagram?",
        "Hur röstar jag i EU-valet?",
        "Hur byter jag lösenord i Outlook?",
        "Hur gör jag en story på Instagram?",
        "Var ligger vallokalen på Hisingen?",
        "Kan du sammanfatta nyheterna?",
        "Hur gör jag en ny Facebooksida för förskolan?",
        "Can we start a TikTok account for our department?",
        "Vad är skillnaden mellan en Facebookgrupp och en Facebooksida?",
        "min jobbtelefon är trasig, hur beställer jag en ny",
        "Hur ansöker jag om tjänstledighet?",
        "Hur beställer man en ny jobbmobil?",
    ],
)
def test_hard_negatives_that_share_words_with_the_domain_are_out_of_scope(matcher, question):
    match = matcher.match(question)
    assert match.topic is None
    assert match.score < ANSWER_THRESHOLD


@pytest.mark.parametrize(
    "question, platforms",
    [
        pytest.param("hur gör jag på facebook?", ["facebook"], id="how-on-facebook"),
        pytest.param("Hur gör jag på Facebook och LinkedIn?", ["facebook", "linkedin"], id="two-platforms"),
        pytest.param("instagram", ["instagram"], id="bare-name"),
        pytest.param("säkerheten på vårt linkedin-konto", ["linkedin"], id="security-on-platform"),
    ],
)
def test_a_question_that_only_names_a_platform_is_about_2fa_there(matcher, question, platforms):
    match = matcher.match(question)
    assert (match.topic, match.platforms) == ("enable_2fa", platforms)


def test_a_typo_keeps_its_first_letter(matcher):
    # "bokar" (books) is one letter from "ökar" (rises) but is no typo of it
    assert "risk" not in matcher.match("Hur bokar jag en tvättid?").concepts


def test_enable_2fa_without_a_platform_asks_for_one(matcher):
    match = matcher.match("hur slår jag på tvåfaktor?")
    assert match.topic == "enable_2fa"
    assert match.needs_platform is True
    assert matcher.match("hur slår jag på tvåfaktor på insta?").needs_platform is False


def test_several_platforms_are_listed_in_order(matcher):
    match = matcher.match("tvåfaktor på instagram och facebook")
    assert match.platforms == ["instagram", "facebook"]
    assert match.platform == "instagram"


def test_a_greeting_with_a_question_is_the_question(matcher):
    assert matcher.match("Hej! Hur slår jag på 2fa på LinkedIn?").topic == "enable_2fa"
    assert matcher.match("Hej!").topic == "greeting"


def test_scores_order_confident_answers_above_out_of_scope(matcher):
    confident = matcher.match("hur aktiverar jag tvåfaktorsautentisering på instagram")
    vague = matcher.match("Hur laddar jag upp en bild på Instagram?")
    assert confident.score > ANSWER_THRESHOLD > vague.score
    assert 0.0 <= vague.score <= 1.0


def test_runners_up_are_reported_best_first(matcher):
    match = matcher.match("varför tvåfaktor och vad är det")
    scores = [match.score, *[c.score for c in match.runners_up]]
    assert match.runners_up and scores == sorted(scores, reverse=True)
    assert [c.topic for c in match.candidates][:2] == ["why_2fa", "what_is_2fa"]


def test_a_plausible_but_unsure_question_is_a_near_miss_with_its_candidates(matcher):
    match = matcher.match("hur länge ska vi spara raderade kommentarer")
    assert match.topic is None and match.near_miss
    assert NEAR_MISS_THRESHOLD <= match.score < ANSWER_THRESHOLD
    assert match.candidates and [c.score for c in match.candidates] == sorted(
        (c.score for c in match.candidates), reverse=True
    )
    assert "close_comments" not in [c.topic for c in match.candidates][:1]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n\t ", id="whitespace"),
        pytest.param("🔐🙂👍", id="emoji-only"),
        pytest.param("tvåfaktor " * 10_000, id="100k-characters"),
        pytest.param("a" * 100_000, id="100k-one-word"),
        pytest.param("Hej. " * 100_000 + "Hur slår jag på tvåfaktor?", id="100k-sentences-then-a-question"),
        pytest.param("@" * 50_000 + "?" * 50_000, id="mentions-and-question-marks"),
        pytest.param("\x00\x01\x02\ufffd\udcff binärt \x7f", id="binary-looking"),
        pytest.param("\u202e\u200b\u200d", id="invisible-controls"),
    ],
)
def test_odd_input_returns_a_result_without_raising(matcher, text):
    match = matcher.match(text)
    assert 0.0 <= match.score <= 1.0
    if not text.strip() or text.startswith(("🔐", "\u202e")):
        assert match.topic is None


def test_match_command_speaks_the_json_lines_contract():
    questions = "hur slår jag på tvåfaktor på Instagram?\nqwerty\n\n"
    result = subprocess.run(
        [sys.executable, "-m", "knowledge", "match"],
        input=questions,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["topic"] == "enable_2fa" and rows[0]["platform"] == "instagram"
    assert rows[1] == {"topic": None, "platform": None, "score": rows[1]["score"]}
    assert all(set(r) == {"topic", "platform", "score"} and 0 <= r["score"] <= 1 for r in rows)


def test_ask_command_prints_the_answer_with_the_official_link():
    result = subprocess.run(
        [sys.executable, "-m", "knowledge", "ask", "tvåfaktor på linkedin"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "https://www.linkedin.com/help/linkedin/answer/544" in result.stdout


@pytest.mark.parametrize(
    "question, labelled, right",
    [
        ("hur slår man på tvåfaktor? vi har fb, insta och linkedin", None, True),
        ("Manualen visar bara Facebook. Hur aktiverar jag 2FA på Twitter?", "twitter", True),
        ("hur slår jag på tvåfaktor på Instagram?", "facebook", False),
        ("hur slår jag på tvåfaktor på Instagram?", None, False),
    ],
)
def test_the_eval_counts_the_platforms_the_answer_covers(matcher, question, labelled, right):
    """The bot answers enable_2fa for every platform a question names, so the eval does too."""
    example = Example(q=question, topic="enable_2fa", platform=labelled)
    assert is_right(example, matcher.match(question)) is right


def test_eval_command_reports_accuracy_per_topic_and_rejection():
    result = subprocess.run(
        [sys.executable, "-m", "knowledge", "eval", str(HELD_OUT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "out-of-scope rejection:" in result.stdout
    assert "accuracy:" in result.stdout.splitlines()[-1]
    assert "recovery_codes" in result.stdout


@pytest.mark.parametrize(
    "question",
    [
        "hur lägger jag till en ny admin på instagramkontot",
        "hur lägger jag till en ny redaktör på fb-sidan",
        "How do I add a new admin to our Facebook page?",
    ],
)
def test_a_platform_beside_a_concept_no_topic_uses_is_not_two_factor_there(matcher, question):
    """ "hur gör jag på Facebook?" is about 2FA there; a platform beside a word of the vocabulary that
    no topic's examples use ("admin", a concept for topics still to come) is not."""
    match = matcher.match(question)
    assert match.topic is None, match


LATEST_BLIND_SETS = [
    pytest.param(BLIND2, 0.96, 0.87, id="blind2"),  # one out-of-scope question of its 8 answered
    pytest.param(BLIND10, 0.95, 0.95, id="blind10"),
    pytest.param(BLIND11, 0.94, 0.95, id="blind11"),
    pytest.param(BLIND12, 0.97, 0.92, id="blind12"),
    pytest.param(BLIND13, 0.94, 0.95, id="blind13"),
    pytest.param(BLIND25, 0.95, 0.95, id="blind25"),
    pytest.param(BLIND27, 0.92, 0.92, id="blind27"),
    pytest.param(BLIND29, 0.93, 0.92, id="blind29"),
    pytest.param(BLIND30, 0.95, 0.95, id="blind30"),
    pytest.param(BLIND33, 0.94, 0.95, id="blind33"),
    pytest.param(BLIND34, 0.86, 0.95, id="blind34"),
    pytest.param(BLIND36, 0.91, 0.92, id="blind36"),
    pytest.param(BLIND38, 0.90, 0.84, id="blind38"),
    pytest.param(BLIND40, 0.91, 0.92, id="blind40"),
    # Never read, and not in asked.yaml.
    pytest.param(BLIND42, 0.95, 0.95, id="blind42"),
    pytest.param(BLIND43, 0.92, 0.92, id="blind43"),
    pytest.param(BLIND45, 0.94, 0.95, id="blind45"),  # 0.947 (1.0) on its first run
    pytest.param(BLIND46, 0.90, 0.92, id="blind46"),  # 0.900 (0.92) on its first run
    pytest.param(BLIND47, 0.94, 0.95, id="blind47"),  # 0.940 (0.96) on its first run
    pytest.param(BLIND48, 0.86, 0.95, id="blind48"),  # 0.860 (0.96) on its first run
]
"""The blind sets short of issue 10's target (0.96 top-1 with 0.95 rejection) as a matcher that never
saw them scores them (`unseen_report`), each with the floors (top-1, rejection) it holds against
regressions. Sixth session: blind2 0.960 (0.88), blind10 0.953, blind11 0.953, blind12 0.973 (0.92),
blind13 0.947, blind25 0.953, blind27 0.920 (0.92), blind29 0.940 (0.92), blind30 0.953, blind33
0.947, blind34 0.867, blind36 0.913 (0.92), blind38 0.907 (0.84), blind40 0.927 (0.96); never read:
blind42 0.953, blind43 0.933 (0.96), and blind45 0.947 and blind46 0.913 (0.92), 0.947 and 0.900 on
their first runs, blind47 0.947 (1.0) and blind48 0.860 (0.96), 0.940 (0.96) and 0.860 on theirs."""


@pytest.mark.parametrize("path, floor, rejection", LATEST_BLIND_SETS)
def test_the_latest_blind_sets_hold_what_they_reached(matcher, path, floor, rejection):
    report = unseen_report(matcher, path)
    assert report.accuracy >= floor, "\n".join(report.lines())
    assert report.rejection_rate >= rejection, "\n".join(report.lines())


@pytest.mark.xfail(
    strict=True,
    reason="blind10, 11, 13, 25, 27, 29, 30, 33, 34, 36, 38, 40, 42, 43, 45-48 reach 0.860-0.953, short of 0.96; "
    "blind2 and 12 reach it with a rejection short of 0.95 (0.88, 0.92)",
)
@pytest.mark.parametrize("path, floor, rejection", LATEST_BLIND_SETS)
def test_the_latest_blind_sets_meet_the_target(matcher, path, floor, rejection):
    report = unseen_report(matcher, path)
    assert report.accuracy >= 0.96 and report.rejection_rate >= 0.95, "\n".join(report.lines())


def test_a_topics_own_texts_are_its_title_and_answer_sentences_without_placeholders():
    """What a topic with few examples also learns from: its title and each sentence of its answer,
    never a placeholder's name ("{support_contact}" is filled in only when the answer is sent)."""
    topic = Topic(
        id="fake_accounts",
        title="Falska konton i vårt namn",
        answer="Anmäl kontot till plattformen. Kontakta {support_contact} om du är osäker!",
        examples=["a", "b", "c", "d", "e"],
    )
    assert [text.split() for text in _own_texts(topic)] == [
        ["Falska", "konton", "i", "vårt", "namn"],
        ["Anmäl", "kontot", "till", "plattformen."],
        ["Kontakta", "om", "du", "är", "osäker!"],
    ]


_VERDICTS = """
import json, sys
from knowledge.loader import load_knowledge_base
from knowledge.matcher import Matcher
kb = load_knowledge_base()
matcher = Matcher(kb)
questions = [q for asked in kb.asked.values() for q in asked]
print(json.dumps([matcher.match(q).model_dump() for q in questions]))
"""


def test_the_verdicts_are_the_same_in_every_process():
    """Python orders a set's strings differently in every process (PYTHONHASHSEED): the model's sums
    must not follow that order, or a tie such as the exact-wording floor falls differently from one
    run to the next (a question once near-missed in one process and not in another)."""
    runs = [
        subprocess.run(
            [sys.executable, "-c", _VERDICTS],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            cwd=Path(__file__).resolve().parent.parent,
        ).stdout
        for seed in ("1", "2")
    ]
    assert json.loads(runs[0]) == json.loads(runs[1])


def test_a_one_word_question_scores_the_same_from_the_table_as_computed(matcher):
    """A question of one known feature is scored from a table built with the model
    (`Matcher._one_word_table`): every word of the vocabulary, typed alone, typo'd, or with a
    platform (a concept a topic's `signals` name), gets the same verdict as when computed."""
    kb = load_knowledge_base()
    words = sorted({term.rstrip("*") for concept in kb.concepts for term in concept.terms})
    questions = [*words, *(w[:-1] for w in words if len(w) > 6), *(f"{w} instagram" for w in words[:200])]
    questions += ["tack!", "starta guiden", "hej", "hjälp", "återställningskoder", "tvåfaktor", "insta", "x"]
    tabled = [matcher.match(q) for q in questions]
    table = dict(matcher._single)
    assert len(table) > 100
    try:
        matcher._single.clear()
        computed = [matcher.match(q) for q in questions]
    finally:
        matcher._single.update(table)
    assert tabled == computed


def test_the_three_nearest_example_searches_find_the_same(matcher, monkeypatch):
    """The lookup for one known word and the loop for rare words are shortcuts of the arrays'
    search (`Matcher._nearest`): every question of the dev and held-out sets, every example and asked
    question (said exactly), and every word of the vocabulary alone get the same verdict with the arrays
    alone."""
    kb = load_knowledge_base()
    words = sorted({term.rstrip("*") for concept in kb.concepts for term in concept.terms})
    questions = [e.q for path in (DEV_SET, HELD_OUT) for e in read_examples(path)] + words
    questions += [q for asked in kb.asked.values() for q in asked] + [q for t in kb.topics for q in t.examples]
    table = dict(matcher._single)
    try:
        matcher._single.clear()
        shortcuts = [matcher.match(q) for q in questions]
        monkeypatch.setattr(
            matcher,
            "_nearest",
            lambda known, postings, inside, outside, skip: matcher._nearest_many(known, inside, outside, skip),
        )
        arrays = [matcher.match(q) for q in questions]
    finally:
        matcher._single.update(table)
    assert shortcuts == arrays
