-- alerts: every digest queued for a recipient or channel, and what became of it (see docs/alerts.md).
CREATE OR REPLACE VIEW alerts AS
SELECT
    created_at                  AS queued_at,
    run_id,
    recipient,                  -- an e-mail address, or a channel's name
    coalesce(transport, 'email') AS transport,  -- email | apprise
    subject,
    topics,
    n_new + n_revisions + coalesce(n_counterclaims, 0) AS n_figures,
    n_new,
    n_revisions,
    coalesce(n_counterclaims, 0) AS n_counterclaims,
    figures,
    status,                     -- pending | sent | failed
    attempts,
    last_attempt_at,
    last_error                  AS error,
    message_id,
    sent_at,
    alert_id
FROM alert_outbox;
