-- news-monitor schema, version 1. Times are TIMESTAMPTZ (UTC). Tables record facts as they arrive;
-- change over time is answered by views and queries/*.sql. Later versions live in migrations/NNN_*.sql.

CREATE TABLE IF NOT EXISTS schema_info (
    version     INTEGER NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per configured feed, with its polling state (conditional GET validators, health, back-off).
CREATE TABLE IF NOT EXISTS feeds (
    url                   VARCHAR NOT NULL,   -- the feed URL as configured
    name                  VARCHAR,            -- name from monitor.toml
    title                 VARCHAR,            -- title the feed gives itself
    added_at              TIMESTAMPTZ NOT NULL,
    etag                  VARCHAR,
    last_modified         VARCHAR,
    body_hash             VARCHAR,            -- sha256 of the last body: an unchanged 200 is not parsed again
    last_polled_at        TIMESTAMPTZ,
    last_success_at       TIMESTAMPTZ,
    last_status           VARCHAR,            -- ok | not_modified | unchanged | failed | backoff
    last_error            VARCHAR,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    backoff_until         TIMESTAMPTZ         -- not polled before this time (Retry-After, repeated failures)
);

-- One row per polling cycle, with its counts and the errors of each failed feed.
CREATE TABLE IF NOT EXISTS runs (
    run_id               VARCHAR NOT NULL,
    started_at           TIMESTAMPTZ NOT NULL,
    finished_at          TIMESTAMPTZ,
    status               VARCHAR NOT NULL,    -- running | ok | partial | failed | interrupted
    config_path          VARCHAR,
    flow_run_id          VARCHAR,             -- Prefect flow run, when run by Prefect
    feeds_total          INTEGER DEFAULT 0,
    feeds_ok             INTEGER DEFAULT 0,   -- fetched and parsed (including not modified)
    feeds_not_modified   INTEGER DEFAULT 0,   -- answered 304, or the same bytes as last time
    feeds_failed         INTEGER DEFAULT 0,
    feeds_skipped        INTEGER DEFAULT 0,   -- backing off
    new_entries          INTEGER DEFAULT 0,
    new_articles         INTEGER DEFAULT 0,
    articles_failed      INTEGER DEFAULT 0,   -- page not fetched or no body: stored with the feed summary
    topic_matches        INTEGER DEFAULT 0,
    figures              INTEGER DEFAULT 0,   -- figure mentions found in this run's articles
    new_figures          INTEGER DEFAULT 0,
    revisions            INTEGER DEFAULT 0,
    alerts_sent          INTEGER DEFAULT 0,
    alerts_pending       INTEGER DEFAULT 0,
    errors               JSON                 -- [{"feed_url": …, "error": …}, …]
);

-- One row per feed per run: what polling that feed did.
CREATE TABLE IF NOT EXISTS feed_polls (
    run_id       VARCHAR NOT NULL,
    feed_url     VARCHAR NOT NULL,
    polled_at    TIMESTAMPTZ NOT NULL,
    status       VARCHAR NOT NULL,            -- ok | not_modified | unchanged | failed | backoff
    http_status  INTEGER,
    items        INTEGER,
    new_items    INTEGER,
    latency_ms   DOUBLE,
    bytes        BIGINT,
    error        VARCHAR
);

-- One row per article (canonical URL), stored once however many feeds or runs bring it.
CREATE TABLE IF NOT EXISTS articles (
    article_id        VARCHAR NOT NULL,       -- stable: derived from the canonical URL
    url               VARCHAR NOT NULL,       -- canonical URL (tracking parameters and fragment removed)
    guid              VARCHAR,
    feed_url          VARCHAR NOT NULL,       -- the feed that brought it first
    source_url        VARCHAR,                -- the link as that feed gave it
    final_url         VARCHAR,                -- after redirects
    outlet            VARCHAR,                -- publisher host, without www.
    title             VARCHAR,
    author            VARCHAR,
    published_at      TIMESTAMPTZ,            -- from the feed, else the page; NULL when neither says
    fetched_at        TIMESTAMPTZ NOT NULL,
    site_name         VARCHAR,
    language          VARCHAR,
    text              VARCHAR,
    text_source       VARCHAR NOT NULL,       -- extracted | summary | title
    summary           VARCHAR,
    fingerprint       VARCHAR,                -- sha1 of the normalised words: reprints share it
    fetch_error       VARCHAR,
    run_id            VARCHAR NOT NULL,
    first_seen_at     TIMESTAMPTZ NOT NULL
);

-- Every (feed, link, guid) that pointed at an article: syndication across feeds.
CREATE TABLE IF NOT EXISTS article_links (
    article_id     VARCHAR NOT NULL,
    feed_url       VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    guid           VARCHAR,
    first_seen_at  TIMESTAMPTZ NOT NULL,
    run_id         VARCHAR NOT NULL
);

-- Which topics each article matches, and which search terms were found.
CREATE TABLE IF NOT EXISTS topic_matches (
    article_id     VARCHAR NOT NULL,
    topic          VARCHAR NOT NULL,
    terms          VARCHAR[],
    topic_version  VARCHAR NOT NULL,
    matched_at     TIMESTAMPTZ NOT NULL
);

-- One row per figure found in an article's text (see docs/figures.md).
CREATE TABLE IF NOT EXISTS figure_mentions (
    article_id         VARCHAR NOT NULL,
    seq                INTEGER NOT NULL,      -- position among the article's figures
    category           VARCHAR NOT NULL,      -- killed | wounded | casualties | captured | missing | deployed
    low                BIGINT,
    high               BIGINT,
    qualifier          VARCHAR NOT NULL,      -- exact | approximate | at_least | at_most | range
    who                VARCHAR,
    quote              VARCHAR NOT NULL,
    start_offset       INTEGER NOT NULL,      -- character offsets of the quote in articles.text
    end_offset         INTEGER NOT NULL,
    claimant           VARCHAR,
    extractor_version  VARCHAR NOT NULL,
    found_at           TIMESTAMPTZ NOT NULL
);
