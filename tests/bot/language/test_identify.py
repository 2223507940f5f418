"""Tests of the language-variety identifier (bot.language.identify)."""

from __future__ import annotations

import csv
import dataclasses
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # also runnable as plain `pytest` from elsewhere
    sys.path.insert(0, str(ROOT))

from bot.language import corpus, lexicon  # noqa: E402
from bot.language.identify import (  # noqa: E402
    ALL_CODES,
    LANGS,
    LanguageGuess,
    LanguageIdentifier,
    char_wb_ngrams,
    identify,
)
from bot.text.normalize import normalize  # noqa: E402

EVAL_CSV_CANDIDATES = [
    ROOT.parent / "shared" / "eval" / "langid" / "langid.csv",
    Path("/work/shared/eval/langid/langid.csv"),
]


@pytest.fixture(scope="module")
def ident() -> LanguageIdentifier:
    return LanguageIdentifier.default()


CLEAR = {
    "fr": [
        "Je voudrais renouveler mon passeport, quels documents faut-il apporter ?",
        "Bonjour, est-ce que le consulat est ouvert samedi matin ?",
        "j'ai perdu ma carte d'identité dans le train hier soir",
        "Il fait beau aujourd'hui, on va se promener au parc avec les enfants",
        "franchement le match était nul, l'arbitre a tout gâché",
    ],
    "en": [
        "I would like to renew my passport, which documents should I bring?",
        "Hello, is the consulate open on Saturday morning?",
        "I lost my ID card on the train last night",
        "The weather is lovely today, let's take the kids to the park",
        "honestly the game was rubbish, the referee ruined everything",
    ],
    "ar": [
        "أريد تجديد جواز سفري، ما هي الوثائق المطلوبة؟",
        "هل القنصلية مفتوحة يوم السبت صباحا؟",
        "لقد فقدت بطاقة التعريف الوطنية في القطار البارحة",
        "الطقس جميل اليوم، سنذهب إلى الحديقة مع الأطفال",
        "أعلنت الحكومة عن إجراءات جديدة لدعم الأسر المتضررة من الغلاء",
    ],
    "ary": [
        "بغيت نجدد الباسبور ديالي، شنو خاصني نجيب معايا؟",
        "واش القنصلية حالة نهار السبت فالصباح؟",
        "ضاعت ليا لاكارط ناسيونال فالتران البارح",
        "الجو زوين اليوم، غادي نخرجو الدراري للجردة",
        "والله إلا الماتش كان خايب، الحكم خسر كلشي",
    ],
    "ary_Latn": [
        "bghit njded lpaspor dyali 3afak",
        "wach kayn chi rendez-vous f consulat",
        "salam, ch7al katakhod la carte nationale?",
        "daba ghadi nmchi l souk nchri lkhodra",
        "match dyal lbare7 kan khayb bzaf, l7akam khser kolchi",
    ],
}

OTHER = [
    "Vorrei rinnovare il mio passaporto, quali documenti servono?",
    "Ik wil mijn paspoort verlengen, welke documenten heb ik nodig?",
    "Ich möchte meinen Reisepass verlängern, welche Unterlagen brauche ich?",
    "Quiero renovar mi pasaporte, ¿qué documentos necesito?",
    "Quero renovar o meu passaporte, que documentos preciso?",
    "Pasaportumu yenilemek istiyorum, hangi belgeler gerekli?",
    "Я хочу продлить паспорт",
    "我想更新我的护照",
    "من می‌خواهم پاسپورتم را تمدید کنم، چه مدارکی لازم است؟",
]


@pytest.mark.parametrize(("code", "text"), [(c, t) for c, texts in CLEAR.items() for t in texts])
def test_clear_cases(ident: LanguageIdentifier, code: str, text: str) -> None:
    guess = ident.identify(text)
    assert guess.code == code, guess
    assert not guess.ambiguous
    assert guess.confidence >= 0.6


