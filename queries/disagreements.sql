-- Disagreements: series reported with different values in the same week (Monday to Sunday, UTC), one row per value.
-- Outlets and claimants show who reports what; a revision published mid-week shows up here too.
-- $topic: only this topic (optional: all topics)
WITH weekly AS (
    SELECT m.topic, m.category, m.grp,
           CAST(date_trunc('week', m.as_of AT TIME ZONE 'UTC') AS DATE) AS week,
           m.low, m.high,
           count(DISTINCT m.outlet)                                  AS n_outlets,
           string_agg(DISTINCT m.outlet, ', ' ORDER BY m.outlet)     AS outlets,
           string_agg(DISTINCT f.claimant, '; ' ORDER BY f.claimant) AS claimants,
           min(m.as_of)                                              AS first_seen
    FROM series_mentions m
    JOIN figure_mentions f USING (article_id, seq)
    WHERE $topic IS NULL OR m.topic = $topic
    GROUP BY ALL
)
SELECT topic, category, grp, week, low, high, n_outlets, outlets, claimants, first_seen,
       count(*) OVER (PARTITION BY topic, category, grp, week) AS values_that_week
FROM weekly
QUALIFY values_that_week > 1
ORDER BY week DESC, topic, category, grp, first_seen;
