-- description: CinePile's adversarial refinement per question category and in total: questions judged degenerate (a blind answerer right in at least `degenerate_at` of 5 cyclic rotations, or the learned text-only attacks ranking the key first with probability >= flag_at) before and after refinement, how many were fixed, how many the set-level gates removed (blind_attack, key_prior), and the share still answered correctly with the scene text. Category names on one line.
-- chart: question_category degenerate_before
WITH q AS (
    SELECT replace(question_category, chr(10), ' ') AS category, *
    FROM refined_questions
)
SELECT coalesce(category, '(all)') AS question_category,
       count(*) AS questions,
       count(*) FILTER (WHERE degenerate_before) AS degenerate_before,
       count(*) FILTER (WHERE degenerate_after) AS degenerate_after,
       count(*) FILTER (WHERE status = 'fixed') AS fixed,
       count(*) FILTER (WHERE status = 'still_degenerate') AS still_degenerate,
       count(*) FILTER (WHERE status = 'unanswerable') AS unanswerable,
       count(*) FILTER (WHERE status = 'unverified') AS unverified,
       count(*) FILTER (WHERE reason = 'blind_attack') AS gated_blind_attack,
       count(*) FILTER (WHERE reason = 'key_prior') AS gated_key_prior,
       count(*) FILTER (WHERE kept) AS kept,
       round(count(*) FILTER (WHERE degenerate_before) / count(*), 4) AS degenerate_share_before,
       round(count(*) FILTER (WHERE degenerate_after) / count(*), 4) AS degenerate_share_after,
       round(count(*) FILTER (WHERE status = 'fixed')
             / nullif(count(*) FILTER (WHERE degenerate_before), 0), 4) AS fixed_share,
       round(avg(CAST(context_correct AS DOUBLE)) FILTER (WHERE status IN ('fine', 'fixed')), 4) AS context_answerable_share
FROM q
GROUP BY ROLLUP (category)
ORDER BY category IS NULL DESC, category
