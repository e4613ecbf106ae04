-- description: What each hygiene screen removed before release, per dataset and rule: duplicate videos (same file, near-duplicate footage), duplicate documents (same file, same pages, near text) and Q/A pairs, near-duplicate and templated CinePile questions, and unusable captions (with how many were rewritten instead).
WITH verdicts AS (
    SELECT 'finevideo' AS dataset, 'video_duplicates' AS screen, kept, reason, FALSE AS rewritten FROM video_duplicates
    UNION ALL
    SELECT 'finevideo', 'caption_review', kept, reason, kept AND caption_original IS NOT NULL FROM caption_review
    UNION ALL
    SELECT 'docmatix', 'document_duplicates', kept, reason, FALSE FROM document_duplicates
    UNION ALL
    SELECT 'docmatix', 'qa_duplicates', kept, reason, FALSE FROM qa_duplicates
    UNION ALL
    SELECT 'cinepile', 'question_duplicates', kept, reason, FALSE FROM question_duplicates
)
SELECT dataset, screen, coalesce(reason, '(kept)') AS rule,
       count(*) AS records,
       count(*) FILTER (WHERE NOT kept) AS removed,
       count(*) FILTER (WHERE rewritten) AS rewritten,
       round(count(*) / sum(count(*)) OVER (PARTITION BY dataset, screen), 4) AS share_of_screen
FROM verdicts
GROUP BY 1, 2, 3
ORDER BY dataset, screen, rule
