-- Schema version 4: series an analyst can trust (docs/history.md). Every figure gets its scope (a running
-- total or one incident) and its source's canonical claimant key; the history's decisions record them, the
-- source of the value they replaced, and whether a total fell suspiciously. Rows stored before this
-- version get scope 'total' and their claimant as worded for key: `monitor reprocess` recomputes both.

ALTER TABLE figure_mentions ADD COLUMN scope VARCHAR DEFAULT 'total';   -- total | incident
ALTER TABLE figure_mentions ADD COLUMN claimant_key VARCHAR;            -- canonical source (claimants.key)
UPDATE figure_mentions SET claimant_key = claimant;

ALTER TABLE series_mentions ADD COLUMN scope VARCHAR DEFAULT 'total';
ALTER TABLE series_mentions ADD COLUMN claimant_key VARCHAR;
UPDATE series_mentions SET claimant_key = m.claimant_key
FROM figure_mentions m WHERE m.article_id = series_mentions.article_id AND m.seq = series_mentions.seq;

ALTER TABLE series_values ADD COLUMN scope VARCHAR DEFAULT 'total';
ALTER TABLE series_values ADD COLUMN claimant_key VARCHAR;
ALTER TABLE series_values ADD COLUMN previous_claimant VARCHAR;        -- claimant key of the value replaced
ALTER TABLE series_values ADD COLUMN suspect BOOLEAN DEFAULT false;    -- a total falling by more than half
UPDATE series_values SET claimant_key = claimant;

-- Digests count counterclaims apart from revisions: a digest never calls another source's value a revision.
ALTER TABLE alert_outbox ADD COLUMN n_counterclaims INTEGER DEFAULT 0;
