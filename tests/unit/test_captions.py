import polars as pl
import pytest
from pydantic import ValidationError

from assets.hygiene.captions import (
    CAPTION_COLUMNS,
    REASONS,
    CaptionRules,
    Flag,
    clean_caption,
    flag_caption,
    screen_captions,
)


def reasons(text, rules=CaptionRules()):
    return [f.reason for f in flag_caption(text, rules)]


def cleaned(text):
    return clean_caption(text, flag_caption(text))


@pytest.mark.parametrize("text", [
    "A teacher helps students assess the class project in Scunthorpe.",  # no listed word inside a word
    "A man walks through Tokyo at night and looks at the neon signs.",
    "The chef says voilà as he serves the dish to the guests.",  # a one-word French phrase
    "The waiter says 'bon appétit, mes amis' and leaves the table.",  # a short quoted phrase is left out
    "A reporter stands outside the Museo de la Ciudad de México.",  # de, la inside a name are not Spanish
    "The painting has a certain je ne sais quoi about it.",
    "A view of Tokyo Tower (東京タワー) at night.",  # five kana/kanji in 29 letters
    "Is the man happy?",  # closes with a question mark
    "A dog running on the beach",  # a short label needs no full stop
    "The war lasted from 1990-2000 and the meeting started at 12:30.",
    "On 2020-01-15 the team met. Born 12.05.1987, he counts 1 000 000 000 stars.",
    "Judges showed 10.25 20.50 30.75 on their cards.",  # decimals, not a phone split by dots and spaces
    "No, no. He shakes his head and says no no no.",  # a word three times is speech, four is a loop
])
def test_clean_captions_are_not_flagged_and_come_back_unchanged(text):
    assert flag_caption(text) == []
    assert clean_caption(text, []) == text


def test_personal_data_is_masked_and_the_evidence_names_kinds_not_values():
    text = "Contact me at john.doe@example.com or +44 20 7946 0958 for bookings."
    assert flag_caption(text) == [Flag("personal_data", "email, phone", True)]
    assert cleaned(text) == "Contact me at [email] or [phone] for bookings."


@pytest.mark.parametrize("phone", ["(555) 123-4567", "555.123.4567", "1-800-555-0199", "+33 6 12 34 56 78",
                                   "+49 30 1234567", "+4915112345678", "020 7946 0958"])
def test_phone_formats_are_masked(phone):
    assert cleaned(f"Call {phone} to book a table.") == "Call [phone] to book a table."


def test_profile_urls_and_handles_are_masked():
    text = "Check instagram.com/janedoe or youtube.com/@jane and ask @jane_doe for the recipe."
    assert reasons(text) == ["personal_data"]
    assert cleaned(text) == "Check [url] or [url] and ask [handle] for the recipe."


def test_profanity_is_masked_as_whole_words_only():
    text = "What the fuck is this shit, he says as the car in Scunthorpe breaks down."
    assert flag_caption(text) == [Flag("profanity", "fuck, shit", True)]
    assert cleaned(text) == "What the [profanity] is this [profanity], he says as the car in Scunthorpe breaks down."


def test_boilerplate_sentences_are_removed():
    text = ("This video is sponsored by Acme. A chef sears a steak in a busy kitchen. "
            "Don't forget to subscribe to my channel! Link in the description.")
    assert flag_caption(text) == [Flag("boilerplate", "This video is sponsored by", True)]
    assert cleaned(text) == "A chef sears a steak in a busy kitchen."


def test_a_caption_that_is_only_boilerplate_cannot_be_fixed():
    text = "Like and subscribe. Hit the bell."
    assert flag_caption(text) == [Flag("boilerplate", "Like and subscribe", False)]
    assert cleaned(text) is None


@pytest.mark.parametrize(("text", "sentence"), [
    ("Un homme marche dans la rue avec son chien.", "Un homme marche dans la rue avec son chien."),
    ("A woman cooks pasta in a small kitchen. Ella corta los tomates y los pone en la olla.",
     "Ella corta los tomates y los pone en la olla."),
    ("Der Mann ist mit dem Hund im Park.", "Der Mann ist mit dem Hund im Park."),
    ("A man waves at the camera. 今天天气很好我们去公园吧。", "今天天气很好我们去公园吧。"),
])
def test_a_sentence_in_another_language_is_flagged_and_not_fixable(text, sentence):
    assert flag_caption(text) == [Flag("non_english", sentence, False)]
    assert cleaned(text) is None


def test_a_long_quoted_foreign_line_is_judged_like_the_rest():
    text = "A man says: 'Je suis très content, c’est la vie' and smiles."  # 7 words: more than a phrase
    assert reasons(text) == ["non_english"]
    assert reasons(text, CaptionRules(quoted_phrase_words=7)) == []


def test_a_trailing_fragment_is_dropped_when_a_complete_sentence_precedes_it():
    assert flag_caption("A man walks in. He opens the door and...") == [
        Flag("truncated", "He opens the door and...", True)]
    assert cleaned("A man walks in. He opens the door and...") == "A man walks in."
    assert cleaned("A man cooks pasta. He adds salt and stirs the sauce while the") == "A man cooks pasta."


@pytest.mark.parametrize("text", [
    "A man cooks pasta and stirs the sauce slowly while talking about his grandmother's recipe",  # 14 words, unclosed
    "A man opens the door and",  # ends on a connective
    "The camera pans across a beau-",  # cut inside a word
    "Wait for it...",
])
def test_a_truncated_caption_without_a_complete_sentence_is_rejected(text):
    assert [(f.reason, f.fixable) for f in flag_caption(text)] == [("truncated", False)]
    assert cleaned(text) is None