@pytest.mark.parametrize("text", OTHER)
def test_other_languages(ident: LanguageIdentifier, text: str) -> None:
    guess = ident.identify(text)
    assert guess.code == "other", guess
    assert not guess.ambiguous


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "1",
        "👍",
        "😀😀😀",
        "MDM-7K3P-Q9XZ",
        "ticket MDM-7K3P-Q9XZ",
        "",
        "   ",
        "???",
        "12/05/2024",
        "Casablanca",
        "Paris",
        "Bruxelles",
        "https://example.org/page?id=3",
        "someone@example.com",
        "\x00\x01\x02\x03",
        "a" * 10_000,
        "<script>alert('x')</script>",
        "<div class='x'><b>Bonjour</b></div>",
        "SELECT * FROM users WHERE id = 1; DROP TABLE users; --",
        "' OR 1=1 --",
    ],
)
def test_ambiguous_inputs(ident: LanguageIdentifier, text: str) -> None:
    guess = ident.identify(text)
    assert guess.ambiguous, guess
    assert guess.code in ALL_CODES
    assert 0.0 <= guess.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # a reference typed by hand: its digits must not read as Arabizi (CI failure, stop 8)
        ("où en est ma réclamation mdm yvn5 6zy2 ?", "fr"),
        ("où en est ma réclamation yvn5 6zy2", "fr"),
        ("where is my ticket mdmyvn56zy2", "en"),
        ("where is my ticket mdm yvn5 6zy2", "en"),
        ("fin wsel talab dyali mdm yvn5 6zy2", "ary_Latn"),
        # two Darija words with Arabizi digits are not a reference
        ("wa7d sa3a", "ary_Latn"),
    ],
)
def test_typed_ticket_references_do_not_change_the_language(
    ident: LanguageIdentifier, text: str, code: str
) -> None:
    assert ident.identify(text).code == code


def test_ref_alphabet_is_the_tickets_one():
    from bot.language.identify import REF_ALPHABET
    from bot.tickets.refs import ALPHABET

    assert REF_ALPHABET == ALPHABET


@pytest.mark.parametrize(
    "text", ["x" * 10_000, "xxxxxxxx", "ههههههههه", "zzzz zzzz"], ids=["long", "x", "ar", "zz"]
)
def test_one_letter_over_and_over_carries_no_language(ident: LanguageIdentifier, text: str) -> None:
    guess = ident.identify(text)
    assert guess.confidence == 0.0 and guess.ambiguous, guess


def test_number_like_tokens_carry_no_language(ident: LanguageIdentifier) -> None:
    # "31m" is what is left of a terminal colour code; it used to read as Arabizi
    noisy = ident.identify("\x00\x01\x02 bonjour \x1b[31m")
    assert noisy.code == "fr" and noisy.scores == ident.identify("bonjour").scores
    # Arabizi keeps its single digits inside words
    assert ident.identify("s7i7 3la had lwra9").code == "ary_Latn"


def test_no_signal_returns_fallback_with_zero_confidence(ident: LanguageIdentifier) -> None:
    for text in ("", "1", "👍", "MDM-7K3P-Q9XZ"):
        guess = ident.identify(text)
        assert guess.code == ident.params.fallback
        assert guess.confidence == 0.0
        assert guess.ambiguous


def test_strong_single_markers_are_not_ambiguous(ident: LanguageIdentifier) -> None:
    for text in ("bghit", "3afak", "ma3reftch"):
        guess = ident.identify(text)
        assert guess.code == "ary_Latn" and not guess.ambiguous, guess


def test_code_switching_is_arabizi(ident: LanguageIdentifier) -> None:
    guess = ident.identify("Bonjour, wach kayn chi rendez-vous disponible had simana?")
    assert guess.code == "ary_Latn", guess


def test_embedded_title_does_not_decide(ident: LanguageIdentifier) -> None:
    guess = ident.identify("Je veux regarder The Lord of the Rings ce soir avec mes enfants")
    assert guess.code == "fr", guess


def test_control_characters_inside_text(ident: LanguageIdentifier) -> None:
    guess = ident.identify("Je\x00 voudrais\u200b renouveler\x07 mon passeport")
    assert guess.code == "fr" and not guess.ambiguous


