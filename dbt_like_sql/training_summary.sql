-- description: Every training result in one long table (training, variant, metric, value, n): sCM samplers' Fréchet distance relative to the teacher's reference sampler, their speed-up against it and at matched quality; MLLM mean score per stage and task; DPO hallucination before and after (CHAIR_s = share of captions naming an object that is not there, hallucinated objects per caption, yes/no accuracy) and the DPO ablation's relative CHAIR reduction per variant (n = training pairs).
WITH scm AS (
    SELECT 'scm' AS training, sampler AS variant, 'fd_ratio_to_teacher' AS metric, ratio_to_teacher AS value, nfe AS n
    FROM scm_report WHERE section = 'sampler'
    UNION ALL
    SELECT 'scm', sampler, 'speedup_vs_reference', speedup_vs_reference, nfe
    FROM scm_report WHERE section = 'sampler' AND speedup_vs_reference IS NOT NULL
    UNION ALL
    SELECT 'scm', sampler, 'speedup_matched', speedup_matched, nfe
    FROM scm_report WHERE section = 'sampler' AND speedup_matched IS NOT NULL
),
mllm AS (
    SELECT 'mllm' AS training, stage AS variant, kind || '_mean_score' AS metric, avg(score) AS value, count(*) AS n
    FROM mllm_eval GROUP BY stage, kind
),
dpo AS (
    SELECT 'dpo' AS training, variant, 'chair_s' AS metric,
           avg(CAST(len(hallucinated) > 0 AS DOUBLE)) AS value, count(*) AS n
    FROM hallucination_eval WHERE task = 'caption' GROUP BY variant
    UNION ALL
    SELECT 'dpo', variant, 'hallucinated_objects_per_caption', avg(len(hallucinated)), count(*)
    FROM hallucination_eval WHERE task = 'caption' GROUP BY variant
    UNION ALL
    SELECT 'dpo', variant, 'yes_no_accuracy', avg(CAST(lower(trim(prediction)) = lower(trim(truth)) AS DOUBLE)), count(*)
    FROM hallucination_eval WHERE task = 'yes_no' GROUP BY variant
    UNION ALL
    SELECT 'dpo_ablation', variant, 'chair_relative_reduction', chair_relative_reduction, train_pairs
    FROM dpo_ablation
)
SELECT training, variant, metric, round(value, 4) AS value, n
FROM (SELECT * FROM scm UNION ALL SELECT * FROM mllm UNION ALL SELECT * FROM dpo)
ORDER BY training, metric, variant