def test_the_truncation_length_is_a_rule():
    text = "A man cooks pasta and stirs the sauce"
    assert reasons(text) == []
    assert reasons(text, CaptionRules(truncation_words=8)) == ["truncated"]


@pytest.mark.parametrize(("text", "clean"), [
    ("the man is walking. the man is walking. the man is walking.", "the man is walking."),
    ("The man is walking the man is walking the man is walking.", "The man is walking."),
    ("A very very very very good dog runs.", "A very good dog runs."),
    ("A dog barks at the mailman. A cat sleeps. A dog barks at the mailman.",
     "A dog barks at the mailman. A cat sleeps."),
])
def test_repeats_are_collapsed_to_one_copy(text, clean):
    assert reasons(text) == ["repeated"]
    assert cleaned(text) == clean


@pytest.mark.parametrize("text", ["", "   ", "A dog.", "Bonjour."])
def test_empty_or_short_captions_are_rejected(text):
    assert flag_caption(text) == [Flag("empty_or_short", text.strip(), False)]
    assert cleaned(text) is None


@pytest.mark.parametrize(("text", "clean"), [
    ("A man cooks pasta. Subscribe to my channel and", "A man cooks pasta."),  # fragment and promo at once
    ("Call 555-123-4567! Call 555-123-4567! Call 555-123-4567! A shop sells fresh bread.",
     "Call [phone]! A shop sells fresh bread."),
    ("A fucking great goal. Follow me on Instagram. A fucking great goal. The crowd cheers",
     "A [profanity] great goal."),
    ("A man opens the door. Email a.b@c.com now. Email a.b@c.com now. The man sits down.",
     "A man opens the door. Email [email] now. The man sits down."),
])
def test_cleaning_repeats_until_no_fixable_flag_is_left(text, clean):
    assert cleaned(text) == clean
    assert flag_caption(clean) == []


def test_a_rewrite_that_leaves_too_little_is_rejected():
    assert reasons("fuck fuck fuck fuck") == ["profanity", "repeated"]
    assert cleaned("fuck fuck fuck fuck") is None  # [profanity] is one word


def test_flags_follow_the_reason_order():
    text = "Email me at a.b@c.com, shit. Subscribe to my channel. A cat sleeps on the sofa and"
    assert reasons(text) == ["truncated", "boilerplate", "personal_data", "profanity"]
    assert reasons(text) == [r for r in REASONS if r in reasons(text)]


def test_screen_captions_keeps_every_row_and_stores_the_rewrite_beside_the_original():
    df = pl.DataFrame({"record_id": ["a", "b", "c", "d", "e"],
                       "caption": ["A cat sleeps on the sofa.", "A cat sleeps. Like and subscribe!",
                                   "Le chat dort sur le canapé.", None, "Subscribe to my channel."]})
    out = screen_captions(df)
    assert out.columns == ["record_id", "caption", *CAPTION_COLUMNS]
    assert out["caption_flags"].to_list() == [[], ["boilerplate"], ["non_english"], ["empty_or_short"],
                                              ["boilerplate"]]
    assert out["caption_kept"].to_list() == [True, True, False, False, False]
    assert out["caption_reason"].to_list() == [None, None, "non_english", "empty_or_short", "boilerplate"]
    assert out["caption_clean"].to_list() == ["A cat sleeps on the sofa.", "A cat sleeps.",
                                              "Le chat dort sur le canapé.", None, "Subscribe to my channel."]
    assert out["caption"].to_list() == df["caption"].to_list()


def test_screen_captions_names_the_reason_a_rewrite_ran_into():
    out = screen_captions(pl.DataFrame({"text": ["Hit the bell. Dog dog dog dog."]}), column="text")
    assert out["caption_flags"][0].to_list() == ["boilerplate", "repeated"]  # both fixable on the original
    assert out.row(0, named=True)["caption_kept"] is False
    assert out["caption_reason"][0] == "empty_or_short"  # "Dog." is what is left
    assert out["caption_clean"][0] == "Hit the bell. Dog dog dog dog."


def test_screen_captions_on_an_empty_frame_and_again_on_its_own_output():
    empty = screen_captions(pl.DataFrame({"caption": []}, schema={"caption": pl.String}))
    assert empty.schema == pl.Schema({"caption": pl.String, "caption_flags": pl.List(pl.String),
                                      "caption_kept": pl.Boolean, "caption_reason": pl.String,
                                      "caption_clean": pl.String})
    once = screen_captions(pl.DataFrame({"caption": ["A dog. A dog runs far. A dog runs far."]}))
    assert screen_captions(once).equals(once)


def test_rules_are_frozen_strict_and_described():
    rules = CaptionRules()
    with pytest.raises(ValidationError):
        CaptionRules(min_word=2)
    with pytest.raises(ValidationError):
        rules.min_words = 1
    assert "< 3 words" in rules.describe() and ">= 12 words" in rules.describe()
    assert all(field.description for field in CaptionRules.model_fields.values())


FRAGMENTS = ["A man cooks pasta.", "Subscribe to my channel!", "Call 555-123-4567 now.", "the dog runs. the dog runs.",
             "very very very very", "and then the", "What the fuck.", "He opens the door and...", "Email a.b@c.com.",
             "Le chat est sur la table.", "Hit the bell", "A woman smiles at the camera", "it is it is it is"]


@pytest.mark.parametrize("first", FRAGMENTS)
def test_a_rewrite_flagged_again_has_no_fixable_flag(first):
    for second in FRAGMENTS:
        for third in FRAGMENTS:
            text = f"{first} {second} {third}"
            clean = cleaned(text)
            assert clean is None or flag_caption(clean) == [], text
