"""Q/A generation (prompt, Q#/A# parser, offline extraction) and the two filter profiles."""

from __future__ import annotations

import polars as pl
import pytest

from assets.docmatix.pdfa import page_from_lines
from assets.docmatix.qa_filters import (
    PageIndex,
    QAFilterRules,
    compat_failures,
    judge,
    removal_table,
    verdicts,
)
from assets.docmatix.qa_offline import PRIORITY, PageCandidates, generate_pairs
from assets.docmatix.qa_prompts import (
    NEW_PAGE,
    VARIANTS,
    document_text,
    format_qa,
    parse_qa,
    system_prompt,
    variant_for,
)
from assets.docmatix.question_forms import question_form
from assets.kit.screening import NOT_EVALUATED, evaluate

GROUNDED_AT = QAFilterRules().grounded_at

# ---- the Q#/A# parser ------------------------------------------------------------------------------


def test_parse_plain_pairs_and_multiline_answers():
    text = "Q1: What is the total?\nA1: 3,033.24\nQ2: Who signed?\nA2: Ada\nLovelace\n"
    assert parse_qa(text) == [(1, "What is the total?", "3,033.24"), (2, "Who signed?", "Ada\nLovelace")]


def test_parse_keeps_inner_blank_lines_for_the_filters_to_see():
    assert parse_qa("Q1: Why?\nA1: first\n\nsecond\n\nQ2: x?\nA2: y") == [
        (1, "Why?", "first\n\nsecond"), (2, "x?", "y")]


def test_parse_markdown_decoration_and_inline_answers():
    text = "- **Q1:** What is the date?\n- **A1:** 9 May 2024\n### Q2: Total? A2: 12.50\nQ3:Plot?\nA3:B-39"
    assert parse_qa(text) == [(1, "What is the date?", "9 May 2024"), (2, "Total?", "12.50"),
                              (3, "Plot?", "B-39")]


def test_parse_drops_unpaired_and_keeps_the_first_answer():
    text = "Intro line\nA0: orphan answer\nQ1: asked\nQ2: asked twice?\nA2: first\nA2: second\nQ3: never answered"
    assert parse_qa(text) == [(2, "asked twice?", "first")]


def test_parse_leaves_a_mid_line_marker_in_the_text():
    ((_, _, answer),) = parse_qa("Q1: What is due?\nA1: 40.00 then Q2: what else")
    assert "Q2:" in answer


def test_format_round_trips_through_the_parser():
    pairs = [("What is x?", "1"), ("Is it y?", "No")]
    assert [(q, a) for _, q, a in parse_qa(format_qa(pairs))] == pairs


# ---- the prompt ------------------------------------------------------------------------------------


def test_variant_is_deterministic_and_uses_all_five():
    assert variant_for("0001234") == variant_for("0001234")
    assert {variant_for(f"{i:07d}") for i in range(200)} == set(range(len(VARIANTS)))


def test_prompt_joins_pages_with_new_page_and_asks_four_per_page():
    layout = [page_from_lines([[("a", [0, 0, 0.1, 0.1])], [("b", [0, 0.2, 0.1, 0.1])]]),
              page_from_lines([[("c", [0, 0, 0.1, 0.1])]])]
    assert document_text(layout) == f"a\nb\n{NEW_PAGE}\nc"
    prompt = system_prompt(2, pages=2)
    assert "about 8 question" in prompt and "NEW PAGE" in prompt and "unanswerable" in prompt
    assert VARIANTS[2][1] in prompt and "Q1: <question>" in prompt


# ---- offline extraction ----------------------------------------------------------------------------

H = 0.012


def line(text: str, x: float, y: float, h: float = H) -> list[tuple[str, list[float]]]:
    words, out, cx = text.split(), [], x
    for w in words:
        out.append((w, [cx, y, 0.01 * len(w), h]))
        cx += 0.01 * len(w) + 0.005
    return out


