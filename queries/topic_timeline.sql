-- Full timeline of a topic: every report of its figures in publication order, marked new, revision or repeat.
-- A revision shows the value it replaced. Reports of one figure in several outlets each get a row.
-- $topic: the topic's name, as in monitor.toml
SELECT m.as_of, m.category, m.grp, m.low, m.high, f.qualifier, m.kind,
       v.previous_low, v.previous_high, v.change,
       m.outlet, f.claimant, f.quote, a.url AS article_url
FROM series_mentions m
JOIN figure_mentions f USING (article_id, seq)
JOIN articles a USING (article_id)
LEFT JOIN series_values v  -- the row of a new figure or revision: its previous value
  ON v.value_id = m.value_id AND v.article_id = m.article_id AND v.seq = m.seq
WHERE m.topic = $topic
ORDER BY m.as_of, m.article_id, m.seq;
