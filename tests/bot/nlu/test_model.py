from __future__ import annotations

from bot.nlu.model import IntentModel


def test_model_ranks_and_normalises():
    texts = [
        "renouveler passeport",
        "passeport perdu",
        "جواز السفر",
        "lpaspor",
        "bonjour",
        "salam",
        "السلام عليكم",
        "hello there",
    ]
    labels = ["passport"] * 4 + ["greet"] * 4
    model = IntentModel().fit(texts, labels)
    ranking = model.rank(["PASSEPORT renouvelé", "أهلا السلام"], top=2)
    assert ranking[0][0][0] == "passport"
    assert ranking[1][0][0] == "greet"
    for row in ranking:
        assert abs(sum(score for _, score in row) - 1.0) < 1e-6  # two classes: full distribution
        assert row[0][1] >= row[1][1]


def test_model_survives_empty_and_huge_input():
    model = IntentModel().fit(["a b", "c d", "e f", "g h"], ["x", "x", "y", "y"])
    assert len(model.rank(["", "z" * 100_000])) == 2
