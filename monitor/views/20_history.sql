-- Figure history views (docs/history.md). Both read the decision tables history.update writes.

-- figure_series: one row per distinct value per series (topic, category, grp, scope), with its corroboration.
-- n_outlets counts distinct outlets; n_mentions counts reports, a verbatim copy in the same outlet once.
CREATE OR REPLACE VIEW figure_series AS
WITH seen AS (
    SELECT value_id,
           min(as_of)                                        AS first_seen,
           max(as_of)                                        AS last_seen,
           count(DISTINCT outlet)                            AS n_outlets,
           count(DISTINCT (outlet, coalesce(fingerprint, article_id))) AS n_mentions,
           count(DISTINCT article_id)                        AS n_articles
    FROM series_mentions
    GROUP BY value_id
)
SELECT
    v.topic, v.category, v.grp, v.scope, v.who, v.low, v.high, v.qualifier,
    s.first_seen, s.last_seen, s.n_outlets, s.n_mentions, s.n_articles,
    v.kind, v.previous_low, v.previous_high, v.change, v.previous_claimant, v.suspect,
    v.as_of            AS reported_at,      -- publication time of the report that brought the value
    v.article_url      AS first_url,
    v.outlet           AS first_outlet,
    v.claimant         AS first_claimant,
    v.claimant_key     AS first_claimant_key,
    v.quote            AS first_quote,
    v.run_id,
    v.decided_at
FROM series_values v
JOIN seen s USING (value_id);

-- new_figures: one row per new figure, revision or counterclaim, as decided (and alerted) by the run run_id.
CREATE OR REPLACE VIEW new_figures AS
SELECT
    topic, category, grp, scope, who, low, high, qualifier,
    previous_low, previous_high, change, kind, claimant_key, previous_claimant, suspect,
    run_id, article_url, outlet, published_at, as_of, claimant, quote,
    previous_as_of, decided_at, article_id, seq
FROM series_values;

-- claimants: one row per canonical source (docs/history.md#claimant-keys), with the wordings that named it.
CREATE OR REPLACE VIEW claimants AS
SELECT
    m.claimant_key,
    list(DISTINCT m.claimant ORDER BY m.claimant)  AS names,
    count(DISTINCT m.claimant)                     AS n_names,
    count(*)                                       AS n_figures,
    count(DISTINCT m.article_id)                   AS n_articles,
    count(DISTINCT a.outlet)                       AS n_outlets,
    min(coalesce(a.published_at, a.fetched_at))    AS first_seen,
    max(coalesce(a.published_at, a.fetched_at))    AS last_seen
FROM figure_mentions m
JOIN articles a USING (article_id)
WHERE m.claimant_key IS NOT NULL
GROUP BY m.claimant_key;
