-- Matched-article volume per topic per day (UTC, by publication time): articles, distinct texts and outlets.
-- A wire story reprinted verbatim by several outlets is one text.
-- $since: first day to show, e.g. 2024-11-01 (default: 1970-01-01)
SELECT t.topic,
       CAST(coalesce(a.published_at, a.fetched_at) AT TIME ZONE 'UTC' AS DATE) AS day,
       count(DISTINCT a.article_id)  AS articles,
       count(DISTINCT a.fingerprint) AS texts,
       count(DISTINCT a.outlet)      AS outlets
FROM topic_matches t
JOIN articles a USING (article_id)
WHERE coalesce(a.published_at, a.fetched_at) >= CAST($since AS TIMESTAMPTZ)
GROUP BY ALL
ORDER BY day, t.topic;