PAGE = page_from_lines([
    line("Acme Sales Report", 0.1, 0.05, h=0.03),
    line("Invoice number: INV-1", 0.1, 0.10),
    line("Due date: 9 March 2024", 0.1, 0.12),
    line("Full name:", 0.1, 0.14), line("Ada Lovelace", 0.4, 0.14),
    line("Region", 0.1, 0.20), line("Q1", 0.4, 0.20), line("Q2", 0.6, 0.20),
    line("North", 0.1, 0.22), line("10", 0.4, 0.22), line("20", 0.6, 0.22),
    line("South", 0.1, 0.24), line("30", 0.4, 0.24), line("40", 0.6, 0.24),
    line("1. Summary", 0.1, 0.30),
    line("Total sales in 2023 reached 1,234 units across", 0.1, 0.32),
    line("four regions. Figures come from the order system.", 0.1, 0.335),
])


def test_page_candidates_read_the_layout():
    c = PageCandidates(PAGE, 0, general=False).candidates
    assert c["title"] == [("What is the title of this document?", "Acme Sales Report")]
    assert c["key_value"] == [("What is the invoice number?", "INV-1"), ("What is the due date?", "9 March 2024"),
                              ("What is the full name?", "Ada Lovelace")]
    assert sorted(c["table_cell"]) == sorted([
        ("In the table, what is the Q1 value for North?", "10"), ("In the table, what is the Q2 value for North?", "20"),
        ("In the table, what is the Q1 value for South?", "30"), ("In the table, what is the Q2 value for South?", "40"),
    ])
    assert c["heading"] == [("What is the heading of section 1?", "Summary")]
    # the paragraph's two lines are one sentence; its first date is blanked out
    assert c["date"] == [('Fill in the blank from the document: "Total sales in ___ reached 1,234 units across '
                          'four regions."', "2023")]
    assert ("Is the invoice number INV-1?", "Yes") in c["yes_no"]
    assert ("Is the due date 9 March 2024?", "Yes") not in c["yes_no"]  # odd ones get another key's value
    assert PageCandidates(PAGE, 0, general=False).summary() == (
        "What is this document about?", "Acme Sales Report. Invoice number: INV-1; Due date: 9 March 2024.")


def test_identifiers_urls_and_emails_are_not_cloze_answers():
    page = page_from_lines([line("Pay online at https://pay.example/inv-2024-6631 before the due date today.", 0.1, 0.1),
                            line("Questions go to billing@acme.example in 2024 please write soon.", 0.1, 0.2)])
    c = PageCandidates(page, 0, general=False).candidates
    assert c["date"] == [('Fill in the blank from the document: "Questions go to billing@acme.example in ___ '
                          'please write soon."', "2024")]


@pytest.mark.parametrize("variant", range(len(VARIANTS)))
def test_generation_takes_about_four_per_page_and_one_summary(variant):
    pairs = generate_pairs([PAGE, PAGE], "0000001", variant)
    per_page = [sum(p.page == i for p in pairs) for i in (0, 1)]
    assert per_page == [4, 4]
    assert [p.kind for p in pairs].count("summary") == 1
    assert len({p.question.lower() for p in pairs}) == len(pairs)
    first = pairs[0] if VARIANTS[variant][0] == "summary_and_detail" else next(p for p in pairs if p.kind != "summary")
    assert first.kind in ("summary", PRIORITY[VARIANTS[variant][0]][0])
    assert generate_pairs([PAGE], "0000001", variant) == generate_pairs([PAGE], "0000001", variant)


def test_question_forms():
    assert [question_form(q) for q in (
        "Is the total 3?", 'Fill in the blank from the document: "a ___"', "What is this document about?",
        "How many units?", "In the table, what is the Q1 value for North?", "When is it due?", "Plot?",
        "Could you tell me the due date?",
    )] == ["yes_no", "fill_blank", "summary", "how_many", "what", "when", "other", "other"]


