"""The answerability rules on pages shaped like the real failures: a value read as a table header,
a transcript's line numbers read as a table, an empty key, a page number as a title, a question
that points at another cell, invisible text, an ambiguous blank; and what they must keep."""

from __future__ import annotations

from assets.docmatix.answerability import (
    PageLayout,
    answer_core,
    assess,
    blank_fillings,
    content_words,
    slot_problem,
    tokens,
    value_like,
)
from assets.docmatix.pdfa import page_from_lines
from assets.docmatix.qa_filters import PageIndex, judge

H = 0.012


def cells(*row: tuple[str, float], y: float) -> list[list[tuple[str, list[float]]]]:
    """One line per cell, all on baseline y."""
    return [[(w, [x + 0.012 * i, y, 0.01 * len(w), H]) for i, w in enumerate(text.split())] for text, x in row]


TABLE = page_from_lines([
    *cells(("Sales by state 2023", 0.1), y=0.05),
    *cells(("State", 0.1), ("Units", 0.4), ("Returns", 0.6), y=0.10),
    *cells(("Arizona", 0.1), ("0", 0.4), ("12", 0.6), y=0.12),
    *cells(("Nevada", 0.1), ("35", 0.4), ("0", 0.6), y=0.14),
    *cells(("Utah", 0.1), ("18", 0.4), ("7", 0.6), y=0.16),
])
TRANSCRIPT = page_from_lines([
    *cells(("3", 0.05), ("MICHAEL A. KNOWLES,", 0.1), y=0.10),
    *cells(("4", 0.05), ("having been first duly sworn, testified", 0.1), y=0.12),
    *cells(("5", 0.05), ("as follows:", 0.1), y=0.14),
    *cells(("17", 0.9), y=0.95),
])


def failures(question: str, answer: str, *pages) -> tuple[str, ...]:
    return judge(question, answer, PageIndex.of(list(pages)), set()).failures


def test_the_known_bad_pairs_are_rejected_with_their_reason():
    assert "empty_slot" in failures("What is the ?", "Nevada", TABLE)
    assert "slot_not_a_key" in failures("In the table, what is the 0 value for Arizona?", "12", TABLE)
    assert "slot_not_a_key" in failures("what is the MICHAEL A. KNOWLES, value for 4?", "having", TRANSCRIPT)
    assert "row_label_not_a_row" in failures("In the table, what is the Units value for 4?", "x", TRANSCRIPT)
    assert "answer_not_text" in failures("What is the title of this document?", "17", TRANSCRIPT)
    assert "answer_not_text" in failures("What is this document about?", "17. Having been sworn.", TRANSCRIPT)


def test_a_real_cell_is_kept_and_the_wrong_row_points_elsewhere():
    assert failures("In the table, what is the Units value for Nevada?", "35", TABLE) == ()
    assert failures("How many returns did Utah have?", "7", TABLE) == ()
    wrong = failures("In the table, what is the Units value for Nevada?", "18", TABLE)
    assert "question_points_elsewhere" in wrong  # Utah's units: the question's words sit around 35
    assert failures("What is the title of this document?", "Sales by state 2023", TABLE) == ()


def test_printed_twice_labels_name_no_single_cell():
    # '0' is printed in two rows; as a row label or a header it names nothing
    assert "row_label_not_a_row" in failures("In the table, what is the Units value for 0?", "35", TABLE)


def test_answer_match_is_normalised_and_ocr_tolerant_but_exact_for_numbers():
    page = PageLayout(["Signed by Ada Loveiace on 9 May 2024", "Total due 3,207.80"])
    assert page.answer_hits("ada lovelace")[0] >= 0.9  # one OCR slip in a long word
    assert page.answer_hits("3,207.80")[0] == 1.0
    assert page.answer_hits("3,207.81")[0] == 0.0  # a number is right or wrong
    assert page.answer_hits("207")[0] == 0.0  # and never matched inside another token


def test_invisible_lines_are_not_on_the_page():
    page = {"lines": {"text": ["Leadpct: 0%", "Instructions for Form 1040NR"],
                      "bbox": [[0.5, 0.0, 0.08, 0.0], [0.1, 0.1, 0.5, 0.03]]}}
    assert PageLayout.of_page(page).lines == ["Instructions for Form 1040NR"]
    assert "answer_not_on_page" in failures("Could you tell me the leadpct?", "0%", page)


def test_a_blank_must_be_read_off_the_page_as_the_answer():
    page = PageLayout(["A return for the 2007 calendar year is due by April 15, 2008.",
                       "A return for the 2007 calendar year is due by June 16, 2008."])
    assert blank_fillings(page, "is due by June 16, ___.", "2008") == {"2008"}
    assert blank_fillings(page, "calendar year is due by ___", "April 15, 2008") == {"april 15 2008", "june 16 2008"}
    q = 'Fill in the blank from the document: "calendar year is due by ___, 2008."'
    assert assess(q, "June 16", [page]).context_margin < 0  # two fillings: the blank is ambiguous
    assert assess('Fill in the blank from the document: "is due by June 16, ___."', "2008", [page]).context_margin == 0


def test_cjk_is_tokenised_per_character_and_full_sentence_answers_by_their_span():
    assert tokens("第7.9条 平原") == ["第", "7.9", "条", "平", "原"]
    assert PageLayout(["第 7.9 条 服务设施出入口加减速车道用地指标"]).answer_hits("7.9")[0] == 1.0
    assert answer_core("What is the subtotal?", "The subtotal is 3,207.80") == "3,207.80"
    assert content_words("In the table, what is the Units value for Utah?", "18") == ["units", "utah"]


def test_slots():
    assert value_like("2,366,592") and value_like("08/04/2015") and value_like("$8,500") and not value_like("Q1")
    assert slot_problem("", "key") == "empty key"
    assert slot_problem("(No. of adults", "key").startswith("key is a fragment")
    assert slot_problem("file form 1040NR if", "key").startswith("key is a sentence fragment")
    assert slot_problem("Invoice number", "key") is None


def test_hangul_is_tokenised_per_syllable_but_counted_in_words():
    from assets.docmatix.answerability import is_fragment, word_count

    assert tokens("합계 금액은 3,131,000원") == ["합", "계", "금", "액", "은", "3,131,000", "원"]
    # OCR spacing ("오후 1 시 부터") does not hide an answer printed as "오후 1시부터"
    assert PageLayout(["일시: 2024년 12월 6일 오후 1 시 부터"]).answer_hits("오후 1시부터")[0] == 1.0
    assert word_count("주차장 도색 공사 안내") == 4 and not is_fragment("주차장 도색 공사 안내")
    # Korean template words and particles carry no content; the key's syllables do
    assert content_words("표에서 사무용 의자의 수량 값은 무엇입니까?", "9") == ["사", "무", "용", "의", "자", "수", "량"]
    assert content_words("3절의 제목은 무엇입니까?") == ["3"]
