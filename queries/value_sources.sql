-- Which outlets and claimants report which values: one row per distinct value of every series.
-- n_outlets counts distinct outlets; reprints of a wire story in several outlets count once per outlet.
-- $topic: only this topic (optional: all topics)
SELECT m.topic, m.category, m.grp, m.low, m.high,
       count(DISTINCT m.outlet)                                          AS n_outlets,
       string_agg(DISTINCT m.outlet, ', ' ORDER BY m.outlet)             AS outlets,
       string_agg(DISTINCT f.claimant, '; ' ORDER BY f.claimant)         AS claimants,
       min(m.as_of)                                                      AS first_seen,
       max(m.as_of)                                                      AS last_seen
FROM series_mentions m
JOIN figure_mentions f USING (article_id, seq)
WHERE $topic IS NULL OR m.topic = $topic
GROUP BY m.topic, m.category, m.grp, m.low, m.high
ORDER BY m.topic, m.category, m.grp, first_seen;
