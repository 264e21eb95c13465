-- figures: one row per figure mention per matched topic (topic NULL where the article matches none).
CREATE OR REPLACE VIEW figures AS
SELECT
    a.url              AS article_url,
    t.topic            AS topic,
    m.category, m.low, m.high, m.qualifier, m.who, m.quote, m.claimant, m.claimant_key, m.scope,
    m.start_offset, m.end_offset,
    a.published_at,
    a.first_seen_at,
    coalesce(a.published_at, a.fetched_at) AS as_of,
    a.outlet,
    a.title            AS article_title,
    a.feed_url,
    a.run_id,
    m.extractor_version,
    m.article_id,
    m.seq
FROM figure_mentions m
JOIN articles a USING (article_id)
LEFT JOIN topic_matches t USING (article_id);