# ---- filters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("question,answer,rules", [
    ("What is {company_name}?", "Acme", ["curly_braces"]),
    ("What is the total?", "[amount]", ["square_brackets"]),
    ("What does <b>bold</b> mean?", "strong", ["angle_brackets"]),
    ("Which server hosts it?", "10.0.0.1", ["ipv4", "dotted_word"]),
    ("What is the subtotal?", "3,207.80", ["dotted_word"]),
    ("Where to pay?", "https://pay.example/x", ["dotted_word"]),
    ("What is it?", "first\n\nsecond", ["blank_line"]),
    ("What is it?", "", ["blank_line"]),
    ("Who signed it?", "Unanswerable", ["unanswerable"]),
    ("What is the date?", "9 May 2024 Q2: and the total", ["leftover_marker"]),
    ("What is the date?", "9 May 2024", []),
])
def test_each_compat_rule_on_its_own(question, answer, rules):
    assert compat_failures(question, answer) == rules


PAGES = PageIndex.of([
    "Invoice INV-1\nSubtotal: 3,207.80\nPay at https://pay.example.com/inv-1\nSee config.yaml [1]",
    "Second page\nSigned by Ada Lovelace on 9 May 2024",
])


def verdict(q, a, seen=None):
    return judge(q, a, PAGES, set() if seen is None else seen)


def test_decimals_urls_and_printed_text_survive_the_default_profile():
    for q, a in (("What is the subtotal?", "3,207.80"), ("Where can one pay?", "https://pay.example.com/inv-1"),
                 ("What should one see?", "config.yaml"), ("What is seen beside config.yaml?", "[1]")):
        v = verdict(q, a)
        assert v.failures == () and v.compat != (), (q, a, v)


def test_default_profile_rejections():
    assert verdict("Which file holds the settings?", "settings.toml").failures == (
        "dotted_token", "ungrounded_answer", "answer_not_on_page", "question_does_not_locate_answer")
    assert verdict("Who is the customer?", "[Customer name]").failures == (
        "template_brackets", "ungrounded_answer", "answer_not_on_page")
    hallucinated = verdict("Who signed the invoice?", "John Smith")
    assert hallucinated.failures == ("ungrounded_answer", "answer_not_on_page") and hallucinated.grounding < GROUNDED_AT
    assert verdict("Total?", "3,207.80").failures == ("question_too_short", "question_does_not_locate_answer")
    assert verdict("What is the subtotal?", "3,207.80 " * 100).failures == ("answer_too_long", "answer_too_wordy")
    assert verdict("Who signed it?", "unanswerable").failures == ("unanswerable", "ungrounded_answer",
                                                                  "answer_not_on_page")
    assert verdict(None, None).failures == ("generation_failed",)


def test_grounding_finds_the_page_and_judges_yes_no_by_the_question():
    v = verdict("Who signed the document?", "Ada Lovelace")
    assert v.failures == () and v.page == 1 and v.grounding == 1.0
    assert verdict("Was it signed by Ada Lovelace?", "Yes").failures == ()
    assert verdict("Was it signed by Grace Hopper?", "No").failures == (
        "ungrounded_answer", "answer_not_on_page", "question_does_not_locate_answer")
    # a paraphrase that keeps the page's content words is grounded
    assert verdict("What is the subtotal?", "The subtotal is 3,207.80").failures == ()


def test_a_question_asked_twice_of_one_document_is_kept_once():
    seen: set[str] = set()
    assert verdict("What is the subtotal?", "3,207.80", seen).failures == ()
    assert verdict("what is the  Subtotal", "3,207.80", seen).failures == ("duplicate_question",)


def _raw() -> tuple[pl.DataFrame, pl.DataFrame]:
    layout = '{"pages": [{"lines": {"text": ["Subtotal: 3,207.80", "Signed by Ada Lovelace"]}}]}'
    docs = pl.DataFrame({"record_id": ["d1"], "layout": [layout]})
    raw = pl.DataFrame({
        "record_id": ["d1:qa1", "d1:qa2", "d1:qa3", "d1:qa4", "d1:failed"],
        "document_id": ["d1"] * 5,
        "question": ["What is the subtotal?", "Who signed it?", "What is the subtotal?", "Who is the buyer?", None],
        "answer": ["3,207.80", "Ada Lovelace", "3,207.80", "Bob", None],
        "error": [None, None, None, None, "InternalServerError: boom"],
    })
    return raw, docs


