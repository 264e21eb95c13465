-- The latest figure of every series (topic, category, group): the value first reported most recently, the value before it, and the change.
-- "Latest" is by publication time of the report that brought each value; n_outlets and last_seen tell how
-- widely and how recently the latest value is still reported.
-- $topic: only this topic (optional: all topics)
WITH latest AS (
    SELECT *
    FROM series_values
    WHERE $topic IS NULL OR topic = $topic
    QUALIFY row_number() OVER (PARTITION BY topic, category, grp ORDER BY as_of DESC, article_id DESC, seq DESC) = 1
),
seen AS (  -- corroboration of the latest values only: a semi-join on one integer, not a scan of every value
    SELECT value_id, count(DISTINCT outlet) AS n_outlets, max(as_of) AS last_seen
    FROM series_mentions
    WHERE value_id IN (SELECT value_id FROM latest)
    GROUP BY value_id
)
SELECT l.topic, l.category, l.grp, l.low, l.high, l.qualifier,
       l.previous_low, l.previous_high, l.change, l.kind,
       l.as_of AS reported_at, s.last_seen, s.n_outlets,
       l.claimant, l.outlet, l.article_url
FROM latest l
JOIN seen s USING (value_id)
ORDER BY l.topic, l.category, l.grp;
