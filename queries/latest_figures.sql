-- The latest figure of every series (topic, category, group, scope): the value first reported most recently, who claims it, the value before it and whose that was.
-- "Latest" is by publication time of the report that brought each value; n_outlets and last_seen tell how
-- widely and how recently the latest value is still reported. `said` puts it in words: "Zelensky; NIS said
-- 600 on 2025-01-20" for a counterclaim (another source's value came before), "NIS, revised from 300" for a
-- revision by the same source; `suspect` marks a total that fell by more than half.
-- $topic: only this topic (optional: all topics)
WITH latest AS (
    SELECT *
    FROM series_values
    WHERE $topic IS NULL OR topic = $topic
    QUALIFY row_number() OVER (PARTITION BY topic, category, grp, scope
                               ORDER BY as_of DESC, article_id DESC, seq DESC) = 1
),
seen AS (  -- corroboration of the latest values only: a semi-join on one integer, not a scan of every value
    SELECT value_id, count(DISTINCT outlet) AS n_outlets, max(as_of) AS last_seen
    FROM series_mentions
    WHERE value_id IN (SELECT value_id FROM latest)
    GROUP BY value_id
),
worded AS (
    SELECT *,
           CASE WHEN previous_low IS NULL AND previous_high IS NULL THEN NULL
                WHEN previous_high IS NULL THEN 'more than ' || format('{:,}', previous_low)
                WHEN previous_low IS NULL THEN 'up to ' || format('{:,}', previous_high)
                WHEN previous_low = previous_high THEN format('{:,}', previous_low)
                ELSE format('{:,}', previous_low) || '–' || format('{:,}', previous_high) END AS previous_value
    FROM latest
)
SELECT l.topic, l.category, l.grp, l.scope, l.low, l.high, l.qualifier, l.claimant_key,
       l.previous_low, l.previous_high, l.change, l.kind, l.previous_claimant, l.suspect,
       CASE l.kind
           WHEN 'counterclaim' THEN coalesce(l.claimant_key, 'an unnamed source') || '; '
                || coalesce(l.previous_claimant, 'an unnamed source') || ' said ' || l.previous_value
                || ' on ' || strftime(l.previous_as_of AT TIME ZONE 'UTC', '%Y-%m-%d')
           WHEN 'revision' THEN coalesce(l.claimant_key, 'an unnamed source') || ', revised from '
                || l.previous_value
           ELSE l.claimant_key
       END || CASE WHEN l.suspect THEN ' (suspect: fell by more than half)' ELSE '' END AS said,
       l.as_of AS reported_at, s.last_seen, s.n_outlets,
       l.claimant, l.outlet, l.article_url
FROM worded l
JOIN seen s USING (value_id)
ORDER BY l.topic, l.category, l.grp, l.scope;