def test_verdicts_and_removal_table_account_for_every_pair():
    raw, docs = _raw()
    out = verdicts(raw, docs)
    assert out.height == raw.height and out["record_id"].to_list() == raw["record_id"].to_list()
    assert out["kept"].to_list() == [True, True, False, False, False]
    assert out["reason"].to_list() == [None, None, "duplicate_question", "ungrounded_answer", "generation_failed"]
    assert out["compat_kept"].to_list() == [False, True, False, True, False]
    # what each rule read is stored beside the verdict
    assert out["repeat_of"].to_list() == [None, None, "d1:qa1", None, None]
    assert out["question_words"].to_list() == [4, 3, 4, 4, None] and out["grounding"][3] < GROUNDED_AT
    assert out["detail"][2] == "d1:qa1 (keep if repeat_of is null)"
    assert out["detail"][4] == "InternalServerError: boom (keep if error is null)"
    # the same record judged again: no parents of its own
    assert out["parent_ids"].to_list() == [[]] * 5 and out["models"].to_list() == [[]] * 5
    table = {r["rule"]: r for r in removal_table(out).iter_rows(named=True)}
    assert table["dotted_word"]["compat"] == 2 and table["dotted_word"]["default"] is None
    assert table["dotted_token"]["default"] == 0
    assert table["generation_failed"]["default"] == 1
    assert table["ungrounded_answer"]["default"] == 1  # the failed generation is not counted again here
    assert table["ANY (profile)"]["compat"] == 3 and table["ANY (profile)"]["default"] == 3
    assert table["ANY (profile)"]["compat_rate"] == 0.6


def test_filter_thresholds_are_rule_parameters_and_the_audit_re_evaluates_them():
    raw, docs = _raw()
    strict = QAFilterRules(min_question_words=4)
    out = verdicts(raw, docs, strict)
    assert out["reason"].to_list() == [None, "question_too_short", "duplicate_question", "ungrounded_answer",
                                       "generation_failed"]
    assert "question_too_short: keep if question_words >= 4" in strict.describe()
    row = out.row(1, named=True)
    steps = evaluate(row, strict.rules())
    decided = next(i for i, (_, status, _) in enumerate(steps) if status == "FAIL")
    assert steps[decided] == ("question_too_short", "FAIL", "3 (keep if question_words >= 4)")
    assert {status for _, status, _ in steps[decided + 1:]} == {NOT_EVALUATED}
    assert all(status == "pass" for _, status, _ in steps[:decided])
    assert [s for _, s, _ in evaluate(row, QAFilterRules().rules())].count("FAIL") == 0  # kept by default


def test_raw_rows_nest_the_document_id_and_declare_the_generation():
    from assets.docmatix.qa_task import QAGenerationTask, raw_rows
    from resources.llm import LLMResource

    layout = [PAGE]
    run = LLMResource().run(QAGenerationTask(), [{"key": "0000001", "variant": 0, "layout": layout}] * 2)
    docs = pl.DataFrame({"record_id": ["pdf:s1:0000001", "pdf:s2:0000001"], "doc_key": ["0000001"] * 2,
                         "source_key": ["pdf:abc"] * 2, "shard": ["s1", "s2"]})
    rows = raw_rows(docs, [0, 0], run)
    first = rows.filter(pl.col("document_id") == "pdf:s1:0000001")
    assert first["record_id"].to_list() == [f"qa:(pdf:s1:0000001):{i}" for i in range(first.height)]
    assert rows["record_id"].n_unique() == rows.height  # the same PDF in two shards: distinct pairs
    assert rows["parent_ids"].to_list() == [[d] for d in rows["document_id"]]
    (entry,) = rows["models"][0]
    assert (entry["role"], entry["backend"], entry["task_version"]) == ("qa", "offline", "docmatix_qa@1")
    assert entry["fingerprint"] and not {"backend", "model", "prompt_sha", "cached"} & set(rows.columns)


# ---- Korean pages ------------------------------------------------------------------------------------

