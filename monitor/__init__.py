"""news-monitor: feeds -> articles -> topics -> figures -> DuckDB."""
