-- 003 alerts: the outbox of e-mail digests and the topics' alert baselines (see docs/alerts.md).
-- Rows are written in the same transaction as the run's decisions on new figures, so a decided figure
-- always has its digest queued, and a rolled-back run queues nothing.

-- One row per digest: one per recipient per run. Sending changes only status, attempts and the times.
CREATE TABLE IF NOT EXISTS alert_outbox (
    alert_id         VARCHAR NOT NULL,      -- <run_id>-<n>; the Message-ID is derived from it
    run_id           VARCHAR NOT NULL,      -- the run whose new figures and revisions this digest reports
    created_at       TIMESTAMPTZ NOT NULL,  -- queued (the run's decisions committed)
    recipient        VARCHAR NOT NULL,
    subject          VARCHAR NOT NULL,
    message_id       VARCHAR NOT NULL,      -- the same on every attempt: a resent digest is recognisable
    topics           VARCHAR[] NOT NULL,
    n_new            INTEGER NOT NULL,      -- new figures in the digest (all of them, beyond max_figures too)
    n_revisions      INTEGER NOT NULL,
    figures          VARCHAR[] NOT NULL,    -- one readable line per figure shown (at most max_figures)
    items            JSON NOT NULL,         -- the figures shown, as the message is built from them
    status           VARCHAR NOT NULL,      -- pending | sent | failed (the server refused it for good)
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_attempt_at  TIMESTAMPTZ,
    last_error       VARCHAR,
    sent_at          TIMESTAMPTZ
);

-- One row per topic once its first run has established what is already known: that run's figures are
-- recorded but not mailed (unless [email] send_history = true), later runs mail what is new.
CREATE TABLE IF NOT EXISTS topic_baselines (
    topic            VARCHAR NOT NULL,
    run_id           VARCHAR NOT NULL,
    established_at   TIMESTAMPTZ NOT NULL,
    figures_skipped  INTEGER NOT NULL       -- new figures and revisions of that run that were not mailed
);
