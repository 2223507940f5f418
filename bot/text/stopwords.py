"""Function words of the five varieties, in normalised form (see :mod:`bot.text.normalize`).

Search ignores them: "comment faire pour le passeport" and "passeport" ask the same thing, and
words like "de", "في", "dyal" otherwise outweigh the words that carry the topic.
"""

from __future__ import annotations

from bot.text.normalize import normalize

_RAW = {
    "fr": """a au aux avec ce ces c cet cette comment dans de des du elle en est et etre faire
        faut il ils j je l la le les leur lui ma me mes moi mon ne nous on ou par pas pour qu
        que quel quelle quels quelles qui sa se ses si son sont sur t ta te tes toi ton tu un
        une vos votre vous y bonjour salut svp stp merci veux voudrais peux puis dois est-ce
        comment quoi quand ai as avoir aussi bien tres plus d s n m""",
    "en": """a an and are as at be been but by can could do does for from have how i if in is
        it its me my of on or our please so that the their them then there these they this
        to want was we what when where which who why will with would you your hi hello need
        get should i'm im""",
    "ar": """في من الى إلى على عن ان أن إن هل ما ماذا كيف اين أين متى لماذا هذا هذه ذلك التي
        الذي الذين هو هي انا أنا نحن انت أنت انتم لي لك له لها لنا مع او أو ثم قد لقد كان
        يكون اريد أريد ارغب أرغب يمكن يمكنني ممكن كل بعض عند بين حتى اذا إذا لا لم لن كم
        شكرا السلام عليكم مرحبا""",
    "ary": """ف في من ل الى على عل و واش شنو شنوا كيفاش كيف فين فاين علاش امتى إمتى هاد هادي
        هادا هاديك داك ديك ديال ديالي ديالك ديالو ديالها ديالنا انا أنا حنا نتا نتي انت هو
        هي ليا ليك ليه عندي عندك بغيت بغينا بغا خاصني خاصك خصني كاين كاينة راه را غير باش
        حيت ولا اولا أو ما ش شي عافاك الله يخليك السلام سلام شكرا بزاف دابا""",
    "ary_Latn": """f fi fl l el al w wa wach wash chno chnou chnowa kifach kifash kif fin fain
        3lach 3la 3al mn men had hadi hada dak dik dyal dyali dyalek dyalk dyalo dyalha dyalna
        ana 7na nta nti howa hiya lia lik liya 3andi 3ndi 3andek bghit bghina brit khasni
        khassni khsni kayn kayna rah ra ghir bach 7it wla ola ma chi shi 3afak 3fak llah
        yekhlik salam slm chokran bzaf daba o""",
}

#: ``{variety: set of normalised function words}``.
STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(normalize(word).lower() for word in raw.split()) for lang, raw in _RAW.items()
}
#: Every variety's function words together (queries can mix varieties).
ALL_STOPWORDS: frozenset[str] = frozenset().union(*STOPWORDS.values())