def test_long_text_is_fast_and_capped(ident: LanguageIdentifier) -> None:
    text = "Je voudrais renouveler mon passeport au consulat. " * 400  # ~20,000 characters
    start = time.perf_counter()
    guess = ident.identify(text)
    assert time.perf_counter() - start < 1.0
    assert guess.code == "fr" and not guess.ambiguous


def test_weird_types_do_not_crash(ident: LanguageIdentifier) -> None:
    for value in (None, b"bghit njded lpaspor", bytes(range(256)), 12345):
        guess = ident.identify(value)  # type: ignore[arg-type]
        assert isinstance(guess, LanguageGuess)


def test_guess_shape(ident: LanguageIdentifier) -> None:
    guess = ident.identify("wach kayn chi rendez-vous f consulat")
    assert set(guess.scores) == set(LANGS) | {"other"}
    assert math.isclose(sum(guess.scores.values()), 1.0, abs_tol=1e-3)
    assert guess.scores[guess.code] == max(guess.scores.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        guess.code = "fr"  # type: ignore[misc]  # frozen


def test_identify_many_matches_identify(ident: LanguageIdentifier) -> None:
    texts = [t for ts in CLEAR.values() for t in ts] + OTHER + ["ok", "", "MDM-7K3P-Q9XZ"]
    assert ident.identify_many(texts) == [ident.identify(t) for t in texts]
    assert ident.identify_many([]) == []


def test_module_function_uses_default() -> None:
    assert identify("bghit njded lpaspor dyali 3afak").code == "ary_Latn"
    assert LanguageIdentifier.default() is LanguageIdentifier.default()


def test_import_is_light() -> None:
    code = (
        "import sys\n"
        "import bot.language.identify as m\n"
        "assert m.LanguageIdentifier._default is None\n"
        "assert 'sklearn' not in sys.modules, 'sklearn imported at import time'\n"
        "assert 'py3langid' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_save_load_roundtrip(tmp_path: Path, ident: LanguageIdentifier) -> None:
    path = tmp_path / "sub" / "langid.pkl"
    ident.save(path)
    loaded = LanguageIdentifier.load(path)
    texts = [t for ts in CLEAR.values() for t in ts] + OTHER + ["ok"]
    assert loaded.identify_many(texts) == ident.identify_many(texts)
    assert loaded.params == ident.params


def test_default_model_disk_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ident: LanguageIdentifier
) -> None:
    builds: list[int] = []

    def fake_build(*args: object, **kwargs: object) -> LanguageIdentifier:
        builds.append(1)  # training itself is tested elsewhere; count the builds
        return ident

    monkeypatch.setattr(LanguageIdentifier, "from_project", fake_build)
    monkeypatch.setenv("MDM_LANGID_CACHE_DIR", str(tmp_path))
    first = LanguageIdentifier._from_project_cached()
    cached = list(tmp_path.glob("langid-*.pkl"))
    assert len(cached) == 1 and len(builds) == 1
    second = LanguageIdentifier._from_project_cached()  # loaded from the file
    assert len(builds) == 1
    texts = [t for ts in CLEAR.values() for t in ts] + OTHER
    assert second.identify_many(texts) == first.identify_many(texts)
    cached[0].write_bytes(b"not a pickle")  # a corrupt cache only costs a rebuild
    assert LanguageIdentifier._from_project_cached().identify("bghit").code == "ary_Latn"
    assert len(builds) == 2


def test_default_model_cache_can_be_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ident: LanguageIdentifier
) -> None:
    monkeypatch.setattr(LanguageIdentifier, "from_project", lambda *a, **k: ident)
    monkeypatch.setenv("MDM_LANGID_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert LanguageIdentifier._from_project_cached() is ident
    assert not list(tmp_path.rglob("langid-*.pkl"))


def test_load_rejects_foreign_pickle(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps({"version": -1}))
    with pytest.raises(ValueError):
        LanguageIdentifier.load(path)


def test_training_is_fast_enough() -> None:
    # The brief asks for under 3 s on an idle machine; CI machines are shared,
    # so this bound is generous and only catches pathological slowdowns.
    start = time.process_time()
    LanguageIdentifier.from_project()
    assert time.process_time() - start < 15.0


def test_train_requires_every_variety() -> None:
    with pytest.raises(ValueError):
        LanguageIdentifier.train({"fr": ["bonjour tout le monde"], "en": ["hello everybody"]})


def test_char_wb_ngrams_matches_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), lowercase=False
    ).build_analyzer()
    for text in ("bghit njded lpaspor", "واش كاين شي رونديفو", "a bc def ghij", ""):
        assert char_wb_ngrams(text) == analyzer(text)


