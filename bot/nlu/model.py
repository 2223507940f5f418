"""The scikit-learn model behind :class:`bot.nlu.intent_classifier.LinearIntentClassifier`.

Kept free of Rasa imports so benchmarks and tests can use it on its own.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.text.normalize import normalize

#: Longer messages carry no more intent signal; the cap bounds the cost of huge inputs.
MAX_CHARS = 1000


def _prepare(text: str) -> str:
    return normalize(text[:MAX_CHARS]).lower()


class IntentModel:
    """TF-IDF (char_wb 1-5 and word 1-2 grams) + linear SVM, scores turned into confidences.

    A linear SVM trains in seconds here where a multinomial logistic regression on the same
    features takes minutes, for the same held-out accuracy; its margins go through a softmax
    with a fixed temperature so the fallback threshold has a stable scale.
    """

    def __init__(self, C: float = 1.0, temperature: float = 6.0) -> None:  # noqa: N803
        """Configure the model.

        Args:
            C: Inverse regularisation strength of the SVM.
            temperature: Multiplier of the SVM margins before the softmax (higher: peakier).
        """
        self.temperature = temperature
        self.pipeline = Pipeline(
            [
                (
                    "features",
                    FeatureUnion(
                        [
                            (
                                "chars",
                                TfidfVectorizer(
                                    analyzer="char_wb",
                                    ngram_range=(1, 5),
                                    sublinear_tf=True,
                                    min_df=1,
                                    preprocessor=_prepare,
                                ),
                            ),
                            (
                                "words",
                                TfidfVectorizer(
                                    analyzer="word",
                                    ngram_range=(1, 2),
                                    sublinear_tf=True,
                                    token_pattern=r"(?u)\b\w+\b",  # noqa: S106 (a regex, not a password)
                                    preprocessor=_prepare,
                                ),
                            ),
                        ]
                    ),
                ),
                ("clf", LinearSVC(C=C)),
            ]
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "IntentModel":
        """Fit on parallel lists of texts and intent names."""
        self.pipeline.fit(list(texts), list(labels))
        return self

    @property
    def classes(self) -> List[str]:
        """The intent names, in the model's column order."""
        return [str(c) for c in self.pipeline.classes_]

    def predict(self, texts: Sequence[str]) -> List[str]:
        """Most likely intent of each text."""
        return [str(p) for p in self.pipeline.predict(list(texts))]

    def rank(self, texts: Sequence[str], top: int = 10) -> List[List[Tuple[str, float]]]:
        """The ``top`` intents of each text with their probabilities, best first."""
        margins = np.asarray(self.pipeline.decision_function(list(texts)), dtype=float)
        if margins.ndim == 1:  # two classes: sklearn returns the margin of the second only
            margins = np.column_stack([-margins, margins])
        margins = margins * self.temperature
        margins -= margins.max(axis=1, keepdims=True)
        exp = np.exp(margins)
        probabilities = exp / exp.sum(axis=1, keepdims=True)
        classes = self.classes
        result = []
        for row in probabilities:
            order = np.argsort(row)[::-1][:top]
            result.append([(classes[i], float(row[i])) for i in order])
        return result
