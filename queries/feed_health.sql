-- Feed health: per feed, the last success, current failure streak, failures and latency over recent polls.
-- Feeds failing now come first; backoff_until says when a failing feed is polled again.
-- $days: how many days of polls to count (default: 7)
WITH recent AS (
    SELECT feed_url,
           count(*)                                 AS polls,
           count(*) FILTER (WHERE status = 'failed') AS failures,
           round(avg(latency_ms))                   AS avg_latency_ms,
           round(max(latency_ms))                   AS max_latency_ms,
           sum(new_items)                           AS new_items,
           max(polled_at)                           AS last_polled_at
    FROM feed_polls
    WHERE polled_at >= now() - to_days(CAST($days AS INTEGER))
    GROUP BY feed_url
)
SELECT f.name, f.url, f.last_status, f.last_success_at, f.consecutive_failures,
       coalesce(r.polls, 0) AS polls, coalesce(r.failures, 0) AS failures,
       r.avg_latency_ms, r.max_latency_ms, r.new_items, r.last_polled_at,
       f.last_error, f.backoff_until
FROM feeds f
LEFT JOIN recent r ON r.feed_url = f.url
ORDER BY f.consecutive_failures DESC, coalesce(r.failures, 0) DESC, f.url;