# --- lexicon helpers ------------------------------------------------------------


@pytest.mark.parametrize("token", ["3afak", "m3a", "sba7", "9rit", "b7al", "wa9ila", "ta3", "8zal"])
def test_arabizi_digit_tokens(token: str) -> None:
    assert lexicon.is_arabizi_digit_token(token)


@pytest.mark.parametrize(
    "token", ["2eme", "10h", "5km", "mp3", "h24", "covid19", "1h30", "2024", "3x4"]
)
def test_not_arabizi_digit_tokens(token: str) -> None:
    assert not lexicon.is_arabizi_digit_token(token)


def test_arabic_negation_and_prefix_patterns() -> None:
    assert lexicon.arabic_token_evidence(normalize("ماعرفتش"))[0] > 0
    assert lexicon.arabic_token_evidence(normalize("كنبغي"))[0] > 0
    assert lexicon.arabic_token_evidence(normalize("مدهش")) == (0.0, 0.0)  # MSA "amazing"
    assert lexicon.arabic_token_evidence(normalize("كتاب")) == (0.0, 0.0)  # MSA "book"
    assert lexicon.arabic_sequence_evidence([normalize("ما"), normalize("فهمتش")]) > 0


# --- training data hygiene --------------------------------------------------------


def test_seed_corpora_are_substantial_and_disjoint() -> None:
    seeds = corpus.load_seeds()
    assert set(seeds) == set(LANGS) | {"other"}
    owner: dict[str, str] = {}
    for code, lines in seeds.items():
        assert len(lines) >= 150, code
        for line in lines:
            key = normalize(line)
            assert owner.setdefault(key, code) == code, f"{line!r} in {owner[key]} and {code}"


def test_no_seed_line_appears_in_the_eval_set() -> None:
    csv_path = next((p for p in EVAL_CSV_CANDIDATES if p.is_file()), None)
    if csv_path is None:
        pytest.skip("evaluation CSV not available")
    with csv_path.open(encoding="utf-8", newline="") as fh:
        eval_texts = {normalize(row["text"]) for row in csv.DictReader(fh)}
    leaked = [
        (code, line)
        for code, lines in corpus.load_seeds().items()
        for line in lines
        if normalize(line) in eval_texts
    ]
    assert leaked == []


def test_strip_entities() -> None:
    assert corpus.strip_entities("renouveler mon [passeport](document) à [Paris](city)") == (
        "renouveler mon passeport à Paris"
    )
    assert corpus.strip_entities('bghit [lpaspor]{"entity": "document"}') == "bghit lpaspor"


def test_read_nlu_file(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: renew\n"
        "  examples: |\n"
        "    - je veux renouveler mon [passeport](document)\n"
        "    - renouvellement svp\n"
        "- lookup: city\n"
        "  examples: |\n"
        "    - Paris\n"
        "- synonym: passeport\n"
        "  examples: |\n"
        "    - passport\n",
        encoding="utf-8",
    )
    assert corpus.read_nlu_file(path) == ["je veux renouveler mon passeport", "renouvellement svp"]
    broken = tmp_path / "broken.yml"
    broken.write_text("nlu: [\n", encoding="utf-8")
    assert corpus.read_nlu_file(broken) == []


def test_nlu_filter_drops_other_varieties(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "nlu" / "fr"
    folder.mkdir(parents=True)
    (folder / "x.yml").write_text(
        "nlu:\n- intent: greet\n  examples: |\n"
        "    - bonjour je voudrais un renseignement\n"
        "    - salam 3likom khoya bghit nsowel\n"
        "    - bonjour\n",
        encoding="utf-8",
    )
    loaded = corpus.load_nlu(tmp_path)
    assert loaded["fr"] == ["bonjour je voudrais un renseignement"]
