-- description: CinePile's adversarial refinement per question category and in total: questions a blind answerer (question and options only, 5 cyclic rotations) got right on at least 3 of 5 before and after refinement, how many were fixed, and the share still answered correctly with the scene text. Targets: at least 90% of degenerate questions fixed, at least 95% of refined questions answerable with the scene.
-- chart: question_category degenerate_before
SELECT coalesce(question_category, '(all)') AS question_category,
       count(*) AS questions,
       count(*) FILTER (WHERE blind_correct_before >= 3) AS degenerate_before,
       count(*) FILTER (WHERE blind_correct_after >= 3) AS degenerate_after,
       count(*) FILTER (WHERE status = 'fixed') AS fixed,
       count(*) FILTER (WHERE status = 'still_degenerate') AS still_degenerate,
       count(*) FILTER (WHERE status = 'unanswerable') AS unanswerable,
       count(*) FILTER (WHERE status = 'unverified') AS unverified,
       round(count(*) FILTER (WHERE blind_correct_before >= 3) / count(*), 4) AS degenerate_share_before,
       round(count(*) FILTER (WHERE blind_correct_after >= 3) / count(*), 4) AS degenerate_share_after,
       round(count(*) FILTER (WHERE status = 'fixed')
             / nullif(count(*) FILTER (WHERE blind_correct_before >= 3), 0), 4) AS fixed_share,
       round(avg(CAST(context_correct AS DOUBLE)) FILTER (WHERE status IN ('fine', 'fixed')), 4) AS context_answerable_share
FROM refined_questions
GROUP BY ROLLUP (question_category)
ORDER BY question_category = '(all)' DESC, question_category
