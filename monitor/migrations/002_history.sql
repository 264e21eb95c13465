-- Schema version 2: figure history (docs/history.md). Decisions are facts too: what news-monitor
-- concluded about each figure, in which run, is appended here by history.update and never revised
-- except by `monitor reprocess`, which replays them.

-- One row per article whose figures have been decided; run_id is the decision round. Articles not
-- listed here are "undecided": the next history.update takes them (so a run killed between storing
-- articles and deciding them is caught up by the next run).
CREATE TABLE IF NOT EXISTS history_articles (
    article_id  VARCHAR NOT NULL,
    run_id      VARCHAR NOT NULL,        -- the run whose history.update decided the article
    decided_at  TIMESTAMPTZ NOT NULL
);

-- Per topic, the two things fixed by the first mention that shows them (see docs/history.md#groups):
-- own_force (the force the topic is about: counted as `military`) and main_group (where a count
-- naming nobody goes when its article names nobody either).
CREATE TABLE IF NOT EXISTS topic_groups (
    topic       VARCHAR NOT NULL,
    trait       VARCHAR NOT NULL,        -- own_force | main_group
    value       VARCHAR NOT NULL,
    article_id  VARCHAR NOT NULL,        -- the mention that fixed it
    seq         INTEGER NOT NULL,
    run_id      VARCHAR NOT NULL,
    decided_at  TIMESTAMPTZ NOT NULL
);

-- One row per figure mention per topic its article matches: the series it counts for and what it was.
CREATE TABLE IF NOT EXISTS series_mentions (
    topic        VARCHAR NOT NULL,
    category     VARCHAR NOT NULL,
    grp          VARCHAR NOT NULL,       -- civilians | military | a named other force (docs/history.md)
    low          BIGINT,
    high         BIGINT,
    kind         VARCHAR NOT NULL,       -- new | revision (first report of the value) | repeat
    article_id   VARCHAR NOT NULL,
    seq          INTEGER NOT NULL,
    as_of        TIMESTAMPTZ NOT NULL,   -- the article's publication time, else its fetch time
    outlet       VARCHAR,
    fingerprint  VARCHAR,                -- the article's text digest: a verbatim reprint shares it
    run_id       VARCHAR NOT NULL,
    value_id     BIGINT NOT NULL         -- the value's row in series_values
);

-- One row per distinct value per series: its first report, and the value it replaced.
CREATE TABLE IF NOT EXISTS series_values (
    topic           VARCHAR NOT NULL,
    category        VARCHAR NOT NULL,
    grp             VARCHAR NOT NULL,
    low             BIGINT,
    high            BIGINT,
    kind            VARCHAR NOT NULL,    -- new (first value of the series) | revision
    qualifier       VARCHAR NOT NULL,    -- as the first report worded it
    who             VARCHAR,
    claimant        VARCHAR,
    quote           VARCHAR NOT NULL,
    previous_low    BIGINT,
    previous_high   BIGINT,
    previous_as_of  TIMESTAMPTZ,
    change          BIGINT,              -- value minus previous value, where both are single numbers
    article_id      VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,
    article_url     VARCHAR NOT NULL,
    outlet          VARCHAR,
    published_at    TIMESTAMPTZ,
    as_of           TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR NOT NULL,
    decided_at      TIMESTAMPTZ NOT NULL,
    value_id        BIGINT NOT NULL      -- a digest of (topic, category, grp, low, high): series_mentions join on it
);
