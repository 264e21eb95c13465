-- New figures and revisions first reported (published) since a time, oldest first, with the value each replaced.
-- Each row was decided, and alerted, by the run in run_id; decided_at says when news-monitor learned it.
-- $since: a date or time, e.g. 2024-11-01 or 2024-11-01T09:00:00Z
-- $topic: only this topic (optional: all topics)
SELECT as_of, topic, category, grp, kind, low, high, qualifier,
       previous_low, previous_high, change, claimant, outlet, article_url, run_id, decided_at
FROM series_values
WHERE as_of >= CAST($since AS TIMESTAMPTZ)
  AND ($topic IS NULL OR topic = $topic)
ORDER BY as_of, article_id, seq;