KOREAN_PAGE = page_from_lines([
    line("거래명세서", 0.1, 0.05, h=0.03),
    line("발행일: 2024년 5월 17일", 0.1, 0.10),
    line("받는 곳: 해오름초등학교", 0.1, 0.12),
    line("합계 금액: 3,131,000원", 0.1, 0.14),
    line("품목", 0.1, 0.20), line("수량", 0.4, 0.20), line("금액", 0.6, 0.20),
    line("사무용 의자", 0.1, 0.22), line("9", 0.4, 0.22), line("1,701,000원", 0.6, 0.22),
    line("모니터 받침대", 0.1, 0.24), line("4", 0.4, 0.24), line("180,000원", 0.6, 0.24),
    line("복사용지 A4", 0.1, 0.26), line("7", 0.4, 0.26), line("174,300원", 0.6, 0.26),
    line("물품은 2024년 5월 20일에 배송될 예정입니다.", 0.1, 0.32),
    line("총액 3,131,000원을 기한 안에 입금해 주십시오.", 0.1, 0.36),
])


def test_a_korean_page_is_asked_in_korean_with_its_particles():
    p = PageCandidates(KOREAN_PAGE, 0, general=False)
    c = p.candidates
    assert p.lang == "ko"
    assert c["title"] == [("이 문서의 제목은 무엇입니까?", "거래명세서")]
    # Hangul keys are keys; 발행일 ends in a consonant (은), a key after a bracket would take 은(는)
    assert c["key_value"] == [("문서에 적힌 발행일은 무엇입니까?", "2024년 5월 17일"),
                              ("문서에 적힌 받는 곳은 무엇입니까?", "해오름초등학교"),
                              ("문서에 적힌 합계 금액은 무엇입니까?", "3,131,000원")]
    assert ("표에서 사무용 의자의 금액 값은 무엇입니까?", "1,701,000원") in c["table_cell"]
    assert ("문서에 적힌 발행일은 2024년 5월 17일입니까?", "예") in c["yes_no"]
    # a Korean date and a won amount are blanked whole, their particles left in the sentence
    assert c["date"] == [('다음 문장의 빈칸을 채우십시오: "물품은 ___에 배송될 예정입니다."', "2024년 5월 20일")]
    assert c["amount"] == [('다음 문장의 빈칸을 채우십시오: "총액 ___을 기한 안에 입금해 주십시오."', "3,131,000원")]
    assert PageCandidates(KOREAN_PAGE, 0, general=True).candidates["key_value"][0] == (
        "문서에 적힌 발행일을 알려 주시겠습니까?", "2024년 5월 17일")
    assert p.summary() == ("이 문서는 무엇에 관한 것입니까?",
                           "거래명세서. 발행일: 2024년 5월 17일; 받는 곳: 해오름초등학교.")


def test_korean_pairs_pass_the_answerability_filter_when_right_and_fail_when_wrong():
    index = PageIndex.of([KOREAN_PAGE])
    pairs = [(q, a) for kind in PRIORITY["general"] for q, a in PageCandidates(KOREAN_PAGE, 0, general=False)
             .candidates[kind]] + [PageCandidates(KOREAN_PAGE, 0, general=False).summary()]
    failed = {q: judge(q, a, index, set()).failures for q, a in pairs}
    assert len(pairs) >= 12 and not any(failed.values()), {q: f for q, f in failed.items() if f}
    assert "answer_not_on_page" in judge("문서에 적힌 합계 금액은 무엇입니까?", "3,131원", index, set()).failures
    # the right number in the wrong row: the question's words are printed around another cell
    assert "question_points_elsewhere" in judge("표에서 모니터 받침대의 수량 값은 무엇입니까?", "9", index, set()).failures
    # a yes/no statement the page does not print is not confirmed by it
    assert "answer_not_on_page" in judge("문서에 적힌 합계 금액은 9,999,000원입니까?", "예", index, set()).failures


def test_korean_question_forms():
    assert [question_form(q) for q in (
        "문서에 적힌 발행일은 무엇입니까?", "문서에 적힌 발행일은 2024년 5월 17일입니까?",
        '다음 문장의 빈칸을 채우십시오: "총액 ___을 입금해 주십시오."', "이 문서는 무엇에 관한 것입니까?",
        "품목은 몇 개입니까?")] == ["what", "yes_no", "fill_blank", "summary", "how_many"]
