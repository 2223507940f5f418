"""Marker lexicons for telling the Arabic and Latin-script varieties apart.

Off-the-shelf detectors know Arabic, French and English but not Moroccan
Darija. Darija has a small set of very frequent function words (``ديال``,
``واش``, ``بغيت``, ``دابا``; ``dyal``, ``wach``, ``bghit``, ``daba``) that MSA,
French and English never use, while MSA has its own (``الذي``, ``هذه``,
``لقد``, ``سوف``). These lists give the identifier that prior knowledge so it
generalises beyond the sentences it was trained on.

Entries are written in natural spelling; :func:`weighted_lexicon` normalises
them with :func:`bot.text.normalize.normalize` so that lookups on normalised
tokens match (``أريد`` -> ``اريد``, ``شوية`` -> ``شويه``).

Weights are log-odds style evidence: 2 for words that practically only occur
in one variety, 1 for strong leaners, 0.5 for words that are also common
elsewhere (or collide with French/English/Italian words in Latin letters).
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.text.normalize import normalize

# --- Darija in Arabic script ------------------------------------------------

ARY_STRONG = """
ديال ديالي ديالك ديالو ديالها ديالنا ديالكم ديالهم دياله ديالكوم ديالهوم بغيت بغا بغات بغينا
بغيتي بغيتو بغاو كنبغي كيبغي كتبغي كنبغيو بغيتك باغي باغية باغين واش كيفاش علاش شنو اشنو شنهو
اشنهو شنوا شناهو شكون اشكون شحال امتى فوقاش منين فين فاين دابا بزاف بزااف ماشي مكاينش ماكاينش
كاين كاينة كاينين راه راني راك راكي راها راهم رانا راكم غادي غادية غاديين غانمشي غاندير واخا
مزيان مزيانة مزيانين زوين زوينة صافي والو هادشي هادي هادو هاد داك ديك دوك هداك هديك هادوك ديكشي
داكشي عافاك عفاك عافاكم خاصني خاصك خاصو خاصها خاصنا خاصكم خصني خصك خصو خصنا نتا نتي نتوما حنا
هوما ديما بحال فاش ملي حيت دغيا دغية بصح واقيلا ياك ياكما ماعرفتش معرفتش مابغيتش ماعنديش معنديش
ماعندكش ماكنعرفش مكنعرفش مافهمتش مفهمتش ماكاين كلشي والو كاع ڭاع هكا هكاك هاكا هاكاك بلاصة
البلاصة كنخدم كيخدم كتخدم خدام خدامة خدامين كيدير كتدير كندير كنديرو دير ديري درت درتي دارو
مشيت نمشي كنمشي غنمشي جيت نجي جيبي عطيني عطيه عطاني عطاوني البارح الدراري دراري الوليدات بنادم
مرا مراتي راجلي ختي خويا خوتي الطوموبيل طوموبيل التيليفون تيليفون البورطابل الباسبور باسبور
الكارط لاكارط البيرمي الكونسولا كونسولا رونديفو لابوسط الفاكتورة ميرسي بونجور الطاكسي الطرام
الكريدي البانكا سيفط صيفط صيفطو صيفط نصيفط كنصيفط تصيفط شوف شفتي شفت كنشوف كيشوف نشوف كنظن كنحس
كنقلب كنتسنا كنسكن كنقرا كنهضر كيهضر كتهضر نهضر هضر قوليا گولي ڭولي كيقولو كيقول كتقول لاباس
بلاتي زعما زعمة صحابي صاحبي معايا معاك معاه معاها معانا معاكم معاهم عليا ليا بيا فيا منو هادا
هاداك هاديك هادوك هداك هديك هدوك دبا اوا اووا ايوا وايلي واعر واعرة قاصح قاصحة عيانة خايب خايبة
حشومة الحاصول ياخد ناخد تاخد كنشرب كيشرب جاتني جاني جاو جات مشات مشاو غادين كاتكون كيكون كنكون
غيكون غاتكون غايكون تانا حتا ماعمرني ماعمرها ماعمرو ماعمري الدري الدرية الولاد وليدي الواليد
"""

ARY_MEDIUM = """
شي ليا ليك ليه ليها لينا ليكم ليهم غا اللي باش بلي تا بلا عندي عندك ماعندو شوية شويه خوك ختك
الفلوس فلوس سيري الماتش عيط نعيط كيعيط مسكين مسكينة جيب قولي غلط راجل ماقدرتش مقدرتش مابقاش
بقات بقيت نبقى ف فال فالدار فالمغرب ولات وليت نعس تعطل معطل صيفطت لقيت نلقى
"""

ARY_WEAK = """
باقي مزال مازال نقدر تقدر يقدر كنقدر كتقدر قدرت والله العشيه
"""

# Shared with MSA but more frequent in Darija writing: barely counted.
ARY_FAINT = """
لي عندي غير عاد سير الدار الخدمة خدمة القهوة
"""

# --- Modern Standard Arabic ---------------------------------------------------

AR_STRONG = """
الذي التي الذين اللذان اللتان اللواتي اللاتي الذى لقد سوف هؤلاء هذه ذلك تلك لماذا ماذا ليس ليست
لست لسنا لستم اريد تريد يريد نريد ارغب يمكنني يمكنك يمكننا يمكنه استطيع تستطيع نستطيع يستطيع
ايضا جدا الان عندما لدي لدينا لديك لديه لديها لديهم حيث منذ ينبغي يجب سيكون سيتم يتم تم اصبح
اصبحت اود اعتقد اتمني هنالك هناك نحن انتم انتما انتن لكنني لكنه لكنها لانه لانها لانني فقط شيء
شيئا ثم لكي
"""

AR_MEDIUM = """
هل لم لن قد الى عن كيف متى اين الا او لكن اذا اذ هذا مثل جميع انت هم كانوا ان يمكن
"""

# Words of other Arabic dialects (Egyptian, Levantine, Gulf). The assistant has
# no class for them; they are not MSA, and Moroccan tweets borrow them, so
# they count as (weak) evidence for the dialect side.
DIALECT_OTHER = """
مش مو شو ليش هيك هلق بدي بدك بدو عشان علشان كده كدا ازاي ايش وش مفيش معلش كمان برضو اوي
خلاص طب ايوه لسه زي يلا ياريت اللي دول دي ده عايز عايزه عاوز حاجه تاع تاعي تاعك تاعنا
"""


def _parse(block: str, weight: float) -> dict[str, float]:
    """Normalise a whitespace-separated block of words into a weight map."""
    out: dict[str, float] = {}
    for word in block.split():
        key = normalize(word)
        if key:
            out[key] = weight
    return out


@lru_cache(maxsize=1)
def arabic_lexicons() -> tuple[dict[str, float], dict[str, float]]:  # noqa: C901
    """Build the Darija and MSA marker weights for Arabic-script tokens.

    Returns:
        ``(darija, msa)``: two maps from normalised token to weight. A word
        listed in both (e.g. ``ماشي`` vs nothing) keeps its stronger Darija
        reading only when it is absent from the MSA list.

    """
    darija: dict[str, float] = {}
    for block, w in (
        (DIALECT_OTHER, 0.7),
        (ARY_FAINT, 0.2),
        (ARY_WEAK, 0.5),
        (ARY_MEDIUM, 1.0),
        (ARY_STRONG, 2.0),
    ):
        darija.update(_parse(block, w))
    msa: dict[str, float] = {}
    # Medium MSA words are function words shared with Darija writing, so they
    # count little; the strong ones are rare or absent in Darija.
    for block, w in ((AR_MEDIUM, 0.3), (AR_STRONG, 1.5)):
        msa.update(_parse(block, w))
    for key in list(msa):
        if key in darija and darija[key] >= msa[key]:
            del msa[key]
    for key in list(darija):
        if key in msa:
            del darija[key]
    return darija, msa


# Darija negation ma...ch / ma...chi: "ماعرفتش", "مكاينش", "مابغاش".
_ARY_NEG = re.compile(r"^ما?[\u0600-\u06ff]{2,}شي?$")
# MSA adjectives/nouns that happen to fit the negation pattern.
_ARY_NEG_EXCEPT_TEXT = """
مدهش منعش مرتعش مشمش منكمش مفتش مخدش ماش معاش معاشي معاشه معش منقوش مرعش مغشوش مشوش مكمش
مدهوش ميش مراكش مشمش
"""
_ARY_NEG_EXCEPT = frozenset(normalize(w) for w in _ARY_NEG_EXCEPT_TEXT.split())
# Darija progressive/future prefixes on an imperfect verb: "كنبغي", "كيدير",
# "كاتعطي", "غاتشجع". The "تن"/"غن" variants are left out: too many MSA
# verbs and nouns start that way ("تنتهي", "غناء").
_ARY_PREFIX = re.compile(r"^(كن|كت|كي|كا[نتي]|غا[نتي])[\u0600-\u06ff]{2,}$")
_ARY_PREFIX_EXCEPT_TEXT = """
كيف كيفيه كيفية كيان كيانات كيلو كيلومتر كيماوي كيميائي كيس كيميا كنت كنتم كنتما كنا كنز
كنوز كندا كنيسه كنيسة كنيته كتاب كتب كتبت كتبه كتابه كتابة كتابات كتيب كتف كتله كتلة كتائب
كتاباته كانت كانوا كانتا كاتب كاتبه كاتبة كانون كاتدرائيه غانم غانا غاية
"""
_ARY_PREFIX_EXCEPT = frozenset(normalize(w) for w in _ARY_PREFIX_EXCEPT_TEXT.split())


# Laughter and elongated letters mark informal writing, which leans dialect.
_LAUGH = re.compile(r"^(ه){3,}$|^(خ){3,}$")


_ARY_DAL_EXCEPT_TEXT = """
دالة دالتها دالتين دالات داليا دالاس
"""
_ARY_DAL_EXCEPT = frozenset(normalize(w) for w in _ARY_DAL_EXCEPT_TEXT.split())


def arabic_sequence_evidence(tokens: list[str]) -> float:
    """Score Darija evidence spread over neighbouring tokens.

    Catches the split negation ``ما ... ش`` ("ما ردش", "ما عندكش") and
    informal laughter ("ههههه"), which single-token lookups miss.

    Args:
        tokens: Normalised tokens of a message, in order.

    Returns:
        Darija evidence, >= 0.

    """
    score = 0.0
    for prev, tok in zip([""] + tokens[:-1], tokens, strict=True):
        if (
            prev in ("ما", "م")
            and len(tok) >= 3
            and tok.endswith(("ش", "شي"))
            and tok not in _ARY_NEG_EXCEPT
        ):
            score += 1.0
        if _LAUGH.match(tok):
            score += 0.3
    return score


def arabic_token_evidence(token: str) -> tuple[float, float]:
    """Score one normalised Arabic token: lexicon first, then word shape.

    A token absent from both lexicons is retried without a leading ``و``
    ("and"), which both varieties glue to the next word ("وبغيت", "ولقد").

    Args:
        token: A normalised Arabic-script token.

    Returns:
        ``(darija, msa)`` evidence, both >= 0.

    """
    darija_lex, msa_lex = arabic_lexicons()
    for candidate in (token, token[1:] if len(token) > 3 and token[0] == "و" else ""):
        if not candidate:
            continue
        d = darija_lex.get(candidate, 0.0)
        m = msa_lex.get(candidate, 0.0)
        if d or m:
            return d, m
    return arabic_pattern_evidence(token)


def arabic_pattern_evidence(token: str) -> tuple[float, float]:
    """Score morphological Darija evidence of one normalised Arabic token.

    Args:
        token: A normalised Arabic-script token.

    Returns:
        ``(darija, msa)`` evidence from word shape alone (negation circumfix,
        verb prefixes), both >= 0.

    """
    darija = 0.0
    if len(token) >= 4 and _ARY_NEG.match(token) and token not in _ARY_NEG_EXCEPT:
        darija += 1.0
    if len(token) >= 5 and _ARY_PREFIX.match(token) and token not in _ARY_PREFIX_EXCEPT:
        darija += 0.8
    if len(token) >= 6 and token.startswith("دال") and token not in _ARY_DAL_EXCEPT:
        darija += 1.0  # genitive "د" + article: "دالبطاقه", "دالمغرب"
    return darija, 0.0


# --- Darija in Latin script (Arabizi) ----------------------------------------

ARY_LATN_STRONG = """
dyal dyali dyalk dyalek dyalo dyalha dyalna dyalkom dyalhom diali dialk dialek dialo
dialha dialna dialkom bghit bgha bghat bghina bghiti bghitou bghaw kanbghi kanbgha kaybghi
katbghi baghi bghitek wach wash kifach kifash kifech kifch 3lach 3lash 3lech alach chno chnou
chnu chnouwa achno ashno shno chkon chkoun chkun shkun ach7al ch7al sh7al chhal imta fo9ach
fokach mnin fayn daba bzaf bezzaf bzzaf bezaf bzaaf mzyan mzyana mezyan mzian mziana mzyanin
zwin zwina zwine machi mashi makaynch makaynach makainch makayench makaynch kayn kayna kaynin
kain kaina kayen rani raha rak raki rahom rana rakom ghadi ghadya ghadin ghadyin ghan wakha
wakhha waxa safi walo walou hadchi hadshi hadik hadak hadok hadou dakchi dikchi 3afak 3afek
3fak afak 3afakom khasni khassni khesni khassek khask khasso khasha khassna khasna ntoma ntouma
ntuma 7na homa huma dima b7al bhal bach bash fach fash melli mli 7it dghya dghiya bsa7 wa9ila
waqila blli belli kolchi kulchi koulchi ga3 gaa3 kamlin hakka hakda blasa lblasa khedma lkhedma
khdma khdam khdama khddam kankhdem kaykhdem katkhdem nkhdem kandir kaydir katdir ndir dert
derti drt drti n9der t9der kan9der kayn9der ma9dertch ma9drtch mchit nmchi kanmchi ghanmchi jit
3tini a3tini 3tani lbas bslama besslama hamdolah hamdollah l7amdolilah l7amdolah hamdoulillah
hamdullah l7amdulillah mrhba marhba sahbi s7abi sa7bi khoya khouya khti mskin meskin meskina
m3a ma3a m3ak m3aya m3ah m3aha m3ana 3ndi 3andi 3endi 3ndk 3ndek 3andek 3ndo 3ndha ma3ndich
ma3andich ma3ndkch 3la 3lik 3liya 3lih 3liha tbarkallah barakallah tbarklah ghda ghedda lbare7
lbar7 lyoum lyouma mrati rajli drari derari wlidat 3awtani 3awed 3awd ba9i b9it mazal mazala
lflous lflouss flouss chokran choukran chokrane chukran choukrane sme7 sm7li sme7li smahli
sma7li kanchouf kaychouf katchouf nchouf chouf chofti chfti kangoul kaygoul katgoul golt glt
golti galo gal kan3ref kat3ref ma3reftch ma3rftch makan3rfch makanfhemch mafhemtch fhemt fhmt
kanhder kayhder kathder nhder hder tkellem nkelem l3a2ila l3ayla lmaghrib lmghrib lmagrib lbled
"""

ARY_LATN_MEDIUM = """
dial chi shi li lli ila wla wela bla hna hada hadi hado lah wallah walah inchallah nchallah
inshallah yallah yalah siri kano kanet kont kount kenti kanou 7ta hta hetta labas bled lik liya
lih liha lina likom lihom mn fl fel f w nta nti howa hiya ghir ghi 3ad ndir jib tji nji salam
slm chwiya chwia shwiya
"""

# Also (or mostly) words of French, English or other languages: "had", "fin",
# "hit", "men", "dik" (Dutch), "dir" (German), "ola" (Portuguese "ola").
ARY_LATN_WEAK = """
fin hit rah chta sbah nhar ldar had dak dik dok ola sir kan kant men ana dir
"""


@lru_cache(maxsize=1)
def latin_lexicon() -> dict[str, float]:
    """Build the Arabizi marker weights for Latin-script tokens.

    Returns:
        A map from normalised token to Darija evidence weight.

    """
    out: dict[str, float] = {}
    for block, w in ((ARY_LATN_WEAK, 0.3), (ARY_LATN_MEDIUM, 0.6), (ARY_LATN_STRONG, 2.0)):
        out.update(_parse(block, w))
    return out


# Letters and an Arabizi digit in one token: "3afak", "m3a", "sba7", "9ra".
_ARABIZI_DIGIT = re.compile(r"^(?=.*[a-z])(?=.*[235789])[a-z0-9]+$")
# Digits followed by a unit/ordinal/time suffix are not Arabizi: "2eme", "10h",
# "5km", "3g", "24h", "2x".
_NOT_ARABIZI = re.compile(
    r"^\d+(er|ere|eme|e|em|nd|rd|st|th|h|hr|hrs|min|mn|km|kg|g|gb|go|mb|mo|k|m|cm|mm|l|ml|"
    r"dh|dhs|mad|eur|euros?|usd|am|pm|x|d|j|s|ans?|mois|t)$"
    r"|^[a-z]{1,2}\d{1,4}$"  # "h24", "mp3", "a4", "b2"
    r"|^\d+[a-z]\d+$"  # "3x4", "1h30"
    r"|^[a-z]{3,}\d{2,}$"  # "covid19", "iphone14", "windows10"
)
# Short words ending in a vowel + 3/7/9/2 are Arabizi ("ta3", "ma3", "la7"),
# unlike "mp3" or "a4".
_SHORT_ARABIZI = re.compile(r"^[bcdfghjklmnpqrstvwxz]?[aeiou][2379]$")
# Darija negation ma...ch: "ma3reftch", "makaynch", "mabghitch".
_LATN_NEG = re.compile(r"^ma[a-z0-9]{2,}(ch|sh)(i|e)?$")
# Progressive/future prefixes: "kanmchi", "kaydir", "katkhdem", "ghanmchi".
_LATN_PREFIX = re.compile(
    r"^(kan|kay|kat|tan|tay|ghan|ghat|ghay|gha)[bcdfghjklmnqrstvwxz23789][a-z0-9]{2,}$"
)
# Definite article glued to a French/Darija noun: "lpaspor", "lconsulat", "lbanka".
_LATN_ARTICLE = re.compile(r"^l[bcdfghjkmnpqrstvwxz][a-z]{3,}$")


def is_arabizi_digit_token(token: str) -> bool:
    """Tell whether a normalised token uses digits as letters (Arabizi).

    Args:
        token: A normalised Latin token.

    Returns:
        True for tokens like ``3afak``, ``m3a``, ``sba7``; False for plain
        numbers, ordinals (``2eme``), units (``10km``) and short codes (``h24``).

    """
    if not _ARABIZI_DIGIT.match(token):
        return False
    if _NOT_ARABIZI.match(token) and not _SHORT_ARABIZI.match(token):
        return False
    letters = sum(ch.isalpha() for ch in token)
    return letters >= 1 and letters >= sum(ch.isdigit() for ch in token)


def latin_pattern_evidence(token: str) -> float:
    """Score Arabizi evidence of one normalised Latin token from its shape.

    Args:
        token: A normalised Latin token.

    Returns:
        Darija evidence from digits-as-letters, the ``ma...ch`` negation, verb
        prefixes and a glued article; 0 when the token looks ordinary.

    """
    score = 0.0
    if is_arabizi_digit_token(token):
        score += 1.5
    if _LATN_NEG.match(token) and len(token) >= 6:
        score += 1.0
    if _LATN_PREFIX.match(token):
        score += 0.7
    elif _LATN_ARTICLE.match(token):
        score += 0.4
    return score
