-- Incident counts per week (Monday to Sunday, UTC): figures of single events ("in Tuesday's strike") summed, per topic, category and group.
-- Incidents never revise a series' running total (docs/history.md#scope); this is where they add up. Each
-- distinct incident value counts once per week: a value reported by several outlets is one event, two
-- different events with the same count in one week are counted once (read n_reports and the quotes).
-- $topic: only this topic (optional: all topics)
WITH incidents AS (
    SELECT topic, category, grp, low, high, value_id,
           CAST(date_trunc('week', as_of AT TIME ZONE 'UTC') AS DATE) AS week
    FROM series_mentions
    WHERE scope = 'incident' AND ($topic IS NULL OR topic = $topic)
),
per_value AS (
    SELECT topic, category, grp, week, value_id, any_value(coalesce(low, high)) AS n, count(*) AS n_reports
    FROM incidents
    GROUP BY ALL
)
SELECT p.topic, p.category, p.grp, p.week, sum(p.n) AS total, count(*) AS incidents,
       sum(p.n_reports) AS n_reports,
       string_agg(v.quote, ' | ' ORDER BY v.as_of) AS quotes
FROM per_value p
JOIN series_values v USING (value_id)
GROUP BY p.topic, p.category, p.grp, p.week
ORDER BY p.week DESC, p.topic, p.category, p.grp;
