-- Pages a run's time budget left for the next cycle (issue 17).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS articles_deferred INTEGER DEFAULT 0;
