"""Language-variety identification for mdm-assistant.

Tells apart the five varieties the assistant speaks:

* ``fr`` French, ``en`` English;
* ``ar`` Modern Standard Arabic;
* ``ary`` Moroccan Darija in Arabic script;
* ``ary_Latn`` Darija in Latin letters with digits (Arabizi, often mixed with
  French: "wach kayn chi rendez-vous f consulat");

and answers ``other`` for anything else (Italian, Dutch, German, Spanish,
Turkish, Persian, Russian...).

Method, in order:

1. Clean-up: the message is cut to its first :data:`MAX_CHARS` characters,
   normalised (:mod:`bot.text.normalize`), and stripped of what carries no
   language signal: URLs, e-mails, handles, HTML tags, reference codes such as
   ``MDM-7K3P-Q9XZ``, numbers, over-long tokens.
2. Script: Arabic, Latin or another script, by counting letters.
3. Arabic script: a character n-gram (1-4, within words) logistic regression
   trained on project text (seeds + NLU data) gives the Darija/MSA odds; a
   lexicon of Darija markers (``ديال``, ``واش``, ``بغيت``, ``ما...ش`` negation,
   ``كن``/``كي`` verb prefixes...) and MSA markers (``الذي``, ``هذه``, ``لقد``,
   ``سوف``...) adds prior evidence that generalises beyond the training
   sentences. Measured on held-out tweets, the lexicon generalises better than
   the model, hence its larger weight; text without any marker leans MSA.
   Text in Persian/Urdu letters that py3langid calls Persian/Urdu/Pashto is
   ``other``.
4. Latin script: the n-gram model and an Arabizi lexicon (``bghit``, ``dyal``,
   ``3afak``, digits used as letters, ``ma...ch`` negation, ``kan``/``kay``
   prefixes) decide Darija vs not; for the rest, the n-gram model is combined
   with py3langid (its model ships inside the package) restricted to
   Latin-script languages, to separate French and English from the others.
   py3langid sees the message without embedded capitalised titles ("Riproduci
   This Is: Miles Davis" is Italian) and counts less on short messages.
5. Ambiguity: messages with too little signal (``ok``, ``1``, emoji, a code, a
   bare city name, markup or SQL) are flagged so callers keep the language of
   the conversation.

Nothing heavy happens at import time. :meth:`LanguageIdentifier.default`
trains on first use (a few seconds of CPU) and caches the result on disk,
keyed by the training files and code, so later processes load it in
milliseconds; :meth:`LanguageIdentifier.save`/:meth:`LanguageIdentifier.load`
persist a model explicitly (the Rasa component does so at training time).
Prediction needs numpy only, not scikit-learn.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from bot.language import lexicon
from bot.text.normalize import clean, normalize

logger = logging.getLogger(__name__)

LANGS = ("fr", "ar", "ary", "ary_Latn", "en")
OTHER = "other"
ALL_CODES = LANGS + (OTHER,)

#: Identification only looks at the start of a message: enough signal, bounded work.
MAX_CHARS = 2000
#: Tokens longer than this are noise (hashes, keyboard mashing, base64).
MAX_TOKEN_LEN = 30
#: Bump when the saved format or features change, so stale pickles are refused.
MODEL_VERSION = 1
#: Environment variable naming the folder that caches the default model.
CACHE_ENV = "MDM_LANGID_CACHE_DIR"

_LATIN_CLASSES = ("fr", "en", "ary_Latn", OTHER)
_ARABIC_CLASSES = ("ar", "ary")

# py3langid languages written in Latin script (the model ships in the package).
_PY3LANGID_LATIN_CODES = """
af an az br bs ca cs cy da de en eo es et eu fi fo fr ga gl hr ht hu id is it jv la lb lt
lv mg ms mt nb nl nn no oc pl pt qu ro rw se sk sl sq sv sw tl tr vi vo wa xh zu
"""
_PY3LANGID_LATIN = tuple(_PY3LANGID_LATIN_CODES.split())
_PY3LANGID_FLOOR = 1e-4
# Other languages written in Arabic script.
_PY3LANGID_ARABIC_OTHER = ("fa", "ur", "ps", "ug", "ku")

# --- raw-text clean-up patterns ---------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]{0,200}>")
# Reference codes in upper case with letters and digits: dash- or slash-joined
# groups ("MDM-7K3P-Q9XZ", "2024/AB12") or one block of 6+ characters with at
# least two digits ("AB123456"). Upper-case Arabizi ("3AFAK", "M3A") has a
# single digit and is kept.
_CODE = re.compile(
    r"(?<![\w-])(?:(?=[A-Z0-9/-]*\d)[A-Z0-9]+(?:[-/][A-Z0-9]+)+"
    r"|(?=(?:[A-Z]*\d){2})(?=\d*[A-Z])[A-Z0-9]{6,})(?![\w-])"
)
# The same lower-cased with dashes, at least two dash-separated groups with a digit.
_DASH_CODE = re.compile(
    r"(?<![\w-])(?=[a-z0-9-]*\d)[a-z0-9]{2,}(?:-[a-z0-9]{2,}){1,}(?![\w-])", re.IGNORECASE
)
# Ticket references typed by hand: "mdm yvn5 6zy2", "MDM7K3PQ9XZ", or the two groups alone
# ("yvn5 6zy2"). Their digits look like Arabizi (3, 7, 9), so they would pull a French or
# English message towards Darija. See _drop_ticket_refs for when two bare groups count.
# bot.tickets.refs.ALPHABET, written out: importing bot.tickets would load SQLAlchemy into
# every process that identifies languages (tests check the two agree).
REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_REF_CHAR = f"[{REF_ALPHABET}]"
_TICKET_REF = re.compile(
    rf"(?<![0-9a-z])(MDM[\s\-_.]*)?({_REF_CHAR}{{4}})[\s\-_.]*({_REF_CHAR}{{4}})"
    r"(?![0-9a-z])",
    re.IGNORECASE,
)
_NON_ARABIZI_DIGIT = re.compile(r"[014568]")


def _drop_ticket_refs(raw: str) -> str:
    """Blank out ticket references so their digits do not read as Arabizi.

    With the ``MDM`` prefix, always. Without it, two four-character groups count only when
    they hold two digits or more, one of them a digit Arabizi does not use as a letter
    (0 1 4 5 6 8) or two in one group: "wa7d sa3a" stays Darija.
    """

    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return " "
        first, second = m.group(2), m.group(3)
        digits = sum(c.isdigit() for c in first + second)
        if digits >= 2 and (
            _NON_ARABIZI_DIGIT.search(first + second)
            or sum(c.isdigit() for c in first) >= 2
            or sum(c.isdigit() for c in second) >= 2
        ):
            return " "
        return m.group(0)

    return _TICKET_REF.sub(repl, raw)


_SQL = re.compile(
    r"\b(select\s+.+\s+from|insert\s+into|drop\s+(table|database)|union\s+select|delete\s+from|"
    r"update\s+\w+\s+set|or\s+1\s*=\s*1|exec\s*\(|;\s*--)",
    re.IGNORECASE,
)
_CODE_SYMBOL_RE = re.compile(r"[{}\[\]<>;=*$\\|`^~]")
_SPACES = re.compile(r"\s")
_LETTER = re.compile(r"[^\W\d_]")
# Placeholders and acronyms in upper case inside Arabic text (RT, URL, EMOJI).
_ALL_CAPS = re.compile(r"\b[A-Z]{2,}\b")

_TOKEN = re.compile(r"[^\W_]+")
# Letters repeated for emphasis ("بزااااف", "cooool"): Arabic rarely doubles a
# letter in writing, so 3+ become one; Latin keeps two ("bzzaf", "cool").
# Runs of "ه" are laughter and are kept for the lexicon to see.
_ELONGATED_ARABIC = re.compile(r"([\u0621-\u0646\u0648-\u064a])\1{2,}")
_ELONGATED_OTHER = re.compile(r"([a-z])\1{2,}")
_ARABIC_CHAR = re.compile(r"[\u0620-\u064a\u0671-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_LATIN_CHAR = re.compile(r"[a-z\u00df-\u00ff\u0100-\u024f]")
# Letters typical of Persian/Urdu/Pashto and not of Arabic (pe, che, zhe and
# gaf are left out: Moroccans use them for p, tch, j and g).
_PERSIAN_CHAR = re.compile(r"[\u06a9\u06cc\u06c0\u06d2\u06d3\u0679\u0688\u0691\u06ba\u06be]")

# Words that say nothing about the language: acknowledgements, laughs and the
# names of places our users live in or come from.
_NEUTRAL_TEXT = """
ok okay oki okk oké kk k d'accord dac top cool super bravo lol mdr ptdr xd haha hhh hhhh
hh hahaha wow ticket tickets tiket ref reference référence numero numéro num code id hi
hey yo bye ciao salut slt salam slm allo alo yes no oui non si ja nee nein da mdm maroc
morocco marokko marocco marruecos marrocos fas المغرب casablanca casa rabat sale tanger
tangier tanja marrakech marrakesh fes fez meknes agadir oujda tetouan nador kenitra safi
eljadida el jadida laayoune dakhla hoceima alhoceima beni mellal paris lyon marseille
lille toulouse bordeaux nice strasbourg montpellier nantes bruxelles brussels brussel
anvers antwerpen liege gent madrid barcelona barcelone valencia sevilla malaga murcia
almeria milano milan roma rome torino turin bologna napoli genova amsterdam rotterdam
utrecht denhaag berlin frankfurt munchen koln dusseldorf hamburg london montreal quebec
doha dubai الدار البيضاء الرباط طنجه مراكش فاس مكناس اكادير وجده تطوان الناظور القنيطره
باريس بروكسيل مدريد برشلونه ميلانو روما امستردام ليون مرسيليا
"""
_NEUTRAL_WORDS = frozenset(normalize(w) for w in _NEUTRAL_TEXT.split())


@dataclass(frozen=True)
class LanguageGuess:
    """The identifier's answer for one message.

    Attributes:
        code: One of :data:`LANGS` or ``"other"``.
        confidence: Probability of ``code``, 0..1 (0 when there is no signal).
        ambiguous: True when the text carries too little signal to switch
            language on ("ok", "1", an emoji, a reference code, a bare city
            name, markup): callers then keep the conversation's language.
        scores: Probability of every code (the five varieties and ``other``).

    """

    code: str
    confidence: float
    ambiguous: bool
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class IdentifierParams:
    """Weights of the identifier, kept with a saved model.

    Attributes:
        arabic_model_weight: Multiplier of the n-gram model's Darija log-odds.
            Below 1 because the model learns much of its vocabulary from the
            consular NLU data and generalises less than the lexicon.
        arabic_lexicon_weight: Multiplier of (Darija - MSA) lexicon evidence in
            the Arabic-script log-odds.
        arabic_bias: Added to the Darija log-odds; negative means "MSA unless
            there is Darija evidence", which matches text without markers.
        latin_lexicon_weight: Multiplier of Arabizi lexicon evidence.
        latin_bias: Added to the Arabizi log-odds.
        py3langid_weight: Exponent of py3langid's probabilities in the
            French/English/other decision.
        py3langid_full_letters: Messages with fewer signal letters than this
            get a proportionally smaller py3langid weight.
        model_weight: Exponent of the n-gram model's probabilities there.
        prior_other: Prior factor of ``other`` against French/English, which are
            far more common among our users.
        min_signal_letters: Fewer letters than this (outside neutral words)
            means ambiguous, unless a strong marker is present.
        min_confidence: Below this probability the guess is flagged ambiguous.
        fallback: Code returned when the text has no signal at all.
        ngram_c: Inverse regularisation of the n-gram logistic regressions.

    """

    arabic_model_weight: float = 0.5
    arabic_lexicon_weight: float = 1.6
    arabic_bias: float = -0.5
    latin_lexicon_weight: float = 0.8
    latin_bias: float = 0.5
    py3langid_weight: float = 0.5
    py3langid_full_letters: int = 30
    model_weight: float = 1.0
    prior_other: float = 0.5
    min_signal_letters: int = 6
    min_confidence: float = 0.55
    fallback: str = "fr"
    ngram_c: float = 1.0


@dataclass
class _Analysis:
    """What the identifier extracted from one message before scoring."""

    raw: str  # cleaned, spelling kept (codes, URLs and markup removed)
    text: str  # normalised and cleaned: the Arabic model and the lexicons see this
    tokens: list[str]
    latin_text: str  # lower-cased with accents kept: the Latin model sees this
    frame: str  # case and accents kept, embedded titles/names dropped: py3langid sees this
    n_arabic: int
    n_latin: int
    n_other: int
    persian_letters: int
    signal_letters: int
    code_like: bool


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _looks_like_code(raw: str) -> bool:
    """Tell whether a message is markup or code rather than prose."""
    if _HTML_TAG.search(raw) or _SQL.search(raw):
        return True
    visible = len(raw) - len(_SPACES.findall(raw))
    if visible < 4:
        return False
    return len(_CODE_SYMBOL_RE.findall(raw)) / visible > 0.12


_TWO_DIGITS = re.compile(r"\d\d")


def _useful(token: str) -> bool:
    """Keep word tokens; drop bare numbers, over-long strings and number-like tokens.

    Arabizi writes single digits inside a word ("3afak", "s7i7"); a token with two digits in
    a row or more digits than letters ("31m" of a terminal colour code, "10h", "2x2") is a
    number with a unit, not a word.
    """
    if len(token) > MAX_TOKEN_LEN or token.isdigit():
        return False
    digits = sum(ch.isdigit() for ch in token)
    return digits <= len(token) - digits and not _TWO_DIGITS.search(token)


_SENTENCE_END = re.compile(r"[.!?؟:;\n]\s*$")


def _frame(raw: str) -> str:
    """Drop capitalised words inside sentences: titles and names.

    "Riproduci This Is: Miles Davis su Lastfm" is Italian whatever the song;
    keeping the sentence-initial word and the lower-case words shows the
    language of the message around the embedded English title. Falls back to
    the whole text when too little would be left (German nouns, all caps).

    Args:
        raw: Cleaned text with case kept.

    Returns:
        The text with mid-sentence capitalised words removed, or ``raw``.

    """
    words = raw.split()
    if not any(w[:1].isupper() for w in words[1:]):
        return raw  # fast path: nothing capitalised inside
    kept: list[str] = []
    sentence_start = True
    for word in words:
        first = _LETTER.search(word)
        core = first.group() if first else ""
        if sentence_start or not core or not core.isupper():
            kept.append(word)
        sentence_start = bool(_SENTENCE_END.search(word)) or (sentence_start and not core)
    if len(kept) >= 2 and len(kept) < len(words) and len(_LETTER.findall(" ".join(kept))) >= 8:
        return " ".join(kept)
    return raw


def analyse(text: Any, for_training: bool = False) -> _Analysis:
    """Clean a raw message and measure its script and signal.

    Args:
        text: The raw message (anything; non-strings are tolerated).
        for_training: Skip what only identification needs (the frame).

    Returns:
        The analysis used by the scorers.

    """
    if text is None:
        raw = ""
    elif isinstance(text, (bytes, bytearray)):
        raw = bytes(text[: MAX_CHARS * 4]).decode("utf-8", errors="replace")
    else:
        raw = str(text)
    raw = raw[:MAX_CHARS]
    code_like = _looks_like_code(raw)
    persian_letters = len(_PERSIAN_CHAR.findall(raw))
    raw = _HTML_TAG.sub(" ", raw)
    raw = _URL.sub(" ", raw)
    raw = _EMAIL.sub(" ", raw)
    raw = _HANDLE.sub(" ", raw)
    raw = _CODE.sub(" ", raw)
    raw = _drop_ticket_refs(raw)
    raw = _DASH_CODE.sub(" ", raw)
    has_arabic = bool(_ARABIC_CHAR.search(raw))
    if has_arabic:
        # In Arabic text, upper-case Latin words are acronyms or placeholders.
        raw = _ALL_CAPS.sub(" ", raw)
    raw = clean(raw)
    norm = _ELONGATED_ARABIC.sub(r"\1", normalize(raw))
    norm = _ELONGATED_OTHER.sub(r"\1\1", norm)
    toks = [t for t in _TOKEN.findall(norm) if _useful(t)]
    text_ = " ".join(toks)
    n_arabic = len(_ARABIC_CHAR.findall(text_))
    n_latin = len(_LATIN_CHAR.findall(text_))
    n_letters = len(_LETTER.findall(text_))
    signal = len(_LETTER.findall(" ".join(t for t in toks if t not in _NEUTRAL_WORDS)))
    latin_text = ""
    frame = ""
    if n_latin >= n_arabic:
        raw_toks = [t for t in _TOKEN.findall(raw) if _useful(t)]
        latin_text = _ELONGATED_OTHER.sub(r"\1\1", " ".join(raw_toks).lower())
        frame = raw if for_training else _frame(raw)
    return _Analysis(
        raw=raw,
        text=text_,
        tokens=toks,
        latin_text=latin_text,
        frame=frame,
        n_arabic=n_arabic,
        n_latin=n_latin,
        n_other=max(0, n_letters - n_arabic - n_latin),
        persian_letters=persian_letters,
        signal_letters=signal,
        code_like=code_like,
    )


def _frame_model_text(frame: str) -> str:
    """Prepare a frame (case kept) for the Latin n-gram model."""
    return _ELONGATED_OTHER.sub(
        r"\1\1", " ".join(t for t in _TOKEN.findall(frame) if _useful(t)).lower()
    )


def char_wb_ngrams(text: str, min_n: int = 1, max_n: int = 4) -> list[str]:
    """Character n-grams inside space-padded words, as scikit-learn's ``char_wb``.

    Args:
        text: Prepared text (tokens joined by single spaces).
        min_n: Smallest n-gram length.
        max_n: Largest n-gram length.

    Returns:
        The n-grams, with repetitions, in scikit-learn's order.

    """
    grams: list[str] = []
    append = grams.append
    for word in text.split():
        w = " " + word + " "
        w_len = len(w)
        for n in range(min_n, max_n + 1):
            offset = 0
            append(w[offset : offset + n])
            while offset + n < w_len:
                offset += 1
                append(w[offset : offset + n])
            if offset == 0:  # a word shorter than n is counted once
                break
    return grams


class _NgramModel:
    """Character n-gram (1-4, within words) TF-IDF logistic regression.

    scikit-learn trains it; prediction then uses only the extracted vocabulary,
    IDF weights and coefficients (plain Python and numpy), which is ~20x faster
    per message than calling the pipeline and makes saved models independent
    of scikit-learn.
    """

    NGRAM_RANGE = (1, 4)

    def __init__(self, classes: Sequence[str], c: float) -> None:
        self.classes = tuple(classes)
        self.c = c
        self.vocabulary: dict[str, int] = {}
        self.idf: Any = None
        self.coef: Any = None  # (n_outputs, n_features) float32
        self.intercept: Any = None
        self.output_classes: tuple[str, ...] = ()

    def fit(self, texts: list[str], labels: list[str]) -> _NgramModel:
        """Train on prepared texts.

        Args:
            texts: Prepared texts (see :func:`analyse`).
            labels: One class per text.

        Returns:
            Self.

        """
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        # char_wb n-grams see prefixes/suffixes ("كن", "ش ", " ka", "ch "); with
        # their padding spaces they also cover short function words.
        vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.NGRAM_RANGE,
            sublinear_tf=True,
            lowercase=False,
            dtype=np.float32,
        )
        features = vectorizer.fit_transform(texts)
        clf = LogisticRegression(C=self.c, solver="liblinear", class_weight="balanced")
        clf.fit(features, labels)
        self.vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        self.idf = vectorizer.idf_.astype(np.float32)
        self.coef = np.ascontiguousarray(clf.coef_.T, dtype=np.float32)  # (n_features, n_outputs)
        self.intercept = clf.intercept_.astype(np.float32)
        self.output_classes = tuple(str(c) for c in clf.classes_)
        return self

    def _proba(self, text: str) -> dict[str, float]:
        import numpy as np

        vocab = self.vocabulary
        counts = [
            (vocab[g], n)
            for g, n in Counter(char_wb_ngrams(text, *self.NGRAM_RANGE)).items()
            if g in vocab
        ]
        if counts:
            idx = np.fromiter((i for i, _ in counts), dtype=np.int64, count=len(counts))
            tf = np.fromiter((n for _, n in counts), dtype=np.float32, count=len(counts))
            weights = (1.0 + np.log(tf)) * self.idf[idx]  # sublinear tf * idf
            weights /= np.sqrt(float(weights @ weights))  # l2 norm
            decision = weights @ self.coef[idx] + self.intercept
        else:
            decision = self.intercept.copy()
        # liblinear one-vs-rest probabilities, as LogisticRegression.predict_proba.
        prob = 1.0 / (1.0 + np.exp(-decision.astype(np.float64)))
        if len(self.output_classes) == 2:
            pairs = {
                self.output_classes[0]: 1.0 - float(prob[0]),
                self.output_classes[1]: float(prob[0]),
            }
        else:
            prob = prob / prob.sum()
            pairs = {c: float(p) for c, p in zip(self.output_classes, prob, strict=True)}
        return {c: pairs.get(c, 0.0) for c in self.classes}

    def predict(self, texts: list[str]) -> list[dict[str, float]]:
        """Class probabilities for prepared texts.

        Args:
            texts: Prepared texts.

        Returns:
            One ``{class: probability}`` map per text.

        """
        return [self._proba(t) for t in texts]


class _Py3Langid:
    """Lazily loaded py3langid with probabilities renormalised over a subset."""

    _lock = threading.Lock()
    _instance: Any = None

    @classmethod
    def get(cls) -> Any:
        with cls._lock:
            if cls._instance is None:
                from py3langid.langid import MODEL_FILE
                from py3langid.langid import LanguageIdentifier as _LI

                cls._instance = _LI.from_pickled_model(MODEL_FILE, norm_probs=True)
            return cls._instance

    @classmethod
    def probs(cls, text: str, langs: Iterable[str]) -> dict[str, float]:
        wanted = set(langs)
        ranked = cls.get().rank(text)
        sub = {lang: float(p) for lang, p in ranked if lang in wanted}
        total = sum(sub.values())
        if total <= 0:
            return {lang: 1.0 / len(sub) for lang in sub} if sub else {}
        return {lang: p / total for lang, p in sub.items()}


class LanguageIdentifier:
    """Identify fr / ar / ary / ary_Latn / en / other in user messages.

    Build it with :meth:`default` (cached, trained on first use), :meth:`train`
    (from explicit texts), :meth:`from_project` (seeds + NLU data) or
    :meth:`load` (a file written by :meth:`save`).
    """

    _default: LanguageIdentifier | None = None
    _default_lock = threading.Lock()

    def __init__(
        self,
        arabic_model: _NgramModel,
        latin_model: _NgramModel,
        params: IdentifierParams | None = None,
        training_sizes: dict[str, int] | None = None,
    ) -> None:
        """Wrap trained models; use the class-method constructors instead."""
        self.arabic_model = arabic_model
        self.latin_model = latin_model
        self.params = params or IdentifierParams()
        self.training_sizes = dict(training_sizes or {})

    # ---- construction -------------------------------------------------------

    @classmethod
    def train(
        cls, texts_by_code: dict[str, list[str]], params: IdentifierParams | None = None
    ) -> LanguageIdentifier:
        """Train the n-gram models from labelled texts.

        Args:
            texts_by_code: Map from code (``fr``, ``en``, ``ar``, ``ary``,
                ``ary_Latn``, ``other``) to raw training sentences.
            params: Scoring weights; defaults to :class:`IdentifierParams`.

        Returns:
            A ready identifier.

        Raises:
            ValueError: When a variety has no training text.

        """
        params = params or IdentifierParams()
        arabic_x: list[str] = []
        arabic_y: list[str] = []
        latin_x: list[str] = []
        latin_y: list[str] = []
        sizes: dict[str, int] = {}
        for code, texts in texts_by_code.items():
            if code not in ALL_CODES:
                continue
            kept = 0
            for text in texts:
                a = analyse(text, for_training=True)
                if not a.text:
                    continue
                if code in _ARABIC_CLASSES:
                    if a.n_arabic > a.n_latin:
                        arabic_x.append(a.text)
                        arabic_y.append(code)
                        kept += 1
                elif a.n_latin >= a.n_arabic:
                    latin_x.append(a.latin_text)
                    latin_y.append(code)
                    kept += 1
            sizes[code] = kept
        missing = [c for c in ALL_CODES if not sizes.get(c)]
        if missing:
            raise ValueError(f"no training text for {missing}")
        arabic = _NgramModel(_ARABIC_CLASSES, params.ngram_c).fit(arabic_x, arabic_y)
        latin = _NgramModel(_LATIN_CLASSES, params.ngram_c).fit(latin_x, latin_y)
        return cls(arabic, latin, params, sizes)

    @classmethod
    def from_project(
        cls, repo_root: Path | None = None, params: IdentifierParams | None = None
    ) -> LanguageIdentifier:
        """Train on the project's own text: seed corpora plus NLU examples.

        Args:
            repo_root: Repository root (defaults to this checkout).
            params: Scoring weights.

        Returns:
            A ready identifier.

        """
        from bot.language import corpus

        data = corpus.load_training_texts(repo_root or corpus.REPO_ROOT)
        return cls.train(data, params)

    @classmethod
    def default(cls) -> LanguageIdentifier:
        """Return the shared identifier, trained from the project on first use.

        Returns:
            The process-wide cached instance.

        """
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls._from_project_cached()
        return cls._default

    @classmethod
    def _from_project_cached(cls) -> LanguageIdentifier:
        """Train from the project, reusing a model cached on disk when valid.

        The cache key hashes the training files, the code and the weights, so
        any change retrains. The cache lives in ``$MDM_LANGID_CACHE_DIR``
        (default ``~/.cache/mdm-assistant``); set it to an empty string or
        ``off`` to disable. Cache failures are never fatal.
        """
        cache_dir = _cache_dir()
        params = IdentifierParams()
        path: Path | None = None
        if cache_dir is not None:
            try:
                path = cache_dir / f"langid-{_project_fingerprint(params)}.pkl"
                if path.is_file():
                    return cls.load(path)
            except Exception as exc:  # noqa: BLE001 - a bad cache only costs a rebuild
                logger.info("Language model cache unusable (%s); rebuilding", exc)
        identifier = cls.from_project(params=params)
        if path is not None:
            try:
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                identifier.save(tmp)
                os.replace(tmp, path)  # atomic: concurrent processes never read half a file
                _prune_cache(path.parent, keep=path)
            except OSError as exc:
                logger.info("Could not cache the language model in %s: %s", path, exc)
        return identifier

    @classmethod
    def reset_default(cls) -> None:
        """Forget the cached default (e.g. after the NLU data changed)."""
        with cls._default_lock:
            cls._default = None

    def save(self, path: Path | str) -> None:
        """Persist the trained models and weights (pickle).

        Args:
            path: Destination file; parent folders are created.

        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "version": MODEL_VERSION,
            "arabic_model": self.arabic_model,
            "latin_model": self.latin_model,
            "params": asdict(self.params),
            "training_sizes": self.training_sizes,
        }
        with path.open("wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, path: Path | str) -> LanguageIdentifier:
        """Load an identifier written by :meth:`save`.

        Only load files your own training wrote: this is a pickle.

        Args:
            path: File written by :meth:`save`.

        Returns:
            The identifier.

        Raises:
            ValueError: When the file was written by an incompatible version.

        """
        with Path(path).open("rb") as fh:
            payload = pickle.load(fh)  # noqa: S301 - our own training artefact
        if not isinstance(payload, dict) or payload.get("version") != MODEL_VERSION:
            raise ValueError(f"{path}: not a language model of version {MODEL_VERSION}")
        return cls(
            payload["arabic_model"],
            payload["latin_model"],
            IdentifierParams(**payload["params"]),
            payload.get("training_sizes"),
        )

    # ---- identification -----------------------------------------------------

    def identify(self, text: str) -> LanguageGuess:
        """Identify the language variety of one message.

        Args:
            text: The raw user message (any length; only the start is used).

        Returns:
            The guess; see :class:`LanguageGuess`.

        """
        return self.identify_many([text])[0]

    def identify_many(self, texts: list[str]) -> list[LanguageGuess]:
        """Identify many messages, batching the n-gram model calls.

        Args:
            texts: Raw user messages.

        Returns:
            One guess per message, in order.

        """
        analyses = [analyse(t) for t in texts]
        arabic_idx = [i for i, a in enumerate(analyses) if self._script(a) == "arab"]
        latin_idx = [i for i, a in enumerate(analyses) if self._script(a) == "latn"]
        arabic_probs = dict(
            zip(
                arabic_idx,
                self.arabic_model.predict([analyses[i].text for i in arabic_idx]),
                strict=True,
            )
        )
        latin_probs = dict(
            zip(
                latin_idx,
                self.latin_model.predict([analyses[i].latin_text for i in latin_idx]),
                strict=True,
            )
        )
        # The French/English/other decision also looks at the message without
        # embedded titles; only computed where that differs.
        framed = [i for i in latin_idx if analyses[i].frame != analyses[i].latin_text]
        frame_texts = [_frame_model_text(analyses[i].frame) for i in framed]
        frame_probs = dict(zip(framed, self.latin_model.predict(frame_texts), strict=True))
        out: list[LanguageGuess] = []
        for i, a in enumerate(analyses):
            script = self._script(a)
            if script == "none":
                out.append(self._no_signal())
                continue
            if script == "other":
                # Cyrillic, CJK, Greek...: none of our varieties; still ambiguous
                # when very short, like any message.
                scores = {c: 0.0 for c in ALL_CODES}
                scores[OTHER] = 1.0
                strong = 0.0
            elif script == "arab":
                scores, strong = self._score_arabic(a, arabic_probs[i])
            else:
                scores, strong = self._score_latin(
                    a, latin_probs[i], frame_probs.get(i, latin_probs[i])
                )
            out.append(self._finish(a, scores, strong))
        return out

    # ---- internals ------------------------------------------------------------

    @staticmethod
    def _script(a: _Analysis) -> str:
        """Dominant script of the cleaned text: arab, latn, other or none."""
        total = a.n_arabic + a.n_latin + a.n_other
        if total == 0 or len(set(_LETTER.findall(a.text))) < 2:
            return "none"  # nothing, or one letter over and over ("xxxxxxxx", "ههههه")
        if a.n_other > a.n_arabic + a.n_latin:
            return "other"
        return "arab" if a.n_arabic >= a.n_latin else "latn"

    def _no_signal(self) -> LanguageGuess:
        scores = {c: 0.0 for c in ALL_CODES}
        return LanguageGuess(
            code=self.params.fallback, confidence=0.0, ambiguous=True, scores=scores
        )

    def _score_arabic(
        self, a: _Analysis, model: dict[str, float]
    ) -> tuple[dict[str, float], float]:
        """Darija vs MSA (vs another Arabic-script language)."""
        p = self.params
        darija = msa = strong = 0.0
        for tok in a.tokens:
            d, m = lexicon.arabic_token_evidence(tok)
            darija += d
            msa += m
            strong = max(strong, d, m)
        darija += lexicon.arabic_sequence_evidence(a.tokens)
        z = (
            p.arabic_model_weight * _logit(model["ary"])
            + p.arabic_lexicon_weight * (darija - msa)
            + p.arabic_bias
        )
        p_ary = _sigmoid(z)
        p_other = 0.0
        if a.persian_letters >= 2:
            # Persian/Urdu keyboards also serve Arabic speakers; ask py3langid.
            py = _Py3Langid.probs(a.raw, ("ar",) + _PY3LANGID_ARABIC_OTHER)
            p_other = 1.0 - py.get("ar", 0.0)
        scores = {c: 0.0 for c in ALL_CODES}
        scores["ary"] = (1 - p_other) * p_ary
        scores["ar"] = (1 - p_other) * (1 - p_ary)
        scores[OTHER] = p_other
        return scores, strong

    def _score_latin(
        self, a: _Analysis, model: dict[str, float], frame_model: dict[str, float]
    ) -> tuple[dict[str, float], float]:
        """Arabizi vs French/English/other."""
        p = self.params
        lex = lexicon.latin_lexicon()
        darija = strong = 0.0
        for tok in a.tokens:
            w = lex.get(tok, 0.0)
            pattern = lexicon.latin_pattern_evidence(tok)
            darija += w + pattern
            strong = max(strong, w, pattern)
        z = _logit(model["ary_Latn"]) + p.latin_lexicon_weight * darija + p.latin_bias
        p_ary = _sigmoid(z)
        rest = {c: frame_model[c] for c in ("fr", "en", OTHER)}
        total = sum(rest.values()) or 1.0
        py = _Py3Langid.probs(a.frame, _PY3LANGID_LATIN)
        py3 = {"fr": py.get("fr", 0.0), "en": py.get("en", 0.0)}
        py3[OTHER] = max(0.0, 1.0 - py3["fr"] - py3["en"])
        # py3langid is trained on long documents and overconfident on a few
        # words ("bonjour" -> English): trust it in proportion to the length.
        py_weight = p.py3langid_weight * min(1.0, a.signal_letters / p.py3langid_full_letters)
        log_s = {}
        for c in ("fr", "en", OTHER):
            prior = p.prior_other if c == OTHER else 1.0
            log_s[c] = (
                p.model_weight * math.log(max(rest[c] / total, 1e-9))
                # Floor: a peaked py3langid answer must not veto the others alone.
                + py_weight * math.log(max(py3[c], _PY3LANGID_FLOOR))
                + math.log(prior)
            )
        top = max(log_s.values())
        exp = {c: math.exp(v - top) for c, v in log_s.items()}
        norm = sum(exp.values())
        scores = {c: 0.0 for c in ALL_CODES}
        scores["ary_Latn"] = p_ary
        for c in ("fr", "en", OTHER):
            scores[c] = (1 - p_ary) * exp[c] / norm
        return scores, strong

    def _finish(self, a: _Analysis, scores: dict[str, float], strong: float) -> LanguageGuess:
        code = max(scores, key=lambda c: scores[c])
        confidence = float(scores[code])
        ambiguous = (
            a.code_like
            or (a.signal_letters < self.params.min_signal_letters and strong < 2.0)
            or confidence < self.params.min_confidence
        )
        rounded = {c: round(float(v), 4) for c, v in scores.items()}
        return LanguageGuess(
            code=code, confidence=round(confidence, 4), ambiguous=ambiguous, scores=rounded
        )


def _cache_dir() -> Path | None:
    """Folder for the cached default model, or None when caching is off."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "0", "off", "false", "no") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mdm-assistant"


def _prune_cache(folder: Path, keep: Path, max_files: int = 4) -> None:
    """Delete all but the most recent cached models (each data change adds one)."""
    cached = sorted(folder.glob("langid-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in cached if p != keep][max_files - 1 :]:
        old.unlink(missing_ok=True)


def _project_fingerprint(params: IdentifierParams) -> str:
    """Hash what the default model depends on: data files, code and weights."""
    from bot.language import corpus

    digest = hashlib.sha256()
    digest.update(f"v{MODEL_VERSION}|{sorted(asdict(params).items())}|".encode())
    here = Path(__file__).resolve().parent
    code = [here / "identify.py", here / "lexicon.py", here / "corpus.py"]
    code.append(here.parent / "text" / "normalize.py")
    for path in code + corpus.training_files():
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def identify(text: str) -> LanguageGuess:
    """Identify a message with the shared default identifier.

    Args:
        text: The raw user message.

    Returns:
        The guess; see :class:`LanguageGuess`.

    """
    return LanguageIdentifier.default().identify(text)
