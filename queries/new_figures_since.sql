-- New figures, revisions and counterclaims first reported (published) since a time, oldest first, with the value each replaced and whose it was.
-- A counterclaim is another source's value following one (previous_claimant says whose); suspect marks a
-- total that fell by more than half. Each row was decided, and alerted, by the run in run_id; decided_at says when news-monitor learned it.
-- $since: a date or time, e.g. 2024-11-01 or 2024-11-01T09:00:00Z
-- $topic: only this topic (optional: all topics)
SELECT as_of, topic, category, grp, scope, kind, low, high, qualifier, claimant_key,
       previous_low, previous_high, change, previous_claimant, suspect, claimant, outlet, article_url, run_id,
       decided_at
FROM series_values
WHERE as_of >= CAST($since AS TIMESTAMPTZ)
  AND ($topic IS NULL OR topic = $topic)
ORDER BY as_of, article_id, seq;
